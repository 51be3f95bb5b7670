/*
 * The data directory.  The lock is an flock on runnel.lock: the kernel
 * drops it when runneld dies however it dies, so a stale lock file
 * never keeps a restart out.  The descriptor is close-on-exec: workers
 * and jobs do not hold it.
 */
#include <sys/file.h>
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "server.h"
#include "store/datadir.h"

/* The pid the holder wrote into the lock file, or 0. */
static pid_t
holder_pid(int fd)
{
	char	 buf[32];
	ssize_t	 n = pread(fd, buf, sizeof(buf) - 1, 0);
	long	 pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid <= INT_MAX ? (pid_t)pid : 0;
}

int
datadir_lock(struct server *srv, const char *dir, int create, pid_t *holder)
{
	char	 path[PATH_MAX], pid[32];
	int	 fd, rc, n;

	*holder = 0;
	if (srv->lock_fd >= 0)
		return 0;
	if (create && (rc = fs_mkdirs(dir, 0750)) < 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s", dir, DATADIR_LOCK) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EEXIST : -errno;
		if (rc == -EEXIST)
			*holder = holder_pid(fd);
		close(fd);
		return rc;
	}
	/* Ours now: say who holds it, for the next one to be told. */
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		log_warn("datadir: writing our pid into %s", path);
	srv->lock_fd = fd;
	return 0;
}

void
datadir_unlock(struct server *srv)
{
	if (srv->lock_fd >= 0)
		close(srv->lock_fd);
	srv->lock_fd = -1;
}

int
datadir_open(struct server *srv, const char *data)
{
	struct {
		char		*dst;
		const char	*name;
		int		 clear;
	} dirs[] = {
		{srv->output_dir, "output", 0},
		{srv->files_dir, "files", 0},
		{srv->tmp_dir, "tmp", 1},
		{srv->scratch_dir, "scratch", 1},
	};
	char	 abs[PATH_MAX];
	int	 rc;

	rc = realpath(data, abs) == NULL ? -errno :
	    strlen(abs) > PATH_MAX - 64 ? -ENAMETOOLONG : 0;
	if (rc < 0) {
		log_warnx("datadir: %s: %s", data, strerror(-rc));
		return rc;
	}
	snprintf(srv->data_dir, sizeof(srv->data_dir), "%s", abs);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(dirs[i].dst, PATH_MAX, "%.*s/%s", PATH_MAX - 64, abs,
		    dirs[i].name);
		if ((rc = fs_mkdirs(dirs[i].dst, 0750)) < 0) {
			log_warnx("datadir: %s: %s", dirs[i].dst, strerror(-rc));
			return rc;
		}
		/* What a dead runneld left half-done is of no use. */
		if (dirs[i].clear && (rc = fs_remove_tree(dirs[i].dst, 1)) < 0)
			log_warnx("datadir: clearing %s: %s", dirs[i].dst,
			    strerror(-rc));
	}
	return 0;
}

/* 1 if s (n bytes) can be a node id: [A-Za-z0-9_.-], 1 to 64. */
static int
node_id_valid(const char *s, size_t n)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_.-";

	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(ok, s[i]) == NULL)
			return 0;
	return 1;
}

/* A new id: the host's name cut to what an id may hold, and 8 hex. */
static int
node_id_make(char *out, size_t size)
{
	unsigned char	 r[4];
	char		 host[256] = "node";
	size_t		 n = 0;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	for (const char *h = host; *h && n < 40; h++)
		if (node_id_valid(h, 1) && *h != '.')
			out[n++] = *h;
	snprintf(out + n, size - n, "%s%02x%02x%02x%02x", n ? "-" : "",
	    r[0], r[1], r[2], r[3]);
	return 0;
}

int
datadir_node_id(struct server *srv, char *out, size_t size)
{
	char	 path[PATH_MAX], tmp[PATH_MAX + 8], buf[80];
	ssize_t	 n;
	int	 fd, rc;

	snprintf(path, sizeof(path), "%.*s/%s", PATH_MAX - 16, srv->data_dir,
	    DATADIR_NODE_ID);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			n--;
		if (n > 0 && node_id_valid(buf, (size_t)n) &&
		    (size_t)n < size) {
			memcpy(out, buf, (size_t)n);
			out[n] = '\0';
			return 0;
		}
		log_warnx("datadir: %s does not hold a node id ([A-Za-z0-9_.-], "
		    "1 to 64): remove it or set --node-id", path);
		return -EINVAL;
	}
	if (errno != ENOENT) {
		rc = -errno;
		log_warn("datadir: %s", path);
		return rc;
	}
	if ((rc = node_id_make(out, size)) < 0)
		return rc;
	/* Written whole or not at all: a new file renamed into place. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0) {
		rc = -errno;
		log_warn("datadir: writing %s", tmp);
		return rc;
	}
	rc = dprintf(fd, "%s\n", out) < 0 || fsync(fd) < 0 ? -errno : 0;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		log_warnx("datadir: writing %s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}
