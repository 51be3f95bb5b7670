/*
 * Job options to a spec object.  Values are checked only as far as the
 * command line needs (a number where a number goes); the server checks
 * the rest and its message is printed as it is.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spec.h"

#define STDIN_MAX	(8u << 20)	/* a bigger input is an upload */

enum {
	OPT_CWD = 0x200, OPT_AT, OPT_WEBHOOK, OPT_IDEM, OPT_STDIN, OPT_ARGV,
	OPT_SHELL,
};

static const struct option spec_long[] = {
	{"queue", required_argument, NULL, 'q'},
	{"priority", required_argument, NULL, 'p'},
	{"name", required_argument, NULL, 'n'},
	{"env", required_argument, NULL, 'e'},
	{"cwd", required_argument, NULL, OPT_CWD},
	{"timeout", required_argument, NULL, 't'},
	{"retries", required_argument, NULL, 'r'},
	{"after", required_argument, NULL, 'a'},
	{"delay", required_argument, NULL, 'd'},
	{"at", required_argument, NULL, OPT_AT},
	{"limit", required_argument, NULL, 'l'},
	{"webhook", required_argument, NULL, OPT_WEBHOOK},
	{"idempotency-key", required_argument, NULL, OPT_IDEM},
	{"stdin", required_argument, NULL, OPT_STDIN},
	{"argv", no_argument, NULL, OPT_ARGV},
	{"shell", no_argument, NULL, OPT_SHELL},
	{NULL, 0, NULL, 0},
};

struct option *
spec_options_with(const struct option *own, struct option *buf, size_t size)
{
	size_t n = 0;

	for (; own != NULL && own->name != NULL && n + 1 < size; own++)
		buf[n++] = *own;
	for (const struct option *o = spec_long; o->name && n + 1 < size; o++)
		buf[n++] = *o;
	memset(&buf[n], 0, sizeof(buf[n]));
	return buf;
}

int
spec_init(struct spec *s)
{
	memset(s, 0, sizeof(*s));
	return (s->json = cJSON_CreateObject()) == NULL ? -ENOMEM : 0;
}

void
spec_clear(struct spec *s)
{
	cJSON_Delete(s->json);
	free(s->idem_key);
	memset(s, 0, sizeof(*s));
}

double
spec_seconds(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || v < 0 || v != v)
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		v *= 60, end++;
	else if (*end == 'h')
		v *= 3600, end++;
	else if (*end == 'd')
		v *= 86400, end++;
	return *end == '\0' ? v : -1;
}

static int
parse_int(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return end == s || *end != '\0' || errno != 0 ? -EINVAL : 0;
}

/* A size in MiB from "512", "512M", "2G", "4096K". */
static int
parse_mib(const char *s, long long *mib)
{
	char		*end;
	double		 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || v < 0)
		return -EINVAL;
	switch (toupper((unsigned char)*end)) {
	case 'K': v /= 1024; end++; break;
	case 'M': end++; break;
	case 'G': v *= 1024; end++; break;
	case 'T': v *= 1024 * 1024; end++; break;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > 1e12)
		return -EINVAL;
	*mib = (long long)(v + 0.999999);	/* a part of a MiB is a MiB */
	return 0;
}

static cJSON *
object_in(cJSON *parent, const char *name)
{
	cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, name);

	if (o == NULL)
		o = cJSON_AddObjectToObject(parent, name);
	return o;
}

static cJSON *
array_in(cJSON *parent, const char *name)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(parent, name);

	if (a == NULL)
		a = cJSON_AddArrayToObject(parent, name);
	return a;
}

static int
set_string(cJSON *o, const char *name, const char *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	return cJSON_AddStringToObject(o, name, v) ? 0 : -ENOMEM;
}

static int
set_number(cJSON *o, const char *name, double v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	return cJSON_AddNumberToObject(o, name, v) ? 0 : -ENOMEM;
}

static int
limit_option(struct spec *s, const char *arg, const char *cmd)
{
	static const struct { const char *alias, *field; int size; } keys[] = {
		{"mem", "memory_mb", 1}, {"memory", "memory_mb", 1},
		{"memory_mb", "memory_mb", 0}, {"cpu", "cpu_seconds", 0},
		{"cpu_seconds", "cpu_seconds", 0}, {"files", "open_files", 0},
		{"open_files", "open_files", 0}, {"procs", "processes", 0},
		{"processes", "processes", 0}, {"output", "output_mb", 1},
		{"output_mb", "output_mb", 0},
	};
	const char	*eq = strchr(arg, '=');
	long long	 v;
	size_t		 i, klen;

	if (eq == NULL)
		return cli_usage(cmd, "--limit %s: expected KEY=VALUE", arg);
	klen = (size_t)(eq - arg);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].alias) == klen &&
		    strncmp(keys[i].alias, arg, klen) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		return cli_usage(cmd, "--limit %s: keys are mem, cpu, files, "
		    "procs and output", arg);
	if ((keys[i].size ? parse_mib(eq + 1, &v) : parse_int(eq + 1, &v)) < 0)
		return cli_usage(cmd, "--limit %s: %s is not a %s", arg, eq + 1,
		    keys[i].size ? "size (512M, 2G)" : "whole number");
	return set_number(object_in(s->json, "limits"), keys[i].field,
	    (double)v) < 0 ? EXIT_FAIL : 0;
}

/* The job's standard input from a file (or "-": ours), as the spec's
 * string: text only, since a JSON string cannot hold a NUL. */
static int
stdin_option(struct spec *s, const char *path, const char *cmd)
{
	FILE	*f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char	*buf = NULL;
	size_t	 len = 0, n;
	int	 rc = EXIT_FAIL;

	if (f == NULL) {
		cli_warnx("--stdin %s: %s", path, strerror(errno));
		return EXIT_USAGE;
	}
	if ((buf = malloc(STDIN_MAX + 1)) == NULL)
		goto out;
	while ((n = fread(buf + len, 1, STDIN_MAX + 1 - len, f)) > 0)
		len += n;
	if (ferror(f)) {
		cli_warnx("--stdin %s: %s", path, strerror(errno));
		rc = EXIT_USAGE;
		goto out;
	}
	if (len > STDIN_MAX || memchr(buf, '\0', len) != NULL) {
		rc = cli_usage(cmd, "--stdin %s: %s; send it with runnel upload",
		    path, len > STDIN_MAX ? "over 8 MiB" : "holds NUL bytes");
		goto out;
	}
	buf[len] = '\0';
	rc = set_string(s->json, "stdin", buf) < 0 ? EXIT_FAIL : 0;
out:
	free(buf);
	if (f != stdin && f != NULL)
		fclose(f);
	return rc;
}

static int
after_option(struct spec *s, const char *arg, const char *cmd)
{
	char			*copy, *tok, *save = NULL;
	unsigned long long	 id;
	int			 rc = 0;

	if ((copy = strdup(arg)) == NULL)
		return EXIT_FAIL;
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((rc = cli_parse_id(cmd, tok, &id)) == 0 &&
		    !cJSON_AddItemToArray(array_in(s->json, "after"),
		    cJSON_CreateNumber((double)id)))
			rc = EXIT_FAIL;
	}
	free(copy);
	return rc;
}

int
spec_option(struct spec *s, int c, const char *arg, const char *cmd)
{
	long long	 v;
	double		 secs;
	const char	*eq;
	cJSON		*hook;

	switch (c) {
	case 'q':
		return set_string(s->json, "queue", arg) < 0 ? EXIT_FAIL : 0;
	case 'n':
		return set_string(s->json, "name", arg) < 0 ? EXIT_FAIL : 0;
	case OPT_CWD:
		return set_string(s->json, "cwd", arg) < 0 ? EXIT_FAIL : 0;
	case OPT_AT:
		return set_string(s->json, "run_at", arg) < 0 ? EXIT_FAIL : 0;
	case 'p':
		if (parse_int(arg, &v) < 0)
			return cli_usage(cmd, "--priority %s: not an integer", arg);
		return set_number(s->json, "priority", (double)v) < 0 ?
		    EXIT_FAIL : 0;
	case 'r':
		if (parse_int(arg, &v) < 0 || v < 0 || v > 99)
			return cli_usage(cmd, "--retries %s: a number of retries, "
			    "0 ... 99", arg);
		return set_number(s->json, "max_attempts", (double)(v + 1)) < 0 ?
		    EXIT_FAIL : 0;
	case 't':
	case 'd':
		if ((secs = spec_seconds(arg)) < 0)
			return cli_usage(cmd, "--%s %s: seconds (90, 1.5, 5m, 2h, "
			    "1d)", c == 't' ? "timeout" : "delay", arg);
		return set_number(s->json, c == 't' ? "timeout" : "delay",
		    secs) < 0 ? EXIT_FAIL : 0;
	case 'e':
		if ((eq = strchr(arg, '=')) == NULL || eq == arg)
			return cli_usage(cmd, "--env %s: expected NAME=VALUE", arg);
		{
			char name[256];

			if ((size_t)(eq - arg) >= sizeof(name))
				return cli_usage(cmd, "--env: name too long");
			memcpy(name, arg, (size_t)(eq - arg));
			name[eq - arg] = '\0';
			return set_string(object_in(s->json, "env"), name,
			    eq + 1) < 0 ? EXIT_FAIL : 0;
		}
	case 'a':
		return after_option(s, arg, cmd);
	case 'l':
		return limit_option(s, arg, cmd);
	case OPT_WEBHOOK:
		if ((hook = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddStringToObject(hook, "url", arg) ||
		    !cJSON_AddItemToArray(array_in(s->json, "webhooks"), hook))
			return EXIT_FAIL;
		return 0;
	case OPT_IDEM:
		free(s->idem_key);
		return (s->idem_key = strdup(arg)) == NULL ? EXIT_FAIL : 0;
	case OPT_STDIN:
		return stdin_option(s, arg, cmd);
	case OPT_ARGV:
		s->argv_form = 1;
		return 0;
	case OPT_SHELL:
		cJSON_DeleteItemFromObjectCaseSensitive(s->json, "shell");
		return cJSON_AddTrueToObject(s->json, "shell") ? 0 : EXIT_FAIL;
	}
	return 1;
}

int
spec_from_args(struct spec *s, struct cli *cli, int argc, char **argv,
    const char *cmd, int *json)
{
	static const struct option with_json[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{"json", no_argument, NULL, CLI_OPT_JSON},
		{NULL, 0, NULL, 0},
	};
	static const struct option plain[] = {
		{"url", required_argument, NULL, CLI_OPT_URL},
		{NULL, 0, NULL, 0},
	};
	struct option	 opts[SPEC_OPTIONS + 4];
	int		 c, rc;

	spec_options_with(json ? with_json : plain, opts,
	    sizeof(opts) / sizeof(opts[0]));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+" SPEC_SHORT, opts, NULL)) != -1) {
		if (c == CLI_OPT_URL)
			cli->url_flag = optarg;
		else if (c == CLI_OPT_JSON && json != NULL)
			*json = 1;
		else if ((rc = spec_option(s, c, optarg, cmd)) != 0)
			return rc == 1 ? cli_usage(cmd, NULL) : rc;
	}
	return spec_command(s, argc - optind, argv + optind, cmd);
}

int
spec_command(struct spec *s, int argc, char **argv, const char *cmd)
{
	cJSON	*a;
	char	*line;
	size_t	 len = 0;

	if (argc == 0)
		return cli_usage(cmd, "no command: runnel %s [options] -- CMD "
		    "[ARGS...]", cmd);
	if (s->argv_form) {
		if ((a = cJSON_AddArrayToObject(s->json, "argv")) == NULL)
			return EXIT_FAIL;
		for (int i = 0; i < argc; i++)
			if (!cJSON_AddItemToArray(a, cJSON_CreateString(argv[i])))
				return EXIT_FAIL;
		return 0;
	}
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((line = malloc(len + 1)) == NULL)
		return EXIT_FAIL;
	len = 0;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (i > 0)
			line[len++] = ' ';
		memcpy(line + len, argv[i], n);
		len += n;
	}
	line[len] = '\0';
	len = set_string(s->json, "command", line) < 0;
	free(line);
	return len ? EXIT_FAIL : 0;
}
