/*
 * Output and uploaded files in PostgreSQL, the loop's half, for
 * store/blobs.c only (callers include store/blobs.h, which says what
 * goes where): in cluster mode (--database) every conversation
 * store/pgio.h has with the database runs on a thread of libuv's pool,
 * and its answer comes back to the loop as a callback, so the loop never
 * waits on the network.  Without --database nothing here runs: pgwork_on
 * is 0, the output calls return at once and the others -ENOTSUP.
 */
#ifndef RUNNEL_PGWORK_H
#define RUNNEL_PGWORK_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct output;

#define PGWORK_FLUSH_MS		100
#define PGWORK_FLUSH_BYTES	(256u << 10)

/*
 * Cluster mode on: keeps a set of connections to conninfo for threads
 * and starts the collector of unused blobs.  Returns 0 or -ENOMEM.
 */
int	pgwork_start(struct server *, const char *conninfo);
/* No new work; what runs finishes (the loop runs until it has). */
void	pgwork_stop(struct server *);
/* After the loop ran dry.  NULL-safe. */
void	pgwork_free(struct server *);
/* 1 in cluster mode, else 0. */
int	pgwork_on(const struct server *);

/* Called with the result of an operation, on the loop. */
typedef void (*pgwork_cb)(void *arg, int rc);

/* ---- output ---- */

/* A running attempt's output (output_init'ed) is copied from now on. */
void	pgwork_output_open(struct server *, struct output *);
/* Its local files gained bytes (o->bytes): copy them soon. */
void	pgwork_output_wrote(struct server *, struct output *);
/*
 * The attempt is over: calls done(arg, rc) once everything its local
 * files hold is stored (rc 0), or when that failed for good (rc < 0,
 * after the database refused the bytes for about PGWORK_GIVE_UP_MS;
 * while it cannot be reached at all, this waits for it, as the
 * attempt's end does); at once without cluster mode.  o may be reused
 * once this returns.
 */
void	pgwork_output_drain(struct server *, struct output *, pgwork_cb done,
	    void *arg);
#define PGWORK_GIVE_UP_MS	30000

/*
 * Reads up to max bytes at off of an attempt's stream from job_output
 * into buf (which must live until cb); *n gets how many, 0 when none is
 * stored there (yet).  Returns 0 (cb will be called) or a code.
 */
int	pgwork_output_read(struct server *, uint64_t job_id, int attempt,
	    int stream, uint64_t off, void *buf, size_t max, size_t *n,
	    pgwork_cb cb, void *arg);

/* ---- uploaded files ---- */

/*
 * Stores the file at path (size bytes of SHA-256 sha, hex) as a blob
 * and pins it: *pin (which must live until cb) gets the pin for
 * pgwork_unpin.  Returns 0 (cb will be called) or a code.
 */
int	pgwork_blob_put(struct server *, const char *path, uint64_t size,
	    const char *sha, int64_t *pin, pgwork_cb cb, void *arg);
/* Drops a pin once its job's commit is over, whatever it gave. */
void	pgwork_unpin(struct server *, int64_t pin);
/*
 * Fetches blob sha into a new file at path, verified (size, SHA-256).
 * rc -ENOENT: no such blob; -EPROTO: not the bytes named.
 */
int	pgwork_blob_fetch(struct server *, const char *sha, uint64_t size,
	    const char *path, pgwork_cb cb, void *arg);
/* Reads up to max bytes at off of blob sha into buf; *n how many. */
int	pgwork_blob_read(struct server *, const char *sha, uint64_t off,
	    void *buf, size_t max, size_t *n, pgwork_cb cb, void *arg);
/* A job that carried a file is gone: collect unused blobs soon. */
void	pgwork_collect(struct server *);

#endif
