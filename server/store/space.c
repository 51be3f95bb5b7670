/*
 * The reserve and the storage-full state.  statvfs is a cheap system
 * call, but it is still asked at most four times a second from the hot
 * paths; a write that fails for want of space says so at once.
 */
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "store/space.h"

#define CHECK_EVERY_MS	250
#define RETRY_MS	1000

struct space {
	struct server	*srv;
	void		 (*changed)(struct server *);
	uv_timer_t	 timer;		/* while full: is there room again? */
	int		 full;
	int		 reserved;	/* the reserve file is there */
	uint64_t	 checked_at;	/* loop time of the last look */
	char		 path[PATH_MAX + 16];
};

int64_t
space_free_bytes(struct server *srv)
{
	struct statvfs st;

	if (statvfs(srv->data_dir, &st) != 0)
		return -1;
	return (int64_t)st.f_bavail * (int64_t)st.f_frsize;
}

static int
reserve_make(struct space *s)
{
	int fd, rc;

	if (s->reserved)
		return 0;
	fd = open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	rc = posix_fallocate(fd, 0, SPACE_RESERVE_BYTES);
	close(fd);
	if (rc != 0) {
		unlink(s->path);
		return -rc;
	}
	s->reserved = 1;
	return 0;
}

static void
reserve_drop(struct space *s)
{
	if (unlink(s->path) != 0 && errno != ENOENT)
		log_warn("storage: unlink %s", s->path);
	s->reserved = 0;
}

static void
on_timer(uv_timer_t *t)
{
	struct space	*s = t->data;
	int64_t		 avail = space_free_bytes(s->srv);

	if (avail < SPACE_RESUME_BYTES || reserve_make(s) < 0)
		return;
	s->full = 0;
	uv_timer_stop(&s->timer);
	log_info("storage: %lld MiB free again on %s: taking and starting jobs",
	    (long long)(space_free_bytes(s->srv) >> 20), s->srv->data_dir);
	s->changed(s->srv);
}

static void
full_now(struct space *s, const char *what, const char *why)
{
	if (s->full)
		return;
	s->full = 1;
	reserve_drop(s);
	log_warnx("storage: the disk of %s is full (%s: %s): new jobs get 503 "
	    "storage_full, none starts and job output is not stored until "
	    "%lld MiB are free; the %lld MiB reserve is given up to finish what "
	    "runs", s->srv->data_dir, what, why,
	    (long long)(SPACE_RESUME_BYTES >> 20),
	    (long long)(SPACE_RESERVE_BYTES >> 20));
	uv_timer_start(&s->timer, on_timer, RETRY_MS, RETRY_MS);
	s->changed(s->srv);
}

int
space_full(struct server *srv)
{
	struct space	*s = srv->space;
	uint64_t	 now;
	int64_t		 avail;

	if (s == NULL || s->full)
		return s != NULL;
	now = uv_now(srv->loop);
	if (s->checked_at && now - s->checked_at < CHECK_EVERY_MS)
		return 0;
	s->checked_at = now;
	avail = space_free_bytes(srv);
	if (avail >= 0 && avail < SPACE_FLOOR_BYTES)
		full_now(s, "free space", "below the floor");
	return s->full;
}

void
space_hit(struct server *srv, const char *what, int err)
{
	if (srv->space && (err == ENOSPC || err == EDQUOT))
		full_now(srv->space, what, strerror(err));
}

int
space_start(struct server *srv, void (*changed)(struct server *))
{
	struct space	*s;
	int		 rc;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->srv = srv;
	s->changed = changed;
	snprintf(s->path, sizeof(s->path), "%s/reserve", srv->data_dir);
	uv_timer_init(srv->loop, &s->timer);
	s->timer.data = s;
	srv->space = s;
	if ((rc = reserve_make(s)) < 0) {
		log_warnx("storage: cannot make the reserve %s: %s", s->path,
		    strerror(-rc));
		full_now(s, "reserve", strerror(-rc));
	}
	space_full(srv);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

void
space_stop(struct server *srv)
{
	if (srv->space)
		uv_close((uv_handle_t *)&srv->space->timer, on_closed);
}

void
space_free(struct server *srv)
{
	free(srv->space);
	srv->space = NULL;
}
