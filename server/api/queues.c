/*
 * GET /api/v1/queues: every queue with its settings and depth;
 * PATCH /api/v1/queues/{name}: pause it, or limit how many of its jobs
 * run at once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "api/spec.h"
#include "core/action.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/counts.h"
#include "http/reply.h"
#include "server.h"
#include "store/delivery.h"

/* A queue object with its webhooks (null: none). */
static cJSON *
queue_json(struct server *srv, const char *name, const struct queue_counts *q)
{
	cJSON	*o = render_queue(name, q), *h = NULL;
	char	*json = NULL;

	if (o && store_hook_queue_get(srv->store, name, &json) == 0 && json)
		h = cJSON_Parse(json);
	free(json);
	cJSON_AddItemToObject(o, "webhooks", h ? h : cJSON_CreateNull());
	return o;
}

int
api_queues_list(struct request *req)
{
	const struct counts	*t = req->srv->counts;
	cJSON			*root, *arr;
	int			 rc;

	if ((rc = cluster_counts(req->srv, CLUSTER_COUNTS_FRESH_MS)) < 0)
		return reply_errno(req, rc);
	root = cJSON_CreateObject();
	arr = cJSON_AddArrayToObject(root, "queues");
	for (int i = 0; i < t->nqueues; i++)
		cJSON_AddItemToArray(arr, queue_json(req->srv,
		    t->queues[i].name, &t->queues[i]));
	return reply_json(req, 200, root);
}

/* The queue as its new settings left it. */
static void
queue_set(void *arg, const struct core_result *r)
{
	struct request *req = arg;

	if (r->rc < 0)
		reply_errno(req, r->rc);
	else
		reply_json(req, 200, queue_json(req->srv, r->queue,
		    counts_queue(req->srv->counts, r->queue, 0)));
	request_done(req);
}

int
api_queues_patch(struct request *req)
{
	struct api_error	 e;
	struct core_error	 err;
	const cJSON		*v;
	cJSON			*root;
	char			*hooks = NULL;
	int			 paused = -1, concurrency = -1, has_hooks = 0;

	if (api_json_body(req) < 0)
		return API_DONE;
	if (!spec_queue_valid(req->path_name))
		return reply_fail(req, 400, "invalid_field", "name", "a queue "
		    "name is " SPEC_QUEUE_RULE);
	if (spec_check_text(req->body ? req->body : "", req->body_len, &e) < 0)
		return reply_error(req, &e);
	if ((root = cJSON_ParseWithLength(req->body, req->body_len)) == NULL ||
	    !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return reply_fail(req, 400, "invalid_json", NULL, "send a JSON "
		    "object: {\"paused\": bool, \"concurrency\": n or null}");
	}
	cJSON_ArrayForEach(v, root) {
		if (strcmp(v->string, "webhooks") == 0) {
			if (spec_webhooks(v, &hooks, &e) < 0) {
				reply_error(req, &e);
				goto out;
			}
			has_hooks = 1;
		} else if (strcmp(v->string, "paused") == 0) {
			if (!cJSON_IsBool(v))
				goto bad_paused;
			paused = cJSON_IsTrue(v);
		} else if (strcmp(v->string, "concurrency") == 0) {
			double d = v->valuedouble;

			if (cJSON_IsNull(v))
				concurrency = 0;
			else if (cJSON_IsNumber(v) && isfinite(d) && d >= 1 &&
			    d <= 1000000 && floor(d) == d)
				concurrency = (int)d;
			else
				goto bad_concurrency;
		} else {
			reply_fail(req, 400, "unknown_field", v->string,
			    "unknown field \"%.64s\" (paused, concurrency, "
			    "webhooks)", v->string);
			goto out;
		}
	}
	cJSON_Delete(root);
	root = NULL;
	if (has_hooks) {
		int rc;

		if (api_hooks_check(req, hooks, "") < 0)
			goto out;
		/* In the turn's transaction, answered with the settings. */
		if ((rc = store_hook_queue_set(req->srv->store, req->path_name,
		    hooks)) < 0) {
			reply_errno(req, rc);
			goto out;
		}
	}
	free(hooks);
	return api_pending(req, action_queue_set(req->srv, req->path_name, paused,
	    concurrency, queue_set, req, &err), &err);
bad_paused:
	reply_fail(req, 400, "invalid_field", "paused", "paused must be true or "
	    "false");
	goto out;
bad_concurrency:
	reply_fail(req, 400, "invalid_field", "concurrency", "concurrency must "
	    "be an integer from 1 to 1000000, or null for no limit");
out:
	cJSON_Delete(root);
	free(hooks);
	return API_DONE;
}
