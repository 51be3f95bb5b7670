/*
 * The PostgreSQL backend's cluster statements (store/cluster.h), for
 * store/pg_node.c and store/pg_claim.c only: their table, prepared on
 * the connection the first time each runs and again after a reconnect,
 * and run through pg.h's helpers, which log errors and keep the turn's
 * transaction honest.
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
	CL_DUE,
	CL_IDEM_TAKE,
	CL_COUNTS_ADD,
	CL_COUNTS,
	CL_MINUTES,
	CL_MINUTES_PURGE,
	CL_FINISH,
	CL_DEPENDENTS,
	CL_STMT_COUNT
};

/* The SQL of each (pg_node.c's table). */
extern const char *const cl_sql[CL_STMT_COUNT];

/*
 * Runs cluster statement id as pg_exec does (p consumed, *res set when
 * asked for), preparing it first if this connection has not.
 */
int	cl_exec(struct pg_store *, enum cl_stmt_id, struct pg_params *p,
	    PGresult **res);
/* Statements cl_exec_all sends together, at most. */
#define CL_EXEC_MAX	4

/*
 * cl_exec for n statements in one round trip, each run after the one
 * before (with a snapshot of its own): ids[i] with ps[i] (NULL: none;
 * consumed) into res[i].  Returns 0 with every res[i] set (PQclear
 * them), or the code of the first that failed (logged, applied to the
 * turn) with every res[i] NULL.
 */
int	cl_exec_all(struct pg_store *, int n, const enum cl_stmt_id *ids,
	    struct pg_params **ps, PGresult **res);
/*
 * Holds statement id back until the turn's next round trip (pg_defer):
 * for writes whose answer nobody waits for.  p consumed.  0 or a code.
 */
int	cl_defer(struct pg_store *, enum cl_stmt_id, struct pg_params *p);
/* cl_exec, then the number of rows the statement changed, or a code. */
int	cl_changes(struct pg_store *, enum cl_stmt_id, struct pg_params *p);
/* cl_exec, collecting column 0 of every row as ids (pg_ids' contract). */
int	cl_ids(struct pg_store *, enum cl_stmt_id, struct pg_params *p,
	    uint64_t **ids, size_t *n);

#endif
