/*
 * One libcurl easy handle for the whole run, so that a command making
 * several requests (submit, follow, wait) uses one keep-alive connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client.h"
#include "term.h"

#ifndef RUNNEL_VERSION
#define RUNNEL_VERSION "0"
#endif

int
client_init(struct client *c, const char *url, const char *token)
{
	char	*auth = NULL;
	size_t	 n;
	int	 rc = -ENOMEM;

	memset(c, 0, sizeof(*c));
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		cli_warnx("server URL %s: it must start with http:// or https://",
		    url);
		return -EINVAL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	if ((c->url = strdup(url)) == NULL)
		goto out;
	n = strlen(c->url);
	while (n > 0 && c->url[n - 1] == '/')
		c->url[--n] = '\0';
	c->headers = curl_slist_append(NULL, "User-Agent: runnel/" RUNNEL_VERSION);
	if (c->headers == NULL)
		goto out;
	if (token != NULL && *token != '\0') {
		if ((auth = malloc(strlen(token) + 32)) == NULL)
			goto out;
		sprintf(auth, "Authorization: Bearer %s", token);
		if (curl_slist_append(c->headers, auth) == NULL)
			goto out;
	}
	if ((c->curl = curl_easy_init()) == NULL)
		goto out;
	rc = 0;
out:
	if (auth != NULL) {
		/* the token leaves no copy behind in the heap */
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	if (rc < 0) {
		if (rc == -ENOMEM)
			cli_warnx("out of memory");
		client_close(c);
	}
	return rc;
}

void
client_close(struct client *c)
{
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->headers);
	free(c->url);
	memset(c, 0, sizeof(*c));
}

int
client_url(const struct client *c, const char *path, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", c->url, path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

void
client_setup(const struct client *c, CURL *h)
{
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	/* a dropped connection must show as an error, not as an answer */
	curl_easy_setopt(h, CURLOPT_IGNORE_CONTENT_LENGTH, 0L);
	if (getenv("RUNNEL_DEBUG_HTTP") != NULL)
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	size_t		 len = size * n;
	char		*p;

	if (r->len + len > CLIENT_MAX_REPLY)
		return 0;	/* ends the transfer with CURLE_WRITE_ERROR */
	if ((p = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	memcpy(p + r->len, data, len);
	r->body = p;
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

static size_t
on_header(char *line, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	size_t		 len = size * n;

	if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0)
		r->retry_after = strtol(line + 12, NULL, 10);
	return len;
}

int
client_call(struct client *c, const char *method, const char *path,
    const char *body, struct curl_slist *extra, struct reply *r)
{
	struct curl_slist	*hdrs = NULL, *s;
	char			 url[8192];
	char			*ctype = NULL;
	CURLcode		 cc;
	int			 rc = EXIT_UNREACHABLE;

	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
	if (client_url(c, path, url, sizeof(url)) < 0) {
		cli_warnx("request path too long");
		return EXIT_USAGE;
	}
	curl_easy_reset(c->curl);	/* keeps the live connection */
	client_setup(c, c->curl);
	for (s = c->headers; s != NULL; s = s->next)
		hdrs = curl_slist_append(hdrs, s->data);
	if (body != NULL)
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/json");
	for (s = extra; s != NULL; s = s->next)
		hdrs = curl_slist_append(hdrs, s->data);
	/* no "Expect: 100-continue" round trip for a JSON body */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->err);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(body));
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)0);
	}
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
	c->err[0] = '\0';
	cc = curl_easy_perform(c->curl);
	c->connected = cc != CURLE_COULDNT_CONNECT &&
	    cc != CURLE_COULDNT_RESOLVE_HOST && cc != CURLE_OPERATION_TIMEDOUT;
	if (cc != CURLE_OK) {
		if (cc == CURLE_WRITE_ERROR && r->len > 0)
			cli_warnx("%s %s: answer over %u MiB", method, path,
			    CLIENT_MAX_REPLY >> 20);
		else
			cli_warnx("cannot reach %s: %s", c->url,
			    c->err[0] ? c->err : curl_easy_strerror(cc));
		free(r->body);
		r->body = NULL;
		r->len = 0;
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ctype);
	if (ctype != NULL && strncmp(ctype, "application/json", 16) == 0 &&
	    r->body != NULL)
		r->json = cJSON_ParseWithLength(r->body, r->len);
	rc = 0;
out:
	curl_slist_free_all(hdrs);
	return rc;
}

void
client_pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);	/* a signal cuts it short: on purpose */
}

int
client_call_retry(struct client *c, const char *method, const char *path,
    const char *body, struct reply *r, int retry_s)
{
	struct timespec	 t0, t;
	long		 pause_ms = 100;
	int		 rc, noted = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = client_call(c, method, path, body, NULL, r);
		/* 503 from a server that is draining or has lost its store:
		 * it comes back like one that restarts */
		if (rc == 0 && r->status != 503)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (term_interrupted() || t.tv_sec - t0.tv_sec >= retry_s)
			return rc;
		if (rc == 0)
			reply_clear(r);
		if (!noted && term_is_tty(2)) {
			cli_warnx("waiting for the server to come back");
			noted = 1;
		}
		client_pause_ms(pause_ms);
		if (pause_ms < 2000)
			pause_ms *= 2;
	}
}

int
client_fail(const struct reply *r, const char *what)
{
	const cJSON	*err, *msg;

	err = cJSON_GetObjectItemCaseSensitive(r->json, "error");
	msg = cJSON_GetObjectItemCaseSensitive(err, "message");
	if (cJSON_IsString(msg))
		cli_warnx("%s: %s", what, msg->valuestring);
	else
		cli_warnx("%s: HTTP %ld", what, r->status);
	if (r->status == 401 || r->status == 403)
		return EXIT_AUTH;
	if (r->status == 404)
		return EXIT_NOT_FOUND;
	if (r->status >= 500)
		return EXIT_SERVER;
	return EXIT_REFUSED;
}

void
reply_clear(struct reply *r)
{
	cJSON_Delete(r->json);
	free(r->body);
	memset(r, 0, sizeof(*r));
}
