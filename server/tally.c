/* In-memory counts: by state, by queue, per minute, and metric counters. */
#include <stdlib.h>
#include <string.h>

#include "tally.h"

const double tally_bucket_bounds[TALLY_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
	3600, 0 /* +Inf */
};

void
tally_init(struct tally *t)
{
	memset(t, 0, sizeof(*t));
}

void
tally_close(struct tally *t)
{
	free(t->queues);
	memset(t, 0, sizeof(*t));
}

struct queue_tally *
tally_queue(struct tally *t, const char *name, int create)
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
	if (t->nqueues == t->cap) {
		int			 cap = t->cap ? t->cap * 2 : 8;
		struct queue_tally	*q = realloc(t->queues, cap * sizeof(*q));

		if (q == NULL)
			return NULL;
		t->queues = q;
		t->cap = cap;
	}
	memmove(&t->queues[lo + 1], &t->queues[lo],
	    (t->nqueues - lo) * sizeof(*t->queues));
	memset(&t->queues[lo], 0, sizeof(*t->queues));
	strcpy(t->queues[lo].name, name);
	t->queues[lo].concurrency = -1;
	t->nqueues++;
	return &t->queues[lo];
}

void
tally_move(struct tally *t, const char *queue, int from, int to)
{
	struct queue_tally *q = tally_queue(t, queue, 1);

	if (from >= 0) {
		t->by_state[from]--;
		if (q)
			q->by_state[from]--;
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
}

void
tally_minute_add(struct tally *t, int64_t finished_ms)
{
	int64_t	 minute = finished_ms / 60000;
	int	 slot = (int)(minute % TALLY_MINUTES);

	if (t->minute_id[slot] != minute) {
		t->minute_id[slot] = minute;
		t->minute_count[slot] = 0;
	}
	t->minute_count[slot]++;
}

void
tally_finish(struct tally *t, int64_t finished_ms, int64_t duration_ms)
{
	double	 secs = duration_ms > 0 ? duration_ms / 1000.0 : 0;
	int	 b;

	tally_minute_add(t, finished_ms);
	for (b = 0; b < TALLY_BUCKETS - 1; b++)
		if (secs <= tally_bucket_bounds[b])
			break;
	t->duration_bucket[b]++;
	t->duration_sum += secs;
	t->duration_count++;
}

void
tally_per_minute(const struct tally *t, int64_t now_ms, int64_t out[TALLY_MINUTES])
{
	int64_t now_min = now_ms / 60000;

	for (int i = 0; i < TALLY_MINUTES; i++) {
		int64_t minute = now_min - (TALLY_MINUTES - 1) + i;
		int	slot = (int)(minute % TALLY_MINUTES);

		out[i] = t->minute_id[slot] == minute ? t->minute_count[slot] : 0;
	}
}
