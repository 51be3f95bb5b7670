/*
 * Array literals of a batch's columns (pg_array.h).  Every text element
 * is quoted, with '"' and '\' escaped, so no value can end an element
 * or be read as NULL; a bytea element is its hex form, \x escaped too.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"
#include "store/pg_array.h"

/* Room for more bytes, plus the closing brace and NUL. */
static int
room(struct pg_array *a, size_t more)
{
	size_t	 cap;
	char	*b;

	if (a->err)
		return -1;
	if (a->len + more + 2 <= a->cap)
		return 0;
	if (more > SIZE_MAX / 4 - a->len) {
		a->err = -ENOMEM;
		return -1;
	}
	cap = a->cap ? a->cap : 256;
	while (cap < a->len + more + 2)
		cap *= 2;
	if ((b = realloc(a->buf, cap)) == NULL) {
		a->err = -ENOMEM;
		return -1;
	}
	a->buf = b;
	a->cap = cap;
	return 0;
}

/* The separator before the next element (or the opening brace). */
static int
next(struct pg_array *a, size_t more)
{
	if (room(a, more + 1) < 0)
		return -1;
	a->buf[a->len++] = a->n++ ? ',' : '{';
	return 0;
}

static void
null(struct pg_array *a)
{
	if (next(a, 4) == 0) {
		memcpy(a->buf + a->len, "NULL", 4);
		a->len += 4;
	}
}

void
pg_array_text(struct pg_array *a, const char *v)
{
	size_t n;

	if (v == NULL) {
		null(a);
		return;
	}
	n = strlen(v);
	/* Each byte escaped at worst, and the quotes. */
	if (n > SIZE_MAX / 4 || next(a, 2 * n + 2) < 0)
		return;
	a->buf[a->len++] = '"';
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			a->buf[a->len++] = '\\';
		a->buf[a->len++] = *c;
	}
	a->buf[a->len++] = '"';
}

void
pg_array_int(struct pg_array *a, int64_t v, int present)
{
	if (!present) {
		null(a);
		return;
	}
	if (next(a, 21) == 0)
		a->len += (size_t)snprintf(a->buf + a->len, 22, "%" PRId64, v);
}

void
pg_array_bytes(struct pg_array *a, const void *v, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*b = v;

	if (v == NULL) {
		null(a);
		return;
	}
	if (len > SIZE_MAX / 4 || next(a, 2 * len + 5) < 0)
		return;
	memcpy(a->buf + a->len, "\"\\\\x", 4);
	a->len += 4;
	for (size_t i = 0; i < len; i++) {
		a->buf[a->len++] = hex[b[i] >> 4];
		a->buf[a->len++] = hex[b[i] & 15];
	}
	a->buf[a->len++] = '"';
}

void
pg_param_array(struct pg_params *p, struct pg_array *a)
{
	if (a->err == 0 && room(a, 0) == 0) {
		if (a->n == 0)
			a->buf[a->len++] = '{';
		a->buf[a->len++] = '}';
		a->buf[a->len] = '\0';
	}
	if (a->err) {
		p->err = a->err;
		pg_array_clear(a);
		return;
	}
	pg_param_owned(p, a->buf);
	a->buf = NULL;
	pg_array_clear(a);
}

void
pg_array_clear(struct pg_array *a)
{
	free(a->buf);
	memset(a, 0, sizeof(*a));
}
