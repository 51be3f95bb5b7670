/* The JSON writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http/jsonw.h"
#include "utf8.h"
#include "vec.h"

void
jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void
jsonw_free(struct jsonw *w)
{
	free(w->buf);
	jsonw_init(w);
}

char *
jsonw_take(struct jsonw *w, size_t *len)
{
	char *p = NULL;

	jsonw_raw(w, "", 1);	/* the NUL, counted off below */
	if (!w->oom) {
		p = w->buf;
		*len = w->len - 1;
		w->buf = NULL;
	}
	jsonw_free(w);
	return p;
}

static int
jsonw_room(struct jsonw *w, size_t n)
{
	if (w->oom)
		return 0;
	if (n > SIZE_MAX - w->len || vec_grow(&w->buf, &w->cap, w->len + n,
	    1) < 0) {
		w->oom = 1;
		return 0;
	}
	return 1;
}

void
jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	if (!jsonw_room(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void
jsonw_strn(struct jsonw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t		 start = 0, i;

	/* Worst case every byte becomes \u00XX. */
	if (!jsonw_room(w, n * 6 + 2))
		return;
	w->buf[w->len++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)s[i];
		char		 esc = 0;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			continue;
		if (c >= 0x80) {
			size_t k = utf8_seq((const unsigned char *)s + i, n - i);

			if (k > 0) {
				i += k - 1;
				continue;
			}
		}
		memcpy(w->buf + w->len, s + start, i - start);
		w->len += i - start;
		start = i + 1;
		switch (c) {
		case '"': esc = '"'; break;
		case '\\': esc = '\\'; break;
		case '\n': esc = 'n'; break;
		case '\r': esc = 'r'; break;
		case '\t': esc = 't'; break;
		case '\b': esc = 'b'; break;
		case '\f': esc = 'f'; break;
		}
		w->buf[w->len++] = '\\';
		if (c >= 0x80) {
			/* not UTF-8: what JSON cannot carry is replaced */
			memcpy(w->buf + w->len, "ufffd", 5);
			w->len += 5;
		} else if (esc) {
			w->buf[w->len++] = esc;
		} else {
			memcpy(w->buf + w->len, "u00", 3);
			w->len += 3;
			w->buf[w->len++] = hex[c >> 4];
			w->buf[w->len++] = hex[c & 15];
		}
	}
	memcpy(w->buf + w->len, s + start, n - start);
	w->len += n - start;
	w->buf[w->len++] = '"';
}

void
jsonw_str(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jsonw_lit(w, "null");
	else
		jsonw_strn(w, s, strlen(s));
}

void
jsonw_int(struct jsonw *w, int64_t v)
{
	char		 tmp[24];
	int		 n = 0;
	uint64_t	 u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[sizeof(tmp) - 1 - n++] = '-';
	jsonw_raw(w, tmp + sizeof(tmp) - n, (size_t)n);
}

void
jsonw_milli(struct jsonw *w, int64_t v)
{
	int64_t	 whole = v / 1000, frac = v % 1000;
	char	 f[5];
	int	 n = 4;

	if (v < 0 && frac) {
		jsonw_lit(w, "-");
		whole = -whole;
		frac = -frac;
	}
	jsonw_int(w, whole);
	if (frac == 0)
		return;
	f[0] = '.';
	f[1] = (char)('0' + frac / 100);
	f[2] = (char)('0' + frac / 10 % 10);
	f[3] = (char)('0' + frac % 10);
	while (f[n - 1] == '0')
		n--;
	jsonw_raw(w, f, (size_t)n);
}

/*
 * Timestamps come in runs from the same second (a batch, a list): the
 * formatted second is kept and only the milliseconds are written anew.
 */
void
jsonw_time(struct jsonw *w, int64_t ms)
{
	static int64_t	 last_sec = INT64_MIN;
	static char	 text[CLOCK_TEXT_SIZE + 2];	/* "2026-...T04:29:52.123Z" */
	int64_t		 sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int		 milli = (int)(ms - sec * 1000);

	if (ms == 0) {
		jsonw_lit(w, "null");
		return;
	}
	if (sec != last_sec) {
		text[0] = '"';
		clock_format_ms(sec * 1000, text + 1);
		last_sec = sec;
	}
	/* "YYYY-MM-DDTHH:MM:SS." is 20 characters; then mmmZ and the quote. */
	text[21] = (char)('0' + milli / 100);
	text[22] = (char)('0' + milli / 10 % 10);
	text[23] = (char)('0' + milli % 10);
	text[24] = 'Z';
	text[25] = '"';
	jsonw_raw(w, text, 26);
}
