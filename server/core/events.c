/*
 * Who hears of job changes after each commit: waiters (a request held
 * until a job ends), followers (an output stream) and listeners (the
 * event stream).  Waiters and followers are hashed by job id so that a
 * change costs O(1) in the number of unrelated clients.  How a listener
 * or follower talks to its client is its own business (api/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/events.h"
#include "server.h"
#include "store/job.h"

#define BUCKETS			1024
#define TICK_MS			15000

struct waiter {
	uint64_t	 job_id;
	core_done_cb	 done;
	void		*arg;
	struct server	*srv;
	uv_timer_t	 timer;
	struct waiter	*next;
	struct waiter	*prev;
};

struct events {
	struct waiter	*waiters[BUCKETS];
	struct follower	*followers[BUCKETS];
	struct listener	*listeners;
	int		 nlisteners;
	uint64_t	 seq;
	uv_timer_t	 tick;
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

/* Completes the waiter (the job is as it is now) and forgets it. */
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
	w->done(w->arg, &(struct core_result){.id = w->job_id});
	uv_close((uv_handle_t *)&w->timer, waiter_freed);
}

static void
on_wait_timeout(uv_timer_t *t)
{
	waiter_finish(t->data);
}

int
events_wait(struct server *srv, uint64_t id, int64_t timeout_ms,
    core_done_cb done, void *arg)
{
	struct events	*ev = srv->events;
	struct waiter	*w;
	unsigned	 b = bucket(id);

	if (ev->stopping)
		return -ESHUTDOWN;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	w->job_id = id;
	w->done = done;
	w->arg = arg;
	w->srv = srv;
	uv_timer_init(srv->loop, &w->timer);
	w->timer.data = w;
	uv_timer_start(&w->timer, on_wait_timeout, (uint64_t)timeout_ms, 0);
	w->next = ev->waiters[b];
	if (w->next)
		w->next->prev = w;
	ev->waiters[b] = w;
	return 0;
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

void
events_waited(const struct server *srv, void (*cb)(void *, uint64_t),
    void *arg)
{
	for (int b = 0; b < BUCKETS; b++)
		for (const struct waiter *w = srv->events->waiters[b]; w;
		    w = w->next)
			cb(arg, w->job_id);
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

	if (!f->linked || ev == NULL)
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
	struct follower *f, *next;

	for (f = srv->events->followers[bucket(id)]; f; f = next) {
		next = f->next;	/* wake may unfollow */
		if (f->job_id == id)
			f->wake(f);
	}
}

/* ---- listeners -------------------------------------------------------- */

void
events_listen(struct server *srv, struct listener *l)
{
	struct events *ev = srv->events;

	if (l->linked)
		return;
	l->prev = NULL;
	l->next = ev->listeners;
	if (l->next)
		l->next->prev = l;
	ev->listeners = l;
	ev->nlisteners++;
	l->linked = 1;
}

void
events_unlisten(struct server *srv, struct listener *l)
{
	struct events *ev = srv->events;

	if (!l->linked || ev == NULL)
		return;
	if (l->prev)
		l->prev->next = l->next;
	else
		ev->listeners = l->next;
	if (l->next)
		l->next->prev = l->prev;
	ev->nlisteners--;
	l->linked = 0;
}

int
events_listeners(const struct server *srv)
{
	return srv->events ? srv->events->nlisteners : 0;
}

static void
on_tick(uv_timer_t *t)
{
	struct events	*ev = ((struct server *)t->data)->events;
	struct listener	*l, *next;

	for (l = ev->listeners; l; l = next) {
		next = l->next;
		l->tick(l);
	}
}

/* ---- changes ----------------------------------------------------------- */

void
events_job(struct server *srv, uint64_t id, int to, const struct job *j)
{
	struct events	*ev = srv->events;
	struct waiter	*w, *next;
	struct listener	*l, *lnext;

	/* A change nobody listened to when it was made is not told. */
	if (ev->listeners && (to < 0 || j != NULL)) {
		ev->seq++;
		for (l = ev->listeners; l; l = lnext) {
			lnext = l->next;
			l->job(l, ev->seq, id, to, j);
		}
	}
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
	uv_timer_init(srv->loop, &ev->tick);
	ev->tick.data = srv;
	uv_timer_start(&ev->tick, on_tick, TICK_MS, TICK_MS);
	return 0;
}

int
events_stopping(const struct server *srv)
{
	return srv->events == NULL || srv->events->stopping;
}

static void
tick_closed(uv_handle_t *h)
{
	(void)h;
}

void
events_stop(struct server *srv)
{
	struct events	*ev = srv->events;
	struct follower	*f, *fnext;
	struct listener	*l, *lnext;

	if (ev == NULL || ev->stopping)
		return;
	ev->stopping = 1;
	for (int b = 0; b < BUCKETS; b++) {
		while (ev->waiters[b])
			waiter_finish(ev->waiters[b]);
		for (f = ev->followers[b]; f; f = fnext) {
			fnext = f->next;
			f->wake(f);
		}
	}
	for (l = ev->listeners; l; l = lnext) {
		lnext = l->next;
		l->stop(l);
	}
	uv_close((uv_handle_t *)&ev->tick, tick_closed);
}

void
events_free(struct server *srv)
{
	struct events *ev = srv->events;

	if (ev == NULL)
		return;
	/* Streams still open (http stopped first) must not touch us. */
	for (struct listener *l = ev->listeners; l; l = l->next)
		l->linked = 0;
	for (int b = 0; b < BUCKETS; b++)
		for (struct follower *f = ev->followers[b]; f; f = f->next)
			f->linked = 0;
	free(ev);
	srv->events = NULL;
}
