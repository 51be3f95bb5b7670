/* Filling and releasing a struct response, free of any HTTP library. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/response.h"

int
response_header(struct response *r, const char *name, const char *value)
{
	if (r->nheaders == RESPONSE_HEADERS_MAX)
		return -ENOSPC;
	if ((r->headers[r->nheaders].value = strdup(value)) == NULL)
		return -ENOMEM;
	r->headers[r->nheaders++].name = name;
	return 0;
}

void
response_body(struct response *r, int status, const char *type, char *body,
    size_t len)
{
	free(r->body);
	r->body_static = NULL;
	r->status = status;
	r->content_type = type;
	r->body = body;
	r->body_len = body ? len : 0;
}

void
response_static(struct response *r, int status, const char *type,
    const void *body, size_t len)
{
	free(r->body);
	r->body = NULL;
	r->status = status;
	r->content_type = type;
	r->body_static = body;
	r->body_len = len;
}

void
response_clear(struct response *r)
{
	free(r->body);
	if (r->fd >= 0)
		close(r->fd);
	if (r->stream)
		r->stream->free(r->stream);
	for (int i = 0; i < r->nheaders; i++)
		free(r->headers[i].value);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

void
response_stream(struct response *r, const char *type, struct stream *s)
{
	response_body(r, 200, type, NULL, 0);
	r->stream = s;
	/* Sent as it comes: neither a cache nor a proxy may hold it back. */
	response_header(r, "Cache-Control", "no-cache");
	response_header(r, "X-Accel-Buffering", "no");
}
