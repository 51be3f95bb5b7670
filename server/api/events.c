/*
 * GET /api/v1/events: the Server-Sent Events stream of job changes.  A
 * subscriber is a listener of the core's events with a buffer of text
 * not yet sent; one that falls more than SSE_BUFFER_MAX bytes behind is
 * dropped: it reconnects and resyncs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "core/events.h"
#include "http/jsonw.h"
#include "http/reply.h"
#include "log.h"
#include "server.h"
#include "vec.h"

#define SSE_BUFFER_MAX		(4u << 20)

struct sse {
	struct stream	 stream;
	struct listener	 l;
	struct server	*srv;
	char		*buf;
	size_t		 off, len, cap;
	int		 ended;
};

#define SSE_OF(lp)	((struct sse *)((char *)(lp) - offsetof(struct sse, l)))

static ssize_t
sse_read(struct stream *s, uint64_t pos, char *buf, size_t max)
{
	struct sse	*sub = (struct sse *)s;
	size_t		 n = sub->len - sub->off;

	(void)pos;
	if (n == 0)
		return sub->ended ? -1 : 0;
	if (n > max)
		n = max;
	memcpy(buf, sub->buf + sub->off, n);
	sub->off += n;
	if (sub->off == sub->len)
		sub->off = sub->len = 0;
	return (ssize_t)n;
}

static void
sse_free(struct stream *s)
{
	struct sse *sub = (struct sse *)s;

	events_unlisten(sub->srv, &sub->l);
	free(sub->buf);
	free(sub);
}

/* Queues text for the subscriber; one too far behind is ended. */
static void
sse_push(struct sse *sub, const char *text, size_t n)
{
	if (sub->ended)
		return;
	if (sub->len + n > SSE_BUFFER_MAX) {
		log_info("events: dropping a subscriber %zu bytes behind",
		    sub->len - sub->off);
		sub->off = sub->len = 0;
		sub->ended = 1;
		goto wake;
	}
	if (sub->off > 0 && sub->len + n > sub->cap) {
		memmove(sub->buf, sub->buf + sub->off, sub->len - sub->off);
		sub->len -= sub->off;
		sub->off = 0;
	}
	if (vec_grow(&sub->buf, &sub->cap, sub->len + n, 1) < 0) {
		sub->ended = 1;
		goto wake;
	}
	memcpy(sub->buf + sub->len, text, n);
	sub->len += n;
wake:
	stream_wake(&sub->stream);
}

static void
sse_job(struct listener *l, uint64_t seq, uint64_t id, int to,
    const struct job *j)
{
	struct jsonw	 w;
	char		*text;
	size_t		 len;

	jsonw_init(&w);
	jsonw_lit(&w, "id: ");
	jsonw_int(&w, (int64_t)seq);
	if (to < 0 || j == NULL) {
		jsonw_lit(&w, "\nevent: deleted\ndata: {\"id\":");
		jsonw_int(&w, (int64_t)id);
		jsonw_lit(&w, "}\n\n");
	} else {
		jsonw_lit(&w, "\nevent: job\ndata: ");
		render_job(&w, j);
		jsonw_lit(&w, "\n\n");
	}
	if ((text = jsonw_take(&w, &len)) == NULL)
		return;
	sse_push(SSE_OF(l), text, len);
	free(text);
}

static void
sse_tick(struct listener *l)
{
	static const char ping[] = ": keepalive\n\n";

	sse_push(SSE_OF(l), ping, sizeof(ping) - 1);
}

static void
sse_stop(struct listener *l)
{
	struct sse *sub = SSE_OF(l);

	sub->ended = 1;
	stream_wake(&sub->stream);
}

int
api_events_get(struct request *req)
{
	static const char	 hello[] = "retry: 2000\n: connected\n\n";
	struct sse		*sub;

	if (events_stopping(req->srv))
		return reply_errno(req, -ESHUTDOWN);
	if ((sub = calloc(1, sizeof(*sub))) == NULL)
		return reply_errno(req, -ENOMEM);
	sub->srv = req->srv;
	sub->stream.read = sse_read;
	sub->stream.free = sse_free;
	sub->l.job = sse_job;
	sub->l.tick = sse_tick;
	sub->l.stop = sse_stop;
	events_listen(req->srv, &sub->l);
	sse_push(sub, hello, sizeof(hello) - 1);
	response_stream(&req->resp, "text/event-stream; charset=utf-8",
	    &sub->stream);
	return API_DONE;
}
