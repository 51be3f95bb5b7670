/*
 * The turn's record: the state changes made in this loop turn (published
 * after the commit), the operations waiting for the commit, and the
 * claims whose RUN goes out after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/core_int.h"
#include "core/events.h"
#include "log.h"
#include "server.h"
#include "vec.h"

struct change *
turn_change(struct core *c, uint64_t id, int from, int to, const char *queue)
{
	struct turn	*t = &c->turn;
	struct change	*ch;

	/* Every state change is recorded here: the one transition check. */
	if (from >= 0 && to >= 0 && !job_can(from, to))
		fatalx("core: job %llu cannot go from %s to %s",
		    (unsigned long long)id, job_state_name(from),
		    job_state_name(to));
	if (vec_grow(&t->changes, &t->capchanges, t->nchanges + 1, sizeof(*ch)) < 0)
		fatalx("core: out of memory");	/* cannot keep counts honest */
	ch = &t->changes[t->nchanges++];
	memset(ch, 0, sizeof(*ch));
	ch->id = id;
	ch->from = from;
	ch->to = to;
	snprintf(ch->queue, sizeof(ch->queue), "%s", queue ? queue : "");
	ch->exit_code = ch->signal = -1;
	if ((to == JOB_QUEUED || to == JOB_SCHEDULED) &&
	    from != JOB_QUEUED && from != JOB_SCHEDULED)
		t->waiting++;
	return ch;
}

void
turn_outcome(struct change *ch, int exit_code, int signal, const char *error)
{
	ch->exit_code = exit_code;
	ch->signal = signal;
	snprintf(ch->error, sizeof(ch->error), "%s", error ? error : "");
}

/*
 * Keeps the job as this change left it, while later changes of the
 * same turn (a claim right after a submit) have not touched it yet.
 * Only when someone listens.
 */
void
turn_snapshot(struct server *srv, struct change *ch, const struct job *j)
{
	struct job	 got, view;

	if (events_listeners(srv) == 0 || ch->to < 0)
		return;
	if (j == NULL) {
		if (core_job_get(srv, ch->id, &got) < 0)
			return;
		j = &got;
	}
	/* Listeners are told the job object, which has no stdin: not copied. */
	view = *j;
	view.stdin_data = NULL;
	view.stdin_len = 0;
	if ((ch->snap = malloc(sizeof(*ch->snap))) != NULL &&
	    job_copy(ch->snap, &view) < 0) {
		free(ch->snap);
		ch->snap = NULL;
	}
	if (j == &got)
		job_clear(&got);
}

struct pending *
turn_pending(struct core *c, enum pending_kind kind, core_done_cb done,
    void *arg, uint64_t id)
{
	struct turn	*t = &c->turn;
	struct pending	*p;

	if (vec_grow(&t->pending, &t->cappending, t->npending + 1, sizeof(*p)) < 0)
		fatalx("core: out of memory");
	p = &t->pending[t->npending++];
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->done = done;
	p->arg = arg;
	p->id = id;
	return p;
}

void
turn_free(struct turn *t)
{
	for (size_t i = 0; i < t->nruns; i++)
		job_clear(&t->runs[i].job);
	for (size_t i = 0; i < t->nchanges; i++)
		if (t->changes[i].snap) {
			job_clear(t->changes[i].snap);
			free(t->changes[i].snap);
		}
	free(t->changes);
	free(t->pending);
	free(t->runs);
	memset(t, 0, sizeof(*t));
}

static void
on_idle(uv_idle_t *h)
{
	(void)h;	/* only keeps the loop from blocking before the check */
}

void
turn_dirty(struct server *srv)
{
	struct core *c = srv->core;

	if (c->dirty)
		return;
	c->dirty = 1;
	uv_idle_start(&c->idle, on_idle);
}
