/*
 * Dependencies (after: [ids]).  When a job reaches its final state, the
 * jobs waiting for it move on: a success counts down their deps_left and
 * releases those with nothing left to wait for; a failure or a cancel
 * fails them with "dependency N failed", and so on down the chain.  A
 * worklist, not recursion, walks the chain, and each step is one index
 * seek (job_deps by dep_id), whatever else the table holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/core_int.h"
#include "log.h"
#include "server.h"
#include "store/store.h"
#include "vec.h"

/* A dependency succeeded: one less to wait for. */
static void
dep_succeeded(struct server *srv, uint64_t id)
{
	struct job j;

	if (store_dep_done(srv->store, id) != 0 || store_get(srv->store, id, &j) < 0)
		return;
	if (j.deps_left == 0) {
		if (j.run_at <= clock_now_ms())
			delay_promote(srv, id, j.queue);
		else
			delay_arm(srv, j.run_at);	/* and its time */
	}
	job_clear(&j);
}

/*
 * A dependency (dep) of job id will never succeed: the job fails if it
 * still waits for dependencies.  1 if it did (failed is told, with the
 * job as it was), else 0.  A store that fails here loses the turn, and
 * its commit says so.
 */
static int
fail_waiting(struct store *st, uint64_t id, uint64_t dep, int64_t now_ms,
    void (*failed)(void *, const struct job *, const char *), void *arg)
{
	struct job	 j;
	char		 error[64];
	int		 rc;

	if (store_get(st, id, &j) < 0)
		return 0;
	if (j.state != JOB_SCHEDULED || j.deps_left == 0) {
		job_clear(&j);
		return 0;
	}
	snprintf(error, sizeof(error), "dependency %llu failed",
	    (unsigned long long)dep);
	rc = store_set_state(st, id, JOB_SCHEDULED, JOB_FAILED, error, now_ms);
	if (rc == 0 && failed)
		failed(arg, &j, error);
	job_clear(&j);
	return rc == 0;
}

int
deps_fail_chain(struct store *st, uint64_t id, int64_t now_ms,
    void (*failed)(void *arg, const struct job *j, const char *error),
    void *arg)
{
	uint64_t	*work = NULL;
	size_t		 n = 0, cap = 0, next = 0;
	int		 rc = 0, nfailed = 0;

	if (vec_grow(&work, &cap, n + 1, sizeof(*work)) < 0)
		return -ENOMEM;
	work[n++] = id;
	while (rc == 0 && next < n) {
		uint64_t	 dep = work[next++];
		uint64_t	*deps;
		size_t		 ndeps;

		if ((rc = store_dependents(st, dep, &deps, &ndeps)) < 0)
			break;
		for (size_t i = 0; i < ndeps; i++) {
			if (!fail_waiting(st, deps[i], dep, now_ms, failed, arg))
				continue;
			nfailed++;
			if ((rc = vec_grow(&work, &cap, n + 1, sizeof(*work))) < 0)
				break;
			work[n++] = deps[i];
		}
		free(deps);
	}
	free(work);
	return rc < 0 ? rc : nfailed;
}

/* deps_fail_chain's news of a job it failed, for the turn. */
static void
dep_failed(void *arg, const struct job *j, const char *error)
{
	struct server	*srv = arg;
	struct change	*ch = turn_change(srv->core, j->id, JOB_SCHEDULED,
			    JOB_FAILED, j->queue);

	turn_outcome(ch, -1, -1, error);
	turn_snapshot(srv, ch, NULL);
	turn_dirty(srv);
}

void
deps_settle(struct server *srv, uint64_t id, enum job_state final)
{
	uint64_t	*deps;
	size_t		 ndeps;

	if (final != JOB_SUCCEEDED) {
		deps_fail_chain(srv->store, id, clock_now_ms(), dep_failed, srv);
		return;
	}
	if (store_dependents(srv->store, id, &deps, &ndeps) < 0)
		return;
	for (size_t i = 0; i < ndeps; i++)
		dep_succeeded(srv, deps[i]);
	free(deps);
}
