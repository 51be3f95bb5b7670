/*
 * Tables and short field forms for the human output of ls, queue ls,
 * schedule ls and workers.  Cells are cleaned when they are set, so that
 * a job's name or command (which may hold newlines or escapes) cannot
 * break a row or reach the terminal as a control sequence.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "table.h"
#include "term.h"
#include "utf8.h"

int
table_init(struct table *t, const char *const *heads, int ncols)
{
	memset(t, 0, sizeof(*t));
	if (ncols < 1 || ncols > TABLE_MAX_COLS)
		return -EINVAL;
	t->ncols = ncols;
	for (int i = 0; i < ncols; i++)
		t->head[i] = heads[i];
	return 0;
}

void
table_free(struct table *t)
{
	for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->sgr);
	memset(t, 0, sizeof(*t));
}

int
table_row(struct table *t)
{
	size_t	 n = (size_t)t->ncols;
	char	**c;
	const char **s;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;

		if ((c = realloc(t->cells, cap * n * sizeof(*c))) == NULL)
			return -ENOMEM;
		t->cells = c;
		if ((s = realloc(t->sgr, cap * n * sizeof(*s))) == NULL)
			return -ENOMEM;
		t->sgr = s;
		t->cap = cap;
	}
	memset(&t->cells[t->nrows * n], 0, n * sizeof(*t->cells));
	memset(&t->sgr[t->nrows * n], 0, n * sizeof(*t->sgr));
	t->nrows++;
	return 0;
}

/* A copy of s fit for one cell: control bytes become spaces, bytes that
 * are not UTF-8 '?'. */
static char *
clean(const char *s)
{
	size_t	 n = strlen(s), i = 0, k;
	char	*out = malloc(n + 1), *o = out;

	if (out == NULL)
		return NULL;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f) {
			*o++ = ' ';
			i++;
		} else if (c < 0x80) {
			*o++ = (char)c;
			i++;
		} else if ((k = utf8_seq((const unsigned char *)s + i,
		    n - i)) == 0) {
			*o++ = '?';
			i++;
		} else {
			memcpy(o, s + i, k);
			o += k;
			i += k;
		}
	}
	*o = '\0';
	return out;
}

int
table_set(struct table *t, int col, const char *sgr, const char *text)
{
	size_t at = (t->nrows - 1) * (size_t)t->ncols + (size_t)col;

	if (t->nrows == 0 || col < 0 || col >= t->ncols)
		return -EINVAL;
	free(t->cells[at]);
	if ((t->cells[at] = clean(text ? text : "")) == NULL)
		return -ENOMEM;
	t->sgr[at] = sgr;
	return 0;
}

size_t
table_columns(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* The bytes of s that fit in cols columns. */
static size_t
bytes_in(const char *s, size_t cols)
{
	size_t i = 0, n = 0;

	for (; s[i] != '\0'; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80 && n++ == cols)
			break;
	return s[i] == '\0' ? i : utf8_cut(s, i);
}

/* Prints one cell of w columns (cut when longer), padded unless last. */
static void
cell_print(const char *s, size_t w, int last, const char *sgr, int color)
{
	size_t cols = table_columns(s), len = strlen(s);
	int cut = cols > w;

	if (cut) {
		len = bytes_in(s, w > 0 ? w - 1 : 0);
		cols = table_columns(s) - table_columns(s + len);
	}
	if (color && sgr != NULL)
		fputs(sgr, stdout);
	fwrite(s, 1, len, stdout);
	if (cut && w > 0) {
		fputs("…", stdout);
		cols++;
	}
	if (color && sgr != NULL)
		fputs(FMT_RESET, stdout);
	if (!last)
		for (; cols < w; cols++)
			putchar(' ');
}

void
table_print(const struct table *t, int width, int color)
{
	size_t	w[TABLE_MAX_COLS] = {0}, used = 0, c;
	int	n = t->ncols;

	if (n < 1 || n > TABLE_MAX_COLS)
		return;
	for (int i = 0; i < n; i++) {
		w[i] = table_columns(t->head[i]);
		for (size_t r = 0; r < t->nrows; r++)
			if ((c = table_columns(t->cells[r * n + i] ?
			    t->cells[r * n + i] : "")) > w[i])
				w[i] = c;
		if (width > 0 && t->max[i] > 0 && w[i] > (size_t)t->max[i])
			w[i] = (size_t)t->max[i];
		if (i < n - 1)
			used += w[i] + 2;
	}
	/* the last column takes what is left, at least 8 columns */
	if (width > 0 && used + w[n - 1] > (size_t)width)
		w[n - 1] = (size_t)width > used + 8 ? (size_t)width - used : 8;
	for (int i = 0; i < n; i++) {
		cell_print(t->head[i], w[i], i == n - 1, NULL, 0);
		fputs(i == n - 1 ? "\n" : "  ", stdout);
	}
	for (size_t r = 0; r < t->nrows; r++)
		for (int i = 0; i < n; i++) {
			const char *s = t->cells[r * n + i];

			cell_print(s ? s : "", w[i], i == n - 1,
			    t->sgr[r * n + i], color);
			fputs(i == n - 1 ? "\n" : "  ", stdout);
		}
}

const char *
fmt_state_sgr(const char *state)
{
	static const struct { const char *state, *sgr; } colors[] = {
		{"succeeded", "\033[32m"}, {"failed", "\033[31m"},
		{"running", "\033[33m"}, {"canceled", "\033[2m"},
		{"scheduled", "\033[36m"}, {"queued", "\033[34m"},
		{"busy", "\033[33m"}, {"idle", "\033[32m"},
		{"starting", "\033[2m"},
	};

	for (size_t i = 0; state && i < sizeof(colors) / sizeof(colors[0]); i++)
		if (strcmp(colors[i].state, state) == 0)
			return colors[i].sgr;
	return NULL;
}

void
fmt_age(const char *ts, char *buf, size_t size)
{
	int64_t t = term_time_ms(ts);

	if (t < 0)
		snprintf(buf, size, "-");
	else
		term_span(term_now_ms() - t, buf, size);
}

void
fmt_duration(const cJSON *job, char *buf, size_t size)
{
	const cJSON	*f = cJSON_GetObjectItemCaseSensitive(job, "finished_at");
	const cJSON	*s = cJSON_GetObjectItemCaseSensitive(job, "started_at");
	int64_t		 t0 = term_time_ms(cJSON_GetStringValue(s));
	int64_t		 t1 = term_time_ms(cJSON_GetStringValue(f));

	if (t0 < 0) {
		snprintf(buf, size, "-");
		return;
	}
	if (t1 < 0)
		t1 = term_now_ms();
	term_span(t1 - t0, buf, size);
}

void
fmt_signal(long long sig, char *buf, size_t size)
{
	static const char *const names[] = {
		NULL, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE",
		"KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
		"STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
		"XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
	};

	if (sig > 0 && sig < (long long)(sizeof(names) / sizeof(names[0])))
		snprintf(buf, size, "SIG%s", names[sig]);
	else
		snprintf(buf, size, "sig %lld", sig);
}

void
fmt_exit(const cJSON *job, char *buf, size_t size)
{
	const cJSON *sig = cJSON_GetObjectItemCaseSensitive(job, "signal");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(job, "exit_code");

	if (cJSON_IsNumber(sig))
		fmt_signal((long long)sig->valuedouble, buf, size);
	else if (cJSON_IsNumber(code))
		snprintf(buf, size, "%lld", (long long)code->valuedouble);
	else
		snprintf(buf, size, "-");
}

/* 1 when word needs quotes to read as one shell word. */
static int
needs_quotes(const char *w)
{
	if (*w == '\0')
		return 1;
	for (; *w != '\0'; w++)
		if (strchr(" \t\n'\"\\$`!*?[]{}()<>|&;#~", *w) != NULL)
			return 1;
	return 0;
}

/* argv as shell words, quoted where a word needs it. */
static char *
argv_line(const cJSON *argv)
{
	const cJSON	*a;
	size_t		 len = 1;
	char		*out, *o;

	cJSON_ArrayForEach(a, argv)
		if (cJSON_IsString(a))
			len += strlen(a->valuestring) * 4 + 3;
	if ((out = o = malloc(len)) == NULL)
		return NULL;
	cJSON_ArrayForEach(a, argv) {
		const char *w = cJSON_GetStringValue(a);

		if (w == NULL)
			continue;
		if (o != out)
			*o++ = ' ';
		if (!needs_quotes(w)) {
			o = stpcpy(o, w);
			continue;
		}
		*o++ = '\'';
		for (; *w != '\0'; w++)
			o = *w == '\'' ? stpcpy(o, "'\\''") :
			    (*o = *w, o + 1);
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

char *
fmt_what(const cJSON *job)
{
	const char	*s;
	const cJSON	*argv = cJSON_GetObjectItemCaseSensitive(job, "argv");
	const cJSON	*file = cJSON_GetObjectItemCaseSensitive(job, "file");
	char		*out;

	if ((s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job,
	    "name"))) != NULL ||
	    (s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job,
	    "command"))) != NULL)
		return strdup(s);
	if (cJSON_IsArray(argv))
		return argv_line(argv);
	s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(file, "name"));
	if (s == NULL)
		return strdup("");
	if ((out = malloc(strlen(s) + 16)) != NULL)
		sprintf(out, "upload %s", s);
	return out;
}

void
fmt_time(const char *ts, char *buf, size_t size)
{
	int64_t		 ms = term_time_ms(ts), now = term_now_ms();
	time_t		 t;
	struct tm	 tm;
	char		 span[32], zone[48];
	long		 off;

	if (ms < 0 || size == 0) {
		snprintf(buf, size, "%s", ts ? ts : "-");
		return;
	}
	t = (time_t)(ms / 1000);
	localtime_r(&t, &tm);
	off = tm.tm_gmtoff / 60;
	if (off == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+',
		    labs(off) / 60, labs(off) % 60);
	term_span(ms > now ? ms - now : now - ms, span, sizeof(span));
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s (%s%s%s)",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, zone, ms > now ? "in " : "", span,
	    ms > now ? "" : " ago");
}

int
fmt_print_json(const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);

	if (text == NULL)
		return EXIT_FAIL;
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

int
api_call(struct cli *cli, const char *method, const char *path,
    const char *body, const char *what, struct reply *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = cli_connect(cli)) != 0 ||
	    (rc = client_call(&cli->client, method, path, body, NULL, r)) != 0)
		return rc;
	if (r->status >= 200 && r->status < 300)
		return 0;
	rc = client_fail(r, what);
	reply_clear(r);
	return rc;
}

void
api_print_body(const struct reply *r)
{
	if (r->len > 0)
		fwrite(r->body, 1, r->len, stdout);
	if (r->len == 0 || r->body[r->len - 1] != '\n')
		putchar('\n');
}
