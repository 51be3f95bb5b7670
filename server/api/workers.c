/* GET /api/v1/workers: the pool, one entry per worker slot. */
#include "api/api.h"
#include "clock.h"
#include "http/reply.h"
#include "pool/pool.h"
#include "server.h"

static void
add_worker(void *arg, const struct worker_info *w)
{
	cJSON	*o = cJSON_CreateObject();
	char	 ts[CLOCK_TEXT_SIZE];

	cJSON_AddNumberToObject(o, "id", w->id);
	if (w->pid > 0)
		cJSON_AddNumberToObject(o, "pid", w->pid);
	else
		cJSON_AddNullToObject(o, "pid");
	cJSON_AddStringToObject(o, "state", w->state);
	if (w->job)
		cJSON_AddNumberToObject(o, "job", (double)w->job);
	else
		cJSON_AddNullToObject(o, "job");
	clock_format_ms(w->started_at, ts);
	cJSON_AddStringToObject(o, "started_at", ts);
	cJSON_AddNumberToObject(o, "jobs_done", (double)w->jobs_done);
	cJSON_AddItemToArray(arg, o);
}

int
api_workers_list(struct request *req)
{
	cJSON *root = cJSON_CreateObject();

	pool_each(req->srv->pool, add_worker,
	    cJSON_AddArrayToObject(root, "workers"));
	return reply_json(req, 200, root);
}
