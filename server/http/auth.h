/*
 * Bearer-token authentication of /api/v1 and /metrics.  The token is
 * compared in constant time and never logged.
 */
#ifndef RUNNEL_AUTH_H
#define RUNNEL_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http/request.h"

#define AUTH_SESSIONS	64

/*
 * The dashboard's sessions, kept only in memory: part of the http wing's
 * state (struct http, http_int.h), never at file scope.
 */
struct auth_sessions {
	struct {
		char	 id[65];	/* hex of 32 random bytes; "" = free */
		int64_t	 seen_ms;
	} slot[AUTH_SESSIONS];
};

/* 1 if req may proceed; else fills a 401 reply and returns 0. */
int	auth_check(struct request *req);
/* 1 if req carries the token or a live session (or none is needed). */
int	auth_ok(struct request *req);
/* Constant-time comparison of two strings; 1 if equal. */
int	auth_equal(const char *a, const char *b);
/*
 * A new session in req's server: writes its Set-Cookie value to cookie.
 * 0, or -1 (no randomness, or no http state to keep it in).
 */
int	auth_session_new(struct request *req, char *cookie, size_t size);
/*
 * Ends the session named in req's Cookie header, if any; writes a
 * clearing Set-Cookie value to cookie.
 */
void	auth_session_end(struct request *req, char *cookie, size_t size);

#endif
