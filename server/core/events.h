/*
 * Event fan-out after each commit: waiters (GET ?wait=, cancel of a
 * running job), output followers (?follow=1) and listeners (the event
 * stream).  Everything is woken by the change itself; nothing polls.
 * The core knows them only by their callbacks.
 */
#ifndef RUNNEL_EVENTS_H
#define RUNNEL_EVENTS_H

#include <stdint.h>

#include "core/result.h"

struct server;
struct job;

/* Wants to hear of a job's new output and of its end.  Embedded by its owner. */
struct follower {
	/* New output, the job ended, or runneld is stopping. */
	void		 (*wake)(struct follower *);
	uint64_t	 job_id;
	struct follower	*next;
	struct follower	*prev;
	int		 linked;
};

/* Hears of every committed job change.  Embedded by its owner. */
struct listener {
	/*
	 * Job id changed; seq counts the changes told.  to is its state,
	 * j the job as the change left it; to = -1 and j NULL: deleted.
	 */
	void		 (*job)(struct listener *, uint64_t seq, uint64_t id,
			    int to, const struct job *j);
	/* Every 15 s, so that an idle connection shows it is alive. */
	void		 (*tick)(struct listener *);
	/* runneld is stopping: end. */
	void		 (*stop)(struct listener *);
	struct listener	*next;
	struct listener	*prev;
	int		 linked;
};

int	events_start(struct server *);
/* Completes every waiter, wakes every follower, stops every listener. */
void	events_stop(struct server *);
void	events_free(struct server *);
/* 1 once events_stop ran. */
int	events_stopping(const struct server *);

/*
 * A committed state change of job id (to = -1: deleted); j is the job as
 * the change left it, or NULL when nobody listened at the time.
 */
void	events_job(struct server *, uint64_t id, int to, const struct job *j);
/* New output bytes of job id are in its file. */
void	events_output(struct server *, uint64_t id);

/*
 * Calls done (with the job's id) once job id is finished or deleted, or
 * timeout_ms passed.  0, or -ESHUTDOWN/-ENOMEM when it cannot be held.
 */
int	events_wait(struct server *, uint64_t id, int64_t timeout_ms,
	    core_done_cb done, void *arg);
/* 1 if someone waits for job id to finish. */
int	events_waiting(const struct server *, uint64_t id);
/* Calls cb with the id of every job waited for (once per waiter). */
void	events_waited(const struct server *,
	    void (*cb)(void *arg, uint64_t id), void *arg);

void	events_follow(struct server *, struct follower *);
void	events_unfollow(struct server *, struct follower *);

void	events_listen(struct server *, struct listener *);
void	events_unlisten(struct server *, struct listener *);
/* Number of listeners (metrics; changes are kept only when someone listens). */
int	events_listeners(const struct server *);

#endif
