/*
 * JSON replies: success bodies and the error body of API.md,
 * {"error": {"code", "message", "field"}}, with the one mapping from
 * internal error codes to HTTP statuses.
 */
#ifndef RUNNEL_REPLY_H
#define RUNNEL_REPLY_H

#include <cjson/cJSON.h>

#include "http/request.h"

#define REPLY_FIELD_MAX		96
#define REPLY_MESSAGE_MAX	256
/* Seconds a client waits before it tries again while the database is away. */
#define REPLY_DB_RETRY_AFTER	"1"

/* A refusal, built where the problem is found and rendered once. */
struct api_error {
	int		 status;
	const char	*code;
	char		 field[REPLY_FIELD_MAX];	/* "" when no one field is at fault */
	char		 message[REPLY_MESSAGE_MAX];
};

/* Fills *e; field may be NULL.  Returns -EINVAL for use in `return`. */
int	reply_error_set(struct api_error *e, int status, const char *code,
	    const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/* Renders e as the response.  Returns API_DONE. */
int	reply_error(struct request *, const struct api_error *e);
/* Shorthand for reply_error_set + reply_error. */
int	reply_fail(struct request *, int status, const char *code,
	    const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/*
 * Maps an internal negative errno code to its reply: -ENOENT 404,
 * -ENOSPC/-EIO 503 storage, -ENOTCONN 503 database_unavailable (with
 * Retry-After), -ESHUTDOWN 503, -ENOMEM 500, ...
 */
int	reply_errno(struct request *, int rc);
/* Renders and frees json (one root) as a JSON response.  Returns API_DONE. */
int	reply_json(struct request *, int status, cJSON *json);
struct jsonw;
/* Sends the text in w (taken) as a JSON response.  Returns API_DONE. */
int	reply_jw(struct request *, int status, struct jsonw *w);

#endif
