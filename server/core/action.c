/*
 * What clients do to existing jobs and queues: cancel, retry, delete,
 * queue settings; and the deletion of expired jobs (retention).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/core_int.h"
#include "core/events.h"
#include "log.h"
#include "pool/pool.h"
#include "http/reply.h"
#include "core/runq.h"
#include "server.h"
#include "core/space.h"
#include "store/store.h"
#include "core/counts.h"

static int
load_state(struct server *srv, uint64_t id, struct request *req,
    struct job *j)
{
	int rc;

	if ((rc = store_get(srv->store, id, j)) < 0) {
		reply_errno(req, rc);
		return rc;
	}
	return 0;
}

int
core_cancel(struct server *srv, uint64_t id, struct request *req)
{
	struct core	*c = srv->core;
	struct change	*ch;
	struct job	 j;
	int		 rc;

	/* As reads show it: a job whose end is not stored yet has ended. */
	if ((rc = core_job_get(srv, id, &j)) < 0)
		return reply_errno(req, rc);
	if (j.state == JOB_RUNNING) {
		job_clear(&j);
		if ((rc = pool_cancel(srv->pool, id, "canceled")) < 0)
			return reply_errno(req, rc);
		/* Answered once the process group is gone. */
		return events_wait(srv, id, req,
		    srv->cfg->kill_grace_ms + 30000);
	}
	if (j.state != JOB_QUEUED && j.state != JOB_SCHEDULED)
		return core_conflict(req, &j, "cancel");
	rc = store_set_state(srv->store, id, j.state, JOB_CANCELED, "canceled",
	    clock_now_ms());
	if (rc < 0) {
		job_clear(&j);
		return reply_errno(req, rc);
	}
	ch = change_add(c, id, j.state, JOB_CANCELED, j.queue);
	change_outcome(ch, -1, -1, "canceled");
	change_event(srv, ch, NULL);
	deps_settle(srv, id, JOB_CANCELED);
	pending_add(c, P_REPLY, req, id);
	job_clear(&j);
	core_dirty(srv);
	return API_PENDING;
}

/*
 * The dependencies of j that a retry must wait for, into wait (as many
 * as j lists).  A deleted one no longer holds anything up; a failed or
 * canceled one makes the retry a 409 (retry it first).  Returns how many
 * to wait for, or -1 with the reply made.
 */
static int
retry_deps(struct server *srv, const struct job *j, uint64_t *wait,
    struct request *req)
{
	size_t n = 0;

	for (size_t i = 0; i < j->nafter; i++) {
		struct job	d;
		enum job_state	st;

		if (store_get(srv->store, j->after[i], &d) < 0)
			continue;
		st = d.state;
		job_clear(&d);
		if (st == JOB_SUCCEEDED)
			continue;
		if (st == JOB_FAILED || st == JOB_CANCELED) {
			reply_fail(req, 409, "conflict", NULL,
			    "cannot retry job %llu: its dependency %llu is %s; "
			    "retry that one first", (unsigned long long)j->id,
			    (unsigned long long)j->after[i], job_state_name(st));
			return -1;
		}
		wait[n++] = j->after[i];
	}
	return (int)n;
}

/*
 * A retry runs the job again as soon as its dependencies allow (not at
 * its run_at: retrying is asking for it now).
 */
int
core_retry(struct server *srv, uint64_t id, struct request *req)
{
	struct core	*c = srv->core;
	struct job	 j;
	uint64_t	*wait = NULL;
	enum job_state	 to;
	int		 rc, left;

	if (load_state(srv, id, req, &j) < 0)
		return API_DONE;
	if (j.state != JOB_FAILED && j.state != JOB_CANCELED)
		return core_conflict(req, &j, "retry");
	if (srv->draining || space_full(srv)) {
		rc = reply_errno(req, srv->draining ? -ESHUTDOWN : -ENOSPC);
		goto out;
	}
	if (job_after_parse(&j) < 0 || (j.nafter &&
	    (wait = calloc(j.nafter, sizeof(*wait))) == NULL)) {
		rc = reply_errno(req, -ENOMEM);
		goto out;
	}
	if ((left = retry_deps(srv, &j, wait, req)) < 0) {
		rc = API_DONE;
		goto out;
	}
	if ((rc = store_requeue(srv->store, id, j.state, 0, left)) < 0 ||
	    (left && (rc = store_add_deps(srv->store, id, wait, left)) < 0)) {
		rc = reply_errno(req, rc);
		goto out;
	}
	to = left ? JOB_SCHEDULED : JOB_QUEUED;
	change_event(srv, change_add(c, id, j.state, to, j.queue), NULL);
	if (to == JOB_QUEUED) {
		runq_mark(srv, j.queue);
		c->runnable = 1;
	}
	pending_add(c, P_REPLY, req, id);
	core_dirty(srv);
	rc = API_PENDING;
out:
	free(wait);
	job_clear(&j);
	return rc;
}

/* Deletes a finished job; req NULL for retention.  0 or < 0. */
static int
delete_job(struct server *srv, struct job *j, struct request *req)
{
	struct core	*c = srv->core;
	struct pending	*p;
	int		 rc;

	if ((rc = store_delete(srv->store, j->id)) < 0)
		return rc;
	change_add(c, j->id, j->state, -1, j->queue);
	p = pending_add(c, P_DELETE, req, j->id);
	p->attempts = j->attempts;
	core_dirty(srv);
	return 0;
}

int
core_delete(struct server *srv, uint64_t id, struct request *req)
{
	struct job	 j;
	int		 rc;

	if (load_state(srv, id, req, &j) < 0)
		return API_DONE;
	if (!job_state_finished(j.state))
		return core_conflict(req, &j, "delete");
	rc = delete_job(srv, &j, req);
	job_clear(&j);
	return rc < 0 ? reply_errno(req, rc) : API_PENDING;
}

void
core_expire(struct server *srv, uint64_t id)
{
	struct job j;

	if (store_get(srv->store, id, &j) < 0)
		return;
	if (job_state_finished(j.state))
		delete_job(srv, &j, NULL);
	job_clear(&j);
}

int
core_queue_set(struct server *srv, const char *name, int paused,
    int concurrency, struct request *req)
{
	struct queue_counts	*q = counts_queue(srv->counts, name, 0);
	struct pending		*p;
	int			 rc;


	if (paused < 0)
		paused = q ? q->paused : 0;
	if (concurrency < 0)
		concurrency = q && q->concurrency > 0 ? q->concurrency : 0;
	if ((rc = store_queue_set(srv->store, name, paused, concurrency)) < 0)
		return reply_errno(req, rc);
	/* Applied now, so that a second PATCH in this turn builds on it;
	 * a failed commit reloads the settings from the store. */
	if ((q = counts_queue(srv->counts, name, 1)) != NULL) {
		q->paused = paused;
		q->concurrency = concurrency > 0 ? concurrency : -1;
	}
	p = pending_add(srv->core, P_QUEUE, req, 0);
	snprintf(p->queue, sizeof(p->queue), "%s", name);
	p->paused = paused;
	p->concurrency = concurrency > 0 ? concurrency : -1;
	core_dirty(srv);
	return API_PENDING;
}
