/*
 * GET /api/v1/workers: the pool, one entry per worker slot.  In a
 * cluster, also the node answering ("node") and every node of the
 * cluster ("nodes": alive, last heartbeat, leader, and its worker slots
 * with the jobs running there, as the database knows them).
 */
#include <errno.h>
#include <string.h>

#include "api/api.h"
#include "clock.h"
#include "core/cluster.h"
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

struct nodes {
	cJSON		*arr;
	const char	*self;
};

static cJSON *
slot_json(int id, uint64_t job)
{
	cJSON *o = cJSON_CreateObject();

	if (id > 0)
		cJSON_AddNumberToObject(o, "id", id);
	else
		cJSON_AddNullToObject(o, "id");
	cJSON_AddStringToObject(o, "state", job ? "busy" : "idle");
	if (job)
		cJSON_AddNumberToObject(o, "job", (double)job);
	else
		cJSON_AddNullToObject(o, "job");
	return o;
}

/* n->jobs is sorted by worker: the first job of a slot in range has it. */
static int
slot_holder(const struct node_row *n, int i)
{
	int w = n->jobs[i].worker;

	return w >= 1 && w <= n->workers && (i == 0 || n->jobs[i - 1].worker != w);
}

/*
 * A node's worker slots as the database knows them: busy with the job
 * it records there, else idle (only the node itself knows whether that
 * slot's process is up).  A job on no slot of the node (its --workers
 * changed, or its slot unknown) gets an entry of its own.
 */
static void
add_slots(cJSON *o, const struct node_row *n)
{
	cJSON	*arr = cJSON_AddArrayToObject(o, "slots");
	int	 k = 0;

	for (int id = 1; id <= n->workers; id++) {
		uint64_t job = 0;

		while (k < n->running && n->jobs[k].worker < id)
			k++;
		if (k < n->running && n->jobs[k].worker == id)
			job = n->jobs[k].id;
		cJSON_AddItemToArray(arr, slot_json(id, job));
	}
	for (int i = 0; i < n->running; i++)
		if (!slot_holder(n, i))
			cJSON_AddItemToArray(arr, slot_json(n->jobs[i].worker,
			    n->jobs[i].id));
}

static void
add_node(void *arg, const struct node_row *n)
{
	struct nodes	*ns = arg;
	cJSON		*o = cJSON_CreateObject();
	char		 ts[CLOCK_TEXT_SIZE];

	cJSON_AddStringToObject(o, "id", n->id);
	cJSON_AddStringToObject(o, "host", n->host);
	cJSON_AddNumberToObject(o, "pid", n->pid);
	if (n->listen[0])
		cJSON_AddStringToObject(o, "listen", n->listen);
	else
		cJSON_AddNullToObject(o, "listen");
	cJSON_AddNumberToObject(o, "workers", n->workers);
	cJSON_AddNumberToObject(o, "running", n->running);
	cJSON_AddBoolToObject(o, "alive", n->alive);
	cJSON_AddBoolToObject(o, "leader", n->leader);
	cJSON_AddBoolToObject(o, "self", strcmp(n->id, ns->self) == 0);
	clock_format_ms(n->started_at, ts);
	cJSON_AddStringToObject(o, "started_at", ts);
	clock_format_ms(n->beat_at, ts);
	cJSON_AddStringToObject(o, "beat_at", ts);
	cJSON_AddNumberToObject(o, "beat_age_seconds",
	    (double)n->beat_age_ms / 1000.0);
	cJSON_AddNumberToObject(o, "timeout_seconds",
	    (double)n->timeout_ms / 1000.0);
	add_slots(o, n);
	cJSON_AddItemToArray(ns->arr, o);
}

int
api_workers_list(struct request *req)
{
	struct server	*srv = req->srv;
	cJSON		*root = cJSON_CreateObject();
	struct nodes	 ns;
	int		 rc;

	pool_each(srv->pool, add_worker, cJSON_AddArrayToObject(root, "workers"));
	if ((ns.self = cluster_node(srv)) != NULL) {
		cJSON_AddStringToObject(root, "node", ns.self);
		ns.arr = cJSON_AddArrayToObject(root, "nodes");
		if ((rc = cluster_nodes(srv, add_node, &ns)) < 0) {
			cJSON_Delete(root);
			if (rc == -ENOTCONN)
				return reply_errno(req, rc);
			return reply_fail(req, 503, "unavailable", NULL,
			    "the cluster's nodes cannot be read from the "
			    "database");
		}
	}
	return reply_json(req, 200, root);
}
