/*
 * Bytes the nodes of a cluster share through the store: attempts'
 * output and uploaded files, kept in the database beside the local
 * files every node writes.  Each call is the loop's: the database work
 * runs off the loop (store/pgwork.c, on libuv's thread pool) and its
 * answer comes back as a callback.  With a local store (SQLite, no
 * --database) the local files are all there is: blobs_shared is 0, the
 * calls that would reach the database return -ENOTSUP, and the others
 * do nothing (a drain calls back at once).
 *
 * What goes where (docs/cluster.md):
 *   - output: the node that runs an attempt appends to its local files
 *     as ever and copies what they gained to the database every 100 ms
 *     (at once past 256 KiB); an attempt's end is reported only once
 *     its last bytes are stored, so a reader that sees the job finished
 *     finds all of its output.
 *   - files: an upload is stored as a blob before its job is submitted
 *     (pinned until the job's commit), fetched into data/files/<id>/ by
 *     the node that runs it, and read chunk by chunk by a node that
 *     serves GET .../file without a local copy.
 */
#ifndef RUNNEL_STORE_BLOBS_H
#define RUNNEL_STORE_BLOBS_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct output;

/*
 * Cluster mode on (conninfo: the shared database): keeps connections
 * for the threads and starts the collector of unused blobs.  Returns 0
 * or -ENOMEM.
 */
int	blobs_start(struct server *, const char *conninfo);
/* No new work; what runs finishes (the loop runs until it has). */
void	blobs_stop(struct server *);
/* After the loop ran dry.  NULL-safe. */
void	blobs_free(struct server *);
/* 1 when output and files are shared through the store, else 0. */
int	blobs_shared(const struct server *);

/* Called with the result of an operation, on the loop. */
typedef void (*blobs_cb)(void *arg, int rc);

/* ---- output ---- */

/* A running attempt's output (output_init'ed) is copied from now on. */
void	blobs_output_open(struct server *, struct output *);
/* Its local files gained bytes (o->bytes): copy them soon. */
void	blobs_output_wrote(struct server *, struct output *);
/*
 * The attempt is over: calls done(arg, rc) once everything its local
 * files hold is stored (rc 0), or when that failed for good (rc < 0,
 * after the database refused the bytes for about 30 s; while it cannot
 * be reached at all, this waits for it, as the attempt's end does); at
 * once without cluster mode.  o may be reused once this returns.
 */
void	blobs_output_drain(struct server *, struct output *, blobs_cb done,
	    void *arg);
/*
 * Reads up to max bytes at off of an attempt's stream from the shared
 * store into buf (which must live until cb); *n gets how many, 0 when
 * none is stored there (yet).  Returns 0 (cb will be called), -ENOTSUP
 * without cluster mode, or a code.
 */
int	blobs_output_read(struct server *, uint64_t job_id, int attempt,
	    int stream, uint64_t off, void *buf, size_t max, size_t *n,
	    blobs_cb cb, void *arg);

/* ---- uploaded files ---- */

/*
 * Stores the file at path (size bytes of SHA-256 sha, hex) as a blob
 * and pins it: *pin (which must live until cb) gets the pin for
 * blobs_unpin.  Returns 0 (cb will be called), -ENOTSUP without cluster
 * mode, or a code.
 */
int	blobs_put(struct server *, const char *path, uint64_t size,
	    const char *sha, int64_t *pin, blobs_cb cb, void *arg);
/* Drops a pin once its job's commit is over, whatever it gave. */
void	blobs_unpin(struct server *, int64_t pin);
/*
 * Fetches blob sha into a new file at path, verified (size, SHA-256).
 * rc -ENOENT: no such blob; -EPROTO: not the bytes named.  Returns 0
 * (cb will be called), -ENOTSUP without cluster mode, or a code.
 */
int	blobs_fetch(struct server *, const char *sha, uint64_t size,
	    const char *path, blobs_cb cb, void *arg);
/*
 * Reads up to max bytes at off of blob sha into buf; *n how many.
 * Returns as blobs_fetch.
 */
int	blobs_read(struct server *, const char *sha, uint64_t off,
	    void *buf, size_t max, size_t *n, blobs_cb cb, void *arg);
/* A job that carried a file is gone: collect unused blobs soon. */
void	blobs_collect(struct server *);

#endif
