/*
 * Making and removing scratch directories (removal: common/fs.c, which
 * never follows a symlink the job planted).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "scratch.h"

int
scratch_remove(const char *path)
{
	int	 rc;

	if ((rc = fs_remove_tree(path, 0)) < 0) {
		errno = -rc;
		log_warn("scratch remove path=%s", path);
	}
	return rc;
}

int
scratch_make(const char *root, uint64_t job_id, int attempt,
    char *path, size_t size)
{
	int	 n;

	n = snprintf(path, size, "%s/%" PRIu64 "-%d", root, job_id, attempt);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	if (mkdir(path, S_IRWXU) == 0)
		return 0;
	if (errno != EEXIST)
		goto fail;
	/* Left by a worker that died mid-job: start clean. */
	log_info("scratch leftover path=%s", path);
	(void)scratch_remove(path);
	if (mkdir(path, S_IRWXU) == 0)
		return 0;
fail:
	n = -errno;
	log_warn("scratch mkdir path=%s", path);
	return n;
}
