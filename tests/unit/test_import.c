/*
 * runneld --import's store side (store/import.h) and the binary COPY it
 * writes with (store/pgcopy.h), against a real PostgreSQL: each case gets
 * a fresh database and a data directory made by the SQLite store in its
 * temp dir.  RUNNEL_TEST_PG_URL names a database to create the others
 * from (ctest's fixture pg); without it the cases that need it are
 * skipped.
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
#include <sqlite3.h>

#include "clock.h"
#include "core/finish.h"
#include "store/import.h"
#include "store/pgcopy.h"
#include "store/store.h"
#include "test.h"
#include "pgt.h"

static char	 db_url[1024];

/* The text of the first value a query on the case's database answers. */
static char *
value(const char *sql)
{
	return pgt_value(db_url, sql);
}

/* A fresh database named after the case, opened as a store (migrated). */
static struct store *
fresh(const char *name)
{
	struct store	*st;

	pgt_fresh_db("import", name, db_url, sizeof(db_url));
	ASSERT_INT(store_open(&st, db_url, STORE_FAST), ==, 0);
	return st;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, p, n) != (ssize_t)n || close(fd) != 0)
		FAIL("write %s", path);
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

/* ---- pgcopy ---- */

TEST(copy_sends_every_kind_of_value_as_it_is)
{
	struct store	*st = fresh("copy_kinds");
	struct pg_store	*s = (struct pg_store *)st;
	struct pgcopy	 cp;
	size_t		 big = 3 * 1024 * 1024 + 17;
	unsigned char	*b = malloc(big);
	char		 sha[65], want[65];

	test_fill_bytes(b, big, 7);
	pgt_exec_on(db_url, "CREATE TABLE k (a bigint, b integer, c smallint, "
	    "d text, e bytea, n integer)");
	ASSERT_INT(store_begin(st), ==, 0);
	ASSERT_INT(pgcopy_start(&cp, s, "copy k", "k (a, b, c, d, e, n)"), ==, 0);
	pgcopy_row(&cp, 6);
	pgcopy_i64(&cp, INT64_MIN);
	pgcopy_i32(&cp, INT32_MIN);
	pgcopy_i16(&cp, -32768);
	pgcopy_bytes(&cp, "h\xc3\xa9", 3);
	pgcopy_bytes(&cp, "\0\xff", 2);
	pgcopy_null(&cp);
	pgcopy_row(&cp, 6);
	pgcopy_i64(&cp, INT64_MAX);
	pgcopy_i32(&cp, INT32_MAX);
	pgcopy_i16(&cp, 32767);
	pgcopy_bytes(&cp, "", 0);
	pgcopy_bytes(&cp, b, big);	/* over the send buffer */
	pgcopy_i32(&cp, 0);
	/* many small rows: several sends */
	for (int i = 0; i < 50000; i++) {
		pgcopy_row(&cp, 6);
		pgcopy_i64(&cp, i);
		for (int k = 0; k < 5; k++)
			pgcopy_null(&cp);
	}
	ASSERT_INT(pgcopy_end(&cp), ==, 0);
	ASSERT_INT(store_commit(st, 1), ==, 0);
	ASSERT_STR(value("SELECT count(*) FROM k"), "50002");
	ASSERT_STR(value("SELECT a::text || ' ' || b || ' ' || c || ' ' || d || "
	    "' ' || encode(e, 'hex') || ' ' || coalesce(n::text, 'NULL') FROM k "
	    "ORDER BY a LIMIT 1"), "-9223372036854775808 -2147483648 -32768 "
	    "h\xc3\xa9 00ff NULL");
	ASSERT_STR(value("SELECT a::text || ' ' || b || ' ' || c || ' [' || d || "
	    "'] ' || length(e) FROM k ORDER BY a DESC LIMIT 1"),
	    "9223372036854775807 2147483647 32767 [] 3145745");
	sha_hex(b, big, want);
	snprintf(sha, sizeof(sha), "%.64s", value("SELECT encode(sha256(e), 'hex') "
	    "FROM k WHERE a = 9223372036854775807"));
	ASSERT_STR(sha, want);
	free(b);
	store_close(st);
}

TEST(copy_that_the_caller_abandons_keeps_nothing_and_loses_the_turn)
{
	struct store	*st = fresh("copy_abandon");
	struct pgcopy	 cp;

	pgt_exec_on(db_url, "CREATE TABLE k (a bigint)");
	ASSERT_INT(store_begin(st), ==, 0);
	ASSERT_INT(pgcopy_start(&cp, (struct pg_store *)st, "copy k", "k (a)"),
	    ==, 0);
	pgcopy_row(&cp, 1);
	pgcopy_i64(&cp, 1);
	pgcopy_fail(&cp, -EPROTO);
	pgcopy_row(&cp, 1);
	pgcopy_i64(&cp, 2);
	ASSERT_INT(pgcopy_end(&cp), ==, -EPROTO);
	ASSERT_INT(store_commit(st, 1), ==, -EPROTO);
	ASSERT_STR(value("SELECT count(*) FROM k"), "0");
	store_close(st);
}

TEST(copy_the_server_refuses_says_so)
{
	struct store	*st = fresh("copy_refused");
	struct pgcopy	 cp;

	pgt_exec_on(db_url, "CREATE TABLE k (a bigint PRIMARY KEY)");
	ASSERT_INT(store_begin(st), ==, 0);
	ASSERT_INT(pgcopy_start(&cp, (struct pg_store *)st, "copy k", "k (a)"),
	    ==, 0);
	for (int i = 0; i < 2; i++) {
		pgcopy_row(&cp, 1);
		pgcopy_i64(&cp, 5);
	}
	ASSERT_INT(pgcopy_end(&cp), ==, -EEXIST);
	ASSERT_INT(store_commit(st, 1), ==, -EEXIST);
	ASSERT_STR(value("SELECT count(*) FROM k"), "0");
	store_close(st);
}

/* ---- import ---- */

/* A job row through the SQLite store; returns its id. */
static uint64_t
submit(struct store *s, const char *command, int max_attempts,
    enum job_state state)
{
	struct job	 j;
	uint64_t	 id;

	job_init(&j);
	j.command = strdup(command);
	j.queue = strdup("default");
	j.max_attempts = max_attempts;
	j.state = state;
	j.deps_left = state == JOB_SCHEDULED;	/* waits for one */
	ASSERT_INT(store_submit(s, &j, 1, clock_now_ms()), ==, 0);
	id = j.id;
	job_clear(&j);
	return id;
}

static void
claim(struct store *s, uint64_t id)
{
	struct job j;

	ASSERT_INT(store_claim(s, id, 1, clock_now_ms(), &j), ==, 1);
	job_clear(&j);
}

static void
finish(struct store *s, uint64_t id, enum job_state state)
{
	struct job_result r = {
		.id = id, .state = state, .exit_code = 0, .signal = -1,
		.finished_at = clock_now_ms(), .cpu_ms = -1, .max_rss_kb = -1,
		.stdout_bytes = 3,
	};

	ASSERT_INT(store_finish(s, &r), ==, 0);
}

static uint64_t
upload(struct store *s, const char *name, const void *p, size_t n)
{
	struct job	 j;
	char		 sha[65], path[256];
	uint64_t	 id;

	sha_hex(p, n, sha);
	job_init(&j);
	j.type = JOB_UPLOAD;
	j.command = strdup("true");
	j.queue = strdup("default");
	j.max_attempts = 1;
	j.state = JOB_QUEUED;
	j.file_name = strdup(name);
	j.file_size = (int64_t)n;
	j.file_sha256 = strdup(sha);
	ASSERT_INT(store_submit(s, &j, 1, clock_now_ms()), ==, 0);
	id = j.id;
	job_clear(&j);
	snprintf(path, sizeof(path), "data/files/%llu", (unsigned long long)id);
	ASSERT(mkdir(path, 0700) == 0);
	snprintf(path, sizeof(path), "data/files/%llu/%s",
	    (unsigned long long)id, name);
	write_file(path, p, n);
	return id;
}

/* The indexes of jobs and the keys of job_output, as a text. */
#define SHAPE	"SELECT string_agg(d, ' ' ORDER BY d) FROM (SELECT indexdef " \
	"AS d FROM pg_indexes WHERE tablename = 'jobs' UNION ALL SELECT " \
	"pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = " \
	"'job_output'::regclass) x"

static int
restart(void *arg, struct store *dst, const struct job *j, int64_t now_ms,
    enum job_state *state, int *failed_after)
{
	(void)arg;
	return finish_restart_store(dst, j, 50, now_ms, state, failed_after);
}

static const struct import_hooks hooks = {restart, NULL, NULL};

static void
make_dir(void)
{
	ASSERT(mkdir("data", 0700) == 0 && mkdir("data/output", 0700) == 0 &&
	    mkdir("data/files", 0700) == 0);
}

TEST(import_moves_rows_output_and_files_and_ends_running_jobs)
{
	struct store		*src, *dst;
	struct import_stats	 is;
	size_t			 big = 2 * 1024 * 1024 + 5;
	unsigned char		*out = malloc(big);
	char			 sql[256], sha[65], shape[4096];
	uint64_t		 done, retried, last, waits, up, gone, same, bad;

	make_dir();
	ASSERT_INT(store_open(&src, "data/runnel.db", STORE_FAST), ==, 0);
	done = submit(src, "echo done", 1, JOB_QUEUED);
	retried = submit(src, "sleep 9", 2, JOB_QUEUED);
	last = submit(src, "sleep 9", 1, JOB_QUEUED);
	waits = submit(src, "echo never", 1, JOB_SCHEDULED);
	ASSERT_INT(store_add_deps(src, waits, &last, 1), ==, 0);
	claim(src, done);
	finish(src, done, JOB_SUCCEEDED);
	claim(src, retried);
	claim(src, last);
	up = upload(src, "in.bin", "file bytes", 10);
	same = upload(src, "again.bin", "file bytes", 10);
	bad = upload(src, "bad.bin", "other", 5);
	gone = submit(src, "true", 1, JOB_QUEUED);
	ASSERT_INT(store_delete(src, gone), ==, 0);
	ASSERT_INT(store_queue_set(src, "slow", 1, 3), ==, 0);
	ASSERT_INT(store_idem_put(src, "key", "abc", "[1]", 0, clock_now_ms()),
	    ==, 0);
	ASSERT_INT(store_commit(src, 1), ==, 0);
	store_close(src);
	test_fill_bytes(out, big, 3);
	snprintf(sql, sizeof(sql), "data/output/%llu.1.out",
	    (unsigned long long)done);
	write_file(sql, out, big);
	snprintf(sql, sizeof(sql), "data/output/%llu.1.err",
	    (unsigned long long)done);
	write_file(sql, "", 0);
	/* a later attempt than the job made: not its output */
	snprintf(sql, sizeof(sql), "data/output/%llu.2.out",
	    (unsigned long long)done);
	write_file(sql, "stale", 5);
	/* the bytes of bad.bin changed at rest, the same size */
	snprintf(sql, sizeof(sql), "data/files/%llu/bad.bin",
	    (unsigned long long)bad);
	write_file(sql, "OTHER", 5);

	dst = fresh("moves");
	snprintf(shape, sizeof(shape), "%s", value(SHAPE));
	ASSERT_INT(import_copy("data", dst, &hooks, &is), ==, 0);
	/* the schema's indexes and keys are as they were */
	ASSERT_STR(value(SHAPE), shape);
	ASSERT_INT(is.jobs, ==, 7);
	ASSERT_INT(is.running, ==, 2);
	ASSERT_INT(is.retried, ==, 1);
	ASSERT_INT(is.failed, ==, 1);
	ASSERT_INT(is.deps_failed, ==, 1);
	ASSERT_INT(is.output_files, ==, 2);
	ASSERT_INT(is.output_rows, ==, 3);
	ASSERT_INT(is.output_bytes, ==, big);
	ASSERT_INT(is.files, ==, 2);
	ASSERT_INT(is.blobs, ==, 1);
	ASSERT_INT(is.files_missing, ==, 1);
	ASSERT_INT(is.next_id, ==, gone + 1);
	store_close(dst);

	snprintf(sql, sizeof(sql), "SELECT state || ' ' || error || ' ' || "
	    "(run_at IS NOT NULL) || ' ' || (finished_at IS NULL) FROM jobs "
	    "WHERE id = %llu", (unsigned long long)retried);
	ASSERT_STR(value(sql), "scheduled server restarted true true");
	snprintf(sql, sizeof(sql), "SELECT state || ' ' || error FROM jobs "
	    "WHERE id = %llu", (unsigned long long)last);
	ASSERT_STR(value(sql), "failed server restarted");
	snprintf(sql, sizeof(sql), "SELECT state || ' ' || error FROM jobs "
	    "WHERE id = %llu", (unsigned long long)waits);
	snprintf(sha, sizeof(sha), "failed dependency %llu failed",
	    (unsigned long long)last);
	ASSERT_STR(value(sql), sha);
	ASSERT_STR(value("SELECT string_agg(attempt || ':' || stream || ':' || "
	    "off || ':' || length(data), ' ' ORDER BY off) FROM job_output"),
	    "1:0:0:1048576 1:0:1048576:1048576 1:0:2097152:5");
	sha_hex(out, big, sha);
	ASSERT_STR(value("SELECT encode(sha256(string_agg(data, ''::bytea "
	    "ORDER BY off)), 'hex') FROM job_output"), sha);
	sha_hex("file bytes", 10, sha);
	snprintf(sql, sizeof(sql), "SELECT sha256 || ' ' || size FROM blobs");
	ASSERT(strncmp(value(sql), sha, 64) == 0);
	ASSERT_STR(value("SELECT count(*) FROM blob_chunks"), "1");
	ASSERT_STR(value("SELECT paused || ' ' || concurrency FROM queues "
	    "WHERE name = 'slow'"), "1 3");
	ASSERT_STR(value("SELECT jobs FROM idempotency WHERE key = 'key'"),
	    "[1]");
	ASSERT_STR(value("SELECT string_agg(state || '=' || n, ' ' ORDER BY "
	    "state) FROM job_counts"), "failed=2 queued=3 scheduled=1 "
	    "succeeded=1");
	snprintf(sql, sizeof(sql), "SELECT nextval('jobs_id_seq') = %llu",
	    (unsigned long long)gone + 1);
	ASSERT_STR(value(sql), "t");
	(void)up;
	(void)same;
	free(out);
}

TEST(import_into_a_database_with_jobs_is_refused_and_changes_nothing)
{
	struct store		*src, *dst;
	struct import_stats	 is;

	make_dir();
	ASSERT_INT(store_open(&src, "data/runnel.db", STORE_FAST), ==, 0);
	submit(src, "true", 1, JOB_QUEUED);
	ASSERT_INT(store_commit(src, 1), ==, 0);
	store_close(src);
	dst = fresh("refused");
	ASSERT_INT(import_copy("data", dst, &hooks, &is), ==, 0);
	ASSERT_INT(import_copy("data", dst, &hooks, &is), ==, -EEXIST);
	ASSERT_STR(value("SELECT count(*) FROM jobs"), "1");
	ASSERT_STR(value("SELECT sum(n) FROM job_counts"), "1");
	/* and the store goes on: the refusal ended its turn */
	ASSERT_INT(store_ping(dst), ==, 0);
	store_close(dst);
}

TEST(import_of_a_database_at_another_schema_version_is_refused)
{
	struct store		*src, *dst;
	struct import_stats	 is;
	sqlite3			*db;

	make_dir();
	ASSERT_INT(store_open(&src, "data/runnel.db", STORE_FAST), ==, 0);
	store_close(src);
	ASSERT(sqlite3_open("data/runnel.db", &db) == SQLITE_OK);
	ASSERT(sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, NULL) ==
	    SQLITE_OK);
	sqlite3_close(db);
	dst = fresh("version");
	ASSERT_INT(import_copy("data", dst, &hooks, &is), ==, -EPROTO);
	ASSERT_INT(import_copy("nowhere", dst, &hooks, &is), ==, -ENOENT);
	ASSERT_STR(value("SELECT count(*) FROM jobs"), "0");
	store_close(dst);
}

TEST(import_of_a_row_that_does_not_fit_changes_nothing)
{
	struct store		*src, *dst;
	struct import_stats	 is;
	sqlite3			*db;
	char			 shape[4096];

	make_dir();
	ASSERT_INT(store_open(&src, "data/runnel.db", STORE_FAST), ==, 0);
	submit(src, "true", 1, JOB_QUEUED);
	submit(src, "true", 1, JOB_QUEUED);
	ASSERT_INT(store_commit(src, 1), ==, 0);
	store_close(src);
	/* SQLite keeps what it is given: text where an integer belongs */
	ASSERT(sqlite3_open("data/runnel.db", &db) == SQLITE_OK);
	ASSERT(sqlite3_exec(db, "UPDATE jobs SET priority = 'high' WHERE id = 2",
	    NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	dst = fresh("misfit");
	snprintf(shape, sizeof(shape), "%s", value(SHAPE));
	ASSERT_INT(import_copy("data", dst, &hooks, &is), ==, -EPROTO);
	ASSERT_STR(value("SELECT count(*) FROM jobs"), "0");
	ASSERT_STR(value(SHAPE), shape);
	store_close(dst);
}

/* The restart rule passes the one transition check (job_can). */
TEST(restart_rule_refuses_a_job_that_is_not_running_and_writes_nothing)
{
	struct store	*st;
	struct job	 j;
	enum job_state	 state = JOB_SUCCEEDED;
	char		 queue[] = "default";
	int		 after = -1;

	ASSERT_INT(store_open(&st, "runnel.db", STORE_FAST), ==, 0);
	memset(&j, 0, sizeof(j));
	j.id = 7;
	j.state = JOB_SUCCEEDED;
	j.attempts = 1;
	j.max_attempts = 1;
	j.queue = queue;
	ASSERT_INT(finish_restart_store(st, &j, 1000, clock_now_ms(), &state,
	    &after), ==, -EINVAL);
	ASSERT_INT(state, ==, JOB_SUCCEEDED);
	ASSERT_INT(after, ==, 0);
	j.state = JOB_CANCELED;
	ASSERT_INT(finish_restart_store(st, &j, 1000, clock_now_ms(), &state,
	    &after), ==, -EINVAL);
	store_close(st);
}

TEST_MAIN_BEGIN
	/* Needs no PostgreSQL: the rule is the core's. */
	RUN(restart_rule_refuses_a_job_that_is_not_running_and_writes_nothing);
	if (getenv("RUNNEL_TEST_PG_URL") == NULL) {
		/* A skip, not a failure: the image's build has no server. */
		printf("skip: RUNNEL_TEST_PG_URL is not set (the URI of a "
		    "maintenance database, see tests/pg/pg.sh)\n");
		return 0;
	}
	RUN(copy_sends_every_kind_of_value_as_it_is);
	RUN(copy_that_the_caller_abandons_keeps_nothing_and_loses_the_turn);
	RUN(copy_the_server_refuses_says_so);
	RUN(import_moves_rows_output_and_files_and_ends_running_jobs);
	RUN(import_into_a_database_with_jobs_is_refused_and_changes_nothing);
	RUN(import_of_a_database_at_another_schema_version_is_refused);
	RUN(import_of_a_row_that_does_not_fit_changes_nothing);
TEST_MAIN_END
