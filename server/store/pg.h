/*
 * The PostgreSQL backend of the store, for store/pg*.c only: the
 * connection, its statements (each prepared once per connection, at
 * open and again after a reconnect), and the helpers every statement
 * runs through, which map errors to store.h's codes, log them once and
 * keep the turn's transaction honest.  Callers include store/store.h.
 *
 * The turn's transaction (store.h): pg_begin sends BEGIN lazily, writes
 * share it, pg_commit ends it.  PostgreSQL aborts a whole transaction on
 * any error, so a statement that fails inside the turn, outside a
 * savepoint, loses the turn: it is rolled back at once, every later
 * write (pg_begin) returns the same code until pg_commit reports it and
 * starts afresh; reads run outside it, on what is committed, as they do
 * after SQLite rolled a turn back.  Inside store_mark...store_unmark a
 * failed statement leaves the savepoint failed instead: later statements
 * return its code without running until store_unmark rolls back to the
 * savepoint, which recovers the turn (see pg_unmark).
 *
 * A lost connection makes every statement fail with -ENOTCONN (and
 * loses the turn).  Once runneld runs its loop, pg_link.c watches the
 * connection (store_link_start): from the moment it is found lost, every
 * statement fails at once without touching the network, and the
 * connection is made again in the background, step by step on the loop,
 * with back-off; once back, the statements are prepared again, reset_cb
 * is called, and so is the owner's up callback.  Before that (start-up,
 * tools, unit tests) the next pg_begin or pg_ping outside a turn tries
 * PQreset once, blocking (bounded by connect_timeout, which pg_open sets
 * to 5 s unless the connection string or PGCONNECT_TIMEOUT gives one).
 * A connection that broke while idle is found so by the first statement
 * of a turn (BEGIN, the ping): it is made again then, at once (within
 * PG_LINK_INLINE_MS when watched), and that statement sent once more.
 *
 * Statements are sent without blocking and their answers waited for at
 * most answer_ms (pg_answer): a server that stopped answering (hung, or
 * cut off by the network) costs the loop that long once, then its
 * connection is cut and counts as lost.
 *
 * Round trips: a command whose answer nobody waits for (the turn's
 * BEGIN, a savepoint and its release, the writes a turn makes just
 * before its commit) is held back (pg_defer) and goes out with the next
 * statement, or with the COMMIT, in one pipeline: one round trip for
 * all.  A held-back command that fails loses the turn (savepoints or
 * not), and the statement it went out with reports it.  The first
 * statement of a turn carries its BEGIN: when it meets a connection
 * broken while idle, the connection is reset and the statement sent
 * again, as a BEGIN alone was before.
 *
 * Everything here is synchronous and used from the loop thread only.
 */
#ifndef RUNNEL_STORE_PG_H
#define RUNNEL_STORE_PG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store/backend.h"

/*
 * The key of the transaction-level advisory lock that migrations run
 * under, so nodes starting at once migrate one after the other
 * ("runnel" in ASCII).
 */
#define PG_MIGRATE_LOCK		0x72756e6e656cLL

/* A delivery row, in the order pg_hooks.c reads it. */
#define PG_DELIVERY_COLUMNS "id, job_id, url, event, attempt, created_at, " \
	"state, tries, next_at, last_at, last_status, last_error"

/* A schedule row, in the order pg_sched.c reads it. */
#define PG_SCHED_COLUMNS "id, name, cron, timezone, job, overlap, misfire, " \
	"paused, until, created_at, next_at, last_job, waiting"

/* A whole job row, in the order pg_row_job reads it (SQLite's, then node). */
#define PG_JOB_COLUMNS \
	"id, type, name, queue, priority, state, command, argv, env, cwd, " \
	"stdin, timeout_ms, limits, attempts, max_attempts, created_at, " \
	"run_at, started_at, finished_at, exit_code, signal, error, worker, " \
	"stdout_bytes, stderr_bytes, cpu_ms, max_rss_kb, file_name, " \
	"file_size, file_sha256, after, deps_left, schedule_id, scheduled_for, " \
	"webhooks, shell, node"

/* The columns an insert writes, and how many parameters a row takes. */
#define PG_INSERT_COLUMNS "type, name, queue, priority, state, command, " \
	"argv, env, cwd, stdin, timeout_ms, limits, max_attempts, " \
	"created_at, run_at, file_name, file_size, file_sha256, after, " \
	"deps_left, error, finished_at, schedule_id, scheduled_for, webhooks, " \
	"shell"
#define PG_INSERT_PARAMS	26

/*
 * Every prepared statement; the name and SQL of each are in pg.c's
 * table (pg_stmt_name gives the name, which log lines use).  A new
 * statement is one id here and one row there.
 */
enum pg_stmt_id {
	PG_INSERT,		/* job rows, a column an array, RETURNING id */
	PG_GET,
	PG_GET_MANY,		/* rows of $1::bigint[], newest first */
	PG_HEAD,
	PG_CLAIM,		/* RETURNING the claimed row */
	PG_FINISH,
	PG_SET_STATE,
	PG_REQUEUE,
	PG_PROMOTE,
	PG_DELETE,		/* the job and its dependency records */
	PG_LIST_ALL,
	PG_LIST_STATE,
	PG_LIST_QUEUE,
	PG_LIST_TYPE,
	PG_LIST_SCHEDULE,
	PG_RUNNING,
	PG_COUNT,
	PG_FINISHED_SINCE,
	PG_OV_RETRYING,
	PG_OV_OLDEST,
	PG_OV_FAILED,
	PG_OV_FINISHED,
	PG_OV_RUNNING,
	PG_EXPIRED,
	PG_QUEUES,
	PG_QUEUE_SET,
	PG_DEP_ADD,
	PG_DEPENDENTS,
	PG_DEP_DONE,
	PG_NEXT_DUE,
	PG_DUE,
	PG_IDEM_GET,
	PG_IDEM_PUT,
	PG_IDEM_PURGE,
	PG_PING,
	PG_SCHED_ADD,
	PG_SCHED_GET,
	PG_SCHED_ALL,
	PG_SCHED_PUT,
	PG_SCHED_REPLAN,
	PG_SCHED_DELETE,
	PG_SCHED_NEXT,
	PG_SCHED_DUE,
	PG_SCHED_OWED,
	PG_SCHED_ADVANCE,
	PG_SCHED_MADE,
	PG_SCHED_TICK,
	PG_SCHED_TICK_JOB,
	PG_SCHED_TICKS_PURGE,
	PG_HOOK_NEXT,
	PG_HOOK_DUE,
	PG_HOOK_LEASE,
	PG_HOOK_TRIED,
	PG_HOOK_LIST,
	PG_HOOK_TRIES,
	PG_HOOK_QUEUE_SET,
	PG_HOOK_QUEUE_GET,
	PG_STMT_COUNT
};

/* A command held back for the next round trip (pg_defer). */
struct pg_deferred {
	const char	*what;		/* names it in the log */
	char		 name[32];	/* a prepared statement, or "" */
	const char	*sql;		/* else its text: one statement */
	int		 n;		/* parameters, copied */
	char		**values;
	int		*lengths;
	int		*formats;
};

#define PG_DEFER_MAX	16
struct pg_link;
struct pg_store;

/* Cluster statements there are room for (pg_cluster.h's). */
#define PG_CLUSTER_STMT_MAX	32

/*
 * The cluster's part of a connection (pg_cluster.c, pg_node.c): which
 * of its statements this connection has prepared (on first use), and
 * the node session's settings, applied again after a reconnect.
 */
struct pg_cluster {
	unsigned char	 ready[PG_CLUSTER_STMT_MAX];
	int64_t		 lock_ms;
	int64_t		 idle_ms;
	int64_t		 statement_ms;
	/* the reset_cb the session's own one calls after it */
	int		(*next_reset)(struct pg_store *, void *);
	void		*next_arg;
};

struct pg_store {
	struct store	 base;		/* first: store.c's handle */
	PGconn		*conn;
	int		 durable;	/* STORE_DURABLE */
	int		 prepared;	/* the statements exist on conn */
	int		 in_txn;	/* the turn's transaction is open */
	int		 txn_lost;	/* ... and was rolled back by an error */
	int		 txn_error;	/* the code that lost it */
	int		 marks;		/* savepoints open (store_mark) */
	int		 mark_error;	/* a statement in the innermost one
					 * failed: its code, until unmarked */
	struct pg_deferred defer[PG_DEFER_MAX];	/* held back, in order */
	int		 ndefer;
	int		 fresh;		/* the turn's BEGIN is held back: nothing
					 * of the turn reached the server yet */
	uint64_t	 stmts;		/* statements sent or held back so far
					 * (a round read with a finish serves
					 * while this has not moved) */
	uint64_t	 deps_of;	/* the job whose dependents deps holds,
					 * read with its finish; 0: none */
	uint64_t	*deps;
	size_t		 ndeps;
	/*
	 * Called after a reconnect, once the statements are prepared again
	 * (to LISTEN again, say); not for pg_open's first connection.  A
	 * code it returns makes the reconnect fail.  NULL: none.
	 */
	int		(*reset_cb)(struct pg_store *, void *arg);
	void		*reset_arg;
	int64_t		 answer_ms;	/* a statement's answer is waited for
					 * this long at most; 0: for ever */
	int		 answer_cut;	/* an answer took too long: cut */
	struct pg_link	*link;		/* the loop's watch, or NULL */
	struct pg_cluster cl;
};

static inline struct pg_store *
pg_of(const struct store *s)
{
	return (struct pg_store *)s;
}

/* ---- parameters ---- */

#define PG_PARAMS_INLINE	24	/* held without allocating */
#define PG_NUM_SIZE		24	/* the text of an int64, NUL included */

/*
 * The parameters of one statement, in order ($1, $2, ...): text format,
 * but for pg_param_bytes (binary).  Put one on the stack, pg_params_init
 * it, add parameters; pg_exec and friends consume it (run it, then
 * pg_params_clear it, whatever happened).  Adding never fails: running
 * a statement whose parameters could not all be held returns -ENOMEM
 * without sending it.
 */
struct pg_params {
	int		  n;
	int		  cap;
	int		  err;		/* -ENOMEM: a parameter was not held */
	const char	**values;
	int		 *lengths;
	int		 *formats;
	char		(*num)[PG_NUM_SIZE];	/* text of integer params */
	char		**owned;	/* values this struct frees */
	const char	 *values_in[PG_PARAMS_INLINE];
	int		  lengths_in[PG_PARAMS_INLINE];
	int		  formats_in[PG_PARAMS_INLINE];
	char		  num_in[PG_PARAMS_INLINE][PG_NUM_SIZE];
	char		 *owned_in[PG_PARAMS_INLINE];
};

void	pg_params_init(struct pg_params *);
/* Frees what the parameters hold and makes p empty again. */
void	pg_params_clear(struct pg_params *);
/* NULL for v binds SQL NULL.  v is not copied: it must outlive the run. */
void	pg_param_text(struct pg_params *, const char *v);
void	pg_param_int(struct pg_params *, int64_t v);
/* v when present, else SQL NULL. */
void	pg_param_opt(struct pg_params *, int64_t v, int present);
/* len bytes (any, NUL included) as a binary bytea; not copied. */
void	pg_param_bytes(struct pg_params *, const void *v, size_t len);
/* A NUL-terminated text value that the parameters free. */
void	pg_param_owned(struct pg_params *, char *v);
/* ids as a bigint[] literal (copied). */
void	pg_param_ids(struct pg_params *, const uint64_t *ids, size_t n);

/* ---- running statements ---- */

/*
 * The checks before a statement is sent: its parameters all held (else
 * their code), no failed savepoint (else its code), and a connection,
 * its statements prepared when named (else -ENOTCONN, applied to the
 * turn).  0 when it may go.
 */
int	pg_sendable(struct pg_store *, const struct pg_params *p, int named);
/* 1 if res says the statement is not prepared (26000: a new backend). */
int	pg_unknown(const PGresult *res);

/*
 * A statement that is prepared on first use rather than with the
 * connection (the cluster's): prepare(s, id) readies it before each
 * send (0, or a code, logged and applied to the turn), and forget(s) is
 * called when the server no longer knows it.
 */
struct pg_prep {
	int	(*prepare)(struct pg_store *, int id);
	void	(*forget)(struct pg_store *);
	int	 id;
};

/*
 * What every statement runs through: prepared statement name (else sql,
 * as pg_exec_sql) with the parameters p (NULL: none), readied by prep
 * first (NULL: prepared with the connection); what names it in the log.
 * pg_exec's contract.
 */
int	pg_run(struct pg_store *, const char *what, const char *name,
	    const char *sql, const struct pg_prep *prep, struct pg_params *p,
	    PGresult **res);
/* pg_run, then the number of rows it changed, or a code. */
int	pg_run_changes(struct pg_store *, const char *what, const char *name,
	    const struct pg_prep *prep, struct pg_params *p);
/* pg_run, collecting column 0 of every row as ids (pg_ids' contract). */
int	pg_run_ids(struct pg_store *, const char *what, const char *name,
	    const struct pg_prep *prep, struct pg_params *p, uint64_t **ids,
	    size_t *n);

/*
 * Runs prepared statement id with the parameters p (NULL: none), and
 * consumes p.  Returns 0 with *res set to its result (PQclear it; res
 * may be NULL when the rows are not wanted), or a code with *res NULL:
 * the error is logged once here, mapped by pg_code, and applied to the
 * turn as the top of this file says.  Inside a failed savepoint or a
 * lost connection it returns the code without sending anything.  It
 * does not begin the turn: a write calls pg_begin first (which also
 * returns a lost turn's code), a read runs in the turn if one is open,
 * else on its own.
 */
int	pg_exec(struct pg_store *, enum pg_stmt_id id, struct pg_params *p,
	    PGresult **res);
/*
 * pg_exec for SQL that is not prepared (one statement if p is given;
 * several separated by ';' when p is NULL); what names it in the log.
 */
int	pg_exec_sql(struct pg_store *, const char *what, const char *sql,
	    struct pg_params *p, PGresult **res);
/*
 * Holds back a statement whose answer nobody waits for until the next
 * round trip (the top of this file): prepared statement name (NULL: sql,
 * one statement, in static storage) with the parameters p (NULL: none),
 * which are copied and consumed.  Returns 0; or, holding nothing, the
 * code of a failed savepoint, -ENOMEM when the parameters could not be
 * held (as pg_exec would, without touching the turn), or the code of
 * the turn lost by sending the full queue on ahead (pg_defer_flush).
 */
int	pg_defer(struct pg_store *, const char *what, const char *name,
	    const char *sql, struct pg_params *p);
/*
 * Keeps the dependents of job id (the job_id column of res) for the
 * pg_dependents that follows; the next statement sent, or the end of
 * the turn, forgets them.  0 or -ENOMEM.
 */
int	pg_deps_keep(struct pg_store *, uint64_t id, const PGresult *res);
void	pg_deps_forget(struct pg_store *);
/* Drops what is held back (the turn ended without sending it). */
void	pg_defer_clear(struct pg_store *);
/* Sends what is held back now, alone.  0 or the code of the lost turn. */
int	pg_defer_flush(struct pg_store *);
/*
 * The held-back commands, then prepared statement name (or sql, one
 * statement, with p or none), in one round trip; p is not consumed.
 * What pg_run and pg_cluster_exec_all send through.  Returns the statement's
 * result (NULL: out of memory, or the connection failed) with *early
 * NULL; or, when a held-back command failed, its result (an error) with
 * *early naming it: the statement did not run.  Returns NULL with
 * *early NULL and *again set when the connection was found broken by
 * the turn's first statement and reset: nothing of the turn reached
 * it; prepare and send again.  Answers are waited for as pg_answer
 * does, answer_ms at most for the whole round trip.
 */
PGresult *pg_send(struct pg_store *, const char *what, const char *name,
	    const char *sql, const struct pg_params *p, const char **early,
	    int *again);
/* A statement for pg_send_all: prepared name, else sql with p or none. */
struct pg_stmt {
	const char		*name;
	const char		*sql;
	const struct pg_params	*p;
};
/*
 * pg_send for n statements (n may be 0: what is held back alone), in one
 * round trip; each runs after the one before, with a snapshot of its
 * own.  res[i] gets the result of st[i] (res has room for at least one):
 * returns 0.  When a held-back command failed, returns 1 with its error
 * in res[0], *early naming it, and no statement run.  *again: in,
 * whether a broken connection may be reset (the turn's first round
 * trip); out, whether it was: every res[i] NULL, send again.
 */
int	pg_send_all(struct pg_store *, const char *what,
	    const struct pg_stmt *st, int n, PGresult **res, const char **early,
	    int *again);
/*
 * pg_fail for a held-back command that failed (pg_send's *early): the
 * turn is lost, inside a savepoint or not.
 */
int	pg_fail_early(struct pg_store *, const char *what, PGresult *res);

/* The parameters $1..$12 of a finish (pg_jobs.c). */
void	pg_finish_params(struct pg_params *, const struct job_result *);
/* The parameters $1..$5 of an idempotency key's record (pg_flow.c). */
void	pg_idem_params(struct pg_params *, const char *key, const char *sha,
	    const char *jobs_json, int batch, int64_t now_ms);
/* Calls cb for each (queue, state, count) row of r (pg_queues.c). */
void	pg_count_rows(const PGresult *r, void (*cb)(void *, const char *,
	    enum job_state, int64_t), void *arg);

/* pg_exec, then 0 if it changed one row, none if it changed no row. */
int	pg_change(struct pg_store *, enum pg_stmt_id id, struct pg_params *p,
	    int none);
/* The rows a statement changed, or a code. */
int	pg_changes(struct pg_store *, enum pg_stmt_id id, struct pg_params *p);
/*
 * pg_exec, collecting column 0 of every row into *ids (the caller frees
 * it) and their number into *n.  Returns 0, or a code with *ids NULL and
 * *n 0.
 */
int	pg_ids(struct pg_store *, enum pg_stmt_id id, struct pg_params *p,
	    uint64_t **ids, size_t *n);

/*
 * The store.h code of a result (0 for one that succeeded); res NULL:
 * the call failed before a result (out of memory, or the connection).
 * SQLSTATE class 23 (a constraint) is -EEXIST, 53100 (disk full)
 * -ENOSPC, a lost connection -ENOTCONN, out of memory -ENOMEM, all else
 * -EIO.
 */
int	pg_code(const struct pg_store *, const PGresult *res);
/*
 * Logs what failed with PostgreSQL's message, applies the failure to
 * the turn (lost, or the savepoint failed), PQclears res and returns
 * pg_code.  For code that runs a statement some other way.
 */
int	pg_fail(struct pg_store *, const char *what, PGresult *res);

/*
 * Applies the failure (code) of a statement of the turn: fails the
 * innermost savepoint when the transaction can go back to it, else
 * loses the turn and rolls it back now.  Nothing outside a turn.
 * pg_fail calls it; code that finds a statement's answer wrong may too.
 */
void	pg_turn_failed(struct pg_store *, int code);

/*
 * 0 if the connection works.  A lost one is made again (when no turn is
 * open: see the top of this file) and its statements prepared again;
 * else -ENOTCONN.
 */
int	pg_connected(struct pg_store *);
/*
 * The turn's first round trip found the connection broken: resets it as
 * pg_connected does, keeping the turn and what it holds back (only
 * BEGIN, savepoints and releases, which any connection takes).  0 or a
 * code.
 */
int	pg_reconnect_fresh(struct pg_store *);
/*
 * After a new connection (a reset): non-blocking mode, the session's
 * settings, every statement prepared again, reset_cb.  0 or a code.
 */
int	pg_reconnected(struct pg_store *);

/*
 * The answer to a statement just sent with a PQsend* call (sent is what
 * that call returned), gathered as PQexec does: flushes what is left to
 * send, waits at most s->answer_ms for the answer (else cuts the
 * connection, which then fails the statement as lost) and returns the
 * last result (PQclear it), or NULL when nothing was sent.
 */
PGresult *pg_answer(struct pg_store *, int sent, const char *what);

/* ---- the cluster's statements (pg_cluster.c, pg_cluster.h) ---- */

/* The backend's cluster table (backend.h): pg_ops points to it. */
extern const struct store_cluster_ops pg_cluster_ops;
/* The connection is a new backend: none of them is prepared there. */
void	pg_cluster_forget(struct pg_store *);

/* ---- the loop's watch on the connection (pg_link.c) ---- */

/* A loss found outside a turn is mended at once if it takes no longer. */
#define PG_LINK_INLINE_MS	200

/*
 * A statement found the connection lost (or pg_connected did): from now
 * on statements fail at once, and the connection is made again in the
 * background.  With try_now (no turn open), the first attempt is made
 * at once, for PG_LINK_INLINE_MS at most.  Returns 0 if the connection
 * works again, else -ENOTCONN.  Without a watch: -ENOTCONN, nothing done.
 */
int	pg_link_lost(struct pg_store *, int try_now);
/* 1 while the watched connection is down or being made again. */
int	pg_link_down(const struct pg_store *);
/* store_link_start, _stop, _up and _info (cluster.h), for pg_cluster_ops. */
int	pg_link_start(struct store *, uv_loop_t *, int64_t retry_max_ms,
	    int64_t answer_ms, void (*up)(void *arg), void *arg);
void	pg_link_stop(struct store *);
int	pg_link_up(const struct store *);
void	pg_link_info(const struct store *, struct store_link *);

/* The name statement id is prepared under. */
const char *pg_stmt_name(enum pg_stmt_id);

/* ---- reading results (text format) ---- */

/* Integer column col of row, 0 when NULL. */
int64_t	pg_int(const PGresult *, int row, int col);
/* Integer column col of row, or absent when it is NULL. */
int64_t	pg_opt(const PGresult *, int row, int col, int64_t absent);
/* A copy of text column col (the caller frees it), NULL when NULL. */
char	*pg_str(const PGresult *, int row, int col);
/*
 * Reads row of a result of PG_JOB_COLUMNS into *j (job_clear it after).
 * Returns 0, -EIO if the row is unreadable or -ENOMEM, with *j empty.
 */
int	pg_row_job(const PGresult *, int row, struct job *j);

/* ---- the backend's table (pg.c) and its entries, store.h's contracts ---- */

extern const struct store_ops pg_ops;

extern const struct store_sched_ops pg_sched_ops;
extern const struct store_hook_ops pg_hook_ops;

void	pg_close(struct store *);
int	pg_begin(struct store *);
int	pg_in_txn(const struct store *);
int	pg_commit(struct store *, int sync);
int	pg_mark(struct store *);
/*
 * As store_unmark.  If a statement in the savepoint failed, keep = 1
 * cannot keep its writes: it undoes them as keep = 0 does and returns
 * that statement's code; the turn goes on either way.
 */
int	pg_unmark(struct store *, int keep);
int	pg_ping(struct store *);
int	pg_submit(struct store *, struct job *, size_t, int64_t);
int	pg_get(struct store *, uint64_t, struct job *);
int	pg_claim(struct store *, uint64_t, int, int64_t, struct job *);
int	pg_finish(struct store *, const struct job_result *);
int	pg_set_state(struct store *, uint64_t, enum job_state, enum job_state,
	    const char *, int64_t);
int	pg_requeue(struct store *, uint64_t, enum job_state, int, int);
int	pg_promote(struct store *, uint64_t);
int	pg_delete(struct store *, uint64_t);
int	pg_running(struct store *, uint64_t **, size_t *);
struct store_overview;
int	pg_overview(struct store *, int64_t, struct store_overview *);
int	pg_finished_since(struct store *, int64_t, void (*)(void *, int64_t),
	    void *);
int	pg_expired(struct store *, int64_t, int, void (*)(void *, uint64_t,
	    int), void *);
int	pg_list(struct store *, const struct job_filter *, struct job **,
	    size_t *, uint64_t *);
int	pg_head(struct store *, const char *, uint64_t *, int64_t *);
int	pg_count(struct store *, void (*)(void *, const char *,
	    enum job_state, int64_t), void *);
int	pg_queue_set(struct store *, const char *, int, int);
int	pg_queues(struct store *, void (*)(void *, const char *, int, int),
	    void *);
int	pg_add_deps(struct store *, uint64_t, const uint64_t *, size_t);
int	pg_dependents(struct store *, uint64_t, uint64_t **, size_t *);
int	pg_dep_done(struct store *, uint64_t);
int	pg_next_due(struct store *, int64_t *);
int	pg_due(struct store *, int64_t, int, void (*)(void *, uint64_t,
	    const char *), void *);
int	pg_idem_get(struct store *, const char *, int64_t, char *, size_t,
	    char **, int *);
int	pg_idem_put(struct store *, const char *, const char *, const char *,
	    int, int64_t);
int	pg_idem_purge(struct store *, int64_t);

#endif
