/*
 * runnel ls: the jobs, newest first, as GET /api/v1/jobs has them, in a
 * table sized to the terminal (or as the server's JSON).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "term.h"

#include "submit.h"

#define OPT_TYPE	0x200
#define OPT_BEFORE	0x201

/* Appends "&name=value" (escaped) to the query in buf. */
static int
query_add(CURL *h, char *buf, size_t size, const char *name, const char *v)
{
	char	*e;
	size_t	 n = strlen(buf);
	int	 w;

	if (v == NULL)
		return 0;
	if ((e = curl_easy_escape(h, v, 0)) == NULL)
		return EXIT_FAIL;
	/* commas separate states and types: the server wants them bare */
	for (char *p; (p = strstr(e, "%2C")) != NULL;) {
		*p = ',';
		memmove(p + 1, p + 3, strlen(p + 3) + 1);
	}
	w = snprintf(buf + n, size - n, "%c%s=%s", strchr(buf, '?') ? '&' : '?',
	    name, e);
	curl_free(e);
	if (w < 0 || (size_t)w >= size - n) {
		cli_warnx("ls: query too long");
		return EXIT_USAGE;
	}
	return 0;
}

static const char *const ls_names[] = {
	"state", "queue", "type", "limit", "before",
};

/* The listing's path with the query of the filters q (as ls_names). */
static int
ls_path(CURL *h, char *path, size_t size, const char *const *q)
{
	int rc = 0;

	for (size_t i = 0; i < 5 && rc == 0; i++)
		rc = query_add(h, path, size, ls_names[i], q[i]);
	return rc;
}

/* A row for job j; pri: whether the PRI column is shown. */
static int
ls_row(struct table *t, const cJSON *j, int pri)
{
	char		 buf[64], *what;
	const char	*state = job_str(j, "state");
	int		 c = 0, rc = 0;

	if (table_row(t) < 0)
		return -1;
	snprintf(buf, sizeof(buf), "%lld", job_int(j, "id"));
	rc |= table_set(t, c++, NULL, buf);
	rc |= table_set(t, c++, fmt_state_sgr(state), state);
	rc |= table_set(t, c++, NULL, job_str(j, "queue"));
	if (pri) {
		snprintf(buf, sizeof(buf), "%lld", job_int(j, "priority"));
		rc |= table_set(t, c++, NULL, buf);
	}
	fmt_age(job_str(j, "created_at"), buf, sizeof(buf));
	rc |= table_set(t, c++, NULL, buf);
	fmt_duration(j, buf, sizeof(buf));
	rc |= table_set(t, c++, NULL, buf);
	fmt_exit(j, buf, sizeof(buf));
	rc |= table_set(t, c++, NULL, buf);
	if ((what = fmt_what(j)) == NULL)
		return -1;
	rc |= table_set(t, c, NULL, what);
	free(what);
	return rc;
}

/* On a terminal: how to read the page after this one, filters kept. */
static void
ls_hint(const cJSON *answer, const char *const *q)
{
	const cJSON *next = cJSON_GetObjectItemCaseSensitive(answer, "next");

	if (!cJSON_IsNumber(next) || !term_is_tty(2))
		return;
	fflush(stdout);
	fprintf(stderr, "more: runnel ls");
	for (size_t i = 0; i < 4; i++)
		if (q[i] != NULL)
			fprintf(stderr, " --%s %s", ls_names[i], q[i]);
	fprintf(stderr, " --before %lld\n", (long long)next->valuedouble);
}

static int
ls_print(const cJSON *answer, const char *const *q)
{
	static const char *const heads[] = {
		"ID", "STATE", "QUEUE", "PRI", "AGE", "TIME", "EXIT", "WHAT",
	};
	static const char *const nopri[] = {
		"ID", "STATE", "QUEUE", "AGE", "TIME", "EXIT", "WHAT",
	};
	const cJSON	*jobs = cJSON_GetObjectItemCaseSensitive(answer, "jobs");
	const cJSON	*j;
	struct table	 t;
	int		 pri = 0, rc = 0;

	cJSON_ArrayForEach(j, jobs)
		if (job_int(j, "priority") != 0)
			pri = 1;
	if (table_init(&t, pri ? heads : nopri, pri ? 8 : 7) < 0)
		return EXIT_FAIL;
	t.max[2] = 16;	/* a queue name may be 64 long */
	cJSON_ArrayForEach(j, jobs)
		if (ls_row(&t, j, pri) != 0) {
			rc = EXIT_FAIL;
			goto out;
		}
	table_print(&t, term_width(), term_color(1));
	ls_hint(answer, q);
out:
	table_free(&t);
	return rc;
}

int
cmd_ls(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"state", required_argument, NULL, 's'},
		{"queue", required_argument, NULL, 'q'},
		{"type", required_argument, NULL, OPT_TYPE},
		{"limit", required_argument, NULL, 'n'},
		{"before", required_argument, NULL, OPT_BEFORE},
		{"url", required_argument, NULL, CLI_OPT_URL},
		{"json", no_argument, NULL, CLI_OPT_JSON},
		{NULL, 0, NULL, 0},
	};
	const char		*q[5] = {NULL};	/* as ls_names */
	unsigned long long	 id;
	struct reply		 r;
	char			 path[2048] = "/api/v1/jobs", idbuf[32], *end;
	long			 n;
	int			 c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:q:n:", opts, NULL)) != -1) {
		switch (c) {
		case 's': q[0] = optarg; break;
		case 'q': q[1] = optarg; break;
		case 'n': q[3] = optarg; break;
		case OPT_TYPE: q[2] = optarg; break;
		case OPT_BEFORE: q[4] = optarg; break;
		case CLI_OPT_URL: cli->url_flag = optarg; break;
		case CLI_OPT_JSON: cli->json = 1; break;
		default: return cli_usage("ls", NULL);
		}
	}
	if (optind < argc)
		return cli_usage("ls", "unexpected argument %s", argv[optind]);
	if (q[3] != NULL && ((n = strtol(q[3], &end, 10)) < 1 || n > 1000 ||
	    *end != '\0' || end == q[3]))
		return cli_usage("ls", "--limit %s: 1 ... 1000", q[3]);
	if (q[4] != NULL) {
		if ((rc = cli_parse_id("ls", q[4], &id)) != 0)
			return rc;
		snprintf(idbuf, sizeof(idbuf), "%llu", id);
		q[4] = idbuf;
	}
	if ((rc = cli_connect(cli)) != 0 ||
	    (rc = ls_path(cli->client.curl, path, sizeof(path), q)) != 0)
		return rc;
	if ((rc = api_call(cli, "GET", path, NULL, "ls", &r)) != 0)
		return rc;
	if (cli->json)
		api_print_body(&r);
	else if (!cJSON_IsObject(r.json)) {
		cli_warnx("ls: the server's answer is not a list of jobs");
		rc = EXIT_SERVER;
	} else
		rc = ls_print(r.json, q);
	reply_clear(&r);
	return rc;
}
