/* SPDX-License-Identifier: BSD-2-Clause */
/* strpool.h: the one process-wide pool of interned strings: reference-counted (domain names) or kept for good. */
#ifndef NG_STRPOOL_H
#define NG_STRPOOL_H

#include <stddef.h>

/*
 * A domain name is held by the DNS cache, by every flow to that address and
 * by the whitelist row of each direction. Interning it once means no copy
 * per holder, and two holders can tell "same name" by comparing pointers
 * instead of bytes. The pool belongs to one thread (the capture loop), like
 * everything that holds its strings.
 *
 * Every function returning a string returns a new reference that the
 * caller owns and gives back with strpool_put. A pool string must not be
 * written to, and must be given back exactly once per reference.
 */

/* The pooled copy of s (a new reference). */
const char *strpool_get(const char *s);
/* The pooled copy of the first n bytes of s (stopping early at a NUL; a new reference). */
const char *strpool_getn(const char *s, size_t n);
/* One more reference to a string that came from the pool; returns s. NULL is allowed. */
const char *strpool_ref(const char *s);
/* Give back one reference; the string is freed with its last. NULL is allowed. */
void strpool_put(const char *s);
/* Distinct strings held now (for statistics and tests). */
size_t strpool_count(void);

/*
 * The pooled copy of s, kept for the life of the process (list names, rule
 * texts): equal strings give the same pointer, and holders never give it
 * back. Meant for small, bounded sets; never for packet-derived data.
 */
const char *str_intern(const char *s);

#endif
