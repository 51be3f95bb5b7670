/*
 * Scratch directories (removal of what jobs leave: common/fs.c, which
 * never follows a symlink a job planted).
 */

#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "scratch.h"

/* 1 if the directory open at fd holds nothing but . and .. */
static int
dir_empty(int fd)
{
	char		 buf[1024];
	ssize_t		 n;
	size_t		 off = 0;

	n = getdents64(fd, buf, sizeof(buf));
	while (n > 0 && off < (size_t)n) {
		struct dirent64	*de = (struct dirent64 *)(buf + off);

		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			return 0;
		off += de->d_reclen;
	}
	/* A big first batch of only dots cannot happen; n < 0 is "not empty". */
	return n >= 0;
}

static int
scratch_open(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Empty and ours: 1, with the mode set back to 0700 on the way. */
static int
check_fd(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && (st.st_mode & 07777) != S_IRWXU)
		(void)fchmod(fd, S_IRWXU);
	return dir_empty(fd);
}

int
scratch_clear(const char *path)
{
	int	 fd, rc = 0;

	if ((fd = scratch_open(path)) >= 0) {
		int empty = check_fd(fd);

		close(fd);
		if (empty)
			return 0;
	} else if (errno == ENOENT) {
		return 0;
	}
	if ((rc = fs_remove_tree(path, 1)) < 0 && rc != -ENOTDIR) {
		errno = -rc;
		log_warn("scratch clear path=%s", path);
	}
	return rc;
}

#define SPARE	".next"

int
scratch_spare(const char *root)
{
	char	 path[PATH_MAX];
	int	 fd, keep, rc;

	if (snprintf(path, sizeof(path), "%s/" SPARE, root) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, S_IRWXU) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* Still unused (the last job had a cwd) and as made: it stays. */
	if ((fd = scratch_open(path)) >= 0) {
		struct stat st;

		keep = fstat(fd, &st) == 0 && (st.st_mode & 07777) == S_IRWXU &&
		    st.st_uid == getuid() && flistxattr(fd, NULL, 0) == 0 &&
		    dir_empty(fd);
		close(fd);
		if (keep)
			return 0;
	}
	/* A job may have put something there: a new one, not an emptied one. */
	if ((rc = fs_remove_tree(path, 0)) < 0)
		return rc;
	return mkdir(path, S_IRWXU) == 0 ? 0 : -errno;
}

int
scratch_recycle(const char *root, const char *path)
{
	char		 spare[PATH_MAX];
	struct stat	 st;
	int		 fd, as_made;

	if (snprintf(spare, sizeof(spare), "%s/" SPARE, root) >=
	    (int)sizeof(spare))
		return -ENAMETOOLONG;
	if ((fd = scratch_open(path)) < 0)
		return -errno;
	/* As mkdir made it: no entries, mode, owner, no ACL or xattr. */
	as_made = fstat(fd, &st) == 0 && (st.st_mode & 07777) == S_IRWXU &&
	    st.st_uid == getuid() && st.st_nlink == 2 &&
	    flistxattr(fd, NULL, 0) == 0 && dir_empty(fd);
	close(fd);
	if (!as_made)
		return -ENOTEMPTY;
	return rename(path, spare) == 0 ? 0 : -errno;
}

int
scratch_take(const char *root, uint64_t job_id, int attempt, char *out,
    size_t size)
{
	char	 spare[PATH_MAX];
	int	 rc;

	if (snprintf(out, size, "%s/%llu.%d", root, (unsigned long long)job_id,
	    attempt) >= (int)size ||
	    snprintf(spare, sizeof(spare), "%s/" SPARE, root) >= (int)sizeof(spare))
		return -ENAMETOOLONG;
	/* Something under this name is a dead worker's, not this attempt's. */
	if ((rc = fs_remove_tree(out, 0)) < 0)
		return rc;
	if (rename(spare, out) == 0)
		return 0;
	return mkdir(out, S_IRWXU) == 0 ? 0 : -errno;
}

int
scratch_remove(const char *path)
{
	int rc;

	if ((rc = fs_remove_tree(path, 0)) < 0) {
		errno = -rc;
		log_warn("scratch remove path=%s", path);
	}
	return rc;
}

int
scratch_prepare(const char *path)
{
	int		 fd, rc;

	if ((fd = scratch_open(path)) < 0) {
		/* Gone (the job removed it) or not a directory any more. */
		if (errno != ENOENT && (rc = fs_remove_tree(path, 0)) < 0)
			goto fail;
		if (mkdir(path, S_IRWXU) != 0 && errno != EEXIST) {
			rc = -errno;
			goto fail;
		}
		if ((fd = scratch_open(path)) < 0) {
			rc = -errno;
			goto fail;
		}
	}
	if (!check_fd(fd)) {
		close(fd);
		return scratch_clear(path);
	}
	close(fd);
	return 0;
fail:
	errno = -rc;
	log_warn("scratch prepare path=%s", path);
	return rc;
}
