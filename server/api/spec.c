/*
 * Job spec validation (API.md "Submit command jobs").  Every refusal
 * names the field at fault; unknown fields are refused, never ignored.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api/spec.h"
#include "clock.h"
#include "config.h"
#include "http/json_check.h"
#include "utf8.h"


struct field_ctx {
	const char		*where;
	struct api_error	*e;
	char			 name[REPLY_FIELD_MAX];
};

static const char *
fname(struct field_ctx *c, const char *field)
{
	snprintf(c->name, sizeof(c->name), "%s%s", c->where, field);
	return c->name;
}

static int	bad(struct field_ctx *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static int
bad(struct field_ctx *c, const char *field, const char *fmt, ...)
{
	char	 msg[REPLY_MESSAGE_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return reply_error_set(c->e, 400, "invalid_field", fname(c, field),
	    "%s", msg);
}

int
spec_check_text(const char *text, size_t len, struct api_error *e)
{
	const char	*why;
	char		 nul[REPLY_FIELD_MAX];
	size_t		 at;
	int		 rc;

	if ((rc = json_check(text, len, &at, &why, nul, sizeof(nul))) == 0)
		return 0;
	if (rc < 0)
		return reply_error_set(e, 400, "invalid_json", NULL,
		    "malformed JSON at byte %zu: %s", at, why);
	/* Valid JSON, but C strings would be cut at the NUL. */
	if (nul[0] == '\0')
		return reply_error_set(e, 400, "invalid_field", NULL, "a field "
		    "name holds a NUL character (\\u0000)");
	return reply_error_set(e, 400, "invalid_field", nul, "%s must not hold "
	    "a NUL character (\\u0000)", nul);
}

int
spec_queue_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char c = s[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return n >= 1 && n <= JOB_QUEUE_MAX;
}

static int
env_name_valid(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int
dup_str(char **out, const char *s)
{
	if ((*out = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

/* A JSON number that is an integer within [lo, hi]. */
static int
int_in(const cJSON *v, double lo, double hi, int64_t *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (!isfinite(d) || floor(d) != d || d < lo || d > hi)
		return -1;
	*out = (int64_t)d;
	return 0;
}

static int
parse_command(struct field_ctx *c, const cJSON *v, struct job *j)
{
	const char *s;

	if (!cJSON_IsString(v))
		return bad(c, "command", "command must be a string");
	s = v->valuestring;
	if (s[strspn(s, " \t\r\n")] == '\0')
		return bad(c, "command", "command must not be empty");
	if (strlen(s) > JOB_COMMAND_MAX)
		return bad(c, "command", "command is longer than %d bytes",
		    JOB_COMMAND_MAX);
	return dup_str(&j->command, s);
}

static int
parse_argv(struct field_ctx *c, const cJSON *v, struct job *j)
{
	const cJSON	*it;
	int		 n = 0;

	if (!cJSON_IsArray(v))
		return bad(c, "argv", "argv must be an array of strings");
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it))
			return bad(c, "argv", "argv must hold only strings");
		if (strlen(it->valuestring) > JOB_COMMAND_MAX)
			return bad(c, "argv", "an argv string is longer than %d "
			    "bytes", JOB_COMMAND_MAX);
		n++;
	}
	if (n == 0 || cJSON_GetArrayItem(v, 0)->valuestring[0] == '\0')
		return bad(c, "argv", "argv must name a program");
	if (n > JOB_ARGV_MAX)
		return bad(c, "argv", "argv has more than %d items", JOB_ARGV_MAX);
	if ((j->argv_json = cJSON_PrintUnformatted(v)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
parse_env(struct field_ctx *c, const cJSON *v, struct job *j)
{
	const cJSON	*it, *prev;

	if (!cJSON_IsObject(v))
		return bad(c, "env", "env must be an object of strings");
	if (cJSON_GetArraySize(v) > JOB_ENV_MAX)
		return bad(c, "env", "env has more than %d variables", JOB_ENV_MAX);
	cJSON_ArrayForEach(it, v) {
		if (!env_name_valid(it->string))
			return bad(c, "env", "env name \"%.64s\" must be "
			    SPEC_ENV_RULE, it->string);
		if (!cJSON_IsString(it))
			return bad(c, "env", "env value of %.64s must be a "
			    "string", it->string);
		for (prev = v->child; prev != it; prev = prev->next)
			if (strcmp(prev->string, it->string) == 0)
				return reply_error_set(c->e, 400, "invalid_json",
				    fname(c, "env"), "env name \"%.64s\" is "
				    "given twice", it->string);
	}
	if (v->child && (j->env_json = cJSON_PrintUnformatted(v)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
parse_cwd(struct field_ctx *c, const cJSON *v, struct job *j)
{
	struct stat st;

	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v) || v->valuestring[0] != '/')
		return bad(c, "cwd", "cwd must be an absolute path");
	if (strlen(v->valuestring) > 4095)
		return bad(c, "cwd", "cwd is too long");
	if (stat(v->valuestring, &st) != 0 || !S_ISDIR(st.st_mode))
		return bad(c, "cwd", "cwd %.200s is not an existing directory",
		    v->valuestring);
	return dup_str(&j->cwd, v->valuestring);
}

static int
parse_timeout(struct field_ctx *c, const cJSON *v, struct job *j)
{
	double d;

	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v))
		return bad(c, "timeout", "timeout must be a number of seconds");
	d = v->valuedouble;
	if (!isfinite(d) || d <= 0 || d * 1000 > (double)JOB_TIMEOUT_MAX_MS)
		return bad(c, "timeout", "timeout must be > 0 and at most a "
		    "year of seconds");
	j->timeout_ms = (int64_t)ceil(d * 1000);
	return 0;
}

static int
parse_scalar(struct field_ctx *c, const cJSON *v, struct job *j)
{
	const char	*k = v->string;
	int64_t		 n;

	if (strcmp(k, "name") == 0) {
		if (cJSON_IsNull(v))
			return 0;
		if (!cJSON_IsString(v) || strlen(v->valuestring) > JOB_NAME_MAX)
			return bad(c, k, "name must be a string of at most %s "
			    "bytes", "200");
		return dup_str(&j->name, v->valuestring);
	}
	if (strcmp(k, "queue") == 0) {
		if (!cJSON_IsString(v) || !spec_queue_valid(v->valuestring))
			return bad(c, k, "queue must be %s", SPEC_QUEUE_RULE);
		free(j->queue);
		return dup_str(&j->queue, v->valuestring);
	}
	if (strcmp(k, "priority") == 0) {
		if (int_in(v, -JOB_PRIORITY_MAX, JOB_PRIORITY_MAX, &n) < 0)
			return bad(c, k, "priority must be an integer in "
			    "%s", "-1000000 ... 1000000");
		j->priority = n;
		return 0;
	}
	if (strcmp(k, "max_attempts") == 0) {
		if (int_in(v, 1, JOB_ATTEMPTS_MAX, &n) < 0)
			return bad(c, k, "max_attempts must be an integer in "
			    "1 ... %d", JOB_ATTEMPTS_MAX);
		j->max_attempts = (int)n;
		return 0;
	}
	if (strcmp(k, "shell") == 0) {
		if (!cJSON_IsBool(v))
			return bad(c, k, "shell must be true or false");
		j->shell = cJSON_IsTrue(v);
		return 0;
	}
	if (strcmp(k, "stdin") == 0) {
		if (cJSON_IsNull(v))
			return 0;
		if (!cJSON_IsString(v))
			return bad(c, k, "stdin must be a string");
		j->stdin_len = strlen(v->valuestring);
		j->has_stdin = 1;
		return dup_str(&j->stdin_data, v->valuestring);
	}
	return 1;	/* not a scalar field */
}

/* delay: seconds from now; run_at: an RFC 3339 time (the past: now). */
static int
parse_when(struct field_ctx *c, const cJSON *v, struct job *j)
{
	int64_t	 now = clock_now_ms(), at;
	double	 d;

	if (j->run_at)
		return bad(c, "run_at", "give delay or run_at, not both");
	if (strcmp(v->string, "delay") == 0) {
		if (!cJSON_IsNumber(v) || !isfinite(d = v->valuedouble) ||
		    d < 0 || d > 366.0 * 24 * 3600)
			return bad(c, "delay", "delay must be a number of seconds "
			    "from 0 to a year");
		j->run_at = now + (int64_t)llround(d * 1000);
		return 0;
	}
	if (!cJSON_IsString(v) || clock_parse_ms(v->valuestring, &at) < 0)
		return bad(c, "run_at", "run_at must be an RFC 3339 time such "
		    "as 2026-11-27T04:29:52.123Z");
	j->run_at = at > now ? at : now;
	return 0;
}

static int
id_seen(const struct job *j, uint64_t id)
{
	for (size_t i = 0; i < j->nafter; i++)
		if (j->after[i] == id)
			return 1;
	return 0;
}

static int
parse_after(struct field_ctx *c, const cJSON *v, struct job *j)
{
	const cJSON	*it;
	int		 n = cJSON_GetArraySize(v);
	int64_t		 id;

	if (!cJSON_IsArray(v))
		return bad(c, "after", "after must be an array of job ids");
	if (n > JOB_AFTER_MAX)
		return bad(c, "after", "after names more than %d jobs",
		    JOB_AFTER_MAX);
	if (n && (j->after = calloc((size_t)n, sizeof(*j->after))) == NULL)
		return -ENOMEM;
	cJSON_ArrayForEach(it, v) {
		if (int_in(it, 1, 9007199254740991.0, &id) < 0)
			return bad(c, "after", "after must hold positive job ids");
		if (!id_seen(j, (uint64_t)id))	/* the same id twice is once */
			j->after[j->nafter++] = (uint64_t)id;
	}
	if (j->nafter && (j->after_json = cJSON_PrintUnformatted(v)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
parse_limits(struct field_ctx *c, const cJSON *v, struct job *j)
{
	static const struct {
		const char	*name;
		double		 max;
	} known[] = {
		{"memory_mb", 1048576}, {"cpu_seconds", 31622400},
		{"open_files", 1048576}, {"processes", 1048576},
		{"output_mb", 1048576},
	};
	const cJSON	*it;
	char		 field[64];
	int64_t		 n;

	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return bad(c, "limits", "limits must be an object");
	cJSON_ArrayForEach(it, v) {
		size_t k;

		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(it->string, known[k].name) == 0)
				break;
		snprintf(field, sizeof(field), "limits.%.40s", it->string);
		if (k == sizeof(known) / sizeof(known[0]))
			return reply_error_set(c->e, 400, "unknown_field",
			    fname(c, field), "unknown limit \"%.40s\" (memory_mb, "
			    "cpu_seconds, open_files, processes, output_mb)",
			    it->string);
		if (int_in(it, 1, known[k].max, &n) < 0)
			return bad(c, field, "%s must be an integer in 1 ... %.0f",
			    field, known[k].max);
	}
	if (v->child && (j->limits_json = cJSON_PrintUnformatted(v)) == NULL)
		return -ENOMEM;
	return 0;
}

/* A webhook's "on": the finished states it is for (all when absent). */
static int
webhook_on(struct field_ctx *c, const cJSON *on, const char *field)
{
	const cJSON	*s;
	int		 st;

	if (on == NULL)
		return 0;
	if (!cJSON_IsArray(on) || on->child == NULL)
		goto bad;
	cJSON_ArrayForEach(s, on)
		if (!cJSON_IsString(s) || (st = job_state_parse(s->valuestring))
		    < 0 || !job_state_finished(st))
			goto bad;
	return 0;
bad:
	return bad(c, field, "%s must be a non-empty array of \"succeeded\", "
	    "\"failed\", \"canceled\"", field);
}

/*
 * "webhooks": [{"url": "https://...", "on": ["failed", ...]}, ...]:
 * where to POST the job when it finishes (hook/ sends them).  Kept as
 * given once checked.
 */
static int
parse_webhooks(struct field_ctx *c, const cJSON *v, struct job *j)
{
	const cJSON	*h, *f;
	char		 field[48];
	int		 i = 0, rc;

	if (cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > JOB_WEBHOOKS_MAX)
		return bad(c, "webhooks", "webhooks must be an array of at most "
		    "%d {\"url\", \"on\"} objects", JOB_WEBHOOKS_MAX);
	cJSON_ArrayForEach(h, v) {
		const cJSON *url = NULL, *on = NULL;

		snprintf(field, sizeof(field), "webhooks[%d]", i++);
		if (!cJSON_IsObject(h))
			return bad(c, field, "%s must be an object", field);
		cJSON_ArrayForEach(f, h) {
			if (strcmp(f->string, "url") == 0)
				url = f;
			else if (strcmp(f->string, "on") == 0)
				on = f;
			else
				return reply_error_set(c->e, 400,
				    "unknown_field", fname(c, field), "unknown "
				    "field \"%.40s\" in %s (url, on)", f->string,
				    field);
		}
		snprintf(field + strlen(field), sizeof(field) - strlen(field),
		    ".url");
		if (!cJSON_IsString(url) || strlen(url->valuestring) >
		    JOB_WEBHOOK_URL_MAX || (strncasecmp(url->valuestring,
		    "http://", 7) != 0 && strncasecmp(url->valuestring,
		    "https://", 8) != 0) ||
		    strpbrk(url->valuestring, " \t\r\n") != NULL)
			return bad(c, field, "%s must be an http:// or https:// "
			    "URL of at most %d bytes", field,
			    JOB_WEBHOOK_URL_MAX);
		strcpy(field + strlen(field) - 4, ".on");
		if ((rc = webhook_on(c, on, field)) < 0)
			return rc;
	}
	if (v->child && (j->webhooks_json = cJSON_PrintUnformatted(v)) == NULL)
		return -ENOMEM;
	return 0;
}

int
spec_webhooks(const cJSON *v, char **json, struct api_error *e)
{
	struct field_ctx	 c = {.where = "", .e = e};
	struct job		 j;
	int			 rc;

	job_init(&j);
	if ((rc = parse_webhooks(&c, v, &j)) == -ENOMEM)
		rc = reply_error_set(e, 500, "internal", NULL, "out of memory");
	*json = j.webhooks_json;
	j.webhooks_json = NULL;
	job_clear(&j);
	return rc;
}

static int
parse_field(struct field_ctx *c, const cJSON *v, struct job *j)
{
	const char	*k = v->string;
	int		 rc;

	if ((rc = parse_scalar(c, v, j)) <= 0)
		return rc;
	if (strcmp(k, "command") == 0)
		return parse_command(c, v, j);
	if (strcmp(k, "argv") == 0)
		return parse_argv(c, v, j);
	if (strcmp(k, "env") == 0)
		return parse_env(c, v, j);
	if (strcmp(k, "cwd") == 0)
		return parse_cwd(c, v, j);
	if (strcmp(k, "timeout") == 0)
		return parse_timeout(c, v, j);
	if (strcmp(k, "delay") == 0 || strcmp(k, "run_at") == 0)
		return parse_when(c, v, j);
	if (strcmp(k, "after") == 0)
		return parse_after(c, v, j);
	if (strcmp(k, "limits") == 0)
		return parse_limits(c, v, j);
	if (strcmp(k, "webhooks") == 0)
		return parse_webhooks(c, v, j);
	return reply_error_set(c->e, 400, "unknown_field", fname(c, k),
	    "unknown field \"%.64s\"", k);
}

static int
spec_parse_type(const cJSON *spec, const char *where, struct job *j,
    struct api_error *e, enum job_type type)
{
	struct field_ctx	 c = {.where = where, .e = e};
	const cJSON		*v, *w;
	int			 rc;

	if (!cJSON_IsObject(spec)) {
		char item[REPLY_FIELD_MAX];

		/* "[3]." names the item itself as "[3]". */
		snprintf(item, sizeof(item), "%.*s", (int)strcspn(where, "."),
		    where);
		return reply_error_set(e, 400, "invalid_field",
		    item[0] ? item : NULL, "a job spec must be a JSON object");
	}
	cJSON_ArrayForEach(v, spec) {
		for (w = spec->child; w != v; w = w->next)
			if (strcmp(w->string, v->string) == 0)
				return reply_error_set(e, 400, "invalid_json",
				    fname(&c, v->string), "field \"%.64s\" is "
				    "given twice", v->string);
		if ((rc = parse_field(&c, v, j)) < 0)
			return rc == -ENOMEM ? reply_error_set(e, 500, "internal",
			    NULL, "out of memory") : rc;
	}
	if (j->command && j->argv_json)
		return bad(&c, "argv", "give command or argv, not both");
	if (j->shell && j->command == NULL)
		return bad(&c, "shell", "shell applies to a command: an argv "
		    "never goes through the shell");
	if (!j->command && !j->argv_json && type == JOB_COMMAND)
		return bad(&c, "command", "command (or argv) is required");
	if (type == JOB_UPLOAD && j->has_stdin)
		return bad(&c, "stdin", "an upload job reads its file on stdin");
	if (j->queue == NULL && dup_str(&j->queue, "default") < 0)
		return reply_error_set(e, 500, "internal", NULL, "out of memory");
	j->type = type;
	return 0;
}

int
spec_parse(const cJSON *spec, const char *where, struct job *j,
    struct api_error *e)
{
	return spec_parse_type(spec, where, j, e, JOB_COMMAND);
}

int
spec_parse_upload(const char *text, size_t len, struct job *j,
    struct api_error *e)
{
	cJSON	*root;
	int	 rc;

	if (text == NULL) {
		root = cJSON_CreateObject();
	} else {
		if ((rc = spec_check_text(text, len, e)) < 0)
			return rc;
		root = cJSON_ParseWithLength(text, len);
	}
	if (root == NULL)
		return reply_error_set(e, 500, "internal", NULL, "out of memory");
	rc = spec_parse_type(root, "", j, e, JOB_UPLOAD);
	cJSON_Delete(root);
	return rc;
}

/* A query value as a JSON number or boolean when it is one, else as a
 * string. */
static cJSON *
query_value(const char *key, const char *v)
{
	static const char *numeric[] = {"priority", "timeout", "max_attempts",
	    "delay"};
	char	*end;

	if (strcmp(key, "shell") == 0 && (strcmp(v, "true") == 0 ||
	    strcmp(v, "false") == 0))
		return cJSON_CreateBool(v[0] == 't');
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		if (strcmp(key, numeric[i]) != 0)
			continue;
		double d = strtod(v, &end);

		if (*v != '\0' && *end == '\0' && isfinite(d))
			return cJSON_CreateNumber(d);
	}
	return cJSON_CreateString(v);
}

int
spec_from_query(const struct param *q, int n, const char *const *skip,
    struct job *j, struct api_error *e)
{
	cJSON	*root = cJSON_CreateObject();
	int	 rc;

	for (int i = 0; i < n && root; i++) {
		int skipped = 0;

		for (const char *const *s = skip; *s; s++)
			skipped |= strcmp(q[i].key, *s) == 0;
		if (skipped)
			continue;
		if (!utf8_valid(q[i].value, strlen(q[i].value)) ||
		    !utf8_valid(q[i].key, strlen(q[i].key))) {
			cJSON_Delete(root);
			return reply_error_set(e, 400, "invalid_field", NULL,
			    "query parameters must be UTF-8 text");
		}
		if (cJSON_GetObjectItemCaseSensitive(root, q[i].key)) {
			cJSON_Delete(root);
			return reply_error_set(e, 400, "invalid_field", q[i].key,
			    "%.64s is given twice", q[i].key);
		}
		cJSON_AddItemToObject(root, q[i].key, query_value(q[i].key,
		    q[i].value));
	}
	if (root == NULL)
		return reply_error_set(e, 500, "internal", NULL, "out of memory");
	rc = spec_parse_type(root, "", j, e, JOB_UPLOAD);
	cJSON_Delete(root);
	return rc;
}

static int
parse_batch(const cJSON *root, struct job **jobs, size_t *n,
    struct api_error *e)
{
	int		 count = cJSON_GetArraySize(root), i = 0, rc = 0;
	struct job	*js;
	const cJSON	*it;
	char		 where[32];

	if (count == 0)
		return reply_error_set(e, 400, "invalid_field", NULL,
		    "a batch must hold at least one job spec");
	if (count > SPEC_BATCH_MAX)
		return reply_error_set(e, 413, "too_large", NULL,
		    "a batch holds at most %d job specs", SPEC_BATCH_MAX);
	if ((js = calloc(count, sizeof(*js))) == NULL)
		return reply_error_set(e, 500, "internal", NULL, "out of memory");
	cJSON_ArrayForEach(it, root) {
		job_init(&js[i]);
		snprintf(where, sizeof(where), "[%d].", i);
		rc = spec_parse(it, where, &js[i], e);
		i++;
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		job_free_all(js, i);
		return rc;
	}
	*jobs = js;
	*n = count;
	return 0;
}

int
spec_parse_body(const char *body, size_t len, struct job **jobs, size_t *n,
    int *batch, struct api_error *e)
{
	cJSON		*root;
	const char	*end = NULL;
	int		 rc;

	*jobs = NULL;
	*n = 0;
	if ((rc = spec_check_text(body, len, e)) < 0)
		return rc;
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root == NULL) {
		size_t at = end ? (size_t)(end - body) : 0;

		if (at < len && body[at] == '\0')
			at = len;
		return reply_error_set(e, 400, "invalid_json", NULL,
		    "malformed JSON near byte %zu", at);
	}
	*batch = cJSON_IsArray(root);
	if (*batch) {
		rc = parse_batch(root, jobs, n, e);
	} else if ((*jobs = calloc(1, sizeof(**jobs))) == NULL) {
		rc = reply_error_set(e, 500, "internal", NULL, "out of memory");
	} else {
		job_init(*jobs);
		if ((rc = spec_parse(root, "", *jobs, e)) < 0) {
			job_free_all(*jobs, 1);
			*jobs = NULL;
		} else {
			*n = 1;
		}
	}
	cJSON_Delete(root);
	return rc;
}

/* The server's default limits where the spec set none. */
int
spec_default_limits(const int64_t *dflt, struct job *j)
{
	static const char *names[LIMIT_COUNT] = {"memory_mb", "cpu_seconds",
	    "open_files", "processes", "output_mb"};
	cJSON		*o;
	int		 added = 0;

	for (int i = 0; i < LIMIT_COUNT; i++)
		added |= dflt[i] > 0;
	if (!added)
		return 0;
	o = j->limits_json ? cJSON_Parse(j->limits_json) : cJSON_CreateObject();
	if (o == NULL)
		return -ENOMEM;
	added = 0;
	for (int i = 0; i < LIMIT_COUNT; i++)
		if (dflt[i] > 0 && !cJSON_HasObjectItem(o, names[i])) {
			cJSON_AddNumberToObject(o, names[i], (double)dflt[i]);
			added = 1;
		}
	if (added) {
		free(j->limits_json);
		j->limits_json = cJSON_PrintUnformatted(o);
	}
	cJSON_Delete(o);
	return added && j->limits_json == NULL ? -ENOMEM : 0;
}
