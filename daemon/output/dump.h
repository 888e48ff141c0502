/* SPDX-License-Identifier: BSD-2-Clause */
/* dump.h: --dump: every flow as one JSON line on standard output when it ends, then a summary line. */
#ifndef NG_DUMP_H
#define NG_DUMP_H

#include "output.h"

/* The row of the output table: open only for --dump. */
extern const struct output_type dump_output;

#endif
