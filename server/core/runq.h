/*
 * Which job runs next: the smallest (priority, id) among the heads of the
 * queues that may hold runnable jobs and are neither paused nor at their
 * concurrency.  A queue's head is one seek on the
 * runnable index and is remembered until that queue changes, so picking
 * costs O(queues with work), whatever the table holds.
 */
#ifndef RUNNEL_RUNQ_H
#define RUNNEL_RUNQ_H

#include <stdint.h>

struct server;

/* A job of queue became queued (not yet committed). */
void	runq_mark(struct server *, const char *queue);
/* Forgets what is known: after a rollback, or at start-up. */
void	runq_reset(struct server *);
/*
 * The next job to claim: returns 1 and sets *id and *queue (valid until
 * the next runq call), 0 if no queue has one, or < 0 on a store error.
 */
int	runq_pick(struct server *, uint64_t *id, const char **queue);
/* The pick of queue was claimed, or was no longer queued. */
void	runq_taken(struct server *, const char *queue);
/* A job of queue started / stopped running (its concurrency counts it). */
void	runq_started(struct server *, const char *queue);
void	runq_stopped(struct server *, const char *queue);

#endif
