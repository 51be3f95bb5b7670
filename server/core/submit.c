/*
 * Submissions: command jobs (one or a batch) and upload jobs.  Each new
 * job's first state comes from its dependencies and its time: failed at
 * once if a dependency already failed, scheduled while one has not
 * succeeded or its run_at is ahead, else queued.  --max-queued refuses
 * a submission (-EAGAIN) that would let too many jobs wait, and an
 * Idempotency-Key makes a repeated request answer what the first made.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/cluster.h"
#include "core/core_int.h"
#include "core/counts.h"
#include "core/runq.h"
#include "core/submit.h"
#include "server.h"
#include "store/files.h"
#include "store/cluster.h"
#include "store/space.h"
#include "store/store.h"

#define IDEM_KEEP_MS	(24LL * 3600 * 1000)

/* -EAGAIN when adding jobs would pass --max-queued; 0 when they fit. */
static int
backpressure(struct server *srv, size_t adding, struct core_error *err)
{
	const struct counts	*t = srv->counts;
	int64_t			 max = srv->cfg->max_queued, waiting, per[COUNTS_MINUTES];
	int64_t			 excess, secs = 5;

	if (max == 0)
		return 0;
	/* A cluster's nodes all add to it: the store's count, not ours. */
	if (srv->cluster)
		waiting = cluster_waiting(srv);
	else
		waiting = t->by_state[JOB_QUEUED] + t->by_state[JOB_SCHEDULED] +
		    srv->core->turn.waiting;
	if (waiting + (int64_t)adding <= max)
		return 0;
	/* When the pool, at last minute's pace, will have made room. */
	counts_per_minute(t, clock_now_ms(), per);
	excess = waiting + (int64_t)adding - max;
	if (per[COUNTS_MINUTES - 2] > 0)
		secs = (int64_t)ceil((double)excess * 60.0 /
		    (double)per[COUNTS_MINUTES - 2]);
	secs = secs < 1 ? 1 : secs > 60 ? 60 : secs;
	refuse_set(err, -EAGAIN, NULL, "%lld jobs wait already "
	    "(--max-queued %lld): nothing was stored", (long long)waiting,
	    (long long)max);
	err->retry_after_s = secs;
	return -EAGAIN;
}

/*
 * The state of dependency id.  Other nodes store ends too: its row is
 * held until this turn commits (store_dep_state), or an end stored
 * meanwhile would miss the dependent this turn adds and leave it
 * waiting for ever.  Returns 0, or a code (-ENOENT: no such job).
 */
static int
dep_state(struct server *srv, uint64_t id, enum job_state *st)
{
	struct job	 d;
	int		 rc, s;

	if (srv->cluster) {
		if ((rc = store_dep_state(srv->store, id, &s)) == 0)
			*st = (enum job_state)s;
		return rc;
	}
	if ((rc = store_get(srv->store, id, &d)) == 0)
		*st = d.state;
	job_clear(&d);
	return rc;
}

/*
 * Sets j's first state from its dependencies and time; j->after keeps
 * only the dependencies still to wait for.  Returns 0, or -EINVAL with
 * err filled when one does not exist.
 */
static int
plan(struct server *srv, struct job *j, int64_t now, const char *where,
    struct core_error *err)
{
	uint64_t	 failed = 0;
	size_t		 keep = 0;
	char		 field[32];

	for (size_t i = 0; i < j->nafter; i++) {
		enum job_state	 st = JOB_SCHEDULED;
		int		 rc;

		if ((rc = dep_state(srv, j->after[i], &st)) == -ENOENT) {
			snprintf(field, sizeof(field), "%safter", where);
			return refuse_set(err, -EINVAL, field,
			    "job %llu (in after) does not exist",
			    (unsigned long long)j->after[i]);
		}
		if (rc < 0)
			return refuse_set(err, rc, NULL, "%s", "");
		if (st == JOB_SUCCEEDED)
			continue;
		if ((st == JOB_FAILED || st == JOB_CANCELED) && failed == 0)
			failed = j->after[i];
		j->after[keep++] = j->after[i];
	}
	j->nafter = keep;
	j->deps_left = (int)keep;
	if (failed) {
		char error[64];

		snprintf(error, sizeof(error), "dependency %llu failed",
		    (unsigned long long)failed);
		free(j->error);
		j->error = strdup(error);
		j->state = JOB_FAILED;
		j->finished_at = now;
		j->deps_left = 0;
		j->nafter = 0;
	} else if (j->deps_left > 0 || j->run_at > now) {
		j->state = JOB_SCHEDULED;
	} else {
		j->state = JOB_QUEUED;
	}
	return 0;
}

static int
plan_all(struct server *srv, struct job *jobs, size_t n, int batch,
    int64_t now, struct core_error *err, size_t *waiting)
{
	char	 where[24] = "";
	int	 rc;

	*waiting = 0;
	for (size_t i = 0; i < n; i++) {
		if (batch)
			snprintf(where, sizeof(where), "[%zu].", i);
		if ((rc = plan(srv, &jobs[i], now, where, err)) < 0)
			return rc;
		if (jobs[i].state != JOB_FAILED)
			(*waiting)++;
	}
	return 0;
}

/* The ids of jobs as a JSON array, for the idempotency record. */
static char *
ids_json(const struct job *jobs, size_t n)
{
	size_t	 len = 2 + n * 21;
	char	*s = malloc(len), *p = s;

	if (s == NULL)
		return NULL;
	*p++ = '[';
	for (size_t i = 0; i < n; i++)
		p += snprintf(p, len - (size_t)(p - s), "%s%llu", i ? "," : "",
		    (unsigned long long)jobs[i].id);
	snprintf(p, len - (size_t)(p - s), "]");
	return s;
}

/* Inside the savepoint: rows, dependencies, the file, the key. */
static int
store_all(struct server *srv, struct job *jobs, size_t n, int batch,
    int64_t now, const char *tmp, const char *key, const char *sha)
{
	char	*ids;
	int	 rc;

	if ((rc = store_submit(srv->store, jobs, n, now)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].nafter && (rc = store_add_deps(srv->store,
		    jobs[i].id, jobs[i].after, jobs[i].nafter)) < 0)
			return rc;
	if (tmp && (rc = files_store(srv, jobs[0].id, jobs[0].file_name, tmp,
	    srv->cfg->durability == STORE_DURABLE)) < 0)
		return rc;
	if (key == NULL)
		return 0;
	if ((ids = ids_json(jobs, n)) == NULL)
		return -ENOMEM;
	/* In a cluster another node may have taken the key meanwhile:
	 * -EEXIST then, and what it made is the answer. */
	if (srv->cluster)
		rc = store_idem_take(srv->store, key, sha, ids, batch, now,
		    now - IDEM_KEEP_MS);
	else
		rc = store_idem_put(srv->store, key, sha, ids, batch, now);
	free(ids);
	return rc;
}

/* Stored in the turn: their changes, and what may run now or later. */
static void
stored(struct server *srv, struct job *jobs, size_t n)
{
	struct core	*c = srv->core;
	const char	*marked = NULL;

	for (size_t i = 0; i < n; i++) {
		struct job	*j = &jobs[i];

		turn_snapshot(srv, turn_change(c, j->id, -1, j->state, j->queue), j);
		/* A batch is mostly one queue: mark it once. */
		if (j->state == JOB_QUEUED &&
		    (marked == NULL || strcmp(marked, j->queue) != 0)) {
			runq_mark(srv, j->queue);
			marked = j->queue;
		}
		if (j->state == JOB_SCHEDULED && j->deps_left == 0)
			delay_arm(srv, j->run_at);
	}
}

/* Nothing but rows: no dependency to record, no file, no key. */
static int
plain(const struct job *jobs, size_t n, const char *tmp, const char *key)
{
	if (tmp || key)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].nafter)
			return 0;
	return 1;
}

/*
 * In a cluster every statement is a round trip to the database: plain
 * submissions wait for the turn's end, where one statement stores them
 * all (submit_flush), each with the time of its request.  They are
 * answered after the commit, as any other.
 */
static void
hold(struct server *srv, struct job *jobs, size_t n, int batch,
    int64_t now, size_t waiting, core_done_cb done, void *arg)
{
	struct core	*c = srv->core;
	struct pending	*p;

	for (size_t i = 0; i < n; i++)
		jobs[i].created_at = now;
	p = turn_pending(c, P_SUBMIT, done, arg, 0);
	p->jobs = jobs;
	p->njobs = n;
	p->batch = batch;
	p->held = 1;
	c->turn.nheld++;
	c->turn.held_waiting += (int64_t)waiting;
	c->runnable = 1;
	turn_dirty(srv);
}

/* Held jobs stored in a savepoint of their own: all or none. */
static int
store_held(struct server *srv, struct job *jobs, size_t n)
{
	int rc, kept;

	if ((rc = store_mark(srv->store)) < 0)
		return rc;
	rc = store_submit_held(srv->store, jobs, n);
	kept = store_unmark(srv->store, rc == 0);
	return rc < 0 ? rc : kept;
}

void
submit_flush(struct server *srv)
{
	struct turn	*t = &srv->core->turn;
	struct job	*all;
	size_t		 n = 0, k = 0;
	int		 rc = -ENOMEM;

	for (size_t i = 0; i < t->npending; i++)
		if (t->pending[i].held)
			n += t->pending[i].njobs;
	/* A copy of each job's fields: the store sets only id. */
	if ((all = calloc(n ? n : 1, sizeof(*all))) != NULL) {
		for (size_t i = 0; i < t->npending; i++)
			if (t->pending[i].held) {
				memcpy(all + k, t->pending[i].jobs,
				    t->pending[i].njobs * sizeof(*all));
				k += t->pending[i].njobs;
			}
		rc = store_held(srv, all, n);
	}
	k = 0;
	for (size_t i = 0; i < t->npending; i++) {
		struct pending *p = &t->pending[i];

		if (!p->held)
			continue;
		p->held = 0;
		if (rc == 0) {
			for (size_t j = 0; j < p->njobs; j++)
				p->jobs[j].id = all[k++].id;
		/* One of them spoilt the statement for all (or the database is
		 * away): each alone, as it would have been at its request, and
		 * one refused is answered with its error. */
		} else if ((p->rc = store_held(srv, p->jobs, p->njobs)) < 0) {
			continue;
		}
		stored(srv, p->jobs, p->njobs);
	}
	free(all);
	t->nheld = 0;
	t->held_waiting = 0;
}

static int
submit(struct server *srv, struct job *jobs, size_t n, int batch,
    const char *tmp, const char *key, const char *sha, core_done_cb done,
    void *arg, struct core_error *err)
{
	struct core	*c = srv->core;
	int64_t		 now = clock_now_ms();
	struct pending	*p;
	size_t		 waiting;
	int		 rc;

	if (srv->draining || space_full(srv)) {
		rc = srv->draining ? -ESHUTDOWN : -ENOSPC;
		goto fail;
	}
	if ((rc = plan_all(srv, jobs, n, batch, now, err, &waiting)) < 0 ||
	    (rc = backpressure(srv, waiting, err)) < 0) {
		job_free_all(jobs, n);
		return rc;
	}
	if (srv->cluster && plain(jobs, n, tmp, key)) {
		hold(srv, jobs, n, batch, now, waiting, done, arg);
		return 0;
	}
	if ((rc = store_mark(srv->store)) < 0)
		goto fail;
	if ((rc = store_all(srv, jobs, n, batch, now, tmp, key, sha)) < 0) {
		store_unmark(srv->store, 0);
		if (tmp)
			files_remove(srv, jobs[0].id);
		goto fail;
	}
	if ((rc = store_unmark(srv->store, 1)) < 0) {
		if (tmp)
			files_remove(srv, jobs[0].id);
		goto fail;
	}
	stored(srv, jobs, n);
	p = turn_pending(c, P_SUBMIT, done, arg, 0);
	p->jobs = jobs;
	p->njobs = n;
	p->batch = batch;
	p->upload = tmp != NULL;
	c->runnable = 1;
	turn_dirty(srv);
	return 0;
fail:
	job_free_all(jobs, n);
	return refuse_set(err, rc, NULL, "%s", "");
}

/* A key seen before answers what it made; a new one submits and remembers. */
static int
idem_submit(struct server *srv, const char *key, const char *body_sha,
    struct job *jobs, size_t n, int batch, const char *tmp_path,
    core_done_cb done, void *arg, struct core_error *err)
{
	struct pending	*p;
	char		 sha[80], *json = NULL;
	uint64_t	*ids;
	size_t		 nids;
	int		 was_batch, rc;

	rc = store_idem_get(srv->store, key, clock_now_ms() - IDEM_KEEP_MS, sha,
	    sizeof(sha), &json, &was_batch);
	if (rc == 0) {
		rc = submit(srv, jobs, n, batch, tmp_path, key, body_sha, done,
		    arg, err);
		/*
		 * In a cluster, another node took the key between our look
		 * and our write (its commit came first; ours undid its jobs):
		 * the answer is what it made, as for any repeat.
		 */
		if (rc != -EEXIST || srv->cluster == NULL)
			return rc;
		jobs = NULL;
		n = 0;
		rc = store_idem_get(srv->store, key, clock_now_ms() -
		    IDEM_KEEP_MS, sha, sizeof(sha), &json, &was_batch);
		if (rc == 0)
			return refuse_set(err, -EEXIST, NULL, "%s", "");
	}
	job_free_all(jobs, n);
	if (rc < 0)
		return refuse_set(err, rc, NULL, "%s", "");
	if (strcmp(sha, body_sha) != 0) {
		free(json);
		return refuse_set(err, -EEXIST, "Idempotency-Key", "this "
		    "Idempotency-Key was used for another request in the last "
		    "24 hours");
	}
	rc = job_ids_parse(json, &ids, &nids);
	free(json);
	if (rc < 0)
		return refuse_set(err, rc, NULL, "%s", "");
	/* Completed after this turn's commit, like the request that made them. */
	p = turn_pending(srv->core, P_REPLAY, done, arg, 0);
	p->ids = ids;
	p->njobs = nids;
	p->batch = was_batch;
	turn_dirty(srv);
	return 0;
}

int
submit_jobs(struct server *srv, struct job *jobs, size_t n, int batch,
    core_done_cb done, void *arg, struct core_error *err)
{
	return submit(srv, jobs, n, batch, NULL, NULL, NULL, done, arg, err);
}

int
submit_upload(struct server *srv, struct job *job, const char *tmp_path,
    const char *key, const char *request_sha, core_done_cb done, void *arg,
    struct core_error *err)
{
	if (key)
		return idem_submit(srv, key, request_sha, job, 1, 0, tmp_path,
		    done, arg, err);
	return submit(srv, job, 1, 0, tmp_path, NULL, NULL, done, arg, err);
}

int
submit_idem(struct server *srv, const char *key, const char *body_sha,
    struct job *jobs, size_t n, int batch, core_done_cb done, void *arg,
    struct core_error *err)
{
	return idem_submit(srv, key, body_sha, jobs, n, batch, NULL, done, arg,
	    err);
}

int
submit_made(struct server *srv, struct job *j, struct core_error *err)
{
	int64_t	 now = clock_now_ms();
	size_t	 waiting;
	int	 rc;

	if (srv->draining || space_full(srv))
		return refuse_set(err, srv->draining ? -ESHUTDOWN : -ENOSPC,
		    NULL, "%s", "");
	if ((rc = plan_all(srv, j, 1, 0, now, err, &waiting)) < 0 ||
	    (rc = backpressure(srv, waiting, err)) < 0)
		return rc;
	if ((rc = store_submit(srv->store, j, 1, now)) < 0)
		return refuse_set(err, rc, NULL, "%s", "");
	stored(srv, j, 1);
	srv->core->runnable = 1;
	turn_dirty(srv);
	return 0;
}

void
submit_pending(struct server *srv, struct job *j, core_done_cb done, void *arg)
{
	struct pending *p = turn_pending(srv->core, P_SUBMIT, done, arg, 0);

	p->jobs = j;
	p->njobs = 1;
	turn_dirty(srv);
}
