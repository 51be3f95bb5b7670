/*
 * The message codec.  Each JSON body is described once, as a table of
 * its members (struct field), and that one table drives the encoder and
 * the decoder alike: both sides hold the same types, ranges and presence
 * rules.  A check per type adds the rules between members.  Bodies are
 * built and parsed with cJSON; the encoder refers to the caller's
 * strings instead of copying them.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "msg.h"

enum kind {
	K_INT,		/* int */
	K_I64,		/* int64_t */
	K_STR,		/* const char *; decoded, it points into the JSON */
	K_STRN,		/* K_STR, its strlen in the size_t at aux */
	K_TEXT,		/* char[max + 1] inside the message; "" is none */
	K_WORD,		/* const char *, one of words; decoded, the table's own */
	K_ARGV,		/* const char **, its count in the size_t at aux */
	K_ENV,		/* struct msg_env *, its count in the size_t at aux */
	K_OBJ		/* a struct (aux bytes) of its own members, sub */
};

enum presence {
	P_REQUIRED,	/* present, never null */
	P_NULLABLE,	/* present; null stands for none */
	P_OPTIONAL	/* absent or null stand for none */
};

struct field {
	const char		*name;
	enum kind		 kind;
	enum presence		 presence;
	size_t			 offset;
	size_t			 aux;
	int64_t			 min;	/* integers: range; strings: bytes; arrays: items */
	int64_t			 max;
	int64_t			 none;	/* integers: the value that stands for none */
	int			(*valid)(const char *);	/* strings, env names */
	const char *const	*words;	/* K_WORD, NULL-terminated */
	const struct field	*sub;	/* K_OBJ; every table ends at a NULL name */
};

struct type {
	int			 job;		/* 1: a job's frame (id not 0); 0: id 0 */
	uint32_t		 body_min;
	uint32_t		 body_max;
	const struct field	*fields;	/* JSON bodies; NULL: raw or empty */
	int			(*check)(const void *msg, const char **why);
};

/* Strings with no limit of their own are bounded by the body's. */
#define STR_MAX		((int64_t)MSG_RUN_BODY_MAX)

#define F(n, k, p, s, m) \
	.name = (n), .kind = (k), .presence = (p), .offset = offsetof(struct s, m)

static const char *const cancel_reasons[] = {"canceled", "shutdown", NULL};

const char *const msg_exit_reasons[] = {
	"timeout", "canceled", "shutdown", "spawn", "output limit", "verify", NULL
};

static int
path_ok(const char *s)
{
	return s[0] == '/';
}

static int
sha256_ok(const char *s)
{
	return strspn(s, "0123456789abcdef") == 64 && s[64] == '\0';
}

static int
env_name_ok(const char *s)
{
	return s[0] != '\0' && strchr(s, '=') == NULL;
}

static const struct field hello_fields[] = {
	{F("version", K_INT, P_REQUIRED, msg_hello, version), .max = INT_MAX},
	{F("pid", K_INT, P_REQUIRED, msg_hello, pid), .min = 1, .max = INT_MAX},
	{.name = NULL}
};

static const struct field limits_fields[] = {
	{F("memory_mb", K_I64, P_OPTIONAL, msg_limits, memory_mb),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{F("cpu_seconds", K_I64, P_OPTIONAL, msg_limits, cpu_seconds),
	    .min = 1, .max = MSG_CPU_SECONDS_MAX},
	{F("open_files", K_I64, P_OPTIONAL, msg_limits, open_files),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{F("processes", K_I64, P_OPTIONAL, msg_limits, processes),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{F("output_mb", K_I64, P_OPTIONAL, msg_limits, output_mb),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{.name = NULL}
};

static const struct field file_fields[] = {
	{F("path", K_STR, P_REQUIRED, msg_file, path), .max = STR_MAX,
	    .valid = path_ok},
	{F("name", K_STR, P_REQUIRED, msg_file, name), .min = 1, .max = STR_MAX},
	{F("size", K_I64, P_REQUIRED, msg_file, size), .max = MSG_INT_MAX},
	{F("sha256", K_STR, P_REQUIRED, msg_file, sha256), .min = 64, .max = 64,
	    .valid = sha256_ok},
	{.name = NULL}
};

static const struct field run_fields[] = {
	{F("attempt", K_INT, P_OPTIONAL, msg_run, attempt),
	    .min = 1, .max = MSG_ATTEMPT_MAX, .none = 1},
	{F("command", K_STR, P_OPTIONAL, msg_run, command),
	    .max = MSG_COMMAND_MAX},
	{F("argv", K_ARGV, P_OPTIONAL, msg_run, argv),
	    .aux = offsetof(struct msg_run, argc), .min = 1, .max = MSG_ARGV_MAX},
	{F("env", K_ENV, P_OPTIONAL, msg_run, env),
	    .aux = offsetof(struct msg_run, nenv), .max = MSG_ENV_MAX,
	    .valid = env_name_ok},
	{F("cwd", K_STR, P_OPTIONAL, msg_run, cwd), .max = STR_MAX,
	    .valid = path_ok},
	{F("stdin", K_STRN, P_OPTIONAL, msg_run, stdin_data),
	    .aux = offsetof(struct msg_run, stdin_len), .max = STR_MAX},
	{F("timeout_ms", K_I64, P_OPTIONAL, msg_run, timeout_ms),
	    .max = MSG_INT_MAX},
	{F("kill_grace_ms", K_I64, P_OPTIONAL, msg_run, kill_grace_ms),
	    .max = MSG_INT_MAX, .none = MSG_KILL_GRACE_MS},
	{F("limits", K_OBJ, P_OPTIONAL, msg_run, limits),
	    .aux = sizeof(struct msg_limits), .sub = limits_fields},
	{F("file", K_OBJ, P_OPTIONAL, msg_run, file),
	    .aux = sizeof(struct msg_file), .sub = file_fields},
	{.name = NULL}
};

static const struct field cancel_fields[] = {
	{F("reason", K_WORD, P_REQUIRED, msg_cancel, reason),
	    .words = cancel_reasons},
	{.name = NULL}
};

static const struct field started_fields[] = {
	{F("pid", K_INT, P_REQUIRED, msg_started, pid), .min = 1, .max = INT_MAX},
	{F("started_at", K_I64, P_REQUIRED, msg_started, started_at),
	    .min = 1, .max = MSG_INT_MAX},
	{.name = NULL}
};

static const struct field exit_fields[] = {
	{F("exit_code", K_INT, P_NULLABLE, msg_exit, exit_code),
	    .min = 0, .max = 255, .none = -1},
	{F("signal", K_INT, P_NULLABLE, msg_exit, signal),
	    .min = 1, .max = MSG_SIGNAL_MAX, .none = -1},
	{F("cpu_ms", K_I64, P_REQUIRED, msg_exit, cpu_ms), .max = MSG_INT_MAX},
	{F("max_rss_kb", K_I64, P_REQUIRED, msg_exit, max_rss_kb),
	    .max = MSG_INT_MAX},
	{F("reason", K_WORD, P_NULLABLE, msg_exit, reason),
	    .words = msg_exit_reasons},
	{F("error", K_TEXT, P_NULLABLE, msg_exit, error),
	    .min = 1, .max = MSG_ERROR_MAX},
	{F("finished_at", K_I64, P_REQUIRED, msg_exit, finished_at),
	    .min = 1, .max = MSG_INT_MAX},
	{.name = NULL}
};

static int	run_check(const void *, const char **);

static const struct type types[FRAME_TYPE_MAX + 1] = {
	[FRAME_HELLO] = {0, 1, MSG_SMALL_BODY_MAX, hello_fields, NULL},
	[FRAME_READY] = {0, 0, 0, NULL, NULL},
	[FRAME_RUN] = {1, 1, MSG_RUN_BODY_MAX, run_fields, run_check},
	[FRAME_CANCEL] = {1, 1, MSG_SMALL_BODY_MAX, cancel_fields, NULL},
	[FRAME_SHUTDOWN] = {0, 0, 0, NULL, NULL},
	[FRAME_STARTED] = {1, 1, MSG_SMALL_BODY_MAX, started_fields, NULL},
	[FRAME_OUTPUT] = {1, 1, FRAME_OUTPUT_CHUNK, NULL, NULL},
	[FRAME_EXIT] = {1, 1, MSG_EXIT_BODY_MAX, exit_fields, NULL},
};

static int
refuse(const char **why, const char *what, int rc)
{
	if (why != NULL)
		*why = what;
	return rc;
}

static int
run_check(const void *msg, const char **why)
{
	const struct msg_run *m = msg;

	if (m->command != NULL && m->argc > 0)
		return refuse(why, "both command and argv", -1);
	/* An upload job may have neither: its file is checked, that is all. */
	if (m->command == NULL && m->argc == 0 && m->file.path == NULL)
		return refuse(why, "neither command nor argv", -1);
	return 0;
}

static void *
at(void *msg, size_t offset)
{
	return (char *)msg + offset;
}

static const void *
cat(const void *msg, size_t offset)
{
	return (const char *)msg + offset;
}

static int
str_ok(const struct field *fd, const char *s)
{
	size_t n = strlen(s);

	return n >= (uint64_t)fd->min && n <= (uint64_t)fd->max &&
	    (fd->valid == NULL || fd->valid(s));
}

static const char *
word_find(const char *const *words, const char *s)
{
	for (; *words != NULL; words++)
		if (strcmp(*words, s) == 0)
			return *words;
	return NULL;
}

void
msg_body_free(struct msg_body *b)
{
	cJSON_free(b->buf);
	memset(b, 0, sizeof(*b));
}

/* ---- decoding ---------------------------------------------------------- */

/* The header as the type wants it, and the body's length in its limits. */
static int
frame_check(const struct frame *f, uint16_t type, const char **why)
{
	const struct type	*t = &types[type];
	int			 output = type == FRAME_OUTPUT;

	if (f->type != type)
		return refuse(why, "frame type", -EPROTO);
	if ((f->job_id != 0) != t->job)
		return refuse(why, t->job ? "job id 0" : "job id not 0", -EPROTO);
	if (output ? f->flags != FRAME_STDOUT && f->flags != FRAME_STDERR :
	    f->flags != 0)
		return refuse(why, "flags", -EPROTO);
	if (f->length < t->body_min || f->length > t->body_max ||
	    (f->length > 0 && f->body == NULL))
		return refuse(why, "body length", -EPROTO);
	return 0;
}

/* The body as one JSON object, nothing but space after it. */
static int
json_parse(const struct frame *f, cJSON **root, const char **why)
{
	const char	*text = (const char *)f->body, *end = NULL;
	cJSON		*o;

	*root = NULL;
	if ((o = cJSON_ParseWithLengthOpts(text, f->length, &end, 0)) == NULL)
		return refuse(why, "body is not JSON", -EPROTO);
	for (; end < text + f->length; end++)
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(o);
			return refuse(why, "bytes after the JSON body", -EPROTO);
		}
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return refuse(why, "body is not a JSON object", -EPROTO);
	}
	*root = o;
	return 0;
}

/* A number that is an integer in the field's range. */
static int
int_decode(const struct field *fd, const cJSON *v, int64_t *out)
{
	double	 d;

	if (!cJSON_IsNumber(v))
		return -EPROTO;
	d = v->valuedouble;
	/* NaN fails the range; within it the cast is exact. */
	if (!(d >= (double)fd->min && d <= (double)fd->max) ||
	    d != (double)(int64_t)d)
		return -EPROTO;
	*out = (int64_t)d;
	return 0;
}

static int
argv_decode(const struct field *fd, const cJSON *v, void *msg)
{
	const cJSON	*a;
	const char	**argv;
	size_t		 n = 0;

	if (!cJSON_IsArray(v))
		return -EPROTO;
	cJSON_ArrayForEach(a, v) {
		if (!cJSON_IsString(a) ||
		    strlen(a->valuestring) > MSG_COMMAND_MAX)
			return -EPROTO;
		n++;
	}
	if (n < (uint64_t)fd->min || n > (uint64_t)fd->max)
		return -EPROTO;
	if ((argv = calloc(n, sizeof(*argv))) == NULL)
		return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(a, v)
		argv[n++] = a->valuestring;
	*(const char ***)at(msg, fd->offset) = argv;
	*(size_t *)at(msg, fd->aux) = n;
	return 0;
}

static int
env_decode(const struct field *fd, const cJSON *v, void *msg)
{
	const cJSON	*e;
	struct msg_env	*env;
	size_t		 n = 0;

	if (!cJSON_IsObject(v))
		return -EPROTO;
	cJSON_ArrayForEach(e, v) {
		if (!cJSON_IsString(e) || !fd->valid(e->string))
			return -EPROTO;
		n++;
	}
	if (n > (uint64_t)fd->max)
		return -EPROTO;
	if (n == 0)
		return 0;
	if ((env = calloc(n, sizeof(*env))) == NULL)
		return -ENOMEM;
	n = 0;
	cJSON_ArrayForEach(e, v) {
		env[n].name = e->string;
		env[n++].value = e->valuestring;
	}
	*(struct msg_env **)at(msg, fd->offset) = env;
	*(size_t *)at(msg, fd->aux) = n;
	return 0;
}

static int	fields_decode(const struct field *, const cJSON *, void *,
		    const char **);

/* An absent or null member: what stands for none. */
static int
field_none(const struct field *fd, void *msg)
{
	void	*p = at(msg, fd->offset);

	switch (fd->kind) {
	case K_INT:
		*(int *)p = (int)fd->none;
		break;
	case K_I64:
		*(int64_t *)p = fd->none;
		break;
	case K_OBJ:
		memset(p, 0, fd->aux);
		break;
	default:
		break;	/* the message starts zeroed: NULL, "" and 0 */
	}
	return 0;
}

static int
field_decode(const struct field *fd, const cJSON *obj, void *msg)
{
	const cJSON	*v = cJSON_GetObjectItemCaseSensitive(obj, fd->name);
	void		*p = at(msg, fd->offset);
	int64_t		 n;

	if (v == NULL || cJSON_IsNull(v)) {
		if (fd->presence == P_REQUIRED ||
		    (v == NULL && fd->presence == P_NULLABLE))
			return -EPROTO;
		return field_none(fd, msg);
	}
	switch (fd->kind) {
	case K_INT:
		if (int_decode(fd, v, &n) < 0)
			return -EPROTO;
		*(int *)p = (int)n;
		return 0;
	case K_I64:
		return int_decode(fd, v, (int64_t *)p);
	case K_STR:
	case K_STRN:
		if (!cJSON_IsString(v) || !str_ok(fd, v->valuestring))
			return -EPROTO;
		*(const char **)p = v->valuestring;
		if (fd->kind == K_STRN)
			*(size_t *)at(msg, fd->aux) = strlen(v->valuestring);
		return 0;
	case K_TEXT:
		if (!cJSON_IsString(v) || !str_ok(fd, v->valuestring))
			return -EPROTO;
		memcpy(p, v->valuestring, strlen(v->valuestring) + 1);
		return 0;
	case K_WORD:
		if (!cJSON_IsString(v) ||
		    (*(const char **)p = word_find(fd->words,
		    v->valuestring)) == NULL)
			return -EPROTO;
		return 0;
	case K_ARGV:
		return argv_decode(fd, v, msg);
	case K_ENV:
		return env_decode(fd, v, msg);
	case K_OBJ:
		if (!cJSON_IsObject(v))
			return -EPROTO;
		return fields_decode(fd->sub, v, p, NULL);
	}
	return -EPROTO;
}

static int
fields_decode(const struct field *fields, const cJSON *obj, void *msg,
    const char **why)
{
	int	 rc;

	for (const struct field *fd = fields; fd->name != NULL; fd++)
		if ((rc = field_decode(fd, obj, msg)) < 0)
			return refuse(why, fd->name, rc);
	return 0;
}

/*
 * Decodes a JSON body into msg (zeroed by the caller).  With keep, the
 * parsed JSON is handed over whatever the result, as strings point in it.
 */
static int
json_decode(const struct frame *f, uint16_t type, void *msg, void **keep,
    const char **why)
{
	const struct type	*t = &types[type];
	cJSON			*root;
	int			 rc;

	if ((rc = frame_check(f, type, why)) < 0 ||
	    (rc = json_parse(f, &root, why)) < 0)
		return rc;
	if ((rc = fields_decode(t->fields, root, msg, why)) == 0 &&
	    t->check != NULL && t->check(msg, why) < 0)
		rc = -EPROTO;
	if (keep != NULL)
		*keep = root;
	else
		cJSON_Delete(root);
	return rc;
}

/* ---- encoding ---------------------------------------------------------- */

static int
add(cJSON *obj, const char *name, cJSON *item)
{
	if (item == NULL)
		return -ENOMEM;
	/* Names are the tables' or the caller's: they outlive the tree. */
	if (!cJSON_AddItemToObjectCS(obj, name, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	return 0;
}

static int
add_str(cJSON *obj, const char *name, const char *s)
{
	return add(obj, name, cJSON_CreateStringReference(s));
}

/* Written by hand: cJSON prints big integers with 15 digits only. */
static int
int_encode(const struct field *fd, cJSON *obj, int64_t v)
{
	char	 text[24];

	if (v < fd->min || v > fd->max)
		return -EINVAL;
	snprintf(text, sizeof(text), "%lld", (long long)v);
	return add(obj, fd->name, cJSON_CreateRaw(text));
}

static int
argv_encode(const struct field *fd, cJSON *obj, const void *msg)
{
	const char		**argv = *(const char **const *)cat(msg,
				    fd->offset);
	size_t			 n = *(const size_t *)cat(msg, fd->aux);
	cJSON			*a;

	if (n < (uint64_t)fd->min || n > (uint64_t)fd->max || argv == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (argv[i] == NULL || strlen(argv[i]) > MSG_COMMAND_MAX)
			return -EINVAL;
	if ((a = cJSON_CreateArray()) == NULL || add(obj, fd->name, a) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!cJSON_AddItemToArray(a, cJSON_CreateStringReference(argv[i])))
			return -ENOMEM;
	return 0;
}

static int
env_encode(const struct field *fd, cJSON *obj, const void *msg)
{
	const struct msg_env	*env = *(struct msg_env *const *)cat(msg,
				    fd->offset);
	size_t			 n = *(const size_t *)cat(msg, fd->aux);
	cJSON			*o;

	if (n > (uint64_t)fd->max || env == NULL)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (env[i].name == NULL || !fd->valid(env[i].name) ||
		    env[i].value == NULL)
			return -EINVAL;
	if ((o = cJSON_CreateObject()) == NULL || add(obj, fd->name, o) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (add_str(o, env[i].name, env[i].value) < 0)
			return -ENOMEM;
	return 0;
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != 0)
			return 0;
	return 1;
}

/* 1 when the member holds what stands for none. */
static int
field_is_none(const struct field *fd, const void *msg)
{
	const void *p = cat(msg, fd->offset);

	switch (fd->kind) {
	case K_INT:
		return *(const int *)p == fd->none;
	case K_I64:
		return *(const int64_t *)p == fd->none;
	case K_STR:
	case K_STRN:
	case K_WORD:
		return *(const char *const *)p == NULL;
	case K_TEXT:
		return *(const char *)p == '\0';
	case K_ARGV:
	case K_ENV:
		return *(const size_t *)cat(msg, fd->aux) == 0;
	case K_OBJ:
		return all_zero(p, fd->aux);
	}
	return 0;
}

static int	fields_encode(const struct field *, cJSON *, const void *,
		    const char **);

static int
field_encode(const struct field *fd, cJSON *obj, const void *msg)
{
	const void	*p = cat(msg, fd->offset);
	const char	*s;
	cJSON		*o;

	if (fd->presence != P_REQUIRED && field_is_none(fd, msg))
		return fd->presence == P_NULLABLE ?
		    add(obj, fd->name, cJSON_CreateNull()) : 0;
	switch (fd->kind) {
	case K_INT:
		return int_encode(fd, obj, *(const int *)p);
	case K_I64:
		return int_encode(fd, obj, *(const int64_t *)p);
	case K_STR:
	case K_STRN:
		s = *(const char *const *)p;
		if (s == NULL || !str_ok(fd, s) || (fd->kind == K_STRN &&
		    strlen(s) != *(const size_t *)cat(msg, fd->aux)))
			return -EINVAL;
		return add_str(obj, fd->name, s);
	case K_TEXT:
		s = p;
		if (memchr(s, '\0', (size_t)fd->max + 1) == NULL || !str_ok(fd, s))
			return -EINVAL;
		return add_str(obj, fd->name, s);
	case K_WORD:
		s = *(const char *const *)p;
		if (s == NULL || (s = word_find(fd->words, s)) == NULL)
			return -EINVAL;
		return add_str(obj, fd->name, s);
	case K_ARGV:
		return argv_encode(fd, obj, msg);
	case K_ENV:
		return env_encode(fd, obj, msg);
	case K_OBJ:
		if ((o = cJSON_CreateObject()) == NULL || add(obj, fd->name, o) < 0)
			return -ENOMEM;
		return fields_encode(fd->sub, o, p, NULL);
	}
	return -EINVAL;
}

static int
fields_encode(const struct field *fields, cJSON *obj, const void *msg,
    const char **why)
{
	int	 rc;

	for (const struct field *fd = fields; fd->name != NULL; fd++)
		if ((rc = field_encode(fd, obj, msg)) < 0)
			return refuse(why, fd->name, rc);
	return 0;
}

static int
json_encode(struct msg_body *b, uint16_t type, const void *msg,
    const char **why)
{
	const struct type	*t = &types[type];
	cJSON			*root;
	char			*text = NULL;
	size_t			 n;
	int			 rc;

	memset(b, 0, sizeof(*b));
	if (t->check != NULL && t->check(msg, why) < 0)
		return -EINVAL;
	if ((root = cJSON_CreateObject()) == NULL)
		return -ENOMEM;
	if ((rc = fields_encode(t->fields, root, msg, why)) == 0 &&
	    (text = cJSON_PrintUnformatted(root)) == NULL)
		rc = -ENOMEM;
	cJSON_Delete(root);
	if (rc < 0)
		return rc;
	if ((n = strlen(text)) > t->body_max) {
		cJSON_free(text);
		return refuse(why, "body length", -EMSGSIZE);
	}
	b->type = type;
	b->buf = text;
	b->data = (const uint8_t *)text;
	b->length = n;
	return 0;
}

static int
empty_encode(struct msg_body *b, uint16_t type)
{
	memset(b, 0, sizeof(*b));
	b->type = type;
	return 0;
}

/* ---- the messages ------------------------------------------------------ */

int
msg_hello_encode(struct msg_body *b, const struct msg_hello *m,
    const char **why)
{
	return json_encode(b, FRAME_HELLO, m, why);
}

int
msg_hello_decode(const struct frame *f, struct msg_hello *m, const char **why)
{
	memset(m, 0, sizeof(*m));
	return json_decode(f, FRAME_HELLO, m, NULL, why);
}

int
msg_ready_encode(struct msg_body *b)
{
	return empty_encode(b, FRAME_READY);
}

int
msg_ready_decode(const struct frame *f, const char **why)
{
	return frame_check(f, FRAME_READY, why);
}

int
msg_run_encode(struct msg_body *b, const struct msg_run *m, const char **why)
{
	return json_encode(b, FRAME_RUN, m, why);
}

int
msg_run_decode(const struct frame *f, struct msg_run *m, const char **why)
{
	memset(m, 0, sizeof(*m));
	return json_decode(f, FRAME_RUN, m, &m->json, why);
}

void
msg_run_free(struct msg_run *m)
{
	free(m->argv);
	free(m->env);
	cJSON_Delete(m->json);
	memset(m, 0, sizeof(*m));
}

int
msg_cancel_encode(struct msg_body *b, const struct msg_cancel *m,
    const char **why)
{
	return json_encode(b, FRAME_CANCEL, m, why);
}

int
msg_cancel_decode(const struct frame *f, struct msg_cancel *m,
    const char **why)
{
	memset(m, 0, sizeof(*m));
	return json_decode(f, FRAME_CANCEL, m, NULL, why);
}

int
msg_shutdown_encode(struct msg_body *b)
{
	return empty_encode(b, FRAME_SHUTDOWN);
}

int
msg_shutdown_decode(const struct frame *f, const char **why)
{
	return frame_check(f, FRAME_SHUTDOWN, why);
}

int
msg_started_encode(struct msg_body *b, const struct msg_started *m,
    const char **why)
{
	return json_encode(b, FRAME_STARTED, m, why);
}

int
msg_started_decode(const struct frame *f, struct msg_started *m,
    const char **why)
{
	memset(m, 0, sizeof(*m));
	return json_decode(f, FRAME_STARTED, m, NULL, why);
}

int
msg_output_encode(struct msg_body *b, const struct msg_output *m,
    const char **why)
{
	memset(b, 0, sizeof(*b));
	if (m->stream != FRAME_STDOUT && m->stream != FRAME_STDERR)
		return refuse(why, "stream", -EINVAL);
	if (m->length < 1 || m->length > FRAME_OUTPUT_CHUNK || m->data == NULL)
		return refuse(why, "body length", -EINVAL);
	b->type = FRAME_OUTPUT;
	b->flags = m->stream;
	b->data = m->data;
	b->length = m->length;
	return 0;
}

int
msg_output_decode(const struct frame *f, struct msg_output *m,
    const char **why)
{
	int	 rc;

	memset(m, 0, sizeof(*m));
	if ((rc = frame_check(f, FRAME_OUTPUT, why)) < 0)
		return rc;
	m->stream = f->flags;
	m->data = f->body;
	m->length = f->length;
	return 0;
}

int
msg_exit_encode(struct msg_body *b, const struct msg_exit *m,
    const char **why)
{
	return json_encode(b, FRAME_EXIT, m, why);
}

int
msg_exit_decode(const struct frame *f, struct msg_exit *m, const char **why)
{
	memset(m, 0, sizeof(*m));
	return json_decode(f, FRAME_EXIT, m, NULL, why);
}
