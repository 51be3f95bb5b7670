/*
 * Schedules in the core: their timer, the ticks it fires, the overlap
 * and misfire policies, and what clients do to schedules.  One timer is
 * armed on the first tick due over all schedules (an index seek); with
 * any number of schedules and none due, nothing runs.  In a cluster only
 * the leader fires.  A tick's job, its tick row and the schedule's next
 * tick are written in one transaction: a crash between them cannot
 * double or drop a tick.
 *
 * A tick is missed when it is found due more than --misfire-grace after
 * its time (runneld was down, or the schedule's leader was lost).
 * misfire "skip" drops missed ticks, "once" makes one run for all the
 * ticks due (for the latest), "all" a run for each (the latest
 * SCHED_CATCHUP_MAX).  overlap "skip" makes no run while the schedule's
 * last job is unfinished, "queue" keeps one tick owed and runs it when
 * that job finishes, "cancel" cancels it and runs the new one.
 */
#ifndef RUNNEL_CORE_SCHED_H
#define RUNNEL_CORE_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "store/schedule.h"

struct server;

#define SCHED_NEXT_RUNS	5

/*
 * Checks sc's cron expression and zone, and computes its next_at from
 * now_ms.  Returns 0, or -EINVAL with err filled (field "cron" with the
 * position in the message, or "timezone").
 */
int	sched_check(struct schedule *sc, int64_t now_ms, struct core_error *err);
/*
 * The next n fire times after after_ms (0 ends the list early: none
 * left, or past until) into out.  Returns how many.
 */
size_t	sched_next_runs(const struct schedule *sc, int64_t after_ms,
	    int64_t *out, size_t n);

/*
 * Client operations: each returns 0 when done will be called after the
 * commit with the schedule's id (trigger: with the job made), or a code
 * with err filled.  -ENOENT no such schedule, -EEXIST its name is taken.
 * create and update take a schedule checked by sched_check.
 */
int	sched_create(struct server *, struct schedule *sc, core_done_cb done,
	    void *arg, struct core_error *err);
int	sched_update(struct server *, struct schedule *sc, int replan,
	    core_done_cb done, void *arg, struct core_error *err);
int	sched_delete(struct server *, uint64_t id, core_done_cb done,
	    void *arg, struct core_error *err);
int	sched_trigger(struct server *, uint64_t id, core_done_cb done,
	    void *arg, struct core_error *err);

#endif
