/*
 * A small JSON writer for the hot paths (job objects, lists, events,
 * RUN frames): appends to a growing buffer with no tree and no printf of
 * doubles.  Callers write the punctuation between members themselves.
 */
#ifndef RUNNEL_JSONW_H
#define RUNNEL_JSONW_H

#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 oom;		/* an append failed: the text is incomplete */
};

void	jsonw_init(struct jsonw *);
void	jsonw_free(struct jsonw *);
/* Takes the NUL-terminated text out of w (caller frees); NULL if oom. */
char	*jsonw_take(struct jsonw *, size_t *len);

void	jsonw_raw(struct jsonw *, const char *s, size_t n);
/* A literal: jsonw_lit(w, "{\"a\":") */
#define jsonw_lit(w, s)	jsonw_raw((w), (s), sizeof(s) - 1)
/* A quoted, escaped string; null when s is NULL. */
void	jsonw_str(struct jsonw *, const char *s);
void	jsonw_strn(struct jsonw *, const char *s, size_t n);
void	jsonw_int(struct jsonw *, int64_t v);
/* v/1000 with up to three decimals: 1500 -> 1.5 */
void	jsonw_milli(struct jsonw *, int64_t v);
/* An RFC 3339 UTC timestamp, or null when ms is 0. */
void	jsonw_time(struct jsonw *, int64_t ms);

#endif
