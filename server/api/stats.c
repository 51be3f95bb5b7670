/* GET /api/v1/stats: counts, uptime, the last hour's finishes, the pool. */
#include "api/api.h"
#include "clock.h"
#include "core/cluster.h"
#include "core/counts.h"
#include "http/reply.h"
#include "pool/pool.h"
#include "server.h"

int
api_stats_get(struct request *req)
{
	struct server	*srv = req->srv;
	struct counts	*t = srv->counts;
	int64_t		 now = clock_now_ms(), per[COUNTS_MINUTES], total = 0;
	cJSON		*root, *jobs, *arr, *pool;
	char		 ts[CLOCK_TEXT_SIZE];
	int		 rc;

	if ((rc = cluster_counts(srv, CLUSTER_COUNTS_FRESH_MS)) < 0)
		return reply_errno(req, rc);
	root = cJSON_CreateObject();
	jobs = cJSON_AddObjectToObject(root, "jobs");
	for (int s = 0; s < JOB_STATE_COUNT; s++) {
		cJSON_AddNumberToObject(jobs, job_state_name(s),
		    (double)t->by_state[s]);
		total += t->by_state[s];
	}
	cJSON_AddNumberToObject(root, "total", (double)total);
	clock_format_ms(srv->started_at, ts);
	cJSON_AddStringToObject(root, "started_at", ts);
	cJSON_AddNumberToObject(root, "uptime_seconds",
	    (double)(now - srv->started_at) / 1000.0);
	counts_per_minute(t, now, per);
	arr = cJSON_AddArrayToObject(root, "finished_per_minute");
	for (int i = 0; i < COUNTS_MINUTES; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)per[i]));
	pool = cJSON_AddObjectToObject(root, "workers");
	cJSON_AddNumberToObject(pool, "size", pool_size(srv->pool));
	cJSON_AddNumberToObject(pool, "busy", pool_busy(srv->pool));
	cJSON_AddNumberToObject(pool, "up", pool_up(srv->pool));
	cJSON_AddNumberToObject(root, "submitted_total",
	    (double)t->submitted_total);
	cJSON_AddBoolToObject(root, "draining", srv->draining);
	return reply_json(req, 200, root);
}
