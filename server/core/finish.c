/*
 * The end of an attempt.  A worker's report (or the loss of its worker,
 * or a restart of runneld, or in a cluster the loss of the node that ran
 * it) becomes the job's outcome: succeeded, failed, canceled, or
 * scheduled again with exponential back-off while attempts remain.  A
 * job that reached its final state then lets its dependents move on.
 * In a cluster an outcome applies only to the attempt the job is still
 * on (cluster_fence): a late report of a rescued attempt is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/core_int.h"
#include "core/finish.h"
#include "core/runq.h"
#include "log.h"
#include "server.h"
#include "store/cluster.h"
#include "store/store.h"

#define RETRY_MAX_MS	(3600LL * 1000)

/* What a signal of a job usually means, when a limit sent it. */
static const char *
signal_hint(int sig)
{
	switch (sig) {
	case 24:	return " (SIGXCPU: over its cpu_seconds limit)";
	case 25:	return " (SIGXFSZ: a file over its size limit)";
	default:	return "";
	}
}

/* Decides the outcome of an attempt from the worker's report. */
static enum job_state
exit_outcome(const struct job_exit *ex, char *error, size_t n)
{
	const char *r = ex->reason;

	error[0] = '\0';
	if (r && strcmp(r, "canceled") == 0) {
		snprintf(error, n, "canceled");
		return JOB_CANCELED;
	}
	if (r && strcmp(r, "timeout") == 0) {
		snprintf(error, n, "timeout after %gs", ex->timeout_ms / 1000.0);
		return JOB_FAILED;
	}
	if (r) {
		snprintf(error, n, "%s", ex->error ? ex->error : r);
		return JOB_FAILED;
	}
	if (ex->signal > 0) {
		snprintf(error, n, "killed by signal %d%s", ex->signal,
		    signal_hint(ex->signal));
		return JOB_FAILED;
	}
	if (ex->exit_code != 0) {
		snprintf(error, n, "exit status %d", ex->exit_code);
		return JOB_FAILED;
	}
	return JOB_SUCCEEDED;
}

/* --retry-base doubling per attempt, jitter +-25%, at most an hour. */
int64_t
finish_retry_delay(int64_t base_ms, int attempts)
{
	static uint64_t	 seed;
	int64_t		 d = base_ms;
	double		 jitter;

	for (int i = 1; i < attempts && d < RETRY_MAX_MS; i++)
		d *= 2;
	if (d > RETRY_MAX_MS)
		d = RETRY_MAX_MS;
	if (seed == 0)
		seed = (uint64_t)clock_mono_ms() * 2654435761u | 1;
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	jitter = 0.75 + 0.5 * (double)(seed >> 11) / (double)(1ull << 53);
	/* The hour holds after the jitter too: no wait is ever longer. */
	d = (int64_t)((double)d * jitter);
	return d < RETRY_MAX_MS ? d : RETRY_MAX_MS;
}

void
finish_keep(struct pending *p, uint64_t id, const struct job_exit *ex)
{
	p->kind = P_EXIT;
	p->id = id;
	p->ex = *ex;
	snprintf(p->queue, sizeof(p->queue), "%s", ex->queue ? ex->queue : "");
	snprintf(p->reason, sizeof(p->reason), "%s", ex->reason ? ex->reason : "");
	snprintf(p->error, sizeof(p->error), "%s", ex->error ? ex->error : "");
	snprintf(p->node, sizeof(p->node), "%s", ex->node ? ex->node : "");
	p->ex.reason = ex->reason ? p->reason : NULL;
	p->ex.error = ex->error ? p->error : NULL;
	p->ex.queue = p->queue;
	p->ex.node = ex->node ? p->node : NULL;
}

struct job_exit *
finish_kept(struct pending *p)
{
	/* Only compared with NULL: after a move they point where p was. */
	p->ex.reason = p->ex.reason ? p->reason : NULL;
	p->ex.error = p->ex.error ? p->error : NULL;
	p->ex.queue = p->queue;
	p->ex.node = p->ex.node ? p->node : NULL;
	return &p->ex;
}

/*
 * The outcome of job id's attempt that ended as ex says (not by our
 * shutdown), retried from now_ms after the back-off of retry_base_ms
 * while attempts remain: fills *r, its error text in error.
 */
static void
outcome(uint64_t id, const struct job_exit *ex, int64_t retry_base_ms,
    int64_t now_ms, struct job_result *r, char *error, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->state = exit_outcome(ex, error, n);
	if (r->state == JOB_FAILED && ex->attempts < ex->max_attempts) {
		r->state = JOB_SCHEDULED;
		r->run_at = now_ms + finish_retry_delay(retry_base_ms, ex->attempts);
	}
	r->exit_code = ex->exit_code;
	r->signal = ex->signal;
	r->error = error[0] ? error : NULL;
	r->started_at = ex->started_at;
	r->finished_at = ex->finished_at;
	r->stdout_bytes = ex->stdout_bytes;
	r->stderr_bytes = ex->stderr_bytes;
	r->cpu_ms = ex->cpu_ms;
	r->max_rss_kb = ex->max_rss_kb;
}

/*
 * The store's side of the outcome; fills *r.  A cluster's node applies
 * only the attempt it still runs (cluster_fence; for an outcome in the
 * finish's own statement): -ESTALE when it no longer does (logged there).
 */
static int
finish_store(struct server *srv, uint64_t id, const struct job_exit *ex,
    struct job_result *r, char *error, size_t n)
{
	int rc;

	if (ex->reason && strcmp(ex->reason, "shutdown") == 0) {
		/* Ended by our shutdown, not by its own doing: the attempt
		 * does not count. */
		memset(r, 0, sizeof(*r));
		r->id = id;
		r->state = JOB_QUEUED;
		if (srv->cluster && (rc = cluster_fence(srv, id, ex)) < 0)
			return rc == -EBUSY ? -ESTALE : rc;
		return store_requeue(srv->store, id, JOB_RUNNING, 1, 0);
	}
	outcome(id, ex, srv->cfg->retry_base_ms, clock_now_ms(), r, error, n);
	if (srv->cluster)
		return cluster_finish(srv, r, ex);
	return store_finish(srv->store, r);
}

void
finish_apply(struct server *srv, uint64_t id, const struct job_exit *ex)
{
	struct core		*c = srv->core;
	const char		*queue = ex->queue ? ex->queue : "";
	struct job_result	 r;
	struct change		*ch;
	char			 error[256];
	int			 rc;

	rc = finish_store(srv, id, ex, &r, error, sizeof(error));
	if (rc == -ESTALE)
		return;		/* a cluster's fence refused it */
	if (rc == -EBUSY || rc == -ENOENT) {
		log_warnx("core: job=%llu ended but is not running",
		    (unsigned long long)id);
		return;
	}
	/* Not stored (the database away, say): kept, applied again later. */
	if (rc < 0) {
		core_keep_report(c, id, ex);
		turn_dirty(srv);
		return;
	}
	/* Kept until the commit: a failed commit applies it again. */
	finish_keep(turn_pending(c, P_EXIT, NULL, NULL, id), id, ex);
	turn_dirty(srv);
	runq_stopped(srv, queue);
	c->runnable = 1;
	ch = turn_change(c, id, JOB_RUNNING, r.state, queue);
	ch->started_at = ex->started_at;
	ch->finished_at = job_state_finished(r.state) ? ex->finished_at : 0;
	turn_outcome(ch, r.exit_code, r.signal, r.error);
	turn_snapshot(srv, ch, NULL);
	if (r.state == JOB_QUEUED)
		runq_mark(srv, queue);
	else if (r.state == JOB_SCHEDULED)
		delay_arm(srv, r.run_at);
	else
		deps_settle(srv, id, r.state);
}

void
finish_overlay(struct server *srv, struct job *j)
{
	struct core		*c = srv->core;
	const struct job_exit	*ex = NULL;
	char			 error[256];
	enum job_state		 st;

	for (size_t i = 0; i < c->nredo; i++)
		if (c->redo[i].id == j->id)
			ex = finish_kept(&c->redo[i]);
	if (ex == NULL)
		return;
	st = exit_outcome(ex, error, sizeof(error));
	if (ex->reason && strcmp(ex->reason, "shutdown") == 0)
		st = JOB_QUEUED;
	else if (st == JOB_FAILED && ex->attempts < ex->max_attempts)
		st = JOB_SCHEDULED;
	j->state = st;
	j->exit_code = ex->exit_code;
	j->signal = ex->signal;
	free(j->error);
	j->error = error[0] ? strdup(error) : NULL;
	j->started_at = ex->started_at;
	j->finished_at = job_state_finished(st) ? ex->finished_at : 0;
	j->stdout_bytes = ex->stdout_bytes;
	j->stderr_bytes = ex->stderr_bytes;
	j->cpu_ms = ex->cpu_ms;
	j->max_rss_kb = ex->max_rss_kb;
	j->worker = -1;
	j->pid = 0;
}

void
finish_exited(struct server *srv, uint64_t id, const struct job_exit *ex)
{
	finish_apply(srv, id, ex);
}

void
finish_lost(struct server *srv, uint64_t id, const struct job_exit *lost)
{
	struct job_exit	 ex = *lost;

	ex.exit_code = ex.signal = -1;
	ex.cpu_ms = ex.max_rss_kb = -1;
	ex.finished_at = clock_now_ms();
	ex.reason = ex.error = "worker lost";
	log_warnx("core: job=%llu: worker lost", (unsigned long long)id);
	finish_apply(srv, id, &ex);
}

void
finish_node_lost(struct server *srv, const struct orphan *o)
{
	/* A cancel its node had no time for is still what was asked. */
	const char	*why = o->cancel ? "canceled" : "node lost";
	struct job_exit	 ex = {
		.exit_code = -1, .signal = -1, .cpu_ms = -1, .max_rss_kb = -1,
		.finished_at = clock_now_ms(), .reason = why,
		.error = why, .stdout_bytes = o->stdout_bytes,
		.stderr_bytes = o->stderr_bytes, .started_at = o->started_at,
		.queue = o->queue, .attempts = o->attempts,
		.max_attempts = o->max_attempts, .node = o->node,
	};

	log_warnx("cluster: job=%llu attempt=%d: its node %s is gone: %s",
	    (unsigned long long)o->id, o->attempts, o->node[0] ? o->node :
	    "(none)", o->cancel ? "canceled, as asked" :
	    o->attempts < o->max_attempts ? "retried later" :
	    "failed (node lost)");
	finish_apply(srv, o->id, &ex);
}

/* How a restart of runneld ends the attempt that job j was running. */
static void
restart_exit(const struct job *j, int64_t now_ms, struct job_exit *ex)
{
	*ex = (struct job_exit){
		.exit_code = -1, .signal = -1, .cpu_ms = -1, .max_rss_kb = -1,
		.finished_at = now_ms, .reason = "server restarted",
		.error = "server restarted", .queue = j->queue,
		.attempts = j->attempts, .max_attempts = j->max_attempts,
		.started_at = j->started_at, .stdout_bytes = j->stdout_bytes,
		.stderr_bytes = j->stderr_bytes,
	};
}

/*
 * Jobs a dead runneld left running: each such attempt ended with "server
 * restarted", and is retried with back-off while attempts remain.
 */
int
finish_recover(struct server *srv)
{
	uint64_t	*ids;
	size_t		 n;
	int		 rc;

	/* In a cluster, the others' running jobs are theirs. */
	if ((rc = srv->cluster ? cluster_own_jobs(srv, &ids, &n) :
	    store_running(srv->store, &ids, &n)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		struct job	 j;
		struct job_exit	 ex;

		if (store_get(srv->store, ids[i], &j) < 0)
			continue;
		restart_exit(&j, clock_now_ms(), &ex);
		log_info("core: job=%llu was running when runneld stopped: %s",
		    (unsigned long long)ids[i], j.attempts < j.max_attempts ?
		    "retried later" : "failed (server restarted)");
		finish_apply(srv, ids[i], &ex);
		job_clear(&j);
	}
	free(ids);
	return 0;
}

int
finish_restart_store(struct store *st, const struct job *j,
    int64_t retry_base_ms, int64_t now_ms, enum job_state *state,
    int *failed_after)
{
	struct job_exit		 ex;
	struct job_result	 r;
	char			 error[256];
	int			 rc;

	*failed_after = 0;
	restart_exit(j, now_ms, &ex);
	outcome(j->id, &ex, retry_base_ms, now_ms, &r, error, sizeof(error));
	/* The transition check every change passes (turn_change's): here a
	 * job that cannot take the rule's state is the import's error. */
	if (!job_can(j->state, r.state)) {
		log_error("import: job=%llu cannot go from %s to %s",
		    (unsigned long long)j->id, job_state_name(j->state),
		    job_state_name(r.state));
		return -EINVAL;
	}
	if ((rc = store_finish(st, &r)) < 0)
		return rc;
	*state = r.state;
	if (r.state == JOB_FAILED &&
	    (rc = deps_fail_chain(st, j->id, now_ms, NULL, NULL)) > 0)
		*failed_after = rc;
	return rc < 0 ? rc : 0;
}
