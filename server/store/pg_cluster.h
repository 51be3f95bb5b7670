/*
 * The PostgreSQL backend's cluster statements (store/cluster.h), for
 * store/pg*.c only: their table (pg_cluster.c), prepared on the
 * connection the first time each runs and again after a reconnect, and
 * run through pg.h's helpers, which log errors and keep the turn's
 * transaction honest; and the functions of the backend's cluster table.
 */
#ifndef RUNNEL_STORE_PG_CLUSTER_H
#define RUNNEL_STORE_PG_CLUSTER_H

#include "store/cluster.h"
#include "store/pg.h"

enum cl_stmt_id {
	CL_JOIN_HOLDER,
	CL_JOIN,
	CL_BEAT,
	CL_LEAVE,
	CL_RESIGN,
	CL_NODES,
	CL_LEASE_RENEW,
	CL_LEASE_HOLDER,
	CL_LEASE_TAKE,
	CL_PRUNE,
	CL_FOLD_COUNTS,
	CL_FOLD_MINUTES,
	CL_ORPHANS,
	CL_FENCE,
	CL_NODE_JOBS,
	CL_CANCEL_REQUEST,
	CL_CANCEL_REQUESTS,
	CL_NOTIFY,
	CL_ROUND_LOCK,
	CL_ROUND_QUEUES,
	CL_CLAIM,
	CL_CLAIM_FIRST,
	CL_DUE,
	CL_IDEM_TAKE,
	CL_COUNTS_ADD,
	CL_COUNTS,
	CL_MINUTES,
	CL_MINUTES_PURGE,
	CL_FINISH,
	CL_DEPENDENTS,
	CL_DEP_STATE,
	CL_STMT_COUNT
};

/* The SQL of each (pg_cluster.c's table). */
extern const char *const pg_cluster_sql[CL_STMT_COUNT];

/*
 * Runs cluster statement id as pg_exec does (p consumed, *res set when
 * asked for), preparing it first if this connection has not.
 */
int	pg_cluster_exec(struct pg_store *, enum cl_stmt_id, struct pg_params *p,
	    PGresult **res);
/* Statements pg_cluster_exec_all sends together, at most. */
#define CL_EXEC_MAX	5

/*
 * pg_cluster_exec for n statements in one round trip, each run after the
 * one before (with a snapshot of its own): ids[i] with ps[i] (NULL:
 * none; consumed) into res[i].  Returns 0 with every res[i] set (PQclear
 * them), or the code of the first that failed (logged, applied to the
 * turn) with every res[i] NULL.
 */
int	pg_cluster_exec_all(struct pg_store *, int n, const enum cl_stmt_id *ids,
	    struct pg_params **ps, PGresult **res);
/*
 * Holds statement id back until the turn's next round trip (pg_defer):
 * for writes whose answer nobody waits for.  p consumed.  0 or a code.
 */
int	pg_cluster_defer(struct pg_store *, enum cl_stmt_id,
	    struct pg_params *p);
/* pg_cluster_exec, then the number of rows it changed, or a code. */
int	pg_cluster_changes(struct pg_store *, enum cl_stmt_id,
	    struct pg_params *p);
/* pg_cluster_exec, collecting column 0 of every row (pg_ids' contract). */
int	pg_cluster_ids(struct pg_store *, enum cl_stmt_id, struct pg_params *p,
	    uint64_t **ids, size_t *n);

/* ---- cluster.h's operations, with its contracts (pg_node.c) ---- */

int	pg_node_session(struct store *, int64_t lock_ms, int64_t idle_ms,
	    int64_t statement_ms);
int	pg_node_join(struct store *, const struct node_row *me,
	    int (*pid_alive)(int pid), struct node_row *holder);
int	pg_node_beat(struct store *, const char *node, int64_t *skew_ms);
int	pg_node_leave(struct store *, const char *node);
/* store_nodes */
int	pg_node_list(struct store *,
	    void (*cb)(void *arg, const struct node_row *), void *arg);
/* store_lease */
int	pg_node_lease(struct store *, const char *node, int64_t ttl_ms,
	    int *elected);
/* store_nodes_prune */
int	pg_node_prune(struct store *, const char *self,
	    void (*cb)(void *arg, const char *node, const char *host, int pid),
	    void *arg);
int	pg_node_orphans(struct store *, int limit,
	    void (*cb)(void *arg, const struct orphan *), void *arg);
int	pg_node_dep_state(struct store *, uint64_t id, int *state);
int	pg_node_fence(struct store *, uint64_t id, const char *node,
	    int attempt);
int	pg_node_finish_fenced(struct store *, const struct job_result *r,
	    const char *node, int attempt, struct finish_next *next);
int	pg_node_jobs(struct store *, const char *node, uint64_t **ids,
	    size_t *n);
int	pg_node_cancel_request(struct store *, uint64_t id, char *node);
int	pg_node_cancel_requests(struct store *, const char *node,
	    uint64_t **ids, size_t *n);
int	pg_node_notify(struct store *, const char *channel,
	    const char *payload);
int	pg_node_counts_fold(struct store *);

/* ---- (pg_claim.c) ---- */

int	pg_claim_round(struct store *, const char *node, struct claim_round *r);
/*
 * Fills r (cleared) from the answers of CL_ROUND_LOCK and
 * CL_ROUND_QUEUES.  Returns 0, -ENOENT when the node's row is gone, or
 * -ENOMEM; r is cleared on failure.
 */
int	pg_claim_round_read(struct claim_round *r, const PGresult *locked,
	    const PGresult *q);
/*
 * The job a claim statement's answer holds, its slot taken from r (when
 * open): 1 with *out filled, 0 when it holds none, or a code.
 */
int	pg_claim_took(struct claim_round *r, const PGresult *res,
	    struct job *out);
int	pg_claim_next(struct store *, const char *node, int worker,
	    int64_t now_ms, struct claim_round *r, struct job *out);
/* store_due_skip */
int	pg_claim_due_skip(struct store *, int64_t now_ms, int limit,
	    void (*cb)(void *arg, uint64_t id, const char *queue), void *arg);
/* store_idem_take */
int	pg_claim_idem_take(struct store *, const char *key, const char *sha,
	    const char *jobs_json, int batch, int64_t now_ms,
	    int64_t since_ms);
/* store_counts_add, store_counts, store_minutes, store_minutes_purge */
int	pg_claim_counts_add(struct store *, const char *node,
	    const struct count_delta *d, size_t nd,
	    const struct minute_delta *m, size_t nm);
int	pg_claim_counts(struct store *,
	    void (*cb)(void *arg, const char *queue, enum job_state, int64_t n),
	    void *arg);
int	pg_claim_minutes(struct store *, int64_t since_ms,
	    void (*cb)(void *arg, int64_t minute_ms, int64_t n), void *arg);
int	pg_claim_minutes_purge(struct store *, int64_t before_ms);

/* ---- (pg_jobs.c) ---- */

/* store_submit_held */
int	pg_submit_held(struct store *, struct job *jobs, size_t n);

#endif
