/*
 * Starting a job's process.  spawn_prepare() does all the work that may
 * allocate or fail in ordinary ways: argv, the environment, the exec
 * form's PATH search.  spawn_start() then vforks: the parent is
 * suspended until the child execs or gives up, which is what makes
 * spawning cheap, and why the child may only make system calls and
 * report a failure through memory it shares with the parent.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "spawn.h"

/* execvp's search path when the environment has none. */
#define SPAWN_DEFAULT_PATH	"/bin:/usr/bin"

/* The worker's own variables that a job inherits. */
static const char *const spawn_kept[] = {"PATH", "HOME", "LANG", "TMPDIR"};
#define SPAWN_NKEPT	(sizeof(spawn_kept) / sizeof(spawn_kept[0]))

const char *
spawn_stage_text(int stage)
{
	static const char *text[] = {
		"spawn failed", "pipe failed", "vfork failed", "setsid failed",
		"chdir failed", "dup2 failed", "setrlimit failed", "exec failed"
	};

	if (stage < 0 || stage > SPAWN_EXEC)
		return "spawn failed";
	return text[stage];
}

/* 1 when "NAME=..." entry has the name name (namelen bytes). */
static int
env_is(const char *entry, const char *name, size_t namelen)
{
	return strncmp(entry, name, namelen) == 0 && entry[namelen] == '=';
}

/* 1 when spec's env sets name, so that the worker's value is dropped. */
static int
spec_sets(const struct msg_run *spec, const char *name)
{
	for (size_t i = 0; i < spec->nenv; i++)
		if (strcmp(spec->env[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * The environment: the worker's PATH, HOME, LANG and TMPDIR, then the
 * spec's env, then RUNNEL_JOB_ID and RUNNEL_ATTEMPT.  The spec's entries
 * are packed in one buffer; the worker's point into its own environ.
 */
static int
spawn_env(struct spawn *s, uint64_t job_id, const struct msg_run *spec)
{
	const struct member_env	*e;
	size_t			 n = 0, bytes = 0, count = SPAWN_NKEPT + 6;
	char			*p;

	for (size_t i = 0; i < spec->nenv; i++) {
		e = &spec->env[i];
		bytes += strlen(e->name) + strlen(e->value) + 2;
		count++;
	}
	if ((s->envp = calloc(count, sizeof(char *))) == NULL)
		return -ENOMEM;
	if (bytes > 0 && (s->env_buf = malloc(bytes)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < SPAWN_NKEPT; i++) {
		const char *v = getenv(spawn_kept[i]);

		if (v != NULL && !spec_sets(spec, spawn_kept[i]))
			s->envp[n++] = (char *)v - strlen(spawn_kept[i]) - 1;
	}
	p = s->env_buf;
	for (size_t i = 0; i < spec->nenv; i++) {
		e = &spec->env[i];
		if (strcmp(e->name, "RUNNEL_JOB_ID") == 0 ||
		    strcmp(e->name, "RUNNEL_ATTEMPT") == 0 ||
		    (spec->file.path != NULL &&
		    (strcmp(e->name, "RUNNEL_FILE") == 0 ||
		    strcmp(e->name, "RUNNEL_FILE_NAME") == 0)))
			continue;
		s->envp[n++] = p;
		p += sprintf(p, "%s=%s", e->name, e->value) + 1;
	}
	snprintf(s->id_var, sizeof(s->id_var), "RUNNEL_JOB_ID=%llu",
	    (unsigned long long)job_id);
	snprintf(s->attempt_var, sizeof(s->attempt_var), "RUNNEL_ATTEMPT=%d",
	    spec->attempt);
	s->envp[n++] = s->id_var;
	s->envp[n++] = s->attempt_var;
	if (spec->file.path != NULL) {
		if (asprintf(&s->file_vars[0], "RUNNEL_FILE=%s",
		    spec->file.path) < 0 ||
		    asprintf(&s->file_vars[1], "RUNNEL_FILE_NAME=%s",
		    spec->file.name) < 0)
			return -ENOMEM;
		s->envp[n++] = s->file_vars[0];
		s->envp[n++] = s->file_vars[1];
	}
	s->envp[n] = NULL;
	return 0;
}

/* The job's PATH: its own environment's, as execvp would read it. */
static const char *
spawn_path_var(const struct spawn *s)
{
	for (char **e = s->envp; *e != NULL; e++)
		if (env_is(*e, "PATH", 4))
			return *e + 5;
	return SPAWN_DEFAULT_PATH;
}

/*
 * execvp's search, done here rather than in the child: the first
 * executable regular file named name in a directory of PATH.  A relative
 * directory is taken from the job's cwd, where the child will be.
 */
static int
spawn_lookup(struct spawn *s, const char *name, const char *cwd)
{
	const char	*dir = spawn_path_var(s), *end;
	size_t		 namelen = strlen(name), cap;
	struct stat	 st;
	int		 rc = -ENOENT;

	if (namelen == 0)
		return -ENOENT;
	cap = strlen(cwd) + strlen(dir) + namelen + 4;
	if ((s->path_buf = malloc(cap)) == NULL)
		return -ENOMEM;
	for (;; dir = end + 1) {
		int	 dirlen;

		end = strchr(dir, ':');
		dirlen = end ? (int)(end - dir) : (int)strlen(dir);
		if (dirlen == 0)
			snprintf(s->path_buf, cap, "%s/%s", cwd, name);
		else if (dir[0] != '/')
			snprintf(s->path_buf, cap, "%s/%.*s/%s", cwd, dirlen,
			    dir, name);
		else
			snprintf(s->path_buf, cap, "%.*s/%s", dirlen, dir, name);
		if (stat(s->path_buf, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(s->path_buf, X_OK) == 0) {
				s->path = s->path_buf;
				return 0;
			}
			rc = -EACCES;	/* as execvp: report it if nothing better */
		}
		if (end == NULL)
			return rc;
	}
}

/* argv from words, and the /bin/sh fallback for ENOEXEC scripts. */
static int
spawn_argv(struct spawn *s, const char *const *words, size_t argc,
    const char *cwd)
{
	if ((s->argv = calloc(argc + 1, sizeof(char *))) == NULL ||
	    (s->sh_argv = calloc(argc + 2, sizeof(char *))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < argc; i++)
		s->argv[i] = (char *)words[i];
	if (strchr(s->argv[0], '/') != NULL)
		s->path = s->argv[0];
	else {
		int rc = spawn_lookup(s, s->argv[0], cwd);

		if (rc < 0) {
			s->stage = SPAWN_EXEC;
			return rc;
		}
	}
	s->sh_argv[0] = "/bin/sh";
	s->sh_argv[1] = (char *)s->path;
	for (size_t i = 1; i < argc; i++)
		s->sh_argv[i + 1] = s->argv[i];
	return 0;
}

/*
 * PWD as /bin/sh exports it: the environment's when it names cwd,
 * else cwd's physical path.  Without it a program would see no PWD
 * where, through the shell, it saw one.
 */
static int
spawn_pwd(struct spawn *s, const char *cwd)
{
	struct stat	  a, b;
	char		**e, *real;

	for (e = s->envp; *e != NULL; e++)
		if (env_is(*e, "PWD", 3))
			break;
	if (*e != NULL && (*e)[4] == '/' && stat(*e + 4, &a) == 0 &&
	    stat(cwd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	if ((real = realpath(cwd, NULL)) == NULL)
		return errno == ENOMEM ? -ENOMEM : 0;
	if (asprintf(&s->pwd_var, "PWD=%s", real) < 0) {
		free(real);
		return -ENOMEM;
	}
	free(real);
	if (*e == NULL)
		e[1] = NULL;
	*e = s->pwd_var;
	return 0;
}

/* 1 when path (relative to cwd unless absolute) is an executable file. */
static int
spawn_runnable(const char *path, const char *cwd)
{
	struct stat	st;
	char		buf[8192];

	if (path[0] != '/') {
		if (snprintf(buf, sizeof(buf), "%s/%s", cwd, path) >=
		    (int)sizeof(buf))
			return 0;
		path = buf;
	}
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/*
 * The direct path for a shell-form command: 1 when it is set up, 0 when
 * the command goes to the shell, which then also says, as it always has,
 * that a program is missing (127) or not executable (126).
 */
static int
spawn_direct(struct spawn *s, const struct msg_run *spec, const char *cwd)
{
	size_t	 len = strlen(spec->command) + 1;
	int	 n, rc;

	if (spec->shell || len > 4096)
		return 0;
	if ((s->words_buf = malloc(len)) == NULL)
		return -ENOMEM;
	if ((n = direct_split(spec->command, s->words_buf, len, s->words)) == 0)
		return 0;
	if ((rc = spawn_argv(s, (const char *const *)s->words, (size_t)n,
	    cwd)) < 0) {
		free(s->argv);
		free(s->sh_argv);
		free(s->path_buf);
		s->argv = s->sh_argv = NULL;
		s->path_buf = NULL;
		s->path = NULL;
		s->stage = SPAWN_OK;
		return rc == -ENOMEM ? rc : 0;
	}
	if (s->path != s->path_buf && !spawn_runnable(s->path, cwd))
		goto shell;	/* a path with a '/': the shell says what is wrong */
	if ((rc = spawn_pwd(s, cwd)) < 0)
		return rc;
	s->direct = 1;
	return 1;
shell:
	free(s->argv);
	free(s->sh_argv);
	s->argv = s->sh_argv = NULL;
	s->path = NULL;
	return 0;
}

/*
 * limits -> rlimits.  memory_mb bounds the address space (RLIMIT_AS): an
 * allocation past it fails with ENOMEM in the job.  cpu_seconds sends
 * SIGXCPU, then SIGKILL a few seconds on.  processes counts every process
 * of the user, as Linux does.
 */
static void
spawn_limits(struct spawn *s, const struct msg_run *spec)
{
	const struct {
		int	 resource;
		int64_t	 value;
		int64_t	 scale;
		int64_t	 hard_extra;
	} l[] = {
		{RLIMIT_AS, spec->limits.memory_mb, 1 << 20, 0},
		{RLIMIT_CPU, spec->limits.cpu_seconds, 1, 5},
		{RLIMIT_NOFILE, spec->limits.open_files, 1, 0},
		{RLIMIT_NPROC, spec->limits.processes, 1, 0},
	};

	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		if (l[i].value <= 0)
			continue;
		s->limits[s->nlimits].resource = l[i].resource;
		s->limits[s->nlimits].rl.rlim_cur = (rlim_t)(l[i].value * l[i].scale);
		s->limits[s->nlimits].rl.rlim_max = (rlim_t)(l[i].value *
		    l[i].scale + l[i].hard_extra);
		s->nlimits++;
	}
}

int
spawn_prepare(struct spawn *s, uint64_t job_id, const struct msg_run *spec,
    const char *cwd)
{
	int	 rc;

	memset(s, 0, sizeof(*s));
	s->fd_in = s->fd_out = s->fd_err = -1;
	s->cwd = cwd;
	spawn_limits(s, spec);
	if ((rc = spawn_env(s, job_id, spec)) < 0)
		return rc;
	if (spec->command != NULL) {
		if ((rc = spawn_direct(s, spec, cwd)) != 0)
			return rc < 0 ? rc : 0;
		s->sh_vec[0] = "/bin/sh";
		s->sh_vec[1] = "-c";
		s->sh_vec[2] = spec->command;
		s->sh_vec[3] = NULL;
		s->argv = (char **)s->sh_vec;
		s->path = "/bin/sh";
		return 0;
	}
	return spawn_argv(s, spec->argv, spec->argc, cwd);
}

void
spawn_free(struct spawn *s)
{
	if (s->argv != (char **)s->sh_vec)
		free(s->argv);
	free(s->sh_argv);
	free(s->envp);
	free(s->env_buf);
	free(s->file_vars[0]);
	free(s->file_vars[1]);
	s->file_vars[0] = s->file_vars[1] = NULL;
	free(s->pwd_var);
	free(s->words_buf);
	s->pwd_var = s->words_buf = NULL;
	free(s->path_buf);
	s->argv = s->sh_argv = s->envp = NULL;
	s->env_buf = s->path_buf = NULL;
}

static void __attribute__((noreturn))
spawn_fail(struct spawn *s, int stage)
{
	s->err = errno;
	s->stage = stage;
	_exit(127);
}

/*
 * The child, between vfork and execve: it shares the parent's memory and
 * the parent waits, so only system calls here, no malloc, no stdio, and
 * no return.  Every worker fd is close-on-exec; close_range marks any
 * that someone forgot, which is cheap insurance.
 */
static void __attribute__((noreturn))
spawn_child(struct spawn *s, const sigset_t *mask, const struct sigaction *dfl)
{
	if (setsid() < 0)
		spawn_fail(s, SPAWN_SETSID);
	for (size_t i = 0; i < proc_nignored; i++)
		sigaction(proc_ignored[i], dfl, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (s->cwd != NULL && chdir(s->cwd) < 0)
		spawn_fail(s, SPAWN_CHDIR);
	if (dup2(s->fd_in, 0) < 0 || dup2(s->fd_out, 1) < 0 ||
	    dup2(s->fd_err, 2) < 0)
		spawn_fail(s, SPAWN_DUP);
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);

	/* The job's limits, in the job only: the worker is not bound. */
	for (int i = 0; i < s->nlimits; i++)
		if (setrlimit(s->limits[i].resource, &s->limits[i].rl) < 0)
			spawn_fail(s, SPAWN_RLIMIT);

	execve(s->path, s->argv, s->envp);
	if (errno == ENOEXEC && s->sh_argv != NULL)
		execve("/bin/sh", s->sh_argv, s->envp);
	spawn_fail(s, SPAWN_EXEC);
}

int
spawn_start(struct spawn *s)
{
	struct sigaction	 dfl;
	sigset_t		 mask;
	pid_t			 pid;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&mask);
	s->stage = SPAWN_OK;
	s->err = 0;
	if ((pid = vfork()) < 0) {
		s->stage = SPAWN_FORK;
		return -errno;
	}
	if (pid == 0)
		spawn_child(s, &mask, &dfl);
	if (s->stage != SPAWN_OK) {
		/* The child has _exited: reap it now, it is no job. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -s->err;
	}
	s->pid = pid;
	return 0;
}
