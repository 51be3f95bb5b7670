/*
 * The API handlers driven without sockets: a request is filled in by
 * hand, the handler runs on a real core and store in a temp directory,
 * and the loop turns until the request is completed.  No workers: jobs
 * stay queued, which is what these cases look at.
 */
#include <uv.h>

#include "api/api.h"
#include "config.h"
#include "core/core.h"
#include "core/counts.h"
#include "core/events.h"
#include "http/request.h"
#include "log.h"
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
TEST_MAIN_END
