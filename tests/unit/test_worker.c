/*
 * runnel-worker, black-box: each case starts the real binary
 * ($RUNNEL_BIN/runnel-worker) with one end of a socketpair on fd 3 and a
 * scratch directory in the case's temp dir, and drives it through the
 * protocol as runneld would.  Waits are on frames or conditions with a
 * deadline, never fixed sleeps.  A few cases at the end call the worker's
 * library directly (scratch removal); the RUN body is test_msg.c's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "frame.h"
#include "log.h"
#include "run.h"
#include "scratch.h"
#include "test.h"

#define DEADLINE_MS	20000	/* for anything that should be quick */

struct wk {
	pid_t			 pid;
	int			 fd;
	struct frame_reader	 rd;
	char			 scratch[PATH_MAX];
};

/* A frame with its body copied out (NUL-terminated). */
struct msg {
	uint16_t	 type;
	uint16_t	 flags;
	uint64_t	 job_id;
	size_t		 length;
	char		*body;
};

struct buf {
	char	*data;
	size_t	 len;
};

struct result {
	pid_t		 pid;		/* from STARTED, 0 if none came */
	struct buf	 out;
	struct buf	 err;
	size_t		 max_chunk;
	cJSON		*exit;
};

/* Failures print the worker's log, which otherwise stays quiet. */
static void
dump_log(void)
{
	char	 line[4096];
	FILE	*f = fopen("worker.log", "r");

	if (f == NULL)
		return;
	fprintf(stderr, "--- worker.log\n");
	while (fgets(line, sizeof(line), f) != NULL)
		fputs(line, stderr);
	fclose(f);
}

static void
buf_add(struct buf *b, const void *p, size_t n)
{
	ASSERT((b->data = realloc(b->data, b->len + n + 1)) != NULL);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
result_free(struct result *res)
{
	free(res->out.data);
	free(res->err.data);
	cJSON_Delete(res->exit);
	memset(res, 0, sizeof(*res));
}

/* Starts a worker with envp (NULL: ours); its log goes to worker.log. */
static void
wk_start_env(struct wk *w, char *const envp[])
{
	static int	 registered;
	extern char	**environ;
	const char	*path = test_worker_path();
	int		 sv[2], logfd;

	if (!registered++)
		atexit(dump_log);
	memset(w, 0, sizeof(*w));
	ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	ASSERT((logfd = open("worker.log", O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0644)) >= 0);
	ASSERT((w->pid = fork()) >= 0);
	if (w->pid == 0) {
		if (dup2(logfd, 2) < 0 || (sv[1] == 3 ?
		    fcntl(3, F_SETFD, 0) : dup2(sv[1], 3)) < 0)
			_exit(126);
		execle(path, "runnel-worker", "--id", "1", "--scratch",
		    "scratch", "--log-level", "debug", (char *)NULL,
		    envp ? envp : environ);
		_exit(127);
	}
	close(sv[1]);
	close(logfd);
	w->fd = sv[0];
	frame_reader_init(&w->rd);
	ASSERT(getcwd(w->scratch, sizeof(w->scratch) - 16) != NULL);
	strcat(w->scratch, "/scratch");
}

static void
wk_send(struct wk *w, uint16_t type, uint64_t job, const char *body)
{
	uint8_t	 h[FRAME_HEADER_SIZE];
	size_t	 n = body ? strlen(body) : 0;

	frame_header_encode(h, type, 0, job, (uint32_t)n);
	ASSERT(send(w->fd, h, sizeof(h), MSG_NOSIGNAL) == (ssize_t)sizeof(h));
	if (n > 0)
		ASSERT(send(w->fd, body, n, MSG_NOSIGNAL) == (ssize_t)n);
}

/*
 * The next frame from the worker within timeout_ms.  Returns 1, 0 when
 * the worker closed the socket, or -ETIMEDOUT.
 */
static int
wk_next(struct wk *w, struct msg *m, int timeout_ms)
{
	int64_t		 deadline = clock_mono_ms() + timeout_ms;
	struct frame	 f;
	int		 rc;

	memset(m, 0, sizeof(*m));
	while ((rc = frame_reader_next(&w->rd, &f)) == 0) {
		struct pollfd	 pfd = {.fd = w->fd, .events = POLLIN};
		int64_t		 left = deadline - clock_mono_ms();
		uint8_t		*p;
		size_t		 room;
		ssize_t		 n;

		if (left <= 0)
			return -ETIMEDOUT;
		ASSERT(poll(&pfd, 1, (int)left) >= 0);
		if (pfd.revents == 0)
			continue;
		ASSERT(frame_reader_space(&w->rd, 65536, &p, &room) == 0);
		n = read(w->fd, p, room);
		if (n <= 0)
			return 0;
		frame_reader_commit(&w->rd, (size_t)n);
	}
	ASSERT_INT(rc, ==, 1);
	m->type = f.type;
	m->flags = f.flags;
	m->job_id = f.job_id;
	m->length = f.length;
	ASSERT((m->body = malloc(f.length + 1)) != NULL);
	memcpy(m->body, f.body, f.length);
	m->body[f.length] = '\0';
	return 1;
}

static void
wk_expect(struct wk *w, uint16_t type, uint64_t job, struct msg *m)
{
	int	 rc = wk_next(w, m, DEADLINE_MS);

	if (rc != 1)
		FAIL("waiting for %s: %s", frame_type_name(type),
		    rc == 0 ? "worker closed the socket" : "timed out");
	if (m->type != type || m->job_id != job)
		FAIL("expected %s job=%llu, got %s job=%llu: %s",
		    frame_type_name(type), (unsigned long long)job,
		    frame_type_name(m->type), (unsigned long long)m->job_id,
		    m->body);
}

static void
wk_hello(struct wk *w)
{
	struct msg	 m;
	cJSON		*o;

	wk_expect(w, FRAME_HELLO, 0, &m);
	ASSERT((o = cJSON_Parse(m.body)) != NULL);
	ASSERT_INT(cJSON_GetObjectItem(o, "version")->valuedouble, ==,
	    FRAME_VERSION);
	ASSERT_INT(cJSON_GetObjectItem(o, "pid")->valuedouble, ==, w->pid);
	cJSON_Delete(o);
	free(m.body);
	wk_expect(w, FRAME_READY, 0, &m);
	ASSERT_INT(m.length, ==, 0);
	free(m.body);
}

static void
wk_start(struct wk *w)
{
	wk_start_env(w, NULL);
	wk_hello(w);
}

/* Waits up to timeout_ms for the worker to exit; returns its status. */
static int
wk_wait(struct wk *w, int timeout_ms)
{
	int64_t	 deadline = clock_mono_ms() + timeout_ms;
	int	 status;
	pid_t	 pid;

	/* The socket closes when the worker exits: wait for that first. */
	for (;;) {
		struct msg	 m;
		int		 rc = wk_next(w, &m, (int)(deadline - clock_mono_ms()));

		free(m.body);
		if (rc == 0)
			break;
		if (rc < 0)
			FAIL("worker pid=%d did not exit", (int)w->pid);
	}
	while ((pid = waitpid(w->pid, &status, WNOHANG)) == 0) {
		struct timespec ts = {0, 1000000};

		if (clock_mono_ms() > deadline)
			FAIL("worker pid=%d did not exit", (int)w->pid);
		nanosleep(&ts, NULL);	/* socket closed: exit is imminent */
	}
	ASSERT_INT(pid, ==, w->pid);
	close(w->fd);
	frame_reader_close(&w->rd);
	return status;
}

static void
wk_shutdown(struct wk *w)
{
	int	 status;

	wk_send(w, FRAME_SHUTDOWN, 0, NULL);
	status = wk_wait(w, DEADLINE_MS);
	ASSERT(WIFEXITED(status));
	ASSERT_INT(WEXITSTATUS(status), ==, 0);
}

/* Reads a run's frames up to its EXIT (which also says "ready"). */
static void
wk_finish(struct wk *w, uint64_t job, struct result *res)
{
	struct msg	 m;

	for (;;) {
		if (wk_next(w, &m, DEADLINE_MS) != 1)
			FAIL("job=%llu: no EXIT", (unsigned long long)job);
		if (m.job_id != job)
			FAIL("frame %s for job=%llu", frame_type_name(m.type),
			    (unsigned long long)m.job_id);
		if (m.type != FRAME_OUTPUT)
			break;
		ASSERT(m.flags == FRAME_STDOUT || m.flags == FRAME_STDERR);
		ASSERT(m.length > 0 && m.length <= FRAME_OUTPUT_CHUNK);
		buf_add(m.flags == FRAME_STDOUT ? &res->out : &res->err,
		    m.body, m.length);
		if (m.length > res->max_chunk)
			res->max_chunk = m.length;
		free(m.body);
	}
	if (m.type != FRAME_EXIT)
		FAIL("job=%llu: %s instead of EXIT", (unsigned long long)job,
		    frame_type_name(m.type));
	ASSERT((res->exit = cJSON_Parse(m.body)) != NULL);
	free(m.body);
}

/* Sends RUN; waits for STARTED unless the spawn fails first. */
static void
wk_begin(struct wk *w, uint64_t job, const char *spec, struct result *res)
{
	struct msg	 m;
	cJSON		*o;

	memset(res, 0, sizeof(*res));
	wk_send(w, FRAME_RUN, job, spec);
	if (wk_next(w, &m, DEADLINE_MS) != 1)
		FAIL("job=%llu: no STARTED", (unsigned long long)job);
	if (m.type == FRAME_EXIT) {
		/* Spawn failure: EXIT, and no STARTED. */
		ASSERT(m.job_id == job);
		ASSERT((res->exit = cJSON_Parse(m.body)) != NULL);
		free(m.body);
		return;
	}
	ASSERT_INT(m.type, ==, FRAME_STARTED);
	ASSERT(m.job_id == job);
	ASSERT((o = cJSON_Parse(m.body)) != NULL);
	res->pid = (pid_t)cJSON_GetObjectItem(o, "pid")->valuedouble;
	ASSERT(res->pid > 0);
	ASSERT(cJSON_GetObjectItem(o, "started_at")->valuedouble >
	    (double)clock_now_ms() - 60000);
	cJSON_Delete(o);
	free(m.body);
}

static void
wk_run(struct wk *w, uint64_t job, const char *spec, struct result *res)
{
	wk_begin(w, job, spec, res);
	if (res->exit == NULL)
		wk_finish(w, job, res);
}

/* EXIT members: a number, or -1 for null. */
static long long
exit_num(const struct result *res, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItem(res->exit, name);

	if (v == NULL)
		FAIL("EXIT has no %s", name);
	if (cJSON_IsNull(v))
		return -1;
	ASSERT(cJSON_IsNumber(v));
	return (long long)v->valuedouble;
}

/* EXIT string members, "null" for null. */
static const char *
exit_str(const struct result *res, const char *name)
{
	const cJSON	*v = cJSON_GetObjectItem(res->exit, name);

	if (v == NULL)
		FAIL("EXIT has no %s", name);
	if (cJSON_IsNull(v))
		return "null";
	ASSERT(cJSON_IsString(v));
	return v->valuestring;
}

static int
gone(pid_t pid)
{
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/* The pids a job printed, one per line. */
static int
parse_pids(const char *text, pid_t *pids, int max)
{
	int	 n = 0;

	while (n < max && *text != '\0') {
		pids[n++] = (pid_t)strtol(text, (char **)&text, 10);
		while (*text == '\n')
			text++;
	}
	return n;
}

/* Children of pid, zombies included, from /proc/<n>/stat. */
static int
count_children(pid_t parent)
{
	DIR		*d = opendir("/proc");
	struct dirent	*de;
	int		 n = 0;

	ASSERT(d != NULL);
	while ((de = readdir(d)) != NULL) {
		char	 path[300], buf[512], *p;
		FILE	*f;
		int	 ppid;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p == NULL || (p = strrchr(buf, ')')) == NULL)
			continue;
		if (sscanf(p + 1, " %*c %d", &ppid) == 1 && ppid == parent)
			n++;
	}
	closedir(d);
	return n;
}

static int
path_exists(const char *path)
{
	struct stat	 st;

	return lstat(path, &st) == 0;
}

/* ---- cases ---- */

TEST(hello_then_ready_on_start)
{
	struct wk	 w;

	wk_start(&w);
	wk_shutdown(&w);
}

TEST(shell_output_is_forwarded_per_stream)
{
	struct wk	 w;
	struct result	 res;

	wk_start(&w);
	wk_run(&w, 1, "{\"command\":\"echo hi; echo err >&2\"}", &res);
	ASSERT_STR(res.out.data, "hi\n");
	ASSERT_STR(res.err.data, "err\n");
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	ASSERT_INT(exit_num(&res, "signal"), ==, -1);
	ASSERT_STR(exit_str(&res, "reason"), "null");
	ASSERT_STR(exit_str(&res, "error"), "null");
	ASSERT(exit_num(&res, "cpu_ms") >= 0);
	ASSERT(exit_num(&res, "max_rss_kb") > 0);
	ASSERT(exit_num(&res, "finished_at") > clock_now_ms() - 60000);
	result_free(&res);
	wk_shutdown(&w);
}

TEST(exit_status_and_signal_are_reported)
{
	struct wk	 w;
	struct result	 res;

	wk_start(&w);
	wk_run(&w, 1, "{\"command\":\"exit 3\"}", &res);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 3);
	ASSERT_INT(exit_num(&res, "signal"), ==, -1);
	result_free(&res);
	wk_run(&w, 2, "{\"command\":\"kill -9 $$\"}", &res);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, -1);
	ASSERT_INT(exit_num(&res, "signal"), ==, 9);
	ASSERT_STR(exit_str(&res, "reason"), "null");
	result_free(&res);
	wk_shutdown(&w);
}

TEST(argv_form_runs_without_a_shell)
{
	struct wk	 w;
	struct result	 res;

	wk_start(&w);
	wk_run(&w, 1, "{\"argv\":[\"printf\",\"%s|%s\",\"a b\",\"$HOME;*\"]}",
	    &res);
	ASSERT_STR(res.out.data, "a b|$HOME;*");
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	result_free(&res);
	wk_shutdown(&w);
}

TEST(missing_program_is_a_spawn_failure)
{
	struct wk	 w;
	struct result	 res;

	wk_start(&w);
	wk_begin(&w, 1, "{\"argv\":[\"no-such-program-runnel\",\"x\"]}", &res);
	ASSERT(res.exit != NULL);	/* EXIT without STARTED */
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 127);
	ASSERT_INT(exit_num(&res, "signal"), ==, -1);
	ASSERT_STR(exit_str(&res, "reason"), "spawn");
	ASSERT_STR(exit_str(&res, "error"),
	    "exec failed: No such file or directory");
	result_free(&res);
	wk_begin(&w, 2, "{\"argv\":[\"/etc/passwd\"]}", &res);
	ASSERT(res.exit != NULL);
	ASSERT_STR(exit_str(&res, "error"), "exec failed: Permission denied");
	result_free(&res);
	wk_begin(&w, 3, "{\"command\":\"true\",\"cwd\":\"/no/such/dir\"}", &res);
	ASSERT(res.exit != NULL);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 127);
	ASSERT_STR(exit_str(&res, "error"),
	    "chdir failed: No such file or directory");
	result_free(&res);
	/* The worker carries on. */
	wk_run(&w, 4, "{\"argv\":[\"true\"]}", &res);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	result_free(&res);
	wk_shutdown(&w);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(environment_is_clean)
{
	static char *const env[] = {
		"PATH=/usr/bin:/bin", "HOME=/home/worker", "LANG=C.UTF-8",
		"TMPDIR=/tmp", "RUNNEL_TOKEN=secret", "RUNNEL_LISTEN=x",
		"LD_PRELOAD=", "OTHER=1", NULL
	};
	static const char *want[] = {
		"HOME=/spec/home", "K=v w", "LANG=C.UTF-8",
		"PATH=/usr/bin:/bin", "RUNNEL_ATTEMPT=3", "RUNNEL_JOB_ID=77",
		"TMPDIR=/tmp",
	};
	struct wk	 w;
	struct result	 res;
	char		*lines[32], *save = NULL, *line;
	size_t		 n = 0;

	wk_start_env(&w, env);
	wk_hello(&w);
	wk_run(&w, 77, "{\"attempt\":3,\"argv\":[\"env\"],\"env\":{\"K\":\"v w\","
	    "\"HOME\":\"/spec/home\",\"RUNNEL_JOB_ID\":\"1\","
	    "\"RUNNEL_ATTEMPT\":\"9\"}}", &res);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	for (line = strtok_r(res.out.data, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ASSERT(n < 32);
		lines[n++] = line;
	}
	qsort(lines, n, sizeof(char *), cmp_str);
	ASSERT_INT(n, ==, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		ASSERT_STR(lines[i], want[i]);
	result_free(&res);
	wk_shutdown(&w);
}

TEST(stdin_string_reaches_the_job)
{
	struct wk	 w;
	struct result	 res;
	char		*spec, *big;
	size_t		 n = 300000;

	wk_start(&w);
	wk_run(&w, 1, "{\"command\":\"cat\",\"stdin\":\"line 1\\nline 2\\n\"}",
	    &res);
	ASSERT_STR(res.out.data, "line 1\nline 2\n");
	result_free(&res);
	/* No stdin: /dev/null. */
	wk_run(&w, 2, "{\"command\":\"wc -c\"}", &res);
	ASSERT_INT(atoi(res.out.data), ==, 0);
	result_free(&res);
	/* More than a pipe holds, then a job that never reads it. */
	ASSERT((big = malloc(n + 1)) != NULL);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	big[n] = '\0';
	ASSERT((spec = malloc(n + 64)) != NULL);
	snprintf(spec, n + 64, "{\"command\":\"cat\",\"stdin\":\"%s\"}", big);
	wk_run(&w, 3, spec, &res);
	ASSERT_INT(res.out.len, ==, n);
	ASSERT(memcmp(res.out.data, big, n) == 0);
	result_free(&res);
	snprintf(spec, n + 64, "{\"command\":\"true\",\"stdin\":\"%s\"}", big);
	wk_run(&w, 4, spec, &res);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	result_free(&res);
	free(spec);
	free(big);
	wk_shutdown(&w);
}

/* 1 if path is a directory holding nothing but the worker's spare. */
static int
dir_empty(const char *path)
{
	DIR		*d = opendir(path);
	struct dirent	*de;
	int		 n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
		    strcmp(de->d_name, ".next") != 0)
			n++;
	closedir(d);
	return n == 0;
}

/*
 * The worker removes a job's directory right after its EXIT, while
 * runneld would be picking the next job: wait for it, with a deadline.
 */
static int
dir_emptied(const char *path)
{
	int64_t deadline = clock_mono_ms() + DEADLINE_MS;

	while (!dir_empty(path)) {
		if (clock_mono_ms() > deadline)
			return 0;
		usleep(1000);
	}
	return 1;
}

TEST(default_cwd_is_a_fresh_dir_per_job_removed_after)
{
	struct wk	 w;
	struct result	 res;
	char		 want[PATH_MAX + 32], dir[PATH_MAX + 32], keep[PATH_MAX];
	int		 fd;

	wk_start(&w);
	/* Outside files the job links to must survive the removal. */
	ASSERT(getcwd(keep, sizeof(keep) - 16) != NULL);
	strcat(keep, "/keep");
	ASSERT((fd = open(keep, O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	snprintf(want, sizeof(want), "%s/w1/5.2\n", w.scratch);
	snprintf(dir, sizeof(dir), "%s/w1", w.scratch);
	/* What a dead worker left under the same name is not this job's. */
	ASSERT(mkdir("scratch/w1/5.2", 0700) == 0);
	ASSERT((fd = open("scratch/w1/5.2/old", O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	{
		char	 spec[PATH_MAX + 512];

		snprintf(spec, sizeof(spec), "{\"attempt\":2,\"command\":"
		    "\"pwd; ls -A; mkdir -p a/b/c; touch a/b/c/f a/f;"
		    " ln -s %s a/link; ln -s .. a/up; chmod 500 a/b/c;"
		    " chmod 0 a/b; chmod 0 .\"}", keep);
		wk_run(&w, 5, spec, &res);
	}
	ASSERT_STR(res.out.data, want);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	result_free(&res);
	/* Gone, even after chmod 0 of it and what it held. */
	ASSERT(dir_emptied(dir));
	/* The next job has a directory of its own. */
	snprintf(want, sizeof(want), "%s/w1/6.1\n", w.scratch);
	wk_run(&w, 6, "{\"attempt\":1,\"command\":\"pwd; ls -A; rmdir $PWD\"}",
	    &res);
	ASSERT_STR(res.out.data, want);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	result_free(&res);
	/* A job that removed its own cwd does not break the next one. */
	snprintf(want, sizeof(want), "%s/w1/7.1\n", w.scratch);
	wk_run(&w, 7, "{\"attempt\":1,\"command\":\"pwd; ls -A\"}", &res);
	ASSERT_STR(res.out.data, want);
	ASSERT(dir_emptied(dir));
	ASSERT(path_exists(keep));
	result_free(&res);
	wk_shutdown(&w);
}

TEST(spec_cwd_is_used_and_kept)
{
	struct wk	 w;
	struct result	 res;
	char		 cwd[PATH_MAX], spec[PATH_MAX + 64], want[PATH_MAX + 2];

	wk_start(&w);
	ASSERT(getcwd(cwd, sizeof(cwd)) != NULL);
	snprintf(spec, sizeof(spec), "{\"command\":\"pwd\",\"cwd\":\"%s\"}", cwd);
	snprintf(want, sizeof(want), "%s\n", cwd);
	wk_run(&w, 1, spec, &res);
	ASSERT_STR(res.out.data, want);
	ASSERT(path_exists(cwd));
	result_free(&res);
	wk_shutdown(&w);
}

TEST(timeout_kills_a_job_ignoring_term_after_the_grace)
{
	struct wk	 w;
	struct result	 res;
	int64_t		 t0;

	wk_start(&w);
	t0 = clock_mono_ms();
	wk_run(&w, 1, "{\"command\":\"trap '' TERM; sleep 30\",\"timeout_ms\":200,"
	    "\"kill_grace_ms\":300}", &res);
	ASSERT(clock_mono_ms() - t0 >= 500);
	ASSERT(clock_mono_ms() - t0 < 10000);
	ASSERT_INT(exit_num(&res, "signal"), ==, 9);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, -1);
	ASSERT_STR(exit_str(&res, "reason"), "timeout");
	result_free(&res);
	wk_shutdown(&w);
}

TEST(timeout_ends_the_whole_process_tree)
{
	struct wk	 w;
	struct result	 res;
	pid_t		 pids[4];

	wk_start(&w);
	wk_run(&w, 1, "{\"command\":\"sleep 100 & echo $!; sleep 100 & echo $!;"
	    " (trap '' TERM; sleep 100) & echo $!; wait\",\"timeout_ms\":300,"
	    "\"kill_grace_ms\":200}", &res);
	ASSERT_STR(exit_str(&res, "reason"), "timeout");
	ASSERT_INT(parse_pids(res.out.data, pids, 4), ==, 3);
	for (int i = 0; i < 3; i++)
		ASSERT(gone(pids[i]));
	ASSERT(gone(res.pid));
	result_free(&res);
	wk_shutdown(&w);
}

TEST(cancel_ends_the_job_with_its_reason)
{
	struct wk	 w;
	struct result	 res;
	struct msg	 m;

	wk_start(&w);
	wk_begin(&w, 1, "{\"command\":\"sleep 30\"}", &res);
	wk_send(&w, FRAME_CANCEL, 1, "{\"reason\":\"canceled\"}");
	wk_finish(&w, 1, &res);
	ASSERT_STR(exit_str(&res, "reason"), "canceled");
	ASSERT_INT(exit_num(&res, "signal"), ==, 15);
	result_free(&res);
	/* Cancel once the trap is set, or the TERM could come before it. */
	wk_begin(&w, 2, "{\"command\":\"trap '' TERM; echo trapped; sleep 30\","
	    "\"kill_grace_ms\":100}", &res);
	wk_expect(&w, FRAME_OUTPUT, 2, &m);
	ASSERT_STR(m.body, "trapped\n");
	free(m.body);
	wk_send(&w, FRAME_CANCEL, 2, "{\"reason\":\"shutdown\"}");
	wk_finish(&w, 2, &res);
	ASSERT_STR(exit_str(&res, "reason"), "shutdown");
	ASSERT_INT(exit_num(&res, "signal"), ==, 9);
	result_free(&res);
	wk_shutdown(&w);
}

TEST(cancel_sent_with_the_run_is_honoured)
{
	struct wk	 w;
	struct result	 res;
	uint8_t		 buf[256];
	const char	*run = "{\"command\":\"sleep 30\"}";
	const char	*cancel = "{\"reason\":\"canceled\"}";
	struct msg	 m;
	size_t		 n = 0;

	wk_start(&w);
	/* Both frames in one write: the worker reads them in one go. */
	frame_header_encode(buf, FRAME_RUN, 0, 4, (uint32_t)strlen(run));
	memcpy(buf + FRAME_HEADER_SIZE, run, strlen(run));
	n = FRAME_HEADER_SIZE + strlen(run);
	frame_header_encode(buf + n, FRAME_CANCEL, 0, 4, (uint32_t)strlen(cancel));
	memcpy(buf + n + FRAME_HEADER_SIZE, cancel, strlen(cancel));
	n += FRAME_HEADER_SIZE + strlen(cancel);
	ASSERT(send(w.fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n);
	memset(&res, 0, sizeof(res));
	wk_expect(&w, FRAME_STARTED, 4, &m);
	free(m.body);
	wk_finish(&w, 4, &res);
	ASSERT_STR(exit_str(&res, "reason"), "canceled");
	result_free(&res);
	wk_shutdown(&w);
}

TEST(cancel_for_another_job_is_ignored)
{
	struct wk	 w;
	struct result	 res;

	wk_start(&w);
	wk_send(&w, FRAME_CANCEL, 8, "{\"reason\":\"canceled\"}");	/* idle */
	wk_begin(&w, 9, "{\"command\":\"sleep 0.3; echo done\"}", &res);
	wk_send(&w, FRAME_CANCEL, 8, "{\"reason\":\"canceled\"}");
	wk_finish(&w, 9, &res);
	ASSERT_STR(res.out.data, "done\n");
	ASSERT_STR(exit_str(&res, "reason"), "null");
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	result_free(&res);
	wk_shutdown(&w);
}

TEST(background_child_is_killed_when_the_job_ends)
{
	struct wk	 w;
	struct result	 res;
	pid_t		 pids[2];
	int64_t		 t0 = clock_mono_ms();

	wk_start(&w);
	wk_run(&w, 1, "{\"command\":\"sleep 100 & echo $!\"}", &res);
	ASSERT(clock_mono_ms() - t0 < 5000);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	ASSERT_INT(parse_pids(res.out.data, pids, 2), ==, 1);
	ASSERT(gone(pids[0]));
	result_free(&res);
	/*
	 * One that left the group (setsid) and holds the pipes; the fifo
	 * makes the job wait until it has.
	 */
	wk_run(&w, 2, "{\"command\":\"mkfifo f; setsid sh -c 'echo $$ >f;"
	    " exec sleep 100' & read p <f; echo $p\"}", &res);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	ASSERT_INT(res.err.len, ==, 0);
	ASSERT_INT(parse_pids(res.out.data, pids, 2), ==, 1);
	ASSERT(gone(pids[0]));
	result_free(&res);
	ASSERT(clock_mono_ms() - t0 < 10000);
	wk_shutdown(&w);
}

TEST(no_zombies_are_left)
{
	struct wk	 w;
	struct result	 res;

	wk_start(&w);
	for (int i = 1; i <= 20; i++) {
		wk_run(&w, i, i % 2 ? "{\"command\":\"(sleep 100 &); true\"}"
		    : "{\"command\":\"sleep 100 & sleep 100 & exit 1\"}", &res);
		result_free(&res);
	}
	ASSERT_INT(count_children(w.pid), ==, 0);
	wk_shutdown(&w);
}

TEST(closing_the_socket_kills_the_job_and_the_worker_exits)
{
	struct wk	 w;
	struct result	 res;
	struct msg	 m;
	pid_t		 pids[2];
	char		 dir[PATH_MAX + 16];
	int		 status;

	wk_start(&w);
	wk_begin(&w, 3, "{\"command\":\"echo $$; sleep 100 & echo $!; wait\"}",
	    &res);
	/* Both pids printed: the tree exists. */
	while (res.out.data == NULL || strchr(res.out.data, '\n') == NULL ||
	    strchr(res.out.data, '\n') == strrchr(res.out.data, '\n')) {
		wk_expect(&w, FRAME_OUTPUT, 3, &m);
		buf_add(&res.out, m.body, m.length);
		free(m.body);
	}
	ASSERT_INT(parse_pids(res.out.data, pids, 2), ==, 2);
	snprintf(dir, sizeof(dir), "%s/w1", w.scratch);
	ASSERT(path_exists(dir));
	ASSERT(shutdown(w.fd, SHUT_RDWR) == 0);
	status = wk_wait(&w, DEADLINE_MS);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT(gone(pids[0]));
	ASSERT(gone(pids[1]));
	ASSERT(dir_emptied(dir));
	result_free(&res);
}

TEST(sigterm_kills_the_job_and_the_worker_exits)
{
	struct wk	 w;
	struct result	 res;
	int		 status;

	wk_start(&w);
	wk_begin(&w, 3, "{\"command\":\"sleep 100\"}", &res);
	ASSERT(kill(w.pid, SIGTERM) == 0);
	status = wk_wait(&w, DEADLINE_MS);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT(gone(res.pid));
	result_free(&res);
}

TEST(big_binary_output_arrives_byte_exact)
{
	struct wk	 w;
	struct result	 res;
	char		 spec[PATH_MAX + 64], path[PATH_MAX];
	const size_t	 n = 10 * 1000 * 1000;
	char		*data;
	int		 fd;

	ASSERT((data = malloc(n)) != NULL);
	ASSERT((fd = open("/dev/urandom", O_RDONLY)) >= 0);
	for (size_t off = 0; off < n;) {
		ssize_t r = read(fd, data + off, n - off);

		ASSERT(r > 0);
		off += (size_t)r;
	}
	close(fd);
	ASSERT(getcwd(path, sizeof(path) - 16) != NULL);
	strcat(path, "/random");
	ASSERT((fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0);
	ASSERT(write(fd, data, n) == (ssize_t)n);
	close(fd);
	wk_start(&w);
	snprintf(spec, sizeof(spec), "{\"argv\":[\"cat\",\"%s\"]}", path);
	wk_run(&w, 1, spec, &res);
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	ASSERT_INT(res.out.len, ==, n);
	ASSERT(memcmp(res.out.data, data, n) == 0);
	ASSERT_INT(res.err.len, ==, 0);
	ASSERT(res.max_chunk <= FRAME_OUTPUT_CHUNK);
	result_free(&res);
	free(data);
	wk_shutdown(&w);
}

TEST(shutdown_during_a_job_waits_for_it)
{
	struct wk	 w;
	struct result	 res;
	int		 status;

	wk_start(&w);
	wk_begin(&w, 1, "{\"command\":\"sleep 0.2; echo done\"}", &res);
	wk_send(&w, FRAME_SHUTDOWN, 0, NULL);
	wk_finish(&w, 1, &res);
	ASSERT_STR(res.out.data, "done\n");
	ASSERT_INT(exit_num(&res, "exit_code"), ==, 0);
	status = wk_wait(&w, DEADLINE_MS);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	result_free(&res);
}

/* Sends raw bytes to a fresh worker and expects it to exit with 2. */
static void
expect_protocol_error(const void *bytes, size_t n)
{
	struct wk	 w;
	int		 status;

	wk_start(&w);
	ASSERT(send(w.fd, bytes, n, MSG_NOSIGNAL) == (ssize_t)n);
	status = wk_wait(&w, DEADLINE_MS);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
		FAIL("status %#x, want exit 2", status);
}

static void
expect_bad_frame(uint16_t type, uint64_t job, const char *body)
{
	uint8_t	 buf[512];
	size_t	 n = strlen(body);

	frame_header_encode(buf, type, 0, job, (uint32_t)n);
	memcpy(buf + FRAME_HEADER_SIZE, body, n);
	expect_protocol_error(buf, FRAME_HEADER_SIZE + n);
}

TEST(protocol_errors_make_the_worker_exit_2)
{
	uint8_t	 h[FRAME_HEADER_SIZE];

	frame_header_encode(h, 77, 0, 0, 0);
	expect_protocol_error(h, sizeof(h));
	frame_header_encode(h, FRAME_RUN, 0, 1, FRAME_MAX_BODY + 1);
	expect_protocol_error(h, sizeof(h));
	expect_bad_frame(FRAME_READY, 0, "");
	expect_bad_frame(FRAME_OUTPUT, 1, "x");
	expect_bad_frame(FRAME_RUN, 1, "{\"command\":");
	expect_bad_frame(FRAME_RUN, 1, "[\"true\"]");
	expect_bad_frame(FRAME_RUN, 1, "{\"command\":\"true\",\"argv\":[\"true\"]}");
	expect_bad_frame(FRAME_RUN, 1, "{}");
	expect_bad_frame(FRAME_RUN, 0, "{\"command\":\"true\"}");
	expect_bad_frame(FRAME_CANCEL, 1, "{\"reason\":\"bored\"}");
}

TEST(run_while_busy_is_a_protocol_error)
{
	struct wk	 w;
	struct result	 res;
	int		 status;

	wk_start(&w);
	wk_begin(&w, 1, "{\"command\":\"echo $$; sleep 100\"}", &res);
	wk_send(&w, FRAME_RUN, 2, "{\"command\":\"true\"}");
	status = wk_wait(&w, DEADLINE_MS);
	ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	ASSERT(gone(res.pid));
	result_free(&res);
}

TEST(worker_stays_small)
{
	struct wk	 w;
	struct result	 res;
	char		*spec, line[256];
	size_t		 n = 900000, prefix_len;
	long		 rss_kb = -1;
	FILE		*f;

	wk_start(&w);
	/* A big RUN grows the frame reader: it must give the memory back. */
	ASSERT((spec = malloc(n + 128)) != NULL);
	prefix_len = (size_t)snprintf(spec, 128,
	    "{\"command\":\"head -c 3000000 /dev/zero\",\"stdin\":\"");
	memset(spec + prefix_len, 'x', n);
	strcpy(spec + prefix_len + n, "\"}");
	wk_run(&w, 1, spec, &res);
	ASSERT_INT(res.out.len, ==, 3000000);
	result_free(&res);
	free(spec);
	for (int i = 2; i < 50; i++) {
		wk_run(&w, i, "{\"command\":\"true\"}", &res);
		result_free(&res);
	}
	snprintf(line, sizeof(line), "/proc/%d/status", (int)w.pid);
	ASSERT((f = fopen(line, "r")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			rss_kb = atol(line + 6);
	fclose(f);
	printf("     worker VmRSS %ld kB\n", rss_kb);
#if !defined(__SANITIZE_ADDRESS__)
	ASSERT(rss_kb > 0 && rss_kb <= 4096);
#endif
	wk_shutdown(&w);
}

/* ---- the worker's library, called directly ---- */

TEST(scratch_clear_copes_with_what_jobs_leave)
{
	int	 fd;

	log_init("test", LOG_ERROR);
	ASSERT(mkdir("outside", 0755) == 0);
	ASSERT((fd = open("outside/precious", O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	ASSERT(scratch_prepare("w9") == 0);
	ASSERT(dir_empty("w9"));
	ASSERT(mkdir("w9/ro", 0755) == 0);
	ASSERT(mkdir("w9/ro/deep", 0755) == 0);
	ASSERT((fd = open("w9/ro/deep/f", O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	ASSERT(symlink("../../outside", "w9/ro/out") == 0);
	ASSERT(symlink("/nonexistent", "w9/dangling") == 0);
	ASSERT(chmod("w9/ro/deep", 0500) == 0);
	ASSERT(chmod("w9/ro", 0) == 0);
	ASSERT(scratch_clear("w9") == 0);
	ASSERT(dir_empty("w9"));
	ASSERT(path_exists("outside/precious"));
	ASSERT(scratch_clear("w9") == 0);	/* already empty: fine */
	/* Replaced by a file or a symlink: prepare makes it a directory again. */
	ASSERT(rmdir("w9") == 0);
	ASSERT(symlink("outside", "w9") == 0);
	ASSERT(scratch_prepare("w9") == 0);
	ASSERT(dir_empty("w9"));
	ASSERT(path_exists("outside/precious"));
	ASSERT(chmod("w9", 0) == 0);
	ASSERT(scratch_prepare("w9") == 0);
	ASSERT(dir_empty("w9"));
}

TEST(a_spare_someone_wrote_into_is_made_anew)
{
	struct stat	 before, after;
	int		 fd;

	ASSERT(mkdir("w8", 0700) == 0);
	ASSERT(scratch_spare("w8") == 0);
	ASSERT(stat("w8/.next", &before) == 0);
	/* untouched: it stays as it is */
	ASSERT(scratch_spare("w8") == 0);
	ASSERT(stat("w8/.next", &after) == 0);
	ASSERT_INT(after.st_ino, ==, before.st_ino);
	/* a job with its own cwd wrote there, or opened it up */
	ASSERT((fd = open("w8/.next/planted", O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
	ASSERT(scratch_spare("w8") == 0);
	ASSERT(dir_empty("w8/.next"));
	ASSERT(chmod("w8/.next", 0777) == 0);
	ASSERT(scratch_spare("w8") == 0);
	ASSERT(stat("w8/.next", &after) == 0);
	ASSERT_INT(after.st_mode & 07777, ==, 0700);
}

TEST_MAIN_BEGIN
	RUN(hello_then_ready_on_start);
	RUN(shell_output_is_forwarded_per_stream);
	RUN(exit_status_and_signal_are_reported);
	RUN(argv_form_runs_without_a_shell);
	RUN(missing_program_is_a_spawn_failure);
	RUN(environment_is_clean);
	RUN(stdin_string_reaches_the_job);
	RUN(default_cwd_is_a_fresh_dir_per_job_removed_after);
	RUN(spec_cwd_is_used_and_kept);
	RUN(timeout_kills_a_job_ignoring_term_after_the_grace);
	RUN(timeout_ends_the_whole_process_tree);
	RUN(cancel_ends_the_job_with_its_reason);
	RUN(cancel_sent_with_the_run_is_honoured);
	RUN(cancel_for_another_job_is_ignored);
	RUN(background_child_is_killed_when_the_job_ends);
	RUN(no_zombies_are_left);
	RUN(closing_the_socket_kills_the_job_and_the_worker_exits);
	RUN(sigterm_kills_the_job_and_the_worker_exits);
	RUN(big_binary_output_arrives_byte_exact);
	RUN(shutdown_during_a_job_waits_for_it);
	RUN(protocol_errors_make_the_worker_exit_2);
	RUN(run_while_busy_is_a_protocol_error);
	RUN(worker_stays_small);
	RUN(scratch_clear_copes_with_what_jobs_leave);
	RUN(a_spare_someone_wrote_into_is_made_anew);
TEST_MAIN_END
