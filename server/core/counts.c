/* In-memory counts: by state, by queue, per minute, and metric counters. */
#include <stdlib.h>
#include <string.h>

#include "core/counts.h"
#include "vec.h"

const double counts_bucket_bounds[COUNTS_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
	3600, 0 /* +Inf */
};

void
counts_init(struct counts *t)
{
	memset(t, 0, sizeof(*t));
}

void
counts_close(struct counts *t)
{
	free(t->queues);
	memset(t, 0, sizeof(*t));
}

void
counts_add(void *arg, const char *queue, enum job_state st, int64_t n)
{
	struct counts		*t = arg;
	struct queue_counts	*q = counts_queue(t, queue, 1);

	t->by_state[st] += n;
	if (q)
		q->by_state[st] += n;
}

struct queue_counts *
counts_queue(struct counts *t, const char *name, int create)
{
	int lo = 0, hi = t->nqueues, c;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		c = strcmp(t->queues[mid].name, name);
		if (c == 0)
			return &t->queues[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create || strlen(name) > JOB_QUEUE_MAX)
		return NULL;
	if (vec_grow(&t->queues, &t->cap, (size_t)t->nqueues + 1,
	    sizeof(*t->queues)) < 0)
		return NULL;
	memmove(&t->queues[lo + 1], &t->queues[lo],
	    (t->nqueues - lo) * sizeof(*t->queues));
	memset(&t->queues[lo], 0, sizeof(*t->queues));
	strcpy(t->queues[lo].name, name);
	t->queues[lo].concurrency = -1;
	t->nqueues++;
	return &t->queues[lo];
}

int
counts_move(struct counts *t, const char *queue, int from, int to)
{
	struct queue_counts	*q = counts_queue(t, queue, 1);
	int			 under = 0;

	if (from >= 0) {
		if (t->by_state[from] > 0)
			t->by_state[from]--;
		else
			under = 1;
		if (q && q->by_state[from] > 0)
			q->by_state[from]--;
		else if (q)
			under = 1;
	}
	if (to >= 0) {
		t->by_state[to]++;
		if (q)
			q->by_state[to]++;
	}
	if (from < 0 && to >= 0)
		t->submitted_total++;
	if (to >= 0 && job_state_finished(to) && from >= 0 &&
	    !job_state_finished(from))
		t->finished_total[to]++;
	return under;
}

void
counts_minute_add(struct counts *t, int64_t finished_ms)
{
	int64_t	 minute = finished_ms / 60000;
	int	 slot = (int)(minute % COUNTS_MINUTES);

	if (t->minute_id[slot] != minute) {
		t->minute_id[slot] = minute;
		t->minute_count[slot] = 0;
	}
	t->minute_count[slot]++;
}

void
counts_minute_set(struct counts *t, int64_t minute_ms, int64_t n)
{
	int64_t	 minute = minute_ms / 60000;
	int	 slot = (int)(minute % COUNTS_MINUTES);

	t->minute_id[slot] = minute;
	t->minute_count[slot] = n;
}

void
counts_finish(struct counts *t, int64_t finished_ms, int64_t duration_ms)
{
	double	 secs = duration_ms > 0 ? duration_ms / 1000.0 : 0;
	int	 b;

	counts_minute_add(t, finished_ms);
	for (b = 0; b < COUNTS_BUCKETS - 1; b++)
		if (secs <= counts_bucket_bounds[b])
			break;
	t->duration_bucket[b]++;
	t->duration_sum += secs;
	t->duration_count++;
}

void
counts_per_minute(const struct counts *t, int64_t now_ms, int64_t out[COUNTS_MINUTES])
{
	int64_t now_min = now_ms / 60000;

	for (int i = 0; i < COUNTS_MINUTES; i++) {
		int64_t minute = now_min - (COUNTS_MINUTES - 1) + i;
		int	slot = (int)(minute % COUNTS_MINUTES);

		out[i] = t->minute_id[slot] == minute ? t->minute_count[slot] : 0;
	}
}
