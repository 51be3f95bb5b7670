/* The store: migrations, claim order, transitions, listing, recovery. */
#include <sqlite3.h>

#include "store/store.h"
#include "test.h"

static struct store *
open_store(void)
{
	struct store *s;

	ASSERT_INT(store_open(&s, "runnel.db", STORE_DURABLE), ==, 0);
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
	ASSERT_INT(store_queue_add(s, queue), ==, 0);
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
	struct store	*s = open_store();
	sqlite3		*db;
	sqlite3_stmt	*st;

	store_close(s);
	ASSERT_INT(sqlite3_open("runnel.db", &db), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL),
	    ==, SQLITE_OK);
	ASSERT_INT(sqlite3_step(st), ==, SQLITE_ROW);
	ASSERT_INT(sqlite3_column_int(st, 0), >=, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	/* Opening again applies nothing and works. */
	s = open_store();
	store_close(s);
}

TEST(newer_database_is_refused)
{
	struct store	*s = open_store();
	sqlite3		*db;

	store_close(s);
	ASSERT_INT(sqlite3_open("runnel.db", &db), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL,
	    NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	ASSERT_INT(store_open(&s, "runnel.db", STORE_DURABLE), <, 0);
	ASSERT(s == NULL);
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
	store_free_jobs(jobs, n);
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
		store_free_jobs(jobs, n);
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

TEST(uncommitted_turn_is_lost_on_close_without_commit)
{
	struct store	*s = open_store();
	sqlite3		*db;
	sqlite3_stmt	*st;

	submit(s, "default", 0);
	/* Another connection sees nothing before the commit. */
	ASSERT_INT(sqlite3_open("runnel.db", &db), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM jobs", -1, &st,
	    NULL), ==, SQLITE_OK);
	ASSERT_INT(sqlite3_step(st), ==, SQLITE_ROW);
	ASSERT_INT(sqlite3_column_int(st, 0), ==, 0);
	sqlite3_reset(st);
	ASSERT_INT(store_commit(s, 1), ==, 0);
	ASSERT_INT(sqlite3_step(st), ==, SQLITE_ROW);
	ASSERT_INT(sqlite3_column_int(st, 0), ==, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	store_close(s);
}

TEST_MAIN_BEGIN
	RUN(migrations_set_the_schema_version);
	RUN(newer_database_is_refused);
	RUN(claim_takes_smallest_priority_then_smallest_id);
	RUN(claim_counts_the_attempt_and_sets_the_worker);
	RUN(finish_records_the_result_once);
	RUN(batch_insert_gives_consecutive_ids_in_order);
	RUN(set_state_checks_the_current_state);
	RUN(ids_are_never_reused_after_a_delete);
	RUN(savepoint_undoes_a_partial_batch);
	RUN(list_pages_by_keyset_with_filters);
	RUN(running_jobs_are_found_after_an_unclean_stop);
	RUN(due_jobs_come_in_time_order_and_only_when_free_of_deps);
	RUN(a_retry_is_scheduled_with_its_last_result);
	RUN(uncommitted_turn_is_lost_on_close_without_commit);
TEST_MAIN_END
