/*
 * Idempotency-Key: what makes two requests "the same".  A job request is
 * its body; an upload is its file's SHA-256, its file name and its spec
 * (a multipart body's boundary differs on every try).
 */
#ifndef RUNNEL_IDEM_H
#define RUNNEL_IDEM_H

#include <stddef.h>

struct request;

/*
 * 1 if req carries no key or a valid one (1 to 200 printable ASCII
 * characters); else fills a 400 reply and returns 0.
 */
int	idem_key_check(struct request *req);

/* The SHA-256 of n bytes, in hex. */
void	idem_sha(const void *p, size_t n, char out[65]);
/* A SHA-256 digest in hex. */
void	idem_hex(const unsigned char md[32], char out[65]);

#endif
