/*
 * The store through its interface: migrations, claim order, transitions,
 * listing, flow control, recovery.  Every case runs once per backend in
 * the table below, each time in a fresh temp directory; a backend
 * brings an opener and the few looks from outside the store a case
 * needs (its schema version, what another connection sees).
 */
#include <sqlite3.h>

#include "store/store.h"
#include "test.h"

struct backend {
	const char	*name;
	/* Opens the case's store: empty at the first call, the same data
	 * again at the next ones.  Returns what store_open returns. */
	int		(*open)(struct store **);
	/* The schema version the database records, read from outside. */
	int		(*schema_version)(void);
	/* Makes the database say it was made by a newer runneld. */
	void		(*set_schema_version)(int);
	/* How many jobs another connection sees: what is committed. */
	int		(*committed_jobs)(void);
};

/* ---- SQLite: runnel.db in the case's temp directory ---- */

#define SQLITE_PATH	"runnel.db"

static int
sqlite_open(struct store **s)
{
	return store_open(s, SQLITE_PATH, STORE_DURABLE);
}

static int
sqlite_int(const char *sql)
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
sqlite_schema_version(void)
{
	return sqlite_int("PRAGMA user_version");
}

static void
sqlite_set_schema_version(int v)
{
	sqlite3	*db;
	char	 sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	ASSERT_INT(sqlite3_open(SQLITE_PATH, &db), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
}

static int
sqlite_committed_jobs(void)
{
	return sqlite_int("SELECT count(*) FROM jobs");
}

static const struct backend backends[] = {
	{"sqlite", sqlite_open, sqlite_schema_version,
	    sqlite_set_schema_version, sqlite_committed_jobs},
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

TEST(migrations_set_the_schema_version)
{
	struct store *s = open_store();

	store_close(s);
	ASSERT_INT(be->schema_version(), >=, 2);
	/* Opening again applies nothing and works. */
	s = open_store();
	store_close(s);
	ASSERT_INT(be->schema_version(), >=, 2);
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

TEST(batch_insert_gives_consecutive_ids_in_order)
{
	struct store	*s = open_store();
	struct job	 jobs[40], got;
	uint64_t	 first;
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
	first = jobs[0].id;
	for (int i = 0; i < 40; i++) {
		ASSERT_INT(jobs[i].id, ==, first + (uint64_t)i);
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

/*
 * Runs a case once per backend, named backend/case; a bare case name on
 * the command line runs it on every backend.
 */
static void
run_all(const char *name, void (*fn)(void))
{
	const char	*only = test_only;
	char		 full[160];

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		be = &backends[i];
		snprintf(full, sizeof(full), "%s/%s", be->name, name);
		if (only && strcmp(only, name) == 0)
			test_only = full;
		test_run(full, fn);
		test_only = only;
	}
}

#define RUN_ALL(name)	run_all(#name, test_##name)

TEST_MAIN_BEGIN
	RUN_ALL(migrations_set_the_schema_version);
	RUN_ALL(newer_database_is_refused);
	RUN_ALL(claim_takes_smallest_priority_then_smallest_id);
	RUN_ALL(claim_counts_the_attempt_and_sets_the_worker);
	RUN_ALL(head_is_the_smallest_priority_then_id_of_its_queue);
	RUN_ALL(get_and_finish_refuse_what_is_not_there);
	RUN_ALL(every_field_comes_back_as_it_was_written);
	RUN_ALL(finish_records_the_result_once);
	RUN_ALL(batch_insert_gives_consecutive_ids_in_order);
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
	RUN_ALL(queues_keep_their_settings_and_come_in_name_order);
	RUN_ALL(due_jobs_come_in_time_order_and_only_when_free_of_deps);
	RUN_ALL(due_takes_at_most_limit_in_time_then_id_order);
	RUN_ALL(dependents_are_kept_once_and_forgotten_with_the_job);
	RUN_ALL(dep_done_counts_down_only_jobs_still_waiting);
	RUN_ALL(a_retry_is_scheduled_with_its_last_result);
	RUN_ALL(expired_jobs_come_oldest_first_up_to_the_limit);
	RUN_ALL(idempotency_records_are_found_replaced_and_purged_by_age);
	RUN_ALL(others_see_a_turn_only_once_it_is_committed);
TEST_MAIN_END
