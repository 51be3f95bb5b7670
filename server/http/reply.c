/*
 * JSON success and error replies; the errno -> HTTP status mapping.
 * Every JSON body ends with a newline (so `curl -s` leaves the prompt on
 * a line of its own), added here and nowhere else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/jsonw.h"
#include "http/reply.h"

#define JSON_TYPE	"application/json; charset=utf-8"

int
reply_error_set(struct api_error *e, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
reply_oom(struct request *req)
{
	static const char text[] = "{\"error\":{\"code\":\"internal\","
	    "\"message\":\"out of memory\"}}\n";
	char *copy = strdup(text);

	response_body(&req->resp, 500, JSON_TYPE, copy, copy ? strlen(copy) : 0);
	return API_DONE;
}

int
reply_json(struct request *req, int status, cJSON *json)
{
	char	*text, *nl;
	size_t	 len;

	if (json == NULL || (text = cJSON_PrintUnformatted(json)) == NULL) {
		cJSON_Delete(json);
		return reply_oom(req);
	}
	cJSON_Delete(json);
	len = strlen(text);
	if ((nl = realloc(text, len + 2)) == NULL) {
		free(text);
		return reply_oom(req);
	}
	nl[len++] = '\n';
	nl[len] = '\0';
	response_body(&req->resp, status, JSON_TYPE, nl, len);
	return API_DONE;
}

int
reply_jw(struct request *req, int status, struct jsonw *w)
{
	size_t	 len;
	char	*text;

	jsonw_lit(w, "\n");
	text = jsonw_take(w, &len);

	if (text == NULL)
		return reply_oom(req);
	response_body(&req->resp, status, JSON_TYPE, text, len);
	return API_DONE;
}

/* Messages echo what a client sent: the writer keeps them valid UTF-8. */
int
reply_error(struct request *req, const struct api_error *e)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"error\":{\"code\":");
	jsonw_str(&w, e->code);
	jsonw_lit(&w, ",\"message\":");
	jsonw_str(&w, e->message);
	if (e->field[0]) {
		jsonw_lit(&w, ",\"field\":");
		jsonw_str(&w, e->field);
	}
	jsonw_lit(&w, "}}");
	return reply_jw(req, e->status, &w);
}

int
reply_fail(struct request *req, int status, const char *code,
    const char *field, const char *fmt, ...)
{
	struct api_error	 e;
	va_list			 ap;

	e.status = status;
	e.code = code;
	snprintf(e.field, sizeof(e.field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	return reply_error(req, &e);
}

int
reply_errno(struct request *req, int rc)
{
	switch (rc) {
	case -ENOENT:
		return reply_fail(req, 404, "not_found", NULL, "no such job");
	case -EBUSY:
		return reply_fail(req, 409, "conflict", NULL,
		    "the action does not fit the job's state");
	case -ESHUTDOWN:
		return reply_fail(req, 503, "unavailable", NULL,
		    "runneld is shutting down");
	case -ENOSPC:
		return reply_fail(req, 503, "storage_full", NULL,
		    "the disk of runneld's data directory is full: nothing was "
		    "stored");
	case -EIO:
		return reply_fail(req, 503, "unavailable", NULL,
		    "storage is unavailable: nothing was stored");
	case -ENOTCONN:
		reply_fail(req, 503, "database_unavailable", NULL,
		    "the database (PostgreSQL) cannot be reached: nothing was "
		    "done; try again shortly");
		response_header(&req->resp, "Retry-After", REPLY_DB_RETRY_AFTER);
		return API_DONE;
	case -ENOMEM:
		return reply_fail(req, 500, "internal", NULL, "out of memory");
	default:
		return reply_fail(req, 500, "internal", NULL,
		    "internal error (%s)", strerror(-rc));
	}
}
