/*
 * runnel schedule: list (GET /api/v1/schedules), add (POST, with a job
 * template built from the same options as run and add), rm (DELETE) and
 * trigger (POST .../trigger) the server's cron schedules.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "term.h"
#include "utf8.h"

#include "submit.h"

#define SCHED_NAME_MAX	200

enum { OPT_CRON = 0x300, OPT_TZ, OPT_SNAME, OPT_OVERLAP };

/* The NEXT cell: "in 3m", or "-" with none. */
static void
next_cell(const cJSON *s, char *buf, size_t size)
{
	const cJSON	*runs = cJSON_GetObjectItemCaseSensitive(s, "next_runs");
	int64_t		 t = term_time_ms(cJSON_GetStringValue(
			    cJSON_GetArrayItem(runs, 0)));
	char		 span[32];

	if (t < 0) {
		snprintf(buf, size, "-");
		return;
	}
	term_span(t - term_now_ms(), span, sizeof(span));
	snprintf(buf, size, "in %s", span);
}

static int
sched_row(struct table *t, const cJSON *s)
{
	const cJSON	*last = cJSON_GetObjectItemCaseSensitive(s, "last_job");
	const char	*state = job_str(last, "state");
	char		 buf[64];
	int		 rc = 0;

	if (table_row(t) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%lld", job_int(s, "id"));
	rc |= table_set(t, 0, NULL, buf);
	rc |= table_set(t, 1, NULL, job_str(s, "name"));
	rc |= table_set(t, 2, NULL, job_str(s, "cron"));
	rc |= table_set(t, 3, NULL, job_str(s, "timezone"));
	next_cell(s, buf, sizeof(buf));
	rc |= table_set(t, 4, NULL, buf);
	rc |= table_set(t, 5, "\033[33m", cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(s, "paused")) ? "yes" : "");
	if (state != NULL)
		snprintf(buf, sizeof(buf), "%lld %s", job_int(last, "id"), state);
	else
		snprintf(buf, sizeof(buf), "-");
	rc |= table_set(t, 6, fmt_state_sgr(state), buf);
	return rc;
}

static int
sched_ls(struct cli *cli)
{
	static const char *const heads[] = {
		"ID", "NAME", "CRON", "TZ", "NEXT", "PAUSED", "LAST JOB",
	};
	const cJSON	*s;
	struct table	 t;
	struct reply	 r;
	int		 rc;

	if ((rc = api_call(cli, "GET", "/api/v1/schedules", NULL, "schedules",
	    &r)) != 0)
		return rc;
	if (cli->json)
		api_print_body(&r);
	else if (table_init(&t, heads, 7) == 0) {
		t.max[1] = 32;
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(r.json,
		    "schedules"))
			if (sched_row(&t, s) != 0)
				rc = EXIT_FAIL;
		if (rc == 0)
			table_print(&t, term_width(), term_color(1));
		table_free(&t);
	} else
		rc = EXIT_FAIL;
	reply_clear(&r);
	return rc;
}

/* Sends the schedule sched (taken) and prints its id or itself. */
static int
sched_post(struct cli *cli, cJSON *sched)
{
	struct reply	 r;
	char		*body = cJSON_PrintUnformatted(sched);
	int		 rc;

	cJSON_Delete(sched);
	if (body == NULL)
		return EXIT_FAIL;
	rc = api_call(cli, "POST", "/api/v1/schedules", body, "schedule add",
	    &r);
	free(body);
	if (rc != 0)
		return rc;
	if (cli->json)
		api_print_body(&r);
	else
		printf("%lld\n", job_int(r.json, "id"));
	reply_clear(&r);
	return 0;
}

/* The schedule object from its own fields and the job template s. */
static cJSON *
sched_object(struct spec *s, const char *name, const char *cron,
    const char *tz, const char *overlap)
{
	cJSON	*o = cJSON_CreateObject();
	char	 cut[SCHED_NAME_MAX + 1];
	size_t	 n;

	if (name == NULL) {
		/* the command names it, as cut as the server wants */
		name = job_str(s->json, "command");
		if (name == NULL)
			name = "schedule";
		n = strlen(name);
		n = n > SCHED_NAME_MAX ? utf8_cut(name, SCHED_NAME_MAX) : n;
		memcpy(cut, name, n);
		cut[n] = '\0';
		name = cut;
	}
	if (o == NULL || !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "cron", cron) ||
	    (tz && !cJSON_AddStringToObject(o, "timezone", tz)) ||
	    (overlap && !cJSON_AddStringToObject(o, "overlap", overlap))) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddItemToObject(o, "job", s->json);
	s->json = NULL;		/* o has it now */
	return o;
}

static int
sched_add(struct cli *cli, int argc, char **argv)
{
	static const struct option own[] = {
		{"cron", required_argument, NULL, OPT_CRON},
		{"tz", required_argument, NULL, OPT_TZ},
		{"name", required_argument, NULL, OPT_SNAME},
		{"overlap", required_argument, NULL, OPT_OVERLAP},
		{"url", required_argument, NULL, CLI_OPT_URL},
		{"json", no_argument, NULL, CLI_OPT_JSON},
		{NULL, 0, NULL, 0},
	};
	struct option	 opts[SPEC_OPTIONS + 8];
	const char	*cron = NULL, *tz = NULL, *name = NULL, *overlap = NULL;
	struct spec	 s;
	cJSON		*o;
	int		 c, rc = 0;

	if (spec_init(&s) < 0)
		return EXIT_FAIL;
	spec_options_with(own, opts, sizeof(opts) / sizeof(opts[0]));
	optind = 1;
	while (rc == 0 &&
	    (c = getopt_long(argc, argv, "+" SPEC_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case OPT_CRON: cron = optarg; break;
		case OPT_TZ: tz = optarg; break;
		case 'n':	/* -n names the schedule, as --name does */
		case OPT_SNAME: name = optarg; break;
		case OPT_OVERLAP: overlap = optarg; break;
		case CLI_OPT_URL: cli->url_flag = optarg; break;
		case CLI_OPT_JSON: cli->json = 1; break;
		default:
			if ((rc = spec_option(&s, c, optarg, "schedule")) == 1)
				rc = cli_usage("schedule", NULL);
		}
	}
	if (rc == 0 && cron == NULL)
		rc = cli_usage("schedule", "schedule add needs --cron EXPR");
	if (rc == 0 && s.idem_key != NULL)
		rc = cli_usage("schedule", "--idempotency-key is for jobs");
	if (rc == 0 && overlap != NULL && strcmp(overlap, "allow") != 0 &&
	    strcmp(overlap, "skip") != 0 && strcmp(overlap, "queue") != 0 &&
	    strcmp(overlap, "cancel") != 0)
		rc = cli_usage("schedule", "--overlap %s: allow, skip, queue or "
		    "cancel", overlap);
	if (rc == 0)
		rc = spec_command(&s, argc - optind, argv + optind, "schedule");
	if (rc == 0) {
		if ((o = sched_object(&s, name, cron, tz, overlap)) == NULL)
			rc = EXIT_FAIL;
		else
			rc = sched_post(cli, o);
	}
	spec_clear(&s);
	return rc;
}

/* rm or trigger: one request per schedule id. */
static int
sched_act(struct cli *cli, const char *sub, int argc, char **argv)
{
	int	trigger = strcmp(sub, "trigger") == 0;
	char	path[96], what[48], *end;
	struct reply r;
	unsigned long long id;
	int	rc;

	if (argc != 1)
		return cli_usage("schedule", "one schedule id: runnel schedule "
		    "%s ID", sub);
	id = strtoull(argv[0], &end, 10);
	if (argv[0][0] < '0' || argv[0][0] > '9' || *end != '\0' || id == 0)
		return cli_usage("schedule", "%s is not a schedule id", argv[0]);
	snprintf(path, sizeof(path), "/api/v1/schedules/%llu%s", id,
	    trigger ? "/trigger" : "");
	snprintf(what, sizeof(what), "schedule %llu", id);
	if ((rc = api_call(cli, trigger ? "POST" : "DELETE", path, NULL, what,
	    &r)) != 0)
		return rc;
	if (trigger && cli->json)
		api_print_body(&r);
	else if (trigger)
		printf("%lld\n", job_int(r.json, "id"));
	else
		printf("deleted schedule %llu\n", id);
	reply_clear(&r);
	return 0;
}

int
cmd_schedule(struct cli *cli, int argc, char **argv)
{
	const char	*sub = "ls";
	int		 rc, verb = 0;

	if (argc > 1 && argv[1][0] != '-') {
		verb = 1;
		sub = argv[1];
		argv[1] = argv[0];	/* getopt starts after the verb */
		argc--, argv++;
	}
	if (strcmp(sub, "add") == 0)
		return sched_add(cli, argc, argv);
	if (strcmp(sub, "ls") != 0 && strcmp(sub, "rm") != 0 &&
	    strcmp(sub, "trigger") != 0)
		return cli_usage("schedule", "no schedule command %s (ls, add, "
		    "rm, trigger)", sub);
	if ((rc = cli_options(cli, "schedule", argc, argv)) != 0)
		return rc;
	if (!verb && optind < argc) {	/* options came before the verb */
		sub = argv[optind++];
		if (strcmp(sub, "ls") != 0 && strcmp(sub, "rm") != 0 &&
		    strcmp(sub, "trigger") != 0)
			return cli_usage("schedule", "no schedule command %s "
			    "(ls, add first, rm, trigger)", sub);
	}
	if (strcmp(sub, "ls") == 0) {
		if (optind != argc)
			return cli_usage("schedule", "schedule ls takes no "
			    "argument");
		return sched_ls(cli);
	}
	return sched_act(cli, sub, argc - optind, argv + optind);
}
