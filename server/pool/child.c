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

#include "pool/child.h"
#include "log.h"
#include "pool/pool.h"
#include "server.h"

#define RECENT	64

static uv_signal_t	 sigchld;
static int		 watching;
static pid_t		 recent[RECENT];	/* orphans reaped lately */
static unsigned		 nrecent;

int
child_reaped_lately(pid_t pid)
{
	for (unsigned i = 0; i < RECENT; i++)
		if (recent[i] == pid)
			return 1;
	return 0;
}

static void
on_sigchld(uv_signal_t *h, int signum)
{
	struct server	*srv = h->data;
	pid_t		 pid;
	int		 status;

	(void)signum;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pool_reaped(srv, pid, status))
			continue;
		/* An orphan of a job whose worker died before it. */
		recent[nrecent++ % RECENT] = pid;
		log_debug("child: reaped orphan pid=%d", (int)pid);
	}
}

int
child_start(struct server *srv)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		log_warn("child: cannot become a subreaper");
	uv_signal_init(srv->loop, &sigchld);
	sigchld.data = srv;
	if (uv_signal_start(&sigchld, on_sigchld, SIGCHLD) < 0)
		return -EIO;
	watching = 1;
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

void
child_stop(struct server *srv)
{
	(void)srv;
	if (!watching)
		return;
	watching = 0;
	on_sigchld(&sigchld, SIGCHLD);
	uv_close((uv_handle_t *)&sigchld, on_closed);
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
