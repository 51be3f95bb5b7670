/*
 * GET /api/v1/stats: counts, uptime, the last hour's finishes and
 * failures, retrying jobs, the oldest queued job's age, the latency from
 * queued to started, the pool.
 */
#include <stdlib.h>

#include "api/api.h"
#include "clock.h"
#include "core/cluster.h"
#include "core/counts.h"
#include "http/reply.h"
#include "pool/pool.h"
#include "server.h"
#include "store/overview.h"

static int
ms_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample with at least pct% at or below it. */
static void
add_percentile(cJSON *o, const char *key, const int64_t *v, size_t n, int pct)
{
	size_t rank = (n * (size_t)pct + 99) / 100;

	if (n == 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)v[rank ? rank - 1 : 0]);
}

/* The overview's fields (store/overview.h); 0 or a code. */
static int
add_overview(cJSON *root, struct server *srv, int64_t now)
{
	struct store_overview	 o;
	cJSON			*arr, *lat;
	int			 rc;

	if ((rc = store_overview(srv->store, now, &o)) < 0) {
		free(o.latency_ms);
		return rc;
	}
	cJSON_AddNumberToObject(root, "retrying", (double)o.retrying);
	cJSON_AddNumberToObject(root, "dead",
	    (double)srv->counts->by_state[JOB_FAILED]);
	if (o.has_oldest)
		cJSON_AddNumberToObject(root, "oldest_queued_age_s",
		    (double)(now > o.oldest_queued_ms ? now -
		    o.oldest_queued_ms : 0) / 1000.0);
	else
		cJSON_AddNullToObject(root, "oldest_queued_age_s");
	arr = cJSON_AddArrayToObject(root, "failed_per_minute");
	for (int i = 0; i < OVERVIEW_MINUTES; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)o.failed[i]));
	if (o.nlatency > 1)
		qsort(o.latency_ms, o.nlatency, sizeof(*o.latency_ms), ms_cmp);
	lat = cJSON_AddObjectToObject(root, "latency");
	cJSON_AddNumberToObject(lat, "window_s", OVERVIEW_LATENCY_MS / 1000);
	cJSON_AddNumberToObject(lat, "samples", (double)o.nlatency);
	add_percentile(lat, "p50_ms", o.latency_ms, o.nlatency, 50);
	add_percentile(lat, "p95_ms", o.latency_ms, o.nlatency, 95);
	free(o.latency_ms);
	return 0;
}

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
	if ((rc = add_overview(root, srv, now)) < 0) {
		cJSON_Delete(root);
		return reply_errno(req, rc);
	}
	return reply_json(req, 200, root);
}
