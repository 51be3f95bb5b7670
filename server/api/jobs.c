/* /api/v1/jobs: submit, list, get (with ?wait=), cancel, retry, delete. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/filter.h"
#include "api/idem.h"
#include "api/render.h"
#include "api/spec.h"
#include "core/action.h"
#include "core/core.h"
#include "core/events.h"
#include "core/submit.h"
#include "http/jsonw.h"
#include "http/reply.h"
#include "pool/pool.h"
#include "server.h"
#include "store/store.h"

#define LIST_DEFAULT	50
#define LIST_MAX	1000
#define WAIT_MAX_S	300

int
api_jobs_submit(struct request *req)
{
	struct api_error	 e;
	struct job		*jobs;
	size_t			 n;
	int			 batch;

	struct core_error	 err;
	const char		*key = req->idempotency_key;
	char			 sha[65];
	int			 rc;

	if (api_json_body(req) < 0 || !idem_key_check(req))
		return API_DONE;
	if (req->srv->draining)
		return reply_errno(req, -ESHUTDOWN);
	if (spec_parse_body(req->body ? req->body : "", req->body_len, &jobs,
	    &n, &batch, &e) < 0)
		return reply_error(req, &e);
	for (size_t i = 0; i < n; i++) {
		char where[24] = "";

		if (spec_default_limits(req->srv->cfg->limits, &jobs[i]) < 0) {
			job_free_all(jobs, n);
			return reply_errno(req, -ENOMEM);
		}
		if (batch)
			snprintf(where, sizeof(where), "[%zu].", i);
		if (api_hooks_check(req, jobs[i].webhooks_json, where) < 0) {
			job_free_all(jobs, n);
			return API_DONE;
		}
	}
	if (key == NULL) {
		rc = submit_jobs(req->srv, jobs, n, batch, api_submitted, req,
		    &err);
		return api_pending(req, rc, &err);
	}
	idem_sha(req->body ? req->body : "", req->body_len, sha);
	rc = submit_idem(req->srv, key, sha, jobs, n, batch, api_submitted,
	    req, &err);
	return api_pending(req, rc, &err);
}

static void
jobs_json(struct jsonw *w, struct server *srv, struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].state == JOB_RUNNING)
			pool_job_live(srv->pool, jobs[i].id, &jobs[i]);
		if (i)
			jsonw_lit(w, ",");
		render_job(w, &jobs[i]);
	}
}

/* The filters of the listing, in the order their errors are reported. */
static const char *const filter_keys[] = {
	"state", "type", "schedule", "queue", "q", "name", "created_after",
	"created_before", "finished_after", "finished_before", "exit_code",
	NULL
};

int
api_jobs_list(struct request *req)
{
	struct api_filter	 af;
	struct api_error	 e;
	struct job		*jobs;
	size_t			 n;
	uint64_t		 next;
	int64_t			 limit, before;
	struct jsonw		 w;
	int			 rc;

	filter_init(&af, req->srv->cfg->list_window);
	for (const char *const *k = filter_keys; *k; k++) {
		const char *v = request_query(req, *k);

		if (v && filter_set(&af, *k, v, &e) < 0)
			return reply_error(req, &e);
	}
	if (api_query_int(req, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit) < 0 ||
	    api_query_int(req, "before", 1, INT64_MAX, 0, &before) < 0)
		return API_DONE;
	af.f.limit = (int)limit;
	af.f.before = (uint64_t)before;
	if ((rc = store_list(req->srv->store, &af.f, &jobs, &n, &next)) < 0)
		return reply_errno(req, rc);
	jsonw_init(&w);
	jsonw_lit(&w, "{\"jobs\":[");
	jobs_json(&w, req->srv, jobs, n);
	jsonw_lit(&w, "],\"next\":");
	if (next)
		jsonw_int(&w, (int64_t)next);
	else
		jsonw_lit(&w, "null");
	jsonw_lit(&w, "}");
	job_free_all(jobs, n);
	return reply_jw(req, 200, &w);
}

/* ?wait= in seconds, fractional allowed, 0 ... WAIT_MAX_S. */
static int
wait_param(struct request *req, int64_t *ms)
{
	const char	*v = request_query(req, "wait");
	char		*end;
	double		 d;

	*ms = 0;
	if (v == NULL)
		return 0;
	d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || !isfinite(d) || d < 0 ||
	    d > WAIT_MAX_S) {
		reply_fail(req, 400, "invalid_field", "wait", "wait must be a "
		    "number of seconds in 0 ... %d", WAIT_MAX_S);
		return -1;
	}
	*ms = (int64_t)llround(d * 1000);
	return 0;
}

int
api_jobs_get(struct request *req)
{
	struct job	 j;
	struct jsonw	 w;
	uint64_t	 id;
	int64_t		 wait_ms;
	int		 rc;

	if (api_path_id(req, &id) < 0 || wait_param(req, &wait_ms) < 0)
		return API_DONE;
	if ((rc = core_job_get(req->srv, id, &j)) < 0)
		return reply_errno(req, rc);
	if (wait_ms > 0 && !job_state_finished(j.state)) {
		job_clear(&j);
		if (events_wait(req->srv, id, wait_ms, api_job_done, req) == 0)
			return API_PENDING;
		return api_reply_job(req, 200, id);	/* stopping */
	}
	jsonw_init(&w);
	render_job(&w, &j);
	job_clear(&j);
	return reply_jw(req, 200, &w);
}

int
api_jobs_cancel(struct request *req)
{
	struct core_error	 err;
	uint64_t		 id;
	int			 rc;

	if (api_path_id(req, &id) < 0)
		return API_DONE;
	rc = action_cancel(req->srv, id, api_job_done, req, &err);
	if (rc == 1)
		return api_reply_job(req, 200, id);
	return api_pending(req, rc, &err);
}

int
api_jobs_retry(struct request *req)
{
	struct core_error	 err;
	uint64_t		 id;

	if (api_path_id(req, &id) < 0)
		return API_DONE;
	return api_pending(req, action_retry(req->srv, id, api_job_done, req,
	    &err), &err);
}

/* A deleted job answers 204, no body. */
static void
deleted(void *arg, const struct core_result *r)
{
	struct request *req = arg;

	if (r->rc < 0)
		reply_errno(req, r->rc);
	else
		response_body(&req->resp, 204, NULL, NULL, 0);
	request_done(req);
}

int
api_jobs_delete(struct request *req)
{
	struct core_error	 err;
	uint64_t		 id;

	if (api_path_id(req, &id) < 0)
		return API_DONE;
	return api_pending(req, action_delete(req->srv, id, 0, deleted, req, &err),
	    &err);
}
