/*
 * The dashboard's overview from the store (GET /api/v1/stats): what the
 * in-memory counts (core/counts.h) do not hold, each read through an
 * index so that its cost follows the few rows it is about (retrying
 * jobs, the oldest queued one, the last hour's failures, the last five
 * minutes' starts), not the size of the table.
 */
#ifndef RUNNEL_STORE_OVERVIEW_H
#define RUNNEL_STORE_OVERVIEW_H

#include <stddef.h>
#include <stdint.h>

struct store;

#define OVERVIEW_MINUTES	60
#define OVERVIEW_LATENCY_MS	300000	/* the latency's window */
#define OVERVIEW_LATENCY_MAX	10000	/* samples at most, the latest */

struct store_overview {
	int64_t		 retrying;	/* scheduled again after a failed attempt */
	int		 has_oldest;
	int64_t		 oldest_queued_ms;	/* when the queued job of the
						 * smallest id became runnable */
	int64_t		 failed[OVERVIEW_MINUTES];	/* oldest first; the
							 * last: now's minute */
	int64_t		*latency_ms;	/* started_at - max(created_at, run_at)
					 * of jobs started in the window */
	size_t		 nlatency;
};

/*
 * Fills *out as of now_ms.  Returns 0, or a code; either way the caller
 * frees out->latency_ms.
 */
int	store_overview(struct store *, int64_t now_ms, struct store_overview *out);

/* For the backends: a count of failures in minute (ms / 60000). */
void	overview_failed_add(struct store_overview *, int64_t now_ms,
	    int64_t minute, int64_t n);
/* For the backends: one latency sample; -ENOMEM or 0. */
int	overview_latency_add(struct store_overview *, int64_t ms, size_t *cap);

#endif
