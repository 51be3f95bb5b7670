/* Helpers shared by the API handlers: path ids, query numbers, bodies. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "http/reply.h"

int
api_digits(const char **s, uint64_t *out)
{
	const char	*p = *s;
	uint64_t	 v = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*s = p;
	*out = v;
	return 0;
}

/* Strict decimal: digits only, no sign, no spaces, no overflow. */
static int
parse_u64(const char *s, uint64_t *out)
{
	if (s == NULL || api_digits(&s, out) < 0 || *s != '\0')
		return -1;
	return 0;
}

int
api_path_id(struct request *req, uint64_t *id)
{
	if (parse_u64(req->path_id, id) < 0 || *id == 0 ||
	    *id > (uint64_t)INT64_MAX) {
		reply_fail(req, 400, "invalid_field", "id", "job id must be a "
		    "positive integer, not \"%.40s\"", req->path_id ?
		    req->path_id : "");
		return -1;
	}
	return 0;
}

int
api_query_int(struct request *req, const char *key, int64_t lo, int64_t hi,
    int64_t dflt, int64_t *out)
{
	const char	*v = request_query(req, key);
	char		*end;
	long long	 n;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*v == '\0' || isspace((unsigned char)*v) || *end != '\0' ||
	    errno || n < lo || n > hi) {
		reply_fail(req, 400, "invalid_field", key, "%s must be an "
		    "integer in %lld ... %lld", key, (long long)lo,
		    (long long)hi);
		return -1;
	}
	*out = n;
	return 0;
}

int
api_json_body(struct request *req)
{
	const char	*ct = req->content_type;
	size_t		 n = strlen("application/json");

	if (ct == NULL || (strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ')))
		return 0;
	reply_fail(req, 415, "unsupported_media_type", NULL, "send JSON with "
	    "Content-Type: application/json, not %.100s", ct);
	return -1;
}
