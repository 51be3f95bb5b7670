/*
 * Job specs: the JSON a client submits, checked field by field into a
 * struct job ready for the store.  Nothing here touches the store or
 * the loop, so the fuzz target fuzz_job_json drives it directly.
 */
#ifndef RUNNEL_SPEC_H
#define RUNNEL_SPEC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "http/reply.h"
#include "http/request.h"
#include "store/job.h"

#define SPEC_BATCH_MAX	10000

/*
 * Checks that text is strict JSON in valid UTF-8 (400 invalid_json) and
 * that no string holds a \u0000 (a NUL would silently cut a C string:
 * 400 invalid_field naming the field).  Returns 0 or -EINVAL with *e filled.
 */
int	spec_check_text(const char *text, size_t len, struct api_error *e);

/*
 * Parses a request body holding one spec (object) or a batch (array of
 * at most SPEC_BATCH_MAX objects) into *jobs (n entries, caller frees
 * with job_free_all).  *batch says which form it was.  Returns 0 or
 * -EINVAL with *e filled: a batch is refused whole.
 */
int	spec_parse_body(const char *body, size_t len, struct job **jobs,
	    size_t *n, int *batch, struct api_error *e);

/*
 * Checks one spec object into *j (initialised by the caller).  where
 * prefixes field names in errors ("[3]." for batch items, "" alone).
 * Returns 0 or -EINVAL with *e filled.
 */
int	spec_parse(const cJSON *spec, const char *where, struct job *j,
	    struct api_error *e);

/*
 * The spec of an upload job, from the JSON text of a multipart `job`
 * part (NULL: none): command and argv are optional, stdin is refused
 * (the file is the job's stdin).  Returns 0 or -EINVAL with *e filled.
 */
int	spec_parse_upload(const char *text, size_t len, struct job *j,
	    struct api_error *e);
/*
 * The spec of a raw upload from its query parameters (those named in
 * skip, a NULL-ended list, are not spec fields).  Numbers are numbers
 * where the field wants one.  Returns 0 or -EINVAL with *e filled.
 */
int	spec_from_query(const struct param *q, int n, const char *const *skip,
	    struct job *j, struct api_error *e);

/*
 * Adds the server's default limits (dflt, LIMIT_COUNT values, <= 0: none)
 * that j's spec did not set.  0 or -ENOMEM.
 */
int	spec_default_limits(const int64_t *dflt, struct job *j);

/* What a queue name and an env name are made of, in words for errors. */
#define SPEC_QUEUE_RULE	"1 to 64 characters: letters, digits, '_', '.' or '-'"
#define SPEC_ENV_RULE	"a letter or '_', then letters, digits or '_'"

/* 1 if s is a valid queue name: [A-Za-z0-9_.-]{1,64}. */
int	spec_queue_valid(const char *s);
/*
 * A "webhooks" value (an array of {"url", "on"}, or null) checked into
 * *json (the caller frees; NULL for null or []).  0 or -EINVAL with *e.
 */
int	spec_webhooks(const cJSON *v, char **json, struct api_error *e);

#endif
