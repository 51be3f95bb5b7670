/*
 * COPY ... FROM STDIN in PostgreSQL's binary format, on a store's own
 * connection and in its turn's transaction (store/pg.h), for loads of
 * many rows at once (runneld --import, store/import.c).  Values go into
 * a buffer sent 256 KiB at a time; no escaping, bytes of any value go
 * as they are.  A COPY that fails fails the turn as any statement does.
 *
 *	pgcopy_start(&cp, s, "copy jobs", "jobs (id, ...)");
 *	pgcopy_row(&cp, 2); pgcopy_i64(&cp, 1); pgcopy_null(&cp); ...
 *	rc = pgcopy_end(&cp);
 *
 * Adding never fails by itself: an error (out of memory, the connection)
 * is kept, what follows is dropped, and pgcopy_end reports it.
 */
#ifndef RUNNEL_STORE_PGCOPY_H
#define RUNNEL_STORE_PGCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "store/pg.h"

struct pgcopy {
	struct pg_store	*s;
	const char	*what;		/* names it in the log */
	char		*buf;
	size_t		 len;
	size_t		 cap;
	int		 err;		/* the first failure, or 0 */
	int		 lost;		/* ... and it was the connection's */
	int64_t		 rows;
	uint64_t	 bytes;		/* of values, as added */
};

/*
 * Starts COPY target FROM STDIN (target: "table (columns)") in the
 * store's open transaction (pg_begin first).  Returns 0, or a code
 * (logged, the turn lost) with nothing to end.
 */
int	pgcopy_start(struct pgcopy *, struct pg_store *, const char *what,
	    const char *target);
/* Starts a row of n values; n values must follow. */
void	pgcopy_row(struct pgcopy *, int n);
void	pgcopy_null(struct pgcopy *);
/* Values of a bigint, an integer and a smallint column. */
void	pgcopy_i64(struct pgcopy *, int64_t v);
void	pgcopy_i32(struct pgcopy *, int32_t v);
void	pgcopy_i16(struct pgcopy *, int16_t v);
/* A text (UTF-8, no NUL) or bytea value of len bytes, copied. */
void	pgcopy_bytes(struct pgcopy *, const void *v, size_t len);
/*
 * Makes the COPY fail with code (< 0) at its end: the caller met a value
 * it cannot send (and logged why).
 */
void	pgcopy_fail(struct pgcopy *, int code);
/*
 * Sends what is left and ends the COPY.  Returns 0 when the server took
 * every row, else the code of the first failure (the server's is logged
 * here; the turn is lost either way).  Frees the buffer.
 */
int	pgcopy_end(struct pgcopy *);

#endif
