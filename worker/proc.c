/*
 * Signals and children of the worker.  SIGCHLD is never handled by a
 * handler: it stays blocked and is read from a signalfd in the poll
 * loop, so that a job's end is just another readable fd.
 */
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

const int	proc_ignored[] = {SIGPIPE, SIGINT, SIGHUP};
const size_t	proc_nignored = sizeof(proc_ignored) / sizeof(proc_ignored[0]);

/*
 * A disposition inherited as SIG_IGN would survive the job's execve;
 * putting them all back to default here means the child only has to
 * undo the worker's own three.
 */
static void
proc_reset_ignored(void)
{
	struct sigaction	 sa, dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaction(sig, &dfl, NULL);
	}
}

int
proc_setup(void)
{
	struct sigaction	 ign;
	sigset_t		 mask;
	int			 fd;

	proc_reset_ignored();
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	for (size_t i = 0; i < proc_nignored; i++)
		if (sigaction(proc_ignored[i], &ign, NULL) < 0)
			return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	if ((fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return -errno;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

int
proc_signals(int sigfd)
{
	struct signalfd_siginfo	 si[8];
	ssize_t			 n;
	int			 seen = 0;

	while ((n = read(sigfd, si, sizeof(si))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++) {
			if (si[i].ssi_signo == SIGCHLD)
				seen |= PROC_SIGCHLD;
			else if (si[i].ssi_signo == SIGTERM)
				seen |= PROC_SIGTERM;
		}
	}
	return seen;
}

void
proc_reap(void)
{
	pid_t	 pid;
	int	 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		log_debug("reaped pid=%d", (int)pid);
}

/* The parent pid in /proc/<pid>/stat, or -1. */
static int
proc_ppid(int procfd, const char *pid)
{
	char	 path[64], buf[512], *p;
	ssize_t	 n;
	int	 fd, ppid = -1;

	snprintf(path, sizeof(path), "%s/stat", pid);
	if ((fd = openat(procfd, path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parens. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* The same through /proc/self/task/<tid>/children: no scan of /proc. */
static int
kill_listed_children(void)
{
	char	 path[64], buf[4096], *p, *end;
	ssize_t	 n;
	int	 fd, count = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	/* A list longer than one read: the scan sees them all. */
	if (n < 0 || n == (ssize_t)sizeof(buf) - 1)
		return -1;
	buf[n] = '\0';
	for (p = buf;; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
			count++;
	}
	return count;
}

int
proc_kill_children(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 self = (int)getpid(), n = 0;

	if ((n = kill_listed_children()) >= 0)
		return n;
	n = 0;
	if ((d = opendir("/proc")) == NULL) {
		log_warn("opendir /proc");
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (proc_ppid(dirfd(d), de->d_name) != self)
			continue;
		if (kill((pid_t)atoi(de->d_name), SIGKILL) == 0)
			n++;
	}
	closedir(d);
	return n;
}
