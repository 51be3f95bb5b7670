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

struct settled {
	uint64_t	 id;
	enum job_state	 state;
};

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

/* A dependency will never succeed: the waiting job fails.  1 if it did. */
static int
dep_failed(struct server *srv, uint64_t id, uint64_t dep)
{
	struct core	*c = srv->core;
	struct job	 j;
	char		 error[64];
	int		 rc;

	if (store_get(srv->store, id, &j) < 0)
		return 0;
	if (j.state != JOB_SCHEDULED || j.deps_left == 0) {
		job_clear(&j);
		return 0;
	}
	snprintf(error, sizeof(error), "dependency %llu failed",
	    (unsigned long long)dep);
	rc = store_set_state(srv->store, id, JOB_SCHEDULED, JOB_FAILED, error,
	    clock_now_ms());
	if (rc == 0) {
		struct change *ch = turn_change(c, id, JOB_SCHEDULED, JOB_FAILED,
		    j.queue);

		turn_outcome(ch, -1, -1, error);
		turn_snapshot(srv, ch, NULL);
		turn_dirty(srv);
	}
	job_clear(&j);
	return rc == 0;
}

void
deps_settle(struct server *srv, uint64_t id, enum job_state final)
{
	struct settled	*work = NULL;
	size_t		 n = 0, cap = 0, next = 0;

	if (vec_grow(&work, &cap, n + 1, sizeof(*work)) < 0)
		return;
	work[n++] = (struct settled){id, final};
	while (next < n) {
		struct settled	 s = work[next++];
		uint64_t	*deps;
		size_t		 ndeps;

		if (store_dependents(srv->store, s.id, &deps, &ndeps) < 0)
			break;
		for (size_t i = 0; i < ndeps; i++) {
			if (s.state == JOB_SUCCEEDED) {
				dep_succeeded(srv, deps[i]);
				continue;
			}
			if (!dep_failed(srv, deps[i], s.id))
				continue;
			if (vec_grow(&work, &cap, n + 1, sizeof(*work)) < 0)
				break;
			work[n++] = (struct settled){deps[i], JOB_FAILED};
		}
		free(deps);
	}
	free(work);
}
