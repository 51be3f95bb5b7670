/*
 * The cross-site rules.  Origins are compared as scheme-less
 * "host[:port]" with the scheme's default port dropped, case-insensitive:
 * behind a TLS proxy that keeps the Host header, https://name is
 * runneld's own origin too.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http/origin.h"
#include "http/reply.h"
#include "http/request.h"
#include "server.h"

#define HOSTPORT_MAX	300

/*
 * Splits an origin ("https://Name:443") into its scheme's default port
 * and a lower-case "name" or "name:port" without that default.  -1 if it
 * is not an http(s) origin.
 */
static int
origin_hostport(const char *origin, char *out, size_t size, int *https)
{
	const char	*p;
	size_t		 n;

	if (strncasecmp(origin, "http://", 7) == 0) {
		*https = 0;
		p = origin + 7;
	} else if (strncasecmp(origin, "https://", 8) == 0) {
		*https = 1;
		p = origin + 8;
	} else {
		return -1;
	}
	n = strlen(p);
	if (n == 0 || n >= size || strchr(p, '/') != NULL)
		return -1;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
	/* the default port is no part of an origin */
	if (n > 3 && strcmp(out + n - 3, ":80") == 0 && !*https)
		out[n - 3] = '\0';
	else if (n > 4 && strcmp(out + n - 4, ":443") == 0 && *https)
		out[n - 4] = '\0';
	return 0;
}

/* The Host header the same way, the default port of scheme dropped. */
static void
host_norm(const char *host, int https, char *out, size_t size)
{
	size_t n;

	snprintf(out, size, "%s", host ? host : "");
	for (char *q = out; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	n = strlen(out);
	if (!https && n > 3 && strcmp(out + n - 3, ":80") == 0)
		out[n - 3] = '\0';
	if (https && n > 4 && strcmp(out + n - 4, ":443") == 0)
		out[n - 4] = '\0';
}

static int
allowed(const struct config *cfg, const char *origin)
{
	char	 a[HOSTPORT_MAX], b[HOSTPORT_MAX];
	int	 ha, hb;

	if (origin_hostport(origin, a, sizeof(a), &ha) < 0)
		return 0;
	for (char **o = cfg->allow_origins; o && *o; o++)
		if (origin_hostport(*o, b, sizeof(b), &hb) == 0 && ha == hb &&
		    strcmp(a, b) == 0)
			return 1;
	return 0;
}

/* 1 if origin is the origin of the server the request was sent to. */
static int
same_origin(const struct request *req, const char *origin)
{
	char	 o[HOSTPORT_MAX], h[HOSTPORT_MAX];
	int	 https;

	if (req->host == NULL ||
	    origin_hostport(origin, o, sizeof(o), &https) < 0)
		return 0;
	host_norm(req->host, https, h, sizeof(h));
	return strcmp(o, h) == 0;
}

/* The name part of a Host header value, lower-cased, into out. */
static void
host_name(const char *host, char *out, size_t size)
{
	size_t n;

	if (host[0] == '[') {
		n = strcspn(host + 1, "]");
		snprintf(out, size, "%.*s", (int)n, host + 1);
	} else {
		n = strcspn(host, ":");
		snprintf(out, size, "%.*s", (int)n, host);
	}
	for (char *q = out; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
}

/*
 * Without a token, on loopback, runneld is reached by loopback names
 * only: anything else is a DNS name that a page made point at us.
 */
static int
host_refused(struct request *req)
{
	const struct config	*cfg = req->srv->cfg;
	char			 name[HOSTPORT_MAX];
	size_t			 n;

	if (cfg->token != NULL || !config_host_loopback(cfg->listen_host) ||
	    req->host == NULL)
		return 0;
	host_name(req->host, name, sizeof(name));
	n = strlen(name);
	if (config_host_loopback(name) ||
	    (n > 10 && strcmp(name + n - 10, ".localhost") == 0))
		return 0;
	for (char **o = cfg->allow_origins; o && *o; o++) {
		char	 hp[HOSTPORT_MAX], allowed_name[HOSTPORT_MAX];
		int	 https;

		if (origin_hostport(*o, hp, sizeof(hp), &https) < 0)
			continue;
		host_name(hp, allowed_name, sizeof(allowed_name));
		if (strcmp(allowed_name, name) == 0)
			return 0;
	}
	reply_fail(req, 403, "forbidden", NULL, "runneld without a token answers "
	    "to loopback names only, not to \"%.100s\" (a DNS name pointed at it "
	    "by a web page?); use 127.0.0.1 or localhost, or --allow-origin",
	    req->host);
	return 1;
}

static int
changes_things(const struct request *req)
{
	return req->method != HTTP_GET && req->method != HTTP_HEAD &&
	    req->method != HTTP_OPTIONS;
}

int
origin_check(struct request *req)
{
	const char	*origin = req->origin, *site = req->sec_fetch_site;
	int		 cross;

	if (host_refused(req))
		return -1;
	if (!changes_things(req))
		return 0;
	if (origin && allowed(req->srv->cfg, origin))
		return 0;
	cross = site && (strcasecmp(site, "cross-site") == 0 ||
	    strcasecmp(site, "same-site") == 0);
	if (!cross && (origin == NULL || same_origin(req, origin)))
		return 0;
	reply_fail(req, 403, "cross_origin", NULL, "%s from %.100s is refused: "
	    "a page of another site may not change things here (runneld "
	    "--allow-origin lets an origin in)", req->method_name,
	    origin ? origin : "another site");
	return -1;
}

int
origin_preflight(struct request *req)
{
	if (req->method != HTTP_OPTIONS || req->origin == NULL ||
	    req->cors_method == NULL)
		return 0;
	if (host_refused(req))
		return 1;
	if (!allowed(req->srv->cfg, req->origin)) {
		reply_fail(req, 403, "cross_origin", NULL, "requests from %.100s "
		    "are not allowed (runneld --allow-origin lets an origin in)",
		    req->origin);
		return 1;
	}
	response_body(&req->resp, 204, NULL, NULL, 0);
	origin_cors(req);
	response_header(&req->resp, "Access-Control-Allow-Methods",
	    "GET, HEAD, POST, PUT, PATCH, DELETE");
	response_header(&req->resp, "Access-Control-Allow-Headers",
	    "Authorization, Content-Type, Idempotency-Key, Range");
	response_header(&req->resp, "Access-Control-Max-Age", "600");
	return 1;
}

void
origin_cors(struct request *req)
{
	if (req->origin == NULL || !allowed(req->srv->cfg, req->origin))
		return;
	response_header(&req->resp, "Access-Control-Allow-Origin", req->origin);
	response_header(&req->resp, "Vary", "Origin");
}
