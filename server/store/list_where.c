/*
 * The search's listing, shared by the backends (store/list_where.h):
 * the statement built from a filter, and the page with its window.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/list_where.h"

int
list_where_wanted(const struct job_filter *f)
{
	return f->q != NULL || f->name != NULL || f->has != 0;
}

static void
sql_add(struct list_sql *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sql_add(struct list_sql *s, const char *fmt, ...)
{
	va_list	ap;
	int	w;

	if (s->overflow)
		return;
	va_start(ap, fmt);
	w = vsnprintf(s->sql + s->len, sizeof(s->sql) - s->len, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(s->sql) - s->len)
		s->overflow = 1;
	else
		s->len += (size_t)w;
}

/* Adds a parameter; returns its number (from 1), 0 when full. */
static int
param(struct list_sql *s, const char *text, int64_t num)
{
	if (s->n == LIST_PARAMS_MAX) {
		s->overflow = 1;
		return 0;
	}
	s->is_text[s->n] = text != NULL;
	s->text[s->n] = text;
	s->num[s->n] = num;
	return ++s->n;
}

/* Appends the placeholder of a new parameter. */
static void
bind(struct list_sql *s, enum list_dialect d, const char *text, int64_t num)
{
	int i = param(s, text, num);

	sql_add(s, d == LIST_SQLITE ? "?%d" : "$%d", i);
}

static void
sql_init(struct list_sql *s)
{
	s->len = 0;
	s->n = 0;
	s->overflow = 0;
	s->sql[0] = '\0';
}

/* q as a LIKE pattern: %q%, with \ % _ escaped by \. */
static void
pattern(struct list_sql *s, const char *q)
{
	size_t o = 0;

	s->pattern[o++] = '%';
	for (const char *p = q; *p && o < sizeof(s->pattern) - 3; p++) {
		if (*p == '\\' || *p == '%' || *p == '_')
			s->pattern[o++] = '\\';
		s->pattern[o++] = *p;
	}
	s->pattern[o++] = '%';
	s->pattern[o] = '\0';
}

/* The text search: ASCII case folded on both (SQLite's LIKE folds
 * ASCII only; ILIKE folds per locale, ASCII the same). */
static void
where_q(struct list_sql *s, enum list_dialect d, const struct job_filter *f)
{
	static const char *const argv_sql[] = {
		[LIST_SQLITE] = "(SELECT group_concat(value, ' ') FROM "
		    "json_each(argv))",
		[LIST_POSTGRESQL] = "array_to_string(ARRAY(SELECT "
		    "jsonb_array_elements_text(argv::jsonb)), ' ')",
	};
	const char	*like = d == LIST_SQLITE ? "LIKE" : "ILIKE";
	char		 ph[16];
	int		 i;

	pattern(s, f->q);
	i = param(s, s->pattern, 0);
	snprintf(ph, sizeof(ph), d == LIST_SQLITE ? "?%d" : "$%d", i);
	sql_add(s, " AND (name %s %s ESCAPE '\\' OR command %s %s ESCAPE '\\'"
	    " OR file_name %s %s ESCAPE '\\' OR (argv IS NOT NULL AND %s %s %s "
	    "ESCAPE '\\'))", like, ph, like, ph, like, ph, argv_sql[d], like,
	    ph);
}

static void
where_set(struct list_sql *s, enum list_dialect d, const char *col,
    uint32_t bits, int count, const char *(*name)(int))
{
	int first = 1;

	if (bits == 0)
		return;
	sql_add(s, " AND %s IN (", col);
	for (int i = 0; i < count; i++) {
		if (!(bits & (1u << i)))
			continue;
		sql_add(s, "%s", first ? "" : ", ");
		bind(s, d, name(i), 0);
		first = 0;
	}
	sql_add(s, ")");
}

static const char *
state_name(int i)
{
	return job_state_name((enum job_state)i);
}

static const char *
type_name(int i)
{
	return job_type_name((enum job_type)i);
}

/* Every condition of f but q (and the ids), each " AND ...". */
static void
where(struct list_sql *s, enum list_dialect d, const struct job_filter *f)
{
	static const struct {
		unsigned	 bit;
		const char	*sql;
		size_t		 off;
	} bounds[] = {
		{FILTER_CREATED_AFTER, " AND created_at >= ",
		    offsetof(struct job_filter, created_after_ms)},
		{FILTER_CREATED_BEFORE, " AND created_at < ",
		    offsetof(struct job_filter, created_before_ms)},
		{FILTER_FINISHED_AFTER, " AND finished_at >= ",
		    offsetof(struct job_filter, finished_after_ms)},
		{FILTER_FINISHED_BEFORE, " AND finished_at < ",
		    offsetof(struct job_filter, finished_before_ms)},
	};

	where_set(s, d, "state", f->states, JOB_STATE_COUNT, state_name);
	where_set(s, d, "type", f->types, JOB_TYPE_COUNT, type_name);
	if (f->queue) {
		sql_add(s, " AND queue = ");
		bind(s, d, f->queue, 0);
	}
	if (f->schedule) {
		sql_add(s, " AND schedule_id = ");
		bind(s, d, NULL, (int64_t)f->schedule);
	}
	if (f->name) {
		sql_add(s, " AND name = ");
		bind(s, d, f->name, 0);
	}
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		if (!(f->has & bounds[i].bit))
			continue;
		sql_add(s, "%s", bounds[i].sql);
		bind(s, d, NULL, *(const int64_t *)(const void *)
		    ((const char *)f + bounds[i].off));
	}
	if (f->has & FILTER_EXIT_CODE) {
		sql_add(s, " AND exit_code = ");
		bind(s, d, NULL, f->exit_code);
		/* Unary + keeps SQLite off the state index: the window's id
		 * range, newest first, is the cheaper walk. */
		sql_add(s, " AND %sstate IN ('succeeded', 'failed', 'canceled')",
		    d == LIST_SQLITE ? "+" : "");
	}
}

/* Runs s; a statement too big for its buffer is a bug, not a query. */
static int
run(const struct list_where_ops *ops, void *arg, const struct list_sql *s,
    uint64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	if (s->overflow)
		return -EINVAL;
	return ops->ids(arg, s, ids, n);
}

/* The newest id below top into *id (0: none).  0 or a code. */
static int
newest_below(const struct list_where_ops *ops, void *arg, enum list_dialect d,
    int64_t top, uint64_t *id)
{
	struct list_sql	*s;
	uint64_t	*ids;
	size_t		 n;
	int		 rc;

	if ((s = malloc(sizeof(*s))) == NULL)
		return -ENOMEM;
	sql_init(s);
	sql_add(s, "SELECT id FROM jobs WHERE id < ");
	bind(s, d, NULL, top);
	sql_add(s, " ORDER BY id DESC LIMIT 1");
	rc = run(ops, arg, s, &ids, &n);
	*id = rc == 0 && n ? ids[0] : 0;
	free(ids);
	free(s);
	return rc;
}

/* Whether job id matches f but for q: 1, 0, or a code. */
static int
id_matches(const struct list_where_ops *ops, void *arg, enum list_dialect d,
    const struct job_filter *f, uint64_t id)
{
	struct list_sql	*s;
	uint64_t	*ids;
	size_t		 n;
	int		 rc;

	if ((s = malloc(sizeof(*s))) == NULL)
		return -ENOMEM;
	sql_init(s);
	sql_add(s, "SELECT id FROM jobs WHERE id = ");
	bind(s, d, NULL, (int64_t)id);
	where(s, d, f);
	rc = run(ops, arg, s, &ids, &n);
	free(ids);
	free(s);
	return rc < 0 ? rc : n > 0;
}

static int
id_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

int
list_where_page(const struct job_filter *f, enum list_dialect d,
    const struct list_where_ops *ops, void *arg, uint64_t **out,
    size_t *nout, uint64_t *next)
{
	int64_t		 window = f->window > 0 ? f->window : LIST_WINDOW;
	int64_t		 top = f->before ? (int64_t)f->before : INT64_MAX;
	int64_t		 floor = 0, lim;
	int		 windowed = f->q != NULL || f->has != 0;
	int		 with_id = 0, rc;
	struct list_sql	*s = NULL;
	uint64_t	*ids = NULL, hi = 0, below;
	size_t		 n = 0, keep;

	*out = NULL;
	*nout = 0;
	*next = 0;
	if (windowed) {
		if ((rc = newest_below(ops, arg, d, top, &hi)) < 0 || hi == 0)
			return rc;
		floor = (int64_t)hi + 1 > window ? (int64_t)hi + 1 - window : 0;
	}
	/* A number's job leads the first page and is left out of the rest. */
	if (f->q_id && f->before == 0 &&
	    (rc = with_id = id_matches(ops, arg, d, f, f->q_id)) < 0)
		return rc;
	if ((s = malloc(sizeof(*s))) == NULL)
		return -ENOMEM;
	sql_init(s);
	sql_add(s, "SELECT id FROM jobs WHERE id < ");
	bind(s, d, NULL, top);
	if (floor > 0) {
		sql_add(s, " AND id >= ");
		bind(s, d, NULL, floor);
	}
	if (f->q_id) {
		sql_add(s, " AND id <> ");
		bind(s, d, NULL, (int64_t)f->q_id);
	}
	where(s, d, f);
	if (f->q)
		where_q(s, d, f);
	/* One more than the page holds tells whether more follow. */
	lim = with_id ? f->limit : f->limit + 1;
	sql_add(s, " ORDER BY id DESC LIMIT ");
	bind(s, d, NULL, lim);
	if ((rc = run(ops, arg, s, &ids, &n)) < 0)
		goto out;
	keep = with_id ? (size_t)f->limit - 1 : (size_t)f->limit;
	if (n > keep) {
		/* Cut by the limit: go on below the last one shown. */
		*next = keep ? ids[keep - 1] : hi + 1;
		n = keep;
	} else if (floor > 0) {
		/* The window ran out: go on below it if anything is there. */
		if ((rc = newest_below(ops, arg, d, floor, &below)) < 0)
			goto out;
		*next = below ? (uint64_t)floor : 0;
	}
	if (with_id) {
		uint64_t *grown = realloc(ids, (n + 1) * sizeof(*ids));

		if (grown == NULL) {
			rc = -ENOMEM;
			goto out;
		}
		ids = grown;
		ids[n++] = f->q_id;
		qsort(ids, n, sizeof(*ids), id_desc);
	}
	*out = ids;
	*nout = n;
	ids = NULL;
out:
	free(ids);
	free(s);
	return rc;
}
