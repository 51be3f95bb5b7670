/* Stored upload files: names, paths, moving in, removing, sweeping. */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "server.h"
#include "store/blobs.h"
#include "store/files.h"
#include "store/job.h"
#include "store/store.h"
#include "utf8.h"

void
files_safe_name(const char *client, char *out, size_t size)
{
	const char	*base = client ? client : "";
	char		 clean[FILES_CLIENT_NAME_MAX + 8];
	size_t		 n = 0, len, max = size - 1 < FILES_NAME_MAX ?
			    size - 1 : FILES_NAME_MAX;

	for (const char *p = base; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (const unsigned char *p = (const unsigned char *)base;
	    *p && n + 4 < sizeof(clean);) {
		size_t k = utf8_seq(p, strlen((const char *)p));

		if (k == 0) {		/* not UTF-8: a stand-in */
			clean[n++] = '_';
			p++;
		} else if (k == 1 && (*p < 0x20 || *p == 0x7f)) {
			p++;		/* control characters go */
		} else {
			memcpy(clean + n, p, k);
			n += k;
			p += k;
		}
	}
	while (n > 0 && (clean[n - 1] == ' ' || clean[n - 1] == '.'))
		n--;		/* trailing dots and spaces trip other systems */
	clean[n] = '\0';
	if (n == 0 || strcmp(clean, ".") == 0 || strcmp(clean, "..") == 0) {
		snprintf(out, size, "upload");
		return;
	}
	if (n <= max) {
		memcpy(out, clean, n + 1);
		return;
	}
	/* Too long: keep a short extension, shorten what comes before. */
	{
		const char	*dot = strrchr(clean, '.');
		size_t		 ext = dot && strlen(dot) <= 16 && dot != clean ?
				    strlen(dot) : 0;

		len = utf8_cut(clean, max - ext);
		memcpy(out, clean, len);
		memcpy(out + len, clean + n - ext, ext);
		out[len + ext] = '\0';
	}
}

void
files_path(const struct server *srv, uint64_t id, const char *name,
    char *buf, size_t size)
{
	snprintf(buf, size, "%s/%llu/%s", srv->files_dir,
	    (unsigned long long)id, name);
}

static int
fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	return rc;
}

int
files_store(struct server *srv, uint64_t id, const char *name,
    const char *tmp_path, int sync)
{
	char	 dir[PATH_MAX + 32], path[PATH_MAX + 300];
	int	 rc = 0;

	snprintf(dir, sizeof(dir), "%s/%llu", srv->files_dir,
	    (unsigned long long)id);
	/* A leftover of a rolled-back upload with the same id goes first. */
	fs_remove_tree(dir, 0);
	if (mkdir(dir, 0750) != 0) {
		rc = -errno;
		log_warn("files: mkdir %s", dir);
		return rc;
	}
	files_path(srv, id, name, path, sizeof(path));
	if (rename(tmp_path, path) != 0) {
		rc = -errno;
		log_warn("files: rename %s to %s", tmp_path, path);
		rmdir(dir);
		return rc;
	}
	if (sync && ((rc = fsync_dir(dir)) < 0 ||
	    (rc = fsync_dir(srv->files_dir)) < 0))
		log_warnx("files: fsync %s: %s", dir, strerror(-rc));
	return rc;
}

void
files_remove_dir(const char *files_dir, uint64_t id)
{
	char	 dir[PATH_MAX + 32];
	int	 rc;

	snprintf(dir, sizeof(dir), "%s/%llu", files_dir,
	    (unsigned long long)id);
	if ((rc = fs_remove_tree(dir, 0)) < 0)
		log_warnx("files: remove %s: %s", dir, strerror(-rc));
}

void
files_remove(struct server *srv, uint64_t id)
{
	files_remove_dir(srv->files_dir, id);
	/* Cluster mode: its blob goes once no other job carries it. */
	blobs_collect(srv);
}

int
files_sweep(struct server *srv)
{
	DIR		*d = opendir(srv->files_dir);
	struct dirent	*de;
	int		 gone = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		struct job	 j;
		char		*end;
		unsigned long long id = strtoull(de->d_name, &end, 10);
		int		 keep = 0;

		if (de->d_name[0] == '.')
			continue;
		if (*end == '\0' && id > 0 && store_get(srv->store, id, &j) == 0) {
			keep = j.type == JOB_UPLOAD;
			job_clear(&j);
		}
		if (keep)
			continue;
		log_info("files: removing %s/%s: no upload job owns it",
		    srv->files_dir, de->d_name);
		{
			char path[4096 + 256];

			snprintf(path, sizeof(path), "%s/%s", srv->files_dir,
			    de->d_name);
			fs_remove_tree(path, 0);
		}
		gone++;
	}
	closedir(d);
	return gone;
}
