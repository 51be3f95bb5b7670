/*
 * The job spec from command-line options, shared by run, add, upload and
 * schedule add: each option becomes a field of the API's spec (docs/api.md)
 * and the words after the options become its command.
 */
#ifndef RUNNEL_CLI_SPEC_H
#define RUNNEL_CLI_SPEC_H

#include <getopt.h>
#include <cjson/cJSON.h>

struct cli;

struct spec {
	cJSON		*json;		/* the spec object */
	char		*idem_key;	/* Idempotency-Key, or NULL */
	int		 argv_form;	/* --argv */
};

/* The spec options for getopt_long and their short forms (SPEC_SHORT).
 * spec_options_with() appends them to a command's own options in buf
 * (which must hold the command's own + SPEC_OPTIONS entries). */
#define SPEC_OPTIONS	20
#define SPEC_SHORT	"q:p:n:e:t:r:a:d:l:"
struct option		*spec_options_with(const struct option *own,
			    struct option *buf, size_t size);

int	spec_init(struct spec *);
void	spec_clear(struct spec *);

/* Takes option c with its argument; 0 when it was a spec option, 1 when
 * it is not one, EXIT_USAGE (said) when its value is wrong. */
int	spec_option(struct spec *, int c, const char *arg, const char *cmd);

/* The command line of run and add: --url, --json when json is not NULL
 * (it is set then), the job options, then the command.  0, or an exit
 * status after saying why. */
int	spec_from_args(struct spec *, struct cli *, int argc, char **argv,
	    const char *cmd, int *json);

/* Sets the command from the words left: 0, or EXIT_USAGE (said). */
int	spec_command(struct spec *, int argc, char **argv, const char *cmd);

/* Seconds from "90", "1.5", "5m", "2h", "1d"; -1 when s is none. */
double	spec_seconds(const char *s);

#endif
