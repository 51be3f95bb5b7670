/*
 * The store through its interface: migrations, claim order, transitions,
 * listing, flow control, recovery.  Every case runs once per backend in
 * the table below, each time in a fresh temp directory (and for
 * PostgreSQL a fresh database); a backend brings an opener and the few
 * looks from outside the store a case needs (its schema version, what
 * another connection sees).  PostgreSQL runs when RUNNEL_TEST_PG_URL
 * names a maintenance database (tests/pg/pg.sh start prints one); its
 * own cases, at the end, look inside through store/pg.h.
 */
#include <sys/time.h>

#include <signal.h>

#include <sqlite3.h>
#include <libpq-fe.h>
#include <uv.h>

#include "clock.h"
#include "embed.h"
#include "store/cluster.h"
#include "store/delivery.h"
#include "store/pg.h"
#include "store/schedule.h"
#include "store/store.h"
#include "test.h"

extern const struct embed_file schema_files[];
extern const struct embed_file pg_schema_files[];

struct backend {
	const char	*name;
	/* Whether it can run here: else its cases are skipped. */
	int		(*available)(void);
	/* Before and after each case, in the parent (NULL: nothing). */
	void		(*setup)(void);
	void		(*teardown)(void);
	/* Opens the case's store: empty at the first call, the same data
	 * again at the next ones.  Returns what store_open returns. */
	int		(*open)(struct store **);
	/* The schema version the database records, read from outside. */
	int		(*schema_version)(void);
	/* Makes the database say it was made by a newer runneld. */
	void		(*set_schema_version)(int);
	/* How many jobs another connection sees: what is committed. */
	int		(*committed_jobs)(void);
	/* The backend's migrations, to know the latest version. */
	const struct embed_file	*migrations;
};

/* ---- SQLite: runnel.db in the case's temp directory ---- */

#define SQLITE_PATH	"runnel.db"

static int
lite_available(void)
{
	return 1;
}

static int
lite_open(struct store **s)
{
	return store_open(s, SQLITE_PATH, STORE_DURABLE);
}

static int
lite_int(const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	int		 v;

	ASSERT_INT(sqlite3_open(SQLITE_PATH, &db), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_step(st), ==, SQLITE_ROW);
	v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int
lite_schema_version(void)
{
	return lite_int("PRAGMA user_version");
}

static void
lite_set_schema_version(int v)
{
	sqlite3	*db;
	char	 sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	ASSERT_INT(sqlite3_open(SQLITE_PATH, &db), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
}

static int
lite_committed_jobs(void)
{
	return lite_int("SELECT count(*) FROM jobs");
}

/* ---- PostgreSQL: a database of its own per case ---- */

static char	pgt_db[64];		/* the case's database */
static char	pgt_url[2048];		/* a URI of it */

static const char *
pgt_maintenance(void)
{
	const char *url = getenv("RUNNEL_TEST_PG_URL");

	return url && *url ? url : NULL;
}

static int
pgt_available(void)
{
	return pgt_maintenance() != NULL;
}

static PGconn *
pgt_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);

	if (PQstatus(c) != CONNECTION_OK)
		FAIL("connect %s: %s", url, PQerrorMessage(c));
	PQsetNoticeProcessor(c, NULL, NULL);
	return c;
}

/* Runs sql on c; returns its first value as an integer (0 if none). */
static long long
pgt_sql(PGconn *c, const char *sql)
{
	PGresult	*r = PQexec(c, sql);
	long long	 v = 0;

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		FAIL("%s: %s", sql, PQresultErrorMessage(r));
	if (PQntuples(r) > 0 && PQnfields(r) > 0) {
		const char *t = PQgetvalue(r, 0, 0);

		v = *t == 't' ? 1 : *t == 'f' ? 0 : strtoll(t, NULL, 10);
	}
	PQclear(r);
	return v;
}

/* Appends v to buf percent-encoded, as a URI wants it. */
static void
pct(char *buf, size_t size, const char *v)
{
	size_t n = strlen(buf);

	for (; *v && n + 4 < size; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, size - n, "%%%02X", c);
	}
	buf[n] = '\0';
}

/*
 * A URI of database db on the maintenance database's server:
 * postgresql:///db?host=...&user=..., every option of the maintenance
 * string but its database, then extra (may be "").
 */
static void
pgt_url_of(char *buf, size_t size, const char *db, const char *extra)
{
	PQconninfoOption	*opts = PQconninfoParse(pgt_maintenance(), NULL);
	int			 first = 1;

	ASSERT(opts != NULL);
	snprintf(buf, size, "postgresql:///");
	pct(buf, size, db);
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
			continue;
		strncat(buf, first ? "?" : "&", size - strlen(buf) - 1);
		strncat(buf, o->keyword, size - strlen(buf) - 1);
		strncat(buf, "=", size - strlen(buf) - 1);
		pct(buf, size, o->val);
		first = 0;
	}
	if (*extra)
		strncat(buf, first ? "?" : "&", size - strlen(buf) - 1);
	strncat(buf, extra, size - strlen(buf) - 1);
	PQconninfoFree(opts);
}

static void
pgt_setup(void)
{
	static int	 n;
	char		 sql[128];
	PGconn		*c = pgt_connect(pgt_maintenance());

	snprintf(pgt_db, sizeof(pgt_db), "runnel_unit_%d_%d", (int)getpid(), ++n);
	snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", pgt_db);
	pgt_sql(c, sql);
	PQfinish(c);
	pgt_url_of(pgt_url, sizeof(pgt_url), pgt_db, "");
}

static void
pgt_teardown(void)
{
	char	 sql[128];
	PGconn	*c = pgt_connect(pgt_maintenance());

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)",
	    pgt_db);
	pgt_sql(c, sql);
	PQfinish(c);
}

static int
pgt_open_case(struct store **s)
{
	return store_open(s, pgt_url, STORE_DURABLE);
}

static int
pgt_int(const char *sql)
{
	PGconn		*c = pgt_connect(pgt_url);
	long long	 v = pgt_sql(c, sql);

	PQfinish(c);
	return (int)v;
}

static int
pgt_schema_version(void)
{
	return pgt_int("SELECT version FROM runnel_schema");
}

static void
pgt_set_schema_version(int v)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "UPDATE runnel_schema SET version = %d", v);
	pgt_int(sql);
}

static int
pgt_committed_jobs(void)
{
	return pgt_int("SELECT count(*) FROM jobs");
}

static const struct backend backends[] = {
	{"sqlite", lite_available, NULL, NULL, lite_open,
	    lite_schema_version, lite_set_schema_version,
	    lite_committed_jobs, schema_files},
	{"postgresql", pgt_available, pgt_setup, pgt_teardown, pgt_open_case,
	    pgt_schema_version, pgt_set_schema_version, pgt_committed_jobs,
	    pg_schema_files},
};

/* The backend the running case tests. */
static const struct backend *be;

static struct store *
open_store(void)
{
	struct store *s;

	ASSERT_INT(be->open(&s), ==, 0);
	ASSERT(s != NULL);
	return s;
}

static uint64_t
submit(struct store *s, const char *queue, int priority)
{
	struct job	 j;
	uint64_t	 id;

	job_init(&j);
	j.command = strdup("true");
	j.queue = strdup(queue);
	j.priority = priority;
	j.state = JOB_QUEUED;
	ASSERT_INT(store_submit(s, &j, 1, 1000), ==, 0);
	id = j.id;
	job_clear(&j);
	return id;
}

/* Claims the head of the best queue among a, b, other and third. */
static uint64_t
claim(struct store *s)
{
	static const char	*queues[] = {"default", "other", "third", "a", "b"};
	struct job		 j;
	uint64_t		 id, best = 0, hid;
	int64_t			 bestp = 0, hp;
	int			 rc;

	for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
		rc = store_head(s, queues[i], &hid, &hp);
		ASSERT_INT(rc, >=, 0);
		if (rc && (best == 0 || hp < bestp || (hp == bestp && hid < best))) {
			best = hid;
			bestp = hp;
		}
	}
	if (best == 0)
		return 0;
	rc = store_claim(s, best, 1, 2000, &j);
	ASSERT_INT(rc, ==, 1);
	ASSERT_INT(j.state, ==, JOB_RUNNING);
	id = j.id;
	job_clear(&j);
	return id;
}

/* The version of the backend's last migration. */
static int
latest_version(void)
{
	int v = 0;

	for (const struct embed_file *f = be->migrations; f->name; f++)
		v = atoi(f->name);
	return v;
}

TEST(migrations_set_the_schema_version)
{
	struct store *s = open_store();

	store_close(s);
	ASSERT_INT(latest_version(), >=, 1);
	ASSERT_INT(be->schema_version(), ==, latest_version());
	/* Opening again applies nothing and works. */
	s = open_store();
	store_close(s);
	ASSERT_INT(be->schema_version(), ==, latest_version());
}

TEST(newer_database_is_refused)
{
	struct store *s = open_store();

	store_close(s);
	be->set_schema_version(999);
	s = (struct store *)1;
	ASSERT_INT(be->open(&s), ==, -EPROTO);
	ASSERT(s == NULL);
	ASSERT_INT(be->schema_version(), ==, 999);
}

TEST(claim_takes_smallest_priority_then_smallest_id)
{
	struct store	*s = open_store();
	uint64_t	 a = submit(s, "default", 5);
	uint64_t	 b = submit(s, "other", -1);
	uint64_t	 c = submit(s, "default", -1);
	uint64_t	 d = submit(s, "other", 5);
	uint64_t	 e = submit(s, "third", 0);

	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(claim(s), ==, b);
	ASSERT_INT(claim(s), ==, c);
	ASSERT_INT(claim(s), ==, e);
	ASSERT_INT(claim(s), ==, a);
	ASSERT_INT(claim(s), ==, d);
	ASSERT_INT(claim(s), ==, 0);
	store_close(s);
}

TEST(claim_counts_the_attempt_and_sets_the_worker)
{
	struct store	*s = open_store();
	uint64_t	 id = submit(s, "default", 0);
	struct job	 j;

	ASSERT_INT(store_claim(s, id, 7, 1234, &j), ==, 1);
	ASSERT_INT(j.id, ==, id);
	ASSERT_INT(j.attempts, ==, 1);
	ASSERT_INT(j.worker, ==, 7);
	ASSERT_INT(j.started_at, ==, 1234);
	job_clear(&j);
	/* Claimed already: a second claim of the same id takes nothing. */
	ASSERT_INT(store_claim(s, id, 8, 1235, &j), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(finish_records_the_result_once)
{
	struct store		*s = open_store();
	uint64_t		 id = submit(s, "default", 0);
	struct job_result	 r = {.id = id, .state = JOB_FAILED,
	    .exit_code = 3, .signal = -1, .error = "exit status 3",
	    .finished_at = 5000, .stdout_bytes = 10, .stderr_bytes = 2,
	    .cpu_ms = 4, .max_rss_kb = 900};
	struct job		 j;

	ASSERT_INT(claim(s), ==, id);
	ASSERT_INT(store_finish(s, &r), ==, 0);
	ASSERT_INT(store_finish(s, &r), ==, -EBUSY);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_FAILED);
	ASSERT_INT(j.exit_code, ==, 3);
	ASSERT_STR(j.error, "exit status 3");
	ASSERT_INT(j.stdout_bytes, ==, 10);
	ASSERT_INT(j.max_rss_kb, ==, 900);
	job_clear(&j);
	/* A retry clears the result and queues it again. */
	ASSERT_INT(store_requeue(s, id, JOB_FAILED, 0, 0), ==, 0);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_QUEUED);
	ASSERT_INT(j.attempts, ==, 1);
	ASSERT(j.error == NULL && j.exit_code == -1);
	job_clear(&j);
	ASSERT_INT(claim(s), ==, id);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.attempts, ==, 2);
	job_clear(&j);
	store_close(s);
}

TEST(batch_insert_gives_ascending_ids_in_order)
{
	struct store	*s = open_store();
	struct job	 jobs[40], got;
	char		 cmd[16];

	for (int i = 0; i < 40; i++) {
		job_init(&jobs[i]);
		snprintf(cmd, sizeof(cmd), "echo %d", i);
		jobs[i].command = strdup(cmd);
		jobs[i].queue = strdup(i % 2 ? "a" : "b");
		jobs[i].priority = i;
		jobs[i].state = JOB_QUEUED;
	}
	submit(s, "default", 0);
	ASSERT_INT(store_submit(s, jobs, 40, 5000), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	for (int i = 0; i < 40; i++) {
		if (i > 0)
			ASSERT_INT(jobs[i].id, >, jobs[i - 1].id);
		ASSERT_INT(store_get(s, jobs[i].id, &got), ==, 0);
		ASSERT_STR(got.command, jobs[i].command);
		ASSERT_STR(got.queue, jobs[i].queue);
		ASSERT_INT(got.priority, ==, i);
		ASSERT_INT(got.created_at, ==, 5000);
		job_clear(&got);
		job_clear(&jobs[i]);
	}
	store_close(s);
}

TEST(set_state_checks_the_current_state)
{
	struct store	*s = open_store();
	uint64_t	 id = submit(s, "default", 0);

	ASSERT_INT(store_set_state(s, id, JOB_RUNNING, JOB_CANCELED, NULL, 1),
	    ==, -EBUSY);
	ASSERT_INT(store_set_state(s, id, JOB_QUEUED, JOB_CANCELED, "canceled",
	    1), ==, 0);
	ASSERT_INT(claim(s), ==, 0);
	ASSERT_INT(store_delete(s, id), ==, 0);
	ASSERT_INT(store_delete(s, id), ==, -ENOENT);
	store_close(s);
}

TEST(ids_are_never_reused_after_a_delete)
{
	struct store	*s = open_store();
	uint64_t	 a = submit(s, "default", 0);
	uint64_t	 b;

	ASSERT_INT(store_set_state(s, a, JOB_QUEUED, JOB_CANCELED, NULL, 1), ==, 0);
	ASSERT_INT(store_delete(s, a), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	b = submit(s, "default", 0);
	ASSERT_INT(b, >, a);
	store_close(s);
}

TEST(savepoint_undoes_a_partial_batch)
{
	struct store	*s = open_store();
	uint64_t	 keep = submit(s, "default", 0);
	struct job	*jobs;
	size_t		 n;
	uint64_t	 next;
	struct job_filter f = {.limit = 100};

	ASSERT_INT(store_mark(s), ==, 0);
	submit(s, "default", 0);
	submit(s, "default", 0);
	ASSERT_INT(store_unmark(s, 0), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_list(s, &f, &jobs, &n, &next), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(jobs[0].id, ==, keep);
	job_free_all(jobs, n);
	store_close(s);
}

/* Walks every page of f and checks the ids come newest first, once each. */
static size_t
walk(struct store *s, struct job_filter *f, uint64_t *seen, size_t max)
{
	size_t		 total = 0;
	uint64_t	 next, last = UINT64_MAX;

	f->before = 0;
	do {
		struct job	*jobs;
		size_t		 n;

		ASSERT_INT(store_list(s, f, &jobs, &n, &next), ==, 0);
		ASSERT_INT(n, <=, f->limit);
		for (size_t i = 0; i < n; i++) {
			ASSERT(jobs[i].id < last);
			last = jobs[i].id;
			ASSERT(total < max);
			seen[total++] = jobs[i].id;
		}
		job_free_all(jobs, n);
		f->before = next;
	} while (next);
	return total;
}

TEST(list_pages_by_keyset_with_filters)
{
	struct store		*s = open_store();
	uint64_t		 ids[60], seen[60];
	struct job_filter	 f = {.limit = 7};

	for (int i = 0; i < 60; i++)
		ids[i] = submit(s, i % 3 ? "a" : "b", 0);
	/* Every fifth job fails: 12 failed, 48 queued. */
	for (int i = 0; i < 60; i += 5)
		ASSERT_INT(store_set_state(s, ids[i], JOB_QUEUED, JOB_FAILED,
		    "x", 1), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(walk(s, &f, seen, 60), ==, 60);
	f.states = 1u << JOB_FAILED;
	ASSERT_INT(walk(s, &f, seen, 60), ==, 12);
	f.states = (1u << JOB_FAILED) | (1u << JOB_QUEUED);
	ASSERT_INT(walk(s, &f, seen, 60), ==, 60);
	f.states = 0;
	f.queue = "b";
	ASSERT_INT(walk(s, &f, seen, 60), ==, 20);
	f.states = 1u << JOB_FAILED;
	/* ids 0, 15, 30, 45 are in queue b and failed */
	ASSERT_INT(walk(s, &f, seen, 60), ==, 4);
	f.queue = NULL;
	f.states = 0;
	f.types = 1u << JOB_UPLOAD;
	ASSERT_INT(walk(s, &f, seen, 60), ==, 0);
	store_close(s);
}

TEST(running_jobs_are_found_after_an_unclean_stop)
{
	struct store	*s = open_store();
	uint64_t	 a = submit(s, "default", 0);
	uint64_t	*ids;
	size_t		 n;

	submit(s, "default", 1);
	ASSERT_INT(claim(s), ==, a);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	/* An unclean stop: nothing more happens, the store is reopened. */
	store_close(s);
	s = open_store();
	ASSERT_INT(store_running(s, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(ids[0], ==, a);
	free(ids);
	store_close(s);
}

static uint64_t
submit_waiting(struct store *s, int64_t run_at, const uint64_t *deps, size_t n)
{
	struct job	 j;
	uint64_t	 id;

	job_init(&j);
	j.command = strdup("true");
	j.queue = strdup("default");
	j.state = JOB_SCHEDULED;
	j.run_at = run_at;
	j.deps_left = (int)n;
	ASSERT_INT(store_submit(s, &j, 1, 1000), ==, 0);
	id = j.id;
	if (n)
		ASSERT_INT(store_add_deps(s, id, deps, n), ==, 0);
	job_clear(&j);
	return id;
}

static uint64_t due_ids[8];
static int ndue;

static void
on_due(void *arg, uint64_t id, const char *queue)
{
	(void)arg;
	ASSERT_STR(queue, "default");
	due_ids[ndue++] = id;
}

TEST(due_jobs_come_in_time_order_and_only_when_free_of_deps)
{
	struct store	*s = open_store();
	uint64_t	 dep = submit(s, "default", 0);
	uint64_t	 late = submit_waiting(s, 9000, NULL, 0);
	uint64_t	 early = submit_waiting(s, 5000, NULL, 0);
	uint64_t	 blocked = submit_waiting(s, 4000, &dep, 1);
	int64_t		 at;
	uint64_t	*ids;
	size_t		 n;
	struct job	 j;

	ASSERT_INT(store_next_due(s, &at), ==, 0);
	ASSERT_INT(at, ==, 5000);
	ASSERT_INT(store_due(s, 6000, 10, on_due, NULL), ==, 1);
	ASSERT_INT(due_ids[0], ==, early);
	ASSERT_INT(store_promote(s, early), ==, 0);
	ASSERT_INT(store_promote(s, early), ==, -EBUSY);
	ASSERT_INT(store_next_due(s, &at), ==, 0);
	ASSERT_INT(at, ==, 9000);
	/* The blocked job's dependency: one seek finds who waits for it. */
	ASSERT_INT(store_dependents(s, dep, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(ids[0], ==, blocked);
	free(ids);
	ASSERT_INT(store_promote(s, blocked), ==, -EBUSY);
	ASSERT_INT(store_dep_done(s, blocked), ==, 0);
	ASSERT_INT(store_get(s, blocked, &j), ==, 0);
	ASSERT_INT(j.deps_left, ==, 0);
	job_clear(&j);
	ASSERT_INT(store_next_due(s, &at), ==, 0);
	ASSERT_INT(at, ==, 4000);
	(void)late;
	store_close(s);
}

TEST(a_retry_is_scheduled_with_its_last_result)
{
	struct store		*s = open_store();
	uint64_t		 id = submit(s, "default", 0);
	struct job_result	 r = {.id = id, .state = JOB_SCHEDULED,
	    .run_at = 7777, .exit_code = 3, .signal = -1,
	    .error = "exit status 3", .finished_at = 5000, .cpu_ms = 1,
	    .max_rss_kb = 1};
	struct job		 j;

	ASSERT_INT(claim(s), ==, id);
	ASSERT_INT(store_finish(s, &r), ==, 0);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_SCHEDULED);
	ASSERT_INT(j.run_at, ==, 7777);
	ASSERT_INT(j.finished_at, ==, 0);
	ASSERT_STR(j.error, "exit status 3");
	ASSERT_INT(j.attempts, ==, 1);
	job_clear(&j);
	store_close(s);
}

TEST(others_see_a_turn_only_once_it_is_committed)
{
	struct store *s = open_store();

	submit(s, "default", 0);
	ASSERT_INT(store_in_txn(s), ==, 1);
	ASSERT_INT(be->committed_jobs(), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_in_txn(s), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	store_close(s);
}

static struct job_result
result(uint64_t id, enum job_state state, int64_t finished_at)
{
	struct job_result r = {.id = id, .state = state, .exit_code = 0,
	    .signal = -1, .finished_at = finished_at, .cpu_ms = -1,
	    .max_rss_kb = -1};

	return r;
}

/* Claims job id and finishes it in state at finished_at. */
static void
run_to(struct store *s, uint64_t id, enum job_state state, int64_t finished_at)
{
	struct job		 j;
	struct job_result	 r = result(id, state, finished_at);

	ASSERT_INT(store_claim(s, id, 1, finished_at - 1, &j), ==, 1);
	job_clear(&j);
	ASSERT_INT(store_finish(s, &r), ==, 0);
}

TEST(head_is_the_smallest_priority_then_id_of_its_queue)
{
	struct store	*s = open_store();
	struct job	 j;
	uint64_t	 id, a, b, c;
	int64_t		 prio;

	ASSERT_INT(store_head(s, "default", &id, &prio), ==, 0);
	a = submit(s, "default", 3);
	b = submit(s, "default", -2);
	c = submit(s, "default", -2);
	submit(s, "other", -100);
	ASSERT_INT(store_head(s, "default", &id, &prio), ==, 1);
	ASSERT_INT(id, ==, b);
	ASSERT_INT(prio, ==, -2);
	ASSERT_INT(store_set_state(s, b, JOB_QUEUED, JOB_CANCELED, NULL, 9),
	    ==, 0);
	ASSERT_INT(store_head(s, "default", &id, &prio), ==, 1);
	ASSERT_INT(id, ==, c);
	ASSERT_INT(store_claim(s, c, 1, 10, &j), ==, 1);
	job_clear(&j);
	ASSERT_INT(store_head(s, "default", &id, &prio), ==, 1);
	ASSERT_INT(id, ==, a);
	ASSERT_INT(prio, ==, 3);
	ASSERT_INT(store_head(s, "nowhere", &id, &prio), ==, 0);
	store_close(s);
}

TEST(get_and_finish_refuse_what_is_not_there)
{
	struct store		*s = open_store();
	uint64_t		 id = submit(s, "default", 0);
	struct job_result	 r = result(id, JOB_SUCCEEDED, 10);
	struct job		 j;

	ASSERT_INT(store_get(s, id + 100, &j), ==, -ENOENT);
	ASSERT(j.command == NULL && j.queue == NULL && j.exit_code == -1);
	/* Not running yet: there is no attempt to end. */
	ASSERT_INT(store_finish(s, &r), ==, -EBUSY);
	r.id = id + 100;
	ASSERT_INT(store_finish(s, &r), ==, -EBUSY);
	ASSERT_INT(store_set_state(s, id + 100, JOB_QUEUED, JOB_CANCELED, NULL,
	    1), ==, -EBUSY);
	ASSERT_INT(store_requeue(s, id + 100, JOB_FAILED, 0, 0), ==, -EBUSY);
	ASSERT_INT(store_promote(s, id + 100), ==, -EBUSY);
	ASSERT_INT(store_claim(s, id + 100, 1, 10, &j), ==, 0);
	store_close(s);
}

TEST(every_field_comes_back_as_it_was_written)
{
	struct store	*s = open_store();
	struct job	 j, got;
	static const char bytes[] = {'a', '\0', 'b', '\n'};

	job_init(&j);
	j.type = JOB_UPLOAD;
	j.state = JOB_FAILED;
	j.name = strdup("nightly");
	j.queue = strdup("q");
	j.priority = -7;
	j.argv_json = strdup("[\"ls\",\"-l\"]");
	j.env_json = strdup("{\"A\":\"1\"}");
	j.cwd = strdup("/tmp");
	j.stdin_data = malloc(sizeof(bytes) + 1);
	memcpy(j.stdin_data, bytes, sizeof(bytes));
	j.stdin_data[sizeof(bytes)] = '\0';
	j.stdin_len = sizeof(bytes);
	j.has_stdin = 1;
	j.timeout_ms = 1500;
	j.limits_json = strdup("{\"cpu_s\":2}");
	j.max_attempts = 4;
	j.run_at = 777;
	j.file_name = strdup("a.txt");
	j.file_size = 12;
	j.file_sha256 = strdup("ab");
	j.after_json = strdup("[1]");
	j.deps_left = 1;
	j.error = strdup("dependency 1 failed");
	j.finished_at = 888;
	j.schedule_id = 9;
	j.scheduled_for = 1700000000123;
	j.webhooks_json = strdup("[{\"url\":\"http://a/\",\"on\":[\"failed\"]}]");
	ASSERT_INT(store_submit(s, &j, 1, 555), ==, 0);
	ASSERT_INT(store_get(s, j.id, &got), ==, 0);
	ASSERT_INT(got.id, ==, j.id);
	ASSERT_INT(got.type, ==, JOB_UPLOAD);
	ASSERT_INT(got.state, ==, JOB_FAILED);
	ASSERT_STR(got.name, "nightly");
	ASSERT_STR(got.queue, "q");
	ASSERT_INT(got.priority, ==, -7);
	ASSERT(got.command == NULL);
	ASSERT_STR(got.argv_json, j.argv_json);
	ASSERT_STR(got.env_json, j.env_json);
	ASSERT_STR(got.cwd, "/tmp");
	ASSERT_INT(got.has_stdin, ==, 1);
	ASSERT_INT(got.stdin_len, ==, sizeof(bytes));
	ASSERT(memcmp(got.stdin_data, bytes, sizeof(bytes)) == 0);
	ASSERT_INT(got.stdin_data[sizeof(bytes)], ==, 0);
	ASSERT_INT(got.timeout_ms, ==, 1500);
	ASSERT_STR(got.limits_json, j.limits_json);
	ASSERT_INT(got.attempts, ==, 0);
	ASSERT_INT(got.max_attempts, ==, 4);
	ASSERT_INT(got.created_at, ==, 555);
	ASSERT_INT(got.run_at, ==, 777);
	ASSERT_INT(got.started_at, ==, 0);
	ASSERT_INT(got.finished_at, ==, 888);
	ASSERT_INT(got.exit_code, ==, -1);
	ASSERT_INT(got.signal, ==, -1);
	ASSERT_INT(got.worker, ==, -1);
	ASSERT_INT(got.cpu_ms, ==, -1);
	ASSERT_INT(got.max_rss_kb, ==, -1);
	ASSERT_STR(got.error, "dependency 1 failed");
	ASSERT_STR(got.file_name, "a.txt");
	ASSERT_INT(got.file_size, ==, 12);
	ASSERT_STR(got.file_sha256, "ab");
	ASSERT_STR(got.after_json, "[1]");
	ASSERT_INT(got.deps_left, ==, 1);
	ASSERT_INT(got.schedule_id, ==, 9);
	ASSERT_INT(got.scheduled_for, ==, 1700000000123);
	ASSERT_STR(got.webhooks_json, j.webhooks_json);
	job_clear(&got);
	job_clear(&j);
	/* Absent values stay absent: no stdin, no timeout, no file. */
	job_init(&j);
	j.command = strdup("true");
	j.queue = strdup("q");
	j.state = JOB_QUEUED;
	ASSERT_INT(store_submit(s, &j, 1, 556), ==, 0);
	ASSERT_INT(store_get(s, j.id, &got), ==, 0);
	ASSERT_INT(got.type, ==, JOB_COMMAND);
	ASSERT_INT(got.has_stdin, ==, 0);
	ASSERT(got.stdin_data == NULL && got.name == NULL);
	ASSERT_INT(got.timeout_ms, ==, 0);
	ASSERT_INT(got.run_at, ==, 0);
	ASSERT_INT(got.file_size, ==, -1);
	ASSERT(got.file_name == NULL && got.after_json == NULL);
	ASSERT_INT(got.schedule_id, ==, 0);
	ASSERT_INT(got.scheduled_for, ==, 0);
	ASSERT(got.webhooks_json == NULL);
	job_clear(&got);
	job_clear(&j);
	store_close(s);
}

TEST(requeue_undoes_the_attempt_and_waits_for_dependencies)
{
	struct store	*s = open_store();
	uint64_t	 id = submit(s, "default", 0);
	struct job	 j;

	run_to(s, id, JOB_FAILED, 100);
	/* Only from the state the caller saw. */
	ASSERT_INT(store_requeue(s, id, JOB_CANCELED, 0, 0), ==, -EBUSY);
	ASSERT_INT(store_requeue(s, id, JOB_FAILED, 1, 0), ==, 0);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_QUEUED);
	ASSERT_INT(j.attempts, ==, 0);
	ASSERT_INT(j.finished_at, ==, 0);
	ASSERT_INT(j.started_at, ==, 0);
	job_clear(&j);
	run_to(s, id, JOB_CANCELED, 200);
	/* Two dependencies not succeeded yet: scheduled, not queued. */
	ASSERT_INT(store_requeue(s, id, JOB_CANCELED, 0, 2), ==, 0);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_SCHEDULED);
	ASSERT_INT(j.deps_left, ==, 2);
	ASSERT_INT(j.attempts, ==, 1);
	job_clear(&j);
	ASSERT_INT(store_promote(s, id), ==, -EBUSY);
	ASSERT_INT(claim(s), ==, 0);
	store_close(s);
}

TEST(set_state_is_refused_from_any_other_state)
{
	struct store	*s = open_store();
	uint64_t	 id = submit(s, "default", 0);
	struct job	 j;

	for (int from = 0; from < JOB_STATE_COUNT; from++)
		if (from != JOB_QUEUED)
			ASSERT_INT(store_set_state(s, id, from, JOB_FAILED, "x",
			    5), ==, -EBUSY);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_QUEUED);
	ASSERT(j.error == NULL && j.finished_at == 0);
	job_clear(&j);
	ASSERT_INT(store_set_state(s, id, JOB_QUEUED, JOB_FAILED, "x", 5), ==,
	    0);
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_FAILED);
	ASSERT_STR(j.error, "x");
	ASSERT_INT(j.finished_at, ==, 5);
	job_clear(&j);
	store_close(s);
}

TEST(idempotency_records_are_found_replaced_and_purged_by_age)
{
	struct store	*s = open_store();
	char		 sha[65], *jobs;
	int		 batch;

	ASSERT_INT(store_idem_get(s, "k1", 0, sha, sizeof(sha), &jobs, &batch),
	    ==, 0);
	ASSERT(jobs == NULL);
	ASSERT_INT(store_idem_put(s, "k1", "aa", "[1,2]", 1, 1000), ==, 0);
	ASSERT_INT(store_idem_put(s, "k2", "bb", "[3]", 0, 2000), ==, 0);
	ASSERT_INT(store_idem_get(s, "k1", 1000, sha, sizeof(sha), &jobs,
	    &batch), ==, 1);
	ASSERT_STR(sha, "aa");
	ASSERT_STR(jobs, "[1,2]");
	ASSERT_INT(batch, ==, 1);
	free(jobs);
	/* Made before since_ms: as if there were none. */
	ASSERT_INT(store_idem_get(s, "k1", 1001, sha, sizeof(sha), &jobs,
	    &batch), ==, 0);
	ASSERT(jobs == NULL);
	/* A put under a key made already replaces it. */
	ASSERT_INT(store_idem_put(s, "k1", "cc", "[4]", 0, 3000), ==, 0);
	ASSERT_INT(store_idem_get(s, "k1", 2500, sha, sizeof(sha), &jobs,
	    &batch), ==, 1);
	ASSERT_STR(sha, "cc");
	ASSERT_STR(jobs, "[4]");
	ASSERT_INT(batch, ==, 0);
	free(jobs);
	/* The hash is cut to the caller's buffer. */
	ASSERT_INT(store_idem_get(s, "k1", 0, sha, 2, &jobs, &batch), ==, 1);
	ASSERT_STR(sha, "c");
	free(jobs);
	ASSERT_INT(store_idem_purge(s, 2500), ==, 1);
	ASSERT_INT(store_idem_get(s, "k2", 0, sha, sizeof(sha), &jobs, &batch),
	    ==, 0);
	ASSERT_INT(store_idem_get(s, "k1", 0, sha, sizeof(sha), &jobs, &batch),
	    ==, 1);
	free(jobs);
	ASSERT_INT(store_idem_purge(s, 2500), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

static uint64_t exp_ids[8];
static int exp_attempts[8], nexp;

static void
on_expired(void *arg, uint64_t id, int attempts)
{
	struct store *s = arg;

	ASSERT(nexp < 8);
	exp_ids[nexp] = id;
	exp_attempts[nexp++] = attempts;
	/* cb may delete what it is given. */
	ASSERT_INT(store_delete(s, id), ==, 0);
}

TEST(expired_jobs_come_oldest_first_up_to_the_limit)
{
	struct store	*s = open_store();
	uint64_t	 a = submit(s, "default", 0);
	uint64_t	 b = submit(s, "default", 0);
	uint64_t	 c = submit(s, "default", 0);
	uint64_t	 d = submit(s, "default", 0);
	struct job	 j;

	submit(s, "default", 0);		/* never finished */
	run_to(s, a, JOB_SUCCEEDED, 300);
	run_to(s, b, JOB_FAILED, 100);
	run_to(s, c, JOB_SUCCEEDED, 200);
	run_to(s, d, JOB_SUCCEEDED, 900);
	ASSERT_INT(store_expired(s, 50, 10, on_expired, s), ==, 0);
	ASSERT_INT(nexp, ==, 0);
	ASSERT_INT(store_expired(s, 500, 2, on_expired, s), ==, 2);
	ASSERT_INT(nexp, ==, 2);
	ASSERT_INT(exp_ids[0], ==, b);
	ASSERT_INT(exp_ids[1], ==, c);
	ASSERT_INT(exp_attempts[0], ==, 1);
	ASSERT_INT(store_get(s, b, &j), ==, -ENOENT);
	ASSERT_INT(store_expired(s, 500, 10, on_expired, s), ==, 1);
	ASSERT_INT(exp_ids[2], ==, a);
	ASSERT_INT(store_expired(s, 500, 10, on_expired, s), ==, 0);
	store_close(s);
}

static int64_t counted[4][JOB_STATE_COUNT];

static void
on_count(void *arg, const char *queue, enum job_state st, int64_t n)
{
	static const char *names[] = {"a", "b", "c", "default"};

	(void)arg;
	for (int i = 0; i < 4; i++)
		if (strcmp(queue, names[i]) == 0) {
			ASSERT_INT(counted[i][st], ==, 0);	/* once each */
			counted[i][st] = n;
			return;
		}
	FAIL("unknown queue %s", queue);
}

static int64_t finished[8];
static int nfinished;

static void
on_finished(void *arg, int64_t at)
{
	(void)arg;
	ASSERT(nfinished < 8);
	finished[nfinished++] = at;
}

TEST(count_gives_each_queue_and_state_with_jobs)
{
	struct store	*s = open_store();
	uint64_t	 a1 = submit(s, "a", 0);
	uint64_t	 a2 = submit(s, "a", 0);
	int64_t		 sum = 0;

	submit(s, "a", 0);
	submit(s, "b", 0);
	/* A queue without jobs has no row. */
	ASSERT_INT(store_queue_set(s, "c", 0, 0), ==, 0);
	run_to(s, a1, JOB_SUCCEEDED, 400);
	run_to(s, a2, JOB_FAILED, 600);
	ASSERT_INT(store_count(s, on_count, NULL), ==, 0);
	ASSERT_INT(counted[0][JOB_QUEUED], ==, 1);
	ASSERT_INT(counted[0][JOB_SUCCEEDED], ==, 1);
	ASSERT_INT(counted[0][JOB_FAILED], ==, 1);
	ASSERT_INT(counted[1][JOB_QUEUED], ==, 1);
	for (int q = 0; q < 4; q++)
		for (int st = 0; st < JOB_STATE_COUNT; st++)
			sum += counted[q][st];
	ASSERT_INT(sum, ==, 4);
	ASSERT_INT(store_finished_since(s, 500, on_finished, NULL), ==, 0);
	ASSERT_INT(nfinished, ==, 1);
	ASSERT_INT(finished[0], ==, 600);
	ASSERT_INT(store_finished_since(s, 400, on_finished, NULL), ==, 0);
	ASSERT_INT(nfinished, ==, 3);
	store_close(s);
}

/* The counts runneld starts from follow a retry and a delete and outlive
 * a restart (SQLite keeps them in job_counts, not by counting jobs). */
TEST(count_follows_retries_and_deletes_across_a_reopen)
{
	struct store	*s = open_store();
	uint64_t	 a1 = submit(s, "a", 0);
	uint64_t	 a2 = submit(s, "a", 0);
	int64_t		 sum = 0;

	submit(s, "b", 0);
	run_to(s, a1, JOB_FAILED, 400);
	ASSERT_INT(store_requeue(s, a1, JOB_FAILED, 0, 0), ==, 0);
	run_to(s, a2, JOB_SUCCEEDED, 500);
	ASSERT_INT(store_delete(s, a2), ==, 0);
	store_close(s);
	s = open_store();
	ASSERT_INT(store_count(s, on_count, NULL), ==, 0);
	ASSERT_INT(counted[0][JOB_QUEUED], ==, 1);
	ASSERT_INT(counted[1][JOB_QUEUED], ==, 1);
	for (int q = 0; q < 4; q++)
		for (int st = 0; st < JOB_STATE_COUNT; st++)
			sum += counted[q][st];
	ASSERT_INT(sum, ==, 2);
	store_close(s);
}

struct seen_queue {
	char	 name[16];
	int	 paused;
	int	 concurrency;
};

static struct seen_queue seen_queues[8];
static int nseen_queues;

static void
on_queue(void *arg, const char *name, int paused, int concurrency)
{
	(void)arg;
	ASSERT(nseen_queues < 8);
	snprintf(seen_queues[nseen_queues].name,
	    sizeof(seen_queues[nseen_queues].name), "%s", name);
	seen_queues[nseen_queues].paused = paused;
	seen_queues[nseen_queues++].concurrency = concurrency;
}

TEST(queues_keep_their_settings_and_come_in_name_order)
{
	struct store *s = open_store();

	ASSERT_INT(store_queues(s, on_queue, NULL), ==, 0);
	ASSERT_INT(nseen_queues, ==, 0);
	ASSERT_INT(store_queue_set(s, "zeta", 1, 2), ==, 0);
	ASSERT_INT(store_queue_set(s, "alpha", 0, -1), ==, 0);
	ASSERT_INT(store_queue_set(s, "mid", 1, 3), ==, 0);
	/* Setting a queue that exists replaces its settings. */
	ASSERT_INT(store_queue_set(s, "zeta", 0, 5), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_queues(s, on_queue, NULL), ==, 0);
	ASSERT_INT(nseen_queues, ==, 3);
	ASSERT_STR(seen_queues[0].name, "alpha");
	ASSERT_INT(seen_queues[0].paused, ==, 0);
	ASSERT_INT(seen_queues[0].concurrency, ==, -1);
	ASSERT_STR(seen_queues[1].name, "mid");
	ASSERT_INT(seen_queues[1].paused, ==, 1);
	ASSERT_INT(seen_queues[1].concurrency, ==, 3);
	ASSERT_STR(seen_queues[2].name, "zeta");
	ASSERT_INT(seen_queues[2].paused, ==, 0);
	ASSERT_INT(seen_queues[2].concurrency, ==, 5);
	/* concurrency <= 0: no limit. */
	ASSERT_INT(store_queue_set(s, "mid", 0, 0), ==, 0);
	nseen_queues = 0;
	ASSERT_INT(store_queues(s, on_queue, NULL), ==, 0);
	ASSERT_INT(seen_queues[1].paused, ==, 0);
	ASSERT_INT(seen_queues[1].concurrency, ==, -1);
	store_close(s);
	/* Settings are stored, not only held. */
	s = open_store();
	nseen_queues = 0;
	ASSERT_INT(store_queues(s, on_queue, NULL), ==, 0);
	ASSERT_INT(nseen_queues, ==, 3);
	ASSERT_INT(seen_queues[2].concurrency, ==, 5);
	store_close(s);
}

TEST(dependents_are_kept_once_and_forgotten_with_the_job)
{
	struct store	*s = open_store();
	uint64_t	 dep = submit(s, "default", 0);
	uint64_t	 deps[2] = {dep, dep};
	uint64_t	 w1 = submit_waiting(s, 0, deps, 2);
	uint64_t	 w2 = submit_waiting(s, 0, &dep, 1);
	uint64_t	*ids;
	size_t		 n;

	ASSERT_INT(store_add_deps(s, w1, &dep, 1), ==, 0);
	ASSERT_INT(store_dependents(s, dep, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 2);
	ASSERT((ids[0] == w1 && ids[1] == w2) ||
	    (ids[0] == w2 && ids[1] == w1));
	free(ids);
	ASSERT_INT(store_dependents(s, w1, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 0);
	ASSERT(ids == NULL);
	ASSERT_INT(store_set_state(s, w2, JOB_SCHEDULED, JOB_CANCELED, NULL, 1),
	    ==, 0);
	ASSERT_INT(store_delete(s, w2), ==, 0);
	ASSERT_INT(store_dependents(s, dep, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(ids[0], ==, w1);
	free(ids);
	/* Deleting the job waited for forgets who waited. */
	ASSERT_INT(store_set_state(s, dep, JOB_QUEUED, JOB_CANCELED, NULL, 1),
	    ==, 0);
	ASSERT_INT(store_delete(s, dep), ==, 0);
	ASSERT_INT(store_dependents(s, dep, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 0);
	store_close(s);
}

TEST(dep_done_counts_down_only_jobs_still_waiting)
{
	struct store	*s = open_store();
	uint64_t	 deps[2] = {submit(s, "default", 0),
			    submit(s, "default", 0)};
	uint64_t	 w = submit_waiting(s, 0, deps, 2);
	uint64_t	 q = submit(s, "default", 0);
	struct job	 j;

	ASSERT_INT(store_dep_done(s, w), ==, 0);
	ASSERT_INT(store_get(s, w, &j), ==, 0);
	ASSERT_INT(j.deps_left, ==, 1);
	ASSERT_INT(j.state, ==, JOB_SCHEDULED);
	job_clear(&j);
	ASSERT_INT(store_dep_done(s, w), ==, 0);
	/* Nothing left to wait for: no change, and no error. */
	ASSERT_INT(store_dep_done(s, w), ==, 0);
	ASSERT_INT(store_get(s, w, &j), ==, 0);
	ASSERT_INT(j.deps_left, ==, 0);
	job_clear(&j);
	/* Not scheduled: nothing to count down, and no error. */
	ASSERT_INT(store_dep_done(s, q), ==, 0);
	ASSERT_INT(store_get(s, q, &j), ==, 0);
	ASSERT_INT(j.deps_left, ==, 0);
	ASSERT_INT(j.state, ==, JOB_QUEUED);
	job_clear(&j);
	/* No run_at and nothing to wait for: promotable, not due. */
	ASSERT_INT(store_promote(s, w), ==, 0);
	ASSERT_INT(store_promote(s, w), ==, -EBUSY);
	store_close(s);
}

TEST(due_takes_at_most_limit_in_time_then_id_order)
{
	struct store	*s = open_store();
	uint64_t	 a, b, c;
	int64_t		 at = -1;

	ASSERT_INT(store_next_due(s, &at), ==, 0);
	ASSERT_INT(at, ==, 0);
	ASSERT_INT(store_due(s, 1000000, 10, on_due, NULL), ==, 0);
	c = submit_waiting(s, 3000, NULL, 0);
	a = submit_waiting(s, 2000, NULL, 0);
	b = submit_waiting(s, 2000, NULL, 0);
	submit_waiting(s, 0, NULL, 0);		/* no time to wait for */
	ASSERT_INT(store_next_due(s, &at), ==, 0);
	ASSERT_INT(at, ==, 2000);
	ASSERT_INT(store_due(s, 1999, 10, on_due, NULL), ==, 0);
	ASSERT_INT(store_due(s, 5000, 2, on_due, NULL), ==, 2);
	ASSERT_INT(ndue, ==, 2);
	ASSERT_INT(due_ids[0], ==, a);
	ASSERT_INT(due_ids[1], ==, b);
	/* Due is a question, not a change: the same come again. */
	ndue = 0;
	ASSERT_INT(store_due(s, 5000, 10, on_due, NULL), ==, 3);
	ASSERT_INT(due_ids[2], ==, c);
	store_close(s);
}

TEST(a_savepoint_kept_keeps_its_writes)
{
	struct store	*s = open_store();
	uint64_t	 a, b;
	struct job	 j;

	ASSERT_INT(store_mark(s), ==, 0);
	ASSERT_INT(store_in_txn(s), ==, 1);
	a = submit(s, "default", 0);
	b = submit(s, "default", 0);
	ASSERT_INT(store_unmark(s, 1), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_get(s, a, &j), ==, 0);
	job_clear(&j);
	ASSERT_INT(store_get(s, b, &j), ==, 0);
	job_clear(&j);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	store_close(s);
}

TEST(begin_is_idempotent_and_commit_without_a_turn_is_a_no_op)
{
	struct store *s = open_store();

	ASSERT_INT(store_in_txn(s), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_ping(s), ==, 0);
	ASSERT_INT(store_begin(s), ==, 0);
	ASSERT_INT(store_begin(s), ==, 0);
	ASSERT_INT(store_in_txn(s), ==, 1);
	/* In a turn, the turn that is open is the answer. */
	ASSERT_INT(store_ping(s), ==, 0);
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 0), ==, 0);
	ASSERT_INT(store_in_txn(s), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	ASSERT_INT(store_ping(s), ==, 0);
	ASSERT_INT(store_in_txn(s), ==, 0);
	store_close(s);
}

TEST(close_commits_a_turn_still_open)
{
	struct store	*s = open_store();
	uint64_t	 id = submit(s, "default", 0);
	struct job	 j;

	ASSERT_INT(store_in_txn(s), ==, 1);
	store_close(s);
	store_close(NULL);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	s = open_store();
	ASSERT_INT(store_get(s, id, &j), ==, 0);
	job_clear(&j);
	store_close(s);
}

TEST(list_filters_by_type)
{
	struct store		*s = open_store();
	struct job		 up, *jobs;
	struct job_filter	 f = {.limit = 10, .types = 1u << JOB_UPLOAD};
	size_t			 n;
	uint64_t		 next;

	submit(s, "default", 0);
	job_init(&up);
	up.type = JOB_UPLOAD;
	up.state = JOB_QUEUED;
	up.queue = strdup("default");
	up.file_name = strdup("f");
	up.file_size = 1;
	ASSERT_INT(store_submit(s, &up, 1, 1000), ==, 0);
	submit(s, "default", 0);
	ASSERT_INT(store_list(s, &f, &jobs, &n, &next), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(next, ==, 0);
	ASSERT_INT(jobs[0].id, ==, up.id);
	ASSERT_INT(jobs[0].type, ==, JOB_UPLOAD);
	job_free_all(jobs, n);
	f.types = (1u << JOB_UPLOAD) | (1u << JOB_COMMAND);
	ASSERT_INT(store_list(s, &f, &jobs, &n, &next), ==, 0);
	ASSERT_INT(n, ==, 3);
	job_free_all(jobs, n);
	job_clear(&up);
	store_close(s);
}

TEST(running_is_empty_when_nothing_runs)
{
	struct store	*s = open_store();
	uint64_t	*ids = (uint64_t *)1;
	size_t		 n = 99;

	submit(s, "default", 0);
	ASSERT_INT(store_running(s, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 0);
	ASSERT(ids == NULL);
	store_close(s);
}

TEST(a_big_batch_keeps_its_order)
{
	struct store	*s = open_store();
	size_t		 n = 2500;
	struct job	*jobs = calloc(n, sizeof(*jobs)), got;
	char		 cmd[32];

	ASSERT(jobs != NULL);
	for (size_t i = 0; i < n; i++) {
		job_init(&jobs[i]);
		snprintf(cmd, sizeof(cmd), "echo %zu", i);
		jobs[i].command = strdup(cmd);
		jobs[i].queue = strdup("default");
		jobs[i].priority = (int64_t)(i % 7);
		jobs[i].state = JOB_QUEUED;
	}
	ASSERT_INT(store_submit(s, jobs, n, 7), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			ASSERT_INT(jobs[i].id, >, jobs[i - 1].id);
		if (i % 250 != 0 && i != n - 1)
			continue;
		ASSERT_INT(store_get(s, jobs[i].id, &got), ==, 0);
		ASSERT_STR(got.command, jobs[i].command);
		ASSERT_INT(got.priority, ==, i % 7);
		job_clear(&got);
	}
	ASSERT_INT(be->committed_jobs(), ==, n);
	job_free_all(jobs, n);
	store_close(s);
}

TEST(cluster_calls_go_to_the_backend_or_are_not_supported)
{
	struct store		*s = open_store();
	struct store_link	 l;
	uint64_t		*ids = (uint64_t *)1;
	size_t			 n = 99;
	int			 shared = strcmp(be->name, "sqlite") != 0;

	ASSERT_INT(store_clustered(s), ==, shared);
	ASSERT_INT(store_link_up(s), ==, 1);
	store_link_info(s, &l);
	ASSERT_INT(l.up, ==, 1);
	if (!shared) {
		ASSERT_INT(store_node_jobs(s, "n1", &ids, &n), ==, -ENOTSUP);
		ASSERT_INT(store_notify(s, "runnel", "x"), ==, -ENOTSUP);
		ASSERT_INT(store_counts_fold(s), ==, -ENOTSUP);
		store_link_stop(s);
		store_close(s);
		return;
	}
	ASSERT_INT(store_node_jobs(s, "n1", &ids, &n), ==, 0);
	ASSERT(ids == NULL);
	ASSERT_INT(n, ==, 0);
	store_close(s);
}

/* ---- schedules ---- */

/* A schedule named name, due at next_at (0: none left), paused or not. */
static void
sched_of(struct schedule *sc, const char *name, int64_t next_at, int paused)
{
	schedule_init(sc);
	sc->name = strdup(name);
	sc->cron = strdup("*/5 * * * *");
	sc->timezone = strdup("UTC");
	sc->job_json = strdup("{\"command\":\"true\"}");
	sc->next_at = next_at;
	sc->paused = paused;
	sc->created_at = 100;
}

/* Adds a schedule as sched_of makes it; returns its id. */
static uint64_t
add_sched(struct store *s, const char *name, int64_t next_at, int paused)
{
	struct schedule	 sc;
	uint64_t	 id;

	sched_of(&sc, name, next_at, paused);
	ASSERT_INT(store_sched_add(s, &sc), ==, 0);
	ASSERT_INT(sc.id, >, 0);
	id = sc.id;
	schedule_clear(&sc);
	return id;
}

/* Checks the n ids at ids are want's, in order, and frees them. */
static void
expect_ids(uint64_t *ids, size_t n, const uint64_t *want, size_t nwant)
{
	ASSERT_INT(n, ==, nwant);
	for (size_t i = 0; i < n; i++)
		ASSERT_INT(ids[i], ==, want[i]);
	free(ids);
}

TEST(a_taken_schedule_name_is_refused_and_the_turn_goes_on)
{
	struct store	*s = open_store();
	struct schedule	 sc, *all;
	size_t		 n;
	uint64_t	 a, b, c;

	a = add_sched(s, "a", 1000, 0);
	b = add_sched(s, "b", 2000, 0);
	ASSERT_INT(b, >, a);
	sched_of(&sc, "a", 3000, 0);
	ASSERT_INT(store_sched_add(s, &sc), ==, -EEXIST);
	ASSERT_INT(sc.id, ==, 0);
	schedule_clear(&sc);
	/* The refusal lost nothing: the turn still writes and commits. */
	c = add_sched(s, "c", 3000, 0);
	ASSERT_INT(c, >, b);
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	ASSERT_INT(store_sched_all(s, &all, &n), ==, 0);
	ASSERT_INT(n, ==, 3);
	ASSERT_INT(all[0].id, ==, a);
	ASSERT_STR(all[0].name, "a");
	ASSERT_INT(all[0].next_at, ==, 1000);
	ASSERT_INT(all[1].id, ==, b);
	ASSERT_INT(all[2].id, ==, c);
	schedule_free_all(all, n);
	store_close(s);
}

TEST(a_schedule_comes_back_as_it_was_written)
{
	struct store	*s = open_store();
	struct schedule	 sc, got, *all;
	size_t		 n;
	uint64_t	 bare;

	schedule_init(&sc);
	sc.name = strdup("nightly backup");
	sc.cron = strdup("0 3 * * 1-5");
	sc.timezone = strdup("Europe/Berlin");
	sc.job_json = strdup("{\"command\":\"backup\",\"queue\":\"q\"}");
	sc.overlap = SCHED_OVERLAP_QUEUE;
	sc.misfire = SCHED_MISFIRE_ALL;
	sc.paused = 1;
	sc.until = 1800000000000;
	sc.created_at = 1700000000000;
	sc.next_at = 1700000100000;
	sc.last_job = 42;
	sc.waiting = 1700000050000;
	ASSERT_INT(store_sched_add(s, &sc), ==, 0);
	bare = add_sched(s, "bare", 0, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_sched_get(s, sc.id, &got), ==, 0);
	ASSERT_INT(got.id, ==, sc.id);
	ASSERT_STR(got.name, "nightly backup");
	ASSERT_STR(got.cron, "0 3 * * 1-5");
	ASSERT_STR(got.timezone, "Europe/Berlin");
	ASSERT_STR(got.job_json, sc.job_json);
	ASSERT_INT(got.overlap, ==, SCHED_OVERLAP_QUEUE);
	ASSERT_INT(got.misfire, ==, SCHED_MISFIRE_ALL);
	ASSERT_INT(got.paused, ==, 1);
	ASSERT_INT(got.until, ==, 1800000000000);
	ASSERT_INT(got.created_at, ==, 1700000000000);
	ASSERT_INT(got.next_at, ==, 1700000100000);
	ASSERT_INT(got.last_job, ==, 42);
	ASSERT_INT(got.waiting, ==, 1700000050000);
	schedule_clear(&got);
	/* Absent values stay absent: no end, no tick left, no job, none owed. */
	ASSERT_INT(store_sched_get(s, bare, &got), ==, 0);
	ASSERT_INT(got.paused, ==, 0);
	ASSERT_INT(got.overlap, ==, SCHED_OVERLAP_ALLOW);
	ASSERT_INT(got.misfire, ==, SCHED_MISFIRE_ONCE);
	ASSERT_INT(got.until, ==, 0);
	ASSERT_INT(got.next_at, ==, 0);
	ASSERT_INT(got.last_job, ==, 0);
	ASSERT_INT(got.waiting, ==, 0);
	ASSERT_INT(got.created_at, ==, 100);
	schedule_clear(&got);
	ASSERT_INT(store_sched_all(s, &all, &n), ==, 0);
	ASSERT_INT(n, ==, 2);
	ASSERT_INT(all[0].id, ==, sc.id);
	ASSERT_STR(all[0].timezone, "Europe/Berlin");
	ASSERT_INT(all[0].waiting, ==, 1700000050000);
	ASSERT_INT(all[1].id, ==, bare);
	ASSERT_INT(all[1].waiting, ==, 0);
	schedule_free_all(all, n);
	ASSERT_INT(store_sched_get(s, bare + 100, &got), ==, -ENOENT);
	ASSERT(got.name == NULL);
	schedule_clear(&sc);
	store_close(s);
}

TEST(put_changes_what_a_client_sets_and_replan_where_the_ticks_stand)
{
	struct store	*s = open_store();
	struct schedule	 sc, got;
	uint64_t	 a = add_sched(s, "a", 1000, 0);
	uint64_t	 b = add_sched(s, "b", 2000, 0);

	ASSERT_INT(store_sched_get(s, a, &sc), ==, 0);
	free(sc.name);
	sc.name = strdup("a2");
	free(sc.cron);
	sc.cron = strdup("@hourly");
	sc.overlap = SCHED_OVERLAP_CANCEL;
	sc.misfire = SCHED_MISFIRE_SKIP;
	sc.paused = 1;
	sc.until = 9000;
	sc.next_at = 5000;
	sc.last_job = 7;
	sc.waiting = 4000;
	sc.created_at = 1;	/* not written */
	ASSERT_INT(store_sched_put(s, &sc), ==, 0);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_STR(got.name, "a2");
	ASSERT_STR(got.cron, "@hourly");
	ASSERT_STR(got.timezone, "UTC");
	ASSERT_INT(got.overlap, ==, SCHED_OVERLAP_CANCEL);
	ASSERT_INT(got.misfire, ==, SCHED_MISFIRE_SKIP);
	ASSERT_INT(got.paused, ==, 1);
	ASSERT_INT(got.until, ==, 9000);
	ASSERT_INT(got.created_at, ==, 100);
	/* Where its ticks stand is the leader's, not the client's. */
	ASSERT_INT(got.next_at, ==, 1000);
	ASSERT_INT(got.last_job, ==, 0);
	ASSERT_INT(got.waiting, ==, 0);
	schedule_clear(&got);
	ASSERT_INT(store_sched_made(s, a, 7, 4000), ==, 0);
	ASSERT_INT(store_sched_made(s, a, 8, SCHED_KEEP), ==, 0);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_INT(got.last_job, ==, 8);
	ASSERT_INT(got.waiting, ==, 4000);
	schedule_clear(&got);
	/* A replan moves next_at and drops the run owed. */
	ASSERT_INT(store_sched_replan(s, a, 5000), ==, 0);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_INT(got.next_at, ==, 5000);
	ASSERT_INT(got.waiting, ==, 0);
	ASSERT_INT(got.last_job, ==, 8);
	schedule_clear(&got);
	/* Back to absent values, keeping its own name: not a conflict. */
	sc.until = 0;
	ASSERT_INT(store_sched_put(s, &sc), ==, 0);
	ASSERT_INT(store_sched_replan(s, a, 0), ==, 0);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_INT(got.until, ==, 0);
	ASSERT_INT(got.next_at, ==, 0);
	schedule_clear(&got);
	ASSERT_INT(store_sched_replan(s, a + 1000, 0), ==, -ENOENT);
	/* b's name: refused, nothing changed, and the turn goes on. */
	free(sc.name);
	sc.name = strdup("b");
	sc.next_at = 6000;
	ASSERT_INT(store_sched_put(s, &sc), ==, -EEXIST);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_STR(got.name, "a2");
	ASSERT_INT(got.next_at, ==, 0);
	schedule_clear(&got);
	ASSERT_INT(store_sched_get(s, b, &got), ==, 0);
	ASSERT_INT(got.next_at, ==, 2000);
	schedule_clear(&got);
	/* The old name is free again. */
	ASSERT_INT(add_sched(s, "a", 0, 0), >, b);
	/* Gone meanwhile: no such schedule, not a name in use. */
	free(sc.name);
	sc.name = strdup("elsewhere");
	sc.id = b + 100;
	ASSERT_INT(store_sched_put(s, &sc), ==, -ENOENT);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	schedule_clear(&sc);
	store_close(s);
}

TEST(delete_removes_the_schedule_and_its_ticks)
{
	struct store	*s = open_store();
	struct schedule	 got;
	uint64_t	 a = add_sched(s, "a", 1000, 0);
	uint64_t	 b = add_sched(s, "b", 1000, 0);

	ASSERT_INT(store_sched_tick(s, a, 1000, 0), ==, 0);
	ASSERT_INT(store_sched_tick(s, b, 1000, 0), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_sched_delete(s, a), ==, 0);
	ASSERT_INT(store_sched_get(s, a, &got), ==, -ENOENT);
	ASSERT_INT(store_sched_delete(s, a), ==, -ENOENT);
	/* Its tick went with it; b's stays. */
	ASSERT_INT(store_sched_tick(s, a, 1000, 0), ==, 0);
	ASSERT_INT(store_sched_tick(s, b, 1000, 0), ==, -EEXIST);
	ASSERT_INT(store_sched_get(s, b, &got), ==, 0);
	schedule_clear(&got);
	/* The name is free, under a new id. */
	ASSERT_INT(add_sched(s, "a", 0, 0), >, b);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(next_and_due_see_only_unpaused_schedules_with_a_tick_left)
{
	struct store	*s = open_store();
	struct schedule	 sc;
	uint64_t	*ids;
	size_t		 n;
	int64_t		 at = -1;
	uint64_t	 c, d, e;

	ASSERT_INT(store_sched_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 0);
	ASSERT_INT(store_sched_due(s, 1000000, 10, &ids, &n), ==, 0);
	expect_ids(ids, n, NULL, 0);
	add_sched(s, "paused", 500, 1);
	add_sched(s, "done", 0, 0);
	ASSERT_INT(store_sched_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 0);
	c = add_sched(s, "c", 900, 0);
	d = add_sched(s, "d", 700, 0);
	e = add_sched(s, "e", 700, 0);
	ASSERT_INT(store_sched_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 700);
	{
		uint64_t want[] = {d, e, c};

		ASSERT_INT(store_sched_due(s, 1000, 10, &ids, &n), ==, 0);
		expect_ids(ids, n, want, 3);
		ASSERT_INT(store_sched_due(s, 1000, 2, &ids, &n), ==, 0);
		expect_ids(ids, n, want, 2);
		ASSERT_INT(store_sched_due(s, 700, 10, &ids, &n), ==, 0);
		expect_ids(ids, n, want, 2);
	}
	ASSERT_INT(store_sched_due(s, 699, 10, &ids, &n), ==, 0);
	expect_ids(ids, n, NULL, 0);
	/* Paused, d and e drop out. */
	ASSERT_INT(store_sched_get(s, d, &sc), ==, 0);
	sc.paused = 1;
	ASSERT_INT(store_sched_put(s, &sc), ==, 0);
	schedule_clear(&sc);
	ASSERT_INT(store_sched_get(s, e, &sc), ==, 0);
	sc.paused = 1;
	ASSERT_INT(store_sched_put(s, &sc), ==, 0);
	schedule_clear(&sc);
	ASSERT_INT(store_sched_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 900);
	ASSERT_INT(store_sched_due(s, 1000, 10, &ids, &n), ==, 0);
	expect_ids(ids, n, &c, 1);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(advance_is_a_compare_and_set_on_next_at)
{
	struct store	*s = open_store();
	struct schedule	 got;
	uint64_t	 a = add_sched(s, "a", 100, 0);
	int64_t		 at;

	ASSERT_INT(store_sched_advance(s, a, 100, 200), ==, 0);
	/* A second firing of the same tick finds it moved. */
	ASSERT_INT(store_sched_advance(s, a, 100, 300), ==, -ESTALE);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_INT(got.next_at, ==, 200);
	schedule_clear(&got);
	ASSERT_INT(store_sched_advance(s, a + 100, 200, 300), ==, -ESTALE);
	/* None left: next_at absent, nothing to arm on. */
	ASSERT_INT(store_sched_advance(s, a, 200, 0), ==, 0);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_INT(got.next_at, ==, 0);
	schedule_clear(&got);
	ASSERT_INT(store_sched_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 0);
	ASSERT_INT(store_sched_advance(s, a, 0, 500), ==, -ESTALE);
	/* The refusals lost nothing of the turn. */
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	ASSERT_INT(store_sched_get(s, a, &got), ==, 0);
	ASSERT_INT(got.next_at, ==, 0);
	schedule_clear(&got);
	store_close(s);
}

TEST(a_tick_is_recorded_once_until_purged)
{
	struct store	*s = open_store();
	uint64_t	 a = add_sched(s, "a", 100, 0);
	uint64_t	 b = add_sched(s, "b", 100, 0);
	uint64_t	 job = submit(s, "default", 0);

	ASSERT_INT(store_sched_tick(s, a, 100, job), ==, 0);
	ASSERT_INT(store_sched_tick(s, a, 100, 0), ==, -EEXIST);
	ASSERT_INT(store_sched_tick(s, a, 200, 0), ==, 0);
	/* Another schedule's same tick is its own. */
	ASSERT_INT(store_sched_tick(s, b, 100, 0), ==, 0);
	/* The refusal lost nothing of the turn. */
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	ASSERT_INT(store_sched_tick(s, a, 200, 0), ==, -EEXIST);
	ASSERT_INT(store_sched_ticks_purge(s, 150), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_sched_tick(s, a, 100, 0), ==, 0);
	ASSERT_INT(store_sched_tick(s, b, 100, 0), ==, 0);
	ASSERT_INT(store_sched_tick(s, a, 200, 0), ==, -EEXIST);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(owed_lists_the_unpaused_schedules_owing_a_run)
{
	struct store	*s = open_store();
	struct schedule	 sc;
	uint64_t	*ids;
	size_t		 n;
	uint64_t	 a, b, c, d;

	ASSERT_INT(store_sched_owed(s, &ids, &n), ==, 0);
	expect_ids(ids, n, NULL, 0);
	a = add_sched(s, "a", 1000, 0);
	sched_of(&sc, "b", 1000, 0);
	sc.waiting = 500;
	ASSERT_INT(store_sched_add(s, &sc), ==, 0);
	b = sc.id;
	schedule_clear(&sc);
	sched_of(&sc, "c", 1000, 1);
	sc.waiting = 600;
	ASSERT_INT(store_sched_add(s, &sc), ==, 0);
	c = sc.id;
	schedule_clear(&sc);
	d = add_sched(s, "d", 1000, 0);
	ASSERT_INT(store_sched_made(s, d, 33, 700), ==, 0);
	{
		uint64_t want[] = {b, d};

		ASSERT_INT(store_sched_owed(s, &ids, &n), ==, 0);
		expect_ids(ids, n, want, 2);
	}
	ASSERT_INT(store_sched_get(s, d, &sc), ==, 0);
	ASSERT_INT(sc.last_job, ==, 33);
	ASSERT_INT(sc.waiting, ==, 700);
	schedule_clear(&sc);
	/* Made with no job keeps the last one; waiting 0 owes nothing. */
	ASSERT_INT(store_sched_made(s, d, 0, 0), ==, 0);
	ASSERT_INT(store_sched_get(s, d, &sc), ==, 0);
	ASSERT_INT(sc.last_job, ==, 33);
	ASSERT_INT(sc.waiting, ==, 0);
	schedule_clear(&sc);
	ASSERT_INT(store_sched_owed(s, &ids, &n), ==, 0);
	expect_ids(ids, n, &b, 1);
	ASSERT_INT(store_sched_made(s, a + 100, 1, 1), ==, -ENOENT);
	(void)c;
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

/* ---- jobs made by schedules ---- */

/* Submits a job of schedule sched (0: none) for tick in state. */
static uint64_t
submit_for(struct store *s, uint64_t sched, int64_t tick,
    enum job_state state)
{
	struct job	 j;
	uint64_t	 id;

	job_init(&j);
	j.command = strdup("true");
	j.queue = strdup("default");
	j.state = state;
	j.schedule_id = sched;
	j.scheduled_for = tick;
	if (job_state_finished(state))
		j.finished_at = 1000;
	ASSERT_INT(store_submit(s, &j, 1, 1000), ==, 0);
	id = j.id;
	job_clear(&j);
	return id;
}

TEST(list_filters_by_schedule_newest_first)
{
	struct store		*s = open_store();
	struct job_filter	 f = {.limit = 2, .schedule = 5};
	uint64_t		 ids[12], seen[12];
	struct job		*jobs;
	size_t			 n;
	uint64_t		 next;

	/* Schedule 5 makes every third job; every other of those fails. */
	for (int i = 0; i < 12; i++)
		ids[i] = submit_for(s, i % 3 == 0 ? 5 : i % 3 == 1 ? 6 : 0,
		    1000 * i, i % 6 == 0 ? JOB_FAILED : JOB_QUEUED);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(walk(s, &f, seen, 12), ==, 4);
	for (int i = 0; i < 4; i++)
		ASSERT_INT(seen[i], ==, ids[9 - 3 * i]);
	f.states = 1u << JOB_FAILED;
	ASSERT_INT(walk(s, &f, seen, 12), ==, 2);
	ASSERT_INT(seen[0], ==, ids[6]);
	ASSERT_INT(seen[1], ==, ids[0]);
	f.states = 1u << JOB_QUEUED;
	f.limit = 10;
	f.before = 0;
	ASSERT_INT(store_list(s, &f, &jobs, &n, &next), ==, 0);
	ASSERT_INT(n, ==, 2);
	ASSERT_INT(next, ==, 0);
	ASSERT_INT(jobs[0].id, ==, ids[9]);
	ASSERT_INT(jobs[0].schedule_id, ==, 5);
	ASSERT_INT(jobs[0].scheduled_for, ==, 9000);
	ASSERT_INT(jobs[1].id, ==, ids[3]);
	job_free_all(jobs, n);
	/* A schedule with no jobs lists none. */
	f.schedule = 7;
	f.states = 0;
	ASSERT_INT(store_list(s, &f, &jobs, &n, &next), ==, 0);
	ASSERT_INT(n, ==, 0);
	job_free_all(jobs, n);
	store_close(s);
}

/* ---- webhook deliveries ---- */

#define HOOKS_AB	"[{\"url\":\"http://a/\",\"on\":[\"failed\"]}," \
			"{\"url\":\"http://b/\"}]"

/* Submits a job of queue with webhooks (NULL: none) in state. */
static uint64_t
submit_hooked(struct store *s, const char *queue, const char *webhooks,
    enum job_state state)
{
	struct job	 j;
	uint64_t	 id;

	job_init(&j);
	j.command = strdup("true");
	j.queue = strdup(queue);
	j.state = state;
	if (webhooks)
		j.webhooks_json = strdup(webhooks);
	if (job_state_finished(state)) {
		j.finished_at = 4000;
		j.error = strdup("dependency 1 failed");
	}
	ASSERT_INT(store_submit(s, &j, 1, 1000), ==, 0);
	id = j.id;
	job_clear(&j);
	return id;
}

/* Job id's deliveries, which must number n; the caller frees them. */
static struct delivery *
deliveries(struct store *s, uint64_t id, size_t n)
{
	struct delivery	*d = (struct delivery *)1;
	size_t		 got = 99;

	ASSERT_INT(store_hook_list(s, id, &d, &got), ==, 0);
	ASSERT_INT(got, ==, n);
	if (n == 0)
		ASSERT(d == NULL);
	return d;
}

/* Checks d is a new delivery of job to url for event at finished_at. */
static void
expect_delivery(const struct delivery *d, uint64_t job, const char *url,
    const char *event, int attempt, int64_t finished_at)
{
	ASSERT_INT(d->id, >, 0);
	ASSERT_INT(d->job_id, ==, job);
	ASSERT_STR(d->url, url);
	ASSERT_STR(d->event, event);
	ASSERT_INT(d->attempt, ==, attempt);
	ASSERT_INT(d->created_at, ==, finished_at);
	ASSERT_INT(d->state, ==, DELIVERY_PENDING);
	ASSERT_INT(d->tries, ==, 0);
	ASSERT_INT(d->next_at, ==, finished_at);
	ASSERT_INT(d->last_at, ==, 0);
	ASSERT_INT(d->last_status, ==, -1);
	ASSERT(d->last_error == NULL);
}

TEST(a_finished_job_gets_a_delivery_per_hook_that_names_its_state)
{
	struct store		*s = open_store();
	uint64_t		 failed = submit_hooked(s, "default", HOOKS_AB,
	    JOB_QUEUED);
	uint64_t		 ok, canceled, plain;
	struct job_result	 r = result(failed, JOB_FAILED, 5000);
	struct job		 j;
	struct delivery		*d;

	/* Nothing until it finishes. */
	ASSERT_INT(store_claim(s, failed, 1, 4999, &j), ==, 1);
	job_clear(&j);
	d = deliveries(s, failed, 0);
	r.exit_code = 1;
	r.error = "exit status 1";
	ASSERT_INT(store_finish(s, &r), ==, 0);
	d = deliveries(s, failed, 2);
	expect_delivery(&d[0], failed, "http://a/", "job.failed", 1, 5000);
	expect_delivery(&d[1], failed, "http://b/", "job.failed", 1, 5000);
	ASSERT_INT(d[1].id, >, d[0].id);
	delivery_free_all(d, 2);
	/* Succeeded: a is only for failures. */
	ok = submit_hooked(s, "default", HOOKS_AB, JOB_QUEUED);
	run_to(s, ok, JOB_SUCCEEDED, 6000);
	d = deliveries(s, ok, 1);
	expect_delivery(&d[0], ok, "http://b/", "job.succeeded", 1, 6000);
	delivery_free_all(d, 1);
	/* Canceled before it ran: its own event, for the hooks on all. */
	canceled = submit_hooked(s, "default", HOOKS_AB, JOB_QUEUED);
	ASSERT_INT(store_set_state(s, canceled, JOB_QUEUED, JOB_CANCELED,
	    "canceled", 7000), ==, 0);
	d = deliveries(s, canceled, 1);
	expect_delivery(&d[0], canceled, "http://b/", "job.canceled", 0, 7000);
	delivery_free_all(d, 1);
	/* Failed by a state change (as a failed dependency does): a and b. */
	plain = submit_hooked(s, "default", HOOKS_AB, JOB_QUEUED);
	ASSERT_INT(store_set_state(s, plain, JOB_QUEUED, JOB_FAILED,
	    "dependency 1 failed", 7500), ==, 0);
	d = deliveries(s, plain, 2);
	expect_delivery(&d[0], plain, "http://a/", "job.failed", 0, 7500);
	expect_delivery(&d[1], plain, "http://b/", "job.failed", 0, 7500);
	delivery_free_all(d, 2);
	/* A retry scheduled is not an end: nothing yet. */
	plain = submit_hooked(s, "default", HOOKS_AB, JOB_QUEUED);
	ASSERT_INT(store_claim(s, plain, 1, 7600, &j), ==, 1);
	job_clear(&j);
	r = result(plain, JOB_SCHEDULED, 7700);
	r.run_at = 9999;
	ASSERT_INT(store_finish(s, &r), ==, 0);
	d = deliveries(s, plain, 0);
	/* No hooks, no deliveries. */
	plain = submit_hooked(s, "default", NULL, JOB_QUEUED);
	run_to(s, plain, JOB_FAILED, 8000);
	d = deliveries(s, plain, 0);
	/* A retry that ends again is told again. */
	ASSERT_INT(store_requeue(s, failed, JOB_FAILED, 0, 0), ==, 0);
	d = deliveries(s, failed, 2);
	delivery_free_all(d, 2);
	run_to(s, failed, JOB_SUCCEEDED, 9000);
	d = deliveries(s, failed, 3);
	expect_delivery(&d[2], failed, "http://b/", "job.succeeded", 2, 9000);
	delivery_free_all(d, 3);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(a_queue_s_webhooks_apply_to_every_job_of_the_queue)
{
	struct store	*s = open_store();
	struct delivery	*d;
	char		*json = (char *)1;
	uint64_t	 own, bare, other, after;

	ASSERT_INT(store_hook_queue_get(s, "hq", &json), ==, 0);
	ASSERT(json == NULL);
	ASSERT_INT(store_hook_queue_set(s, "hq",
	    "[{\"url\":\"http://q/\",\"on\":[\"failed\",\"canceled\"]}]"), ==, 0);
	ASSERT_INT(store_hook_queue_get(s, "hq", &json), ==, 0);
	ASSERT_STR(json, "[{\"url\":\"http://q/\",\"on\":[\"failed\",\"canceled\"]}]");
	free(json);
	own = submit_hooked(s, "hq", HOOKS_AB, JOB_QUEUED);
	bare = submit_hooked(s, "hq", NULL, JOB_QUEUED);
	other = submit_hooked(s, "default", NULL, JOB_QUEUED);
	run_to(s, own, JOB_FAILED, 5000);
	run_to(s, bare, JOB_FAILED, 5000);
	run_to(s, other, JOB_FAILED, 5000);
	d = deliveries(s, own, 3);
	expect_delivery(&d[0], own, "http://a/", "job.failed", 1, 5000);
	expect_delivery(&d[1], own, "http://b/", "job.failed", 1, 5000);
	expect_delivery(&d[2], own, "http://q/", "job.failed", 1, 5000);
	delivery_free_all(d, 3);
	d = deliveries(s, bare, 1);
	expect_delivery(&d[0], bare, "http://q/", "job.failed", 1, 5000);
	delivery_free_all(d, 1);
	d = deliveries(s, other, 0);
	/* Its "on" holds for the queue's hooks too. */
	after = submit_hooked(s, "hq", NULL, JOB_QUEUED);
	run_to(s, after, JOB_SUCCEEDED, 6000);
	d = deliveries(s, after, 0);
	/* Cleared: none from then on. */
	ASSERT_INT(store_hook_queue_set(s, "hq", NULL), ==, 0);
	ASSERT_INT(store_hook_queue_get(s, "hq", &json), ==, 0);
	ASSERT(json == NULL);
	after = submit_hooked(s, "hq", NULL, JOB_QUEUED);
	run_to(s, after, JOB_FAILED, 7000);
	d = deliveries(s, after, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(a_job_born_failed_gets_its_deliveries_too)
{
	struct store	*s = open_store();
	struct delivery	*d;
	uint64_t	 born, waiting, plain;

	/* As a dependency's failure makes it: failed at submit. */
	born = submit_hooked(s, "default", HOOKS_AB, JOB_FAILED);
	d = deliveries(s, born, 2);
	expect_delivery(&d[0], born, "http://a/", "job.failed", 0, 4000);
	expect_delivery(&d[1], born, "http://b/", "job.failed", 0, 4000);
	delivery_free_all(d, 2);
	waiting = submit_hooked(s, "default", HOOKS_AB, JOB_SCHEDULED);
	d = deliveries(s, waiting, 0);
	plain = submit_hooked(s, "default", NULL, JOB_FAILED);
	d = deliveries(s, plain, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(deleting_a_job_removes_its_deliveries_and_their_tries)
{
	struct store		*s = open_store();
	uint64_t		 gone = submit_hooked(s, "default", HOOKS_AB,
	    JOB_QUEUED);
	uint64_t		 kept = submit_hooked(s, "default", HOOKS_AB,
	    JOB_QUEUED);
	struct delivery		*d;
	struct delivery_try	*t, try;
	size_t			 n;
	int64_t			 at;

	run_to(s, gone, JOB_FAILED, 5000);
	run_to(s, kept, JOB_SUCCEEDED, 6000);
	d = deliveries(s, gone, 2);
	ASSERT_INT(store_hook_lease(s, d[0].id, 5000, 65000), ==, 0);
	memset(&try, 0, sizeof(try));
	try.delivery_id = d[0].id;
	try.try = 1;
	try.at = 5100;
	try.status = 500;
	ASSERT_INT(store_hook_tried(s, &try, DELIVERY_PENDING, 15000), ==, 0);
	delivery_free_all(d, 2);
	ASSERT_INT(store_hook_tries(s, gone, &t, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	delivery_try_free_all(t, n);
	ASSERT_INT(store_delete(s, gone), ==, 0);
	d = deliveries(s, gone, 0);
	ASSERT_INT(store_hook_tries(s, gone, &t, &n), ==, 0);
	ASSERT_INT(n, ==, 0);
	delivery_try_free_all(t, n);
	/* Only the other job's delivery is left to send. */
	ASSERT_INT(store_hook_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 6000);
	d = deliveries(s, kept, 1);
	delivery_free_all(d, 1);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(deliveries_are_leased_tried_and_read_back)
{
	struct store		*s = open_store();
	uint64_t		 j1 = submit_hooked(s, "default",
	    "[{\"url\":\"http://a/\"}]", JOB_QUEUED);
	uint64_t		 j2 = submit_hooked(s, "default",
	    "[{\"url\":\"http://b/\"}]", JOB_QUEUED);
	struct delivery		*d, *due;
	struct delivery_try	*t, try;
	uint64_t		 d1, d2;
	size_t			 n;
	int64_t			 at = -1;

	ASSERT_INT(store_hook_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 0);
	run_to(s, j2, JOB_FAILED, 2000);
	run_to(s, j1, JOB_FAILED, 1000);
	d = deliveries(s, j2, 1);
	d2 = d[0].id;
	delivery_free_all(d, 1);
	d = deliveries(s, j1, 1);
	d1 = d[0].id;
	delivery_free_all(d, 1);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_hook_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 1000);
	/* Due: first due first, then by id, at most limit. */
	ASSERT_INT(store_hook_due(s, 999, 10, &due, &n), ==, 0);
	ASSERT_INT(n, ==, 0);
	delivery_free_all(due, n);
	ASSERT_INT(store_hook_due(s, 1500, 10, &due, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(due[0].id, ==, d1);
	delivery_free_all(due, n);
	ASSERT_INT(store_hook_due(s, 5000, 10, &due, &n), ==, 0);
	ASSERT_INT(n, ==, 2);
	ASSERT_INT(due[0].id, ==, d1);
	expect_delivery(&due[0], j1, "http://a/", "job.failed", 1, 1000);
	ASSERT_INT(due[1].id, ==, d2);
	delivery_free_all(due, n);
	ASSERT_INT(store_hook_due(s, 5000, 1, &due, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(due[0].id, ==, d1);
	delivery_free_all(due, n);
	/* A lease counts the try and moves next_at; a second one is stale. */
	ASSERT_INT(store_hook_lease(s, d1, 1000, 61000), ==, 0);
	ASSERT_INT(store_hook_lease(s, d1, 1000, 62000), ==, -ESTALE);
	ASSERT_INT(store_hook_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 2000);
	d = deliveries(s, j1, 1);
	ASSERT_INT(d[0].tries, ==, 1);
	ASSERT_INT(d[0].next_at, ==, 61000);
	ASSERT_INT(d[0].state, ==, DELIVERY_PENDING);
	delivery_free_all(d, 1);
	/* An answer 500: pending again, the next try later. */
	memset(&try, 0, sizeof(try));
	try.delivery_id = d1;
	try.try = 1;
	try.at = 1100;
	try.status = 500;
	try.error = "HTTP status 500";
	try.response = "oops";
	ASSERT_INT(store_hook_tried(s, &try, DELIVERY_PENDING, 11000), ==, 0);
	d = deliveries(s, j1, 1);
	ASSERT_INT(d[0].state, ==, DELIVERY_PENDING);
	ASSERT_INT(d[0].tries, ==, 1);
	ASSERT_INT(d[0].next_at, ==, 11000);
	ASSERT_INT(d[0].last_at, ==, 1100);
	ASSERT_INT(d[0].last_status, ==, 500);
	ASSERT_STR(d[0].last_error, "HTTP status 500");
	delivery_free_all(d, 1);
	/* No answer at all, and it gives up. */
	ASSERT_INT(store_hook_lease(s, d1, 11000, 71000), ==, 0);
	try.try = 2;
	try.at = 11200;
	try.status = -1;
	try.error = "timed out";
	try.response = NULL;
	ASSERT_INT(store_hook_tried(s, &try, DELIVERY_FAILED, 11200), ==, 0);
	d = deliveries(s, j1, 1);
	ASSERT_INT(d[0].state, ==, DELIVERY_FAILED);
	ASSERT_INT(d[0].tries, ==, 2);
	ASSERT_INT(d[0].last_at, ==, 11200);
	ASSERT_INT(d[0].last_status, ==, -1);
	ASSERT_STR(d[0].last_error, "timed out");
	delivery_free_all(d, 1);
	/* Failed is no longer pending: no lease, not due. */
	ASSERT_INT(store_hook_lease(s, d1, 11200, 80000), ==, -ESTALE);
	/* d2 delivered at its first try. */
	ASSERT_INT(store_hook_lease(s, d2, 2000, 62000), ==, 0);
	memset(&try, 0, sizeof(try));
	try.delivery_id = d2;
	try.try = 1;
	try.at = 2100;
	try.status = 204;
	ASSERT_INT(store_hook_tried(s, &try, DELIVERY_DELIVERED, 2100), ==, 0);
	d = deliveries(s, j2, 1);
	ASSERT_INT(d[0].state, ==, DELIVERY_DELIVERED);
	ASSERT_INT(d[0].last_status, ==, 204);
	ASSERT(d[0].last_error == NULL);
	delivery_free_all(d, 1);
	ASSERT_INT(store_hook_lease(s, d2, 2100, 80000), ==, -ESTALE);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_hook_next(s, &at), ==, 0);
	ASSERT_INT(at, ==, 0);
	ASSERT_INT(store_hook_due(s, 1000000, 10, &due, &n), ==, 0);
	ASSERT_INT(n, ==, 0);
	delivery_free_all(due, n);
	/* Every try, by delivery then try. */
	ASSERT_INT(store_hook_tries(s, j1, &t, &n), ==, 0);
	ASSERT_INT(n, ==, 2);
	ASSERT_INT(t[0].delivery_id, ==, d1);
	ASSERT_INT(t[0].try, ==, 1);
	ASSERT_INT(t[0].at, ==, 1100);
	ASSERT_INT(t[0].status, ==, 500);
	ASSERT_STR(t[0].error, "HTTP status 500");
	ASSERT_STR(t[0].response, "oops");
	ASSERT_INT(t[1].try, ==, 2);
	ASSERT_INT(t[1].status, ==, -1);
	ASSERT_STR(t[1].error, "timed out");
	ASSERT(t[1].response == NULL);
	delivery_try_free_all(t, n);
	ASSERT_INT(store_hook_tries(s, j2, &t, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(t[0].delivery_id, ==, d2);
	ASSERT_INT(t[0].status, ==, 204);
	ASSERT(t[0].error == NULL && t[0].response == NULL);
	delivery_try_free_all(t, n);
	store_close(s);
}

TEST(store_is_postgresql_knows_uris_and_keyword_strings)
{
	ASSERT(store_is_postgresql("postgresql://db.example/runnel"));
	ASSERT(store_is_postgresql("postgres:///runnel?host=/run/postgresql"));
	ASSERT(store_is_postgresql("dbname=runnel"));
	ASSERT(store_is_postgresql("host=/run/postgresql dbname=runnel user=r"));
	ASSERT(store_is_postgresql("host='/tmp/a b' port=5433"));
	ASSERT(!store_is_postgresql("runnel.db"));
	ASSERT(!store_is_postgresql("./data/runnel.db"));
	ASSERT(!store_is_postgresql("/srv/a=b/runnel.db"));
	ASSERT(!store_is_postgresql("x=1.db"));
}

/* ---- PostgreSQL's own cases ---- */

/* Submits one plain job, returning store_submit's code. */
static int
try_submit(struct store *s, uint64_t *id)
{
	struct job	 j;
	int		 rc;

	job_init(&j);
	j.command = strdup("true");
	j.queue = strdup("default");
	j.state = JOB_QUEUED;
	rc = store_submit(s, &j, 1, 1000);
	*id = j.id;
	job_clear(&j);
	return rc;
}

/* A job PostgreSQL refuses: its name is not UTF-8. */
static int
submit_bad(struct store *s)
{
	struct job	 j;
	int		 rc;

	job_init(&j);
	j.command = strdup("true");
	j.queue = strdup("default");
	j.name = strdup("\xff\xfe");
	j.state = JOB_QUEUED;
	rc = store_submit(s, &j, 1, 1000);
	job_clear(&j);
	return rc;
}

/* Ends the server process behind s, and waits until it is gone. */
static void
kill_backend(struct store *s)
{
	char	 sql[96];
	PGconn	*c = pgt_connect(pgt_url);

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d, 30000)",
	    PQbackendPID(pg_of(s)->conn));
	ASSERT_INT(pgt_sql(c, sql), ==, 1);
	PQfinish(c);
}

/* The value of a connection option of s (static), or "". */
static const char *
conn_option(struct store *s, const char *key)
{
	static char		 val[256];
	PQconninfoOption	*opts = PQconninfo(pg_of(s)->conn);

	ASSERT(opts != NULL);
	val[0] = '\0';
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, key) == 0 && o->val)
			snprintf(val, sizeof(val), "%s", o->val);
	PQconninfoFree(opts);
	return val;
}

/* The value of a setting of s's session (static). */
static const char *
setting(struct store *s, const char *name)
{
	static char	 val[64];
	char		 sql[96];
	PGresult	*r;

	snprintf(sql, sizeof(sql), "SHOW %s", name);
	ASSERT_INT(pg_exec_sql(pg_of(s), "show", sql, NULL, &r), ==, 0);
	snprintf(val, sizeof(val), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return val;
}

TEST(a_failed_statement_loses_the_turn)
{
	struct store	*s = open_store();
	uint64_t	 a = submit(s, "default", 0), b, c;
	struct job	 j;

	ASSERT_INT(store_commit(s, 1), ==, 0);
	b = submit(s, "default", 0);
	ASSERT_INT(submit_bad(s), ==, -EIO);
	/* Every later write of the turn fails the same way... */
	ASSERT_INT(try_submit(s, &c), ==, -EIO);
	ASSERT_INT(store_begin(s), ==, -EIO);
	ASSERT_INT(store_mark(s), ==, -EIO);
	ASSERT_INT(store_queue_set(s, "q", 1, 1), ==, -EIO);
	ASSERT_INT(store_in_txn(s), ==, 1);
	/* ...and reads see what is committed: the turn is rolled back. */
	ASSERT_INT(store_get(s, b, &j), ==, -ENOENT);
	ASSERT_INT(store_get(s, a, &j), ==, 0);
	job_clear(&j);
	ASSERT_INT(store_commit(s, 1), ==, -EIO);
	ASSERT_INT(store_in_txn(s), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	/* The next turn starts afresh; ids are not given twice. */
	c = submit(s, "default", 0);
	ASSERT_INT(c, >, b);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	/* A constraint is -EEXIST, and takes the turn too. */
	ASSERT_INT(store_begin(s), ==, 0);
	ASSERT_INT(pg_exec_sql(pg_of(s), "test", "INSERT INTO queues (name) "
	    "VALUES ('q')", NULL, NULL), ==, 0);
	ASSERT_INT(pg_exec_sql(pg_of(s), "test", "INSERT INTO queues (name) "
	    "VALUES ('q')", NULL, NULL), ==, -EEXIST);
	ASSERT_INT(store_queue_set(s, "r", 0, 0), ==, -EEXIST);
	ASSERT_INT(store_commit(s, 1), ==, -EEXIST);
	ASSERT_INT(pgt_int("SELECT count(*) FROM queues"), ==, 0);
	/* A read outside a turn that fails takes nothing with it. */
	ASSERT_INT(pg_exec_sql(pg_of(s), "test", "SELECT 1/0", NULL, NULL), ==,
	    -EIO);
	ASSERT_INT(store_in_txn(s), ==, 0);
	ASSERT_INT(store_queue_set(s, "r", 0, 0), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(a_savepoint_recovers_from_a_failed_statement)
{
	struct store	*s = open_store();
	uint64_t	 a = submit(s, "default", 0), b, c, d;
	struct job	 j;

	ASSERT_INT(store_mark(s), ==, 0);
	b = submit(s, "default", 0);
	ASSERT_INT(submit_bad(s), ==, -EIO);
	/* Until it is undone, nothing runs in the failed savepoint. */
	ASSERT_INT(try_submit(s, &c), ==, -EIO);
	ASSERT_INT(store_get(s, a, &j), ==, -EIO);
	ASSERT_INT(store_in_txn(s), ==, 1);
	ASSERT_INT(store_unmark(s, 0), ==, 0);
	/* Undone: the turn goes on with what came before the mark. */
	d = submit(s, "default", 0);
	ASSERT_INT(store_get(s, a, &j), ==, 0);
	job_clear(&j);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	ASSERT_INT(store_get(s, b, &j), ==, -ENOENT);
	ASSERT_INT(store_get(s, d, &j), ==, 0);
	job_clear(&j);
	store_close(s);
}

TEST(unmark_keep_after_a_failure_undoes_the_savepoint)
{
	struct store	*s = open_store();
	uint64_t	 b, x, y;
	struct job	 j;

	submit(s, "default", 0);
	ASSERT_INT(store_mark(s), ==, 0);
	b = submit(s, "default", 0);
	ASSERT_INT(submit_bad(s), ==, -EIO);
	ASSERT_INT(store_unmark(s, 1), ==, -EIO);
	/* The savepoint is gone, its writes with it; the turn goes on. */
	ASSERT_INT(store_in_txn(s), ==, 1);
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	ASSERT_INT(store_get(s, b, &j), ==, -ENOENT);
	/* No savepoint to end: refused, and the turn goes on. */
	submit(s, "default", 0);
	ASSERT_INT(store_unmark(s, 0), ==, -EIO);
	ASSERT_INT(store_unmark(s, 1), ==, -EIO);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 3);
	/* Nested: undoing the inner one recovers the outer one. */
	ASSERT_INT(store_mark(s), ==, 0);
	x = submit(s, "default", 0);
	ASSERT_INT(store_mark(s), ==, 0);
	ASSERT_INT(submit_bad(s), ==, -EIO);
	ASSERT_INT(store_unmark(s, 0), ==, 0);
	y = submit(s, "default", 0);
	ASSERT_INT(store_unmark(s, 1), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 5);
	ASSERT_INT(store_get(s, x, &j), ==, 0);
	job_clear(&j);
	ASSERT_INT(store_get(s, y, &j), ==, 0);
	job_clear(&j);
	store_close(s);
}

static void
set_stdin(struct job *j, const void *data, size_t len)
{
	job_init(j);
	j->command = strdup("cat");
	j->queue = strdup("default");
	j->state = JOB_QUEUED;
	j->has_stdin = 1;
	j->stdin_len = len;
	j->stdin_data = malloc(len + 1);
	ASSERT(j->stdin_data != NULL);
	if (len)
		memcpy(j->stdin_data, data, len);
	j->stdin_data[len] = '\0';
}

static void
same_stdin(const struct job *got, const struct job *want)
{
	ASSERT_INT(got->has_stdin, ==, 1);
	ASSERT_INT(got->stdin_len, ==, want->stdin_len);
	ASSERT(memcmp(got->stdin_data, want->stdin_data, want->stdin_len) == 0);
	ASSERT_INT(got->stdin_data[got->stdin_len], ==, 0);
}

TEST(stdin_of_any_bytes_round_trips)
{
	struct store	*s = open_store();
	size_t		 big = 1 << 20;
	unsigned char	 every[1024], *rnd = malloc(big);
	uint32_t	 x = 2463534242u;
	struct job	 jobs[3], one, got;

	ASSERT(rnd != NULL);
	for (size_t i = 0; i < sizeof(every); i++)
		every[i] = (unsigned char)(i % 256);	/* NUL, '\\', 0xff... */
	for (size_t i = 0; i < big; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		rnd[i] = (unsigned char)x;
	}
	/* A batch (one statement of many rows) and a single job. */
	set_stdin(&jobs[0], every, sizeof(every));
	set_stdin(&jobs[1], "", 0);
	set_stdin(&jobs[2], rnd, big);
	set_stdin(&one, every, sizeof(every));
	ASSERT_INT(store_submit(s, jobs, 3, 1000), ==, 0);
	ASSERT_INT(store_submit(s, &one, 1, 1000), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	for (int i = 0; i < 3; i++) {
		ASSERT_INT(store_get(s, jobs[i].id, &got), ==, 0);
		same_stdin(&got, &jobs[i]);
		job_clear(&got);
	}
	ASSERT_INT(store_get(s, one.id, &got), ==, 0);
	same_stdin(&got, &one);
	job_clear(&got);
	/* What a worker is given comes from the claim's row. */
	ASSERT_INT(store_claim(s, jobs[2].id, 1, 2000, &got), ==, 1);
	same_stdin(&got, &jobs[2]);
	job_clear(&got);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	for (int i = 0; i < 3; i++)
		job_clear(&jobs[i]);
	job_clear(&one);
	free(rnd);
	store_close(s);
}

/* Values an array literal must quote or escape, in a batch with NULLs. */
TEST(text_of_any_characters_round_trips_in_a_batch)
{
	static const char *names[] = {"NULL", "", "a\"b", "c\\d", "{e,f}",
	    " g ", "\\\"", "h,NULL", "\u00e9\u65e5", "\\x41", "}", "\t\n"};
	enum { N = sizeof(names) / sizeof(names[0]) + 1 };
	struct store	*s = open_store();
	struct job	 jobs[N], got;

	for (int i = 0; i < N; i++) {
		job_init(&jobs[i]);
		jobs[i].state = JOB_QUEUED;
		jobs[i].queue = strdup("q");
		jobs[i].command = strdup(i < N - 1 ? names[i] : "x");
		jobs[i].name = i < N - 1 ? strdup(names[i]) : NULL;
		jobs[i].env_json = strdup("{\"K\":\"v \\\" w\"}");
		jobs[i].priority = i - 3;
	}
	ASSERT_INT(store_submit(s, jobs, N, 1000), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	for (int i = 0; i < N; i++) {
		ASSERT_INT(store_get(s, jobs[i].id, &got), ==, 0);
		ASSERT_STR(got.command, jobs[i].command);
		if (i < N - 1)
			ASSERT_STR(got.name, names[i]);
		else
			ASSERT(got.name == NULL);
		ASSERT_STR(got.env_json, jobs[i].env_json);
		ASSERT_INT(got.priority, ==, i - 3);
		ASSERT(got.cwd == NULL && got.has_stdin == 0);
		job_clear(&got);
		job_clear(&jobs[i]);
	}
	store_close(s);
}

/* Submits a batch of n on s into ids, and checks they ascend. */
static void
submit_batch(struct store *s, uint64_t *ids, int n)
{
	struct job jobs[16];

	ASSERT(n <= 16);
	for (int i = 0; i < n; i++) {
		job_init(&jobs[i]);
		jobs[i].command = strdup("true");
		jobs[i].queue = strdup("default");
		jobs[i].state = JOB_QUEUED;
	}
	ASSERT_INT(store_submit(s, jobs, (size_t)n, 1000), ==, 0);
	for (int i = 0; i < n; i++) {
		ids[i] = jobs[i].id;
		if (i > 0)
			ASSERT_INT(ids[i], >, ids[i - 1]);
		job_clear(&jobs[i]);
	}
}

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define SUBMITTERS	2
#define TURNS		25
#define BATCH		8

/* One of the submitting processes: TURNS turns of a batch, ids to a file. */
static void
submitter(int k, int gate)
{
	struct store	*s;
	uint64_t	 ids[TURNS * BATCH];
	char		 name[32], c;
	FILE		*f;

	ASSERT_INT(store_open(&s, pgt_url, STORE_DURABLE), ==, 0);
	ASSERT_INT(read(gate, &c, 1), ==, 0);	/* all start together */
	for (int t = 0; t < TURNS; t++) {
		submit_batch(s, ids + t * BATCH, BATCH);
		ASSERT_INT(store_commit(s, 1), ==, 0);
	}
	store_close(s);
	snprintf(name, sizeof(name), "ids.%d", k);
	ASSERT((f = fopen(name, "w")) != NULL);
	ASSERT_INT(fwrite(ids, sizeof(ids), 1, f), ==, 1);
	fclose(f);
}

TEST(concurrent_submitters_get_distinct_ascending_ids)
{
	struct store	*s1 = open_store(), *s2 = open_store();
	uint64_t	 a[3], b[3], c[3], all[SUBMITTERS * TURNS * BATCH];
	pid_t		 pids[SUBMITTERS];
	int		 gate[2], status;

	/* Two connections, turns open at once: the ids interleave. */
	submit_batch(s1, a, 3);
	submit_batch(s2, b, 3);
	submit_batch(s1, c, 3);
	ASSERT_INT(b[0], >, a[2]);
	ASSERT_INT(c[0], >, b[2]);
	ASSERT_INT(store_commit(s2, 1), ==, 0);
	ASSERT_INT(store_commit(s1, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 9);
	store_close(s1);
	store_close(s2);
	/* Two processes at full speed. */
	ASSERT_INT(pipe(gate), ==, 0);
	fflush(NULL);
	for (int k = 0; k < SUBMITTERS; k++) {
		ASSERT((pids[k] = fork()) >= 0);
		if (pids[k] == 0) {
			close(gate[1]);
			submitter(k, gate[0]);
			_exit(0);
		}
	}
	close(gate[0]);
	close(gate[1]);
	for (int k = 0; k < SUBMITTERS; k++) {
		ASSERT_INT(waitpid(pids[k], &status, 0), ==, pids[k]);
		ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (int k = 0; k < SUBMITTERS; k++) {
		char	 name[32];
		FILE	*f;

		snprintf(name, sizeof(name), "ids.%d", k);
		ASSERT((f = fopen(name, "r")) != NULL);
		ASSERT_INT(fread(all + k * TURNS * BATCH,
		    sizeof(uint64_t) * TURNS * BATCH, 1, f), ==, 1);
		fclose(f);
	}
	qsort(all, SUBMITTERS * TURNS * BATCH, sizeof(all[0]), id_cmp);
	for (int i = 1; i < SUBMITTERS * TURNS * BATCH; i++)
		ASSERT_INT(all[i], >, all[i - 1]);
	ASSERT_INT(be->committed_jobs(), ==, 9 + SUBMITTERS * TURNS * BATCH);
}

/* Waits until n connections wait for an advisory lock of the database. */
static void
wait_lock_waiters(PGconn *c, int n)
{
	struct timeval	 tv;
	long long	 until;

	gettimeofday(&tv, NULL);
	until = tv.tv_sec + 30;
	while (pgt_sql(c, "SELECT count(*) FROM pg_locks WHERE locktype = "
	    "'advisory' AND NOT granted AND database = (SELECT oid FROM "
	    "pg_database WHERE datname = current_database())") < n) {
		gettimeofday(&tv, NULL);
		if (tv.tv_sec > until)
			FAIL("%d openers never waited for the migration lock", n);
		usleep(10000);
	}
}

TEST(two_stores_opening_a_fresh_database_migrate_once)
{
	PGconn	*hold = pgt_connect(pgt_url);
	char	 sql[96], line[512];
	pid_t	 pids[2];
	int	 status, applied = 0, files = 0;

	/* Hold the migration lock so that both openers meet at it. */
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)",
	    (long long)PG_MIGRATE_LOCK);
	pgt_sql(hold, sql);
	fflush(NULL);
	for (int k = 0; k < 2; k++) {
		ASSERT((pids[k] = fork()) >= 0);
		if (pids[k] == 0) {
			struct store	*s;
			char		 name[32];
			FILE		*f;
			int		 rc;

			snprintf(name, sizeof(name), "open.%d.log", k);
			ASSERT((f = fopen(name, "w")) != NULL);
			dup2(fileno(f), 2);
			rc = store_open(&s, pgt_url, STORE_DURABLE);
			store_close(s);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	wait_lock_waiters(hold, 2);
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)",
	    (long long)PG_MIGRATE_LOCK);
	pgt_sql(hold, sql);
	PQfinish(hold);
	for (int k = 0; k < 2; k++) {
		ASSERT_INT(waitpid(pids[k], &status, 0), ==, pids[k]);
		ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	for (int k = 0; k < 2; k++) {
		char	 name[32];
		FILE	*f;

		snprintf(name, sizeof(name), "open.%d.log", k);
		ASSERT((f = fopen(name, "r")) != NULL);
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "store: applied migration "))
				applied++;
		fclose(f);
	}
	for (const struct embed_file *f = be->migrations; f->name; f++)
		files++;
	ASSERT_INT(applied, ==, files);
	ASSERT_INT(be->schema_version(), ==, latest_version());
}

TEST(a_lost_connection_is_reset_by_the_next_turn)
{
	struct store	*s = open_store();
	uint64_t	 a = submit(s, "default", 0), b;
	struct job	 j;

	ASSERT_INT(store_commit(s, 1), ==, 0);
	kill_backend(s);
	ASSERT_INT(store_get(s, a, &j), ==, -ENOTCONN);
	/* Reads do not reconnect; a ping (or a turn) does. */
	ASSERT_INT(store_get(s, a, &j), ==, -ENOTCONN);
	ASSERT_INT(store_ping(s), ==, 0);
	ASSERT_INT(store_get(s, a, &j), ==, 0);
	job_clear(&j);
	/* Lost inside a turn: the turn is lost, the next one reconnects. */
	submit(s, "default", 0);
	kill_backend(s);
	ASSERT_INT(try_submit(s, &b), ==, -ENOTCONN);
	ASSERT_INT(store_begin(s), ==, -ENOTCONN);
	ASSERT_INT(store_commit(s, 1), ==, -ENOTCONN);
	ASSERT_INT(store_in_txn(s), ==, 0);
	b = submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	ASSERT_INT(store_get(s, b, &j), ==, 0);
	job_clear(&j);
	/* Lost between turns: the next begin reconnects. */
	kill_backend(s);
	ASSERT_INT(store_begin(s), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
	/* A server that is not there: refused at once, not waited for. */
	s = (struct store *)1;
	ASSERT_INT(store_open(&s, "host=/nonexistent/runnel dbname=runnel",
	    STORE_DURABLE), ==, -EIO);
	ASSERT(s == NULL);
}

TEST(cluster_statements_are_prepared_again_after_a_reconnect)
{
	struct store	*s = open_store();
	uint64_t	*ids = NULL;
	size_t		 n = 0;

	ASSERT_INT(store_node_jobs(s, "n1", &ids, &n), ==, 0);
	kill_backend(s);
	ASSERT_INT(store_ping(s), ==, 0);
	/* A new backend: the statement is prepared there on its next run. */
	ASSERT_INT(store_node_jobs(s, "n1", &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 0);
	ASSERT_INT(store_begin(s), ==, 0);
	ASSERT_INT(store_notify(s, "runnel", "x"), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(a_turn_whose_first_statement_meets_a_lost_connection_reconnects)
{
	struct store	*s = open_store();
	uint64_t	 b;
	struct job	 j;

	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	kill_backend(s);
	/* BEGIN and SAVEPOINT go with the INSERT: that round trip finds the
	 * connection broken, resets it and sends them all again. */
	ASSERT_INT(store_mark(s), ==, 0);
	ASSERT_INT(try_submit(s, &b), ==, 0);
	ASSERT_INT(store_unmark(s, 1), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	ASSERT_INT(store_get(s, b, &j), ==, 0);
	job_clear(&j);
	/* A turn that sent nothing commits nothing, broken or not. */
	kill_backend(s);
	ASSERT_INT(store_begin(s), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

TEST(a_held_back_command_that_fails_loses_the_turn)
{
	struct store	*s = open_store();
	uint64_t	 c;

	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	submit(s, "default", 0);
	ASSERT_INT(store_mark(s), ==, 0);
	ASSERT_INT(pg_defer(pg_of(s), "test", NULL, "SELECT 1/0", NULL), ==, 0);
	/* The statement it went out with says so; no savepoint keeps the
	 * turn, since what followed it never ran. */
	ASSERT_INT(try_submit(s, &c), ==, -EIO);
	ASSERT_INT(store_unmark(s, 0), ==, -EIO);
	ASSERT_INT(store_commit(s, 1), ==, -EIO);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	/* Held back until the commit: the commit fails. */
	submit(s, "default", 0);
	ASSERT_INT(pg_defer(pg_of(s), "test", NULL, "SELECT 1/0", NULL), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, -EIO);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	/* And the next turn starts afresh. */
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	store_close(s);
}

static int
pid_alive(int pid)
{
	(void)pid;
	return 0;
}

/* Joins this store as node n1 with so many worker slots. */
static void
join_n1(struct store *s, int workers)
{
	struct node_row me, holder;

	memset(&me, 0, sizeof(me));
	snprintf(me.id, sizeof(me.id), "n1");
	snprintf(me.host, sizeof(me.host), "test");
	me.pid = 1;
	me.workers = workers;
	me.timeout_ms = 60000;
	ASSERT_INT(store_node_join(s, &me, pid_alive, &holder), ==, 0);
}

/*
 * The dispatch round read with an attempt's finish (one round trip)
 * serves the claim after it, and sees that finish; any statement in
 * between makes the claim read it again.
 */
TEST(a_round_read_with_a_finish_serves_until_another_statement)
{
	struct store		*s = open_store();
	struct claim_round	 r = {0};
	struct finish_next	 nx = {.round = &r};
	struct job_result	 res = {.state = JOB_SUCCEEDED, .exit_code = 0,
	    .signal = -1, .finished_at = 5, .cpu_ms = -1, .max_rss_kb = -1};
	uint64_t		 a, b;
	struct job		 j;

	ASSERT_INT(store_queue_set(s, "lim", 0, 1), ==, 0);
	a = submit(s, "lim", 0);
	b = submit(s, "lim", 0);
	submit(s, "lim", 0);
	join_n1(s, 2);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 1, 100, &r, &j), ==, 1);
	ASSERT_INT(j.id, ==, a);
	job_clear(&j);
	/* The queue's one slot is taken. */
	ASSERT_INT(store_claim_next(s, "n1", 2, 100, &r, &j), ==, 0);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);

	res.id = a;
	ASSERT_INT(store_finish_fenced(s, &res, "n1", 1, &nx), ==, 0);
	ASSERT_INT(r.open, ==, 1);
	ASSERT_INT(r.early, ==, 1);
	ASSERT_INT(nx.claimed, ==, -1);
	/* Kept, and it counted a's end: the slot is free again. */
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(r.early, ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 1, 100, &r, &j), ==, 1);
	ASSERT_INT(j.id, ==, b);
	job_clear(&j);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);

	/* Paused between the finish and the claim: read again, so the
	 * queue's last job stays queued. */
	res.id = b;
	ASSERT_INT(store_finish_fenced(s, &res, "n1", 1, &nx), ==, 0);
	ASSERT_INT(r.early, ==, 1);
	ASSERT_INT(store_queue_set(s, "lim", 1, 1), ==, 0);
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(r.early, ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 1, 100, &r, &j), ==, 0);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);

	/* A refused end reads the round all the same. */
	ASSERT_INT(store_finish_fenced(s, &res, "n1", 1, &nx), ==, -EBUSY);
	ASSERT_INT(r.open, ==, 1);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	store_close(s);
}

/* Finishes attempt 1 of id on n1 with a claim for worker 1 after it. */
static int
finish_and_claim(struct store *s, uint64_t id, struct claim_round *r,
    struct finish_next *nx)
{
	struct job_result res = {.id = id, .state = JOB_SUCCEEDED,
	    .exit_code = 0, .signal = -1, .finished_at = 5, .cpu_ms = -1,
	    .max_rss_kb = -1};

	memset(nx, 0, sizeof(*nx));
	nx->round = r;
	nx->worker = 1;
	nx->now_ms = 200;
	return store_finish_fenced(s, &res, "n1", 1, nx);
}

/*
 * The claim made in a finish's round trip takes what store_claim_next
 * would take right after: priority first, never from a paused queue or
 * past a limit (counted with the finish), nothing once the node's row is
 * gone; and a claim that found nothing answers the next one while
 * nothing else was sent.
 */
TEST(a_claim_made_with_a_finish_keeps_priority_pause_and_limits)
{
	struct store		*s = open_store();
	struct claim_round	 r = {0};
	struct finish_next	 nx;
	uint64_t		 a, hi, lo, l2, l3;
	struct job		 j;

	ASSERT_INT(store_queue_set(s, "lim", 0, 1), ==, 0);
	ASSERT_INT(store_queue_set(s, "off", 1, 0), ==, 0);
	a = submit(s, "lim", 0);
	l2 = submit(s, "lim", 0);
	l3 = submit(s, "lim", 0);
	submit(s, "off", -5);
	lo = submit(s, "default", 5);
	hi = submit(s, "default", 1);
	join_n1(s, 2);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 1, 100, &r, &j), ==, 1);
	ASSERT_INT(j.id, ==, a);
	job_clear(&j);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);

	/* a's end frees lim's slot: lim's next (priority 0) before the
	 * default queue's, the paused queue's -5 left alone. */
	ASSERT_INT(finish_and_claim(s, a, &r, &nx), ==, 0);
	ASSERT_INT(nx.claimed, ==, 1);
	ASSERT_INT(nx.job.id, ==, l2);
	ASSERT_INT(nx.job.state, ==, JOB_RUNNING);
	ASSERT_INT(nx.job.attempts, ==, 1);
	ASSERT_INT(nx.job.worker, ==, 1);
	ASSERT_INT(nx.job.started_at, ==, 200);
	job_clear(&nx.job);
	/* Its slot is taken in the round: the next claim skips lim. */
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 2, 100, &r, &j), ==, 1);
	ASSERT_INT(j.id, ==, hi);
	job_clear(&j);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_get(s, l2, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_RUNNING);
	job_clear(&j);

	/* lim is full (l2 runs): hi's end leads to lo, not to l3. */
	ASSERT_INT(finish_and_claim(s, hi, &r, &nx), ==, 0);
	ASSERT_INT(nx.claimed, ==, 1);
	ASSERT_INT(nx.job.id, ==, lo);
	job_clear(&nx.job);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);

	/* Nothing left that may run: none, and the claim after it answers
	 * from that without asking. */
	ASSERT_INT(finish_and_claim(s, lo, &r, &nx), ==, 0);
	ASSERT_INT(nx.claimed, ==, 0);
	ASSERT_INT(r.none, ==, 1);
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 1, 100, &r, &j), ==, 0);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_get(s, l3, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_QUEUED);
	job_clear(&j);

	/* The node's row gone: its end is still stored, nothing claimed. */
	ASSERT_INT(store_queue_set(s, "lim", 0, 0), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(pg_exec_sql(pg_of(s), "test", "DELETE FROM nodes",
	    NULL, NULL), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(finish_and_claim(s, l2, &r, &nx), ==, 0);
	ASSERT_INT(nx.claimed, ==, 0);
	ASSERT_INT(r.open, ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_get(s, l3, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_QUEUED);
	job_clear(&j);
	store_close(s);
}

/* A node whose clock is behind the one that made a job due. */
TEST(a_claim_never_starts_a_job_before_its_run_at)
{
	struct store		*s = open_store();
	uint64_t		 a = submit(s, "default", 0);
	uint64_t		 b = submit(s, "default", 0);
	struct claim_round	 r = {0};
	struct job		 j;

	join_n1(s, 2);
	ASSERT_INT(pg_exec_sql(pg_of(s), "test", "UPDATE jobs SET run_at = "
	    "CASE WHEN id = (SELECT min(id) FROM jobs) THEN 5000 ELSE 50 END",
	    NULL, NULL), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 1, 100, &r, &j), ==, 1);
	ASSERT_INT(j.id, ==, a);
	ASSERT_INT(j.started_at, ==, 5000);
	job_clear(&j);
	ASSERT_INT(store_claim_next(s, "n1", 2, 100, &r, &j), ==, 1);
	ASSERT_INT(j.id, ==, b);
	ASSERT_INT(j.started_at, ==, 100);
	job_clear(&j);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_get(s, a, &j), ==, 0);
	ASSERT_INT(j.started_at, ==, 5000);
	job_clear(&j);
	store_close(s);
}

TEST(a_fenced_finish_applies_only_to_the_attempt_its_node_runs)
{
	struct store		*s = open_store();
	uint64_t		 a = submit(s, "default", 0), x, y, *ids;
	struct claim_round	 r = {0};
	struct job_result	 res = {.state = JOB_SUCCEEDED, .exit_code = 0,
	    .signal = -1, .finished_at = 5, .cpu_ms = -1, .max_rss_kb = -1};
	struct job		 j;
	size_t			 n;

	x = submit_waiting(s, 0, &a, 1);
	y = submit_waiting(s, 0, &a, 1);
	join_n1(s, 1);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_claim_round(s, "n1", &r), ==, 0);
	ASSERT_INT(store_claim_next(s, "n1", 1, 100, &r, &j), ==, 1);
	ASSERT_INT(j.id, ==, a);
	ASSERT_INT(j.attempts, ==, 1);
	job_clear(&j);
	claim_round_clear(&r);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	res.id = a;
	/* Another node, another attempt: refused, nothing changed. */
	ASSERT_INT(store_finish_fenced(s, &res, "n2", 1, NULL), ==, -EBUSY);
	ASSERT_INT(store_finish_fenced(s, &res, "n1", 2, NULL), ==, -EBUSY);
	ASSERT_INT(store_get(s, a, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_RUNNING);
	job_clear(&j);
	ASSERT_INT(store_finish_fenced(s, &res, "n1", 1, NULL), ==, 0);
	/* Its dependents, read with it. */
	ASSERT_INT(store_dependents(s, a, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 2);
	ASSERT_INT(ids[0], ==, x);
	ASSERT_INT(ids[1], ==, y);
	free(ids);
	/* Read again once anything else was sent: as they are now. */
	ASSERT_INT(pg_exec_sql(pg_of(s), "test", "DELETE FROM job_deps WHERE "
	    "job_id = (SELECT max(job_id) FROM job_deps)", NULL, NULL), ==, 0);
	ASSERT_INT(store_dependents(s, a, &ids, &n), ==, 0);
	ASSERT_INT(n, ==, 1);
	ASSERT_INT(ids[0], ==, x);
	free(ids);
	/* Finished: a second end is refused too. */
	ASSERT_INT(store_finish_fenced(s, &res, "n1", 1, NULL), ==, -EBUSY);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(store_get(s, a, &j), ==, 0);
	ASSERT_INT(j.state, ==, JOB_SUCCEEDED);
	ASSERT_INT(j.finished_at, ==, 5);
	job_clear(&j);
	store_close(s);
}

TEST(held_submissions_keep_their_created_at)
{
	struct store	*s = open_store();
	struct job	 jobs[3], j;

	for (int i = 0; i < 3; i++) {
		job_init(&jobs[i]);
		jobs[i].command = strdup("true");
		jobs[i].queue = strdup("default");
		jobs[i].state = JOB_QUEUED;
		jobs[i].created_at = 1000 + i;
	}
	ASSERT_INT(store_submit_held(s, jobs, 3), ==, 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	for (int i = 0; i < 3; i++) {
		if (i > 0)
			ASSERT_INT(jobs[i].id, >, jobs[i - 1].id);
		ASSERT_INT(store_get(s, jobs[i].id, &j), ==, 0);
		ASSERT_INT(j.created_at, ==, 1000 + i);
		job_clear(&j);
		job_clear(&jobs[i]);
	}
	store_close(s);
}

/* Keyword/value pairs for the case's database, values quoted. */
static void
keyword_string(char *buf, size_t size)
{
	PQconninfoOption *opts = PQconninfoParse(pgt_maintenance(), NULL);

	ASSERT(opts != NULL);
	snprintf(buf, size, "dbname='%s'", pgt_db);
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		size_t n;

		if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
			continue;
		n = strlen(buf);
		snprintf(buf + n, size - n, " %s='", o->keyword);
		for (const char *v = o->val; *v; v++) {
			n = strlen(buf);
			snprintf(buf + n, size - n, "%s%c",
			    *v == '\'' || *v == '\\' ? "\\" : "", *v);
		}
		strncat(buf, "'", size - strlen(buf) - 1);
	}
	PQconninfoFree(opts);
}

TEST(connect_timeout_is_set_unless_given)
{
	struct store	*s = open_store();
	char		 url[2048];

	ASSERT_STR(conn_option(s, "connect_timeout"), "5");
	ASSERT_STR(conn_option(s, "fallback_application_name"), "runneld");
	store_close(s);
	pgt_url_of(url, sizeof(url), pgt_db, "connect_timeout=7");
	ASSERT_INT(store_open(&s, url, STORE_DURABLE), ==, 0);
	ASSERT_STR(conn_option(s, "connect_timeout"), "7");
	store_close(s);
	/* The same for key=value pairs (with a socket path in them). */
	keyword_string(url, sizeof(url));
	ASSERT(store_is_postgresql(url));
	ASSERT_INT(store_open(&s, url, STORE_DURABLE), ==, 0);
	ASSERT_STR(conn_option(s, "connect_timeout"), "5");
	ASSERT_STR(store_backend(s), "postgresql");
	store_close(s);
	/* A string libpq cannot read is refused before connecting. */
	s = (struct store *)1;
	ASSERT_INT(store_open(&s, "postgresql://[", STORE_DURABLE), ==, -EINVAL);
	ASSERT(s == NULL);
}

TEST(fast_durability_turns_synchronous_commit_off)
{
	struct store	*s = open_store();
	char		 url[2048];

	ASSERT_STR(setting(s, "synchronous_commit"), "on");
	submit(s, "default", 0);
	/* A turn that acknowledges nothing commits without the wait, for
	 * that commit only. */
	ASSERT_INT(store_commit(s, 0), ==, 0);
	ASSERT_STR(setting(s, "synchronous_commit"), "on");
	store_close(s);
	ASSERT_INT(store_open(&s, pgt_url, STORE_FAST), ==, 0);
	ASSERT_STR(setting(s, "synchronous_commit"), "off");
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	store_close(s);
	/* Durable whatever the server's default says. */
	pgt_url_of(url, sizeof(url), pgt_db,
	    "options=-c%20synchronous_commit%3Doff");
	ASSERT_INT(store_open(&s, url, STORE_DURABLE), ==, 0);
	ASSERT_STR(setting(s, "synchronous_commit"), "on");
	store_close(s);
	pgt_url_of(url, sizeof(url), pgt_db,
	    "options=-c%20synchronous_commit%3Dremote_apply");
	ASSERT_INT(store_open(&s, url, STORE_DURABLE), ==, 0);
	ASSERT_STR(setting(s, "synchronous_commit"), "remote_apply");
	store_close(s);
}

TEST(ping_refuses_a_database_that_takes_no_writes)
{
	struct store	*s = open_store();
	char		 url[2048];
	uint64_t	 id;

	ASSERT_INT(store_ping(s), ==, 0);
	store_close(s);
	pgt_url_of(url, sizeof(url), pgt_db,
	    "options=-c%20default_transaction_read_only%3Don");
	ASSERT_INT(store_open(&s, url, STORE_DURABLE), ==, 0);
	ASSERT_INT(store_ping(s), ==, -EIO);
	ASSERT_INT(try_submit(s, &id), ==, -EIO);
	ASSERT_INT(store_commit(s, 1), ==, -EIO);
	store_close(s);
}

/* ---- the connection watched from a loop (store_link_*) ---- */

static void
on_up(void *arg)
{
	(*(int *)arg)++;
}

static void
loop_tick(uv_timer_t *t)
{
	(void)t;	/* only wakes uv_run */
}

/* Runs loop until *flag is set or ms pass. */
static void
loop_until(uv_loop_t *loop, const int *flag, int64_t ms)
{
	uv_timer_t	 t;
	int64_t		 end = clock_mono_ms() + ms;

	uv_timer_init(loop, &t);
	while (!*flag && clock_mono_ms() < end) {
		uv_timer_start(&t, loop_tick, 20, 0);
		uv_run(loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* Lets (or stops) anyone connect to the case's database. */
static void
allow_connections(int yes)
{
	char	 sql[160];
	PGconn	*c = pgt_connect(pgt_maintenance());

	snprintf(sql, sizeof(sql), "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS %s",
	    pgt_db, yes ? "true" : "false");
	pgt_sql(c, sql);
	PQfinish(c);
}

static void
link_stop(struct store *s, uv_loop_t *loop)
{
	store_link_stop(s);
	uv_run(loop, UV_RUN_DEFAULT);
	ASSERT_INT(uv_loop_close(loop), ==, 0);
	store_close(s);
}

TEST(a_lost_database_fails_at_once_and_comes_back_on_the_loop)
{
	struct store		*s = open_store();
	struct store_link	 l;
	uv_loop_t		 loop;
	uint64_t		 id;
	int64_t			 t0;
	int			 ups = 0;

	uv_loop_init(&loop);
	ASSERT_INT(store_link_start(s, &loop, 1000, 5000, on_up, &ups), ==, 0);
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	kill_backend(s);
	allow_connections(0);
	/* The turn's first statement (its BEGIN goes with it) finds it
	 * lost and tries once at once, refused: the turn is lost, and so is
	 * every write of it. */
	t0 = clock_mono_ms();
	ASSERT_INT(store_begin(s), ==, 0);
	ASSERT_INT(try_submit(s, &id), ==, -ENOTCONN);
	ASSERT_INT(store_in_txn(s), ==, 1);
	ASSERT_INT(try_submit(s, &id), ==, -ENOTCONN);
	ASSERT_INT(store_commit(s, 1), ==, -ENOTCONN);
	ASSERT_INT(store_in_txn(s), ==, 0);
	/* From now on everything fails at once, trying nothing. */
	ASSERT_INT(store_ping(s), ==, -ENOTCONN);
	ASSERT_INT(store_get(s, 1, &(struct job){0}), ==, -ENOTCONN);
	ASSERT_INT(store_begin(s), ==, -ENOTCONN);
	ASSERT_INT(store_commit(s, 1), ==, -ENOTCONN);
	ASSERT_INT((int)(clock_mono_ms() - t0 < 1000), ==, 1);
	ASSERT_INT(store_link_up(s), ==, 0);
	store_link_info(s, &l);
	ASSERT_INT(l.up, ==, 0);
	ASSERT_INT((int)l.outages, ==, 1);
	ASSERT_INT((int)l.attempts, ==, 1);
	ASSERT(l.down_at > 0);
	ASSERT(strstr(l.error, "not currently accepting connections") != NULL);
	/* The loop tries again with back-off: 0.5 s, then 1 s (its most
	 * here), so twice in 1.2 s (three times on a slow machine). */
	loop_until(&loop, &ups, 1200);
	ASSERT_INT(ups, ==, 0);
	store_link_info(s, &l);
	ASSERT_INT((int)l.attempts, >=, 2);
	ASSERT_INT((int)l.attempts, <=, 3);
	allow_connections(1);
	loop_until(&loop, &ups, 10000);
	ASSERT_INT(ups, ==, 1);
	ASSERT_INT(store_link_up(s), ==, 1);
	ASSERT_INT(store_ping(s), ==, 0);
	submit(s, "default", 0);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 2);
	store_link_info(s, &l);
	ASSERT_INT(l.up, ==, 1);
	ASSERT_INT((int)l.outages, ==, 1);
	ASSERT_INT(ups, ==, 1);
	link_stop(s, &loop);
}

TEST(a_server_that_stops_answering_is_cut_off_in_time)
{
	struct store		*s = open_store();
	struct store_link	 l;
	uv_loop_t		 loop;
	uint64_t		 id;
	int64_t			 t0, took;
	int			 ups = 0, pid, rc;

	uv_loop_init(&loop);
	ASSERT_INT(store_link_start(s, &loop, 1000, 300, on_up, &ups), ==, 0);
	pid = PQbackendPID(pg_of(s)->conn);
	if (kill(pid, SIGSTOP) != 0) {
		printf("skip: cannot stop the server process %d (%s)\n", pid,
		    strerror(errno));
		link_stop(s, &loop);
		return;
	}
	/* The turn's first statement, its BEGIN with it, gets no answer:
	 * cut after 300 ms, the connection made again at once (the server
	 * itself answers), both sent again. */
	ASSERT_INT(store_begin(s), ==, 0);
	t0 = clock_mono_ms();
	rc = try_submit(s, &id);
	took = clock_mono_ms() - t0;
	kill(pid, SIGCONT);
	ASSERT_INT(rc, ==, 0);
	ASSERT_INT((int)took, >=, 290);
	ASSERT_INT((int)took, <, 3000);
	ASSERT_INT(PQbackendPID(pg_of(s)->conn), !=, pid);
	ASSERT_INT(ups, ==, 1);
	store_link_info(s, &l);
	ASSERT_INT(l.up, ==, 1);
	ASSERT_INT((int)l.outages, ==, 1);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(be->committed_jobs(), ==, 1);
	link_stop(s, &loop);
}

/* Runs a case on backend b, named b/case, if it is asked for. */
static void
run_on(const struct backend *b, const char *name, void (*fn)(void))
{
	const char	*only = test_only;
	char		 full[160];

	snprintf(full, sizeof(full), "%s/%s", b->name, name);
	/* A bare case name on the command line runs it on every backend. */
	if (only && strcmp(only, name) == 0)
		test_only = full;
	if (b->available() && (test_only == NULL ||
	    strcmp(test_only, full) == 0)) {
		be = b;
		if (b->setup)
			b->setup();
		test_run(full, fn);
		if (b->teardown)
			b->teardown();
	}
	test_only = only;
}

static void
run_all(const char *name, void (*fn)(void))
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		run_on(&backends[i], name, fn);
}

#define RUN_ALL(name)	run_all(#name, test_##name)
#define RUN_PG(name)	run_on(&backends[1], #name, test_##name)

TEST_MAIN_BEGIN
	if (!pgt_available())
		printf("skip postgresql: RUNNEL_TEST_PG_URL is not set (the URI "
		    "of a maintenance database, see tests/pg/pg.sh)\n");
	RUN(store_is_postgresql_knows_uris_and_keyword_strings);
	RUN_ALL(migrations_set_the_schema_version);
	RUN_ALL(newer_database_is_refused);
	RUN_ALL(claim_takes_smallest_priority_then_smallest_id);
	RUN_ALL(claim_counts_the_attempt_and_sets_the_worker);
	RUN_ALL(head_is_the_smallest_priority_then_id_of_its_queue);
	RUN_ALL(get_and_finish_refuse_what_is_not_there);
	RUN_ALL(every_field_comes_back_as_it_was_written);
	RUN_ALL(text_of_any_characters_round_trips_in_a_batch);
	RUN_ALL(finish_records_the_result_once);
	RUN_ALL(batch_insert_gives_ascending_ids_in_order);
	RUN_ALL(a_big_batch_keeps_its_order);
	RUN_ALL(set_state_checks_the_current_state);
	RUN_ALL(set_state_is_refused_from_any_other_state);
	RUN_ALL(requeue_undoes_the_attempt_and_waits_for_dependencies);
	RUN_ALL(ids_are_never_reused_after_a_delete);
	RUN_ALL(savepoint_undoes_a_partial_batch);
	RUN_ALL(a_savepoint_kept_keeps_its_writes);
	RUN_ALL(begin_is_idempotent_and_commit_without_a_turn_is_a_no_op);
	RUN_ALL(close_commits_a_turn_still_open);
	RUN_ALL(list_pages_by_keyset_with_filters);
	RUN_ALL(list_filters_by_type);
	RUN_ALL(running_jobs_are_found_after_an_unclean_stop);
	RUN_ALL(running_is_empty_when_nothing_runs);
	RUN_ALL(count_gives_each_queue_and_state_with_jobs);
	RUN_ALL(count_follows_retries_and_deletes_across_a_reopen);
	RUN_ALL(queues_keep_their_settings_and_come_in_name_order);
	RUN_ALL(due_jobs_come_in_time_order_and_only_when_free_of_deps);
	RUN_ALL(due_takes_at_most_limit_in_time_then_id_order);
	RUN_ALL(dependents_are_kept_once_and_forgotten_with_the_job);
	RUN_ALL(dep_done_counts_down_only_jobs_still_waiting);
	RUN_ALL(a_retry_is_scheduled_with_its_last_result);
	RUN_ALL(expired_jobs_come_oldest_first_up_to_the_limit);
	RUN_ALL(idempotency_records_are_found_replaced_and_purged_by_age);
	RUN_ALL(others_see_a_turn_only_once_it_is_committed);
	RUN_ALL(cluster_calls_go_to_the_backend_or_are_not_supported);
	RUN_ALL(a_taken_schedule_name_is_refused_and_the_turn_goes_on);
	RUN_ALL(a_schedule_comes_back_as_it_was_written);
	RUN_ALL(put_changes_what_a_client_sets_and_replan_where_the_ticks_stand);
	RUN_ALL(delete_removes_the_schedule_and_its_ticks);
	RUN_ALL(next_and_due_see_only_unpaused_schedules_with_a_tick_left);
	RUN_ALL(advance_is_a_compare_and_set_on_next_at);
	RUN_ALL(a_tick_is_recorded_once_until_purged);
	RUN_ALL(owed_lists_the_unpaused_schedules_owing_a_run);
	RUN_ALL(list_filters_by_schedule_newest_first);
	RUN_ALL(a_finished_job_gets_a_delivery_per_hook_that_names_its_state);
	RUN_ALL(a_queue_s_webhooks_apply_to_every_job_of_the_queue);
	RUN_ALL(a_job_born_failed_gets_its_deliveries_too);
	RUN_ALL(deleting_a_job_removes_its_deliveries_and_their_tries);
	RUN_ALL(deliveries_are_leased_tried_and_read_back);
	RUN_PG(a_failed_statement_loses_the_turn);
	RUN_PG(a_savepoint_recovers_from_a_failed_statement);
	RUN_PG(unmark_keep_after_a_failure_undoes_the_savepoint);
	RUN_PG(stdin_of_any_bytes_round_trips);
	RUN_PG(concurrent_submitters_get_distinct_ascending_ids);
	RUN_PG(two_stores_opening_a_fresh_database_migrate_once);
	RUN_PG(a_lost_connection_is_reset_by_the_next_turn);
	RUN_PG(a_turn_whose_first_statement_meets_a_lost_connection_reconnects);
	RUN_PG(cluster_statements_are_prepared_again_after_a_reconnect);
	RUN_PG(a_held_back_command_that_fails_loses_the_turn);
	RUN_PG(a_claim_never_starts_a_job_before_its_run_at);
	RUN_PG(a_fenced_finish_applies_only_to_the_attempt_its_node_runs);
	RUN_PG(a_round_read_with_a_finish_serves_until_another_statement);
	RUN_PG(a_claim_made_with_a_finish_keeps_priority_pause_and_limits);
	RUN_PG(held_submissions_keep_their_created_at);
	RUN_PG(a_lost_database_fails_at_once_and_comes_back_on_the_loop);
	RUN_PG(a_server_that_stops_answering_is_cut_off_in_time);
	RUN_PG(connect_timeout_is_set_unless_given);
	RUN_PG(fast_durability_turns_synchronous_commit_off);
	RUN_PG(ping_refuses_a_database_that_takes_no_writes);
TEST_MAIN_END
