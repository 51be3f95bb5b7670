/*
 * Cluster mode: an upload job claimed by a node that does not hold its
 * file.  Before the RUN goes out, the file is fetched from the database
 * (store/blobs.h: off the loop, its size and SHA-256 checked) into
 * data/tmp and moved to data/files/<id>/<name>, where the worker finds
 * and verifies it as on the node that took the upload.  The worker is
 * busy with the job meanwhile; a CANCEL for it waits for the RUN.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pool/pool_int.h"
#include "server.h"
#include "store/blobs.h"
#include "store/files.h"

struct fetch {
	struct pool	*pool;
	int		 slot;
	uint64_t	 job_id;
	struct msg_body	 run;
	char		 tmp[PATH_MAX + 64];
	char		 path[PATH_MAX + 300];
};

static void
on_fetched(void *arg, int rc)
{
	struct fetch	*f = arg;
	struct pool	*p = f->pool;
	struct worker	*w = &p->w[f->slot];
	char		 dir[PATH_MAX + 32];

	snprintf(dir, sizeof(dir), "%s/%llu", p->srv->files_dir,
	    (unsigned long long)f->job_id);
	if (rc == 0 && (mkdir(dir, 0750) == 0 || errno == EEXIST) &&
	    rename(f->tmp, f->path) == 0) {
		log_debug("pool: job=%llu: file fetched from the database",
		    (unsigned long long)f->job_id);
	} else {
		/* The worker's check of the file fails the job and says why. */
		if (rc == 0)
			log_warn("pool: job=%llu: move %s", (unsigned long long)
			    f->job_id, f->tmp);
		else
			log_warnx("pool: job=%llu: its file could not be fetched "
			    "from the database: %s", (unsigned long long)f->job_id,
			    strerror(-rc));
		unlink(f->tmp);
	}
	if (w->fetching && w->job_id == f->job_id && w->state == W_BUSY) {
		w->fetching = 0;
		if (worker_send(w, f->job_id, &f->run) == 0 && w->fetch_cancel)
			pool_cancel(p, f->job_id, w->fetch_cancel);
		w->fetch_cancel = NULL;
	}
	msg_body_free(&f->run);
	free(f);
}

int
fetch_then_run(struct worker *w, const struct job *j, struct msg_body *b)
{
	struct pool	*p = w->pool;
	struct fetch	*f;
	struct stat	 st;
	int		 rc, fd;

	if (!blobs_shared(p->srv) || j->type != JOB_UPLOAD ||
	    j->file_name == NULL || j->file_sha256 == NULL)
		return 0;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return 0;	/* the worker's check says it is missing */
	files_path(p->srv, j->id, j->file_name, f->path, sizeof(f->path));
	if (stat(f->path, &st) == 0) {
		free(f);
		return 0;	/* this node took the upload, or ran it before */
	}
	f->pool = p;
	f->slot = (int)(w - p->w);
	f->job_id = j->id;
	/* A unique name in our tmp directory (mkstemp fills the XXXXXX),
	 * freed again for pgio, which creates the file itself (O_EXCL). */
	snprintf(f->tmp, sizeof(f->tmp), "%s/fetch-%llu-XXXXXX",
	    p->srv->tmp_dir, (unsigned long long)j->id);
	if ((fd = mkstemp(f->tmp)) < 0) {
		free(f);
		return 0;
	}
	close(fd);
	unlink(f->tmp);
	f->run = *b;
	if ((rc = blobs_fetch(p->srv, j->file_sha256,
	    (uint64_t)j->file_size, f->tmp, on_fetched, f)) < 0) {
		free(f);
		return 0;
	}
	memset(b, 0, sizeof(*b));	/* the fetch owns the RUN now */
	w->fetching = 1;
	w->fetch_cancel = NULL;
	return 1;
}
