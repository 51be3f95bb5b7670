/*
 * UTF-8, as RFC 3629 has it: no overlong forms, no surrogates, nothing
 * past U+10FFFF.  What comes from a client (a URL, a query, a file name)
 * is checked here before it is stored or echoed in JSON.
 */
#ifndef RUNNEL_UTF8_H
#define RUNNEL_UTF8_H

#include <stddef.h>

/* The length of the valid sequence at p (n bytes there), or 0. */
size_t	utf8_seq(const unsigned char *p, size_t n);
/* 1 if the n bytes at s are all valid UTF-8. */
int	utf8_valid(const char *s, size_t n);
/* How many of s's first bytes (it has more than max) fit in max whole. */
size_t	utf8_cut(const char *s, size_t max);

#endif
