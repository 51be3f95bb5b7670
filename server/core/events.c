/*
 * Waiters, followers and SSE subscribers.  Waiters and followers are
 * hashed by job id so that a change costs O(1) in the number of
 * unrelated clients.  An SSE subscriber that falls more than
 * SSE_BUFFER_MAX bytes behind is dropped: it reconnects and resyncs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/core.h"
#include "core/events.h"
#include "store/job.h"
#include "http/jsonw.h"
#include "log.h"
#include "http/reply.h"
#include "server.h"

#define BUCKETS			1024
#define SSE_BUFFER_MAX		(4u << 20)
#define SSE_KEEPALIVE_MS	15000

struct waiter {
	uint64_t	 job_id;
	struct request	*req;
	struct server	*srv;
	uv_timer_t	 timer;
	struct waiter	*next;
	struct waiter	*prev;
};

struct sse {
	struct stream	 stream;
	struct server	*srv;
	char		*buf;
	size_t		 off, len, cap;
	int		 ended;
	struct sse	*next;
	struct sse	*prev;
};

struct events {
	struct waiter	*waiters[BUCKETS];
	struct follower	*followers[BUCKETS];
	struct sse	*subs;
	int		 nsubs;
	uint64_t	 seq;
	uv_timer_t	 keepalive;
	int		 stopping;
};

static unsigned
bucket(uint64_t id)
{
	return (unsigned)(id * 0x9e3779b97f4a7c15ull >> 54) & (BUCKETS - 1);
}

/* ---- waiters ----------------------------------------------------------- */

static void
waiter_freed(uv_handle_t *h)
{
	free(h->data);
}

/* Answers the waiter with the job as it is now and forgets it. */
static void
waiter_finish(struct waiter *w)
{
	struct events *ev = w->srv->events;

	if (w->prev)
		w->prev->next = w->next;
	else
		ev->waiters[bucket(w->job_id)] = w->next;
	if (w->next)
		w->next->prev = w->prev;
	uv_timer_stop(&w->timer);
	core_reply_job(w->srv, w->req, 200, w->job_id);
	request_done(w->req);
	uv_close((uv_handle_t *)&w->timer, waiter_freed);
}

static void
on_wait_timeout(uv_timer_t *t)
{
	waiter_finish(t->data);
}

int
events_wait(struct server *srv, uint64_t id, struct request *req,
    int64_t timeout_ms)
{
	struct events	*ev = srv->events;
	struct waiter	*w;
	unsigned	 b = bucket(id);

	if (ev->stopping || (w = calloc(1, sizeof(*w))) == NULL)
		return core_reply_job(srv, req, 200, id);
	w->job_id = id;
	w->req = req;
	w->srv = srv;
	uv_timer_init(srv->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, on_wait_timeout, (uint64_t)timeout_ms, 0);
	w->next = ev->waiters[b];
	if (w->next)
		w->next->prev = w;
	ev->waiters[b] = w;
	return API_PENDING;
}

int
events_waiting(const struct server *srv, uint64_t id)
{
	for (const struct waiter *w = srv->events->waiters[bucket(id)]; w;
	    w = w->next)
		if (w->job_id == id)
			return 1;
	return 0;
}

/* ---- followers --------------------------------------------------------- */

void
events_follow(struct server *srv, struct follower *f)
{
	struct events	*ev = srv->events;
	unsigned	 b = bucket(f->job_id);

	if (f->linked)
		return;
	f->prev = NULL;
	f->next = ev->followers[b];
	if (f->next)
		f->next->prev = f;
	ev->followers[b] = f;
	f->linked = 1;
}

void
events_unfollow(struct server *srv, struct follower *f)
{
	struct events *ev = srv->events;

	if (!f->linked)
		return;
	if (f->prev)
		f->prev->next = f->next;
	else
		ev->followers[bucket(f->job_id)] = f->next;
	if (f->next)
		f->next->prev = f->prev;
	f->linked = 0;
}

void
events_output(struct server *srv, uint64_t id)
{
	for (struct follower *f = srv->events->followers[bucket(id)]; f;
	    f = f->next)
		if (f->job_id == id)
			stream_wake(&f->stream);
}

/* ---- SSE --------------------------------------------------------------- */

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
	struct sse	*sub = (struct sse *)s;
	struct events	*ev = sub->srv ? sub->srv->events : NULL;

	if (ev) {
		if (sub->prev)
			sub->prev->next = sub->next;
		else
			ev->subs = sub->next;
		if (sub->next)
			sub->next->prev = sub->prev;
		ev->nsubs--;
	}
	free(sub->buf);
	free(sub);
}

/* Queues text for one subscriber; a subscriber too far behind is ended. */
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
	if (sub->len + n > sub->cap) {
		size_t	 cap = sub->cap ? sub->cap : 4096;
		char	*nb;

		while (cap < sub->len + n)
			cap *= 2;
		if ((nb = realloc(sub->buf, cap)) == NULL) {
			sub->ended = 1;
			goto wake;
		}
		sub->buf = nb;
		sub->cap = cap;
	}
	memcpy(sub->buf + sub->len, text, n);
	sub->len += n;
wake:
	stream_wake(&sub->stream);
}

static void
sse_broadcast(struct events *ev, const char *text, size_t n)
{
	for (struct sse *s = ev->subs; s; s = s->next)
		sse_push(s, text, n);
}

int
events_subscribe(struct server *srv, struct request *req)
{
	struct events	*ev = srv->events;
	struct sse	*sub;
	static const char hello[] = "retry: 2000\n: connected\n\n";

	if (ev->stopping)
		return reply_errno(req, -ESHUTDOWN);
	if ((sub = calloc(1, sizeof(*sub))) == NULL)
		return reply_errno(req, -ENOMEM);
	sub->srv = srv;
	sub->stream.read = sse_read;
	sub->stream.free = sse_free;
	sub->next = ev->subs;
	if (sub->next)
		sub->next->prev = sub;
	ev->subs = sub;
	ev->nsubs++;
	sse_push(sub, hello, sizeof(hello) - 1);
	req->resp.status = 200;
	req->resp.content_type = "text/event-stream; charset=utf-8";
	req->resp.stream = &sub->stream;
	response_header(&req->resp, "Cache-Control", "no-cache");
	response_header(&req->resp, "X-Accel-Buffering", "no");
	return API_DONE;
}

int
events_subscribers(const struct server *srv)
{
	return srv->events->nsubs;
}

static void
sse_job(struct server *srv, uint64_t id, int to, const char *json)
{
	struct events	*ev = srv->events;
	struct jsonw	 w;
	char		*text;
	size_t		 len;

	if (to >= 0 && json == NULL)
		return;		/* nobody listened when it changed */
	jsonw_init(&w);
	jsonw_lit(&w, "id: ");
	jsonw_int(&w, (int64_t)++ev->seq);
	if (to < 0) {
		jsonw_lit(&w, "\nevent: deleted\ndata: {\"id\":");
		jsonw_int(&w, (int64_t)id);
		jsonw_lit(&w, "}\n\n");
	} else {
		jsonw_lit(&w, "\nevent: job\ndata: ");
		jsonw_raw(&w, json, strlen(json));
		jsonw_lit(&w, "\n\n");
	}
	if ((text = jsonw_take(&w, &len)) == NULL)
		return;
	sse_broadcast(ev, text, len);
	free(text);
}

static void
on_keepalive(uv_timer_t *t)
{
	static const char ping[] = ": keepalive\n\n";

	sse_broadcast(((struct server *)t->data)->events, ping,
	    sizeof(ping) - 1);
}

/* ---- changes ----------------------------------------------------------- */

void
events_job(struct server *srv, uint64_t id, int to, const char *json)
{
	struct events	*ev = srv->events;
	struct waiter	*w, *next;

	if (ev->subs)
		sse_job(srv, id, to, json);
	if (to >= 0 && !job_state_finished(to))
		return;
	for (w = ev->waiters[bucket(id)]; w; w = next) {
		next = w->next;
		if (w->job_id == id)
			waiter_finish(w);
	}
	events_output(srv, id);
}

int
events_start(struct server *srv)
{
	struct events *ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return -ENOMEM;
	srv->events = ev;
	uv_timer_init(srv->loop, &ev->keepalive);
	ev->keepalive.data = srv;
	uv_timer_start(&ev->keepalive, on_keepalive, SSE_KEEPALIVE_MS,
	    SSE_KEEPALIVE_MS);
	return 0;
}

int
events_stopping(const struct server *srv)
{
	return srv->events == NULL || srv->events->stopping;
}

static void
keepalive_closed(uv_handle_t *h)
{
	(void)h;
}

void
events_stop(struct server *srv)
{
	struct events *ev = srv->events;

	if (ev == NULL || ev->stopping)
		return;
	ev->stopping = 1;
	for (int b = 0; b < BUCKETS; b++) {
		while (ev->waiters[b])
			waiter_finish(ev->waiters[b]);
		for (struct follower *f = ev->followers[b]; f; f = f->next)
			stream_wake(&f->stream);
	}
	for (struct sse *s = ev->subs; s; s = s->next) {
		s->ended = 1;
		stream_wake(&s->stream);
	}
	uv_close((uv_handle_t *)&ev->keepalive, keepalive_closed);
}

void
events_free(struct server *srv)
{
	struct events *ev = srv->events;

	if (ev == NULL)
		return;
	/* Streams still open (http stopped first) must not touch us. */
	for (struct sse *s = ev->subs; s; s = s->next)
		s->srv = NULL;
	free(ev);
	srv->events = NULL;
}
