/* The jobs' filters, for the listing and the bulk actions (api/filter.h). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/filter.h"
#include "api/spec.h"
#include "clock.h"

void
filter_init(struct api_filter *af, int64_t window)
{
	memset(af, 0, sizeof(*af));
	af->f.limit = 50;
	af->f.window = window;
}

/* A comma list of names into a bit set; -1 if one is unknown. */
static int
name_bits(const char *v, int (*parse)(const char *), uint32_t *bits)
{
	char	 buf[256], *tok, *save = NULL;

	*bits = 0;
	if (strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	for (tok = strtok_r(buf, ",", &save); tok;
	    tok = strtok_r(NULL, ",", &save)) {
		int i = parse(tok);

		if (i < 0)
			return -1;
		*bits |= 1u << i;
	}
	return *bits ? 0 : -1;
}

static int
integer(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	uint64_t	 u;
	const char	*p = v;

	if (api_digits(&p, &u) < 0 || *p != '\0' || u > (uint64_t)hi ||
	    (int64_t)u < lo)
		return -1;
	*out = (int64_t)u;
	return 0;
}

static const struct {
	const char	*key;
	unsigned	 bit;
	size_t		 off;
} times[] = {
	{"created_after", FILTER_CREATED_AFTER,
	    offsetof(struct job_filter, created_after_ms)},
	{"created_before", FILTER_CREATED_BEFORE,
	    offsetof(struct job_filter, created_before_ms)},
	{"finished_after", FILTER_FINISHED_AFTER,
	    offsetof(struct job_filter, finished_after_ms)},
	{"finished_before", FILTER_FINISHED_BEFORE,
	    offsetof(struct job_filter, finished_before_ms)},
};

/* q: a substring; a whole number (maybe after '#') is an id as well. */
static int
set_q(struct api_filter *af, const char *v, struct api_error *e)
{
	const char	*p = v + (*v == '#');
	uint64_t	 id;

	if (strlen(v) > 200)
		return reply_error_set(e, 400, "invalid_field", "q", "q is "
		    "longer than 200 bytes");
	if (*v == '\0')
		return 1;	/* an empty search box: no filter */
	snprintf(af->q, sizeof(af->q), "%s", v);
	af->f.q = af->q;
	if (api_digits(&p, &id) == 0 && *p == '\0' && id > 0 &&
	    id <= (uint64_t)INT64_MAX)
		af->f.q_id = id;
	return 1;
}

int
filter_set(struct api_filter *af, const char *key, const char *v,
    struct api_error *e)
{
	struct job_filter	*f = &af->f;
	int64_t			 n;

	if (strcmp(key, "state") == 0 || strcmp(key, "type") == 0) {
		int st = key[0] == 's';

		if (name_bits(v, st ? job_state_parse : job_type_parse,
		    st ? &f->states : &f->types) < 0)
			return reply_error_set(e, 400, "invalid_field", key,
			    "%s: unknown value in \"%.100s\"", key, v);
		return 1;
	}
	if (strcmp(key, "queue") == 0) {
		if (!spec_queue_valid(v))
			return reply_error_set(e, 400, "invalid_field", key,
			    "queue must be " SPEC_QUEUE_RULE);
		snprintf(af->queue, sizeof(af->queue), "%s", v);
		f->queue = af->queue;
		return 1;
	}
	if (strcmp(key, "schedule") == 0) {
		if (integer(v, 1, INT64_MAX, &n) < 0)
			return reply_error_set(e, 400, "invalid_field", key,
			    "schedule must be an integer in 1 ... %lld",
			    (long long)INT64_MAX);
		f->schedule = (uint64_t)n;
		return 1;
	}
	if (strcmp(key, "q") == 0)
		return set_q(af, v, e);
	if (strcmp(key, "name") == 0) {
		if (strlen(v) > JOB_NAME_MAX)
			return reply_error_set(e, 400, "invalid_field", key,
			    "name is longer than %d bytes", JOB_NAME_MAX);
		snprintf(af->name, sizeof(af->name), "%s", v);
		f->name = af->name;
		return 1;
	}
	if (strcmp(key, "exit_code") == 0) {
		if (integer(v, 0, 255, &n) < 0)
			return reply_error_set(e, 400, "invalid_field", key,
			    "exit_code must be an integer in 0 ... 255");
		f->exit_code = (int)n;
		f->has |= FILTER_EXIT_CODE;
		return 1;
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		if (strcmp(key, times[i].key) != 0)
			continue;
		if (clock_parse_ms(v, &n) < 0)
			return reply_error_set(e, 400, "invalid_field", key,
			    "%s must be an RFC 3339 time such as "
			    "2026-11-27T04:29:52.123Z or "
			    "2026-11-27T05:29:52+01:00", key);
		*(int64_t *)(void *)((char *)f + times[i].off) = n;
		f->has |= times[i].bit;
		return 1;
	}
	return 0;
}
