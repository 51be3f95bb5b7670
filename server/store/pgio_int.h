/*
 * What store/pg_files.c and store/pg_output.c share with store/pgio.c:
 * running one statement with binary results and reading them.
 */
#ifndef RUNNEL_PGIO_INT_H
#define RUNNEL_PGIO_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "store/pgio.h"

/*
 * Runs sql with n parameters (text, but for those whose len is >= 0:
 * then binary, of that many bytes), results in binary.  Returns 0 with
 * *res set (PQclear it; NULL allowed when nothing is wanted), or -EIO
 * (logged with what) with *res NULL and the statement's SQLSTATE in
 * state (6 bytes) when the server gave one.
 */
int	pgio_exec(PGconn *, const char *what, const char *sql, int n,
	    const char *const *vals, const int *lens, PGresult **res,
	    char state[6]);
/* Runs a statement without parameters or results (BEGIN, COMMIT). */
int	pgio_simple(PGconn *, const char *what, const char *sql);
/* libpq's message m on one line (no newlines or tabs) in buf. */
const char *pgio_msg(const char *m, char *buf, size_t size);
/* A binary int8/int4 column's value. */
int64_t	pgio_int(const PGresult *, int row, int col);

#endif
