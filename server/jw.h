/*
 * A small JSON writer for the hot paths (job objects, lists, events,
 * RUN frames): appends to a growing buffer with no tree and no printf of
 * doubles.  Callers write the punctuation between members themselves.
 */
#ifndef RUNNEL_JW_H
#define RUNNEL_JW_H

#include <stddef.h>
#include <stdint.h>

struct jw {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 oom;		/* an append failed: the text is incomplete */
};

void	jw_init(struct jw *);
void	jw_free(struct jw *);
/* Takes the NUL-terminated text out of w (caller frees); NULL if oom. */
char	*jw_take(struct jw *, size_t *len);

void	jw_raw(struct jw *, const char *s, size_t n);
/* A literal: jw_lit(w, "{\"a\":") */
#define jw_lit(w, s)	jw_raw((w), (s), sizeof(s) - 1)
/* A quoted, escaped string; null when s is NULL. */
void	jw_str(struct jw *, const char *s);
void	jw_strn(struct jw *, const char *s, size_t n);
void	jw_int(struct jw *, int64_t v);
/* v/1000 with up to three decimals: 1500 -> 1.5 */
void	jw_milli(struct jw *, int64_t v);
/* An RFC 3339 UTC timestamp, or null when ms is 0. */
void	jw_time(struct jw *, int64_t ms);

#endif
