/* The route matcher: a request against a table of routes (api/routes.c). */
#include <stdio.h>
#include <string.h>

#include "http/reply.h"
#include "http/route.h"

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

/* The first route of the method matching req's path, captures set. */
static const struct route *
lookup(const struct route *routes, size_t n, struct request *req,
    unsigned *allow)
{
	enum http_method	 m = req->method == HTTP_HEAD ? HTTP_GET : req->method;
	const struct route	*found = NULL;
	const char		*cap;
	size_t			 caplen = 0;

	*allow = 0;
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &routes[i];

		if (!match(r->pattern, req->path, req, &cap, &caplen))
			continue;
		*allow |= 1u << r->method;
		if (r->method == HTTP_GET)
			*allow |= 1u << HTTP_HEAD;
		if (r->method != m || found)
			continue;
		found = r;
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

api_handler
route_find(const struct route *routes, size_t n, struct request *req,
    unsigned *allow, int *streams)
{
	const struct route *r = lookup(routes, n, req, allow);

	*streams = r ? r->streams : 0;
	return r ? r->fn : NULL;
}

const struct route *
route_found(const struct route *routes, size_t n, struct request *req)
{
	unsigned allow;

	return lookup(routes, n, req, &allow);
}

/* Whether key is one of the space-separated words of list. */
static int
listed(const char *list, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = list; *p; ) {
		size_t w = strcspn(p, " ");

		if (w == n && strncmp(p, key, n) == 0)
			return 1;
		p += w;
		p += strspn(p, " ");
	}
	return 0;
}

int
route_params_check(const struct route *r, struct request *req)
{
	if (r == NULL || r->params == NULL)
		return 0;
	for (int i = 0; i < req->nquery; i++) {
		const char *k = req->query[i].key;

		if (listed(r->params, k))
			continue;
		if (r->params[0] == '\0')
			reply_fail(req, 400, "unknown_parameter", k, "unknown "
			    "query parameter \"%.64s\": %s takes none", k,
			    r->pattern);
		else
			reply_fail(req, 400, "unknown_parameter", k, "unknown "
			    "query parameter \"%.64s\"; %s takes: %s", k,
			    r->pattern, r->params);
		return -1;
	}
	return 0;
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
