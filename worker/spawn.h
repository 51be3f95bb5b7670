/*
 * Starting a job's process with vfork+exec.  Everything the child needs
 * (argv, envp, the program's path) is built beforehand in the parent:
 * the child only makes async-signal-safe system calls, then execs.
 */
#ifndef RUNNEL_SPAWN_H
#define RUNNEL_SPAWN_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "direct.h"
#include "msg.h"

/* The step at which starting the process failed. */
enum spawn_stage {
	SPAWN_OK,
	SPAWN_PIPE,
	SPAWN_FORK,
	SPAWN_SETSID,
	SPAWN_CHDIR,
	SPAWN_DUP,
	SPAWN_RLIMIT,
	SPAWN_EXEC
};

struct spawn {
	const char	 *path;		/* program for execve */
	char		**argv;
	char		**sh_argv;	/* ENOEXEC fallback "/bin/sh path args", or NULL */
	char		**envp;
	const char	 *cwd;		/* NULL: stay in the worker's cwd */
	int		  fd_in;	/* become the job's fds 0, 1 and 2 */
	int		  fd_out;
	int		  fd_err;
	pid_t		  pid;
	/* Written by the child before it gives up; the parent reads them. */
	volatile int	  stage;
	volatile int	  err;
	/* Storage behind the pointers above. */
	char		 *path_buf;
	char		 *env_buf;
	char		  id_var[40];
	char		  attempt_var[32];
	char		 *file_vars[2];	/* RUNNEL_FILE=, RUNNEL_FILE_NAME= */
	char		 *pwd_var;	/* PWD=, as the shell would have set it */
	char		 *words_buf;	/* a command split for the direct path */
	char		 *words[DIRECT_MAX_WORDS + 1];
	int		  direct;	/* 1: a shell-form command exec'd directly */
	struct {
		int		 resource;
		struct rlimit	 rl;
	}		  limits[4];
	int		  nlimits;
	const char	 *sh_vec[4];
};

/*
 * Builds the process's argv, environment and program path for spec, the
 * RUN of job job_id, to run in cwd (absolute).  The exec form's PATH search happens here,
 * in the job's PATH.  A shell-form command with no shell syntax whose
 * program is found is exec'd directly (s->direct), with the PWD the shell
 * would have exported; any other goes to /bin/sh -c.  Returns 0; -ENOMEM; or -ENOENT / -EACCES when the
 * program cannot be found, with s->stage = SPAWN_EXEC.  Strings point
 * into spec, which must outlive s.  Free with spawn_free() in any case.
 */
int	spawn_prepare(struct spawn *s, uint64_t job_id,
	    const struct msg_run *spec, const char *cwd);

/*
 * Starts the process with s->fd_in/out/err as its fds 0, 1 and 2, in its
 * own session and process group (its pid), with default signal state.
 * Returns 0 with s->pid set; or a negative errno code with s->stage set,
 * a failed child being already reaped.
 */
int	spawn_start(struct spawn *s);

void	spawn_free(struct spawn *s);

/* "exec failed", "chdir failed", ... for an EXIT's error. */
const char *spawn_stage_text(int stage);

#endif
