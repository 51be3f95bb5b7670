/*
 * POST /api/v1/jobs/bulk: cancel, retry or delete many jobs, named by
 * id or by the listing's filters.  Each job goes through the action of
 * its own endpoint (core/action.c: same checks, events, webhooks); the
 * answer gathers each job's result once every one has completed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/filter.h"
#include "api/spec.h"
#include "core/action.h"
#include "core/core.h"
#include "core/result.h"
#include "http/jsonw.h"
#include "http/reply.h"
#include "server.h"
#include "store/store.h"

#define BULK_MAX	10000
#define BULK_PAGE	1000

enum bulk_action {
	BULK_CANCEL,
	BULK_RETRY,
	BULK_DELETE
};

static const char *const action_names[] = {"cancel", "retry", "delete"};

struct bulk;

struct bulk_item {
	struct bulk	*b;
	uint64_t	 id;
	int		 rc;		/* 0 done, else the refusal */
	int		 state;		/* as matched; -1 not found */
	int		 running;	/* a cancel that ends a process group */
	char		 message[REPLY_MESSAGE_MAX];
};

struct bulk {
	struct request		*req;
	enum bulk_action	 action;
	struct bulk_item	*items;
	size_t			 n;
	size_t			 waiting;	/* completions still due */
	int			 issued;	/* every action was asked for */
	int64_t			 matched;
	int64_t			 actionable;	/* dry_run: matched the action fits */
	int			 more;
	int			 dry;
};

static void
bulk_free(struct bulk *b)
{
	if (b == NULL)
		return;
	free(b->items);
	free(b);
}

/* The code and default message of a refusal, as reply_errno words it. */
static const char *
refusal_code(int rc, const char **msg)
{
	switch (rc) {
	case -ENOENT:
		*msg = "no such job";
		return "not_found";
	case -EBUSY:
		*msg = "the action does not fit the job's state";
		return "conflict";
	case -EINVAL:
		*msg = "a dependency is missing";
		return "invalid_dependency";
	case -ESHUTDOWN:
		*msg = "runneld is shutting down";
		return "unavailable";
	case -ENOSPC:
		*msg = "the disk of runneld's data directory is full";
		return "storage_full";
	case -ENOTCONN:
		*msg = "the database (PostgreSQL) cannot be reached";
		return "database_unavailable";
	case -EIO:
		*msg = "storage is unavailable";
		return "unavailable";
	default:
		*msg = "internal error";
		return "internal";
	}
}

static void
render_item(struct jsonw *w, struct server *srv, const struct bulk *b,
    const struct bulk_item *it)
{
	const char	*code, *msg;
	struct job	 j;

	jsonw_lit(w, "{\"id\":");
	jsonw_int(w, (int64_t)it->id);
	if (it->rc == 0) {
		jsonw_lit(w, ",\"ok\":true");
		/* A cancel's outcome is known without another read. */
		if (b->action == BULK_CANCEL) {
			jsonw_lit(w, ",\"state\":");
			jsonw_str(w, job_state_name(it->running ? JOB_RUNNING :
			    JOB_CANCELED));
		} else if (b->action == BULK_RETRY &&
		    core_job_get(srv, it->id, &j) == 0) {
			jsonw_lit(w, ",\"state\":");
			jsonw_str(w, job_state_name(j.state));
			job_clear(&j);
		}
		jsonw_lit(w, "}");
		return;
	}
	code = refusal_code(it->rc, &msg);
	jsonw_lit(w, ",\"ok\":false,\"error\":{\"code\":");
	jsonw_str(w, code);
	jsonw_lit(w, ",\"message\":");
	jsonw_str(w, it->message[0] ? it->message : msg);
	jsonw_lit(w, "}}");
}

static int
bulk_reply(struct bulk *b)
{
	struct request	*req = b->req;
	struct jsonw	 w;
	size_t		 done = 0;

	for (size_t i = 0; i < b->n; i++)
		done += b->items[i].rc == 0;
	jsonw_init(&w);
	jsonw_lit(&w, "{\"action\":");
	jsonw_str(&w, action_names[b->action]);
	jsonw_lit(&w, ",\"matched\":");
	jsonw_int(&w, b->matched);
	if (!b->dry) {
		jsonw_lit(&w, ",\"done\":");
		jsonw_int(&w, (int64_t)done);
	} else {
		jsonw_lit(&w, ",\"actionable\":");
		jsonw_int(&w, b->actionable);
	}
	jsonw_lit(&w, ",\"more\":");
	if (b->more)
		jsonw_lit(&w, "true");
	else
		jsonw_lit(&w, "false");
	jsonw_lit(&w, ",\"results\":[");
	for (size_t i = 0; !b->dry && i < b->n; i++) {
		if (i)
			jsonw_lit(&w, ",");
		render_item(&w, req->srv, b, &b->items[i]);
	}
	jsonw_lit(&w, "]}");
	reply_jw(req, 200, &w);
	bulk_free(b);
	return API_DONE;
}

/* One job's completion, after the turn's commit. */
static void
item_done(void *arg, const struct core_result *r)
{
	struct bulk_item	*it = arg;
	struct bulk		*b = it->b;

	if (r->rc < 0) {
		it->rc = r->rc;
		it->message[0] = '\0';
	}
	if (--b->waiting == 0 && b->issued) {
		struct request *req = b->req;

		bulk_reply(b);
		request_done(req);
	}
}

/* A running job's cancel completes when its process group is gone:
 * the bulk answer does not wait for that. */
static void
ignore_done(void *arg, const struct core_result *r)
{
	(void)arg;
	(void)r;
}

static int
act(struct bulk *b, struct bulk_item *it)
{
	struct server		*srv = b->req->srv;
	struct core_error	 err;
	struct job		 j;
	int			 rc;

	memset(&err, 0, sizeof(err));
	switch (b->action) {
	case BULK_CANCEL:
		/* Only a stored "running" can differ from what reads show. */
		if (it->state == JOB_RUNNING &&
		    core_job_get(srv, it->id, &j) == 0) {
			it->running = j.state == JOB_RUNNING;
			job_clear(&j);
		}
		rc = action_cancel(srv, it->id, it->running ? ignore_done :
		    item_done, it->running ? NULL : it, &err);
		if (rc == 1 || (rc == 0 && it->running))
			return 0;	/* nothing to wait for */
		break;
	case BULK_RETRY:
		rc = action_retry(srv, it->id, item_done, it, &err);
		break;
	default:
		rc = action_delete(srv, it->id, 1, item_done, it, &err);
		break;
	}
	if (rc < 0) {
		it->rc = rc;
		snprintf(it->message, sizeof(it->message), "%s", err.message);
		return 0;
	}
	b->waiting++;
	return 0;
}

/* 1 when the action fits a job in state st (-1: no such job). */
static int
fits(enum bulk_action action, int st)
{
	if (st < 0)
		return 0;
	switch (action) {
	case BULK_CANCEL:
		return action_can_cancel((enum job_state)st);
	case BULK_RETRY:
		return action_can_retry((enum job_state)st);
	default:
		return action_can_delete((enum job_state)st);
	}
}

/* ---- the body ---------------------------------------------------------- */

static int
ids_parse(struct bulk *b, const cJSON *v, struct api_error *e)
{
	const cJSON	*it;
	int		 count = cJSON_GetArraySize(v);
	size_t		 i = 0;

	if (!cJSON_IsArray(v) || count < 1 || count > BULK_MAX)
		return reply_error_set(e, 400, "invalid_field", "ids", "ids must "
		    "be an array of 1 to %d job ids", BULK_MAX);
	if ((b->items = calloc((size_t)count, sizeof(*b->items))) == NULL)
		return reply_error_set(e, 500, "internal", NULL, "out of memory");
	cJSON_ArrayForEach(it, v) {
		double d = it->valuedouble;

		if (!cJSON_IsNumber(it) || !isfinite(d) || d < 1 ||
		    d > 9007199254740991.0 || floor(d) != d)
			return reply_error_set(e, 400, "invalid_field", "ids",
			    "ids must hold positive integers (ids[%zu])", i);
		for (size_t k = 0; k < i; k++)
			if (b->items[k].id == (uint64_t)d)
				return reply_error_set(e, 400, "invalid_field",
				    "ids", "job %llu is given twice",
				    (unsigned long long)d);
		b->items[i].b = b;
		b->items[i].state = -1;
		b->items[i].id = (uint64_t)d;
		i++;
	}
	b->n = i;
	return 0;
}

/*
 * A filter member as the text the listing's query parameter would hold.
 * Returns 0, -EINVAL (not a type the filter takes) or -E2BIG.
 */
static int
member_text(const cJSON *v, char *buf, size_t size)
{
	const cJSON	*it;
	size_t		 o = 0;
	double		 d = v->valuedouble;

	if (cJSON_IsString(v))
		return snprintf(buf, size, "%s", v->valuestring) < (int)size ?
		    0 : -E2BIG;
	if (cJSON_IsNumber(v)) {
		if (!isfinite(d) || floor(d) != d || fabs(d) > 9e15)
			return -EINVAL;
		snprintf(buf, size, "%lld", (long long)d);
		return 0;
	}
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
		return -EINVAL;
	buf[0] = '\0';
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it))
			return -EINVAL;
		o += (size_t)snprintf(buf + o, o < size ? size - o : 0, "%s%s",
		    o ? "," : "", it->valuestring);
		if (o >= size)
			return -E2BIG;
	}
	return 0;
}

static int
filter_parse(struct api_filter *af, const cJSON *v, struct api_error *e)
{
	const cJSON	*m;
	char		 text[512], field[96];

	if (!cJSON_IsObject(v))
		return reply_error_set(e, 400, "invalid_field", "filter",
		    "filter must be an object of the listing's filters");
	cJSON_ArrayForEach(m, v) {
		int rc;

		snprintf(field, sizeof(field), "filter.%.60s", m->string);
		if ((rc = member_text(m, text, sizeof(text))) < 0) {
			if (filter_set(af, m->string, "", e) == 0)
				goto unknown;
			if (rc == -E2BIG)
				return reply_error_set(e, 400, "invalid_field",
				    field, "%s is too long (%zu bytes at most)",
				    field, sizeof(text) - 1);
			return reply_error_set(e, 400, "invalid_field", field,
			    "%s has the wrong type", field);
		}
		if ((rc = filter_set(af, m->string, text, e)) == 0)
			goto unknown;
		if (rc < 0) {
			snprintf(e->field, sizeof(e->field), "%s", field);
			return -EINVAL;
		}
	}
	return 0;
unknown:
	return reply_error_set(e, 400, "unknown_field", field, "unknown filter "
	    "\"%.64s\" (state, queue, type, schedule, q, name, created_after, "
	    "created_before, finished_after, finished_before, exit_code)",
	    m->string);
}

/* The jobs the filter matches, newest first, up to BULK_MAX + 1. */
static int
filter_ids(struct bulk *b, struct api_filter *af)
{
	struct store	*st = b->req->srv->store;
	struct job	*jobs;
	size_t		 n, cap = BULK_MAX + 1;
	uint64_t	 next;
	int		 rc;

	if ((b->items = calloc(cap, sizeof(*b->items))) == NULL)
		return -ENOMEM;
	af->f.limit = BULK_PAGE;
	do {
		if ((rc = store_list(st, &af->f, &jobs, &n, &next)) < 0)
			return rc;
		for (size_t i = 0; i < n && b->n < cap; i++) {
			b->items[b->n].b = b;
			b->items[b->n].state = (int)jobs[i].state;
			b->items[b->n++].id = jobs[i].id;
		}
		job_free_all(jobs, n);
		af->f.before = next;
	} while (next && b->n < cap);
	b->matched = (int64_t)b->n;
	if (b->n > BULK_MAX) {
		b->more = 1;
		b->n = BULK_MAX;
	}
	return 0;
}

static int
body_parse(struct bulk *b, struct api_filter *af, int *by_filter,
    struct api_error *e)
{
	struct request	*req = b->req;
	const cJSON	*v, *ids = NULL, *filter = NULL, *action = NULL;
	cJSON		*root;
	int		 rc = 0;

	if (spec_check_text(req->body ? req->body : "", req->body_len, e) < 0)
		return -EINVAL;
	if ((root = cJSON_ParseWithLength(req->body, req->body_len)) == NULL ||
	    !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return reply_error_set(e, 400, "invalid_json", NULL, "send a JSON "
		    "object: {\"action\": \"cancel\", \"ids\": [...]} or "
		    "{\"action\": ..., \"filter\": {...}}");
	}
	cJSON_ArrayForEach(v, root) {
		if (strcmp(v->string, "action") == 0)
			action = v;
		else if (strcmp(v->string, "ids") == 0)
			ids = v;
		else if (strcmp(v->string, "filter") == 0)
			filter = v;
		else if (strcmp(v->string, "dry_run") == 0) {
			if (!cJSON_IsBool(v)) {
				rc = reply_error_set(e, 400, "invalid_field",
				    "dry_run", "dry_run must be true or false");
				goto out;
			}
			b->dry = cJSON_IsTrue(v);
		} else {
			rc = reply_error_set(e, 400, "unknown_field", v->string,
			    "unknown field \"%.64s\" (action, ids, filter, "
			    "dry_run)", v->string);
			goto out;
		}
	}
	rc = reply_error_set(e, 400, "invalid_field", "action", "action must "
	    "be \"cancel\", \"retry\" or \"delete\"");
	if (action == NULL || !cJSON_IsString(action))
		goto out;
	for (int i = 0; i < 3; i++)
		if (strcmp(action->valuestring, action_names[i]) == 0) {
			b->action = (enum bulk_action)i;
			rc = 0;
		}
	if (rc < 0)
		goto out;
	if ((ids == NULL) == (filter == NULL)) {
		rc = reply_error_set(e, 400, "invalid_field", ids ? "filter" :
		    "ids", "give ids or filter, one of them");
		goto out;
	}
	*by_filter = filter != NULL;
	rc = ids ? ids_parse(b, ids, e) : filter_parse(af, filter, e);
out:
	cJSON_Delete(root);
	return rc;
}

int
api_jobs_bulk(struct request *req)
{
	struct api_filter	 af;
	struct api_error	 e;
	struct bulk		*b;
	int			 by_filter = 0, rc;

	if (api_json_body(req) < 0)
		return API_DONE;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return reply_errno(req, -ENOMEM);
	b->req = req;
	filter_init(&af, req->srv->cfg->list_window);
	if (body_parse(b, &af, &by_filter, &e) < 0) {
		bulk_free(b);
		return reply_error(req, &e);
	}
	if (by_filter && (rc = filter_ids(b, &af)) < 0) {
		bulk_free(b);
		return reply_errno(req, rc);
	}
	if (!by_filter) {
		/* With ids, matched counts those that exist. */
		for (size_t i = 0; i < b->n; i++) {
			struct job j;

			if (core_job_get(req->srv, b->items[i].id, &j) == 0) {
				b->matched++;
				b->items[i].state = (int)j.state;
				job_clear(&j);
			}
		}
	}
	if (b->dry) {
		for (size_t i = 0; i < b->n; i++)
			b->actionable += fits(b->action, b->items[i].state);
		return bulk_reply(b);
	}
	for (size_t i = 0; i < b->n; i++)
		act(b, &b->items[i]);
	b->issued = 1;
	if (b->waiting == 0)
		return bulk_reply(b);
	return API_PENDING;
}
