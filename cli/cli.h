/*
 * runnel, the command-line client: its exit codes, the state every
 * command shares, and the command table's entries.  Each command lives in
 * a file of its own (cmd_*.c) and returns the process's exit status.
 */
#ifndef RUNNEL_CLI_H
#define RUNNEL_CLI_H

#include "client.h"

/* Exit statuses of the client's own (documented in docs/cli.md and
 * runnel.1).  A command that reports a job's outcome exits with the job's
 * status instead: its exit code, 128+signal when a signal ended it. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* a job failed without an exit status */
	EXIT_USAGE = 2,		/* bad command line or config file */
	EXIT_NOT_FOUND = 3,	/* no such job, queue, schedule or attempt */
	EXIT_AUTH = 4,		/* token missing or wrong (401, 403) */
	EXIT_UNREACHABLE = 5,	/* no answer from the server */
	EXIT_REFUSED = 6,	/* the server refused the request (other 4xx) */
	EXIT_SERVER = 7,	/* the server failed (5xx) */
};

/* Long options every command takes (getopt_long values). */
#define CLI_OPT_URL	0x100
#define CLI_OPT_JSON	0x101

struct cli {
	struct client	 client;
	const char	*prog;		/* "runnel" */
	const char	*url_flag;	/* --url, before the environment */
	int		 json;		/* --json: machine output */
};

struct command {
	const char	*name;
	int		(*run)(struct cli *, int argc, char **argv);
	const char	*summary;	/* one line for "runnel help" */
	const char	*usage;		/* one line after "usage: runnel " */
	const char	*help;		/* what it does and its options */
};

/* Connects cli->client to the server the flags, environment and config
 * file name; prints why and returns an exit status when it cannot. */
int	cli_connect(struct cli *);

/* Takes --url and --json (anywhere: getopt permutes), leaving the other
 * words from argv[optind] on; 0 or EXIT_USAGE after saying why. */
int	cli_options(struct cli *, const char *cmd, int argc, char **argv);

/* Prints "runnel: " and the message to stderr. */
void	cli_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a usage error for command cmd (fmt NULL: only the hint, after
 * getopt's own message) and returns EXIT_USAGE. */
int	cli_usage(const char *cmd, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Parses a job id (a positive integer); 0 or EXIT_USAGE. */
int	cli_parse_id(const char *cmd, const char *s, unsigned long long *id);

/* 1 when argv[i] is --help or -h: the command then prints its help. */
int	cli_wants_help(int argc, char **argv);
void	cli_help(const char *name);

extern const struct command cli_commands[];

int	cmd_run(struct cli *, int, char **);
int	cmd_add(struct cli *, int, char **);
int	cmd_upload(struct cli *, int, char **);
int	cmd_ls(struct cli *, int, char **);
int	cmd_show(struct cli *, int, char **);
int	cmd_log(struct cli *, int, char **);
int	cmd_wait(struct cli *, int, char **);
int	cmd_cancel(struct cli *, int, char **);
int	cmd_retry(struct cli *, int, char **);
int	cmd_rm(struct cli *, int, char **);
int	cmd_queue(struct cli *, int, char **);
int	cmd_schedule(struct cli *, int, char **);
int	cmd_stats(struct cli *, int, char **);
int	cmd_workers(struct cli *, int, char **);

#endif
