/*
 * Counts kept in memory so that stats, queues and metrics never scan the
 * jobs table: jobs by state and by queue, finishes per minute over the
 * last hour, and the Prometheus counters.  Rebuilt from the store once
 * at start-up, then moved by committed changes only.
 */
#ifndef RUNNEL_COUNTS_H
#define RUNNEL_COUNTS_H

#include <stdint.h>

#include "store/job.h"

#define COUNTS_MINUTES		60
#define COUNTS_BUCKETS		16

struct queue_counts {
	char		 name[JOB_QUEUE_MAX + 1];
	int64_t		 by_state[JOB_STATE_COUNT];
	int		 paused;
	int		 concurrency;	/* -1: no limit */
	/* the dispatcher's (runq.c): may hold queued jobs, and its head */
	int		 runnable;
	int		 head_valid;
	uint64_t	 head_id;
	int64_t		 head_priority;
	int64_t		 active;		/* running, claims of this turn counted */
};

struct counts {
	int64_t			 by_state[JOB_STATE_COUNT];
	struct queue_counts	*queues;	/* sorted by name */
	int			 nqueues;
	size_t			 cap;
	int64_t			 minute_id[COUNTS_MINUTES];
	int64_t			 minute_count[COUNTS_MINUTES];
	uint64_t		 submitted_total;
	uint64_t		 finished_total[JOB_STATE_COUNT];
	uint64_t		 duration_bucket[COUNTS_BUCKETS];	/* cumulative at render */
	double			 duration_sum;
	uint64_t		 duration_count;
	uint64_t		 http_by_status[600];
};

extern const double counts_bucket_bounds[COUNTS_BUCKETS];	/* seconds; last is +Inf */

void	counts_init(struct counts *);
void	counts_close(struct counts *);
/* The queue's entry, created when create is set; NULL if absent or ENOMEM. */
struct queue_counts *counts_queue(struct counts *, const char *name, int create);
/*
 * n jobs of queue in state st, added to the counts t (a struct counts):
 * the callback store_count and store_counts report rows to.
 */
void	counts_add(void *t, const char *queue, enum job_state st, int64_t n);
/*
 * A job of queue moved from state from to state to; -1 means none (new,
 * deleted).  Returns 1 when a count would have gone below zero (it stays
 * at 0): a cluster node's copy is behind what other nodes changed.
 */
int	counts_move(struct counts *, const char *queue, int from, int to);
/* A job finished at finished_ms after running duration_ms. */
void	counts_finish(struct counts *, int64_t finished_ms, int64_t duration_ms);
/* Counts a finish in its minute only (start-up, from the store). */
void	counts_minute_add(struct counts *, int64_t finished_ms);
/* Sets the finishes of the minute of minute_ms to n (cluster counts). */
void	counts_minute_set(struct counts *, int64_t minute_ms, int64_t n);
/* Finishes per minute, oldest first, the last entry the current minute. */
void	counts_per_minute(const struct counts *, int64_t now_ms,
	    int64_t out[COUNTS_MINUTES]);

#endif
