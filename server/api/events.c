/*
 * GET /api/v1/events: the Server-Sent Events stream of job changes.
 *
 * An event is rendered once, into a chunk appended to a log that every
 * subscriber reads through its own cursor; a chunk is freed once no
 * cursor is at or before it.  So the text held is that of the furthest
 * subscriber's backlog, not a copy per subscriber: the per-subscriber
 * limit (SSE_BUFFER_MAX, 4 MiB) bounds the total too.  A subscriber
 * more than that behind is dropped and its connection closed: it
 * reconnects and resyncs.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "config.h"
#include "core/events.h"
#include "http/jsonw.h"
#include "http/reply.h"
#include "log.h"
#include "server.h"

#define SSE_BUFFER_MAX		(4u << 20)
/*
 * Subscribers with new text are woken together at most this often: a
 * send per subscriber per event (1 000 subscribers, 3 000 events/s)
 * costs more than the events do.
 */
#define SSE_FLUSH_MS		5

struct sse;

struct sse_chunk {
	struct sse_chunk	*next;
	int			 readers;	/* cursors at this chunk */
	size_t			 len;
	char			 text[];
};

/* The chunks not yet read by every subscriber, oldest first. */
struct sse_log {
	struct sse_chunk	*head;
	struct sse_chunk	*tail;		/* held until the next one */
	uint64_t		 tail_seq;
	int			 subs;
	struct sse		*due;		/* to wake at the next flush */
	uv_timer_t		 flush;
};

struct sse {
	struct stream	 stream;
	struct listener	 l;
	struct server	*srv;
	struct sse_chunk *at;		/* NULL: read all there is */
	size_t		 off;		/* into at */
	size_t		 behind;	/* bytes queued from at + off */
	const char	*note;		/* static text due before at */
	size_t		 note_len;
	struct sse	*due_next;	/* on the log's due list */
	struct sse	*due_prev;
	int		 is_due;
	int		 ended;		/* dropped: send nothing more */
	int		 stopping;	/* runneld stops: end once sent */
};

#define SSE_OF(lp)	((struct sse *)((char *)(lp) - offsetof(struct sse, l)))

/* Frees the chunks no cursor can reach any more. */
static void
log_trim(struct sse_log *lg)
{
	struct sse_chunk *c;

	while ((c = lg->head) != NULL && c->readers == 0 && c != lg->tail) {
		lg->head = c->next;
		free(c);
	}
}

static void
log_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
log_free(struct server *srv)
{
	struct sse_log		*lg = srv->sse_log;
	struct sse_chunk	*c, *next;

	for (c = lg->head; c; c = next) {
		next = c->next;
		free(c);
	}
	lg->head = lg->tail = NULL;
	srv->sse_log = NULL;
	uv_close((uv_handle_t *)&lg->flush, log_closed);
}

static void
sse_undue(struct sse *sub)
{
	struct sse_log *lg = sub->srv->sse_log;

	if (!sub->is_due)
		return;
	if (sub->due_prev)
		sub->due_prev->due_next = sub->due_next;
	else
		lg->due = sub->due_next;
	if (sub->due_next)
		sub->due_next->due_prev = sub->due_prev;
	sub->due_next = sub->due_prev = NULL;
	sub->is_due = 0;
}

static void
on_flush(uv_timer_t *t)
{
	struct sse_log	*lg = t->data;
	struct sse	*sub;

	while ((sub = lg->due) != NULL) {
		sse_undue(sub);
		stream_wake(&sub->stream);
	}
}

/* Wakes the subscriber with the others at the next flush. */
static void
sse_due(struct sse *sub)
{
	struct sse_log *lg = sub->srv->sse_log;

	if (sub->is_due)
		return;
	sub->due_prev = NULL;
	sub->due_next = lg->due;
	if (lg->due)
		lg->due->due_prev = sub;
	lg->due = sub;
	sub->is_due = 1;
	if (!uv_is_active((uv_handle_t *)&lg->flush))
		uv_timer_start(&lg->flush, on_flush, SSE_FLUSH_MS, 0);
}

/* Appends a copy of text as the newest chunk; NULL if out of memory. */
static struct sse_chunk *
log_append(struct sse_log *lg, uint64_t seq, const char *text, size_t len)
{
	struct sse_chunk *c;

	if ((c = malloc(sizeof(*c) + len)) == NULL)
		return NULL;
	c->next = NULL;
	c->readers = 0;
	c->len = len;
	memcpy(c->text, text, len);
	if (lg->tail)
		lg->tail->next = c;
	else
		lg->head = c;
	lg->tail = c;
	lg->tail_seq = seq;
	log_trim(lg);
	return c;
}

/* Moves the cursor to c (NULL: nowhere). */
static void
sse_seek(struct sse *sub, struct sse_chunk *c)
{
	if (sub->at)
		sub->at->readers--;
	sub->at = c;
	sub->off = 0;
	if (c)
		c->readers++;
}

static ssize_t
sse_read(struct stream *s, uint64_t pos, char *buf, size_t max)
{
	struct sse	*sub = (struct sse *)s;
	size_t		 got = 0, n;

	(void)pos;
	if (sub->ended)
		return -1;
	if (sub->note_len > 0) {
		n = sub->note_len < max ? sub->note_len : max;
		memcpy(buf, sub->note, n);
		sub->note += n;
		sub->note_len -= n;
		got = n;
	}
	while (got < max && sub->at) {
		n = sub->at->len - sub->off;
		if (n > max - got)
			n = max - got;
		memcpy(buf + got, sub->at->text + sub->off, n);
		got += n;
		sub->off += n;
		sub->behind -= n;
		if (sub->off == sub->at->len)
			sse_seek(sub, sub->at->next);
	}
	log_trim(sub->srv->sse_log);
	if (got == 0 && sub->stopping)
		return -1;
	return (ssize_t)got;
}

static void
sse_free(struct stream *s)
{
	struct sse	*sub = (struct sse *)s;
	struct server	*srv = sub->srv;

	events_unlisten(srv, &sub->l);
	sse_seek(sub, NULL);
	sse_undue(sub);
	if (--srv->sse_log->subs == 0)
		log_free(srv);
	else
		log_trim(srv->sse_log);
	free(sub);
}

/* Ends a subscriber: it lets go of the log and its connection closes. */
static void
sse_drop(struct sse *sub)
{
	if (sub->ended)
		return;
	sub->ended = 1;
	sse_seek(sub, NULL);
	sub->behind = 0;
	sub->note_len = 0;
	sse_undue(sub);
	log_trim(sub->srv->sse_log);
	events_unlisten(sub->srv, &sub->l);
	stream_abort(&sub->stream);
}

/* The text of change seq, rendered for the first subscriber told of it. */
static struct sse_chunk *
sse_render(struct sse_log *lg, uint64_t seq, uint64_t id, int to,
    const struct job *j)
{
	struct jsonw		 w;
	struct sse_chunk	*c;
	char			*text;
	size_t			 len;

	if (lg->tail && lg->tail_seq == seq)
		return lg->tail;
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
		return NULL;
	c = log_append(lg, seq, text, len);
	free(text);
	return c;
}

static void
sse_job(struct listener *l, uint64_t seq, uint64_t id, int to,
    const struct job *j)
{
	struct sse		*sub = SSE_OF(l);
	struct server		*srv = sub->srv;
	struct sse_chunk	*c;
	uint64_t		 max = srv->cfg->sse_buffer_max ?
			    srv->cfg->sse_buffer_max : SSE_BUFFER_MAX;

	if (sub->ended)
		return;
	if ((c = sse_render(srv->sse_log, seq, id, to, j)) == NULL) {
		sse_drop(sub);
		return;
	}
	if (sub->behind + c->len > max) {
		log_info("events: dropping a subscriber %zu bytes behind",
		    sub->behind);
		sse_drop(sub);
		return;
	}
	sub->behind += c->len;
	if (sub->at == NULL) {
		sse_seek(sub, c);
		sse_due(sub);
	}
}

static void
sse_tick(struct listener *l)
{
	static const char ping[] = ": keepalive\n\n";
	struct sse *sub = SSE_OF(l);

	/* One with events still to send shows it is alive by them. */
	if (sub->ended || sub->at || sub->note_len)
		return;
	sub->note = ping;
	sub->note_len = sizeof(ping) - 1;
	stream_wake(&sub->stream);
}

static void
sse_stop(struct listener *l)
{
	struct sse *sub = SSE_OF(l);

	sub->stopping = 1;
	stream_wake(&sub->stream);
}

int
api_events_get(struct request *req)
{
	static const char	 hello[] = "retry: 2000\n: connected\n\n";
	struct server		*srv = req->srv;
	struct sse		*sub;

	if (events_stopping(srv))
		return reply_errno(req, -ESHUTDOWN);
	if (srv->sse_log == NULL) {
		if ((srv->sse_log = calloc(1, sizeof(*srv->sse_log))) == NULL)
			return reply_errno(req, -ENOMEM);
		uv_timer_init(srv->loop, &srv->sse_log->flush);
		srv->sse_log->flush.data = srv->sse_log;
	}
	if ((sub = calloc(1, sizeof(*sub))) == NULL) {
		if (srv->sse_log->subs == 0)
			log_free(srv);
		return reply_errno(req, -ENOMEM);
	}
	srv->sse_log->subs++;
	sub->srv = srv;
	sub->stream.read = sse_read;
	sub->stream.free = sse_free;
	sub->l.job = sse_job;
	sub->l.tick = sse_tick;
	sub->l.stop = sse_stop;
	sub->note = hello;
	sub->note_len = sizeof(hello) - 1;
	events_listen(srv, &sub->l);
	response_stream(&req->resp, "text/event-stream; charset=utf-8",
	    &sub->stream);
	return API_DONE;
}
