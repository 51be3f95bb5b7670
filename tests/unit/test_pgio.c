/*
 * Output and files in PostgreSQL, the blocking half (store/pgio.h),
 * against a real server: each case gets a fresh database with runnel's
 * PostgreSQL schema.  The server is ctest's (the fixture pg):
 * RUNNEL_TEST_PG_URL names a database to create the others from.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "embed.h"
#include "store/pgio.h"
#include "test.h"
#include "pgt.h"

extern const struct embed_file pg_schema_files[];

static char	 db_url[1024];

/* One number from a query on the case's database. */
static long long
count(const char *sql)
{
	return atoll(pgt_value(db_url, sql));
}

/* A fresh database named after the case, with the schema. */
static struct pgio *
fresh(const char *name)
{
	pgt_fresh_db("pgio", name, db_url, sizeof(db_url));
	for (const struct embed_file *f = pg_schema_files; f->name; f++)
		pgt_exec_on(db_url, (const char *)f->data);
	return pgio_new(db_url, 2);
}

static void
job_row(long long id, const char *sha)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO jobs (id, type, queue, "
	    "priority, state, created_at, file_sha256) VALUES (%lld, '%s', "
	    "'default', 0, 'running', 0, %s%s%s)", id, sha ? "upload" :
	    "command", sha ? "'" : "", sha ? sha : "NULL", sha ? "'" : "");
	pgt_exec_on(db_url, sql);
}

static void
sha_hex(const void *p, size_t n, char out[65])
{
	unsigned char	 md[32];
	unsigned int	 len;

	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n || close(fd) != 0)
		FAIL("write %s", path);
}

static unsigned char *
read_file(const char *path, size_t *n)
{
	struct stat	 st;
	unsigned char	*p;
	int		 fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) != 0)
		return NULL;
	p = malloc((size_t)st.st_size + 1);
	if (read(fd, p, (size_t)st.st_size) != st.st_size)
		FAIL("read %s", path);
	close(fd);
	*n = (size_t)st.st_size;
	return p;
}

TEST(output_round_trips_binary_bytes_over_several_rows)
{
	struct pgio	*io = fresh("output_rt");
	size_t		 n = 2 * PGIO_CHUNK_BYTES + 12345, got;
	unsigned char	*in = malloc(n), *out = malloc(n);

	test_fill_bytes(in, n, 1);
	job_row(7, NULL);
	/* Three flushes; the middle one over a chunk, split in rows. */
	ASSERT_INT(pg_output_put(io, 7, 1, 0, 0, in, 100), ==, 0);
	ASSERT_INT(pg_output_put(io, 7, 1, 0, 100, in + 100,
	    PGIO_CHUNK_BYTES + 50), ==, 0);
	ASSERT_INT(pg_output_put(io, 7, 1, 0, PGIO_CHUNK_BYTES + 150,
	    in + PGIO_CHUNK_BYTES + 150, n - PGIO_CHUNK_BYTES - 150), ==, 0);
	ASSERT_INT(count("SELECT count(*) FROM job_output"), ==, 5);
	/* Read back in pieces that start mid-row. */
	for (size_t off = 0; off < n; off += got) {
		ASSERT_INT(pg_output_read(io, 7, 1, 0, off, out + off,
		    off == 0 ? 77 : 300000, &got), ==, 0);
		ASSERT(got > 0);
	}
	ASSERT(memcmp(in, out, n) == 0);
	ASSERT_INT(pg_output_read(io, 7, 1, 0, n, out, 10, &got), ==, 0);
	ASSERT_INT(got, ==, 0);
	/* Another attempt and stream are apart. */
	ASSERT_INT(pg_output_read(io, 7, 2, 0, 0, out, 10, &got), ==, 0);
	ASSERT_INT(got, ==, 0);
	ASSERT_INT(pg_output_read(io, 7, 1, 1, 0, out, 10, &got), ==, 0);
	ASSERT_INT(got, ==, 0);
	free(in);
	free(out);
	pgio_free(io);
}

TEST(output_read_stops_at_a_gap_and_a_repeat_is_kept_once)
{
	struct pgio	*io = fresh("output_gap");
	char		 buf[64];
	size_t		 got;

	job_row(3, NULL);
	ASSERT_INT(pg_output_put(io, 3, 1, 1, 0, "abc", 3), ==, 0);
	ASSERT_INT(pg_output_put(io, 3, 1, 1, 6, "ghi", 3), ==, 0);
	ASSERT_INT(pg_output_read(io, 3, 1, 1, 0, buf, sizeof(buf), &got),
	    ==, 0);
	ASSERT_INT(got, ==, 3);
	ASSERT_INT(pg_output_read(io, 3, 1, 1, 3, buf, sizeof(buf), &got),
	    ==, 0);
	ASSERT_INT(got, ==, 0);
	ASSERT_INT(pg_output_put(io, 3, 1, 1, 3, "def", 3), ==, 0);
	ASSERT_INT(pg_output_put(io, 3, 1, 1, 3, "def", 3), ==, 0);
	ASSERT_INT(pg_output_read(io, 3, 1, 1, 1, buf, sizeof(buf), &got),
	    ==, 0);
	ASSERT_INT(got, ==, 8);
	ASSERT(memcmp(buf, "bcdefghi", 8) == 0);
	pgio_free(io);
}

TEST(output_of_a_deleted_job_is_gone_and_refused)
{
	struct pgio *io = fresh("output_del");

	job_row(5, NULL);
	ASSERT_INT(pg_output_put(io, 5, 1, 0, 0, "x", 1), ==, 0);
	pgt_exec_on(db_url, "DELETE FROM jobs WHERE id = 5");
	ASSERT_INT(count("SELECT count(*) FROM job_output"), ==, 0);
	ASSERT_INT(pg_output_put(io, 5, 1, 0, 1, "y", 1), ==, -ENOENT);
	pgio_free(io);
}

TEST(blob_round_trips_and_reads_ranges)
{
	struct pgio	*io = fresh("blob_rt");
	size_t		 n = 3 * PGIO_CHUNK_BYTES + 7, got, back;
	unsigned char	*in = malloc(n), *out;
	unsigned char	 buf[1000];
	char		 sha[65];
	int64_t		 pin;

	test_fill_bytes(in, n, 2);
	sha_hex(in, n, sha);
	write_file("up", in, n);
	ASSERT_INT(pg_files_put(io, "up", n, sha, &pin), ==, 0);
	ASSERT(pin > 0);
	ASSERT_INT(count("SELECT count(*) FROM blob_chunks"), ==, 4);
	ASSERT_INT(pg_files_fetch(io, sha, n, "down"), ==, 0);
	ASSERT((out = read_file("down", &back)) != NULL);
	ASSERT_INT(back, ==, n);
	ASSERT(memcmp(in, out, n) == 0);
	/* A range across two chunks comes in two reads. */
	ASSERT_INT(pg_files_read(io, sha, PGIO_CHUNK_BYTES - 10, buf,
	    sizeof(buf), &got), ==, 0);
	ASSERT_INT(got, ==, 10);
	ASSERT(memcmp(buf, in + PGIO_CHUNK_BYTES - 10, 10) == 0);
	ASSERT_INT(pg_files_read(io, sha, PGIO_CHUNK_BYTES, buf, sizeof(buf),
	    &got), ==, 0);
	ASSERT_INT(got, ==, sizeof(buf));
	ASSERT(memcmp(buf, in + PGIO_CHUNK_BYTES, sizeof(buf)) == 0);
	ASSERT_INT(pg_files_read(io, sha, n - 3, buf, sizeof(buf), &got), ==, 0);
	ASSERT_INT(got, ==, 3);
	ASSERT_INT(pg_files_read(io, sha, n, buf, sizeof(buf), &got), ==, 0);
	ASSERT_INT(got, ==, 0);
	free(in);
	free(out);
	pgio_free(io);
}

TEST(blob_of_the_same_bytes_is_stored_once)
{
	struct pgio	*io = fresh("blob_dedup");
	char		 sha[65];
	int64_t		 a, b;

	sha_hex("hello", 5, sha);
	write_file("up", "hello", 5);
	ASSERT_INT(pg_files_put(io, "up", 5, sha, &a), ==, 0);
	ASSERT_INT(pg_files_put(io, "up", 5, sha, &b), ==, 0);
	ASSERT(a != b);
	ASSERT_INT(count("SELECT count(*) FROM blob_chunks"), ==, 1);
	ASSERT_INT(count("SELECT count(*) FROM blob_pins"), ==, 2);
	/* A size that does not fit the name is refused. */
	write_file("up2", "hello!", 6);
	ASSERT_INT(pg_files_put(io, "up2", 6, sha, &b), ==, -EPROTO);
	pgio_free(io);
}

TEST(blob_fetch_refuses_bytes_that_are_not_the_named_ones)
{
	struct pgio	*io = fresh("blob_bad");
	char		 sha[65];
	int64_t		 pin;
	struct stat	 st;

	sha_hex("hello", 5, sha);
	write_file("up", "hello", 5);
	ASSERT_INT(pg_files_put(io, "up", 5, sha, &pin), ==, 0);
	pgt_exec_on(db_url, "UPDATE blob_chunks SET data = 'jello'");
	ASSERT_INT(pg_files_fetch(io, sha, 5, "down"), ==, -EPROTO);
	ASSERT(stat("down", &st) != 0);
	ASSERT_INT(pg_files_fetch(io, "00", 5, "down"), ==, -ENOENT);
	ASSERT(stat("down", &st) != 0);
	pgio_free(io);
}

TEST(blob_is_collected_once_neither_pin_nor_job_holds_it)
{
	struct pgio	*io = fresh("blob_gc");
	char		 sha[65];
	int64_t		 pin;

	sha_hex("hello", 5, sha);
	write_file("up", "hello", 5);
	ASSERT_INT(pg_files_put(io, "up", 5, sha, &pin), ==, 0);
	ASSERT_INT(pg_files_collect(io), ==, 0);	/* pinned */
	job_row(9, sha);
	ASSERT_INT(pg_files_unpin(io, pin), ==, 0);
	ASSERT_INT(pg_files_collect(io), ==, 0);	/* a job carries it */
	pgt_exec_on(db_url, "DELETE FROM jobs WHERE id = 9");
	ASSERT_INT(pg_files_collect(io), ==, 1);
	ASSERT_INT(count("SELECT count(*) FROM blob_chunks"), ==, 0);
	ASSERT_INT(count("SELECT count(*) FROM blobs"), ==, 0);
	pgio_free(io);
}

TEST(empty_blob_round_trips)
{
	struct pgio	*io = fresh("blob_empty");
	char		 sha[65];
	int64_t		 pin;
	struct stat	 st;

	sha_hex("", 0, sha);
	write_file("up", "", 0);
	ASSERT_INT(pg_files_put(io, "up", 0, sha, &pin), ==, 0);
	ASSERT_INT(pg_files_fetch(io, sha, 0, "down"), ==, 0);
	ASSERT(stat("down", &st) == 0 && st.st_size == 0);
	pgio_free(io);
}

TEST(unreachable_database_is_an_error_not_a_crash)
{
	struct pgio	*io = pgio_new("postgresql:///nope?host=/nonexistent", 1);
	char		 buf[8];
	size_t		 got;

	ASSERT_INT(pg_output_put(io, 1, 1, 0, 0, "x", 1), ==, -ENOTCONN);
	ASSERT_INT(pg_output_read(io, 1, 1, 0, 0, buf, 8, &got), ==, -EIO);
	ASSERT_INT(pg_files_collect(io), ==, -EIO);
	pgio_free(io);
}

TEST_MAIN_BEGIN
	RUN(unreachable_database_is_an_error_not_a_crash);
	/* A build without a PostgreSQL server (the image's) skips the rest. */
	if (getenv("RUNNEL_TEST_PG_URL") == NULL) {
		printf("skip: RUNNEL_TEST_PG_URL is not set (the URI of a "
		    "maintenance database, see tests/pg/pg.sh)\n");
		TEST_MAIN_RETURN;
	}
	RUN(output_round_trips_binary_bytes_over_several_rows);
	RUN(output_read_stops_at_a_gap_and_a_repeat_is_kept_once);
	RUN(output_of_a_deleted_job_is_gone_and_refused);
	RUN(blob_round_trips_and_reads_ranges);
	RUN(blob_of_the_same_bytes_is_stored_once);
	RUN(blob_fetch_refuses_bytes_that_are_not_the_named_ones);
	RUN(blob_is_collected_once_neither_pin_nor_job_holds_it);
	RUN(empty_blob_round_trips);
TEST_MAIN_END
