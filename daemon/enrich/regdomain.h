/* SPDX-License-Identifier: BSD-2-Clause */
/* regdomain.h: a name's registrable domain (eTLD+1) by the Public Suffix List, through libpsl. */
#ifndef NG_REGDOMAIN_H
#define NG_REGDOMAIN_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Load the Public Suffix List once: Debian's publicsuffix data if it is
 * newer than the list compiled into libpsl, else the compiled-in one. Safe to
 * call again (it does nothing then). 0, or -1 with the reason in err.
 */
int regdomain_init(char *err, size_t errlen);
/* Free the list (at exit). */
void regdomain_cleanup(void);

/*
 * The registrable domain of `name` ("www.bbc.co.uk" -> "bbc.co.uk",
 * "a.b.example.com." -> "example.com"), lower-cased into buf. A name that is
 * itself a public suffix, an address literal, or not a valid host name gives
 * false (buf empty). Without regdomain_init (or when it failed), the last
 * two labels are used, which is right for most .com/.net names only.
 */
bool regdomain_of(const char *name, char *buf, size_t len);

#endif
