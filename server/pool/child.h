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

#include <uv.h>

#define CHILD_RECENT	64

/* A child ended: returns 1 if it was the callee's (then handled), else 0. */
typedef int (*child_reaped_cb)(void *arg, pid_t pid, int status);

/* The reaper's state, owned by the pool. */
struct child {
	uv_signal_t	 sigchld;
	int		 watching;
	pid_t		 recent[CHILD_RECENT];	/* orphans reaped lately */
	unsigned	 nrecent;
	child_reaped_cb	 reaped;
	void		*arg;
};

/*
 * Becomes a subreaper and watches SIGCHLD on loop, handing each child
 * that ends to reaped (with arg).  Returns 0 or -errno.
 */
int	child_start(struct child *, uv_loop_t *loop, child_reaped_cb reaped,
	    void *arg);
/* Reaps what has ended and stops watching (once no worker is left). */
void	child_stop(struct child *);

/*
 * Spawns path in a new session with argv and envp, fd 0 /dev/null,
 * fds 1 and 2 our stderr, and fd 3 one end of a new socketpair whose
 * other end (non-blocking, close-on-exec) is returned in *fd.
 * Returns 0 with *pid set, or -errno.
 */
int	child_spawn(const char *path, char *const argv[], char *const envp[],
	    pid_t *pid, int *fd);

/* 1 if pid was reaped lately as an orphan (so its number may be reused). */
int	child_reaped_lately(const struct child *, pid_t pid);

#endif
