/*
 * Removal of deleted jobs' output and files on a thread (trash.h): one
 * batch in flight at a time; what arrives meanwhile waits for the next.
 */
#include <errno.h>
#include <stdlib.h>

#include <uv.h>

#include "server.h"
#include "store/blobs.h"
#include "store/files.h"
#include "store/output.h"
#include "store/trash.h"
#include "vec.h"

struct trash_item {
	uint64_t	 id;
	int		 attempts;
};

struct trash {
	struct server		*srv;
	uv_work_t		 work;
	int			 busy;		/* work is queued or running */
	struct trash_item	*wait;		/* for the next batch */
	size_t			 nwait, capwait;
	struct trash_item	*run;		/* the thread's batch */
	size_t			 nrun, caprun;
};

static void	trash_kick(struct trash *);

/* On a pool thread: system calls on fixed directories only. */
static void
on_work(uv_work_t *w)
{
	struct trash	*t = w->data;
	struct server	*srv = t->srv;

	for (size_t i = 0; i < t->nrun; i++) {
		output_remove(srv->output_dir, t->run[i].id, t->run[i].attempts);
		files_remove_dir(srv->files_dir, t->run[i].id);
	}
}

static void
on_after(uv_work_t *w, int status)
{
	struct trash *t = w->data;

	(void)status;	/* never canceled: nobody calls uv_cancel on it */
	t->busy = 0;
	t->nrun = 0;
	/* Cluster mode: their blobs go once no other job carries them. */
	blobs_collect(t->srv);
	trash_kick(t);
}

/* Starts a batch of what waits, unless one is in flight. */
static void
trash_kick(struct trash *t)
{
	struct trash_item	*swap;
	size_t			 cap;

	if (t->busy || t->nwait == 0)
		return;
	swap = t->run;
	cap = t->caprun;
	t->run = t->wait;
	t->caprun = t->capwait;
	t->nrun = t->nwait;
	t->wait = swap;
	t->capwait = cap;
	t->nwait = 0;
	t->work.data = t;
	if (uv_queue_work(t->srv->loop, &t->work, on_work, on_after) != 0) {
		/* Cannot happen with a valid loop and callbacks: do it here. */
		on_work(&t->work);
		t->nrun = 0;
		blobs_collect(t->srv);
		return;
	}
	t->busy = 1;
}

int
trash_add(struct server *srv, uint64_t id, int attempts)
{
	struct trash *t = srv->trash;

	if (t == NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			return -ENOMEM;
		t->srv = srv;
		srv->trash = t;
	}
	if (vec_grow(&t->wait, &t->capwait, t->nwait + 1, sizeof(*t->wait)) < 0)
		return -ENOMEM;
	t->wait[t->nwait].id = id;
	t->wait[t->nwait++].attempts = attempts;
	trash_kick(t);
	return 0;
}

size_t
trash_backlog(const struct server *srv)
{
	const struct trash *t = srv->trash;

	return t == NULL ? 0 : t->nwait + t->nrun;
}

void
trash_free(struct server *srv)
{
	struct trash *t = srv->trash;

	if (t == NULL)
		return;
	free(t->wait);
	free(t->run);
	free(t);
	srv->trash = NULL;
}
