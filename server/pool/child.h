/*
 * runneld's child processes.  Workers are spawned here with posix_spawn,
 * and runneld is a child subreaper that reaps every child itself: a job
 * orphaned by a dead worker becomes ours, so it can be killed without a
 * reused pid ever being hit, and no zombie is left (not even as PID 1 in
 * a container).
 */
#ifndef RUNNEL_CHILD_H
#define RUNNEL_CHILD_H

#include <sys/types.h>

struct server;

/* Becomes a subreaper and watches SIGCHLD.  Returns 0 or -errno. */
int	child_start(struct server *);
/* Stops watching (once no worker is left). */
void	child_stop(struct server *);

/*
 * Spawns path in a new session with argv and envp, fd 0 /dev/null,
 * fds 1 and 2 our stderr, and fd 3 one end of a new socketpair whose
 * other end (non-blocking, close-on-exec) is returned in *fd.
 * Returns 0 with *pid set, or -errno.
 */
int	child_spawn(const char *path, char *const argv[], char *const envp[],
	    pid_t *pid, int *fd);

/* 1 if pid was reaped lately as an orphan (so its number may be reused). */
int	child_reaped_lately(pid_t pid);

#endif
