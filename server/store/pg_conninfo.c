/*
 * A connection string as libpq's keys and values, plus defaults
 * (store/pg_conninfo.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg_conninfo.h"

static int
has_option(const PQconninfoOption *opts, const char *key)
{
	for (const PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, key) == 0)
			return o->val != NULL && *o->val != '\0';
	return 0;
}

int
pg_conninfo_parse(struct pg_conninfo *ci, const char *conninfo,
    size_t extra, char **err)
{
	char	*msg = NULL;
	size_t	 n = 0;

	memset(ci, 0, sizeof(*ci));
	if ((ci->opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		if (msg == NULL)
			return -ENOMEM;
		msg[strcspn(msg, "\n")] = '\0';
		if (err)
			*err = msg;
		else
			PQfreemem(msg);
		return -EINVAL;
	}
	for (const PQconninfoOption *o = ci->opts; o->keyword; o++)
		n++;
	ci->cap = n + extra;
	ci->keys = calloc(ci->cap + 1, sizeof(*ci->keys));
	ci->vals = calloc(ci->cap + 1, sizeof(*ci->vals));
	if (ci->keys == NULL || ci->vals == NULL)
		return -ENOMEM;
	for (const PQconninfoOption *o = ci->opts; o->keyword; o++)
		if (o->val != NULL) {
			ci->keys[ci->n] = o->keyword;
			ci->vals[ci->n++] = o->val;
		}
	return 0;
}

void
pg_conninfo_default(struct pg_conninfo *ci, const char *key, const char *val)
{
	if (ci->n >= ci->cap || has_option(ci->opts, key))
		return;
	ci->keys[ci->n] = key;
	ci->vals[ci->n++] = val;
}

void
pg_conninfo_free(struct pg_conninfo *ci)
{
	if (ci->opts)
		PQconninfoFree(ci->opts);
	free(ci->keys);
	free(ci->vals);
	memset(ci, 0, sizeof(*ci));
}
