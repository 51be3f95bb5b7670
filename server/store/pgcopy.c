/*
 * Binary COPY FROM STDIN (store/pgcopy.h).  The format: a signature, a
 * flags word and an empty extension, then per row a 16-bit count of
 * values and per value a 32-bit length (-1: NULL) and its bytes, all
 * integers big-endian; a count of -1 ends the data.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store/pgcopy.h"
#include "vec.h"

#define SEND_BYTES	(256u << 10)

static const char signature[11] = "PGCOPY\n\377\r\n";

/*
 * Room for n more bytes.  0, or -1 with the failure kept.  The first
 * call makes room for a whole send at once (a row starting past
 * SEND_BYTES flushes the buffer), so it seldom grows again.
 */
static int
room(struct pgcopy *cp, size_t n)
{
	size_t	 need = cp->len + n;
	int	 rc;

	if (cp->err)
		return -1;
	if (n > SIZE_MAX - cp->len) {
		cp->err = -ENOMEM;
		return -1;
	}
	if (cp->cap == 0 && need < SEND_BYTES + 64)
		need = SEND_BYTES + 64;
	if ((rc = vec_grow(&cp->buf, &cp->cap, need, 1)) < 0) {
		cp->err = rc;
		return -1;
	}
	return 0;
}

static void
put(struct pgcopy *cp, const void *p, size_t n)
{
	if (room(cp, n) == 0) {
		memcpy(cp->buf + cp->len, p, n);
		cp->len += n;
	}
}

static void
put_u32(struct pgcopy *cp, uint32_t v)
{
	unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};

	put(cp, b, 4);
}

static void
put_u16(struct pgcopy *cp, uint16_t v)
{
	unsigned char b[2] = {v >> 8, v};

	put(cp, b, 2);
}

/* Hands the buffer to libpq.  A connection that failed is logged once. */
static void
flush(struct pgcopy *cp)
{
	if (cp->err || cp->len == 0)
		return;
	if (PQputCopyData(cp->s->conn, cp->buf, (int)cp->len) != 1) {
		cp->lost = 1;	/* pgcopy_end logs libpq's message */
		cp->err = -EIO;
		return;
	}
	cp->len = 0;
}

int
pgcopy_start(struct pgcopy *cp, struct pg_store *s, const char *what,
    const char *target)
{
	static const char	 tail[] = " FROM STDIN (FORMAT binary)";
	PGresult		*r;
	char			*sql;
	size_t			 n = strlen(target);

	memset(cp, 0, sizeof(*cp));
	cp->s = s;
	cp->what = what;
	if ((sql = malloc(5 + n + sizeof(tail))) == NULL)
		return -ENOMEM;
	memcpy(sql, "COPY ", 5);
	memcpy(sql + 5, target, n);
	memcpy(sql + 5 + n, tail, sizeof(tail));
	r = PQexec(s->conn, sql);
	free(sql);
	if (PQresultStatus(r) != PGRES_COPY_IN)
		return pg_fail(s, what, r);
	PQclear(r);
	put(cp, signature, sizeof(signature));
	put_u32(cp, 0);		/* flags */
	put_u32(cp, 0);		/* header extension */
	return 0;
}

void
pgcopy_row(struct pgcopy *cp, int n)
{
	if (cp->len >= SEND_BYTES)
		flush(cp);
	put_u16(cp, (uint16_t)n);
	cp->rows++;
}

void
pgcopy_null(struct pgcopy *cp)
{
	put_u32(cp, UINT32_MAX);
}

void
pgcopy_i64(struct pgcopy *cp, int64_t v)
{
	uint64_t	 u = (uint64_t)v;
	unsigned char	 b[8];

	for (int i = 7; i >= 0; i--, u >>= 8)
		b[i] = (unsigned char)u;
	put_u32(cp, 8);
	put(cp, b, 8);
}

void
pgcopy_i32(struct pgcopy *cp, int32_t v)
{
	put_u32(cp, 4);
	put_u32(cp, (uint32_t)v);
}

void
pgcopy_i16(struct pgcopy *cp, int16_t v)
{
	put_u32(cp, 2);
	put_u16(cp, (uint16_t)v);
}

void
pgcopy_bytes(struct pgcopy *cp, const void *v, size_t len)
{
	if (len > INT32_MAX) {
		if (cp->err == 0)
			cp->err = -EFBIG;
		return;
	}
	put_u32(cp, (uint32_t)len);
	put(cp, v, len);
	cp->bytes += len;
}

void
pgcopy_fail(struct pgcopy *cp, int code)
{
	if (cp->err == 0)
		cp->err = code;
}

int
pgcopy_end(struct pgcopy *cp)
{
	PGconn		*c = cp->s->conn;
	PGresult	*r, *last = NULL;
	int		 rc, ended;

	put_u16(cp, UINT16_MAX);
	flush(cp);
	free(cp->buf);
	cp->buf = NULL;
	cp->len = cp->cap = 0;
	/* A failure of ours ends the COPY with an error: nothing is kept. */
	ended = PQputCopyEnd(c, cp->err ? "runneld: the copy was abandoned" :
	    NULL) == 1;
	while (ended && (r = PQgetResult(c)) != NULL) {
		if (last == NULL || PQresultStatus(last) == PGRES_COMMAND_OK) {
			PQclear(last);
			last = r;
		} else {
			PQclear(r);	/* the first failure says it */
		}
	}
	if (cp->err && !cp->lost) {
		PQclear(last);
		if (cp->err == -ENOMEM)
			log_warnx("store: %s: out of memory", cp->what);
		else if (cp->err == -EFBIG)
			log_warnx("store: %s: a value over 2 GiB", cp->what);
		pg_turn_failed(cp->s, cp->err);
		return cp->err;
	}
	if (ended && last && PQresultStatus(last) == PGRES_COMMAND_OK) {
		PQclear(last);
		return 0;
	}
	/* The server's message, or libpq's when the connection failed. */
	rc = pg_fail(cp->s, cp->what, last);
	return rc;
}
