/*
 * Directory helpers.  Removal works on directory fds (openat/unlinkat
 * with O_NOFOLLOW), never on re-walked path names, so a symlink a job
 * planted cannot lead it outside the tree being removed.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

/* Each level holds one fd and one stack frame; deeper trees are left. */
#define FS_MAX_DEPTH	512

static int	remove_entry(int dirfd, const char *name, int depth);

int
fs_mkdirs(const char *path, int mode)
{
	char	 buf[PATH_MAX];
	size_t	 n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Opens directory name in dirfd for removing what it holds. */
static int
open_dir(int dirfd, const char *name)
{
	const int	 flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	struct stat	 st;
	int		 fd;

	fd = openat(dirfd, name, flags);
	if (fd < 0 && errno == EACCES &&
	    fchmodat(dirfd, name, S_IRWXU, AT_SYMLINK_NOFOLLOW) == 0)
		fd = openat(dirfd, name, flags);
	if (fd < 0)
		return -errno;
	/* Entries of a read-only directory cannot be unlinked. */
	if (fstat(fd, &st) == 0 && (st.st_mode & S_IRWXU) != S_IRWXU)
		(void)fchmod(fd, st.st_mode | S_IRWXU);
	return fd;
}

/* Removes everything in the directory open at fd, and closes fd. */
static int
empty_dir(int fd, int depth)
{
	struct dirent	*de;
	DIR		*d;
	int		 rc = 0, rc2;

	if ((d = fdopendir(fd)) == NULL) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((rc2 = remove_entry(dirfd(d), de->d_name, depth + 1)) < 0 &&
		    rc == 0)
			rc = rc2;
	}
	closedir(d);
	return rc;
}

/* Empties and removes directory name in dirfd. */
static int
remove_dir(int dirfd, const char *name, int depth)
{
	int fd, rc;

	if (depth >= FS_MAX_DEPTH)
		return -ELOOP;
	if ((fd = open_dir(dirfd, name)) < 0)
		return fd;
	rc = empty_dir(fd, depth);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    rc == 0)
		rc = -errno;
	return rc;
}

static int
remove_entry(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	return remove_dir(dirfd, name, depth);
}

int
fs_remove_tree(const char *path, int keep_root)
{
	int fd, rc;

	if (keep_root) {
		if ((fd = open_dir(AT_FDCWD, path)) < 0)
			return fd == -ENOENT ? 0 : fd;
		return empty_dir(fd, 0);
	}
	/* Most trees handed to us are empty: one system call. */
	if (rmdir(path) == 0 || errno == ENOENT)
		return 0;
	if ((rc = remove_dir(AT_FDCWD, path, 0)) == -ENOENT)
		return 0;
	if ((rc == -ENOTDIR || rc == -ELOOP) && unlinkat(AT_FDCWD, path, 0) == 0)
		return 0;
	return rc;
}
