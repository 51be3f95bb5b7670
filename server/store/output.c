/*
 * Output files.  Writes are plain write(2) to the page cache from the
 * loop: they do not wait for the disk, and job output is data, not an
 * acknowledgement, so it is not fsynced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store/output.h"

static const char *suffix[2] = {"out", "err"};

void
output_init(struct output *o, uint64_t job_id, int attempt)
{
	o->job_id = job_id;
	o->attempt = attempt;
	o->fd[0] = o->fd[1] = -1;
	o->bytes[0] = o->bytes[1] = 0;
	o->error = 0;
	o->shared = NULL;
}

void
output_path(const char *dir, uint64_t job_id, int attempt,
    enum output_stream which, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%llu.%d.%s", dir, (unsigned long long)job_id,
	    attempt, suffix[which]);
}

int
output_append(const char *dir, struct output *o, enum output_stream which,
    const void *data, size_t len)
{
	const char	*p = data;
	char		 path[4096];

	if (o->fd[which] < 0) {
		output_path(dir, o->job_id, o->attempt, which, path, sizeof(path));
		o->fd[which] = open(path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_APPEND | O_CLOEXEC, 0640);
		if (o->fd[which] < 0)
			return -errno;
	}
	while (len > 0) {
		ssize_t n = write(o->fd[which], p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
		o->bytes[which] += n;
	}
	return 0;
}

void
output_error(int err, char *buf, size_t size)
{
	int n = snprintf(buf, size, "output not stored: %s", strerror(err));

	/* strerror's capital, as the rest of the message has none */
	if (n > 19 && (size_t)n < size && buf[19] >= 'A' && buf[19] <= 'Z')
		buf[19] = (char)(buf[19] - 'A' + 'a');
}

void
output_close(struct output *o)
{
	for (int i = 0; i < 2; i++) {
		if (o->fd[i] >= 0)
			close(o->fd[i]);
		o->fd[i] = -1;
	}
}

void
output_remove(const char *dir, uint64_t job_id, int attempts)
{
	char path[4096];

	for (int a = 1; a <= attempts; a++) {
		for (int w = 0; w < 2; w++) {
			output_path(dir, job_id, a, w, path, sizeof(path));
			if (unlink(path) != 0 && errno != ENOENT)
				log_warn("output: unlink %s", path);
		}
	}
}
