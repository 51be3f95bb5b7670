/*
 * Request heads (RFC 9112), checked strictly: the request line, the
 * header fields, and the framing of a body.  A head that two parsers
 * could read two ways (Content-Length and Transfer-Encoding together,
 * two lengths, an unknown coding, a folded line, a bare CR or LF) is
 * refused, so that nothing can be smuggled past the one that counts.
 * Pure functions over bytes, without libmicrohttpd: fuzz_http_head
 * drives them directly.
 */
#ifndef RUNNEL_HEAD_H
#define RUNNEL_HEAD_H

#include <stddef.h>

#define HEAD_MAX		16384	/* bytes of a request line and its fields */
#define HEAD_TARGET_MAX		8192	/* bytes of a request target */
#define HEAD_FIELDS_MAX		100

struct head_field {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* without the whitespace around it */
	size_t		 value_len;
};

/* Why a head is refused: the status to answer, a stable code, words. */
struct head_fault {
	int		 status;	/* 400, 414, 431, 501, 505 */
	const char	*code;		/* "bad_request", "uri_too_long", ... */
	const char	*why;
};

enum {
	HEAD_BAD = -1,
	HEAD_MORE = 0,		/* nothing wrong yet; not complete */
	HEAD_DONE = 1		/* a whole, valid head */
};

/*
 * Looks at the first n bytes a client sent on a connection.  Returns
 * HEAD_DONE with *len the head's length (its blank line included),
 * HEAD_MORE when what came is a valid beginning, or HEAD_BAD with *f
 * filled, as soon as the bytes so far cannot begin a valid head.
 */
int	head_scan(const char *buf, size_t n, size_t *len, struct head_fault *f);

/*
 * The framing rules of RFC 9112 over a request's fields: at most one
 * Content-Length, of digits only; Transfer-Encoding only "chunked", never
 * with a Content-Length nor in HTTP/1.0; exactly one Host in HTTP/1.1,
 * at most one in HTTP/1.0.  Returns 0, or -1 with *f filled.
 */
int	head_check_fields(const struct head_field *fields, size_t n, int http11,
	    struct head_fault *f);

#endif
