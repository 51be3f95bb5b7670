/*
 * Bearer-token authentication of /api/v1 and /metrics.  The token is
 * compared in constant time and never logged.
 */
#ifndef RUNNEL_AUTH_H
#define RUNNEL_AUTH_H

#include "request.h"

/* 1 if req may proceed; else fills a 401 reply and returns 0. */
int	auth_check(struct request *req);
/* Constant-time comparison of two strings; 1 if equal. */
int	auth_equal(const char *a, const char *b);

#endif
