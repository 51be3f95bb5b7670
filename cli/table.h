/*
 * Human output shared by the listing commands: a table whose columns are
 * as wide as their widest cell and whose last column is cut to fit the
 * terminal, the short forms of a job's fields (age, duration, exit,
 * what it runs, colored state), and the one-request call these commands
 * share (api_call).
 */
#ifndef RUNNEL_CLI_TABLE_H
#define RUNNEL_CLI_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "cli.h"

#define TABLE_MAX_COLS	10

struct table {
	int		  ncols;
	const char	 *head[TABLE_MAX_COLS];
	int		  max[TABLE_MAX_COLS];	/* columns; 0: no cap */
	char		**cells;	/* nrows * ncols, cleaned text */
	const char	**sgr;		/* a color per cell, or NULL */
	size_t		  nrows, cap;
};

/* heads: ncols column titles (at most TABLE_MAX_COLS).  0 or -ENOMEM. */
int	table_init(struct table *, const char *const *heads, int ncols);
void	table_free(struct table *);

/* Adds an empty row; its cells are set with table_set.  0 or -ENOMEM. */
int	table_row(struct table *);
/* Sets cell col of the last row to a copy of text (control characters
 * become spaces, bad UTF-8 '?'), colored sgr when printed in color. */
int	table_set(struct table *, int col, const char *sgr, const char *text);

/* Prints the table to stdout.  width: the terminal's columns, 0 for no
 * cutting; color: whether the cells' colors are used. */
void	table_print(const struct table *, int width, int color);

/* Columns the UTF-8 text s takes (one per character). */
size_t	table_columns(const char *s);

/* The SGR escape for a job or worker state (NULL for none). */
const char	*fmt_state_sgr(const char *state);
#define FMT_RESET	"\033[0m"

/* "3m" since the RFC 3339 time ts, or "-" when ts is NULL. */
void	fmt_age(const char *ts, char *buf, size_t size);
/* From started_at to finished_at (or now, while it runs), or "-". */
void	fmt_duration(const cJSON *job, char *buf, size_t size);
/* The exit code, "SIGKILL" for a signal, or "-". */
void	fmt_exit(const cJSON *job, char *buf, size_t size);
/* "SIGTERM" for 15; "sig N" for one without a name. */
void	fmt_signal(long long sig, char *buf, size_t size);
/* What the job runs: its name, else its command or argv, else its file.
 * Returns a malloc'd string (the caller frees it) or NULL. */
char	*fmt_what(const cJSON *job);
/* A local RFC 3339 time with " (3m ago)" or " (in 3m)"; ts as is when it
 * is not a time. */
void	fmt_time(const char *ts, char *buf, size_t size);

/* Connects and sends method path (body: JSON text or NULL); 0 with the
 * answer in *r when its status is 2xx (the caller clears it), else the
 * exit status after saying why (what names the request: "job 42"). */
int	api_call(struct cli *, const char *method, const char *path,
	    const char *body, const char *what, struct reply *r);

/* Writes an answer's body as it came, ending it with a newline. */
void	api_print_body(const struct reply *);

/* Prints a JSON value unformatted on one line: 0, or EXIT_FAIL. */
int	fmt_print_json(const cJSON *);

#endif
