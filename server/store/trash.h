/*
 * The output and uploaded files of jobs that retention deleted, removed
 * on a thread of libuv's pool instead of on the loop: at a million
 * expired jobs, the unlink and rmdir calls were half of each retention
 * turn, and a request waited behind them.  A job's files go only after
 * the commit that deleted it (the caller's order); its id is never
 * given out again, so nothing new can be at those paths meanwhile.
 * What a crash leaves behind before the thread gets to it stays, as a
 * crash between a commit and an unlink always could.
 */
#ifndef RUNNEL_TRASH_H
#define RUNNEL_TRASH_H

#include <stddef.h>
#include <stdint.h>

struct server;

/*
 * Removes the output of attempts 1..attempts of job id and its files
 * directory soon, off the loop; in cluster mode the blob collector runs
 * once they are gone.  Returns 0, or -ENOMEM (nothing queued: remove
 * them now).
 */
int	trash_add(struct server *, uint64_t id, int attempts);
/* Jobs whose removal is queued or under way. */
size_t	trash_backlog(const struct server *);
/* After the loop ran dry (no removal in flight).  NULL-safe. */
void	trash_free(struct server *);

#endif
