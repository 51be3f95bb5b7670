/*
 * Counts kept in memory so that stats, queues and metrics never scan the
 * jobs table: jobs by state and by queue, finishes per minute over the
 * last hour, and the Prometheus counters.  Rebuilt from the store once
 * at start-up, then moved by committed changes only.
 */
#ifndef RUNNEL_TALLY_H
#define RUNNEL_TALLY_H

#include <stdint.h>

#include "job.h"

#define TALLY_MINUTES		60
#define TALLY_BUCKETS		16

struct queue_tally {
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

struct tally {
	int64_t			 by_state[JOB_STATE_COUNT];
	struct queue_tally	*queues;	/* sorted by name */
	int			 nqueues;
	int			 cap;
	int64_t			 minute_id[TALLY_MINUTES];
	int64_t			 minute_count[TALLY_MINUTES];
	uint64_t		 submitted_total;
	uint64_t		 finished_total[JOB_STATE_COUNT];
	uint64_t		 duration_bucket[TALLY_BUCKETS];	/* cumulative at render */
	double			 duration_sum;
	uint64_t		 duration_count;
	uint64_t		 http_by_status[600];
	uint64_t		 worker_restarts;
};

extern const double tally_bucket_bounds[TALLY_BUCKETS];	/* seconds; last is +Inf */

void	tally_init(struct tally *);
void	tally_close(struct tally *);
/* The queue's entry, created when create is set; NULL if absent or ENOMEM. */
struct queue_tally *tally_queue(struct tally *, const char *name, int create);
/* A job of queue moved from state from to state to; -1 means none (new, deleted). */
void	tally_move(struct tally *, const char *queue, int from, int to);
/* A job finished at finished_ms after running duration_ms. */
void	tally_finish(struct tally *, int64_t finished_ms, int64_t duration_ms);
/* Counts a finish in its minute only (start-up, from the store). */
void	tally_minute_add(struct tally *, int64_t finished_ms);
/* Finishes per minute, oldest first, the last entry the current minute. */
void	tally_per_minute(const struct tally *, int64_t now_ms,
	    int64_t out[TALLY_MINUTES]);

#endif
