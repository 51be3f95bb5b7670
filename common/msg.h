/*
 * The message codec: the one definition of every frame body between
 * runneld and runnel-worker (docs/protocol.md), linked by both programs
 * as OpenBSD's imsg is.  Control bodies are JSON objects; OUTPUT bodies
 * are raw bytes.  Encoding and decoding apply the same checks: integers
 * in range, members of the right type, required members present, lengths
 * checked before anything is allocated, and the frame header's job id and
 * flags what the type wants.  Members a body does not define are ignored.
 *
 * Every decoder returns 0 or -EPROTO (-ENOMEM when memory ran out) and
 * never crashes, whatever the bytes; on -EPROTO *why, if why is not NULL,
 * names the member or the rule that was broken (a static string).
 * Encoders return 0, -EINVAL for a message out of its ranges (*why says
 * which member), -EMSGSIZE for a body over its limit, or -ENOMEM.
 */
#ifndef RUNNEL_MSG_H
#define RUNNEL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "members.h"

/* Largest integer a JSON number (a double) holds exactly. */
#define MSG_INT_MAX		(1LL << 53)
#define MSG_ATTEMPT_MAX		1000000
#define MSG_KILL_GRACE_MS	5000		/* RUN's kill_grace_ms when absent */
#define MSG_COMMAND_MAX		131071		/* bytes of command, of each argv string */
#define MSG_ARGV_MAX		4096
#define MSG_ENV_MAX		1024
#define MSG_LIMIT_MAX		1048576		/* memory_mb, open_files, processes, output_mb */
#define MSG_CPU_SECONDS_MAX	31622400
#define MSG_SIGNAL_MAX		64
#define MSG_ERROR_MAX		255		/* bytes of EXIT's error */
/* Body limits, checked before a body is parsed. */
#define MSG_SMALL_BODY_MAX	1024		/* HELLO, CANCEL, STARTED */
#define MSG_EXIT_BODY_MAX	4096
#define MSG_RUN_BODY_MAX	FRAME_MAX_BODY

/*
 * An encoded frame body with its header's type and flags.  data points
 * at length bytes (NULL when empty): into buf when the encoder allocated
 * it, else into the message it came from (OUTPUT), which must outlive it.
 */
struct msg_body {
	uint16_t	 type;
	uint16_t	 flags;
	const uint8_t	*data;
	size_t		 length;
	char		*buf;
};

/* Frees what an encoder allocated; safe on a zeroed or failed body. */
void	msg_body_free(struct msg_body *);
/* The frame a reader cuts from b sent about job_id (b must outlive it). */
struct frame	msg_body_frame(const struct msg_body *b, uint64_t job_id);

/* HELLO, worker -> runneld, job 0: the worker's first frame. */
struct msg_hello {
	int		 version;	/* FRAME_VERSION it speaks; 0 ... INT_MAX */
	int		 pid;		/* 1 ... INT_MAX */
};

int	msg_hello_encode(struct msg_body *, const struct msg_hello *,
	    const char **why);
int	msg_hello_decode(const struct frame *, struct msg_hello *,
	    const char **why);

/* READY, worker -> runneld, job 0, empty: idle, after HELLO. */
int	msg_ready_encode(struct msg_body *);
int	msg_ready_decode(const struct frame *, const char **why);

/* A job's limits; 0 is none.  Absent from the body when 0. */
struct msg_limits {
	int64_t		 memory_mb;	/* 1 ... MSG_LIMIT_MAX */
	int64_t		 cpu_seconds;	/* 1 ... MSG_CPU_SECONDS_MAX */
	int64_t		 open_files;	/* 1 ... MSG_LIMIT_MAX */
	int64_t		 processes;	/* 1 ... MSG_LIMIT_MAX */
	int64_t		 output_mb;	/* 1 ... MSG_LIMIT_MAX */
};

/* An upload job's stored file; all zero when the job has none. */
struct msg_file {
	const char	*path;		/* absolute */
	const char	*name;		/* not empty */
	int64_t		 size;		/* bytes, 0 ... MSG_INT_MAX */
	const char	*sha256;	/* 64 lower-case hex digits */
};

/*
 * RUN, runneld -> worker, the job's id: the job to run.  Exactly one of
 * command and argv, or neither for an upload job (file.path set).
 * Encoding reads the pointers (the caller's); a decoded message owns
 * what they point at until msg_run_free.
 */
struct msg_run {
	int		 attempt;	/* 1 ... MSG_ATTEMPT_MAX; absent: 1 */
	const char	*command;	/* shell form, or NULL */
	int		 shell;		/* 1: through /bin/sh even when it could
					   be exec'd directly (worker/direct.h) */
	const char	**argv;		/* exec form, argc strings, or NULL */
	size_t		 argc;		/* 0, or 1 ... MSG_ARGV_MAX */
	struct member_env	*env;		/* nenv entries, or NULL */
	size_t		 nenv;		/* 0 ... MSG_ENV_MAX */
	const char	*cwd;		/* absolute, or NULL: a scratch directory */
	const char	*stdin_data;	/* NULL: /dev/null */
	size_t		 stdin_len;	/* strlen(stdin_data): no NUL travels */
	int64_t		 timeout_ms;	/* 0 (none) ... MSG_INT_MAX */
	int64_t		 kill_grace_ms;	/* 0 ... MSG_INT_MAX; absent: MSG_KILL_GRACE_MS */
	struct msg_limits limits;
	struct msg_file	 file;
	void		*json;		/* decoded: owns the strings */
};

int	msg_run_encode(struct msg_body *, const struct msg_run *,
	    const char **why);
/* Free the message with msg_run_free whatever the result. */
int	msg_run_decode(const struct frame *, struct msg_run *,
	    const char **why);
void	msg_run_free(struct msg_run *);

/*
 * CANCEL, runneld -> worker, the job's id: end the job's process group.
 * A decoded reason points at the codec's own string.
 */
struct msg_cancel {
	const char	*reason;	/* "canceled" or "shutdown" */
};

int	msg_cancel_encode(struct msg_body *, const struct msg_cancel *,
	    const char **why);
int	msg_cancel_decode(const struct frame *, struct msg_cancel *,
	    const char **why);

/* SHUTDOWN, runneld -> worker, job 0, empty: exit once idle. */
int	msg_shutdown_encode(struct msg_body *);
int	msg_shutdown_decode(const struct frame *, const char **why);

/* STARTED, worker -> runneld, the job's id: its process exists. */
struct msg_started {
	int		 pid;		/* 1 ... INT_MAX */
	int64_t		 started_at;	/* ms since the epoch, 1 ... MSG_INT_MAX */
};

int	msg_started_encode(struct msg_body *, const struct msg_started *,
	    const char **why);
int	msg_started_decode(const struct frame *, struct msg_started *,
	    const char **why);

/*
 * OUTPUT, worker -> runneld, the job's id: raw bytes of one stream, the
 * flags saying which.  Neither side copies: data points into the frame
 * (decoded) or at the caller's bytes (encoded).
 */
struct msg_output {
	uint16_t	 stream;	/* FRAME_STDOUT or FRAME_STDERR */
	const uint8_t	*data;
	size_t		 length;	/* 1 ... FRAME_OUTPUT_CHUNK */
};

int	msg_output_encode(struct msg_body *, const struct msg_output *,
	    const char **why);
int	msg_output_decode(const struct frame *, struct msg_output *,
	    const char **why);

/*
 * EXIT, worker -> runneld, the job's id: how the job ended; also says
 * the worker is idle again.  A decoded reason points at the codec's own
 * string.
 */
struct msg_exit {
	int		 exit_code;	/* 0 ... 255, -1 (null) when none */
	int		 signal;	/* 1 ... MSG_SIGNAL_MAX, -1 (null) when none */
	int64_t		 cpu_ms;	/* 0 ... MSG_INT_MAX */
	int64_t		 max_rss_kb;	/* 0 ... MSG_INT_MAX */
	const char	*reason;	/* NULL, or one of msg_exit_reasons */
	char		 error[MSG_ERROR_MAX + 1];	/* "" (null) or the detail */
	int64_t		 finished_at;	/* ms since the epoch, 1 ... MSG_INT_MAX */
};

/* "timeout", "canceled", "shutdown", "spawn", "output limit", "verify", NULL. */
extern const char *const msg_exit_reasons[];

int	msg_exit_encode(struct msg_body *, const struct msg_exit *,
	    const char **why);
int	msg_exit_decode(const struct frame *, struct msg_exit *,
	    const char **why);

#endif
