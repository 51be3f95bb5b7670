/*
 * How jobs end: a worker's report, a lost worker, and the jobs a dead
 * runneld left running.
 */
#ifndef RUNNEL_FINISH_H
#define RUNNEL_FINISH_H

#include <stdint.h>

#include "pool/pool.h"		/* struct job_exit */

struct server;

/*
 * The wait before try number `attempts` + 1: base_ms doubling per try,
 * at most an hour, with jitter of at most 25 % either way (API.md's
 * retries; the webhook sender's too).
 */
int64_t	finish_retry_delay(int64_t base_ms, int attempts);

/* Job id's attempt ended as its worker reported. */
void	finish_exited(struct server *, uint64_t id, const struct job_exit *);
/*
 * Job id's worker died before its report: the attempt is lost.  lost
 * says what is known of the attempt (queue, output bytes, started_at,
 * attempts, max_attempts).
 */
void	finish_lost(struct server *, uint64_t id, const struct job_exit *lost);
/*
 * Cluster: a running job whose node is gone (o, its row locked by the
 * leader's turn) is retried with back-off while attempts remain, else
 * failed with "node lost"; canceled if a cancel was asked of it.
 */
struct orphan;
void	finish_node_lost(struct server *, const struct orphan *o);

/* Start-up: jobs a dead runneld left running (in cluster mode, those of
 * this node only) are retried or failed, in the turn's transaction
 * (core_recover commits it). */
int	finish_recover(struct server *);

/*
 * runneld --import: job j, found running in a data directory that is
 * moving into store st, ends as finish_recover ends it (retried after
 * the back-off of retry_base_ms while attempts remain, else failed with
 * "server restarted", the jobs that wait for it failed as deps_settle
 * fails them), in st's open transaction and without a server around
 * it.  *state gets its new state, *failed_after how many waiting jobs
 * failed with it.  Returns 0, -EINVAL (logged, nothing written) if j's
 * state cannot go to that state (job_can), or a store code.
 */
struct store;
int	finish_restart_store(struct store *st, const struct job *j,
	    int64_t retry_base_ms, int64_t now_ms, enum job_state *state,
	    int *failed_after);

#endif
