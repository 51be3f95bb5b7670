/*
 * A PostgreSQL connection string as the keys and values that
 * PQconnectdbParams and PQconnectStartParams take, with defaults added
 * for what it does not say (pg.c, pg_listen.c).  The string is never
 * logged: it may hold a password.
 */
#ifndef RUNNEL_STORE_PG_CONNINFO_H
#define RUNNEL_STORE_PG_CONNINFO_H

#include <stddef.h>

#include <libpq-fe.h>

struct pg_conninfo {
	PQconninfoOption	*opts;
	const char		**keys;	/* NULL-terminated, as vals */
	const char		**vals;
	size_t			 n;
	size_t			 cap;	/* n can reach it; keys[cap] is NULL */
};

/*
 * Parses conninfo (a URI or key=value pairs) into ci, with room for
 * `extra` defaults.  Returns 0, -ENOMEM, or -EINVAL when it is not valid:
 * then, if err is not NULL, *err is libpq's message on one line, to free
 * with PQfreemem.  ci is left so that pg_conninfo_free may always follow.
 */
int	pg_conninfo_parse(struct pg_conninfo *ci, const char *conninfo,
	    size_t extra, char **err);
/* Adds key=val unless the string gave key a value; keys and vals point
 * at the caller's strings, which must outlive ci. */
void	pg_conninfo_default(struct pg_conninfo *ci, const char *key,
	    const char *val);
void	pg_conninfo_free(struct pg_conninfo *ci);

#endif
