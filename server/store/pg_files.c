/*
 * Uploaded files as blobs in PostgreSQL (store/pgio.h): chunk rows of
 * 1 MiB named by the file's SHA-256, written whole in one transaction,
 * pinned until the job that carries them is committed, collected once
 * no job carries them.  Blocking: threads only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "store/pgio_int.h"

/* One name per blob for an advisory lock: two nodes storing the same
 * bytes at once write them once. */
#define SQL_LOCK	"SELECT pg_advisory_xact_lock(hashtextextended($1, 17))"

static int
rollback(PGconn *c, int rc)
{
	pgio_simple(c, "rollback", "ROLLBACK");
	return rc;
}

/* Reads len bytes at off of fd into buf.  0 or a code. */
static int
read_full(int fd, char *buf, size_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPROTO;	/* shrank */
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* The chunks of a new blob.  0 or a code. */
static int
put_chunks(PGconn *c, int fd, const char *sha, uint64_t size, char *buf)
{
	static const char sql[] =
	    "INSERT INTO blob_chunks (sha256, off, data) VALUES ($1, $2, $3)";
	char		 offs[24];
	const char	*vals[3] = {sha, offs, buf};
	int		 lens[3] = {-1, -1, 0}, rc;

	for (uint64_t off = 0; off < size; off += PGIO_CHUNK_BYTES) {
		size_t len = size - off < PGIO_CHUNK_BYTES ?
		    (size_t)(size - off) : PGIO_CHUNK_BYTES;

		if ((rc = read_full(fd, buf, len, off)) < 0) {
			log_warnx("pgio: blob %.12s: read at %" PRIu64 ": %s", sha,
			    off, strerror(-rc));
			return rc;
		}
		snprintf(offs, sizeof(offs), "%" PRIu64, off);
		lens[2] = (int)len;
		if ((rc = pgio_exec(c, "blob chunk", sql, 3, vals, lens, NULL,
		    NULL)) < 0)
			return rc;
	}
	return 0;
}

int
pg_files_put(struct pgio *io, const char *path, uint64_t size,
    const char *sha, int64_t *pin)
{
	PGconn		*c = NULL;
	PGresult	*r = NULL;
	char		 sizes[24], *buf = NULL;
	const char	*vals[2] = {sha, sizes};
	int		 fd = -1, rc, ok = 0;

	*pin = 0;
	snprintf(sizes, sizeof(sizes), "%" PRIu64, size);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = -errno;
		log_warn("pgio: open %s", path);
		goto out;
	}
	if ((buf = malloc(PGIO_CHUNK_BYTES)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((c = pgio_get(io)) == NULL) {
		rc = -ENOTCONN;
		goto out;
	}
	if ((rc = pgio_simple(c, "begin", "BEGIN")) < 0 ||
	    (rc = pgio_simple(c, "blob durable", "SET LOCAL synchronous_commit "
	    "= on")) < 0 ||
	    (rc = pgio_exec(c, "blob lock", SQL_LOCK, 1, vals, NULL, NULL,
	    NULL)) < 0 ||
	    (rc = pgio_exec(c, "blob find", "SELECT size FROM blobs WHERE "
	    "sha256 = $1", 1, vals, NULL, &r, NULL)) < 0)
		goto out;
	if (PQntuples(r) == 1 && (uint64_t)pgio_int(r, 0, 0) != size) {
		log_warnx("pgio: blob %.12s holds %" PRId64 " bytes, not %"
		    PRIu64, sha, pgio_int(r, 0, 0), size);
		rc = -EPROTO;
		goto out;
	}
	if (PQntuples(r) == 0 &&
	    ((rc = pgio_exec(c, "blob insert", "INSERT INTO blobs (sha256, "
	    "size) VALUES ($1, $2)", 2, vals, NULL, NULL, NULL)) < 0 ||
	    (rc = put_chunks(c, fd, sha, size, buf)) < 0))
		goto out;
	PQclear(r);
	r = NULL;
	if ((rc = pgio_exec(c, "blob pin", "INSERT INTO blob_pins (sha256) "
	    "VALUES ($1) RETURNING id", 1, vals, NULL, &r, NULL)) < 0 ||
	    (rc = pgio_simple(c, "blob commit", "COMMIT")) < 0)
		goto out;
	*pin = pgio_int(r, 0, 0);
	ok = 1;
out:
	if (c && !ok && rc == -EIO && PQstatus(c) != CONNECTION_OK)
		rc = -ENOTCONN;	/* the database went away meanwhile */
	if (c && !ok && PQtransactionStatus(c) != PQTRANS_IDLE)
		rollback(c, rc);
	pgio_put(io, c, ok || rc == -EPROTO);
	PQclear(r);
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

int
pg_files_unpin(struct pgio *io, int64_t pin)
{
	PGconn		*c = pgio_get(io);
	char		 ids[24];
	const char	*vals[1] = {ids};
	int		 rc;

	if (c == NULL)
		return -EIO;
	snprintf(ids, sizeof(ids), "%" PRId64, pin);
	rc = pgio_exec(c, "unpin", "DELETE FROM blob_pins WHERE id = $1", 1,
	    vals, NULL, NULL, NULL);
	pgio_put(io, c, rc == 0);
	return rc;
}

/* Writes the rows of r to fd, in order and without a gap.  0 or a code. */
static int
fetch_rows(PGconn *c, int fd, EVP_MD_CTX *md, uint64_t *got)
{
	PGresult	*r;
	int		 rc = 0;

	while ((r = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (st == PGRES_SINGLE_TUPLE && rc == 0) {
			const char	*p = PQgetvalue(r, 0, 1);
			size_t		 len = (size_t)PQgetlength(r, 0, 1);

			if ((uint64_t)pgio_int(r, 0, 0) != *got) {
				rc = -EPROTO;	/* a gap */
			} else {
				EVP_DigestUpdate(md, p, len);
				*got += len;
				while (len > 0 && rc == 0) {
					ssize_t n = write(fd, p, len);

					if (n < 0 && errno != EINTR)
						rc = -errno;
					if (n > 0) {
						p += n;
						len -= (size_t)n;
					}
				}
			}
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
		    rc == 0) {
			char m[512];

			log_warnx("pgio: blob fetch: %s", pgio_msg(
			    PQresultErrorMessage(r), m, sizeof(m)));
			rc = -EIO;
		}
		PQclear(r);
	}
	return rc;
}

int
pg_files_fetch(struct pgio *io, const char *sha, uint64_t size,
    const char *path)
{
	PGconn		*c = NULL;
	PGresult	*r = NULL;
	EVP_MD_CTX	*md = NULL;
	const char	*vals[1] = {sha};
	unsigned char	 dig[32];
	char		 hex[65];
	uint64_t	 got = 0;
	int		 fd = -1, rc, ok = 0;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		rc = -ENOMEM;
		goto out;
	}
	if ((c = pgio_get(io)) == NULL) {
		rc = -EIO;
		goto out;
	}
	if ((rc = pgio_exec(c, "blob find", "SELECT size FROM blobs WHERE "
	    "sha256 = $1", 1, vals, NULL, &r, NULL)) < 0)
		goto out;
	if (PQntuples(r) == 0) {
		log_warnx("pgio: blob %.12s is not in the database", sha);
		ok = 1;
		rc = -ENOENT;
		goto out;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0640)) < 0) {
		rc = -errno;
		log_warn("pgio: create %s", path);
		ok = 1;
		goto out;
	}
	if (PQsendQueryParams(c, "SELECT off, data FROM blob_chunks WHERE "
	    "sha256 = $1 ORDER BY off", 1, NULL, vals, NULL, NULL, 1) != 1 ||
	    PQsetSingleRowMode(c) != 1) {
		char m[512];

		log_warnx("pgio: blob fetch: %s", pgio_msg(PQerrorMessage(c), m,
		    sizeof(m)));
		rc = -EIO;
		goto out;
	}
	rc = fetch_rows(c, fd, md, &got);
	ok = rc != -EIO;
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	if (rc < 0)
		goto out;
	EVP_DigestFinal_ex(md, dig, NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
	if (got != size || strcmp(hex, sha) != 0) {
		log_warnx("pgio: blob %.12s: the database holds %" PRIu64
		    " bytes of SHA-256 %.12s, not %" PRIu64 " of %.12s", sha, got,
		    hex, size, sha);
		rc = -EPROTO;
	}
out:
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = -errno;
	if (fd >= 0 && rc < 0)
		unlink(path);
	pgio_put(io, c, ok);
	PQclear(r);
	EVP_MD_CTX_free(md);
	return rc;
}

int
pg_files_read(struct pgio *io, const char *sha, uint64_t off, void *buf,
    size_t max, size_t *n)
{
	PGconn		*c;
	PGresult	*r = NULL;
	char		 offs[24], maxs[24];
	const char	*vals[3] = {sha, offs, maxs};
	int		 rc;

	*n = 0;
	if ((c = pgio_get(io)) == NULL)
		return -EIO;
	snprintf(offs, sizeof(offs), "%" PRIu64, off);
	snprintf(maxs, sizeof(maxs), "%zu", max > PGIO_CHUNK_BYTES ?
	    (size_t)PGIO_CHUNK_BYTES : max);
	/* substring of an EXTERNAL value reads only the TOAST pages it needs */
	rc = pgio_exec(c, "blob read", "SELECT substring(data FROM "
	    "($2::bigint - off + 1)::int FOR $3::int) FROM blob_chunks "
	    "WHERE sha256 = $1 AND off <= $2::bigint ORDER BY off DESC LIMIT 1",
	    3, vals, NULL, &r, NULL);
	pgio_put(io, c, rc == 0);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 1) {
		*n = (size_t)PQgetlength(r, 0, 0);
		if (*n > max)
			*n = max;
		memcpy(buf, PQgetvalue(r, 0, 0), *n);
	}
	PQclear(r);
	return 0;
}

int
pg_files_collect(struct pgio *io)
{
	PGconn		*c;
	PGresult	*r = NULL;
	int		 rc, gone = 0;

	if ((c = pgio_get(io)) == NULL)
		return -EIO;
	if ((rc = pgio_simple(c, "stale pins", "DELETE FROM blob_pins WHERE "
	    "at < now() - interval '1 hour'")) < 0 ||
	    (rc = pgio_exec(c, "blob candidates", "SELECT sha256 FROM blobs b "
	    "WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.file_sha256 = "
	    "b.sha256) AND NOT EXISTS (SELECT 1 FROM blob_pins p WHERE "
	    "p.sha256 = b.sha256) LIMIT 1000", 0, NULL, NULL, &r, NULL)) < 0) {
		pgio_put(io, c, 0);
		return rc;
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char	*vals[1] = {PQgetvalue(r, i, 0)};
		PGresult	*d = NULL;
		char		 state[6];

		/* Checked again row by row: a pin taken meanwhile keeps its
		 * blob (the foreign key refuses the delete). */
		if (pgio_exec(c, "blob delete", "DELETE FROM blobs b WHERE "
		    "sha256 = $1 AND NOT EXISTS (SELECT 1 FROM jobs j WHERE "
		    "j.file_sha256 = b.sha256)", 1, vals, NULL, &d, state) == 0) {
			gone += atoi(PQcmdTuples(d));
			PQclear(d);
		}
	}
	PQclear(r);
	pgio_put(io, c, 1);
	return gone;
}
