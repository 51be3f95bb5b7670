/*
 * How jobs end: a worker's report, a lost worker, and the jobs a dead
 * runneld left running.
 */
#ifndef RUNNEL_FINISH_H
#define RUNNEL_FINISH_H

struct server;

/* Start-up: jobs a dead runneld left running are retried or failed. */
int	finish_recover(struct server *);

#endif
