/*
 * The API handlers driven without sockets: a request is filled in by
 * hand, the handler runs on a real core and store in a temp directory,
 * and the loop turns until the request is completed.  No workers unless
 * a case starts the pool (real runnel-workers): jobs stay queued, which
 * is what most cases look at.
 */
#include <uv.h>

#include "api/api.h"
#include "config.h"
#include "core/core.h"
#include "core/counts.h"
#include "core/events.h"
#include "core/workers.h"
#include "http/http_int.h"
#include "http/request.h"
#include "log.h"
#include "pool/pool.h"
#include "server.h"
#include "store/datadir.h"
#include "store/store.h"
#include "test.h"

struct fixture {
	struct server	 srv;
	struct config	 cfg;
	struct counts	 counts;
	uv_loop_t	 loop;
};

static struct fixture fx;
static int completed;

static void
open_fixture(int max_queued)
{
	char *argv[] = {"runneld", "--data", ".", "--workers", "1", NULL};

	memset(&fx, 0, sizeof(fx));
	log_init("test_api", LOG_WARN);
	ASSERT_INT(config_parse(&fx.cfg, 5, argv), ==, 0);
	fx.cfg.max_queued = max_queued;
	ASSERT_INT(uv_loop_init(&fx.loop), ==, 0);
	fx.srv.loop = &fx.loop;
	fx.srv.cfg = &fx.cfg;
	fx.srv.counts = &fx.counts;
	counts_init(&fx.counts);
	ASSERT_INT(datadir_open(&fx.srv, "."), ==, 0);
	ASSERT_INT(store_open(&fx.srv.store, "runnel.db", STORE_FAST), ==, 0);
	ASSERT_INT(core_start(&fx.srv), ==, 0);
	ASSERT_INT(core_load(&fx.srv), ==, 0);
	ASSERT_INT(events_start(&fx.srv), ==, 0);
}

static void
on_done(struct request *req)
{
	(void)req;
	completed = 1;
}

/* Fills req as http.c would for method, path and body. */
static void
prep(struct request *req, enum http_method m, const char *path,
    const char *body)
{
	memset(req, 0, sizeof(*req));
	req->srv = &fx.srv;
	req->method = m;
	req->method_name = m == HTTP_GET ? "GET" : m == HTTP_DELETE ? "DELETE" :
	    m == HTTP_PATCH ? "PATCH" : "POST";
	req->path = path;
	req->content_length = body ? (int64_t)strlen(body) : -1;
	req->body = body ? strdup(body) : NULL;
	req->body_len = body ? strlen(body) : 0;
	req->resp.fd = -1;
	req->done = on_done;
}

/* Runs the handler; a pending request is waited for.  Returns the status. */
static int
run(struct request *req, api_handler fn)
{
	int rc;

	completed = 0;
	rc = fn(req);
	ASSERT(rc == API_DONE || rc == API_PENDING);
	for (int turns = 0; rc == API_PENDING && !completed; turns++) {
		ASSERT(turns < 1000);
		uv_run(&fx.loop, UV_RUN_ONCE);
	}
	return req->resp.status;
}

static int
call(struct request *req, api_handler fn, enum http_method m,
    const char *path, const char *body)
{
	prep(req, m, path, body);
	return run(req, fn);
}

static void
finish(struct request *req)
{
	free(req->body);
	response_clear(&req->resp);
}

static const char *
header(const struct request *req, const char *name)
{
	for (int i = 0; i < req->resp.nheaders; i++)
		if (strcmp(req->resp.headers[i].name, name) == 0)
			return req->resp.headers[i].value;
	return NULL;
}

/* The response body holds s. */
#define HAS(req, s) do {						\
	if ((req)->resp.body == NULL || strstr((req)->resp.body, s) == NULL) \
		FAIL("body lacks %s: %s", s, (req)->resp.body ?		\
		    (req)->resp.body : "(none)");			\
} while (0)

static int
submit(const char *body)
{
	struct request	req;
	int		status;

	status = call(&req, api_jobs_submit, HTTP_POST, "/api/v1/jobs", body);
	finish(&req);
	return status;
}

/* A request on /api/v1/jobs/{id}, as the router leaves it. */
static int
on_job(struct request *req, api_handler fn, enum http_method m,
    const char *id, const char *body)
{
	prep(req, m, "/api/v1/jobs/{id}", body);
	req->path_id = id;
	return run(req, fn);
}

static void
count_idle(void *arg, const struct worker_info *w)
{
	*(int *)arg += strcmp(w->state, "idle") == 0;
}

/* Starts n real workers (core's callbacks) and waits until all are idle. */
static void
start_pool(int n)
{
	int idle = 0;

	fx.cfg.workers = n;
	ASSERT_INT(pool_start(&fx.srv, test_worker_path(), &core_pool_cb,
	    &fx.srv), ==, 0);
	for (int turns = 0; idle < n; turns++) {
		ASSERT(turns < 1000);
		uv_run(&fx.loop, UV_RUN_ONCE);
		idle = 0;
		pool_each(fx.srv.pool, count_idle, &idle);
	}
}

TEST(a_submit_answers_201_with_its_location_after_the_commit)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(call(&req, api_jobs_submit, HTTP_POST, "/api/v1/jobs",
	    "{\"command\": \"echo hi\", \"queue\": \"ops\"}"), ==, 201);
	ASSERT_STR(header(&req, "Location"), "/api/v1/jobs/1");
	HAS(&req, "\"id\":1,");
	HAS(&req, "\"state\":\"queued\"");
	HAS(&req, "\"queue\":\"ops\"");
	finish(&req);
	ASSERT_INT(fx.counts.by_state[JOB_QUEUED], ==, 1);
}

TEST(a_batch_answers_every_job)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(call(&req, api_jobs_submit, HTTP_POST, "/api/v1/jobs",
	    "[{\"command\": \"a\"}, {\"command\": \"b\"}]"), ==, 201);
	HAS(&req, "{\"jobs\":[{\"id\":1,");
	HAS(&req, "{\"id\":2,");
	ASSERT(header(&req, "Location") == NULL);
	finish(&req);
}

TEST(a_bad_spec_is_refused_naming_the_field_and_stores_nothing)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(call(&req, api_jobs_submit, HTTP_POST, "/api/v1/jobs",
	    "{\"command\": 5}"), ==, 400);
	HAS(&req, "\"field\":\"command\"");
	finish(&req);
	ASSERT_INT(call(&req, api_jobs_list, HTTP_GET, "/api/v1/jobs", NULL),
	    ==, 200);
	HAS(&req, "{\"jobs\":[],");
	finish(&req);
}

TEST(an_unknown_dependency_is_422_and_stores_nothing)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(call(&req, api_jobs_submit, HTTP_POST, "/api/v1/jobs",
	    "{\"command\": \"x\", \"after\": [99]}"), ==, 422);
	HAS(&req, "\"code\":\"invalid_dependency\"");
	HAS(&req, "\"field\":\"after\"");
	finish(&req);
	ASSERT_INT(fx.counts.by_state[JOB_QUEUED] +
	    fx.counts.by_state[JOB_SCHEDULED], ==, 0);
}

TEST(cancel_then_retry_then_delete_follow_the_job_states)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(submit("{\"command\": \"sleep 9\"}"), ==, 201);
	ASSERT_INT(on_job(&req, api_jobs_delete, HTTP_DELETE, "1", NULL), ==,
	    409);
	HAS(&req, "cannot delete job 1: it is queued");
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_cancel, HTTP_POST, "1", NULL), ==, 200);
	HAS(&req, "\"state\":\"canceled\"");
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_cancel, HTTP_POST, "1", NULL), ==, 409);
	HAS(&req, "\"code\":\"conflict\"");
	HAS(&req, "cannot cancel job 1: it is canceled");
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_retry, HTTP_POST, "1", NULL), ==, 200);
	HAS(&req, "\"state\":\"queued\"");
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_retry, HTTP_POST, "1", NULL), ==, 409);
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_cancel, HTTP_POST, "1", NULL), ==, 200);
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_delete, HTTP_DELETE, "1", NULL), ==,
	    204);
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_get, HTTP_GET, "1", NULL), ==, 404);
	HAS(&req, "\"code\":\"not_found\"");
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_get, HTTP_GET, "abc", NULL), ==, 400);
	finish(&req);
}

TEST(an_idempotency_key_replays_its_jobs_and_refuses_another_body)
{
	struct request	req;
	const char	*a = "{\"command\": \"once\"}";

	open_fixture(0);
	for (int i = 0; i < 2; i++) {
		prep(&req, HTTP_POST, "/api/v1/jobs", a);
		req.idempotency_key = "k-1";
		ASSERT_INT(run(&req, api_jobs_submit), ==, i == 0 ? 201 : 200);
		HAS(&req, "\"id\":1,");
		finish(&req);
	}
	prep(&req, HTTP_POST, "/api/v1/jobs", "{\"command\": \"other\"}");
	req.idempotency_key = "k-1";
	ASSERT_INT(run(&req, api_jobs_submit), ==, 422);
	HAS(&req, "\"code\":\"idempotency_mismatch\"");
	finish(&req);
	ASSERT_INT(fx.counts.by_state[JOB_QUEUED], ==, 1);
}

TEST(max_queued_refuses_with_429_and_a_retry_after)
{
	struct request req;

	open_fixture(1);
	ASSERT_INT(submit("{\"command\": \"a\"}"), ==, 201);
	ASSERT_INT(call(&req, api_jobs_submit, HTTP_POST, "/api/v1/jobs",
	    "{\"command\": \"b\"}"), ==, 429);
	HAS(&req, "\"code\":\"queue_full\"");
	ASSERT(header(&req, "Retry-After") != NULL);
	ASSERT_INT(atoi(header(&req, "Retry-After")), >=, 1);
	finish(&req);
	ASSERT_INT(fx.counts.by_state[JOB_QUEUED], ==, 1);
}

TEST(a_queue_patch_answers_the_queue_as_set)
{
	struct request req;

	open_fixture(0);
	prep(&req, HTTP_PATCH, "/api/v1/queues/{name}",
	    "{\"paused\": true, \"concurrency\": 2}");
	req.path_name = "ops";
	ASSERT_INT(run(&req, api_queues_patch), ==, 200);
	HAS(&req, "\"name\":\"ops\"");
	HAS(&req, "\"paused\":true");
	HAS(&req, "\"concurrency\":2");
	finish(&req);
	prep(&req, HTTP_PATCH, "/api/v1/queues/{name}", "{\"paused\": 1}");
	req.path_name = "ops";
	ASSERT_INT(run(&req, api_queues_patch), ==, 400);
	HAS(&req, "\"field\":\"paused\"");
	finish(&req);
	/* The settings held: the list shows them. */
	ASSERT_INT(call(&req, api_queues_list, HTTP_GET, "/api/v1/queues", NULL),
	    ==, 200);
	HAS(&req, "\"paused\":true");
	finish(&req);
}

/* A raw upload (curl -T) as hreq.c drives it: headers, chunks, end. */
static int
upload(struct request *req, const char *sha, int64_t length,
    const char *const *chunks)
{
	int rc;

	prep(req, HTTP_PUT, "/api/v1/uploads", NULL);
	req->query[0] = (struct param){"name", "notes.txt"};
	req->query[1] = (struct param){"command", "wc -l"};
	req->nquery = 2;
	if (sha)
		req->query[req->nquery++] = (struct param){"sha256", sha};
	req->content_length = length;
	if ((rc = api_uploads_post(req)) != API_STREAM)
		return req->resp.status;
	ASSERT(req->sink != NULL);
	for (; *chunks; chunks++)
		if (req->sink->data(req, *chunks, strlen(*chunks)) < 0)
			return req->resp.status;
	completed = 0;
	rc = req->sink->end(req);
	for (int turns = 0; rc == API_PENDING && !completed; turns++) {
		ASSERT(turns < 1000);
		uv_run(&fx.loop, UV_RUN_ONCE);
	}
	return req->resp.status;
}

static void
upload_finish(struct request *req)
{
	if (req->sink)
		req->sink->close(req);
	finish(req);
}

TEST(an_upload_streams_through_its_sink_and_is_stored_with_its_job)
{
	static const char *const chunks[] = {"hello\n", "world\n", NULL};
	struct request	 req;
	char		 buf[64] = "";
	FILE		*f;

	open_fixture(0);
	ASSERT_INT(upload(&req, NULL, 12, chunks), ==, 201);
	HAS(&req, "\"type\":\"upload\"");
	HAS(&req, "\"file\":{\"name\":\"notes.txt\",\"size\":12,"
	    "\"sha256\":\"4a1e67f2fe1d1cc7b31d0ca2ec441da4778203a036a77da10344c85e24ff0f92\"}");
	ASSERT_STR(header(&req, "Location"), "/api/v1/jobs/1");
	upload_finish(&req);
	ASSERT((f = fopen("files/1/notes.txt", "r")) != NULL);
	ASSERT_INT(fread(buf, 1, sizeof(buf) - 1, f), ==, 12);
	fclose(f);
	ASSERT_STR(buf, "hello\nworld\n");
}

TEST(an_upload_whose_checksum_differs_stores_nothing)
{
	static const char *const chunks[] = {"hello\n", "world\n", NULL};
	struct request	 req;

	open_fixture(0);
	ASSERT_INT(upload(&req, "0000000000000000000000000000000000000000000000"
	    "000000000000000000", 12, chunks), ==, 422);
	HAS(&req, "\"code\":\"checksum_mismatch\"");
	upload_finish(&req);
	ASSERT_INT(fx.counts.by_state[JOB_QUEUED], ==, 0);
	ASSERT_INT(system("test -z \"$(find tmp files -type f)\""), ==, 0);
}

TEST(an_upload_announced_over_the_limit_is_refused_before_its_body)
{
	static const char *const none[] = {NULL};
	struct request	 req;

	open_fixture(0);
	fx.cfg.max_upload = 1000;
	ASSERT_INT(upload(&req, NULL, 1001, none), ==, 413);
	ASSERT(req.sink == NULL);
	HAS(&req, "\"code\":\"too_large\"");
	upload_finish(&req);
}

/* Adds ?key=value to a prepared request. */
static void
query(struct request *req, const char *key, const char *value)
{
	ASSERT(req->nquery < REQUEST_QUERY_MAX);
	req->query[req->nquery++] = (struct param){key, value};
}

/* The jobs list of GET /api/v1/jobs?key=value (NULL: none): its status. */
static int
list(struct request *req, const char *key, const char *value)
{
	prep(req, HTTP_GET, "/api/v1/jobs", NULL);
	if (key)
		query(req, key, value);
	return run(req, api_jobs_list);
}

TEST(the_list_filters_by_queue_and_state_and_pages_newest_first)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(submit("{\"command\": \"a\", \"queue\": \"ops\"}"), ==, 201);
	ASSERT_INT(submit("{\"command\": \"b\"}"), ==, 201);
	ASSERT_INT(submit("{\"command\": \"c\", \"queue\": \"ops\"}"), ==, 201);
	ASSERT_INT(list(&req, NULL, NULL), ==, 200);
	HAS(&req, "{\"jobs\":[{\"id\":3,");
	HAS(&req, "\"next\":null}");
	finish(&req);
	ASSERT_INT(list(&req, "queue", "ops"), ==, 200);
	HAS(&req, "{\"jobs\":[{\"id\":3,");
	ASSERT(strstr(req.resp.body, "\"id\":2,") == NULL);
	finish(&req);
	ASSERT_INT(list(&req, "limit", "1"), ==, 200);
	HAS(&req, "\"next\":3}");
	ASSERT(strstr(req.resp.body, "\"id\":2,") == NULL);
	finish(&req);
	ASSERT_INT(list(&req, "state", "running"), ==, 200);
	HAS(&req, "{\"jobs\":[],");
	finish(&req);
	ASSERT_INT(list(&req, "state", "sleepy"), ==, 400);
	HAS(&req, "\"field\":\"state\"");
	finish(&req);
	ASSERT_INT(list(&req, "limit", "0"), ==, 400);
	HAS(&req, "\"field\":\"limit\"");
	finish(&req);
	ASSERT_INT(list(&req, "queue", "no/such"), ==, 400);
	HAS(&req, "\"field\":\"queue\"");
	finish(&req);
}

TEST(a_job_get_answers_the_job_and_refuses_a_bad_wait)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(submit("{\"command\": \"echo hi\", \"priority\": 3}"), ==,
	    201);
	ASSERT_INT(on_job(&req, api_jobs_get, HTTP_GET, "1", NULL), ==, 200);
	HAS(&req, "\"id\":1,");
	HAS(&req, "\"state\":\"queued\"");
	HAS(&req, "\"command\":\"echo hi\"");
	HAS(&req, "\"priority\":3");
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/jobs/{id}", NULL);
	req.path_id = "1";
	query(&req, "wait", "soon");
	ASSERT_INT(run(&req, api_jobs_get), ==, 400);
	HAS(&req, "\"field\":\"wait\"");
	finish(&req);
	ASSERT_INT(on_job(&req, api_jobs_get, HTTP_GET, "99", NULL), ==, 404);
	finish(&req);
}

static int waited;

static void
on_waited(struct request *req)
{
	(void)req;
	waited = 1;
}

TEST(a_job_get_with_wait_answers_when_the_job_is_finished)
{
	struct request	 w, req;
	int		 rc;

	open_fixture(0);
	ASSERT_INT(submit("{\"command\": \"sleep 9\"}"), ==, 201);
	prep(&w, HTTP_GET, "/api/v1/jobs/{id}", NULL);
	w.path_id = "1";
	w.done = on_waited;
	query(&w, "wait", "30");
	waited = 0;
	ASSERT_INT((rc = api_jobs_get(&w)), ==, API_PENDING);
	uv_run(&fx.loop, UV_RUN_NOWAIT);
	ASSERT_INT(waited, ==, 0);
	/* Its end (a cancel here) answers the waiting request. */
	ASSERT_INT(on_job(&req, api_jobs_cancel, HTTP_POST, "1", NULL), ==, 200);
	finish(&req);
	for (int turns = 0; !waited; turns++) {
		ASSERT(turns < 1000);
		uv_run(&fx.loop, UV_RUN_ONCE);
	}
	ASSERT_INT(w.resp.status, ==, 200);
	HAS(&w, "\"state\":\"canceled\"");
	finish(&w);
}

TEST(output_answers_the_bytes_so_far_and_refuses_bad_parameters)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(submit("{\"command\": \"echo hi\"}"), ==, 201);
	/* Not started: no bytes yet. */
	ASSERT_INT(on_job(&req, api_output_get, HTTP_GET, "1", NULL), ==, 200);
	ASSERT_INT(req.resp.body_len + (req.resp.fd >= 0 ?
	    req.resp.fd_len : 0), ==, 0);
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/jobs/{id}/output", NULL);
	req.path_id = "1";
	query(&req, "stream", "stdin");
	ASSERT_INT(run(&req, api_output_get), ==, 400);
	HAS(&req, "\"field\":\"stream\"");
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/jobs/{id}/output", NULL);
	req.path_id = "1";
	query(&req, "attempt", "2");
	ASSERT_INT(run(&req, api_output_get), ==, 404);
	HAS(&req, "\"field\":\"attempt\"");
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/jobs/{id}/output", NULL);
	req.path_id = "1";
	query(&req, "offset", "-1");
	ASSERT_INT(run(&req, api_output_get), ==, 400);
	HAS(&req, "\"field\":\"offset\"");
	finish(&req);
	ASSERT_INT(on_job(&req, api_output_get, HTTP_GET, "42", NULL), ==, 404);
	HAS(&req, "\"code\":\"not_found\"");
	finish(&req);
}

TEST(stats_count_the_jobs_by_state)
{
	struct request req;

	open_fixture(0);
	ASSERT_INT(submit("{\"command\": \"a\"}"), ==, 201);
	ASSERT_INT(submit("{\"command\": \"b\"}"), ==, 201);
	ASSERT_INT(on_job(&req, api_jobs_cancel, HTTP_POST, "2", NULL), ==, 200);
	finish(&req);
	start_pool(0);
	ASSERT_INT(call(&req, api_stats_get, HTTP_GET, "/api/v1/stats", NULL),
	    ==, 200);
	HAS(&req, "\"queued\":1");
	HAS(&req, "\"canceled\":1");
	HAS(&req, "\"total\":2");
	HAS(&req, "\"workers\":{\"size\":0,\"busy\":0,\"up\":0}");
	HAS(&req, "\"draining\":false");
	finish(&req);
}

TEST(workers_health_and_metrics_show_the_pool)
{
	struct request req;

	open_fixture(0);
	start_pool(1);
	ASSERT_INT(call(&req, api_workers_list, HTTP_GET, "/api/v1/workers",
	    NULL), ==, 200);
	HAS(&req, "{\"workers\":[{\"id\":1,\"pid\":");
	HAS(&req, "\"state\":\"idle\"");
	HAS(&req, "\"job\":null");
	ASSERT(strstr(req.resp.body, "\"nodes\"") == NULL);
	finish(&req);
	ASSERT_INT(call(&req, api_health_get, HTTP_GET, "/healthz", NULL), ==,
	    200);
	HAS(&req, "\"status\":\"ok\"");
	finish(&req);
	ASSERT_INT(submit("{\"command\": \"true\", \"queue\": \"ops\", "
	    "\"run_at\": \"2999-01-01T00:00:00Z\"}"), ==, 201);
	ASSERT_INT(call(&req, api_metrics_get, HTTP_GET, "/metrics", NULL), ==,
	    200);
	ASSERT(strncmp(req.resp.content_type, "text/plain", 10) == 0);
	HAS(&req, "runnel_jobs{state=\"scheduled\"} 1\n");
	HAS(&req, "runnel_jobs_submitted_total 1\n");
	HAS(&req, "runnel_queue_jobs{queue=\"ops\",state=\"scheduled\"} 1\n");
	HAS(&req, "runnel_workers{state=\"up\"} 1\n");
	HAS(&req, "runnel_workers{state=\"busy\"} 0\n");
	finish(&req);
	/* Shutting down: health says so. */
	fx.srv.draining = 1;
	ASSERT_INT(call(&req, api_health_get, HTTP_GET, "/healthz", NULL), ==,
	    503);
	HAS(&req, "\"code\":\"unavailable\"");
	finish(&req);
}

TEST(health_is_503_without_a_worker_up)
{
	struct request req;

	open_fixture(0);
	start_pool(0);
	ASSERT_INT(call(&req, api_health_get, HTTP_GET, "/healthz", NULL), ==,
	    503);
	HAS(&req, "\"code\":\"unavailable\"");
	HAS(&req, "no worker is up");
	finish(&req);
}

TEST(a_session_trades_the_token_for_a_cookie_until_it_is_ended)
{
	struct request	 req;
	char		 cookie[160];
	const char	*set;

	open_fixture(0);
	/* Without a token: nothing to trade. */
	ASSERT_INT(call(&req, api_session_get, HTTP_GET, "/api/v1/session",
	    NULL), ==, 200);
	HAS(&req, "\"auth\":false");
	HAS(&req, "\"authorized\":true");
	finish(&req);
	fx.cfg.token = "s3cret";
	ASSERT((fx.srv.http = calloc(1, sizeof(*fx.srv.http))) != NULL);
	ASSERT_INT(call(&req, api_session_get, HTTP_GET, "/api/v1/session",
	    NULL), ==, 200);
	HAS(&req, "\"auth\":true");
	HAS(&req, "\"authorized\":false");
	finish(&req);
	prep(&req, HTTP_POST, "/api/v1/session", NULL);
	req.authorization = "Bearer s3cret";
	ASSERT_INT(run(&req, api_session_create), ==, 201);
	HAS(&req, "\"authorized\":true");
	ASSERT((set = header(&req, "Set-Cookie")) != NULL);
	ASSERT(strstr(set, "HttpOnly") != NULL);
	ASSERT(strstr(set, "SameSite=Strict") != NULL);
	/* The Cookie header a browser sends back: name=value. */
	snprintf(cookie, sizeof(cookie), "%.*s", (int)strcspn(set, ";"), set);
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/session", NULL);
	req.cookie = cookie;
	ASSERT_INT(run(&req, api_session_get), ==, 200);
	HAS(&req, "\"authorized\":true");
	finish(&req);
	prep(&req, HTTP_DELETE, "/api/v1/session", NULL);
	req.cookie = cookie;
	ASSERT_INT(run(&req, api_session_delete), ==, 204);
	ASSERT(strstr(header(&req, "Set-Cookie"), "Max-Age=0") != NULL);
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/session", NULL);
	req.cookie = cookie;
	ASSERT_INT(run(&req, api_session_get), ==, 200);
	HAS(&req, "\"authorized\":false");
	finish(&req);
	free(fx.srv.http);
	fx.srv.http = NULL;
}

TEST(events_stream_the_changes_of_jobs)
{
	struct request	 req;
	struct stream	*s;
	char		 buf[8192];
	ssize_t		 n;
	size_t		 got = 0;

	open_fixture(0);
	ASSERT_INT(call(&req, api_events_get, HTTP_GET, "/api/v1/events",
	    NULL), ==, 200);
	ASSERT_STR(req.resp.content_type, "text/event-stream; charset=utf-8");
	ASSERT((s = req.resp.stream) != NULL);
	ASSERT((n = s->read(s, 0, buf, sizeof(buf) - 1)) > 0);
	buf[n] = '\0';
	ASSERT(strstr(buf, ": connected") != NULL);
	/* Nothing more until a job changes. */
	ASSERT_INT(s->read(s, (uint64_t)n, buf, sizeof(buf) - 1), ==, 0);
	ASSERT_INT(submit("{\"command\": \"x\"}"), ==, 201);
	while (got < sizeof(buf) - 1 &&
	    (n = s->read(s, 0, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	if (strstr(buf, "event: job\ndata: {\"id\":1,") == NULL ||
	    strstr(buf, "\"state\":\"queued\"") == NULL)
		FAIL("no job event: %s", buf);
	finish(&req);
}

TEST(a_file_get_sends_the_upload_whole_or_a_range)
{
	static const char *const chunks[] = {"hello\n", "world\n", NULL};
	struct request	 req;

	open_fixture(0);
	ASSERT_INT(upload(&req, NULL, 12, chunks), ==, 201);
	upload_finish(&req);
	ASSERT_INT(on_job(&req, api_uploads_file_get, HTTP_GET, "1", NULL), ==,
	    200);
	ASSERT(req.resp.fd >= 0);
	ASSERT_INT(req.resp.fd_len, ==, 12);
	ASSERT_STR(req.resp.content_type, "application/octet-stream");
	ASSERT(strstr(header(&req, "Content-Disposition"),
	    "filename=\"notes.txt\"") != NULL);
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/jobs/{id}/file", NULL);
	req.path_id = "1";
	req.range = "bytes=6-";
	ASSERT_INT(run(&req, api_uploads_file_get), ==, 206);
	ASSERT_INT(req.resp.fd_offset, ==, 6);
	ASSERT_INT(req.resp.fd_len, ==, 6);
	ASSERT_STR(header(&req, "Content-Range"), "bytes 6-11/12");
	finish(&req);
	prep(&req, HTTP_GET, "/api/v1/jobs/{id}/file", NULL);
	req.path_id = "1";
	req.range = "bytes=12-";
	ASSERT_INT(run(&req, api_uploads_file_get), ==, 416);
	ASSERT_STR(header(&req, "Content-Range"), "bytes */12");
	finish(&req);
	/* A command job has no file. */
	ASSERT_INT(submit("{\"command\": \"x\"}"), ==, 201);
	ASSERT_INT(on_job(&req, api_uploads_file_get, HTTP_GET, "2", NULL), ==,
	    404);
	HAS(&req, "has no file");
	finish(&req);
}

TEST_MAIN_BEGIN
	RUN(a_submit_answers_201_with_its_location_after_the_commit);
	RUN(a_batch_answers_every_job);
	RUN(a_bad_spec_is_refused_naming_the_field_and_stores_nothing);
	RUN(an_unknown_dependency_is_422_and_stores_nothing);
	RUN(cancel_then_retry_then_delete_follow_the_job_states);
	RUN(an_idempotency_key_replays_its_jobs_and_refuses_another_body);
	RUN(max_queued_refuses_with_429_and_a_retry_after);
	RUN(a_queue_patch_answers_the_queue_as_set);
	RUN(an_upload_streams_through_its_sink_and_is_stored_with_its_job);
	RUN(an_upload_whose_checksum_differs_stores_nothing);
	RUN(an_upload_announced_over_the_limit_is_refused_before_its_body);
	RUN(the_list_filters_by_queue_and_state_and_pages_newest_first);
	RUN(a_job_get_answers_the_job_and_refuses_a_bad_wait);
	RUN(a_job_get_with_wait_answers_when_the_job_is_finished);
	RUN(output_answers_the_bytes_so_far_and_refuses_bad_parameters);
	RUN(stats_count_the_jobs_by_state);
	RUN(workers_health_and_metrics_show_the_pool);
	RUN(health_is_503_without_a_worker_up);
	RUN(a_session_trades_the_token_for_a_cookie_until_it_is_ended);
	RUN(events_stream_the_changes_of_jobs);
	RUN(a_file_get_sends_the_upload_whole_or_a_range);
TEST_MAIN_END
