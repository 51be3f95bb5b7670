/*
 * runneld --import, the bytes (store/import.h): every attempt's output
 * files become job_output rows, every upload's file a blob, as a node
 * of the cluster would have written them (store/pgio.h: rows of at most
 * PGIO_CHUNK_BYTES keyed by offset; blobs named by their SHA-256, in
 * chunks), by binary COPY in the import's transaction.
 *
 * Output: the files of attempts 1 to the job's attempts, both streams;
 * a file that is not there had no output.  A file of a later attempt (a
 * shutdown took its attempt back) is left out: the job runs that
 * attempt again, and its rows must not be there before it.
 *
 * Files: a file is stored only if it is the one uploaded (its size and
 * SHA-256 are the job's), checked before it goes in and again as it
 * goes.  A file missing or changed at rest is left out, said in a
 * warning, and its job keeps its record, as the node kept it: it could
 * not serve or run that file either.  Jobs that carry the same bytes
 * share one blob; a blob the database holds already is kept.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "store/import_int.h"
#include "store/output.h"
#include "store/pgcopy.h"
#include "store/pgio.h"
#include "vec.h"

/* The most attempts a job can have (JOB_ATTEMPTS_MAX), with room. */
#define ATTEMPTS_MAX	100000
/* Blobs asked about in one query. */
#define ASK_BLOBS	1000

/* Reads up to len bytes; *got how many (less only at the end).  0 or -errno. */
static int
read_some(int fd, char *buf, size_t len, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = read(fd, buf + *got, len - *got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* ---- output ---- */

/* One output file into the COPY.  0 (also when there is none) or a code. */
static int
output_file(struct import *x, struct pgcopy *cp, char *buf, uint64_t id,
    int attempt, int stream)
{
	char	 path[PATH_MAX];
	uint64_t off = 0;
	size_t	 got;
	int	 fd, rc;

	output_path(x->output_dir, id, attempt, stream, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		log_warn("import: %s", path);
		return rc;
	}
	while ((rc = read_some(fd, buf, PGIO_CHUNK_BYTES, &got)) == 0 &&
	    got > 0) {
		pgcopy_row(cp, 5);
		pgcopy_i64(cp, (int64_t)id);
		pgcopy_i32(cp, attempt);
		pgcopy_i16(cp, (int16_t)stream);
		pgcopy_i64(cp, (int64_t)off);
		pgcopy_bytes(cp, buf, got);
		off += got;
		x->st->output_rows++;
		if (got < PGIO_CHUNK_BYTES)
			break;
	}
	if (rc < 0)
		log_warnx("import: %s: %s", path, strerror(-rc));
	close(fd);
	x->st->output_files++;
	x->st->output_bytes += off;
	return rc;
}

/* A file of data/output, by its name: <id>.<attempt>.out|err. */
struct outfile {
	uint64_t	 id;
	int		 attempt;
	int		 stream;
};

static int
by_job(const void *pa, const void *pb)
{
	const struct outfile *a = pa, *b = pb;

	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	if (a->attempt != b->attempt)
		return a->attempt < b->attempt ? -1 : 1;
	return a->stream - b->stream;
}

/* 1 if name is an output file's (output_path's form), filling *f. */
static int
outfile_parse(const char *name, struct outfile *f)
{
	unsigned long long	 id;
	long			 attempt;
	char			*end;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	errno = 0;
	id = strtoull(name, &end, 10);
	if (errno || *end != '.' || end[1] < '1' || end[1] > '9')
		return 0;
	attempt = strtol(end + 1, &end, 10);
	if (errno || *end != '.' || attempt > ATTEMPTS_MAX)
		return 0;
	if (strcmp(end + 1, "out") == 0)
		f->stream = OUTPUT_STDOUT;
	else if (strcmp(end + 1, "err") == 0)
		f->stream = OUTPUT_STDERR;
	else
		return 0;
	f->id = id;
	f->attempt = (int)attempt;
	return 1;
}

/*
 * The output files there are, in the order of job, attempt and stream:
 * one pass over the directory rather than two lookups for each attempt
 * of every job, most of them of files never made (a million jobs: 18 s
 * of failed opens).
 */
static int
scan_output(struct import *x, struct outfile **out, size_t *n)
{
	struct dirent	*e;
	struct outfile	 f;
	size_t		 cap = 0;
	DIR		*d;
	int		 rc = 0;

	*out = NULL;
	*n = 0;
	if ((d = opendir(x->output_dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		log_warn("import: %s", x->output_dir);
		return rc;
	}
	while (rc == 0 && (errno = 0, e = readdir(d)) != NULL) {
		if (!outfile_parse(e->d_name, &f))
			continue;
		if ((rc = vec_grow(out, &cap, *n + 1, sizeof(**out))) == 0)
			(*out)[(*n)++] = f;
	}
	if (rc == 0 && errno != 0) {
		rc = -errno;
		log_warn("import: reading %s", x->output_dir);
	}
	closedir(d);
	if (rc == 0 && *n > 1)
		qsort(*out, *n, sizeof(**out), by_job);
	return rc;
}

/*
 * The files of attempts 1 to attempts of the jobs, walking the jobs (in
 * id order) and the sorted files together; files of other jobs and later
 * attempts are left out.
 */
int
import_output(struct import *x)
{
	sqlite3_stmt	*st = NULL;
	struct outfile	*files = NULL;
	struct pgcopy	 cp;
	char		*buf = NULL;
	size_t		 nfiles, k = 0;
	int64_t		 total, done = 0;
	int		 rc, src = SQLITE_DONE, end;

	if ((rc = scan_output(x, &files, &nfiles)) < 0 ||
	    (rc = import_src_int(x, "SELECT count(*) FROM jobs WHERE "
	    "attempts > 0", &total)) < 0 ||
	    (rc = import_src_prepare(x, "SELECT id, attempts FROM jobs WHERE "
	    "attempts > 0 ORDER BY id", &st)) < 0)
		goto out;
	if ((buf = malloc(PGIO_CHUNK_BYTES)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = pgcopy_start(&cp, x->dst, "output", "job_output (job_id, "
	    "attempt, stream, off, data)")) < 0)
		goto out;
	while (rc == 0 && cp.err == 0 && k < nfiles &&
	    (src = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t	 id = (uint64_t)sqlite3_column_int64(st, 0);
		int64_t		 attempts = sqlite3_column_int64(st, 1);

		for (; k < nfiles && files[k].id < id; k++)
			;
		for (; rc == 0 && k < nfiles && files[k].id == id; k++)
			if (files[k].attempt <= attempts)
				rc = output_file(x, &cp, buf, id,
				    files[k].attempt, files[k].stream);
		if (++done % 256 == 0)
			import_progress(x, "output", done, total,
			    x->st->output_bytes, 0);
	}
	if (rc == 0 && cp.err == 0 && src != SQLITE_DONE && src != SQLITE_ROW)
		rc = import_src_fail(x, "output of jobs", src);
	if (rc < 0)
		pgcopy_fail(&cp, rc);
	end = pgcopy_end(&cp);
	if (rc == 0 && end == 0)
		import_progress(x, "output", total, total, x->st->output_bytes, 1);
	rc = rc < 0 ? rc : end;
out:
	sqlite3_finalize(st);
	free(buf);
	free(files);
	return rc;
}

/* ---- files ---- */

/* An upload job's file, as its row describes it. */
struct upload {
	uint64_t	 id;
	int64_t		 size;
	char		 sha[65];
	char		*name;
};

/* A distinct file: uploads[first..first+n) carry its bytes. */
struct blob {
	size_t		 first;
	size_t		 n;
	int		 have;		/* the database holds it already */
	int		 from;		/* the upload whose file goes in; -1 */
};

struct files {
	struct upload	*up;
	size_t		 nup, capup;
	struct blob	*blobs;
	size_t		 nblobs, capblobs;
	size_t		 nwrite;	/* blobs to write */
	char		*buf;		/* PGIO_CHUNK_BYTES */
	EVP_MD_CTX	*md;
};

static int
by_sha_then_id(const void *a, const void *b)
{
	const struct upload	*x = a, *y = b;
	int			 c = strcmp(x->sha, y->sha);

	return c ? c : x->id < y->id ? -1 : x->id > y->id;
}

/* 1 if s is a SHA-256 as runnel writes it: 64 lowercase hex digits. */
static int
sha_valid(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* 1 if name is a stored file's name (store/files.c makes them so). */
static int
name_valid(const char *s)
{
	return *s && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

/* The upload jobs, grouped by their file's SHA-256. */
static int
read_uploads(struct import *x, struct files *f)
{
	sqlite3_stmt	*st;
	int		 rc = 0, src;

	if ((rc = import_src_prepare(x, "SELECT id, file_name, file_size, "
	    "file_sha256 FROM jobs WHERE file_sha256 IS NOT NULL ORDER BY id",
	    &st)) < 0)
		return rc;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		const char	*name = (const char *)sqlite3_column_text(st, 1);
		const char	*sha = (const char *)sqlite3_column_text(st, 3);
		struct upload	*u;

		if ((rc = vec_grow(&f->up, &f->capup, f->nup + 1,
		    sizeof(*f->up))) < 0)
			break;
		u = &f->up[f->nup];
		u->id = (uint64_t)sqlite3_column_int64(st, 0);
		u->size = sqlite3_column_type(st, 2) == SQLITE_INTEGER ?
		    sqlite3_column_int64(st, 2) : -1;
		snprintf(u->sha, sizeof(u->sha), "%s", sha ? sha : "");
		if (name == NULL || !name_valid(name) || !sha_valid(u->sha) ||
		    u->size < 0) {
			log_warnx("import: job=%llu: its file is not described "
			    "as runneld describes one: not imported",
			    (unsigned long long)u->id);
			x->st->files_missing++;
			continue;
		}
		if ((u->name = strdup(name)) == NULL) {
			rc = -ENOMEM;
			break;
		}
		f->nup++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = import_src_fail(x, "upload jobs", src);
	sqlite3_finalize(st);
	if (rc < 0)
		return rc;
	if (f->nup > 1)
		qsort(f->up, f->nup, sizeof(*f->up), by_sha_then_id);
	for (size_t i = 0; i < f->nup; i++) {
		if (i > 0 && strcmp(f->up[i].sha, f->up[i - 1].sha) == 0) {
			f->blobs[f->nblobs - 1].n++;
			continue;
		}
		if ((rc = vec_grow(&f->blobs, &f->capblobs, f->nblobs + 1,
		    sizeof(*f->blobs))) < 0)
			return rc;
		f->blobs[f->nblobs++] = (struct blob){i, 1, 0, -1};
	}
	return 0;
}

/*
 * Which blobs the database holds already (left by jobs deleted there,
 * not yet collected).  One whose size is not the jobs' stops the import.
 */
static int
ask_blobs(struct import *x, struct files *f)
{
	for (size_t i = 0; i < f->nblobs; i += ASK_BLOBS) {
		size_t			 n = f->nblobs - i < ASK_BLOBS ?
					    f->nblobs - i : ASK_BLOBS;
		struct pg_params	 p;
		PGresult		*r;
		char			*arr, *a;
		int			 rc;

		if ((arr = malloc(n * 65 + 3)) == NULL)
			return -ENOMEM;
		a = arr;
		*a++ = '{';
		for (size_t k = 0; k < n; k++)
			a += sprintf(a, "%s%s", k ? "," : "",
			    f->up[f->blobs[i + k].first].sha);
		strcpy(a, "}");
		pg_params_init(&p);
		pg_param_text(&p, arr);
		rc = pg_exec_sql(x->dst, "import: blobs there", "SELECT sha256, "
		    "size FROM blobs WHERE sha256 = ANY ($1::text[])", &p, &r);
		free(arr);
		if (rc < 0)
			return rc;
		for (int row = 0; row < PQntuples(r) && rc == 0; row++) {
			const char *sha = PQgetvalue(r, row, 0);

			for (size_t k = i; k < i + n; k++) {
				const struct upload *u = &f->up[f->blobs[k].first];

				if (strcmp(u->sha, sha) != 0)
					continue;
				if (pg_int(r, row, 1) != u->size) {
					log_warnx("import: the database holds "
					    "blob %.12s of %" PRId64 " bytes, "
					    "not %" PRId64, sha, pg_int(r, row, 1),
					    u->size);
					rc = -EPROTO;
				}
				f->blobs[k].have = 1;
			}
		}
		PQclear(r);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The SHA-256 md has taken, as 64 lowercase hex digits. */
static void
digest_hex(EVP_MD_CTX *md, char hex[65])
{
	unsigned char dig[32];

	EVP_DigestFinal_ex(md, dig, NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", dig[i]);
}

/*
 * Reads upload u's file, into the COPY when cp is not NULL, and checks
 * its size and SHA-256.  Returns 0, -ENOENT (no file), -EPROTO (not
 * the bytes uploaded), or another code; the first two with why in a
 * warning.
 */
static int
read_file(struct import *x, struct files *f, const struct upload *u,
    struct pgcopy *cp)
{
	char		 path[PATH_MAX], hex[65];
	struct stat	 sb;
	uint64_t	 off = 0;
	size_t		 got;
	int		 fd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/%llu/%s", x->files_dir,
	    (unsigned long long)u->id, u->name) >= (int)sizeof(path)) {
		log_warnx("import: job=%llu: the path of its file is too long",
		    (unsigned long long)u->id);
		return -ENAMETOOLONG;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			log_warnx("import: job=%llu: its file %s is not there: "
			    "not imported", (unsigned long long)u->id, path);
		else
			log_warnx("import: %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_size != u->size) {
		log_warnx("import: job=%llu: its file %s is not the one uploaded "
		    "(not %" PRId64 " bytes): not imported",
		    (unsigned long long)u->id, path, u->size);
		close(fd);
		return -EPROTO;
	}
	EVP_DigestInit_ex(f->md, EVP_sha256(), NULL);
	while ((rc = read_some(fd, f->buf, PGIO_CHUNK_BYTES, &got)) == 0 &&
	    got > 0) {
		EVP_DigestUpdate(f->md, f->buf, got);
		if (cp) {
			pgcopy_row(cp, 3);
			pgcopy_bytes(cp, u->sha, 64);
			pgcopy_i64(cp, (int64_t)off);
			pgcopy_bytes(cp, f->buf, got);
		}
		off += got;
		if (cp && off % (64u << 20) == 0)
			import_progress(x, "files", x->st->blobs,
			    (int64_t)f->nwrite, x->st->blob_bytes + off, 0);
	}
	close(fd);
	if (rc < 0) {
		log_warnx("import: %s: %s", path, strerror(-rc));
		return rc;
	}
	digest_hex(f->md, hex);
	if (off != (uint64_t)u->size || strcmp(hex, u->sha) != 0) {
		log_warnx("import: job=%llu: its file %s is not the one uploaded "
		    "(SHA-256 %.12s, not %.12s)%s", (unsigned long long)u->id,
		    path, hex, u->sha, cp ? ": it changed during the import" :
		    ": not imported");
		return -EPROTO;
	}
	return 0;
}

/* For each blob the database lacks, the first upload whose file is good. */
static int
pick_files(struct import *x, struct files *f)
{
	for (size_t b = 0; b < f->nblobs; b++) {
		struct blob *bl = &f->blobs[b];

		if (bl->have) {
			x->st->files += (int64_t)bl->n;
			continue;
		}
		for (size_t k = 0; k < bl->n && bl->from < 0; k++) {
			int rc = read_file(x, f, &f->up[bl->first + k], NULL);

			if (rc == 0)
				bl->from = (int)(bl->first + k);
			else if (rc != -ENOENT && rc != -EPROTO)
				return rc;
		}
		if (bl->from >= 0) {
			x->st->files += (int64_t)bl->n;
			f->nwrite++;
		} else
			x->st->files_missing += (int64_t)bl->n;
	}
	return 0;
}

/* The blobs rows, then their chunks: two COPYs. */
static int
store_blobs(struct import *x, struct files *f)
{
	struct pgcopy	 cp;
	int		 rc = 0, end;

	if ((rc = pgcopy_start(&cp, x->dst, "blobs", "blobs (sha256, size)")) < 0)
		return rc;
	for (size_t b = 0; b < f->nblobs; b++) {
		const struct blob *bl = &f->blobs[b];

		if (bl->from < 0)
			continue;
		pgcopy_row(&cp, 2);
		pgcopy_bytes(&cp, f->up[bl->from].sha, 64);
		pgcopy_i64(&cp, f->up[bl->from].size);
	}
	if ((rc = pgcopy_end(&cp)) < 0 || (rc = pgcopy_start(&cp, x->dst,
	    "blob chunks", "blob_chunks (sha256, off, data)")) < 0)
		return rc;
	for (size_t b = 0; b < f->nblobs && rc == 0 && cp.err == 0; b++) {
		const struct blob *bl = &f->blobs[b];

		if (bl->from < 0)
			continue;
		if ((rc = read_file(x, f, &f->up[bl->from], &cp)) == 0) {
			x->st->blobs++;
			x->st->blob_bytes += (uint64_t)f->up[bl->from].size;
			import_progress(x, "files", x->st->blobs,
			    (int64_t)f->nwrite, x->st->blob_bytes, 0);
		}
	}
	if (rc < 0)
		pgcopy_fail(&cp, rc);
	end = pgcopy_end(&cp);
	return rc < 0 ? rc : end;
}

int
import_files(struct import *x)
{
	struct files	 f;
	int		 rc;

	memset(&f, 0, sizeof(f));
	if ((f.buf = malloc(PGIO_CHUNK_BYTES)) == NULL ||
	    (f.md = EVP_MD_CTX_new()) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = read_uploads(x, &f)) < 0 || (rc = ask_blobs(x, &f)) < 0 ||
	    (rc = pick_files(x, &f)) < 0 || (rc = store_blobs(x, &f)) < 0)
		goto out;
	import_progress(x, "files", x->st->blobs, (int64_t)f.nwrite,
	    x->st->blob_bytes, 1);
out:
	for (size_t i = 0; i < f.nup; i++)
		free(f.up[i].name);
	free(f.up);
	free(f.blobs);
	free(f.buf);
	EVP_MD_CTX_free(f.md);
	return rc;
}
