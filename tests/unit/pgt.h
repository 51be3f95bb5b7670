/*
 * PostgreSQL for the unit tests that need a real server (test_pgio.c,
 * test_import.c): RUNNEL_TEST_PG_URL, ctest's fixture pg, names a
 * database to create a fresh one per case from.  Include after test.h.
 */
#ifndef RUNNEL_PGT_H
#define RUNNEL_PGT_H

#include <libpq-fe.h>

/* Runs sql on url; FAILs when it does not work. */
static inline void
pgt_exec_on(const char *url, const char *sql)
{
	PGconn		*c = PQconnectdb(url);
	PGresult	*r;

	if (PQstatus(c) != CONNECTION_OK)
		FAIL("connect %s: %s", url, PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		FAIL("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/*
 * The text of the first value a query on url answers, "NULL" or "(none)"
 * when there is none; the buffer is the next call's.
 */
static inline char *
pgt_value(const char *url, const char *sql)
{
	static char	 out[4096];
	PGconn		*c = PQconnectdb(url);
	PGresult	*r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		FAIL("%s: %s", sql, PQerrorMessage(c));
	snprintf(out, sizeof(out), "%s", PQntuples(r) ? (PQgetisnull(r, 0, 0) ?
	    "NULL" : PQgetvalue(r, 0, 0)) : "(none)");
	PQclear(r);
	PQfinish(c);
	return out;
}

/*
 * Makes database prefix_name afresh (dropping what a failed run left)
 * and writes its URI into url: RUNNEL_TEST_PG_URL with the database's
 * name swapped.
 */
static inline void
pgt_fresh_db(const char *prefix, const char *name, char *url, size_t size)
{
	const char	*base = getenv("RUNNEL_TEST_PG_URL");
	const char	*q;
	char		 sql[256];

	if (base == NULL)
		FAIL("no PostgreSQL: RUNNEL_TEST_PG_URL is not set");
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s_%s WITH "
	    "(FORCE)", prefix, name);
	pgt_exec_on(base, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s_%s", prefix, name);
	pgt_exec_on(base, sql);
	/* postgresql:///postgres?host=...: swap the database's name */
	if ((q = strstr(base, ":///")) == NULL)
		FAIL("RUNNEL_TEST_PG_URL must be postgresql:///DB?...");
	snprintf(url, size, "%.*s:///%s_%s%s", (int)(q - base), base, prefix,
	    name, strchr(q + 4, '?') ? strchr(q + 4, '?') : "");
}

#endif
