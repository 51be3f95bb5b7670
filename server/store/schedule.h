/*
 * Schedules as stored: a recurring job's expression, zone, template and
 * policies, and where its ticks stand.  The rows live beside the jobs in
 * either backend (the schedules migrations in schema/); the core's schedule timer
 * (core/sched.c) reads and advances them.  A tick is fired exactly once:
 * its row in schedule_ticks, the job it made and the schedule's new
 * next_at are written in one transaction, next_at compared and set.
 */
#ifndef RUNNEL_STORE_SCHEDULE_H
#define RUNNEL_STORE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

struct store;

enum sched_overlap {
	SCHED_OVERLAP_ALLOW,	/* a run per tick, whatever runs */
	SCHED_OVERLAP_SKIP,	/* no run while the last is unfinished */
	SCHED_OVERLAP_QUEUE,	/* one run waits for the last to finish */
	SCHED_OVERLAP_CANCEL,	/* the last run is canceled, the new one made */
	SCHED_OVERLAP_COUNT
};

enum sched_misfire {
	SCHED_MISFIRE_SKIP,	/* ticks missed while down: none runs */
	SCHED_MISFIRE_ONCE,	/* one run for all of them */
	SCHED_MISFIRE_ALL,	/* a run for each, up to SCHED_CATCHUP_MAX */
	SCHED_MISFIRE_COUNT
};

#define SCHED_NAME_MAX		200
#define SCHED_CRON_MAX		200
#define SCHED_CATCHUP_MAX	100
#define SCHED_KEEP		(-1)	/* store_sched_made: waiting as it is */

/* Absent values: 0 for times and ids, NULL for strings. */
struct schedule {
	uint64_t	 id;
	char		*name;
	char		*cron;
	char		*timezone;
	char		*job_json;	/* the template: a checked spec, JSON */
	int		 overlap;	/* enum sched_overlap */
	int		 misfire;	/* enum sched_misfire */
	int		 paused;
	int64_t		 until;		/* no tick after it */
	int64_t		 created_at;
	int64_t		 next_at;	/* the first tick not fired; 0: none left */
	uint64_t	 last_job;	/* the last job it made */
	int64_t		 waiting;	/* overlap queue: the tick owed a run */
};

void		 schedule_init(struct schedule *);
void		 schedule_clear(struct schedule *);
/* Clears the n schedules at s and frees the array. */
void		 schedule_free_all(struct schedule *s, size_t n);
const char	*schedule_overlap_name(int);
const char	*schedule_misfire_name(int);
/* The enum value of a name, or -1. */
int		 schedule_overlap_parse(const char *);
int		 schedule_misfire_parse(const char *);

/*
 * All of these join the turn's transaction.  Returns 0 or a code of
 * store.h; -ENOENT for no such schedule, -EEXIST for a name in use.
 */
/* Inserts s (its id is set); created_at and the rest as given. */
int	store_sched_add(struct store *, struct schedule *s);
int	store_sched_get(struct store *, uint64_t id, struct schedule *out);
/* Every schedule, by id; the caller frees with schedule_free_all. */
int	store_sched_all(struct store *, struct schedule **out, size_t *n);
/*
 * Writes what a client sets (name, cron, timezone, job, overlap,
 * misfire, paused, until), not where the ticks stand: the leader moves
 * those meanwhile, maybe on another node.
 */
int	store_sched_put(struct store *, const struct schedule *s);
/* Plans again: next_at (0: none left), and no run owed any more. */
int	store_sched_replan(struct store *, uint64_t id, int64_t next_at);
/* Removes the schedule and its ticks; its jobs keep its id. */
int	store_sched_delete(struct store *, uint64_t id);
/* The first next_at of the schedules not paused, 0 when none. */
int	store_sched_next(struct store *, int64_t *at);
/* The ids of at most limit unpaused schedules due at now_ms, first due first. */
int	store_sched_due(struct store *, int64_t now_ms, int limit,
	    uint64_t **ids, size_t *n);
/* The ids of the unpaused schedules owing a run (overlap queue). */
int	store_sched_owed(struct store *, uint64_t **ids, size_t *n);
/*
 * Moves a schedule's next_at from `from` to `to` (0: none left), if it
 * still is `from`; -ESTALE when another fired it meanwhile.
 */
int	store_sched_advance(struct store *, uint64_t id, int64_t from,
	    int64_t to);
/* Sets the last job made (0 leaves it) and the tick owed (0: none,
 * SCHED_KEEP: as it is). */
int	store_sched_made(struct store *, uint64_t id, uint64_t last_job,
	    int64_t waiting);
/* Records tick as fired, making job (0: none); -EEXIST if it was. */
int	store_sched_tick(struct store *, uint64_t id, int64_t tick,
	    uint64_t job);
/* The job a recorded tick made. */
int	store_sched_tick_job(struct store *, uint64_t id, int64_t tick,
	    uint64_t job);
/* Forgets the ticks fired before before_ms. */
int	store_sched_ticks_purge(struct store *, int64_t before_ms);

#endif
