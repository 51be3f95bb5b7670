/* GET /metrics: Prometheus text exposition of the counts and the pool. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/counts.h"
#include "core/events.h"
#include "http/gate.h"
#include "http/reply.h"
#include "pool/pool.h"
#include "server.h"
#include "store/cluster.h"
#include "store/space.h"
#include "vec.h"

struct text {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 oom;
};

static void	put(struct text *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
put(struct text *t, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		if (vec_grow(&t->buf, &t->cap, t->len + (size_t)n + 1, 1) < 0) {
			t->oom = 1;
			return;
		}
	}
}

static void
put_jobs(struct text *t, const struct counts *ty)
{
	put(t, "# HELP runnel_jobs Jobs in the store by state.\n"
	    "# TYPE runnel_jobs gauge\n");
	for (int s = 0; s < JOB_STATE_COUNT; s++)
		put(t, "runnel_jobs{state=\"%s\"} %lld\n", job_state_name(s),
		    (long long)ty->by_state[s]);
	put(t, "# HELP runnel_jobs_submitted_total Jobs submitted since start.\n"
	    "# TYPE runnel_jobs_submitted_total counter\n"
	    "runnel_jobs_submitted_total %llu\n",
	    (unsigned long long)ty->submitted_total);
	put(t, "# HELP runnel_jobs_finished_total Jobs finished since start.\n"
	    "# TYPE runnel_jobs_finished_total counter\n");
	for (int s = JOB_SUCCEEDED; s < JOB_STATE_COUNT; s++)
		put(t, "runnel_jobs_finished_total{state=\"%s\"} %llu\n",
		    job_state_name(s),
		    (unsigned long long)ty->finished_total[s]);
	put(t, "# HELP runnel_queue_depth Jobs waiting to run, by queue.\n"
	    "# TYPE runnel_queue_depth gauge\n");
	for (int i = 0; i < ty->nqueues; i++)
		put(t, "runnel_queue_depth{queue=\"%s\"} %lld\n",
		    ty->queues[i].name,
		    (long long)ty->queues[i].by_state[JOB_QUEUED]);
	put(t, "# HELP runnel_queue_jobs Jobs not finished yet, by queue and "
	    "state.\n# TYPE runnel_queue_jobs gauge\n");
	for (int i = 0; i < ty->nqueues; i++)
		for (int st = JOB_SCHEDULED; st <= JOB_RUNNING; st++)
			put(t, "runnel_queue_jobs{queue=\"%s\",state=\"%s\"} "
			    "%lld\n", ty->queues[i].name, job_state_name(st),
			    (long long)ty->queues[i].by_state[st]);
}

static void
put_duration(struct text *t, const struct counts *ty)
{
	uint64_t cum = 0;

	put(t, "# HELP runnel_job_duration_seconds Run time of finished jobs.\n"
	    "# TYPE runnel_job_duration_seconds histogram\n");
	for (int b = 0; b < COUNTS_BUCKETS; b++) {
		cum += ty->duration_bucket[b];
		if (b == COUNTS_BUCKETS - 1)
			put(t, "runnel_job_duration_seconds_bucket{le=\"+Inf\"} "
			    "%llu\n", (unsigned long long)cum);
		else
			put(t, "runnel_job_duration_seconds_bucket{le=\"%g\"} "
			    "%llu\n", counts_bucket_bounds[b],
			    (unsigned long long)cum);
	}
	put(t, "runnel_job_duration_seconds_sum %.3f\n"
	    "runnel_job_duration_seconds_count %llu\n", ty->duration_sum,
	    (unsigned long long)ty->duration_count);
}

struct node_figures {
	char	 id[NODE_ID_MAX + 1];
	int	 alive;
	int	 workers;
	int	 running;
	double	 beat_age_s;
};

struct nodes {
	struct node_figures	*v;
	size_t			 n, cap;
	int			 oom;
};

static void
add_node(void *arg, const struct node_row *row)
{
	struct nodes		*ns = arg;
	struct node_figures	*f;

	if (vec_grow(&ns->v, &ns->cap, ns->n + 1, sizeof(*ns->v)) < 0) {
		ns->oom = 1;
		return;
	}
	f = &ns->v[ns->n++];
	snprintf(f->id, sizeof(f->id), "%s", row->id);
	f->alive = row->alive;
	f->workers = row->workers;
	f->running = row->running;
	f->beat_age_s = (double)row->beat_age_ms / 1000.0;
}

/*
 * Every node's figures, one metric family after the other (the text
 * format wants a family's samples together).  Node ids are
 * [A-Za-z0-9_.-]: nothing to escape in a label.
 */
static void
put_nodes(struct text *t, const struct nodes *ns)
{
	put(t, "# HELP runnel_cluster_node_up 1 while the node beats within its "
	    "timeout.\n# TYPE runnel_cluster_node_up gauge\n");
	for (size_t i = 0; i < ns->n; i++)
		put(t, "runnel_cluster_node_up{node=\"%s\"} %d\n", ns->v[i].id,
		    ns->v[i].alive);
	put(t, "# HELP runnel_cluster_node_beat_age_seconds Since the node's last "
	    "heartbeat (the database's clock).\n"
	    "# TYPE runnel_cluster_node_beat_age_seconds gauge\n");
	for (size_t i = 0; i < ns->n; i++)
		put(t, "runnel_cluster_node_beat_age_seconds{node=\"%s\"} %.3f\n",
		    ns->v[i].id, ns->v[i].beat_age_s);
	put(t, "# HELP runnel_cluster_node_running Jobs running on the node.\n"
	    "# TYPE runnel_cluster_node_running gauge\n");
	for (size_t i = 0; i < ns->n; i++)
		put(t, "runnel_cluster_node_running{node=\"%s\"} %d\n",
		    ns->v[i].id, ns->v[i].running);
	put(t, "# HELP runnel_cluster_node_workers The node's worker slots: busy "
	    "(running a job) or idle, as the database knows them.\n"
	    "# TYPE runnel_cluster_node_workers gauge\n");
	for (size_t i = 0; i < ns->n; i++) {
		int idle = ns->v[i].workers - ns->v[i].running;

		put(t, "runnel_cluster_node_workers{node=\"%s\",state=\"busy\"} "
		    "%d\nrunnel_cluster_node_workers{node=\"%s\",state=\"idle\"} "
		    "%d\n", ns->v[i].id, ns->v[i].running, ns->v[i].id,
		    idle > 0 ? idle : 0);
	}
}

/* The database as this node sees it (cluster mode). */
static void
put_database(struct text *t, struct server *srv)
{
	struct store_link l;

	store_link_info(srv->store, &l);
	put(t, "# HELP runnel_database_up 1 while this node reaches the "
	    "database; 0: writes get 503 database_unavailable.\n"
	    "# TYPE runnel_database_up gauge\nrunnel_database_up %d\n"
	    "# HELP runnel_database_down_seconds How long the database has "
	    "been unreachable (0 while it is reached).\n"
	    "# TYPE runnel_database_down_seconds gauge\n"
	    "runnel_database_down_seconds %.3f\n"
	    "# HELP runnel_database_outages_total Times the connection to the "
	    "database was lost.\n# TYPE runnel_database_outages_total counter\n"
	    "runnel_database_outages_total %llu\n", l.up,
	    (double)l.down_ms / 1000.0, (unsigned long long)l.outages);
}

/*
 * Cluster mode: which node answers (its counters above are its own; the
 * jobs and queue figures are the cluster's), who leads, and every node's
 * heartbeat and workers.  The nodes are read before anything is written:
 * a failed read leaves their families out, never half of them.
 */
static void
put_cluster(struct text *t, struct server *srv)
{
	const char	*node = cluster_node(srv);
	struct nodes	 ns = {0};

	if (node == NULL)
		return;
	put_database(t, srv);
	put(t, "# HELP runnel_node_info The node answering: its counters are "
	    "its own; job and queue figures are the cluster's.\n"
	    "# TYPE runnel_node_info gauge\nrunnel_node_info{node=\"%s\"} 1\n"
	    "# HELP runnel_cluster_leader 1 while this node holds the leader's "
	    "lease.\n# TYPE runnel_cluster_leader gauge\n"
	    "runnel_cluster_leader %d\n", node, cluster_leader(srv));
	if (cluster_nodes(srv, add_node, &ns) == 0 && !ns.oom)
		put_nodes(t, &ns);
	free(ns.v);
}

int
api_metrics_get(struct request *req)
{
	struct server	*srv = req->srv;
	struct counts	*ty = srv->counts;
	struct text	 t = {0};

	/* Without the database, its last counts (runnel_database_up says). */
	cluster_counts(srv, CLUSTER_COUNTS_FRESH_MS);
	put_jobs(&t, ty);
	put_duration(&t, ty);
	put(&t, "# HELP runnel_http_requests_total HTTP requests answered, by "
	    "status.\n# TYPE runnel_http_requests_total counter\n");
	for (int s = 100; s < 600; s++)
		if (ty->http_by_status[s])
			put(&t, "runnel_http_requests_total{code=\"%d\"} %llu\n",
			    s, (unsigned long long)ty->http_by_status[s]);
	put(&t, "# HELP runnel_worker_restarts_total Workers replaced after "
	    "dying.\n# TYPE runnel_worker_restarts_total counter\n"
	    "runnel_worker_restarts_total %llu\n",
	    (unsigned long long)pool_restarts(srv->pool));
	put(&t, "# HELP runnel_workers Worker processes by state.\n"
	    "# TYPE runnel_workers gauge\n"
	    "runnel_workers{state=\"busy\"} %d\n"
	    "runnel_workers{state=\"up\"} %d\n"
	    "runnel_workers{state=\"configured\"} %d\n",
	    pool_busy(srv->pool), pool_up(srv->pool), pool_size(srv->pool));
	put(&t, "# HELP runnel_reports_waiting Ends of jobs kept until "
	    "the store takes them (the database away, a full disk), or "
	    "until their output is stored.\n"
	    "# TYPE runnel_reports_waiting gauge\nrunnel_reports_waiting %zu\n",
	    core_reports_waiting(srv) + (size_t)pool_draining(srv->pool));
	put(&t, "# HELP runnel_storage_full 1 while the data directory's disk is "
	    "full: no job is taken or started.\n# TYPE runnel_storage_full gauge\n"
	    "runnel_storage_full %d\n", space_full(srv));
	put(&t, "# HELP runnel_storage_free_bytes Free space on the data "
	    "directory's disk.\n# TYPE runnel_storage_free_bytes gauge\n"
	    "runnel_storage_free_bytes %lld\n",
	    (long long)space_free_bytes(srv));
	put(&t, "# HELP runnel_http_connections Open HTTP connections.\n"
	    "# TYPE runnel_http_connections gauge\n"
	    "runnel_http_connections %d\n", gate_connections(srv));
	put_cluster(&t, srv);
	put(&t, "# HELP runnel_event_subscribers Open event streams.\n"
	    "# TYPE runnel_event_subscribers gauge\n"
	    "runnel_event_subscribers %d\n", events_listeners(srv));
	if (t.oom) {
		free(t.buf);
		return reply_fail(req, 500, "internal", NULL, "out of memory");
	}
	response_body(&req->resp, 200, "text/plain; version=0.0.4; "
	    "charset=utf-8", t.buf, t.len);
	return API_DONE;
}
