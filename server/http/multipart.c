/*
 * The multipart parser.  The body is scanned as if it began with CRLF,
 * so the first delimiter is found like every other: CRLF "--" boundary.
 * In a part's data only a CR can start a delimiter, so the scan jumps
 * from CR to CR with memchr and holds back at most one delimiter's
 * worth of bytes across feeds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/multipart.h"
#include "http/pct.h"

static int	feed(struct multipart *, const char *, size_t);

int
multipart_boundary(const char *ct, char *out, size_t size)
{
	const char	*p;
	size_t		 n;

	if (ct == NULL || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return -EINVAL;
	for (p = ct + 19; (p = strchr(p, ';')) != NULL;) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "boundary=", 9) != 0)
			continue;
		p += 9;
		if (*p == '"') {
			p++;
			n = strcspn(p, "\"");
			if (p[n] != '"')
				return -EINVAL;
		} else {
			n = strcspn(p, "; \t");
		}
		if (n == 0 || n > MULTIPART_BOUNDARY_MAX || n >= size)
			return -EINVAL;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	return -EINVAL;
}

int
multipart_init(struct multipart *m, const char *boundary,
    const struct multipart_cb *cb, void *arg)
{
	size_t n = strlen(boundary);

	memset(m, 0, sizeof(*m));
	if (n == 0 || n > MULTIPART_BOUNDARY_MAX)
		return -EINVAL;
	m->cb = cb;
	m->arg = arg;
	memcpy(m->delim, "\r\n--", 4);
	memcpy(m->delim + 4, boundary, n);
	m->dlen = 4 + n;
	m->state = MP_PREAMBLE;
	/* The CRLF the first delimiter lacks. */
	m->carry[0] = '\r';
	m->carry[1] = '\n';
	m->ncarry = 2;
	return 0;
}

void
multipart_close(struct multipart *m)
{
	free(m->hdr);
	m->hdr = NULL;
}

static int
fail(struct multipart *m, const char *why)
{
	m->error = why;
	return -EINVAL;
}

/* Data of the current part, or of the preamble (dropped). */
static int
emit(struct multipart *m, const char *p, size_t n)
{
	if (n == 0 || m->state != MP_BODY)
		return 0;
	return m->cb->part_data(m->arg, p, n);
}

static int
delimiter_found(struct multipart *m)
{
	int rc = 0;

	if (m->state == MP_BODY)
		rc = m->cb->part_end(m->arg);
	m->state = MP_AFTER_DELIM;
	m->after = 0;
	m->ncarry = 0;
	return rc;
}

/* Copies a value (quoted-string or token) into out; returns 0 or -1. */
static int
param_value(const char *p, char *out, size_t size)
{
	size_t n = 0;

	if (*p == '"') {
		/* Browsers send a file's "C:\dir\name" with bare backslashes
		 * and a quote as %22; a backslash escapes only a quote. */
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1] == '"')
				p++;
			if (n + 1 >= size)
				return -1;
			out[n++] = *p;
		}
		if (*p != '"')
			return -1;
	} else {
		for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
			if (n + 1 >= size)
				return -1;
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return 0;
}

/* RFC 5987 ext-value: charset'lang'percent-encoded, UTF-8 only. */
static int
ext_value(const char *p, char *out, size_t size)
{
	const char	*q;
	size_t		 n = 0;

	if (strncasecmp(p, "utf-8'", 6) != 0 || (q = strchr(p + 6, '\'')) == NULL)
		return -1;
	for (q++; *q && *q != ';' && *q != ' '; q++) {
		int c = (unsigned char)*q;

		if (c == '%') {
			if ((c = pct_byte(q)) < 0)
				return -1;
			q += 2;
		}
		if (c == 0)
			continue;	/* a NUL would cut the name short */
		if (n + 1 >= size)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

/* Parses Content-Disposition parameters: name, filename, filename*. */
static int
disposition(const char *v, char *name, char *file, int *has_file)
{
	const char *p = v;

	if (strncasecmp(p, "form-data", 9) != 0)
		return -1;
	name[0] = '\0';
	while ((p = strchr(p, ';')) != NULL) {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncasecmp(p, "name=", 5) == 0) {
			if (param_value(p + 5, name, MULTIPART_NAME_MAX) < 0)
				return -1;
		} else if (strncasecmp(p, "filename*=", 10) == 0) {
			if (ext_value(p + 10, file, MULTIPART_NAME_MAX) < 0)
				return -1;
			*has_file = 2;
		} else if (strncasecmp(p, "filename=", 9) == 0 && *has_file < 2) {
			if (param_value(p + 9, file, MULTIPART_NAME_MAX) < 0)
				return -1;
			*has_file = 1;
		}
	}
	return name[0] ? 0 : -1;
}

/* The header block is complete (its final CRLF CRLF included). */
static int
headers_done(struct multipart *m)
{
	char	 name[MULTIPART_NAME_MAX], file[MULTIPART_NAME_MAX], type[256];
	char	*line, *save = NULL;
	int	 has_file = 0, has_disp = 0, has_type = 0;

	m->hdr[m->nhdr] = '\0';
	for (line = strtok_r(m->hdr, "\r\n", &save); line;
	    line = strtok_r(NULL, "\r\n", &save)) {
		char *colon = strchr(line, ':'), *v;

		if (colon == NULL)
			return fail(m, "a part header line has no colon");
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (disposition(v, name, file, &has_file) < 0)
				return fail(m, "bad Content-Disposition in a part");
			has_disp = 1;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			snprintf(type, sizeof(type), "%s", v);
			has_type = 1;
		}
	}
	if (!has_disp)
		return fail(m, "a part has no Content-Disposition");
	m->nhdr = 0;
	m->state = MP_BODY;
	m->parts++;
	return m->cb->part_begin(m->arg, name, has_file ? file : NULL,
	    has_type ? type : NULL);
}

static int
feed_headers(struct multipart *m, const char **p, size_t *n)
{
	if (m->hdr == NULL && (m->hdr = malloc(MULTIPART_HEADER_MAX + 1)) == NULL)
		return -ENOMEM;
	while (*n > 0) {
		if (m->nhdr == MULTIPART_HEADER_MAX)
			return fail(m, "a part's headers are too long");
		m->hdr[m->nhdr++] = **p;
		(*p)++;
		(*n)--;
		/* An empty header block is just CRLF. */
		if ((m->nhdr == 2 && memcmp(m->hdr, "\r\n", 2) == 0) ||
		    (m->nhdr >= 4 && memcmp(m->hdr + m->nhdr - 4, "\r\n\r\n", 4) == 0))
			return headers_done(m);
	}
	return 0;
}

/* After a delimiter: "--" ends the body, CRLF starts a part's headers. */
static int
feed_after(struct multipart *m, const char **p, size_t *n)
{
	while (*n > 0) {
		char c = **p;

		(*p)++;
		(*n)--;
		/* Transport padding: spaces or tabs before the CRLF. */
		if (m->after == 0 && (c == ' ' || c == '\t'))
			continue;
		m->after_buf[m->after++] = c;
		if (m->after < 2)
			continue;
		if (memcmp(m->after_buf, "--", 2) == 0) {
			m->state = MP_EPILOGUE;
			return 0;
		}
		if (memcmp(m->after_buf, "\r\n", 2) == 0) {
			m->state = MP_HEADERS;
			m->nhdr = 0;
			return 0;
		}
		return fail(m, "garbage after a multipart delimiter");
	}
	return 0;
}

/*
 * Resolves held-back bytes that turned out not to be a delimiter: the
 * first is data, the rest is scanned again (a delimiter may start there).
 */
static int
unhold(struct multipart *m)
{
	char	 held[sizeof(m->carry)];
	size_t	 n = m->ncarry;
	int	 rc;

	memcpy(held, m->carry, n);
	m->ncarry = 0;
	if ((rc = emit(m, held, 1)) < 0)
		return rc;
	return feed(m, held + 1, n - 1);
}

/* Part data or preamble: scan for the delimiter. */
static int
feed_body(struct multipart *m, const char **pp, size_t *nn)
{
	const char	*p = *pp, *cr;
	size_t		 n = *nn, k;
	int		 rc = 0;

	while (n > 0 && rc == 0) {
		if (m->ncarry > 0) {
			/* Extend the held match byte by byte. */
			while (m->ncarry < m->dlen && n > 0 &&
			    *p == m->delim[m->ncarry]) {
				m->carry[m->ncarry++] = *p++;
				n--;
			}
			if (m->ncarry == m->dlen) {
				rc = delimiter_found(m);
				break;
			}
			if (n == 0)
				break;
			rc = unhold(m);
			if (m->state != MP_BODY && m->state != MP_PREAMBLE)
				break;	/* the rescan found the delimiter */
			continue;
		}
		if ((cr = memchr(p, '\r', n)) == NULL) {
			rc = emit(m, p, n);
			p += n;
			n = 0;
			break;
		}
		k = (size_t)(cr - p);
		if ((rc = emit(m, p, k)) < 0)
			break;
		p = cr;
		n -= k;
		m->carry[0] = *p++;
		m->ncarry = 1;
		n--;
	}
	*pp = p;
	*nn = n;
	return rc;
}

static int
feed(struct multipart *m, const char *p, size_t n)
{
	int rc = 0;

	while (n > 0 && rc == 0) {
		switch (m->state) {
		case MP_PREAMBLE:
		case MP_BODY:
			rc = feed_body(m, &p, &n);
			break;
		case MP_AFTER_DELIM:
			rc = feed_after(m, &p, &n);
			break;
		case MP_HEADERS:
			rc = feed_headers(m, &p, &n);
			break;
		case MP_EPILOGUE:
			return 0;	/* ignored */
		}
	}
	return rc;
}

int
multipart_feed(struct multipart *m, const char *p, size_t n)
{
	return feed(m, p, n);
}

int
multipart_finish(struct multipart *m)
{
	if (m->state != MP_EPILOGUE)
		return fail(m, "the multipart body ends before its closing "
		    "delimiter");
	return 0;
}
