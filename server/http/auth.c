/*
 * Bearer tokens: which paths need one, and the constant-time check.
 * A browser's EventSource cannot send an Authorization header, so the
 * dashboard trades the token for a session cookie (POST /api/v1/session):
 * random, HttpOnly, SameSite=Strict, kept only in memory, valid for
 * SESSION_TTL_MS of disuse.  The token itself never travels in a URL,
 * so it never reaches a log.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "http/auth.h"
#include "http/http_int.h"
#include "http/reply.h"
#include "server.h"

#define SESSION_TTL_MS	(12LL * 3600 * 1000)
#define COOKIE		"runnel_session"

/* The server's sessions; NULL before http_start (a handler under test). */
static struct auth_sessions *
sessions_of(const struct request *req)
{
	return req->srv->http ? &req->srv->http->sessions : NULL;
}

int
auth_equal(const char *a, const char *b)
{
	size_t		 la = strlen(a), lb = strlen(b);
	unsigned char	 diff = la != lb;

	/* Walk the expected token whole, whatever the guess looks like. */
	for (size_t i = 0; i < lb; i++)
		diff |= (unsigned char)b[i] ^ (unsigned char)(i < la ? a[i] : 0);
	return diff == 0;
}

static int
needs_token(const struct request *req)
{
	const char *path = req->path;

	/* Asking whether one is signed in needs no token (api_session.c). */
	if ((req->method == HTTP_GET || req->method == HTTP_HEAD) &&
	    strcmp(path, "/api/v1/session") == 0)
		return 0;
	return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/metrics") == 0;
}

/* The value of our cookie in a Cookie header, copied to out. */
static int
cookie_value(const char *header, char *out, size_t size)
{
	const char *p = header;

	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, COOKIE "=", sizeof(COOKIE)) == 0) {
			size_t n;

			p += sizeof(COOKIE);
			n = strcspn(p, "; ");
			if (n >= size)
				return -1;
			memcpy(out, p, n);
			out[n] = '\0';
			return 0;
		}
		p = strchr(p, ';');
	}
	return -1;
}

static int
session_valid(struct auth_sessions *ss, const char *cookie_header)
{
	int64_t	 now = clock_now_ms();
	char	 id[65];
	int	 ok = 0;

	if (ss == NULL || cookie_header == NULL ||
	    cookie_value(cookie_header, id, sizeof(id)) < 0)
		return 0;
	for (int i = 0; i < AUTH_SESSIONS; i++) {
		if (ss->slot[i].id[0] == '\0')
			continue;
		if (now - ss->slot[i].seen_ms > SESSION_TTL_MS) {
			ss->slot[i].id[0] = '\0';
			continue;
		}
		if (auth_equal(id, ss->slot[i].id)) {
			ss->slot[i].seen_ms = now;
			ok = 1;
		}
	}
	return ok;
}

int
auth_ok(struct request *req)
{
	const char	*token = req->srv->cfg->token;
	const char	*h = req->authorization;

	if (token == NULL)
		return 1;
	if (h == NULL)
		return session_valid(sessions_of(req), req->cookie);
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	for (h += 7; *h == ' '; h++)
		;
	return auth_equal(h, token);
}

int
auth_session_new(struct request *req, char *cookie, size_t size)
{
	struct auth_sessions	*ss = sessions_of(req);
	unsigned char		 raw[32];
	int			 slot = 0;

	if (ss == NULL || getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -1;
	/* A free slot, or the one unused the longest. */
	for (int i = 0; i < AUTH_SESSIONS; i++) {
		if (ss->slot[i].id[0] == '\0') {
			slot = i;
			break;
		}
		if (ss->slot[i].seen_ms < ss->slot[slot].seen_ms)
			slot = i;
	}
	for (int i = 0; i < 32; i++)
		snprintf(ss->slot[slot].id + 2 * i, 3, "%02x", raw[i]);
	ss->slot[slot].seen_ms = clock_now_ms();
	snprintf(cookie, size, COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=%lld", ss->slot[slot].id, SESSION_TTL_MS / 1000);
	return 0;
}

void
auth_session_end(struct request *req, char *cookie, size_t size)
{
	struct auth_sessions	*ss = sessions_of(req);
	char			 id[65];

	if (ss && req->cookie && cookie_value(req->cookie, id, sizeof(id)) == 0)
		for (int i = 0; i < AUTH_SESSIONS; i++)
			if (ss->slot[i].id[0] && auth_equal(id, ss->slot[i].id))
				ss->slot[i].id[0] = '\0';
	snprintf(cookie, size, COOKIE "=; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=0");
}

int
auth_check(struct request *req)
{
	const char	*h = req->authorization;

	if (!needs_token(req) || auth_ok(req))
		return 1;
	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		reply_fail(req, 401, "unauthorized", NULL, "wrong token");
	else
		reply_fail(req, 401, "unauthorized", NULL,
		    "this runneld needs Authorization: Bearer <token>");
	response_header(&req->resp, "WWW-Authenticate", "Bearer realm=\"runnel\"");
	return 0;
}
