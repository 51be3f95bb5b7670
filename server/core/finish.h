/*
 * How jobs end: a worker's report, a lost worker, and the jobs a dead
 * runneld left running.
 */
#ifndef RUNNEL_FINISH_H
#define RUNNEL_FINISH_H

#include <stdint.h>

#include "pool/pool.h"		/* struct job_exit */

struct server;

/* Job id's attempt ended as its worker reported. */
void	finish_exited(struct server *, uint64_t id, const struct job_exit *);
/* Job id's worker died before its report: the attempt is lost. */
void	finish_lost(struct server *, uint64_t id, const char *queue,
	    int64_t stdout_bytes, int64_t stderr_bytes, int64_t started_at);

/* Start-up: jobs a dead runneld left running are retried or failed, in
 * the turn's transaction (core_recover commits it). */
int	finish_recover(struct server *);

#endif
