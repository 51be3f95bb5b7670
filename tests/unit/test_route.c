/* The route table as the server serves it: which handler, captures, 404/405. */
#include "api/api.h"
#include "api/routes.h"
#include "http/reply.h"
#include "http/route.h"
#include "http/static.h"
#include "test.h"

static api_handler
find(struct request *req, enum http_method m, const char *path,
    unsigned *allow)
{
	int streams;

	memset(req, 0, sizeof(*req));
	req->resp.fd = -1;
	req->method = m;
	req->method_name = m == HTTP_GET ? "GET" : m == HTTP_POST ? "POST" :
	    m == HTTP_PUT ? "PUT" : m == HTTP_DELETE ? "DELETE" :
	    m == HTTP_PATCH ? "PATCH" : m == HTTP_HEAD ? "HEAD" : "OPTIONS";
	req->path = path;
	return route_find(api_routes, api_nroutes, req, allow, &streams);
}

static const char *
header(const struct response *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

TEST(each_api_path_and_method_reaches_its_handler)
{
	struct request	 req;
	unsigned	 allow;

	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs", &allow) == api_jobs_list);
	ASSERT(find(&req, HTTP_POST, "/api/v1/jobs", &allow) == api_jobs_submit);
	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs/42", &allow) == api_jobs_get);
	ASSERT(find(&req, HTTP_DELETE, "/api/v1/jobs/42", &allow) ==
	    api_jobs_delete);
	ASSERT(find(&req, HTTP_POST, "/api/v1/jobs/7/cancel", &allow) ==
	    api_jobs_cancel);
	ASSERT(find(&req, HTTP_POST, "/api/v1/jobs/7/retry", &allow) ==
	    api_jobs_retry);
	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs/7/output", &allow) ==
	    api_output_get);
	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs/7/file", &allow) ==
	    api_uploads_file_get);
	ASSERT(find(&req, HTTP_PUT, "/api/v1/uploads", &allow) ==
	    api_uploads_post);
	ASSERT(find(&req, HTTP_PATCH, "/api/v1/queues/ops", &allow) ==
	    api_queues_patch);
	ASSERT(find(&req, HTTP_GET, "/healthz", &allow) == api_health_get);
	ASSERT(find(&req, HTTP_GET, "/metrics", &allow) == api_metrics_get);
	ASSERT(find(&req, HTTP_GET, "/api/v1/events", &allow) == api_events_get);
}

TEST(captures_fill_the_id_or_the_name)
{
	struct request	 req;
	unsigned	 allow;

	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs/123456", &allow) != NULL);
	ASSERT_STR(req.path_id, "123456");
	ASSERT(req.path_name == NULL);
	ASSERT(find(&req, HTTP_PATCH, "/api/v1/queues/night.ly", &allow) != NULL);
	ASSERT_STR(req.path_name, "night.ly");
	ASSERT(req.path_id == NULL);
	/* An empty segment is no id. */
	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs//output", &allow) == NULL);
}

TEST(uploads_stream_their_body_and_nothing_else_does)
{
	struct request	 req;
	unsigned	 allow;
	int		 streams;

	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.path = "/api/v1/uploads";
	ASSERT(route_find(api_routes, api_nroutes, &req, &allow, &streams) ==
	    api_uploads_post);
	ASSERT_INT(streams, ==, 1);
	req.path = "/api/v1/jobs";
	ASSERT(route_find(api_routes, api_nroutes, &req, &allow, &streams) ==
	    api_jobs_submit);
	ASSERT_INT(streams, ==, 0);
}

TEST(head_is_served_as_get)
{
	struct request	 req;
	unsigned	 allow;

	ASSERT(find(&req, HTTP_HEAD, "/api/v1/jobs/3", &allow) == api_jobs_get);
	ASSERT(allow & (1u << HTTP_HEAD));
}

TEST(a_known_path_with_a_wrong_method_is_405_with_allow)
{
	struct request	 req;
	unsigned	 allow;

	ASSERT(find(&req, HTTP_PUT, "/api/v1/jobs/3", &allow) == NULL);
	ASSERT_INT(allow, ==, (1u << HTTP_GET) | (1u << HTTP_HEAD) |
	    (1u << HTTP_DELETE));
	ASSERT_INT(route_refuse(&req, allow), ==, API_DONE);
	ASSERT_INT(req.resp.status, ==, 405);
	ASSERT_STR(header(&req.resp, "Allow"), "GET, HEAD, DELETE");
	ASSERT(strstr(req.resp.body, "\"method_not_allowed\"") != NULL);
	response_clear(&req.resp);
}

TEST(an_unknown_api_path_is_404_and_never_the_dashboard)
{
	struct request	 req;
	unsigned	 allow;

	ASSERT(find(&req, HTTP_GET, "/api/v1/nothing", &allow) == NULL);
	ASSERT_INT(allow, ==, 0);
	ASSERT(find(&req, HTTP_GET, "/api", &allow) == NULL);
	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs/3/cancel", &allow) == NULL);
	ASSERT_INT(allow, ==, 1u << HTTP_POST);
	ASSERT(find(&req, HTTP_GET, "/api/v1/nothing", &allow) == NULL);
	ASSERT_INT(route_refuse(&req, allow), ==, API_DONE);
	ASSERT_INT(req.resp.status, ==, 404);
	ASSERT(strstr(req.resp.body, "\"not_found\"") != NULL);
	response_clear(&req.resp);
	/* Everything else is the dashboard's. */
	ASSERT(find(&req, HTTP_GET, "/", &allow) == static_get);
	ASSERT(find(&req, HTTP_GET, "/app.js", &allow) == static_get);
	ASSERT(find(&req, HTTP_GET, "/apix", &allow) == static_get);
}

TEST(bulk_is_its_own_route_before_the_job_ids)
{
	struct request	 req;
	unsigned	 allow;

	ASSERT(find(&req, HTTP_POST, "/api/v1/jobs/bulk", &allow) ==
	    api_jobs_bulk);
	ASSERT(find(&req, HTTP_POST, "/api/v1/jobs/7/cancel", &allow) ==
	    api_jobs_cancel);
}

TEST(a_parameter_the_route_does_not_take_is_refused_by_name)
{
	struct request		 req;
	unsigned		 allow;
	const struct route	*r;

	ASSERT(find(&req, HTTP_GET, "/api/v1/jobs/3", &allow) == api_jobs_get);
	r = route_found(api_routes, api_nroutes, &req);
	ASSERT(r != NULL);
	req.query[0] = (struct param){"wait", "1"};
	req.nquery = 1;
	ASSERT_INT(route_params_check(r, &req), ==, 0);
	req.query[1] = (struct param){"wiat", "1"};
	req.nquery = 2;
	ASSERT_INT(route_params_check(r, &req), ==, -1);
	ASSERT_INT(req.resp.status, ==, 400);
	ASSERT(strstr(req.resp.body, "\"unknown_parameter\"") != NULL);
	ASSERT(strstr(req.resp.body, "\"field\":\"wiat\"") != NULL);
	response_clear(&req.resp);
	/* The dashboard's files take any. */
	ASSERT(find(&req, HTTP_GET, "/app.js", &allow) == static_get);
	r = route_found(api_routes, api_nroutes, &req);
	req.query[0] = (struct param){"v", "123"};
	req.nquery = 1;
	ASSERT_INT(route_params_check(r, &req), ==, 0);
}

TEST_MAIN_BEGIN
	RUN(each_api_path_and_method_reaches_its_handler);
	RUN(bulk_is_its_own_route_before_the_job_ids);
	RUN(a_parameter_the_route_does_not_take_is_refused_by_name);
	RUN(captures_fill_the_id_or_the_name);
	RUN(uploads_stream_their_body_and_nothing_else_does);
	RUN(head_is_served_as_get);
	RUN(a_known_path_with_a_wrong_method_is_405_with_allow);
	RUN(an_unknown_api_path_is_404_and_never_the_dashboard);
TEST_MAIN_END
