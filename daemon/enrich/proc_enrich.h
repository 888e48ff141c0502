/* SPDX-License-Identifier: BSD-2-Clause */
/* proc_enrich.h: the process enrichment: which local program owns a live flow's socket. */
#ifndef NG_PROC_ENRICH_H
#define NG_PROC_ENRICH_H

#include "enrich.h"

/* Its self is a struct proc_table (proc.h), opened only for live capture. */
extern const struct enrichment_kind proc_enrichment;

#endif
