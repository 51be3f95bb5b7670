/*
 * Streamed responses (chunked): MHD pulls from a struct stream, and a
 * stream with nothing to give parks, its connection suspended, until
 * stream_wake().  A stream refers to its connection and to the http
 * state, never to the request context: MHD may free the response after
 * the request ended.
 */
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http/http_int.h"

#define STREAM_BLOCK	(64 * 1024)
/*
 * A chunked body is read straight into the connection's memory pool:
 * the response's own block (which MHD callocs) serves only a client
 * without chunked coding (HTTP/1.0), so it is kept small.  The 16 KiB
 * of an event subscriber and the 64 KiB of an output follower cost 12
 * and 60 KiB of RSS each.
 */
#define STREAM_BLOCK_CHUNKED	(4 * 1024)

static void
stream_unpark(struct http *h, struct stream *s)
{
	if (s->park_prev)
		s->park_prev->park_next = s->park_next;
	else if (h->parked == s)
		h->parked = s->park_next;
	if (s->park_next)
		s->park_next->park_prev = s->park_prev;
	s->park_next = s->park_prev = NULL;
}

static void
stream_resume(struct stream *s)
{
	if (!s->parked)
		return;
	s->parked = 0;
	stream_unpark(s->http, s);
	MHD_resume_connection(s->conn);
	http_kick(s->http);
}

static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream	*s = cls;
	struct http	*h = s->http;
	ssize_t		 n;

	n = s->read(s, pos, buf, max);
	if (n > 0)
		return n;
	if (n < 0 || h->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing yet: sleep until stream_wake(). */
	s->parked = 1;
	s->park_prev = NULL;
	s->park_next = h->parked;
	if (s->park_next)
		s->park_next->park_prev = s;
	h->parked = s;
	MHD_suspend_connection(s->conn);
	return 0;
}

static void
stream_free(void *cls)
{
	struct stream *s = cls;

	if (s->parked)
		stream_unpark(s->http, s);
	s->free(s);
}

struct MHD_Response *
stream_response(struct http *h, struct MHD_Connection *c, struct stream *s)
{
	size_t block = s->sized ? STREAM_BLOCK : STREAM_BLOCK_CHUNKED;

	s->conn = c;
	s->http = h;
	s->wake = stream_resume;
	return MHD_create_response_from_callback(s->sized ? s->size :
	    MHD_SIZE_UNKNOWN, block, stream_reader, s, stream_free);
}

void
stream_wake(struct stream *s)
{
	if (s->wake)
		s->wake(s);
}

void
stream_abort(struct stream *s)
{
	const union MHD_ConnectionInfo *ci;

	if (s->conn == NULL)
		return;
	/*
	 * A client that reads nothing never makes MHD call the reader
	 * again: the socket's next send fails instead, and MHD closes it.
	 */
	ci = MHD_get_connection_info(s->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci != NULL)
		(void)shutdown(ci->connect_fd, SHUT_RDWR);
	stream_resume(s);
}
