/*
 * runnel: the command-line client of runneld.  main() finds the command in
 * the table (commands.c) and hands it the rest of the line; each command
 * parses its own options, talks to the server through client.h and
 * returns the exit status.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "term.h"

void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("runnel: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {	/* NULL: getopt has said what is wrong */
		fprintf(stderr, "runnel %s: ", cmd);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "(runnel %s --help says how)\n", cmd);
	return EXIT_USAGE;
}

int
cli_parse_id(const char *cmd, const char *s, unsigned long long *id)
{
	char *end;

	if (*s == '#')
		s++;
	if (*s < '0' || *s > '9')
		return cli_usage(cmd, "%s is not a job id", s);
	*id = strtoull(s, &end, 10);
	if (*end != '\0' || *id == 0 || *id > (1ull << 53))
		return cli_usage(cmd, "%s is not a job id", s);
	return 0;
}

int
cli_options(struct cli *cli, const char *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{"json", no_argument, NULL, CLI_OPT_JSON},
		{NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == CLI_OPT_URL)
			cli->url_flag = optarg;
		else if (c == CLI_OPT_JSON)
			cli->json = 1;
		else
			return cli_usage(cmd, NULL);
	}
	return 0;
}

int
cli_connect(struct cli *cli)
{
	struct config	cfg;
	int		rc;

	if (cli->client.curl != NULL)
		return 0;
	if ((rc = config_load(&cfg, cli->url_flag)) != 0)
		return rc;
	rc = client_init(&cli->client, cfg.url, cfg.token) < 0 ? EXIT_USAGE : 0;
	config_clear(&cfg);
	return rc;
}

int
cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

static const struct command *
command_find(const char *name)
{
	for (const struct command *c = cli_commands; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void
cli_help(const char *name)
{
	const struct command *c = name ? command_find(name) : NULL;

	if (c != NULL) {
		printf("usage: runnel %s\n\n%s", c->usage, c->help);
		return;
	}
	printf("usage: runnel COMMAND [options] [arguments]\n\n"
	    "The client of runneld, the job runner.  Commands:\n\n");
	for (c = cli_commands; c->name != NULL; c++)
		printf("  %-10s %s\n", c->name, c->summary);
	printf("\n"
	    "Every command takes --url URL and --help.  The server is --url,\n"
	    "else RUNNEL_URL, else url in ~/.config/runnel/config, else\n"
	    "%s.  The token is RUNNEL_TOKEN, else token or token_file in\n"
	    "the config file.  Exit status: the job's for run and wait; else 0,\n"
	    "or 2 usage, 3 not found, 4 unauthorized, 5 server unreachable,\n"
	    "6 refused, 7 server error.  See runnel(1).\n", CONFIG_DEFAULT_URL);
}

int
main(int argc, char **argv)
{
	const struct command	*c;
	struct cli		 cli;
	char			 name[64];
	int			 rc;

	memset(&cli, 0, sizeof(cli));
	cli.prog = "runnel";
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		cli_help(NULL);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("runnel %s\n", RUNNEL_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 2 && command_find(argv[2]) == NULL) {
			cli_warnx("no command %s (runnel help lists them)", argv[2]);
			return EXIT_USAGE;
		}
		cli_help(argc > 2 ? argv[2] : NULL);
		return EXIT_OK;
	}
	if ((c = command_find(argv[1])) == NULL) {
		cli_warnx("no command %s (runnel help lists them)", argv[1]);
		return EXIT_USAGE;
	}
	if (cli_wants_help(argc - 1, argv + 1)) {
		cli_help(c->name);
		return EXIT_OK;
	}
	term_catch_signals();
	/* getopt's messages then start "runnel CMD:" */
	snprintf(name, sizeof(name), "runnel %s", c->name);
	argv[1] = name;
	rc = c->run(&cli, argc - 1, argv + 1);
	if (cli.client.curl != NULL)
		client_close(&cli.client);
	curl_global_cleanup();
	if (fflush(stdout) != 0 && rc == EXIT_OK) {
		cli_warnx("standard output: write failed");
		rc = EXIT_FAIL;
	}
	return rc;
}
