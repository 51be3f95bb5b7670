/*
 * The store's shared output and files (store/blobs.h): in cluster mode
 * each call goes to the PostgreSQL thread work (store/pgwork.c), which
 * answers -ENOTSUP, or does nothing, when it was not started.
 */
#include "store/blobs.h"
#include "store/pgwork.h"

int
blobs_start(struct server *srv, const char *conninfo)
{
	return pgwork_start(srv, conninfo);
}

void
blobs_stop(struct server *srv)
{
	pgwork_stop(srv);
}

void
blobs_free(struct server *srv)
{
	pgwork_free(srv);
}

int
blobs_shared(const struct server *srv)
{
	return pgwork_on(srv);
}

void
blobs_output_open(struct server *srv, struct output *out)
{
	pgwork_output_open(srv, out);
}

void
blobs_output_wrote(struct server *srv, struct output *out)
{
	pgwork_output_wrote(srv, out);
}

void
blobs_output_drain(struct server *srv, struct output *out, blobs_cb done,
    void *arg)
{
	pgwork_output_drain(srv, out, done, arg);
}

int
blobs_output_read(struct server *srv, uint64_t job_id, int attempt,
    int stream, uint64_t off, void *buf, size_t max, size_t *n, blobs_cb cb,
    void *arg)
{
	return pgwork_output_read(srv, job_id, attempt, stream, off, buf, max,
	    n, cb, arg);
}

int
blobs_put(struct server *srv, const char *path, uint64_t size,
    const char *sha, int64_t *pin, blobs_cb cb, void *arg)
{
	return pgwork_blob_put(srv, path, size, sha, pin, cb, arg);
}

void
blobs_unpin(struct server *srv, int64_t pin)
{
	pgwork_unpin(srv, pin);
}

int
blobs_fetch(struct server *srv, const char *sha, uint64_t size,
    const char *path, blobs_cb cb, void *arg)
{
	return pgwork_blob_fetch(srv, sha, size, path, cb, arg);
}

int
blobs_read(struct server *srv, const char *sha, uint64_t off, void *buf,
    size_t max, size_t *n, blobs_cb cb, void *arg)
{
	return pgwork_blob_read(srv, sha, off, buf, max, n, cb, arg);
}

void
blobs_collect(struct server *srv)
{
	pgwork_collect(srv);
}
