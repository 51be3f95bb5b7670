/*
 * The store's cluster operations: what nodes sharing one database need
 * beyond store.h.  Only a PostgreSQL store has them (store_clustered):
 * each call goes to the backend's cluster table (backend.h, through
 * store/cluster.c), and a backend without one (SQLite) answers -ENOTSUP.
 * Writes go into the turn's transaction like every other store write.
 * Time that nodes must agree on (heartbeats, the leader's lease, who is
 * dead) is the database's now(), never the caller's clock.
 *
 * The SQL is in store/pg_cluster.c (the statements), store/pg_node.c
 * (nodes, lease, rescue, fences, cancel requests, notifications),
 * store/pg_claim.c (claims, due jobs, idempotency keys, counts) and
 * store/pg_jobs.c (held submissions); schema/postgresql/002_cluster.sql
 * holds the tables.
 */
#ifndef RUNNEL_STORE_CLUSTER_H
#define RUNNEL_STORE_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "store/store.h"

#define NODE_ID_MAX	64
#define NODE_HOST_MAX	255

/* A job running on a node, as the database knows it. */
struct node_job {
	uint64_t	 id;
	int		 worker;	/* its slot there, 1 ... workers; 0 if unknown */
	int64_t		 started_at;	/* the attempt's, ms since the epoch; 0 if unknown */
};

/* A row of the nodes table, as the database sees it now. */
struct node_row {
	char		 id[NODE_ID_MAX + 1];
	char		 host[NODE_HOST_MAX + 1];
	char		 listen[NODE_HOST_MAX + 1];	/* "" if unknown */
	int		 pid;
	int		 workers;
	int64_t		 timeout_ms;
	int64_t		 started_at;	/* ms since the epoch */
	int64_t		 beat_at;	/* ms since the epoch */
	int64_t		 beat_age_ms;	/* now() - beat_at */
	int		 alive;		/* beat_age_ms < timeout_ms */
	int		 leader;	/* holds the unexpired lease */
	int		 running;	/* jobs running there: jobs[0 ... running - 1] */
	const struct node_job *jobs;	/* by worker, then id; valid during the
					 * callback only */
};

/* A running job whose node is gone, locked for its rescue. */
struct orphan {
	uint64_t	 id;
	char		 queue[JOB_QUEUE_MAX + 1];
	char		 node[NODE_ID_MAX + 1];	/* "" if none was recorded */
	int		 attempts;
	int		 max_attempts;
	int64_t		 started_at;
	int64_t		 stdout_bytes;
	int64_t		 stderr_bytes;
	int		 cancel;	/* a cancel was asked of its node */
};

/*
 * What one dispatch round may claim from (store_claim_round fills it,
 * store_claim_next keeps it up to date): queues to leave alone (paused,
 * full, or being claimed from by another node right now) and the room
 * left in the limited queues this round holds the lock of.
 */
struct claim_round {
	char		(*blocked)[JOB_QUEUE_MAX + 1];
	size_t		 nblocked;
	struct claim_slot {
		char	 queue[JOB_QUEUE_MAX + 1];
		int	 slots;
	}		*limited;
	size_t		 nlimited;
	int		 contended;	/* a limited queue with work was skipped:
					 * another node holds it; try again soon */
	int		 open;		/* filled for this turn */
	int		 early;		/* opened with an attempt's finish
					 * (store_finish_fenced), before the
					 * turn's dispatch asked for it */
	uint64_t	 stamp;		/* the store's statement count then */
	int		 none;		/* ... and the claim made with it found
					 * nothing to claim */
};

/*
 * What store_finish_fenced does in the same round trip, after the
 * finish: open round, the dispatch round that would come next, and with
 * worker > 0 claim for that worker at now_ms, as store_claim_next would
 * right after (its slot taken from round).
 */
struct finish_next {
	struct claim_round *round;	/* never NULL */
	int		 worker;
	int64_t		 now_ms;
	int		 claimed;	/* out: 1 that claim took job (job_clear
					 * it), 0 none was there, -1 none made */
	struct job	 job;
};

/* 1 if the store is shared by nodes (PostgreSQL), else 0. */
int	store_clustered(const struct store *);
/*
 * Prepares the connection of a node: no lock wait, nor an open
 * transaction, outlives lock_ms / idle_ms (a stopped node must not hold
 * rows for ever, nor the others wait for it), and no statement runs
 * longer than statement_ms (unless the server or the role set a
 * statement_timeout of their own).  Applied again after a reconnect.
 * Returns 0 or a code.
 */
int	store_node_session(struct store *, int64_t lock_ms, int64_t idle_ms,
	    int64_t statement_ms);

/* ---- the connection, watched from the loop (pg_link.c) ---- */

/* What store_link_info tells. */
struct store_link {
	int		 up;		/* 1: statements run */
	int64_t		 down_at;	/* ms since the epoch it was lost; 0 up */
	int64_t		 down_ms;	/* how long it has been lost */
	int64_t		 retry_in_ms;	/* till the next attempt; 0: one runs */
	uint64_t	 outages;	/* losses since the start */
	uint64_t	 attempts;	/* attempts to connect in this outage */
	char		 error[256];	/* why, on one line ("" while up) */
};

/*
 * From now on the connection is watched from loop: once it is found
 * lost, every statement fails at once with -ENOTCONN, and it is made
 * again in the background without blocking the loop: at once, then
 * after 0.5 s doubling to retry_max_ms (each wait 80-100% of that), each
 * attempt bounded by the connection's connect_timeout.  A statement's answer is waited for
 * answer_ms at most (then the connection is cut and counts as lost).
 * up(arg) is called each time it is back, its statements prepared
 * again.  Returns 0 or -ENOMEM.
 */
int	store_link_start(struct store *, uv_loop_t *, int64_t retry_max_ms,
	    int64_t answer_ms, void (*up)(void *arg), void *arg);
/* Stops watching (its handles close on the loop).  NULL-safe. */
void	store_link_stop(struct store *);
/* 1 while statements can run (as far as is known), 0 while it is lost. */
int	store_link_up(const struct store *);
/* The connection's state, for /healthz and /metrics. */
void	store_link_info(const struct store *, struct store_link *);

/* ---- nodes and the leader's lease (pg_node.c) ---- */

/*
 * Registers node (its row, beating from now).  Returns 0; -EEXIST when
 * a live node of another process holds the id (*holder filled; a dead
 * process of this host, pid_alive says, does not count); or a code.
 */
int	store_node_join(struct store *, const struct node_row *me,
	    int (*pid_alive)(int pid), struct node_row *holder);
/*
 * The node's heartbeat.  0, -ENOENT when its row is gone (declared dead),
 * or a code.  On 0, *skew_ms is how far the database's clock is ahead of
 * this host's (read during the beat, half its round trip allowed for).
 */
int	store_node_beat(struct store *, const char *node, int64_t *skew_ms);
/* Removes the node's row and gives up its lease, if it holds it. */
int	store_node_leave(struct store *, const char *node);
/*
 * Calls cb for every node row, in id order, with the jobs running there.
 * 0 or a code.
 */
int	store_nodes(struct store *,
	    void (*cb)(void *arg, const struct node_row *), void *arg);
/*
 * The leader's lease for ttl_ms: renewed when node holds it, taken when
 * nobody holds an unexpired one.  Returns 1 when node holds it now (its
 * row locked until the commit, so that nobody takes it meanwhile), 0
 * when another node does or the row is busy (this turn cannot know: ask
 * again next time), or a code.  Never waits for a lock.  *elected is
 * set when node took it just now.
 */
int	store_lease(struct store *, const char *node, int64_t ttl_ms,
	    int *elected);
/*
 * Deletes the rows of nodes silent for longer than their timeout (a row
 * another transaction holds is left for later), never self's; cb is
 * told each.  Returns how many, or a code.
 */
int	store_nodes_prune(struct store *, const char *self,
	    void (*cb)(void *arg, const char *node, const char *host, int pid),
	    void *arg);
/*
 * Up to limit running jobs whose node has no row, locked; cb is called
 * for each once all are read.  Returns how many, or a code.
 */
int	store_orphans(struct store *, int limit,
	    void (*cb)(void *arg, const struct orphan *), void *arg);
/*
 * The state (enum job_state) of job id, named in the after of a job
 * this turn submits; its row stays locked (FOR SHARE) until the turn
 * ends, so that an end of it that another node stores meanwhile waits
 * for this turn's commit and then sees the new job among its
 * dependents.  Returns 0, -ENOENT when there is no such job, or a code.
 */
int	store_dep_state(struct store *, uint64_t id, int *state);
/*
 * The fence of an attempt: 0 when job id is still running attempt
 * attempt on node (its row is then locked until the commit), -EBUSY
 * when not (rescued, canceled, claimed again), or a code.
 */
int	store_fence(struct store *, uint64_t id, const char *node, int attempt);
/*
 * store_finish of attempt attempt of job r->id on node, fenced as
 * store_fence in the same statement: 0 when it applied, -EBUSY when the
 * job no longer runs that attempt there (nothing changed), or a code.
 * The job's dependents are read in the same round trip: the
 * store_dependents of r->id that follows, with no other statement in
 * between, is answered from them.  With next (may be NULL), node's
 * dispatch round is opened and its first claim made in that round trip
 * too (after the finish, as the dispatch that follows would):
 * next->round->open tells whether the round was (it stays closed when
 * that part failed), next->claimed what the claim did.  store_claim_round
 * answers from that round, and store_claim_next a claim that found
 * nothing, while no other statement was sent or held back since; else
 * they ask again.
 */
int	store_finish_fenced(struct store *, const struct job_result *r,
	    const char *node, int attempt, struct finish_next *next);
/* The ids of the jobs running on node (free *ids).  0 or a code. */
int	store_node_jobs(struct store *, const char *node, uint64_t **ids,
	    size_t *n);
/*
 * Asks the node running job id to end it.  Returns 0 with that node's
 * id in node (size NODE_ID_MAX + 1), -EBUSY if the job is not running,
 * or a code.
 */
int	store_cancel_request(struct store *, uint64_t id, char *node);
/* The jobs running on node with a cancel asked for (free *ids). */
int	store_cancel_requests(struct store *, const char *node, uint64_t **ids,
	    size_t *n);
/*
 * Sends payload on channel when the turn commits (pg_notify); the
 * statement itself goes out with the commit, and a failure of it loses
 * the turn.
 */
int	store_notify(struct store *, const char *channel, const char *payload);

/*
 * store_submit, but each job keeps the created_at it has: the
 * submissions a turn held back (core/submit.c) go in one statement,
 * each with the time of its own request.
 */
int	store_submit_held(struct store *, struct job *jobs, size_t n);

/* ---- claims, due jobs, keys and counts (pg_claim.c) ---- */

/*
 * Opens a dispatch round for node: locks its own row (so that it cannot
 * be declared dead under a claim) and the limited queues that have work
 * and no other claimer, then reads their room.  Returns 0, -ENOENT when
 * node's row is gone (it was declared dead: join again first), or a
 * code.  A round store_finish_fenced opened is kept (no round trip) when
 * nothing else was sent since.  claim_round_clear frees r.
 */
int	store_claim_round(struct store *, const char *node,
	    struct claim_round *r);
void	claim_round_clear(struct claim_round *r);
/*
 * Claims the best queued job (smallest priority, then id) of a queue r
 * allows, skipping jobs other nodes are claiming: it becomes running on
 * node and worker at now_ms, one more attempt, its last result and
 * cancel request cleared.  Returns 1 with *out filled (job_clear it), 0
 * when there is none, or a code.
 */
int	store_claim_next(struct store *, const char *node, int worker,
	    int64_t now_ms, struct claim_round *r, struct job *out);
/*
 * store_due, but jobs another node is promoting now are skipped, not
 * waited for (their rows stay locked until the commit).
 */
int	store_due_skip(struct store *, int64_t now_ms, int limit,
	    void (*cb)(void *arg, uint64_t id, const char *queue), void *arg);
/*
 * store_idem_put, but a record of key made at or after since_ms is kept
 * and -EEXIST returned: another node took the key first.
 */
int	store_idem_take(struct store *, const char *key, const char *sha,
	    const char *jobs_json, int batch, int64_t now_ms,
	    int64_t since_ms);
/* A change to the counts: n jobs more (or fewer) in queue and state. */
struct count_delta {
	char		 queue[JOB_QUEUE_MAX + 1];
	enum job_state	 state;
	int64_t		 n;
};

/* n attempts more ended in the minute of minute_ms. */
struct minute_delta {
	int64_t		 minute_ms;
	int64_t		 n;
};

/*
 * Adds a turn's changes to node's counts (in the turn's transaction:
 * they count once it commits, with the changes).  The statement goes out
 * with the commit: a failure of it makes the commit fail.  0 or a code.
 */
int	store_counts_add(struct store *, const char *node,
	    const struct count_delta *d, size_t nd,
	    const struct minute_delta *m, size_t nm);
/*
 * Calls cb for every (queue, state) with jobs, over the whole cluster,
 * from the counts the nodes keep (store_counts_add).  0 or a code.
 */
int	store_counts(struct store *,
	    void (*cb)(void *arg, const char *queue, enum job_state, int64_t n),
	    void *arg);
/*
 * Folds the counts rows of nodes that are gone into the shared ones:
 * the sums stay, the rows do not pile up.  0 or a code.
 */
int	store_counts_fold(struct store *);
/* Calls cb with the attempts ended in each minute since since_ms. */
int	store_minutes(struct store *, int64_t since_ms,
	    void (*cb)(void *arg, int64_t minute_ms, int64_t n), void *arg);
/* Forgets the minutes before before_ms.  0 or a code. */
int	store_minutes_purge(struct store *, int64_t before_ms);

#endif
