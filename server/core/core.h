/*
 * The core: the one place where jobs change state.  Mutations of one
 * loop turn share one transaction (group commit); at the end of the turn
 * the dispatcher claims jobs for idle workers, the transaction commits,
 * and only then are RUN frames sent, waiting operations completed and
 * events published.  Nothing here polls: a submit, a worker becoming
 * free or a finished job schedules the end-of-turn work.  What clients
 * ask of it is in core/submit.h and core/action.h; how attempts end, in
 * core/finish.h.
 */
#ifndef RUNNEL_CORE_H
#define RUNNEL_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "store/job.h"

struct server;

int	core_start(struct server *);
/* Commits what is pending and closes the handles; core_free after the loop ran. */
void	core_stop(struct server *);
void	core_free(struct server *);
/* Runs the end-of-turn work now. */
void	core_flush(struct server *);
/* Store writes made outside the core's operations (the webhook sender's):
 * committed at the end of this turn. */
void	core_touch(struct server *);
/* 1 while the store holds this turn's writes uncommitted: a read now
 * would see them before they are durable. */
int	core_turn_open(const struct server *);

/* Worker-side events, from the pool. */
void	core_worker_ready(struct server *);

/* Reads job id into *j with its live fields (pid, output bytes) filled. */
int	core_job_get(struct server *, uint64_t id, struct job *j);

/*
 * The disk became full (reports kept over a failed commit are applied
 * again at once: the reserve was just given up) or has room again
 * (dispatch goes on); or the database is back (both).
 */
void	core_storage_changed(struct server *);
/* Worker reports kept because they could not be stored yet. */
size_t	core_reports_waiting(const struct server *);

/* Start-up: rebuild the counts from the store. */
int	core_load(struct server *);
/*
 * Start-up: the jobs a dead runneld left running are retried or failed,
 * committed, and the due timer armed.
 */
int	core_recover(struct server *);

#endif
