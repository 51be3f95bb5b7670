/*
 * Submissions: command jobs (one or a batch) and upload jobs.  Each new
 * job's first state comes from its dependencies and its time: failed at
 * once if a dependency already failed, scheduled while one has not
 * succeeded or its run_at is ahead, else queued.  --max-queued refuses
 * a submission (429) that would let too many jobs wait, and an
 * Idempotency-Key makes a repeated request answer what the first made.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/core_int.h"
#include "store/files.h"
#include "http/reply.h"
#include "core/runq.h"
#include "server.h"
#include "core/space.h"
#include "api/spec.h"
#include "store/store.h"
#include "core/counts.h"

#define IDEM_KEEP_MS	(24LL * 3600 * 1000)

/* 429 when adding jobs would pass --max-queued; 0 when they fit. */
static int
backpressure(struct server *srv, size_t adding, struct request *req)
{
	const struct counts	*t = srv->counts;
	int64_t			 max = srv->cfg->max_queued, waiting, per[COUNTS_MINUTES];
	int64_t			 excess, secs = 5;
	char			 after[24];

	if (max == 0)
		return 0;
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
	snprintf(after, sizeof(after), "%lld", (long long)secs);
	reply_fail(req, 429, "queue_full", NULL, "%lld jobs wait already "
	    "(--max-queued %lld): nothing was stored", (long long)waiting,
	    (long long)max);
	response_header(&req->resp, "Retry-After", after);
	return -1;
}

/*
 * Sets j's first state from its dependencies and time; j->after keeps
 * only the dependencies still to wait for.  Returns 0, or -EINVAL with
 * *e filled when one does not exist.
 */
static int
plan(struct server *srv, struct job *j, int64_t now, const char *where,
    struct api_error *e)
{
	uint64_t	 failed = 0;
	size_t		 keep = 0;
	char		 field[32];

	for (size_t i = 0; i < j->nafter; i++) {
		struct job	 d;
		enum job_state	 st;

		if (store_get(srv->store, j->after[i], &d) < 0) {
			snprintf(field, sizeof(field), "%safter", where);
			return api_error_set(e, 422, "invalid_dependency", field,
			    "job %llu (in after) does not exist",
			    (unsigned long long)j->after[i]);
		}
		st = d.state;
		job_clear(&d);
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

/* The server's default limits (--limit-*) where the spec set none. */
static int
default_limits(const struct server *srv, struct job *j)
{
	static const char *names[LIMIT_COUNT] = {"memory_mb", "cpu_seconds",
	    "open_files", "processes", "output_mb"};
	const int64_t	*dflt = srv->cfg->limits;
	cJSON		*o;
	int		 added = 0;

	for (int i = 0; i < LIMIT_COUNT; i++)
		added |= dflt[i] > 0;
	if (!added)
		return 0;
	o = j->limits_json ? cJSON_Parse(j->limits_json) : cJSON_CreateObject();
	if (o == NULL)
		return -ENOMEM;
	added = 0;
	for (int i = 0; i < LIMIT_COUNT; i++)
		if (dflt[i] > 0 && !cJSON_HasObjectItem(o, names[i])) {
			cJSON_AddNumberToObject(o, names[i], (double)dflt[i]);
			added = 1;
		}
	if (added) {
		free(j->limits_json);
		j->limits_json = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	return added && j->limits_json == NULL ? -ENOMEM : 0;
}

static int
plan_all(struct server *srv, struct job *jobs, size_t n, int batch,
    int64_t now, struct request *req, size_t *waiting)
{
	struct api_error	 e;
	char			 where[24] = "";

	*waiting = 0;
	for (size_t i = 0; i < n; i++) {
		if (batch)
			snprintf(where, sizeof(where), "[%zu].", i);
		if (plan(srv, &jobs[i], now, where, &e) < 0) {
			reply_error(req, &e);
			return -EINVAL;
		}
		if (default_limits(srv, &jobs[i]) < 0) {
			reply_errno(req, -ENOMEM);
			return -ENOMEM;
		}
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
	rc = store_idem_put(srv->store, key, sha, ids, batch, now);
	free(ids);
	return rc;
}

static int
submit(struct server *srv, struct job *jobs, size_t n, int batch,
    const char *tmp, const char *key, const char *sha, struct request *req)
{
	struct core	*c = srv->core;
	int64_t		 now = clock_now_ms();
	struct pending	*p;
	const char	*marked = NULL;
	size_t		 waiting;
	int		 rc;

	if (srv->draining || space_full(srv)) {
		rc = srv->draining ? -ESHUTDOWN : -ENOSPC;
		goto fail;
	}
	if (plan_all(srv, jobs, n, batch, now, req, &waiting) < 0 ||
	    backpressure(srv, waiting, req) < 0) {
		spec_free_jobs(jobs, n);
		return API_DONE;
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
	for (size_t i = 0; i < n; i++) {
		struct job	*j = &jobs[i];

		change_event(srv, change_add(c, j->id, -1, j->state, j->queue), j);
		/* A batch is mostly one queue: mark it once. */
		if (j->state == JOB_QUEUED &&
		    (marked == NULL || strcmp(marked, j->queue) != 0)) {
			runq_mark(srv, j->queue);
			marked = j->queue;
		}
		if (j->state == JOB_SCHEDULED && j->deps_left == 0)
			delay_arm(srv, j->run_at);
	}
	p = pending_add(c, P_SUBMIT, req, 0);
	p->jobs = jobs;
	p->njobs = n;
	p->batch = batch;
	p->upload = tmp != NULL;
	c->runnable = 1;
	core_dirty(srv);
	return API_PENDING;
fail:
	spec_free_jobs(jobs, n);
	return reply_errno(req, rc);
}

int
core_submit(struct server *srv, struct job *jobs, size_t n, int batch,
    struct request *req)
{
	return submit(srv, jobs, n, batch, NULL, NULL, NULL, req);
}

int
core_submit_upload(struct server *srv, struct job *job, const char *tmp_path,
    const char *key, const char *request_sha, struct request *req)
{
	if (key)
		return core_submit_idem(srv, key, request_sha, job, 1, 0,
		    tmp_path, req);
	return submit(srv, job, 1, 0, tmp_path, NULL, NULL, req);
}

int
core_submit_idem(struct server *srv, const char *key, const char *body_sha,
    struct job *jobs, size_t n, int batch, const char *tmp_path,
    struct request *req)
{
	struct pending	*p;
	char		 sha[80], *json = NULL;
	uint64_t	*ids;
	size_t		 nids;
	int		 was_batch, rc;

	rc = store_idem_get(srv->store, key, clock_now_ms() - IDEM_KEEP_MS, sha,
	    sizeof(sha), &json, &was_batch);
	if (rc == 0)
		return submit(srv, jobs, n, batch, tmp_path, key, body_sha, req);
	spec_free_jobs(jobs, n);
	if (rc < 0)
		return reply_errno(req, rc);
	if (strcmp(sha, body_sha) != 0) {
		free(json);
		return reply_fail(req, 422, "idempotency_mismatch",
		    "Idempotency-Key", "this Idempotency-Key was used for "
		    "another request in the last 24 hours");
	}
	rc = job_ids_parse(json, &ids, &nids);
	free(json);
	if (rc < 0)
		return reply_errno(req, rc);
	/* Answered after this turn's commit, like the request that made them. */
	p = pending_add(srv->core, P_REPLAY, req, 0);
	p->ids = ids;
	p->njobs = nids;
	p->batch = was_batch;
	core_dirty(srv);
	return API_PENDING;
}
