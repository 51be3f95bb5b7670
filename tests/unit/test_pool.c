/*
 * The worker pool on its own, without the core: it reports through the
 * callback table it is given.  A real runnel-worker ($RUNNEL_BIN) runs a
 * job end to end; fake workers (shell scripts that write frames on fd 3)
 * break the protocol, which costs them their life and their job, never
 * runneld.  Waits are on callbacks with a deadline, never fixed sleeps.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>

#include <uv.h>

#include "clock.h"
#include "config.h"
#include "frame.h"
#include "log.h"
#include "pool/pool.h"
#include "server.h"
#include "store/job.h"
#include "store/output.h"
#include "test.h"

#define DEADLINE_MS	20000

struct seen {
	int		 ready;
	int		 exited;
	int		 lost;
	int		 output;
	int		 storage_errors;
	int		 full;		/* what storage_full answers */
	uint64_t	 job;		/* of the last exited or lost */
	struct job_exit	 ex;
	char		 reason[32];
	char		 error[256];
	char		 queue[JOB_QUEUE_MAX + 1];
};

static struct server	 srv;
static struct config	 cfg;
static struct seen	 seen;

static void
cb_ready(void *arg)
{
	((struct seen *)arg)->ready++;
}

static void
cb_exited(void *arg, uint64_t id, const struct job_exit *ex)
{
	struct seen *s = arg;

	s->exited++;
	s->job = id;
	s->ex = *ex;
	snprintf(s->reason, sizeof(s->reason), "%s", ex->reason ? ex->reason : "");
	snprintf(s->error, sizeof(s->error), "%s", ex->error ? ex->error : "");
	snprintf(s->queue, sizeof(s->queue), "%s", ex->queue ? ex->queue : "");
	s->ex.reason = s->ex.error = s->ex.queue = NULL;
}

static void
cb_lost(void *arg, uint64_t id, const struct job_exit *ex)
{
	struct seen *s = arg;

	s->lost++;
	s->job = id;
	snprintf(s->queue, sizeof(s->queue), "%s", ex->queue);
}

static void
cb_output(void *arg, uint64_t id)
{
	(void)id;
	((struct seen *)arg)->output++;
}

static int
cb_storage_full(void *arg)
{
	return ((struct seen *)arg)->full;
}

static void
cb_storage_error(void *arg, const char *what, int err)
{
	ASSERT_STR(what, "output");
	ASSERT_INT(err, ==, ENOSPC);
	((struct seen *)arg)->storage_errors++;
}

static const struct pool_cb test_cb = {
	.ready = cb_ready,
	.exited = cb_exited,
	.lost = cb_lost,
	.output = cb_output,
	.storage_full = cb_storage_full,
	.storage_error = cb_storage_error,
};

static uv_timer_t	 tick;

static void
on_tick(uv_timer_t *t)
{
	(void)t;
}

/* A timer that wakes the loop, so that a wait sees its deadline. */
static int64_t
tick_start(void)
{
	uv_timer_init(srv.loop, &tick);
	uv_timer_start(&tick, on_tick, 20, 20);
	return clock_mono_ms() + DEADLINE_MS;
}

static void
tick_stop(void)
{
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(srv.loop, UV_RUN_NOWAIT);
}

/* Runs the loop until cond holds. */
#define RUN_UNTIL(cond, what) do {					\
	int64_t _deadline = tick_start();				\
									\
	while (!(cond)) {						\
		if (clock_mono_ms() > _deadline)			\
			FAIL("no %s within %d ms", what, DEADLINE_MS);	\
		uv_run(srv.loop, UV_RUN_ONCE);				\
	}								\
	tick_stop();							\
} while (0)

static void
pool_begin(const char *worker, int n)
{
	char	 cwd[PATH_MAX - 32];

	log_init("test", LOG_ERROR);
	memset(&srv, 0, sizeof(srv));
	memset(&cfg, 0, sizeof(cfg));
	memset(&seen, 0, sizeof(seen));
	cfg.workers = n;
	cfg.log_level = LOG_ERROR;
	cfg.kill_grace_ms = 5000;
	srv.loop = uv_default_loop();
	srv.cfg = &cfg;
	ASSERT(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(srv.scratch_dir, sizeof(srv.scratch_dir), "%s/scratch", cwd);
	snprintf(srv.output_dir, sizeof(srv.output_dir), "%s/output", cwd);
	snprintf(srv.files_dir, sizeof(srv.files_dir), "%s/files", cwd);
	ASSERT(mkdir(srv.output_dir, 0700) == 0);
	ASSERT_INT(pool_start(&srv, worker, &test_cb, &seen), ==, 0);
}

/* Stops the pool (killing what will not stop) and lets the loop run dry. */
static void
pool_end(void)
{
	pool_stop(&srv);
	pool_kill(&srv);
	uv_run(srv.loop, UV_RUN_DEFAULT);
	pool_free(&srv);
	ASSERT_INT(uv_loop_close(srv.loop), ==, 0);
}

static void
job_make(struct job *j, uint64_t id, const char *command)
{
	job_init(j);
	j->id = id;
	j->attempts = 1;
	j->max_attempts = 2;
	j->started_at = clock_now_ms();
	ASSERT((j->queue = strdup("q1")) != NULL);
	ASSERT((j->command = strdup(command)) != NULL);
}

/* Reserves the idle worker for j and sends its RUN. */
static void
job_start(struct job *j)
{
	int	 w = pool_idle(srv.pool);

	ASSERT(w >= 1);
	ASSERT_INT(pool_reserve(srv.pool, w, j->id), ==, 0);
	ASSERT_INT(pool_idle(srv.pool), ==, -1);
	ASSERT_INT(pool_run(srv.pool, w, j), ==, 0);
	ASSERT_INT(pool_busy(srv.pool), ==, 1);
}

static void
file_is(const char *path, const char *want)
{
	char	 buf[256];
	int	 fd;
	ssize_t	 n;

	ASSERT((fd = open(path, O_RDONLY)) >= 0);
	ASSERT((n = read(fd, buf, sizeof(buf) - 1)) >= 0);
	close(fd);
	buf[n] = '\0';
	ASSERT_STR(buf, want);
}

TEST(a_job_runs_and_is_reported_through_the_table)
{
	struct job	 j;
	char		 path[PATH_MAX + 64];

	pool_begin(test_worker_path(), 1);
	RUN_UNTIL(seen.ready >= 1, "READY");
	ASSERT_INT(pool_up(srv.pool), ==, 1);
	job_make(&j, 7, "echo hi; echo oops >&2; exit 3");
	job_start(&j);
	RUN_UNTIL(seen.exited >= 1, "EXIT");
	ASSERT(seen.job == 7);
	ASSERT_INT(seen.ex.exit_code, ==, 3);
	ASSERT_INT(seen.ex.signal, ==, -1);
	ASSERT_INT(seen.ex.stdout_bytes, ==, 3);
	ASSERT_INT(seen.ex.stderr_bytes, ==, 5);
	ASSERT(seen.ex.cpu_ms >= 0 && seen.ex.max_rss_kb >= 0);
	ASSERT(seen.ex.finished_at >= j.started_at);
	ASSERT(seen.ex.started_at >= j.started_at);
	ASSERT_INT(seen.ex.attempts, ==, 1);
	ASSERT_INT(seen.ex.max_attempts, ==, 2);
	ASSERT_STR(seen.reason, "");
	ASSERT_STR(seen.queue, "q1");
	ASSERT(seen.output >= 1);
	/* EXIT also says the worker is ready again. */
	ASSERT_INT(seen.ready, ==, 2);
	ASSERT_INT(pool_busy(srv.pool), ==, 0);
	ASSERT_INT(pool_idle(srv.pool), ==, 1);
	ASSERT_INT(seen.lost, ==, 0);
	output_path(srv.output_dir, 7, 1, OUTPUT_STDOUT, path, sizeof(path));
	file_is(path, "hi\n");
	output_path(srv.output_dir, 7, 1, OUTPUT_STDERR, path, sizeof(path));
	file_is(path, "oops\n");
	job_clear(&j);
	ASSERT(pool_restarts(srv.pool) == 0);
	pool_end();
}

TEST(a_full_disk_fails_the_job_not_the_pool)
{
	struct job	 j;

	pool_begin(test_worker_path(), 1);
	seen.full = 1;
	RUN_UNTIL(seen.ready >= 1, "READY");
	job_make(&j, 8, "echo lost");
	job_start(&j);
	RUN_UNTIL(seen.exited >= 1, "EXIT");
	ASSERT_INT(seen.ex.exit_code, ==, 0);
	ASSERT_STR(seen.reason, "output");
	ASSERT(strstr(seen.error, "output not stored") != NULL);
	ASSERT_INT(seen.storage_errors, ==, 1);
	job_clear(&j);
	pool_end();
}

/* Appends one frame to a shell printf format, every byte escaped. */
static void
frame_printf(char *out, size_t size, uint16_t type, uint64_t job,
    const char *body)
{
	uint8_t	 h[FRAME_HEADER_SIZE];
	size_t	 n = strlen(out), len = strlen(body);

	frame_header_encode(h, type, 0, job, (uint32_t)len);
	for (size_t i = 0; i < sizeof(h); i++)
		n += (size_t)snprintf(out + n, size - n, "\\%03o", h[i]);
	for (size_t i = 0; i < len; i++)
		n += (size_t)snprintf(out + n, size - n, "\\%03o",
		    (unsigned char)body[i]);
	ASSERT(n < size);
}

/*
 * A fake worker: HELLO with body hello (unless NULL), READY if ready,
 * waits for a byte from runneld if wait, sends bad, then sleeps.
 */
static const char *
fake_worker(const char *hello, int ready, int wait, uint16_t type,
    uint64_t job, const char *bad)
{
	static char	 path[PATH_MAX];
	char		 fmt[4096] = "";
	FILE		*f;

	if (hello != NULL)
		frame_printf(fmt, sizeof(fmt), FRAME_HELLO, 0, hello);
	if (ready)
		frame_printf(fmt, sizeof(fmt), FRAME_READY, 0, "");
	ASSERT(getcwd(path, sizeof(path) - 16) != NULL);
	strcat(path, "/fake-worker");
	ASSERT((f = fopen(path, "w")) != NULL);
	fprintf(f, "#!/bin/sh\n");
	if (fmt[0])
		fprintf(f, "printf '%s' >&3\n", fmt);
	if (wait)
		fprintf(f, "dd bs=1 count=1 <&3 >/dev/null 2>&1\n");
	fmt[0] = '\0';
	frame_printf(fmt, sizeof(fmt), type, job, bad);
	fprintf(f, "printf '%s' >&3\nexec sleep 60\n", fmt);
	ASSERT(fclose(f) == 0);
	ASSERT(chmod(path, 0755) == 0);
	return path;
}

#define HELLO	"{\"version\":1,\"pid\":2}"

/* The fake worker breaks the protocol while running job 9. */
static void
bad_during_a_job(uint16_t type, uint64_t job, const char *bad)
{
	struct job	 j;

	pool_begin(fake_worker(HELLO, 1, 1, type, job, bad), 1);
	RUN_UNTIL(seen.ready >= 1, "READY");
	job_make(&j, 9, "true");
	job_start(&j);
	RUN_UNTIL(seen.lost >= 1, "the job lost");
	ASSERT(seen.job == 9);
	ASSERT_STR(seen.queue, "q1");
	ASSERT_INT(seen.exited, ==, 0);
	/* The slot gets a new worker. */
	RUN_UNTIL(seen.ready >= 2, "READY of the new worker");
	ASSERT(pool_restarts(srv.pool) == 1);
	ASSERT_INT(pool_busy(srv.pool), ==, 0);
	job_clear(&j);
	pool_end();
}

TEST(a_bad_exit_costs_the_worker_and_its_job)
{
	bad_during_a_job(FRAME_EXIT, 9, "{\"exit_code\":300,\"signal\":null,"
	    "\"cpu_ms\":1,\"max_rss_kb\":2,\"reason\":null,\"error\":null,"
	    "\"finished_at\":1}");
}

TEST(an_exit_without_a_member_costs_the_worker_and_its_job)
{
	bad_during_a_job(FRAME_EXIT, 9, "{\"exit_code\":0,\"signal\":null}");
}

TEST(a_frame_about_another_job_costs_the_worker)
{
	bad_during_a_job(FRAME_STARTED, 10, "{\"pid\":5,\"started_at\":1}");
}

TEST(a_frame_only_runneld_sends_costs_the_worker)
{
	bad_during_a_job(FRAME_RUN, 9, "{\"command\":\"true\"}");
}

TEST(garbage_costs_the_worker)
{
	bad_during_a_job(FRAME_STARTED, 9, "{\"pid\":5,\"started_at\"");
}

/* No job is lost, but the worker is replaced. */
static void
bad_before_a_job(const char *hello, int ready, uint16_t type,
    const char *bad)
{
	pool_begin(fake_worker(hello, ready, 0, type, 0, bad), 1);
	RUN_UNTIL(pool_restarts(srv.pool) >= 1, "restart");
	ASSERT_INT(seen.lost, ==, 0);
	ASSERT_INT(seen.exited, ==, 0);
	pool_end();
}

TEST(a_frame_before_hello_costs_the_worker)
{
	bad_before_a_job(NULL, 0, FRAME_READY, "");
}

TEST(a_second_hello_costs_the_worker)
{
	bad_before_a_job(HELLO, 1, FRAME_HELLO, HELLO);
}

TEST(another_protocol_version_costs_the_worker)
{
	bad_before_a_job(NULL, 0, FRAME_HELLO, "{\"version\":2,\"pid\":2}");
}

TEST(a_ready_with_a_body_costs_the_worker)
{
	bad_before_a_job(HELLO, 0, FRAME_READY, "{}");
}

TEST_MAIN_BEGIN
	RUN(a_job_runs_and_is_reported_through_the_table);
	RUN(a_full_disk_fails_the_job_not_the_pool);
	RUN(a_bad_exit_costs_the_worker_and_its_job);
	RUN(an_exit_without_a_member_costs_the_worker_and_its_job);
	RUN(a_frame_about_another_job_costs_the_worker);
	RUN(a_frame_only_runneld_sends_costs_the_worker);
	RUN(garbage_costs_the_worker);
	RUN(a_frame_before_hello_costs_the_worker);
	RUN(a_second_hello_costs_the_worker);
	RUN(another_protocol_version_costs_the_worker);
	RUN(a_ready_with_a_body_costs_the_worker);
TEST_MAIN_END
