/* Spawning workers and reaping every child of runneld. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "pool/child.h"

int
child_reaped_lately(const struct child *c, pid_t pid)
{
	for (unsigned i = 0; i < CHILD_RECENT; i++)
		if (c->recent[i] == pid)
			return 1;
	return 0;
}

static void
on_sigchld(uv_signal_t *h, int signum)
{
	struct child	*c = h->data;
	pid_t		 pid;
	int		 status;

	(void)signum;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (c->reaped(c->arg, pid, status))
			continue;
		/* An orphan of a job whose worker died before it. */
		c->recent[c->nrecent++ % CHILD_RECENT] = pid;
		log_debug("child: reaped orphan pid=%d", (int)pid);
	}
}

int
child_start(struct child *c, uv_loop_t *loop, child_reaped_cb reaped,
    void *arg)
{
	memset(c, 0, sizeof(*c));
	c->reaped = reaped;
	c->arg = arg;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		log_warn("child: cannot become a subreaper");
	uv_signal_init(loop, &c->sigchld);
	c->sigchld.data = c;
	if (uv_signal_start(&c->sigchld, on_sigchld, SIGCHLD) < 0)
		return -EIO;
	c->watching = 1;
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

void
child_stop(struct child *c)
{
	if (!c->watching)
		return;
	c->watching = 0;
	on_sigchld(&c->sigchld, SIGCHLD);
	uv_close((uv_handle_t *)&c->sigchld, on_closed);
}

int
child_spawn(const char *path, char *const argv[], char *const envp[],
    pid_t *pid, int *fd)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 at;
	sigset_t			 none, dfl;
	int				 sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	/* Its own session: a terminal's ^C reaches runneld, not workers. */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	/* dup2 onto fd 3 clears close-on-exec, even when it is fd 3 already. */
	posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
	rc = posix_spawn(pid, path, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return -rc;
	}
	*fd = sv[0];
	return 0;
}
