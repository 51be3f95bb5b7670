/* The route table and its matcher. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "http/reply.h"
#include "http/route.h"
#include "http/static.h"

struct route {
	enum http_method	 method;
	const char		*pattern;
	api_handler		 fn;
	int			 streams;	/* called with the headers; body to a sink */
};

static const struct route routes[] = {
	{HTTP_GET,	"/api/v1/jobs",			api_jobs_list, 0},
	{HTTP_POST,	"/api/v1/jobs",			api_jobs_submit, 0},
	{HTTP_GET,	"/api/v1/jobs/{id}",		api_jobs_get, 0},
	{HTTP_DELETE,	"/api/v1/jobs/{id}",		api_jobs_delete, 0},
	{HTTP_POST,	"/api/v1/jobs/{id}/cancel",	api_jobs_cancel, 0},
	{HTTP_POST,	"/api/v1/jobs/{id}/retry",	api_jobs_retry, 0},
	{HTTP_GET,	"/api/v1/jobs/{id}/output",	api_output_get, 0},
	{HTTP_GET,	"/api/v1/jobs/{id}/file",	api_file_get, 0},
	{HTTP_POST,	"/api/v1/uploads",		api_uploads_post, 1},
	{HTTP_PUT,	"/api/v1/uploads",		api_uploads_post, 1},	/* curl -T */
	{HTTP_GET,	"/api/v1/workers",		api_workers_list, 0},
	{HTTP_GET,	"/api/v1/queues",		api_queues_list, 0},
	{HTTP_PATCH,	"/api/v1/queues/{name}",	api_queues_patch, 0},
	{HTTP_GET,	"/api/v1/stats",		api_stats_get, 0},
	{HTTP_GET,	"/api/v1/events",		api_events_get, 0},
	{HTTP_GET,	"/api/v1/session",		api_session_get, 0},
	{HTTP_POST,	"/api/v1/session",		api_session_create, 0},
	{HTTP_DELETE,	"/api/v1/session",		api_session_delete, 0},
	{HTTP_GET,	"/healthz",			api_health_get, 0},
	{HTTP_GET,	"/metrics",			api_metrics_get, 0},
	{HTTP_GET,	"*",				static_get, 0},	/* the rest */
};

static const char *method_names[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"
};

/* Matches path against pattern, capturing one {...} segment into req. */
static int
match(const char *pattern, const char *path, struct request *req,
    const char **capture, size_t *caplen)
{
	const char *p = pattern, *s = path;

	*capture = NULL;
	/* "*": any path outside the API (the dashboard's files). */
	if (strcmp(pattern, "*") == 0)
		return strncmp(path, "/api/", 5) != 0 &&
		    strcmp(path, "/api") != 0;
	while (*p && *s) {
		if (*p == '{') {
			const char *end = strchr(s, '/');
			size_t n = end ? (size_t)(end - s) : strlen(s);

			if (n == 0)
				return 0;
			*capture = s;
			*caplen = n;
			s += n;
			p = strchr(p, '}') + 1;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	(void)req;
	return *p == '\0' && *s == '\0';
}

api_handler
route_find(struct request *req, unsigned *allow, int *streams)
{
	enum http_method	 m = req->method == HTTP_HEAD ? HTTP_GET : req->method;
	api_handler		 found = NULL;
	const char		*cap;
	size_t			 caplen = 0;

	*allow = 0;
	*streams = 0;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const struct route *r = &routes[i];

		if (!match(r->pattern, req->path, req, &cap, &caplen))
			continue;
		*allow |= 1u << r->method;
		if (r->method == HTTP_GET)
			*allow |= 1u << HTTP_HEAD;
		if (r->method != m || found)
			continue;
		found = r->fn;
		*streams = r->streams;
		if (cap) {
			snprintf(req->path_param, sizeof(req->path_param), "%.*s",
			    (int)(caplen < sizeof(req->path_param) ? caplen :
			    sizeof(req->path_param) - 1), cap);
			if (strstr(r->pattern, "{id}"))
				req->path_id = req->path_param;
			else
				req->path_name = req->path_param;
		}
	}
	return found;
}

int
route_refuse(struct request *req, unsigned allow)
{
	char	 list[128] = "";
	size_t	 n = 0;

	if (allow == 0)
		return reply_fail(req, 404, "not_found", NULL, "no such route: "
		    "%.200s", req->path);
	for (int m = 0; m < HTTP_OTHER; m++)
		if (allow & (1u << m))
			n += snprintf(list + n, sizeof(list) - n, "%s%s",
			    n ? ", " : "", method_names[m]);
	reply_fail(req, 405, "method_not_allowed", NULL, "%s is not allowed "
	    "here; allowed: %s", req->method_name, list);
	response_header(&req->resp, "Allow", list);
	return API_DONE;
}
