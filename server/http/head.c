/*
 * Request heads.  The scanner is written to be re-run from the start on
 * a longer prefix (the gate peeks at what a connection sent so far): it
 * keeps no state, and it stops at the first byte that cannot be right,
 * so binary garbage or a TLS hello is refused at once, not after the
 * header deadline.
 */
#include <string.h>
#include <strings.h>

#include "http/head.h"

static int
fault(struct head_fault *f, int status, const char *code, const char *why)
{
	f->status = status;
	f->code = code;
	f->why = why;
	return HEAD_BAD;
}

static int
bad(struct head_fault *f, const char *why)
{
	return fault(f, 400, "bad_request", why);
}

/* RFC 9110 tchar: the characters of a token (methods, field names). */
static int
tchar(unsigned char c)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c && strchr(extra, c) != NULL);
}

/* Field values: visible characters, space, tab and obs-text. */
static int
vchar_or_ws(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/*
 * The request line at p (n bytes, no line end yet or with it): returns
 * the offset past its CRLF, 0 if it is a valid beginning, or HEAD_BAD.
 */
static long
request_line(const char *p, size_t n, int *http11, struct head_fault *f)
{
	size_t	 i = 0, t;

	while (i < n && tchar((unsigned char)p[i]))
		i++;
	if (i == n)
		return i > 32 ? bad(f, "the method is not a method") : 0;
	if (p[i] != ' ' || i == 0 || i > 32)
		return bad(f, "the request line must start with a method and "
		    "one space");
	t = ++i;
	while (i < n && p[i] != ' ') {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x21 || c == 0x7f)
			return bad(f, "the request target holds a control "
			    "character or a space");
		if (i - t >= HEAD_TARGET_MAX)
			return fault(f, 414, "uri_too_long", "the request target "
			    "is over 8192 bytes");
		i++;
	}
	if (i == t && i < n)
		return bad(f, "the request line has no target");
	if (i > t && p[t] != '/' && !(i - t == 1 && p[t] == '*') &&
	    strncasecmp(p + t, "http://", i - t < 7 ? i - t : 7) != 0 &&
	    strncasecmp(p + t, "https://", i - t < 8 ? i - t : 8) != 0)
		return bad(f, "the request target must be a path");
	if (i == n)
		return 0;
	/* " HTTP/x.y\r\n" */
	for (size_t k = 1; k <= 11; k++) {
		static const char form[] = " HTTP/d.d\r\n";
		unsigned char c;

		if (i + k - 1 >= n)
			return 0;
		c = (unsigned char)p[i + k - 1];
		if (form[k - 1] == 'd' ? !(c >= '0' && c <= '9') :
		    c != (unsigned char)form[k - 1])
			return bad(f, k >= 10 ? "request lines end with CRLF" :
			    "the request line must end with HTTP/1.1");
	}
	if (p[i + 6] != '1')
		return fault(f, 505, "http_version_not_supported",
		    "only HTTP/1.0 and HTTP/1.1 are spoken here");
	if (p[i + 8] != '0' && p[i + 8] != '1')
		return fault(f, 505, "http_version_not_supported",
		    "only HTTP/1.0 and HTTP/1.1 are spoken here");
	*http11 = p[i + 8] == '1';
	return (long)(i + 11);
}

/*
 * One header field line at p: returns the offset past its CRLF, 0 if it
 * is a valid beginning, or HEAD_BAD; fills *out when complete.
 */
static long
field_line(const char *p, size_t n, struct head_field *out,
    struct head_fault *f)
{
	size_t i = 0, v, e;

	if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
		return bad(f, "folded header lines (obs-fold) are not accepted");
	while (i < n && tchar((unsigned char)p[i]))
		i++;
	if (i == n)
		return 0;
	if (p[i] != ':' || i == 0)
		return bad(f, i == 0 ? "a header line must start with a field "
		    "name" : "a field name must be followed by ':' at once");
	out->name = p;
	out->name_len = i;
	for (v = ++i; i < n && p[i] != '\r' && p[i] != '\n'; i++)
		if (!vchar_or_ws((unsigned char)p[i]))
			return bad(f, "a field value holds a control character");
	if (i == n)
		return 0;
	if (p[i] == '\n')
		return bad(f, "header lines end with CRLF, not a bare LF");
	if (i + 1 == n)
		return 0;
	if (p[i + 1] != '\n')
		return bad(f, "a bare CR in a header line");
	for (e = i; e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--)
		;
	while (v < e && (p[v] == ' ' || p[v] == '\t'))
		v++;
	out->value = p + v;
	out->value_len = e - v;
	return (long)(i + 2);
}

int
head_scan(const char *buf, size_t n, size_t *len, struct head_fault *f)
{
	struct head_field	 fields[HEAD_FIELDS_MAX];
	size_t			 at = 0, nf = 0;
	long			 k;
	int			 http11 = 0;

	/* Empty lines before a request line are to be ignored (RFC 9112 2.2). */
	while (at + 1 < n && buf[at] == '\r' && buf[at + 1] == '\n' &&
	    at < 64)
		at += 2;
	if (at + 1 == n && buf[at] == '\r')
		return HEAD_MORE;
	if ((k = request_line(buf + at, n - at, &http11, f)) <= 0) {
		if (k == 0 && n >= HEAD_MAX)
			return fault(f, 414, "uri_too_long", "the request line "
			    "is too long");
		return (int)k;
	}
	at += (size_t)k;
	for (;;) {
		if (at + 2 <= n && buf[at] == '\r' && buf[at + 1] == '\n') {
			*len = at + 2;
			return head_check_fields(fields, nf, http11, f) < 0 ?
			    HEAD_BAD : HEAD_DONE;
		}
		if (at < n && buf[at] == '\n')
			return bad(f, "header lines end with CRLF, not a bare LF");
		if (at < n && buf[at] == '\r') {
			if (at + 1 < n)
				return bad(f, "a bare CR in the head");
			break;		/* the end of the head may follow */
		}
		if (nf == HEAD_FIELDS_MAX)
			return fault(f, 431, "header_too_large", "more than 100 "
			    "header fields");
		if ((k = field_line(buf + at, n - at, &fields[nf], f)) < 0)
			return HEAD_BAD;
		if (k == 0)
			break;
		at += (size_t)k;
		nf++;
	}
	if (n >= HEAD_MAX)
		return fault(f, 431, "header_too_large", "the request's header "
		    "fields are over 16 KiB");
	return HEAD_MORE;
}

static int
named(const struct head_field *h, const char *name)
{
	return h->name_len == strlen(name) &&
	    strncasecmp(h->name, name, h->name_len) == 0;
}

/* Transfer-Encoding: only "chunked" is spoken; it must come last. */
static int
transfer_coding(const struct head_field *h, struct head_fault *f)
{
	const char	*v = h->value;
	size_t		 n = h->value_len, i = 0, codings = 0;
	int		 last_chunked = 0, other = 0;

	while (i < n) {
		size_t a = i, e;

		while (i < n && v[i] != ',')
			i++;
		e = i++;
		while (a < e && (v[a] == ' ' || v[a] == '\t'))
			a++;
		while (e > a && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (a == e)
			continue;	/* empty list elements are ignored */
		codings++;
		last_chunked = e - a == 7 && strncasecmp(v + a, "chunked", 7) == 0;
		other |= !last_chunked;
	}
	if (codings == 0 || !last_chunked)
		return bad(f, "the last transfer coding must be chunked");
	if (codings > 1 && other)
		return fault(f, 501, "not_implemented", "only the chunked "
		    "transfer coding is supported");
	if (codings > 1)
		return bad(f, "chunked is applied more than once");
	return 0;
}

int
head_check_fields(const struct head_field *fields, size_t n, int http11,
    struct head_fault *f)
{
	const struct head_field	*cl = NULL, *te = NULL;
	int			 hosts = 0;

	for (size_t i = 0; i < n; i++) {
		const struct head_field *h = &fields[i];

		if (named(h, "Content-Length")) {
			if (cl)
				return bad(f, "more than one Content-Length");
			cl = h;
			if (h->value_len == 0 || h->value_len > 18 ||
			    strspn(h->value, "0123456789") < h->value_len)
				return bad(f, "Content-Length must be a number of "
				    "bytes");
		} else if (named(h, "Transfer-Encoding")) {
			if (te)
				return bad(f, "more than one Transfer-Encoding");
			te = h;
		} else if (named(h, "Host")) {
			hosts++;
		}
	}
	if (te && cl)
		return bad(f, "Content-Length and Transfer-Encoding together");
	if (te && !http11)
		return bad(f, "Transfer-Encoding in an HTTP/1.0 request");
	if (te && transfer_coding(te, f) < 0)
		return -1;
	if (hosts > 1 || (http11 && hosts == 0))
		return bad(f, hosts ? "more than one Host" : "an HTTP/1.1 "
		    "request needs a Host");
	return 0;
}
