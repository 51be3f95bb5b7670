/*
 * The message codec.  Each JSON body is one table of its members
 * (members.h), which drives both its decoder and its encoder; a check
 * per type adds the rules between members, and the frame header's job
 * id, flags and body length are checked here before any body is parsed.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "members.h"
#include "msg.h"

struct type {
	int			 job;		/* 1: a job's frame (id not 0); 0: id 0 */
	uint32_t		 body_min;
	uint32_t		 body_max;
	const struct member	*members;	/* JSON bodies; NULL: raw or empty */
	int			(*check)(const void *msg, const char **why);
};

/* Strings with no limit of their own are bounded by the body's. */
#define STR_MAX		((int64_t)MSG_RUN_BODY_MAX)

/* A member of struct s: JSON name n, kind MEMBER_k, presence MEMBER_p. */
#define M(n, k, p, s, m)	.name = (n), .kind = MEMBER_##k,		\
				.presence = MEMBER_##p,			\
				.offset = offsetof(struct s, m)

/* rescued: another node took the attempt over (cluster mode). */
static const char *const cancel_reasons[] = {
	"canceled", "shutdown", "rescued", NULL
};

const char *const msg_exit_reasons[] = {
	"timeout", "canceled", "shutdown", "rescued", "spawn", "output limit",
	"verify", NULL
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

static const struct member hello_members[] = {
	{M("version", INT, REQUIRED, msg_hello, version), .max = INT_MAX},
	{M("pid", INT, REQUIRED, msg_hello, pid), .min = 1, .max = INT_MAX},
	{.name = NULL}
};

static const struct member limits_members[] = {
	{M("memory_mb", I64, OPTIONAL, msg_limits, memory_mb),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{M("cpu_seconds", I64, OPTIONAL, msg_limits, cpu_seconds),
	    .min = 1, .max = MSG_CPU_SECONDS_MAX},
	{M("open_files", I64, OPTIONAL, msg_limits, open_files),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{M("processes", I64, OPTIONAL, msg_limits, processes),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{M("output_mb", I64, OPTIONAL, msg_limits, output_mb),
	    .min = 1, .max = MSG_LIMIT_MAX},
	{.name = NULL}
};

static const struct member file_members[] = {
	{M("path", STR, REQUIRED, msg_file, path), .max = STR_MAX,
	    .valid = path_ok},
	{M("name", STR, REQUIRED, msg_file, name), .min = 1, .max = STR_MAX},
	{M("size", I64, REQUIRED, msg_file, size), .max = MSG_INT_MAX},
	{M("sha256", STR, REQUIRED, msg_file, sha256), .min = 64, .max = 64,
	    .valid = sha256_ok},
	{.name = NULL}
};

static const struct member run_members[] = {
	{M("attempt", INT, OPTIONAL, msg_run, attempt),
	    .min = 1, .max = MSG_ATTEMPT_MAX, .none = 1},
	{M("command", STR, OPTIONAL, msg_run, command), .max = MSG_COMMAND_MAX},
	{M("shell", INT, OPTIONAL, msg_run, shell), .min = 0, .max = 1,
	    .none = 0},
	{M("argv", ARGV, OPTIONAL, msg_run, argv),
	    .aux = offsetof(struct msg_run, argc), .min = 1, .max = MSG_ARGV_MAX,
	    .item_max = MSG_COMMAND_MAX},
	{M("env", ENV, OPTIONAL, msg_run, env),
	    .aux = offsetof(struct msg_run, nenv), .max = MSG_ENV_MAX,
	    .valid = env_name_ok},
	{M("cwd", STR, OPTIONAL, msg_run, cwd), .max = STR_MAX,
	    .valid = path_ok},
	{M("stdin", STRN, OPTIONAL, msg_run, stdin_data),
	    .aux = offsetof(struct msg_run, stdin_len), .max = STR_MAX},
	{M("timeout_ms", I64, OPTIONAL, msg_run, timeout_ms),
	    .max = MSG_INT_MAX},
	{M("kill_grace_ms", I64, OPTIONAL, msg_run, kill_grace_ms),
	    .max = MSG_INT_MAX, .none = MSG_KILL_GRACE_MS},
	{M("limits", OBJ, OPTIONAL, msg_run, limits),
	    .aux = sizeof(struct msg_limits), .sub = limits_members},
	{M("file", OBJ, OPTIONAL, msg_run, file),
	    .aux = sizeof(struct msg_file), .sub = file_members},
	{.name = NULL}
};

static const struct member cancel_members[] = {
	{M("reason", WORD, REQUIRED, msg_cancel, reason),
	    .words = cancel_reasons},
	{.name = NULL}
};

static const struct member started_members[] = {
	{M("pid", INT, REQUIRED, msg_started, pid), .min = 1, .max = INT_MAX},
	{M("started_at", I64, REQUIRED, msg_started, started_at),
	    .min = 1, .max = MSG_INT_MAX},
	{.name = NULL}
};

static const struct member exit_members[] = {
	{M("exit_code", INT, NULLABLE, msg_exit, exit_code),
	    .min = 0, .max = 255, .none = -1},
	{M("signal", INT, NULLABLE, msg_exit, signal),
	    .min = 1, .max = MSG_SIGNAL_MAX, .none = -1},
	{M("cpu_ms", I64, REQUIRED, msg_exit, cpu_ms), .max = MSG_INT_MAX},
	{M("max_rss_kb", I64, REQUIRED, msg_exit, max_rss_kb),
	    .max = MSG_INT_MAX},
	{M("reason", WORD, NULLABLE, msg_exit, reason),
	    .words = msg_exit_reasons},
	{M("error", TEXT, NULLABLE, msg_exit, error),
	    .min = 1, .max = MSG_ERROR_MAX},
	{M("finished_at", I64, REQUIRED, msg_exit, finished_at),
	    .min = 1, .max = MSG_INT_MAX},
	{.name = NULL}
};

static int	run_check(const void *, const char **);

static const struct type types[FRAME_TYPE_MAX + 1] = {
	[FRAME_HELLO] = {0, 1, MSG_SMALL_BODY_MAX, hello_members, NULL},
	[FRAME_READY] = {0, 0, 0, NULL, NULL},
	[FRAME_RUN] = {1, 1, MSG_RUN_BODY_MAX, run_members, run_check},
	[FRAME_CANCEL] = {1, 1, MSG_SMALL_BODY_MAX, cancel_members, NULL},
	[FRAME_SHUTDOWN] = {0, 0, 0, NULL, NULL},
	[FRAME_STARTED] = {1, 1, MSG_SMALL_BODY_MAX, started_members, NULL},
	[FRAME_OUTPUT] = {1, 1, FRAME_OUTPUT_CHUNK, NULL, NULL},
	[FRAME_EXIT] = {1, 1, MSG_EXIT_BODY_MAX, exit_members, NULL},
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

struct frame
msg_body_frame(const struct msg_body *b, uint64_t job_id)
{
	struct frame f;

	memset(&f, 0, sizeof(f));
	f.type = b->type;
	f.flags = b->flags;
	f.job_id = job_id;
	f.length = (uint32_t)b->length;
	f.body = b->data;
	return f;
}

void
msg_body_free(struct msg_body *b)
{
	members_text_free(b->buf);
	memset(b, 0, sizeof(*b));
}

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

/*
 * Decodes a JSON body into msg (zeroed by the caller).  With keep, the
 * parsed JSON is handed over whatever the result, as strings point in it.
 */
static int
json_decode(const struct frame *f, uint16_t type, void *msg, void **keep,
    const char **why)
{
	const struct type	*t = &types[type];
	int			 rc;

	if ((rc = frame_check(f, type, why)) < 0 ||
	    (rc = members_decode(t->members, f->body, f->length, msg, keep,
	    why)) < 0)
		return rc;
	if (t->check != NULL && t->check(msg, why) < 0)
		return -EPROTO;
	return 0;
}

static int
json_encode(struct msg_body *b, uint16_t type, const void *msg,
    const char **why)
{
	const struct type	*t = &types[type];
	char			*text;
	size_t			 n;
	int			 rc;

	memset(b, 0, sizeof(*b));
	if (t->check != NULL && t->check(msg, why) < 0)
		return -EINVAL;
	if ((rc = members_encode(t->members, msg, &text, &n, why)) < 0)
		return rc;
	if (n > t->body_max) {
		members_text_free(text);
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
	members_free(m->json);
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
