/*
 * Options: defaults, then RUNNEL_* environment variables, then flags.
 * Every value is checked here so that the rest of runneld can trust it.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "hook/allow.h"
#include "log.h"
#include "vec.h"

enum {
	OPT_LISTEN = 256, OPT_DATA, OPT_WORKERS, OPT_TOKEN_FILE, OPT_INSECURE,
	OPT_MAX_UPLOAD, OPT_MAX_BODY, OPT_SHUTDOWN_GRACE, OPT_KILL_GRACE,
	OPT_DURABILITY, OPT_LOG_LEVEL, OPT_WEB_DIR, OPT_WORKER, OPT_HELP,
	OPT_VERSION, OPT_CHECK, OPT_RETRY_BASE, OPT_MISFIRE_GRACE, OPT_MAX_QUEUED,
	OPT_WEBHOOK_ALLOW, OPT_WEBHOOK_SECRET_FILE, OPT_WEBHOOK_RETRY_BASE,
	OPT_RETAIN_FINISHED, OPT_RETAIN_MAX_JOBS, OPT_LIMIT_MEMORY,
	OPT_LIMIT_CPU, OPT_LIMIT_FILES, OPT_LIMIT_PROCS, OPT_LIMIT_OUTPUT,
	OPT_ACCESS_LOG, OPT_ALLOW_ORIGIN, OPT_MAX_CONNECTIONS,
	OPT_MAX_CLIENT_CONNECTIONS, OPT_HEADER_TIMEOUT, OPT_DATABASE,
	OPT_NODE_ID, OPT_NODE_TIMEOUT, OPT_NOTIFY, OPT_POLL_INTERVAL, OPT_IMPORT
};

struct option_doc {
	struct option	 opt;
	const char	*env;
	const char	*arg;
	const char	*help;
};

static const struct option_doc options[] = {
	{{"listen", 1, 0, OPT_LISTEN}, "RUNNEL_LISTEN", "HOST:PORT",
	    "address to serve HTTP on (default 127.0.0.1:8080; port 0 picks one)"},
	{{"data", 1, 0, OPT_DATA}, "RUNNEL_DATA", "DIR",
	    "data directory: database, outputs, files (default ./data)"},
	{{"database", 1, 0, OPT_DATABASE}, "RUNNEL_DATABASE", "URL",
	    "PostgreSQL (URI or key=value string) instead of DIR/runnel.db"},
	{{"node-id", 1, 0, OPT_NODE_ID}, "RUNNEL_NODE_ID", "ID",
	    "with --database: this node's name in the cluster, [A-Za-z0-9_.-] "
	    "(default: made once, kept in DIR/node-id)"},
	{{"node-timeout", 1, 0, OPT_NODE_TIMEOUT}, "RUNNEL_NODE_TIMEOUT",
	    "SECONDS", "with --database: a node silent this long is dead, its "
	    "running jobs rescued (default 30)"},
	{{"notify", 1, 0, OPT_NOTIFY}, "RUNNEL_NOTIFY", "on|off",
	    "with --database: wake other nodes with LISTEN/NOTIFY (off for "
	    "poolers that break LISTEN: polling only; default on)"},
	{{"poll-interval", 1, 0, OPT_POLL_INTERVAL}, "RUNNEL_POLL_INTERVAL",
	    "SECONDS", "with --database: how often a node looks for work, "
	    "cancels and dead nodes itself (default 1)"},
	{{"workers", 1, 0, OPT_WORKERS}, "RUNNEL_WORKERS", "N",
	    "worker processes, one job each (default: the number of CPUs)"},
	{{"token-file", 1, 0, OPT_TOKEN_FILE}, "RUNNEL_TOKEN_FILE", "FILE",
	    "require this bearer token (RUNNEL_TOKEN gives it directly)"},
	{{"insecure", 0, 0, OPT_INSECURE}, "RUNNEL_INSECURE", NULL,
	    "allow a non-loopback address without a token"},
	{{"max-upload", 1, 0, OPT_MAX_UPLOAD}, "RUNNEL_MAX_UPLOAD", "BYTES",
	    "largest upload (default 10G; K, M, G suffixes)"},
	{{"max-body", 1, 0, OPT_MAX_BODY}, "RUNNEL_MAX_BODY", "BYTES",
	    "largest JSON request body (default 1M)"},
	{{"shutdown-grace", 1, 0, OPT_SHUTDOWN_GRACE}, "RUNNEL_SHUTDOWN_GRACE",
	    "SECONDS", "on SIGTERM, how long running jobs may go on (default 30)"},
	{{"kill-grace", 1, 0, OPT_KILL_GRACE}, "RUNNEL_KILL_GRACE", "SECONDS",
	    "between SIGTERM and SIGKILL of a job (default 5)"},
	{{"durability", 1, 0, OPT_DURABILITY}, "RUNNEL_DURABILITY", "full|fast",
	    "full: a 201 survives power loss; fast: survives a crash only"},
	{{"log-level", 1, 0, OPT_LOG_LEVEL}, "RUNNEL_LOG_LEVEL", "LEVEL",
	    "debug, info, warn or error (default info)"},
	{{"web-dir", 1, 0, OPT_WEB_DIR}, "RUNNEL_WEB_DIR", "DIR",
	    "serve the dashboard from DIR instead of the built-in copy"},
	{{"worker", 1, 0, OPT_WORKER}, "RUNNEL_WORKER", "PATH",
	    "the runnel-worker binary (default: next to runneld)"},
	{{"retry-base", 1, 0, OPT_RETRY_BASE}, "RUNNEL_RETRY_BASE", "SECONDS",
	    "first automatic retry's delay, doubling per attempt (default 1)"},
	{{"misfire-grace", 1, 0, OPT_MISFIRE_GRACE}, "RUNNEL_MISFIRE_GRACE",
	    "SECONDS", "a schedule's tick found due later than this was "
	    "missed (default 60)"},
	{{"webhook-allow", 1, 0, OPT_WEBHOOK_ALLOW}, "RUNNEL_WEBHOOK_ALLOW",
	    "LIST", "webhook targets allowed: hosts, *.domains, IPs, CIDRs; "
	    "private and loopback addresses only so (repeatable)"},
	{{"webhook-secret-file", 1, 0, OPT_WEBHOOK_SECRET_FILE},
	    "RUNNEL_WEBHOOK_SECRET_FILE", "FILE", "sign webhooks with this "
	    "secret (RUNNEL_WEBHOOK_SECRET gives it directly)"},
	{{"webhook-retry-base", 1, 0, OPT_WEBHOOK_RETRY_BASE},
	    "RUNNEL_WEBHOOK_RETRY_BASE", "SECONDS", "first webhook retry's "
	    "delay, doubling, for up to a day (default 10)"},
	{{"max-queued", 1, 0, OPT_MAX_QUEUED}, "RUNNEL_MAX_QUEUED", "N",
	    "refuse submissions (429) once N jobs wait (default 0: no limit)"},
	{{"retain-finished", 1, 0, OPT_RETAIN_FINISHED},
	    "RUNNEL_RETAIN_FINISHED", "SECONDS",
	    "delete finished jobs this old (default 604800: 7 days; 0: keep)"},
	{{"retain-max-jobs", 1, 0, OPT_RETAIN_MAX_JOBS},
	    "RUNNEL_RETAIN_MAX_JOBS", "N",
	    "keep at most N finished jobs, oldest go first (default 0: no limit)"},
	{{"limit-memory-mb", 1, 0, OPT_LIMIT_MEMORY}, "RUNNEL_LIMIT_MEMORY_MB",
	    "MB", "default limits.memory_mb of jobs (default 0: none)"},
	{{"limit-cpu-seconds", 1, 0, OPT_LIMIT_CPU}, "RUNNEL_LIMIT_CPU_SECONDS",
	    "S", "default limits.cpu_seconds of jobs (default 0: none)"},
	{{"limit-open-files", 1, 0, OPT_LIMIT_FILES}, "RUNNEL_LIMIT_OPEN_FILES",
	    "N", "default limits.open_files of jobs (default 0: none)"},
	{{"limit-processes", 1, 0, OPT_LIMIT_PROCS}, "RUNNEL_LIMIT_PROCESSES",
	    "N", "default limits.processes of jobs (default 0: none)"},
	{{"limit-output-mb", 1, 0, OPT_LIMIT_OUTPUT}, "RUNNEL_LIMIT_OUTPUT_MB",
	    "MB", "default limits.output_mb of jobs (default 0: none)"},
	{{"allow-origin", 1, 0, OPT_ALLOW_ORIGIN}, "RUNNEL_ALLOW_ORIGIN",
	    "ORIGIN", "let pages of this origin (https://host[:port]) change "
	    "things; repeat it, or a comma list"},
	{{"max-connections", 1, 0, OPT_MAX_CONNECTIONS},
	    "RUNNEL_MAX_CONNECTIONS", "N",
	    "open HTTP connections at most, in all (default 4096)"},
	{{"max-client-connections", 1, 0, OPT_MAX_CLIENT_CONNECTIONS},
	    "RUNNEL_MAX_CLIENT_CONNECTIONS", "N",
	    "open HTTP connections at most from one address (default 512)"},
	{{"header-timeout", 1, 0, OPT_HEADER_TIMEOUT}, "RUNNEL_HEADER_TIMEOUT",
	    "SECONDS", "a request's headers must arrive within this (default 10)"},
	{{"access-log", 0, 0, OPT_ACCESS_LOG}, "RUNNEL_ACCESS_LOG", NULL,
	    "log a line per HTTP request (the variable: 1, true or yes)"},
	{{"import", 1, 0, OPT_IMPORT}, NULL, "DIR",
	    "copy the data directory DIR of a stopped runneld into the "
	    "--database of a cluster, which holds no jobs yet, and exit"},
	{{"check", 1, 0, OPT_CHECK}, NULL, "URL",
	    "probe http://HOST:PORT/healthz and exit 0 if healthy (for containers)"},
	{{"help", 0, 0, OPT_HELP}, NULL, NULL, "show this help"},
	{{"version", 0, 0, OPT_VERSION}, NULL, NULL, "show the version"},
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void
usage(FILE *f)
{
	fprintf(f, "usage: runneld [options]\n"
	    "       runneld --import DIR --database URL\n\n"
	    "runnel: a durable job queue that runs shell commands and uploads\n"
	    "on a pool of worker processes, with a REST API and a dashboard.\n\n");
	for (size_t i = 0; i < NOPTIONS; i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", options[i].opt.name,
		    options[i].arg ? " " : "", options[i].arg ? options[i].arg : "");
		fprintf(f, "  %-30s %s\n", left, options[i].help);
		if (options[i].env)
			fprintf(f, "  %-30s   env %s\n", "", options[i].env);
	}
	fprintf(f, "\n  RUNNEL_TOKEN                     the bearer token itself\n");
}

int
config_host_loopback(const char *h)
{
	return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	    strncmp(h, "127.", 4) == 0;
}

static int
parse_size(const char *s, uint64_t *out)
{
	char		*end;
	unsigned long long v;
	uint64_t	 mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end == 'B')
		end++;
	if (*end != '\0' || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int
parse_seconds(const char *s, int64_t *ms)
{
	char	*end;
	double	 d;

	errno = 0;
	d = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !isfinite(d) || d < 0 ||
	    d > 1e9)
		return -1;
	*ms = (int64_t)llround(d * 1000);
	return 0;
}

static int
parse_listen(struct config *c, const char *s)
{
	const char	*colon = strrchr(s, ':');
	char		*end;
	long		 port;
	size_t		 hl;

	if (colon == NULL)
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 0 || port > 65535)
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(c->listen_host))
		return -1;
	memcpy(c->listen_host, s, hl);
	c->listen_host[hl] = '\0';
	c->listen_port = (int)port;
	return 0;
}

static int
parse_count(const char *s, int64_t max, int64_t *out)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || *end || n < 0 || n > max)
		return -1;
	*out = n;
	return 0;
}

/* A secret from a file (what names it in errors) into *out. */
static int
read_secret_file(const char *path, const char *what, char **out)
{
	FILE	*f = fopen(path, "re");
	char	 buf[4096];
	size_t	 n;

	if (f == NULL) {
		fprintf(stderr, "runneld: %s %s: %s\n", what, path,
		    strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == sizeof(buf)) {
		fprintf(stderr, "runneld: %s %s: longer than %zu bytes\n",
		    what, path, sizeof(buf) - 1);
		return -1;
	}
	buf[n] = '\0';
	/* The file's trailing newline is not part of the secret. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	free(*out);
	*out = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *out ? 0 : -1;
}

static int
read_token_file(struct config *c, const char *path)
{
	return read_secret_file(path, "token file", &c->token);
}

/* The list, empty until an entry: everything public allowed. */
static int
webhook_allow_new(struct config *c)
{
	if (c->webhook_allow == NULL &&
	    (c->webhook_allow = calloc(1, sizeof(*c->webhook_allow))) != NULL)
		hook_allow_init(c->webhook_allow);
	return c->webhook_allow ? 0 : -1;
}

/* One --webhook-allow value's entries onto the list. */
static int
webhook_allow_add(struct config *c, const char *v)
{
	char why[256];

	if (webhook_allow_new(c) < 0)
		return -1;
	if (hook_allow_add(c->webhook_allow, v, why, sizeof(why)) < 0) {
		fprintf(stderr, "runneld: --webhook-allow: %s\n", why);
		return -1;
	}
	return 0;
}

/* A flag without a value is on; its variable says 1/true/yes or 0/false/no. */
static int
parse_bool(const char *v, int *out)
{
	if (v == NULL || strcmp(v, "1") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "yes") == 0)
		*out = 1;
	else if (*v == '\0' || strcmp(v, "0") == 0 ||
	    strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

/* 1 if s[0..n) is an origin as browsers send it: scheme://host[:port]. */
static int
origin_valid(const char *s, size_t n)
{
	const char	*p = memchr(s, ':', n), *end = s + n;

	if (p == NULL || end - p < 4 || strncmp(p, "://", 3) != 0 ||
	    !((p - s == 4 && strncmp(s, "http", 4) == 0) ||
	    (p - s == 5 && strncmp(s, "https", 5) == 0)))
		return 0;
	p += 3;
	if (*p == '[') {		/* [v6] */
		while (p < end && *p != ']')
			if (!strchr("0123456789abcdef:.", *p++))
				return 0;
		if (p++ == end)
			return 0;
	} else {
		const char *host = p;

		while (p < end && strchr("abcdefghijklmnopqrstuvwxyz0123456789.-",
		    *p))
			p++;
		if (p == host)
			return 0;
	}
	if (p < end && *p == ':') {
		if (++p == end)
			return 0;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	return p == end;
}

/* Adds the origins of a comma list, lower-cased. */
static int
add_origins(struct config *c, const char *list)
{
	const char	*p = list;
	int		 n = 0;

	while (c->allow_origins && c->allow_origins[n])
		n++;
	for (;;) {
		size_t		 len = strcspn(p, ",");
		const char	*a = p, *b = p + len;
		char		*o;

		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		if (n >= CONFIG_ORIGINS_MAX || (o = strndup(a, (size_t)(b - a))) == NULL)
			return -1;
		for (char *q = o; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		if (!origin_valid(o, strlen(o)) ||
		    vec_grow(&c->allow_origins, &c->allow_origins_cap,
		    (size_t)n + 2, sizeof(*c->allow_origins)) < 0) {
			free(o);
			return -1;
		}
		c->allow_origins[n++] = o;
		c->allow_origins[n] = NULL;
		if (p[len] == '\0')
			return 0;
		p += len + 1;
	}
}

/* A span of a connection string: where a password is. */
struct span {
	size_t	 off, len;
};

#define SPANS_MAX	8

/* The passwords of a postgresql:// URI: in its userinfo, in its query. */
static size_t
uri_passwords(const char *s, struct span *sp)
{
	const char	*auth = strstr(s, "://") + 3, *at = NULL, *colon, *p;
	size_t		 alen = strcspn(auth, "/?"), n = 0;

	for (p = auth; p < auth + alen; p++)
		if (*p == '@')
			at = p;
	if (at && (colon = memchr(auth, ':', (size_t)(at - auth))) != NULL)
		sp[n++] = (struct span){(size_t)(colon + 1 - s),
		    (size_t)(at - colon - 1)};
	if ((p = strchr(auth + alen, '?')) == NULL)
		return n;
	for (p++; n < SPANS_MAX; p++) {
		size_t len = strcspn(p, "&");

		if (len >= 9 && strncmp(p, "password=", 9) == 0)
			sp[n++] = (struct span){(size_t)(p + 9 - s), len - 9};
		p += len;
		if (*p == '\0')
			break;
	}
	return n;
}

/*
 * The passwords of a key=value string, read as libpq reads it: values
 * plain up to a space, or quoted in '...', with backslash escapes.
 */
static size_t
keyword_passwords(const char *s, struct span *sp)
{
	const char	*p = s, *key, *val;
	size_t		 keylen, n = 0;

	while (n < SPANS_MAX) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		key = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		keylen = (size_t)(p - key);
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			break;		/* not a key=value string after all */
		p++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\'') {
			val = ++p;
			while (*p && *p != '\'')
				p += p[0] == '\\' && p[1] ? 2 : 1;
		} else {
			val = p;
			while (*p && !isspace((unsigned char)*p))
				p += p[0] == '\\' && p[1] ? 2 : 1;
		}
		if (keylen == 8 && strncmp(key, "password", 8) == 0)
			sp[n++] = (struct span){(size_t)(val - s), (size_t)(p - val)};
		if (*p == '\'')
			p++;
	}
	return n;
}

static size_t
passwords(const char *s, struct span *sp)
{
	if (strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0)
		return uri_passwords(s, sp);
	return keyword_passwords(s, sp);
}

void
config_database_masked(const char *s, char *out, size_t n)
{
	struct span	 sp[SPANS_MAX];
	size_t		 nsp = passwords(s, sp), at = 0, len = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i <= nsp; i++) {
		size_t		 upto = i < nsp ? sp[i].off : strlen(s);
		const char	*mask = i < nsp && sp[i].len ? "***" : "";

		len += (size_t)snprintf(out + len, n - len, "%.*s%s",
		    (int)(upto - at), s + at, mask);
		if (len >= n) {
			out[n - 1] = '\0';
			return;
		}
		if (i < nsp)
			at = sp[i].off + sp[i].len;
	}
}

/*
 * Other users see a process's arguments (ps): a password given in
 * --database is overwritten there once copied.
 */
static void
hide_passwords(char *s)
{
	struct span	 sp[SPANS_MAX];
	size_t		 nsp = passwords(s, sp);

	for (size_t i = 0; i < nsp; i++)
		memset(s + sp[i].off, 'x', sp[i].len);
}

static int
set_database(struct config *c, const char *v)
{
	if (*v == '\0' || strlen(v) >= 4096)
		return -1;
	free(c->database);
	return (c->database = strdup(v)) ? 0 : -1;
}

int
config_node_id_valid(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= CONFIG_NODE_ID_MAX && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
	    == n;
}

static int
copy_path(char *dst, size_t n, const char *s)
{
	if (strlen(s) >= n || s[0] == '\0')
		return -1;
	strcpy(dst, s);
	return 0;
}

/* Applies one option's value; -1 if it is not valid. */
static int
config_set(struct config *c, int opt, const char *v)
{
	long		 n;
	char		*end;
	int		 lvl;

	switch (opt) {
	case OPT_LISTEN:
		return parse_listen(c, v);
	case OPT_DATA:
		return copy_path(c->data_dir, sizeof(c->data_dir), v);
	case OPT_DATABASE:
		return set_database(c, v);
	case OPT_IMPORT:
		return copy_path(c->import_dir, sizeof(c->import_dir), v);
	case OPT_NODE_ID:
		return config_node_id_valid(v) ? copy_path(c->node_id,
		    sizeof(c->node_id), v) : -1;
	case OPT_NODE_TIMEOUT:
		return parse_seconds(v, &c->node_timeout_ms) < 0 ||
		    c->node_timeout_ms < 1000 || c->node_timeout_ms > 3600000 ?
		    -1 : 0;
	case OPT_NOTIFY:
		if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
			c->notify = v[1] == 'n';
			return 0;
		}
		return -1;
	case OPT_POLL_INTERVAL:
		return parse_seconds(v, &c->poll_interval_ms) < 0 ||
		    c->poll_interval_ms < 10 || c->poll_interval_ms > 600000 ?
		    -1 : 0;
	case OPT_WORKERS:
		n = strtol(v, &end, 10);
		if (end == v || *end || n < 1 || n > 1024)
			return -1;
		c->workers = (int)n;
		return 0;
	case OPT_TOKEN_FILE:
		return read_token_file(c, v);
	case OPT_INSECURE:
		return parse_bool(v, &c->insecure);
	case OPT_ACCESS_LOG:
		return parse_bool(v, &c->access_log);
	case OPT_ALLOW_ORIGIN:
		return add_origins(c, v);
	case OPT_MAX_CONNECTIONS:
		n = strtol(v, &end, 10);
		if (end == v || *end || n < 16 || n > 1000000)
			return -1;
		c->max_connections = (int)n;
		return 0;
	case OPT_MAX_CLIENT_CONNECTIONS:
		n = strtol(v, &end, 10);
		if (end == v || *end || n < 1 || n > 1000000)
			return -1;
		c->max_client_connections = (int)n;
		return 0;
	case OPT_HEADER_TIMEOUT:
		return parse_seconds(v, &c->header_timeout_ms) < 0 ||
		    c->header_timeout_ms < 100 ? -1 : 0;
	case OPT_MAX_UPLOAD:
		return parse_size(v, &c->max_upload);
	case OPT_MAX_BODY:
		return parse_size(v, &c->max_body) < 0 || c->max_body < 1024 ||
		    c->max_body > (1ull << 30) ? -1 : 0;
	case OPT_SHUTDOWN_GRACE:
		return parse_seconds(v, &c->shutdown_grace_ms);
	case OPT_KILL_GRACE:
		return parse_seconds(v, &c->kill_grace_ms);
	case OPT_DURABILITY:
		if (strcmp(v, "full") == 0)
			c->durability = STORE_DURABLE;
		else if (strcmp(v, "fast") == 0)
			c->durability = STORE_FAST;
		else
			return -1;
		return 0;
	case OPT_LOG_LEVEL:
		if ((lvl = log_level_parse(v)) < 0)
			return -1;
		c->log_level = lvl;
		return 0;
	case OPT_WEB_DIR:
		return copy_path(c->web_dir, sizeof(c->web_dir), v);
	case OPT_WORKER:
		return copy_path(c->worker_path, sizeof(c->worker_path), v);
	case OPT_RETRY_BASE:
		return parse_seconds(v, &c->retry_base_ms) < 0 ||
		    c->retry_base_ms < 1 ? -1 : 0;
	case OPT_WEBHOOK_ALLOW:
		return webhook_allow_add(c, v);
	case OPT_WEBHOOK_SECRET_FILE:
		return read_secret_file(v, "webhook secret file",
		    &c->webhook_secret);
	case OPT_WEBHOOK_RETRY_BASE:
		return parse_seconds(v, &c->webhook_retry_base_ms) < 0 ||
		    c->webhook_retry_base_ms < 1 ? -1 : 0;
	case OPT_MISFIRE_GRACE:
		return parse_seconds(v, &c->misfire_grace_ms);
	case OPT_MAX_QUEUED:
		return parse_count(v, INT64_MAX, &c->max_queued);
	case OPT_RETAIN_FINISHED:
		return parse_seconds(v, &c->retain_finished_ms);
	case OPT_RETAIN_MAX_JOBS:
		return parse_count(v, INT64_MAX, &c->retain_max_jobs);
	case OPT_LIMIT_MEMORY:
		return parse_count(v, 1048576, &c->limits[LIMIT_MEMORY]);
	case OPT_LIMIT_CPU:
		return parse_count(v, 31622400, &c->limits[LIMIT_CPU]);
	case OPT_LIMIT_FILES:
		return parse_count(v, 1048576, &c->limits[LIMIT_FILES]);
	case OPT_LIMIT_PROCS:
		return parse_count(v, 1048576, &c->limits[LIMIT_PROCS]);
	case OPT_LIMIT_OUTPUT:
		return parse_count(v, 1048576, &c->limits[LIMIT_OUTPUT]);
	}
	return -1;
}

static void
config_defaults(struct config *c)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	memset(c, 0, sizeof(*c));
	strcpy(c->listen_host, "127.0.0.1");
	c->listen_port = 8080;
	strcpy(c->data_dir, "./data");
	c->workers = ncpu > 0 ? (int)ncpu : 2;
	c->max_upload = 10ull << 30;
	c->max_body = 1ull << 20;
	c->shutdown_grace_ms = 30000;
	c->kill_grace_ms = 5000;
	c->retry_base_ms = 1000;
	c->misfire_grace_ms = 60000;
	c->webhook_retry_base_ms = 10000;
	c->retain_finished_ms = 7LL * 24 * 3600 * 1000;
	c->durability = STORE_DURABLE;
	c->log_level = LOG_INFO;
	c->max_connections = 4096;
	c->max_client_connections = 512;
	c->header_timeout_ms = 10000;
	c->node_timeout_ms = 30000;
	c->notify = 1;
	c->poll_interval_ms = 1000;
}

static const struct option_doc *
doc_for(int opt)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].opt.val == opt)
			return &options[i];
	return NULL;
}

static int
config_env(struct config *c)
{
	const char *v;

	for (size_t i = 0; i < NOPTIONS; i++) {
		/* Empty is unset: compose passes RUNNEL_X= for a blank .env line. */
		if (options[i].env == NULL || (v = getenv(options[i].env)) == NULL ||
		    *v == '\0')
			continue;
		if (config_set(c, options[i].opt.val, v) < 0) {
			/* A connection string may hold a password. */
			fprintf(stderr, "runneld: invalid %s: %s\n",
			    options[i].env, options[i].opt.val == OPT_DATABASE ?
			    "empty or over 4095 bytes" : v);
			return -1;
		}
	}
	/* Not an option: the tests' way to a small search window. */
	if ((v = getenv("RUNNEL_LIST_WINDOW")) != NULL)
		c->list_window = strtoll(v, NULL, 10);
	/* Nor this: the tests' way to drop a stalled subscriber soon. */
	if ((v = getenv("RUNNEL_SSE_BUFFER")) != NULL)
		c->sse_buffer_max = strtoull(v, NULL, 10);
	if ((v = getenv("RUNNEL_WEBHOOK_SECRET")) != NULL) {
		if (*v && c->webhook_secret == NULL &&
		    (c->webhook_secret = strdup(v)) == NULL)
			return -1;
		/* Jobs must not read it from /proc/<runneld>/environ either. */
		explicit_bzero((char *)v, strlen(v));
		unsetenv("RUNNEL_WEBHOOK_SECRET");
	}
	if ((v = getenv("RUNNEL_TOKEN")) != NULL && *v && c->token == NULL &&
	    (c->token = strdup(v)) == NULL)
		return -1;
	/*
	 * Jobs run as our user and could read /proc/<runneld>/environ: the
	 * token leaves the environment block, bytes and all.
	 */
	if (v != NULL) {
		explicit_bzero((char *)v, strlen(v));
		unsetenv("RUNNEL_TOKEN");
	}
	/* ... and so does the database's password, if it has one. */
	if ((v = getenv("RUNNEL_DATABASE")) != NULL) {
		explicit_bzero((char *)v, strlen(v));
		unsetenv("RUNNEL_DATABASE");
	}
	return 0;
}

int
config_parse(struct config *c, int argc, char **argv)
{
	struct option	 longopts[NOPTIONS + 1];
	int		 opt;

	config_defaults(c);
	if (config_env(c) < 0)
		return -1;
	for (size_t i = 0; i < NOPTIONS; i++)
		longopts[i] = options[i].opt;
	memset(&longopts[NOPTIONS], 0, sizeof(longopts[0]));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == OPT_HELP || opt == 'h') {
			usage(stdout);
			return 1;
		}
		if (opt == OPT_VERSION) {
			printf("runneld %s\n", RUNNEL_VERSION);
			return 1;
		}
		if (opt == OPT_CHECK) {
			c->check_url = optarg;
			return 0;
		}
		if (opt == '?' || config_set(c, opt, optarg) < 0) {
			if (opt != '?')
				fprintf(stderr, "runneld: invalid --%s: %s\n",
				    doc_for(opt)->opt.name, opt == OPT_DATABASE ?
				    "empty or over 4095 bytes" : optarg ? optarg : "");
			fprintf(stderr, "runneld --help lists the options\n");
			return -1;
		}
		if (opt == OPT_DATABASE)
			hide_passwords(optarg);
	}
	if (optind < argc) {
		fprintf(stderr, "runneld: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	if (c->token && c->token[0] == '\0') {
		fprintf(stderr, "runneld: the token is empty\n");
		return -1;
	}
	return webhook_allow_new(c);
}

void
config_free(struct config *c)
{
	if (c->database) {
		explicit_bzero(c->database, strlen(c->database));
		free(c->database);
		c->database = NULL;
	}
	for (int i = 0; c->allow_origins && c->allow_origins[i]; i++)
		free(c->allow_origins[i]);
	free(c->allow_origins);
	c->allow_origins = NULL;
	c->allow_origins_cap = 0;
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
	}
	if (c->webhook_secret) {
		explicit_bzero(c->webhook_secret, strlen(c->webhook_secret));
		free(c->webhook_secret);
		c->webhook_secret = NULL;
	}
	if (c->webhook_allow) {
		hook_allow_clear(c->webhook_allow);
		free(c->webhook_allow);
		c->webhook_allow = NULL;
	}
}
