/* SPDX-License-Identifier: BSD-2-Clause */
/* place.h: the GeoIP enrichment: where a flow's public remote end is, and which network owns it. */
#ifndef NG_PLACE_H
#define NG_PLACE_H

#include "enrich.h"

/* Its self is a struct geoip (geoip.h). */
extern const struct enrichment_kind place_enrichment;

#endif
