/* Helpers shared by the API handlers: path ids, query numbers, bodies. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/render.h"
#include "core/core.h"
#include "http/jsonw.h"
#include "http/reply.h"
#include "server.h"
#include "store/job.h"

int
api_digits(const char **s, uint64_t *out)
{
	const char	*p = *s;
	uint64_t	 v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*out = v;
	return 0;
}

/* Strict decimal: digits only, no sign, no spaces, no overflow. */
static int
parse_u64(const char *s, uint64_t *out)
{
	if (s == NULL || api_digits(&s, out) < 0 || *s != '\0')
		return -1;
	return 0;
}

int
api_path_id(struct request *req, uint64_t *id)
{
	if (parse_u64(req->path_id, id) < 0 || *id == 0 ||
	    *id > (uint64_t)INT64_MAX) {
		reply_fail(req, 400, "invalid_field", "id", "job id must be a "
		    "positive integer, not \"%.40s\"", req->path_id ?
		    req->path_id : "");
		return -1;
	}
	return 0;
}

int
api_query_int(struct request *req, const char *key, int64_t lo, int64_t hi,
    int64_t dflt, int64_t *out)
{
	const char	*v = request_query(req, key);
	char		*end;
	long long	 n;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || isspace((unsigned char)*v) || *end != '\0' ||
	    errno || n < lo || n > hi) {
		reply_fail(req, 400, "invalid_field", key, "%s must be an "
		    "integer in %lld ... %lld", key, (long long)lo,
		    (long long)hi);
		return -1;
	}
	*out = n;
	return 0;
}

int
api_json_body(struct request *req)
{
	const char	*ct = req->content_type;
	size_t		 n = strlen("application/json");

	if (ct == NULL || (strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ')))
		return 0;
	reply_fail(req, 415, "unsupported_media_type", NULL, "send JSON with "
	    "Content-Type: application/json, not %.100s", ct);
	return -1;
}

/* ---- the core's answers ------------------------------------------------ */

int
api_refused(struct request *req, int rc, const struct core_error *err)
{
	const char	*msg = err && err->message[0] ? err->message : NULL;
	const char	*field = err && err->field[0] ? err->field : NULL;
	char		 after[24];

	if (msg == NULL)
		return reply_errno(req, rc);
	switch (rc) {
	case -ENOENT:
		return reply_fail(req, 404, "not_found", field, "%s", msg);
	case -EBUSY:
		return reply_fail(req, 409, "conflict", field, "%s", msg);
	case -EINVAL:
		return reply_fail(req, 422, "invalid_dependency", field, "%s",
		    msg);
	case -EEXIST:
		return reply_fail(req, 422, "idempotency_mismatch", field, "%s",
		    msg);
	case -EAGAIN:
		reply_fail(req, 429, "queue_full", field, "%s", msg);
		snprintf(after, sizeof(after), "%lld",
		    (long long)err->retry_after_s);
		response_header(&req->resp, "Retry-After", after);
		return API_DONE;
	default:
		return reply_errno(req, rc);
	}
}

int
api_pending(struct request *req, int rc, const struct core_error *err)
{
	return rc < 0 ? api_refused(req, rc, err) : API_PENDING;
}

int
api_reply_job(struct request *req, int status, uint64_t id)
{
	struct job	 j;
	struct jsonw	 w;
	int		 rc;

	if ((rc = core_job_get(req->srv, id, &j)) < 0)
		return reply_errno(req, rc);
	jsonw_init(&w);
	render_job(&w, &j);
	job_clear(&j);
	return reply_jw(req, status, &w);
}

char *
api_job_json(struct server *srv, uint64_t id, size_t *len)
{
	struct job	 j;
	struct jsonw	 w;

	if (core_job_get(srv, id, &j) < 0)
		return NULL;
	jsonw_init(&w);
	render_job(&w, &j);
	job_clear(&j);
	return jsonw_take(&w, len);
}

void
api_job_done(void *arg, const struct core_result *r)
{
	struct request *req = arg;

	if (r->rc < 0)
		reply_errno(req, r->rc);
	else
		api_reply_job(req, 200, r->id);
	request_done(req);
}

void
api_submitted(void *arg, const struct core_result *r)
{
	struct request	*req = arg;
	struct jsonw	 w;
	char		 loc[64];
	int		 status = r->created ? 201 : 200;

	if (r->rc == -ENOENT && !r->created) {
		reply_fail(req, 404, "not_found", NULL, "the job this "
		    "Idempotency-Key made is gone");
		goto done;
	}
	if (r->rc < 0) {
		reply_errno(req, r->rc);
		goto done;
	}
	jsonw_init(&w);
	if (r->batch) {
		render_jobs(&w, r->jobs, r->njobs);
	} else {
		snprintf(loc, sizeof(loc), "/api/v1/jobs/%llu",
		    (unsigned long long)r->jobs[0].id);
		response_header(&req->resp, "Location", loc);
		render_job(&w, &r->jobs[0]);
	}
	reply_jw(req, status, &w);
done:
	request_done(req);
}
