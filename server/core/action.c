/*
 * What clients do to existing jobs and queues: cancel, retry, delete,
 * queue settings; and the deletion of expired jobs (retention).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/action.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/core_int.h"
#include "core/counts.h"
#include "core/events.h"
#include "core/runq.h"
#include "log.h"
#include "pool/pool.h"
#include "server.h"
#include "store/space.h"
#include "store/store.h"

int
action_can_cancel(enum job_state st)
{
	return job_can(st, JOB_CANCELED);
}

/* Finished jobs leave their state only through a retry. */
int
action_can_retry(enum job_state st)
{
	return job_state_finished(st) && job_can(st, JOB_QUEUED);
}

int
action_can_delete(enum job_state st)
{
	return job_state_finished(st);
}

int
action_cancel(struct server *srv, uint64_t id, core_done_cb done, void *arg,
    struct core_error *err)
{
	struct core	*c = srv->core;
	struct change	*ch;
	struct job	 j;
	int		 rc;

	/* As reads show it: a job whose end is not stored yet has ended. */
	if ((rc = core_job_get(srv, id, &j)) < 0)
		return refuse_set(err, rc, NULL, "%s", "");
	if (!action_can_cancel(j.state))
		return refuse_state(err, &j, "cancel");
	if (j.state == JOB_RUNNING) {
		job_clear(&j);
		rc = pool_cancel(srv->pool, id, "canceled");
		/* In a cluster, the node running it ends it. */
		if (rc == -ENOENT && srv->cluster)
			rc = notify_cancel(srv, id);
		if (rc < 0)
			return refuse_set(err, rc, NULL, "%s", "");
		/* Complete once the process group is gone; now if stopping. */
		return events_wait(srv, id, srv->cfg->kill_grace_ms + 30000,
		    done, arg) < 0 ? 1 : 0;
	}
	rc = store_set_state(srv->store, id, j.state, JOB_CANCELED, "canceled",
	    clock_now_ms());
	if (rc < 0) {
		job_clear(&j);
		return refuse_set(err, rc, NULL, "%s", "");
	}
	ch = turn_change(c, id, j.state, JOB_CANCELED, j.queue);
	turn_outcome(ch, -1, -1, "canceled");
	turn_snapshot(srv, ch, NULL);
	deps_settle(srv, id, JOB_CANCELED);
	turn_pending(c, P_JOB, done, arg, id);
	job_clear(&j);
	turn_dirty(srv);
	return 0;
}

/*
 * The dependencies of j that a retry must wait for, into wait (as many
 * as j lists).  A deleted one no longer holds anything up; a failed or
 * canceled one makes the retry a conflict (retry it first).  Returns how
 * many to wait for, or -EBUSY with err filled.
 */
static int
retry_deps(struct server *srv, const struct job *j, uint64_t *wait,
    struct core_error *err)
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
			return refuse_set(err, -EBUSY, NULL,
			    "cannot retry job %llu: its dependency %llu is %s; "
			    "retry that one first", (unsigned long long)j->id,
			    (unsigned long long)j->after[i], job_state_name(st));
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
action_retry(struct server *srv, uint64_t id, core_done_cb done, void *arg,
    struct core_error *err)
{
	struct core	*c = srv->core;
	struct job	 j;
	uint64_t	*wait = NULL;
	enum job_state	 to;
	int		 rc, left;

	if ((rc = store_get(srv->store, id, &j)) < 0)
		return refuse_set(err, rc, NULL, "%s", "");
	if (!action_can_retry(j.state))
		return refuse_state(err, &j, "retry");
	if (srv->draining || space_full(srv)) {
		rc = refuse_set(err, srv->draining ? -ESHUTDOWN : -ENOSPC,
		    NULL, "%s", "");
		goto out;
	}
	if (job_after_parse(&j) < 0 || (j.nafter &&
	    (wait = calloc(j.nafter, sizeof(*wait))) == NULL)) {
		rc = refuse_set(err, -ENOMEM, NULL, "%s", "");
		goto out;
	}
	if ((rc = left = retry_deps(srv, &j, wait, err)) < 0)
		goto out;
	to = left ? JOB_SCHEDULED : JOB_QUEUED;
	if ((rc = store_requeue(srv->store, id, j.state, 0, left)) < 0 ||
	    (left && (rc = store_add_deps(srv->store, id, wait, left)) < 0)) {
		rc = refuse_set(err, rc, NULL, "%s", "");
		goto out;
	}
	turn_snapshot(srv, turn_change(c, id, j.state, to, j.queue), NULL);
	if (to == JOB_QUEUED) {
		runq_mark(srv, j.queue);
		c->runnable = 1;
	}
	turn_pending(c, P_JOB, done, arg, id);
	turn_dirty(srv);
	rc = 0;
out:
	free(wait);
	job_clear(&j);
	return rc;
}

/*
 * Deletes a finished job; done NULL for retention.  With files_later its
 * output and files go after done is called (store/trash.c).  0 or < 0.
 */
static int
delete_job(struct server *srv, struct job *j, int files_later,
    core_done_cb done, void *arg)
{
	struct core	*c = srv->core;
	struct pending	*p;
	int		 rc;

	if ((rc = store_delete(srv->store, j->id)) < 0)
		return rc;
	turn_change(c, j->id, j->state, -1, j->queue);
	p = turn_pending(c, P_DELETE, done, arg, j->id);
	p->attempts = j->attempts;
	p->files_later = files_later;
	turn_dirty(srv);
	return 0;
}

int
action_delete(struct server *srv, uint64_t id, int files_later,
    core_done_cb done, void *arg, struct core_error *err)
{
	struct job	 j;
	int		 rc;

	if ((rc = store_get(srv->store, id, &j)) < 0)
		return refuse_set(err, rc, NULL, "%s", "");
	if (!action_can_delete(j.state))
		return refuse_state(err, &j, "delete");
	rc = delete_job(srv, &j, files_later, done, arg);
	job_clear(&j);
	return rc < 0 ? refuse_set(err, rc, NULL, "%s", "") : 0;
}

void
action_expire(struct server *srv, uint64_t id)
{
	struct job j;

	if (store_get(srv->store, id, &j) < 0)
		return;
	if (job_state_finished(j.state))
		delete_job(srv, &j, 1, NULL, NULL);
	job_clear(&j);
}

int
action_queue_set(struct server *srv, const char *name, int paused,
    int concurrency, core_done_cb done, void *arg, struct core_error *err)
{
	struct queue_counts	*q;
	struct pending		*p;
	int			 rc;

	/* What is kept is what the cluster has now, not what we last saw. */
	cluster_counts(srv, 0);
	q = counts_queue(srv->counts, name, 0);

	if (paused < 0)
		paused = q ? q->paused : 0;
	if (concurrency < 0)
		concurrency = q && q->concurrency > 0 ? q->concurrency : 0;
	if ((rc = store_queue_set(srv->store, name, paused, concurrency)) < 0)
		return refuse_set(err, rc, NULL, "%s", "");
	/* Applied now, so that a second PATCH in this turn builds on it;
	 * a failed commit reloads the settings from the store. */
	if ((q = counts_queue(srv->counts, name, 1)) != NULL) {
		q->paused = paused;
		q->concurrency = concurrency > 0 ? concurrency : -1;
	}
	p = turn_pending(srv->core, P_QUEUE, done, arg, 0);
	snprintf(p->queue, sizeof(p->queue), "%s", name);
	p->paused = paused;
	p->concurrency = concurrency > 0 ? concurrency : -1;
	turn_dirty(srv);
	return 0;
}
