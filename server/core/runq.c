/*
 * Picking the next job from the heads of the runnable queues.  In a
 * cluster the store picks (cluster_claim); what becomes runnable here
 * is told to the other nodes instead (notify_wake).
 */
#include "core/core_int.h"
#include "core/counts.h"
#include "core/runq.h"
#include "server.h"
#include "store/store.h"

void
runq_mark(struct server *srv, const char *queue)
{
	struct queue_counts *q = counts_queue(srv->counts, queue, 1);

	if (q) {
		q->runnable = 1;
		q->head_valid = 0;	/* the new job may come first */
	}
	if (srv->cluster)
		notify_wake(srv, queue);
}

void
runq_reset(struct server *srv)
{
	struct counts *t = srv->counts;

	for (int i = 0; i < t->nqueues; i++) {
		t->queues[i].runnable = 1;
		t->queues[i].head_valid = 0;
		t->queues[i].active = t->queues[i].by_state[JOB_RUNNING];
	}
}

void
runq_started(struct server *srv, const char *queue)
{
	struct queue_counts *q = counts_queue(srv->counts, queue, 1);

	if (q)
		q->active++;
}

void
runq_stopped(struct server *srv, const char *queue)
{
	struct queue_counts *q = counts_queue(srv->counts, queue, 0);

	if (q && q->active > 0)
		q->active--;
	/* A slot under its concurrency is free again. */
	if (q && q->concurrency > 0) {
		q->runnable = 1;
		if (srv->cluster)
			notify_wake(srv, queue);
	}
}

void
runq_taken(struct server *srv, const char *queue)
{
	struct queue_counts *q = counts_queue(srv->counts, queue, 0);

	if (q)
		q->head_valid = 0;
}

int
runq_pick(struct server *srv, uint64_t *id, const char **queue)
{
	struct counts		*t = srv->counts;
	struct queue_counts	*best = NULL;
	int			 rc;

	for (int i = 0; i < t->nqueues; i++) {
		struct queue_counts *q = &t->queues[i];

		if (!q->runnable || q->paused ||
		    (q->concurrency > 0 && q->active >= q->concurrency))
			continue;
		if (!q->head_valid) {
			rc = store_head(srv->store, q->name, &q->head_id,
			    &q->head_priority);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				q->runnable = 0;
				continue;
			}
			q->head_valid = 1;
		}
		if (best == NULL || q->head_priority < best->head_priority ||
		    (q->head_priority == best->head_priority &&
		    q->head_id < best->head_id))
			best = q;
	}
	if (best == NULL)
		return 0;
	*id = best->head_id;
	*queue = best->name;
	return 1;
}
