/*
 * Output and uploaded files in PostgreSQL (cluster mode), the blocking
 * half: each function runs one short conversation with the database on
 * a connection of its own, so it is called from a thread of libuv's
 * pool (store/pgwork.c), never from the loop.  Tables: job_output,
 * blobs, blob_chunks and blob_pins (schema/postgresql/003_output_files.sql).
 *
 * Errors are negative errno codes, the detail logged once here:
 *   -EIO     the database failed or is unreachable (try again later)
 *   -ENOTCONN  pg_output_put and pg_files_put: the database cannot be
 *            reached (nothing was stored)
 *   -ENOENT  no such row, blob or job
 *   -EPROTO  what the database holds is not what was asked for (a size
 *            or SHA-256 that does not match)
 *   -ENOMEM, and what open/read/write of a local file gave.
 */
#ifndef RUNNEL_PGIO_H
#define RUNNEL_PGIO_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of one chunk row of a file, and at most of one output row. */
#define PGIO_CHUNK_BYTES	(1u << 20)

struct pgio;

/*
 * A set of connections to the database named by conninfo (copied),
 * opened as threads need them and kept for reuse, at most max idle.
 * Nothing connects yet.  Returns NULL when out of memory.
 */
struct pgio *pgio_new(const char *conninfo, int max);
/* Closes every connection; no thread may be using one.  NULL: no-op. */
void	pgio_free(struct pgio *);

/* ---- uploaded files (store/pg_files.c) ---- */

/*
 * Stores the file at path, of size bytes and SHA-256 sha (hex), as the
 * blob sha unless one is there already (then its size must match), and
 * pins it; *pin gets the pin's id, for pg_files_unpin once the job that
 * carries sha is committed (or refused).  Returns 0 or a code.
 */
int	pg_files_put(struct pgio *, const char *path, uint64_t size,
	    const char *sha, int64_t *pin);
/* Drops a pin of pg_files_put.  Returns 0 or a code. */
int	pg_files_unpin(struct pgio *, int64_t pin);
/*
 * Writes blob sha into a new file at path (mode 0640, fsynced), checking
 * that it has size bytes and that their SHA-256 is sha.  On failure no
 * file is left at path.  Returns 0, -ENOENT (no such blob), -EPROTO (the
 * bytes are not the ones named), or a code.
 */
int	pg_files_fetch(struct pgio *, const char *sha, uint64_t size,
	    const char *path);
/*
 * Reads up to max bytes of blob sha from offset off into buf; *n gets
 * how many (0 at or past its end).  Returns 0, -ENOENT, or a code.
 */
int	pg_files_read(struct pgio *, const char *sha, uint64_t off,
	    void *buf, size_t max, size_t *n);
/*
 * Deletes blobs that no job carries and no live pin holds (and pins left
 * over an hour by a node that died).  Returns how many blobs went, or a
 * code.
 */
int	pg_files_collect(struct pgio *);

/* ---- output (store/pg_output.c) ---- */

/*
 * Stores len bytes of a job's attempt's stream (0 stdout, 1 stderr)
 * that start at offset off, in rows of at most PGIO_CHUNK_BYTES, in one
 * transaction.  Rows there already are kept (a retry after a commit
 * whose answer was lost).  Returns 0, -ENOENT when the job is gone, or a
 * code.
 */
int	pg_output_put(struct pgio *, uint64_t job_id, int attempt,
	    int stream, uint64_t off, const void *data, size_t len);
/*
 * Reads up to max bytes of a stream from offset off into buf, as far as
 * the stored rows run without a gap; *n gets how many (0: none stored
 * there yet).  Returns 0 or a code.
 */
int	pg_output_read(struct pgio *, uint64_t job_id, int attempt,
	    int stream, uint64_t off, void *buf, size_t max, size_t *n);

/* ---- for the two files above ---- */

struct pg_conn;		/* PGconn */

/* A connection (opened if need be), or NULL (logged).  Give it back. */
struct pg_conn *pgio_get(struct pgio *);
/* Gives a connection back; broken ones (and !ok ones) are closed. */
void	pgio_put(struct pgio *, struct pg_conn *, int ok);

#endif
