/*
 * Bearer-token authentication of /api/v1 and /metrics.  The token is
 * compared in constant time and never logged.
 */
#ifndef RUNNEL_AUTH_H
#define RUNNEL_AUTH_H

#include <stddef.h>

#include "http/request.h"

/* 1 if req may proceed; else fills a 401 reply and returns 0. */
int	auth_check(struct request *req);
/* 1 if req carries the token or a live session (or none is needed). */
int	auth_ok(struct request *req);
/* Constant-time comparison of two strings; 1 if equal. */
int	auth_equal(const char *a, const char *b);
/* A new session: writes its Set-Cookie value to cookie.  0 or -1. */
int	auth_session_new(char *cookie, size_t size);
/* Ends the session named in a Cookie header; writes a clearing Set-Cookie. */
void	auth_session_end(const char *cookie_header, char *cookie, size_t size);

#endif
