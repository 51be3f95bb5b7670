/*
 * Job output in PostgreSQL (store/pgio.h): the job_output rows that
 * copy each attempt's local output files, so that any node can serve
 * and follow them.  Blocking: threads only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store/pgio_int.h"

int
pg_output_put(struct pgio *io, uint64_t job_id, int attempt, int stream,
    uint64_t off, const void *data, size_t len)
{
	static const char sql[] = "INSERT INTO job_output (job_id, attempt, "
	    "stream, off, data) VALUES ($1, $2, $3, $4, $5) "
	    "ON CONFLICT DO NOTHING";
	PGconn		*c;
	char		 ids[24], atts[16], strs[4], offs[24], state[6] = "";
	const char	*vals[5] = {ids, atts, strs, offs, NULL};
	int		 lens[5] = {-1, -1, -1, -1, 0}, rc = 0;

	if ((c = pgio_get(io)) == NULL)
		return -ENOTCONN;
	snprintf(ids, sizeof(ids), "%" PRIu64, job_id);
	snprintf(atts, sizeof(atts), "%d", attempt);
	snprintf(strs, sizeof(strs), "%d", stream);
	if (len > PGIO_CHUNK_BYTES)
		rc = pgio_simple(c, "output begin", "BEGIN");
	for (size_t done = 0; rc == 0 && done < len; done += (size_t)lens[4]) {
		lens[4] = (int)(len - done < PGIO_CHUNK_BYTES ? len - done :
		    PGIO_CHUNK_BYTES);
		vals[4] = (const char *)data + done;
		snprintf(offs, sizeof(offs), "%" PRIu64, off + done);
		rc = pgio_exec(c, "output insert", sql, 5, vals, lens, NULL,
		    state);
	}
	if (len > PGIO_CHUNK_BYTES)
		rc = rc == 0 ? pgio_simple(c, "output commit", "COMMIT") :
		    (pgio_simple(c, "output rollback", "ROLLBACK"), rc);
	if (rc < 0 && strcmp(state, "23503") == 0)
		rc = -ENOENT;	/* the job was deleted (or rescued and deleted) */
	else if (rc < 0 && PQstatus(c) != CONNECTION_OK)
		rc = -ENOTCONN;	/* the database went away meanwhile */
	pgio_put(io, c, rc == 0 || rc == -ENOENT);
	return rc;
}

int
pg_output_read(struct pgio *io, uint64_t job_id, int attempt, int stream,
    uint64_t off, void *buf, size_t max, size_t *n)
{
	/* The row holding off, then the ones after it, in order. */
	static const char sql[] =
	    "(SELECT off, data FROM job_output WHERE job_id = $1 AND "
	    "attempt = $2 AND stream = $3 AND off <= $4 ORDER BY off DESC "
	    "LIMIT 1) UNION ALL (SELECT off, data FROM job_output WHERE "
	    "job_id = $1 AND attempt = $2 AND stream = $3 AND off > $4 AND "
	    "off < $4 + $5 ORDER BY off LIMIT 64) ORDER BY off";
	PGconn		*c;
	PGresult	*r = NULL;
	char		 ids[24], atts[16], strs[4], offs[24], maxs[24];
	const char	*vals[5] = {ids, atts, strs, offs, maxs};
	uint64_t	 at = off;
	int		 rc;

	*n = 0;
	if ((c = pgio_get(io)) == NULL)
		return -EIO;
	snprintf(ids, sizeof(ids), "%" PRIu64, job_id);
	snprintf(atts, sizeof(atts), "%d", attempt);
	snprintf(strs, sizeof(strs), "%d", stream);
	snprintf(offs, sizeof(offs), "%" PRIu64, off);
	snprintf(maxs, sizeof(maxs), "%zu", max);
	rc = pgio_exec(c, "output read", sql, 5, vals, NULL, &r, NULL);
	pgio_put(io, c, rc == 0);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(r) && *n < max; i++) {
		uint64_t	 row = (uint64_t)pgio_int(r, i, 0);
		uint64_t	 len = (uint64_t)PQgetlength(r, i, 1);
		size_t		 k;

		if (row > at || row + len <= at)
			break;		/* a gap, or nothing at off yet */
		k = (size_t)(row + len - at);
		if (k > max - *n)
			k = max - *n;
		memcpy((char *)buf + *n, PQgetvalue(r, i, 1) + (at - row), k);
		*n += k;
		at += k;
	}
	PQclear(r);
	return 0;
}
