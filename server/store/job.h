/*
 * The job: its fields as stored, its states and the one transition check.
 * Modules refer to jobs by id; a struct job is a snapshot read from or
 * about to be written to the store.
 */
#ifndef RUNNEL_JOB_H
#define RUNNEL_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

enum job_state {
	JOB_SCHEDULED,
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_CANCELED,
	JOB_STATE_COUNT
};

enum job_type {
	JOB_COMMAND,
	JOB_UPLOAD,
	JOB_TYPE_COUNT
};

#define JOB_NAME_MAX		200
#define JOB_QUEUE_MAX		64
#define JOB_PRIORITY_MAX	1000000
/* What a RUN message can carry (common/msg.h) is what a job may hold. */
#define JOB_COMMAND_MAX		MSG_COMMAND_MAX	/* the kernel's limit on one exec string */
#define JOB_ARGV_MAX		MSG_ARGV_MAX
#define JOB_ENV_MAX		MSG_ENV_MAX
#define JOB_TIMEOUT_MAX_MS	(366LL * 24 * 3600 * 1000)

/*
 * Absent values: 0 for timestamps and timeout_ms, -1 for exit_code,
 * signal, worker, cpu_ms and max_rss_kb, NULL for strings.
 * Strings are owned by the struct and released by job_clear().
 */
struct job {
	uint64_t	 id;
	enum job_type	 type;
	enum job_state	 state;
	char		*name;
	char		*queue;
	int64_t		 priority;
	char		*command;
	int		 shell;		/* 1: command through /bin/sh always */
	char		*argv_json;	/* JSON array text, exec form */
	char		*env_json;	/* JSON object text */
	char		*cwd;
	char		*stdin_data;	/* NUL-terminated; stdin_len bytes */
	size_t		 stdin_len;
	int		 has_stdin;
	int64_t		 timeout_ms;
	char		*limits_json;
	int		 attempts;
	int		 max_attempts;
	int64_t		 created_at;
	int64_t		 run_at;
	int64_t		 started_at;
	int64_t		 finished_at;
	int		 exit_code;
	int		 signal;
	char		*error;
	int		 worker;
	int		 pid;		/* live only: not stored */
	char		*node;		/* cluster: the node of the current
					 * attempt; NULL on SQLite, before a
					 * claim and after a requeue */
	int64_t		 stdout_bytes;
	int64_t		 stderr_bytes;
	int64_t		 cpu_ms;
	int64_t		 max_rss_kb;
	char		*file_name;
	int64_t		 file_size;
	char		*file_sha256;
	char		*after_json;	/* JSON array of job ids, or NULL */
	int		 deps_left;	/* of those, not succeeded yet */
	uint64_t	*after;		/* the same ids (job_after_parse) */
	size_t		 nafter;
	uint64_t	 schedule_id;	/* the schedule that made it, or 0 */
	int64_t		 scheduled_for;	/* its tick (ms), or 0 */
	char		*webhooks_json;	/* JSON array of {"url", "on"}, or NULL */
};

#define JOB_AFTER_MAX		1000
#define JOB_WEBHOOKS_MAX	10
#define JOB_WEBHOOK_URL_MAX	2048
#define JOB_ATTEMPTS_MAX	100

/* Sets every field to its absent value. */
void		 job_init(struct job *);
/* Frees the strings and re-initialises. */
void		 job_clear(struct job *);

/* A JSON array of job ids into a new array (free it).  0 or < 0. */
int		 job_ids_parse(const char *json, uint64_t **ids, size_t *n);
/* Fills after/nafter from after_json (once).  0 or < 0. */
int		 job_after_parse(struct job *);
const char	*job_state_name(enum job_state);
/* Returns the state for a name, or -1. */
int		 job_state_parse(const char *);
const char	*job_type_name(enum job_type);
int		 job_type_parse(const char *);
int		 job_state_finished(enum job_state);

/*
 * The one transition check: may a job go from `from` to `to`?
 * Finished jobs only leave their state through retry (-> queued).
 */
int		 job_can(enum job_state from, enum job_state to);

/* Clears the n jobs at jobs and frees the array. */
void		 job_free_all(struct job *jobs, size_t n);
/*
 * Makes dst a deep copy of src (strings duplicated; the parsed after
 * array is not copied).  0, or -ENOMEM with dst cleared.
 */
int		 job_copy(struct job *dst, const struct job *src);

#endif
