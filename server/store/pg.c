/*
 * The PostgreSQL backend: the connection (and its reset when lost), the
 * migrations, the table of every statement runnel runs (each prepared
 * once per connection), the turn's transaction and its savepoints, and
 * how PostgreSQL's errors become store.h's codes: logged here once with
 * PostgreSQL's message.  pg.h says how a failed statement affects the
 * turn.  The statements run in pg_jobs.c, pg_list.c, pg_queues.c and
 * pg_flow.c; their parameters and results go through pg_exec.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "log.h"
#include "store/pg.h"
#include "store/pg_conninfo.h"

extern const struct embed_file pg_schema_files[];

/* Identity columns (10); nothing newer is needed. */
#define PG_SERVER_MIN	100000
/* Unless the connection string or PGCONNECT_TIMEOUT says otherwise. */
#define PG_CONNECT_TIMEOUT	"5"

#define BEGIN_TXN	"BEGIN ISOLATION LEVEL READ COMMITTED"

static const struct {
	const char	*name;
	const char	*sql;
} stmts[PG_STMT_COUNT] = {
	/* Rows come out of unnest, and take their ids, in the arrays' order. */
	[PG_INSERT] = {"insert", "INSERT INTO jobs (" PG_INSERT_COLUMNS ") "
	    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
	    "$4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], "
	    "$9::text[], $10::bytea[], $11::bigint[], $12::text[], "
	    "$13::integer[], $14::bigint[], $15::bigint[], $16::text[], "
	    "$17::bigint[], $18::text[], $19::text[], $20::integer[], "
	    "$21::text[], $22::bigint[], $23::bigint[], $24::bigint[], "
	    "$25::text[], $26::integer[]) RETURNING id"},
	[PG_GET] = {"get", "SELECT " PG_JOB_COLUMNS " FROM jobs WHERE id = $1"},
	[PG_GET_MANY] = {"get_many", "SELECT " PG_JOB_COLUMNS " FROM jobs "
	    "WHERE id = ANY ($1::bigint[]) ORDER BY id DESC"},
	/* The head of one queue: one seek on jobs_runnable. */
	[PG_HEAD] = {"head", "SELECT id, priority FROM jobs "
	    "WHERE state = 'queued' AND queue = $1 ORDER BY priority, id "
	    "LIMIT 1"},
	/* RETURNING saves reading the row again: a round trip. */
	[PG_CLAIM] = {"claim", "UPDATE jobs SET state = 'running', "
	    "attempts = attempts + 1, started_at = $2, worker = $3, "
	    "finished_at = NULL, exit_code = NULL, signal = NULL, "
	    "error = NULL, stdout_bytes = 0, stderr_bytes = 0, "
	    "cpu_ms = NULL, max_rss_kb = NULL "
	    "WHERE id = $1 AND state = 'queued' RETURNING " PG_JOB_COLUMNS},
	/* The end of an attempt: finished, or scheduled again ($12: when). */
	[PG_FINISH] = {"finish", "UPDATE jobs SET state = $2, exit_code = $3, "
	    "signal = $4, error = $5, finished_at = $6, stdout_bytes = $7, "
	    "stderr_bytes = $8, cpu_ms = $9, max_rss_kb = $10, "
	    "started_at = coalesce($11, started_at), "
	    "run_at = coalesce($12, run_at) "
	    "WHERE id = $1 AND state = 'running'"},
	[PG_SET_STATE] = {"set_state", "UPDATE jobs SET state = $3, "
	    "error = $4, finished_at = $5 WHERE id = $1 AND state = $2"},
	[PG_REQUEUE] = {"requeue", "UPDATE jobs SET state = CASE WHEN "
	    "$4::integer > 0 THEN 'scheduled' ELSE 'queued' END, "
	    "deps_left = $4, attempts = attempts - $3::integer, "
	    "max_attempts = GREATEST(max_attempts, "
	    "attempts - $3::integer + 1), "
	    "started_at = NULL, finished_at = NULL, exit_code = NULL, "
	    "signal = NULL, error = NULL, stdout_bytes = 0, stderr_bytes = 0, "
	    "cpu_ms = NULL, max_rss_kb = NULL, node = NULL "
	    "WHERE id = $1 AND state = $2"},
	[PG_PROMOTE] = {"promote", "UPDATE jobs SET state = 'queued' "
	    "WHERE id = $1 AND state = 'scheduled' AND deps_left = 0"},
	/* One round trip: the job, and who waits for it or whom it waits for. */
	[PG_DELETE] = {"delete", "WITH forget AS (DELETE FROM job_deps "
	    "WHERE job_id = $1::bigint OR dep_id = $1::bigint) "
	    "DELETE FROM jobs WHERE id = $1::bigint"},
	/* Listing scans one index newest first; columns after id feed the
	 * filters the index does not cover (pg_list.c). */
	[PG_LIST_ALL] = {"list_all", "SELECT id, state, queue, type FROM jobs "
	    "WHERE id < $1 ORDER BY id DESC LIMIT $2"},
	[PG_LIST_STATE] = {"list_state", "SELECT id, state, queue, type "
	    "FROM jobs WHERE state = $1 AND id < $2 ORDER BY id DESC LIMIT $3"},
	[PG_LIST_QUEUE] = {"list_queue", "SELECT id, state, queue, type "
	    "FROM jobs WHERE queue = $1 AND id < $2 ORDER BY id DESC LIMIT $3"},
	[PG_LIST_TYPE] = {"list_type", "SELECT id, state, queue, type "
	    "FROM jobs WHERE type = $1 AND id < $2 ORDER BY id DESC LIMIT $3"},
	[PG_LIST_SCHEDULE] = {"list_schedule", "SELECT id, state, queue, type "
	    "FROM jobs WHERE schedule_id = $1::bigint AND id < $2 "
	    "ORDER BY id DESC LIMIT $3"},
	/* Orders below are the ones SQLite's indexes give: the same answers
	 * in the same order on either backend.  COLLATE "C": SQLite compares
	 * bytes, whatever the database's locale. */
	[PG_RUNNING] = {"running", "SELECT id FROM jobs "
	    "WHERE state = 'running' ORDER BY id"},
	[PG_COUNT] = {"count", "SELECT queue, state, count(*) FROM jobs "
	    "GROUP BY queue, state ORDER BY queue COLLATE \"C\", "
	    "state COLLATE \"C\""},
	[PG_FINISHED_SINCE] = {"finished_since", "SELECT finished_at FROM jobs "
	    "WHERE finished_at >= $1 ORDER BY finished_at"},
	/* The overview (store/overview.h), each through an index. */
	[PG_OV_RETRYING] = {"ov_retrying", "SELECT count(*) FROM jobs "
	    "WHERE state = 'scheduled' AND error IS NOT NULL"},
	[PG_OV_OLDEST] = {"ov_oldest", "SELECT GREATEST(created_at, "
	    "coalesce(run_at, 0)) FROM jobs WHERE state = 'queued' "
	    "ORDER BY id LIMIT 1"},
	[PG_OV_FAILED] = {"ov_failed", "SELECT finished_at / 60000, count(*) "
	    "FROM jobs WHERE state = 'failed' AND finished_at >= $1 "
	    "GROUP BY 1"},
	[PG_OV_FINISHED] = {"ov_finished", "SELECT started_at - "
	    "GREATEST(created_at, coalesce(run_at, 0)) FROM jobs "
	    "WHERE finished_at >= $1 AND started_at >= $1 "
	    "ORDER BY finished_at DESC LIMIT $2"},
	[PG_OV_RUNNING] = {"ov_running", "SELECT started_at - "
	    "GREATEST(created_at, coalesce(run_at, 0)) FROM jobs "
	    "WHERE state = 'running' AND started_at >= $1"},
	/* A job whose webhooks are still being delivered is kept for them. */
	[PG_EXPIRED] = {"expired", "SELECT id, attempts FROM jobs "
	    "WHERE finished_at IS NOT NULL AND finished_at < $1 AND NOT EXISTS "
	    "(SELECT 1 FROM deliveries d WHERE d.job_id = jobs.id AND "
	    "d.state = 'pending') ORDER BY finished_at, id LIMIT $2"},
	[PG_QUEUES] = {"queues", "SELECT name, paused, concurrency FROM queues "
	    "ORDER BY name COLLATE \"C\""},
	[PG_QUEUE_SET] = {"queue_set", "INSERT INTO queues (name, paused, "
	    "concurrency) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE "
	    "SET paused = excluded.paused, concurrency = excluded.concurrency"},
	/* All of a job's dependencies in one statement. */
	[PG_DEP_ADD] = {"dep_add", "INSERT INTO job_deps (dep_id, job_id) "
	    "SELECT d, $1::bigint FROM unnest($2::bigint[]) AS d "
	    "ON CONFLICT DO NOTHING"},
	[PG_DEPENDENTS] = {"dependents", "SELECT job_id FROM job_deps "
	    "WHERE dep_id = $1 ORDER BY job_id"},
	[PG_DEP_DONE] = {"dep_done", "UPDATE jobs SET deps_left = deps_left - 1 "
	    "WHERE id = $1 AND state = 'scheduled' AND deps_left > 0"},
	/* Both on the partial index jobs_due. */
	[PG_NEXT_DUE] = {"next_due", "SELECT run_at FROM jobs "
	    "WHERE state = 'scheduled' AND deps_left = 0 "
	    "AND run_at IS NOT NULL ORDER BY run_at, id LIMIT 1"},
	[PG_DUE] = {"due", "SELECT id, queue FROM jobs "
	    "WHERE state = 'scheduled' AND deps_left = 0 "
	    "AND run_at IS NOT NULL AND run_at <= $1 "
	    "ORDER BY run_at, id LIMIT $2"},
	[PG_IDEM_GET] = {"idem_get", "SELECT body_sha, jobs, batch "
	    "FROM idempotency WHERE key = $1 AND created_at >= $2"},
	[PG_IDEM_PUT] = {"idem_put", "INSERT INTO idempotency (key, body_sha, "
	    "jobs, batch, created_at) VALUES ($1, $2, $3, $4, $5) "
	    "ON CONFLICT (key) DO UPDATE SET body_sha = excluded.body_sha, "
	    "jobs = excluded.jobs, batch = excluded.batch, "
	    "created_at = excluded.created_at"},
	[PG_IDEM_PURGE] = {"idem_purge", "DELETE FROM idempotency "
	    "WHERE created_at < $1"},
	/* A standby, or a read-only session, cannot take a write. */
	[PG_PING] = {"ping", "SELECT NOT pg_is_in_recovery() AND "
	    "current_setting('transaction_read_only') = 'off'"},
	/* Schedules (pg_sched.c): a name in use or a tick fired changes no row. */
	[PG_SCHED_ADD] = {"sched_add", "INSERT INTO schedules (name, cron, "
	    "timezone, job, overlap, misfire, paused, until, created_at, "
	    "next_at, last_job, waiting) VALUES ($1, $2, $3, $4, $5, $6, $7, "
	    "$8, $9, $10, $11, $12) ON CONFLICT (name) DO NOTHING "
	    "RETURNING id"},
	[PG_SCHED_GET] = {"sched_get", "SELECT " PG_SCHED_COLUMNS
	    " FROM schedules WHERE id = $1"},
	[PG_SCHED_ALL] = {"sched_all", "SELECT " PG_SCHED_COLUMNS
	    " FROM schedules ORDER BY id"},
	[PG_SCHED_PUT] = {"sched_put", "UPDATE schedules SET name = $2, "
	    "cron = $3, timezone = $4, job = $5, overlap = $6, misfire = $7, "
	    "paused = $8, until = $9 WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM schedules WHERE name = $2 AND id <> $1)"},
	[PG_SCHED_REPLAN] = {"sched_replan", "UPDATE schedules SET next_at = $2, "
	    "waiting = NULL WHERE id = $1"},
	[PG_SCHED_DELETE] = {"sched_delete", "WITH t AS (DELETE FROM "
	    "schedule_ticks WHERE schedule_id = $1) DELETE FROM schedules "
	    "WHERE id = $1"},
	/* ORDER BY ... LIMIT 1, not min(): a plan made on an empty table
	 * must still stop at the index's first entry. */
	[PG_SCHED_NEXT] = {"sched_next", "SELECT next_at FROM schedules "
	    "WHERE next_at IS NOT NULL AND paused = 0 ORDER BY next_at LIMIT 1"},
	[PG_SCHED_DUE] = {"sched_due", "SELECT id FROM schedules "
	    "WHERE next_at IS NOT NULL AND paused = 0 AND next_at <= $1 "
	    "ORDER BY next_at, id LIMIT $2"},
	[PG_SCHED_OWED] = {"sched_owed", "SELECT id FROM schedules "
	    "WHERE waiting IS NOT NULL AND paused = 0 ORDER BY id"},
	[PG_SCHED_ADVANCE] = {"sched_advance", "UPDATE schedules "
	    "SET next_at = $3 WHERE id = $1 AND next_at = $2"},
	[PG_SCHED_MADE] = {"sched_made", "UPDATE schedules SET last_job = "
	    "coalesce($2, last_job), waiting = CASE $3::bigint WHEN -1 THEN "
	    "waiting ELSE $3 END WHERE id = $1"},
	[PG_SCHED_TICK] = {"sched_tick", "INSERT INTO schedule_ticks "
	    "(schedule_id, tick, job_id) VALUES ($1, $2, $3) "
	    "ON CONFLICT DO NOTHING"},
	[PG_SCHED_TICK_JOB] = {"sched_tick_job", "UPDATE schedule_ticks "
	    "SET job_id = $3 WHERE schedule_id = $1 AND tick = $2"},
	[PG_SCHED_TICKS_PURGE] = {"sched_ticks_purge", "DELETE FROM "
	    "schedule_ticks WHERE tick < $1"},
	/* Webhook deliveries (pg_hooks.c); the triggers record them. */
	[PG_HOOK_NEXT] = {"hook_next", "SELECT next_at FROM deliveries "
	    "WHERE state = 'pending' ORDER BY next_at LIMIT 1"},
	[PG_HOOK_DUE] = {"hook_due", "SELECT " PG_DELIVERY_COLUMNS " FROM "
	    "deliveries WHERE state = 'pending' AND next_at <= $1 "
	    "ORDER BY next_at, id LIMIT $2"},
	[PG_HOOK_LEASE] = {"hook_lease", "UPDATE deliveries SET tries = "
	    "tries + 1, next_at = $3 WHERE id = $1 AND state = 'pending' "
	    "AND next_at = $2"},
	/* The try's row and the delivery's state, one statement. */
	[PG_HOOK_TRIED] = {"hook_tried", "WITH t AS (INSERT INTO delivery_tries "
	    "(delivery_id, try, at, status, error, response) VALUES ($1, $2, "
	    "$3, $4, $5, $6) ON CONFLICT DO NOTHING) UPDATE deliveries SET "
	    "state = $7, next_at = $8, last_at = $3, last_status = $4, "
	    "last_error = $5 WHERE id = $1"},
	[PG_HOOK_LIST] = {"hook_list", "SELECT " PG_DELIVERY_COLUMNS " FROM "
	    "deliveries WHERE job_id = $1 ORDER BY id"},
	[PG_HOOK_TRIES] = {"hook_tries", "SELECT t.delivery_id, t.try, t.at, "
	    "t.status, t.error, t.response FROM delivery_tries t JOIN "
	    "deliveries d ON d.id = t.delivery_id WHERE d.job_id = $1 "
	    "ORDER BY t.delivery_id, t.try"},
	[PG_HOOK_QUEUE_SET] = {"hook_queue_set", "INSERT INTO queues (name, "
	    "paused, webhooks) VALUES ($1, 0, $2) ON CONFLICT (name) DO UPDATE "
	    "SET webhooks = excluded.webhooks"},
	[PG_HOOK_QUEUE_GET] = {"hook_queue_get", "SELECT webhooks FROM queues "
	    "WHERE name = $1"},
};

const char *
pg_stmt_name(enum pg_stmt_id id)
{
	return stmts[id].name;
}

/* ---- errors and the turn ---- */

/* PostgreSQL's message on one line (libpq ends it with a newline). */
static const char *
error_text(const struct pg_store *s, const PGresult *res, char *buf,
    size_t size)
{
	const char	*m = res ? PQresultErrorMessage(res) : "";
	size_t		 n;

	if (*m == '\0')
		m = s->conn ? PQerrorMessage(s->conn) : "";
	if (*m == '\0')
		m = "out of memory";
	snprintf(buf, size, "%s", m);
	for (n = strlen(buf); n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ');
	    n--)
		buf[n - 1] = '\0';
	for (char *c = buf; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	return buf;
}

int
pg_code(const struct pg_store *s, const PGresult *res)
{
	const char	*state;

	if (res != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			return 0;
	}
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK)
		return -ENOTCONN;
	if (res == NULL)
		return -ENOMEM;
	if ((state = PQresultErrorField(res, PG_DIAG_SQLSTATE)) == NULL) {
		/* libpq's own failure: no SQLSTATE. */
		return strstr(PQresultErrorMessage(res), "out of memory") ?
		    -ENOMEM : -EIO;
	}
	if (strncmp(state, "23", 2) == 0)
		return -EEXIST;
	if (strcmp(state, "53100") == 0)
		return -ENOSPC;
	return -EIO;
}

static void
rollback(struct pg_store *s)
{
	PGresult *r;

	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK ||
	    PQtransactionStatus(s->conn) == PQTRANS_IDLE)
		return;
	r = pg_answer(s, PQsendQuery(s->conn, "ROLLBACK"), "rollback");
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		char buf[512];

		log_warnx("store: rollback: %s", error_text(s, r, buf,
		    sizeof(buf)));
	}
	PQclear(r);
}

/*
 * Inside a savepoint that can still be rolled back to, the savepoint is
 * failed; else the turn is lost, and rolled back now so that reads see
 * what is committed meanwhile.
 */
void
pg_turn_failed(struct pg_store *s, int code)
{
	if (!s->in_txn || s->txn_lost)
		return;
	if (s->marks > 0 && PQstatus(s->conn) == CONNECTION_OK &&
	    PQtransactionStatus(s->conn) == PQTRANS_INERROR) {
		if (s->mark_error == 0)
			s->mark_error = code;
		return;
	}
	s->txn_lost = 1;
	s->txn_error = code;
	s->marks = 0;
	s->mark_error = 0;
	pg_defer_clear(s);
	pg_deps_forget(s);
	rollback(s);
}

int
pg_fail(struct pg_store *s, const char *what, PGresult *res)
{
	char	 buf[512];
	int	 rc = pg_code(s, res);

	if (rc == 0)
		rc = -EIO;	/* a result of a kind the caller did not expect */
	/* An answer that never came was said so by pg_answer. */
	if (!(rc == -ENOTCONN && s->answer_cut))
		log_warnx("store: %s: %s", what, error_text(s, res, buf,
		    sizeof(buf)));
	PQclear(res);
	pg_turn_failed(s, rc);
	/* From now on statements fail at once; it is made again meanwhile. */
	if (rc == -ENOTCONN)
		pg_link_lost(s, 0);
	return rc;
}

/* ---- the connection ---- */

/* PostgreSQL's notices: warnings are worth a line, the rest is chatter. */
static void
notice(void *arg, const PGresult *res)
{
	const char	*sev = PQresultErrorField(res,
			    PG_DIAG_SEVERITY_NONLOCALIZED);
	const char	*msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	(void)arg;
	if (sev && strcmp(sev, "WARNING") == 0)
		log_warnx("store: postgresql: %s", msg ? msg : "?");
	else
		log_debug("store: postgresql: %s", msg ? msg : "?");
}

/*
 * Connects with what conninfo says (a URI or key=value pairs), plus,
 * when not given: a connect_timeout so that no connect or reset can hang
 * the loop for ever, TCP keepalives, UTF-8 text and a name for
 * pg_stat_activity.
 * The connection string is never logged: it may hold a password.
 */
static int
connect_db(struct pg_store *s, const char *conninfo)
{
	struct pg_conninfo	 ci;
	char			*err = NULL;
	int			 rc;

	if ((rc = pg_conninfo_parse(&ci, conninfo, 8, &err)) < 0) {
		if (rc == -EINVAL) {
			log_warnx("store: the PostgreSQL connection string is "
			    "not valid: %s", err);
			PQfreemem(err);
		}
		goto out;
	}
	if (getenv("PGCONNECT_TIMEOUT") == NULL)
		pg_conninfo_default(&ci, "connect_timeout",
		    PG_CONNECT_TIMEOUT);
	if (getenv("PGCLIENTENCODING") == NULL)
		pg_conninfo_default(&ci, "client_encoding", "UTF8");
	/* Over TCP, a peer that vanished without a word is found in about
	 * 30 s (15 s idle, then 3 probes 5 s apart) rather than the
	 * system's two hours (ignored on sockets). */
	pg_conninfo_default(&ci, "keepalives_idle", "15");
	pg_conninfo_default(&ci, "keepalives_interval", "5");
	pg_conninfo_default(&ci, "keepalives_count", "3");
	pg_conninfo_default(&ci, "fallback_application_name", "runneld");
	if ((s->conn = PQconnectdbParams(ci.keys, ci.vals, 0)) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	PQsetNoticeReceiver(s->conn, notice, NULL);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		char buf[512];

		log_warnx("store: connect to PostgreSQL: %s",
		    error_text(s, NULL, buf, sizeof(buf)));
		rc = -EIO;
	} else if (PQserverVersion(s->conn) < PG_SERVER_MIN) {
		log_warnx("store: PostgreSQL %d is too old: runneld needs %d "
		    "or newer", PQserverVersion(s->conn) / 10000,
		    PG_SERVER_MIN / 10000);
		rc = -EPROTO;
	}
out:
	pg_conninfo_free(&ci);
	return rc;
}

int
pg_is_conninfo(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);

	PQconninfoFree(opts);
	return opts != NULL;
}

/*
 * What every session of the connection starts with.  Durable: a commit
 * waits for the WAL flush, unless the server's settings wait for more
 * (a synchronous standby) or for nothing (off: then on, for runneld).
 */
static int
session_setup(struct pg_store *s)
{
	if (s->durable)
		return pg_exec_sql(s, "durability", "SELECT set_config("
		    "'synchronous_commit', 'on', false) WHERE "
		    "current_setting('synchronous_commit') = 'off'", NULL, NULL);
	return pg_exec_sql(s, "durability", "SET synchronous_commit = off",
	    NULL, NULL);
}

static int
prepare_all(struct pg_store *s)
{
	for (int i = 0; i < PG_STMT_COUNT; i++) {
		PGresult *r = pg_answer(s, PQsendPrepare(s->conn, stmts[i].name,
		    stmts[i].sql, 0, NULL), stmts[i].name);

		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			return pg_fail(s, stmts[i].sql, r);
		PQclear(r);
	}
	s->prepared = 1;
	return 0;
}

int
pg_reconnected(struct pg_store *s)
{
	int rc;

	s->prepared = 0;
	/* A new backend: the cluster's statements are prepared on use. */
	pg_cluster_forget(s);
	if (PQsetnonblocking(s->conn, 1) != 0)
		return pg_fail(s, "non-blocking mode", NULL);
	if ((rc = session_setup(s)) < 0 || (rc = prepare_all(s)) < 0)
		return rc;
	if (s->reset_cb && (rc = s->reset_cb(s, s->reset_arg)) < 0)
		return rc;
	return 0;
}

int
pg_connected(struct pg_store *s)
{
	char	 buf[512];
	int	 rc;

	if (PQstatus(s->conn) == CONNECTION_OK && s->prepared &&
	    !pg_link_down(s))
		return 0;
	/* A turn open on a lost connection is ended by pg_commit first. */
	if (s->in_txn)
		return -ENOTCONN;
	if (s->link)
		return pg_link_lost(s, 1);
	PQreset(s->conn);
	if (PQstatus(s->conn) != CONNECTION_OK) {
		s->prepared = 0;
		log_warnx("store: reconnect to PostgreSQL: %s",
		    error_text(s, NULL, buf, sizeof(buf)));
		return -ENOTCONN;
	}
	if ((rc = pg_reconnected(s)) < 0)
		return rc;
	log_info("store: reconnected to PostgreSQL");
	return 0;
}

int
pg_reconnect_fresh(struct pg_store *s)
{
	struct pg_deferred	 held[PG_DEFER_MAX];
	int			 n = s->ndefer, marks = s->marks, rc;

	/* What a reset runs (reset_cb too) goes alone, outside the turn. */
	memcpy(held, s->defer, sizeof(held));
	s->ndefer = 0;
	s->in_txn = s->fresh = s->marks = 0;
	s->prepared = 0;
	rc = pg_connected(s);
	memcpy(s->defer, held, sizeof(held));
	s->ndefer = n;
	s->in_txn = s->fresh = 1;
	s->marks = marks;
	return rc;
}

/* ---- migrations ---- */

/* The version runnel_schema records, 0 for a database runnel never saw. */
static int
schema_version(struct pg_store *s, int *have)
{
	PGresult	*r;
	int		 rc, exists;

	*have = 0;
	if ((rc = pg_exec_sql(s, "schema version", "SELECT "
	    "to_regclass('runnel_schema') IS NOT NULL", NULL, &r)) < 0)
		return rc;
	exists = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!exists)
		return pg_exec_sql(s, "schema version", "CREATE TABLE "
		    "runnel_schema (one boolean PRIMARY KEY DEFAULT true "
		    "CHECK (one), version integer NOT NULL)", NULL, NULL);
	if ((rc = pg_exec_sql(s, "schema version", "SELECT version "
	    "FROM runnel_schema", NULL, &r)) < 0)
		return rc;
	if (PQntuples(r) > 0)
		*have = (int)pg_int(r, 0, 0);
	PQclear(r);
	return 0;
}

/*
 * Migrations are named NNN_what.sql, the table in name order.  All that
 * are pending apply in one transaction under an advisory lock: a node
 * starting beside another waits for its migration, then finds nothing
 * to do.
 */
static int
migrate(struct pg_store *s)
{
	char		 sql[160];
	int		 have, latest = 0, rc;

	for (const struct embed_file *f = pg_schema_files; f->name; f++)
		latest = atoi(f->name);
	if ((rc = pg_exec_sql(s, "migrate", BEGIN_TXN, NULL, NULL)) < 0)
		return rc;
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%lld)",
	    (long long)PG_MIGRATE_LOCK);
	if ((rc = pg_exec_sql(s, "migration lock", sql, NULL, NULL)) < 0 ||
	    (rc = schema_version(s, &have)) < 0)
		goto fail;
	if (have > latest) {
		log_warnx("store: the database is at schema version %d, newer "
		    "than this runneld knows (%d): upgrade runneld", have, latest);
		rc = -EPROTO;
		goto fail;
	}
	for (const struct embed_file *f = pg_schema_files; f->name; f++) {
		if (atoi(f->name) <= have)
			continue;
		if ((rc = pg_exec_sql(s, f->name, (const char *)f->data, NULL,
		    NULL)) < 0)
			goto fail;
	}
	if (have < latest) {
		snprintf(sql, sizeof(sql), "INSERT INTO runnel_schema (version) "
		    "VALUES (%d) ON CONFLICT (one) DO UPDATE SET version = %d",
		    latest, latest);
		if ((rc = pg_exec_sql(s, "schema version", sql, NULL, NULL)) < 0)
			goto fail;
	}
	if ((rc = pg_exec_sql(s, "migrate", "COMMIT", NULL, NULL)) < 0)
		goto fail;
	for (const struct embed_file *f = pg_schema_files; f->name; f++)
		if (atoi(f->name) > have)
			log_info("store: applied migration %s", f->name);
	return 0;
fail:
	rollback(s);
	return rc;
}

/* ---- open, close, the turn ---- */

int
pg_open(struct store **out, const char *conninfo, enum store_durability d)
{
	struct pg_store	*s;
	int		 rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -ENOMEM;
	s->base.ops = &pg_ops;
	s->durable = d == STORE_DURABLE;
	if ((rc = connect_db(s, conninfo)) < 0)
		goto fail;
	if (PQsetnonblocking(s->conn, 1) != 0) {
		rc = -ENOMEM;
		goto fail;
	}
	if ((rc = session_setup(s)) < 0 || (rc = migrate(s)) < 0 ||
	    (rc = prepare_all(s)) < 0)
		goto fail;
	if (!s->durable)
		log_info("store: durability=fast: a crash of PostgreSQL may "
		    "lose the last acknowledged jobs (a crash of runneld does "
		    "not)");
	*out = &s->base;
	return 0;
fail:
	pg_close(&s->base);
	return rc;
}

void
pg_close(struct store *store)
{
	struct pg_store	*s = pg_of(store);

	if (s == NULL)
		return;
	if (s->in_txn)
		pg_commit(&s->base, 1);
	pg_defer_clear(s);
	pg_deps_forget(s);
	PQfinish(s->conn);
	free(s);
}

/*
 * The ping, on a connection that works.  A connection lost while idle
 * (a server restarted, a firewall's timeout) is found lost only by
 * using it: then it is reset once and the ping, which changes nothing,
 * runs again.  (The turn's first statement does the same: pg_send.)
 */
static int
first_statement(struct pg_store *s, enum pg_stmt_id id, PGresult **res)
{
	int rc;

	for (int again = 0; ; again++) {
		if ((rc = pg_connected(s)) < 0)
			return rc;
		rc = pg_exec(s, id, NULL, res);
		if (rc == 0 || again || PQstatus(s->conn) == CONNECTION_OK)
			return rc;
	}
}

/* BEGIN goes with the turn's first statement. */
int
pg_begin(struct store *store)
{
	struct pg_store	*s = pg_of(store);
	int		 rc;

	if (s->txn_lost)
		return s->txn_error;
	if (s->in_txn)
		return 0;
	if ((rc = pg_connected(s)) < 0 ||
	    (rc = pg_defer(s, "begin", NULL, BEGIN_TXN, NULL)) < 0) {
		/* Lost before it began: the turn's later writes fail at once
		 * with rc, and its commit reports it (what the turn kept for
		 * after the commit learns that nothing happened). */
		s->in_txn = s->txn_lost = 1;
		s->txn_error = rc;
		return rc;
	}
	s->in_txn = s->fresh = 1;
	return 0;
}

int
pg_in_txn(const struct store *store)
{
	return pg_of(store)->in_txn;
}

static void
turn_end(struct pg_store *s)
{
	pg_defer_clear(s);
	pg_deps_forget(s);
	s->in_txn = s->txn_lost = s->txn_error = 0;
	s->marks = s->mark_error = 0;
}

/*
 * A turn that acknowledges nothing (sync == 0) need not wait for the
 * WAL flush: SET LOCAL lasts for this commit only.  STORE_FAST set it
 * off for the whole session.  Both go with what the turn held back, in
 * one round trip; a turn whose BEGIN never went out sends nothing.
 */
int
pg_commit(struct store *store, int sync)
{
	struct pg_store		*s = pg_of(store);
	struct pg_params	 none;
	PGresult		*r;
	int			 rc;

	if (!s->in_txn)
		return 0;
	if (s->txn_lost) {
		rc = s->txn_error;
		turn_end(s);
		return rc;
	}
	if (s->mark_error) {
		log_warnx("store: commit: a failed savepoint was not undone: "
		    "the turn is rolled back");
		rc = s->mark_error;
		rollback(s);
		turn_end(s);
		return rc;
	}
	if (s->fresh && s->ndefer == 1) {
		turn_end(s);
		return 0;
	}
	/* No parameters, but one statement: it goes in the pipeline. */
	pg_params_init(&none);
	if ((!sync && s->durable && (rc = pg_defer(s, "commit", NULL,
	    "SET LOCAL synchronous_commit = off", NULL)) < 0) ||
	    (rc = pg_exec_sql(s, "commit", "COMMIT", &none, &r)) < 0) {
		/* (pg_exec_sql lost the turn: rolled back) */
		turn_end(s);
		return rc;
	}
	turn_end(s);
	/* COMMIT of a transaction that failed says ROLLBACK. */
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		log_warnx("store: commit: the transaction was rolled back");
		rc = -EIO;
		rollback(s);
	}
	PQclear(r);
	return rc;
}

int
pg_mark(struct store *store)
{
	struct pg_store	*s = pg_of(store);
	int		 rc;

	if ((rc = pg_begin(store)) < 0)
		return rc;
	if (s->mark_error)
		return s->mark_error;
	/* It goes with the first statement in it. */
	if ((rc = pg_defer(s, "savepoint", NULL, "SAVEPOINT batch",
	    NULL)) < 0)
		return rc;
	s->marks++;
	return 0;
}

/*
 * The savepoint ends whatever happens: rolled back to (keep == 0, or a
 * statement in it failed, which PostgreSQL cannot keep) and released.
 * If that fails, the enclosing savepoint or the turn takes the failure.
 */
int
pg_unmark(struct store *store, int keep)
{
	struct pg_store	*s = pg_of(store);
	int		 failed = s->mark_error, rc;

	if (s->txn_lost)
		return s->txn_error;
	if (!s->in_txn || s->marks == 0) {
		log_warnx("store: unmark without a savepoint");
		return -EIO;
	}
	s->marks--;
	s->mark_error = 0;
	if (keep && !failed)
		rc = pg_defer(s, "release savepoint", NULL,
		    "RELEASE SAVEPOINT batch", NULL);
	else
		rc = pg_exec_sql(s, "undo savepoint", "ROLLBACK TO SAVEPOINT "
		    "batch; RELEASE SAVEPOINT batch", NULL, NULL);
	return keep && failed ? failed : rc;
}

int
pg_ping(struct store *store)
{
	struct pg_store	*s = pg_of(store);
	PGresult	*r;
	int		 rc;

	if (pg_link_down(s))
		return -ENOTCONN;
	if (s->in_txn)
		return s->txn_lost && PQstatus(s->conn) != CONNECTION_OK ?
		    -ENOTCONN : 0;
	if ((rc = first_statement(s, PG_PING, &r)) < 0)
		return rc;
	rc = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't' ? 0 : -EIO;
	PQclear(r);
	if (rc < 0)
		log_warnx("store: the database takes no writes (a standby, or "
		    "read-only)");
	return rc;
}

const struct store_ops pg_ops = {
	.sched = &pg_sched_ops,
	.hook = &pg_hook_ops,
	.name = "postgresql",
	.close = pg_close,
	.begin = pg_begin,
	.in_txn = pg_in_txn,
	.commit = pg_commit,
	.mark = pg_mark,
	.unmark = pg_unmark,
	.ping = pg_ping,
	.submit = pg_submit,
	.get = pg_get,
	.head = pg_head,
	.claim = pg_claim,
	.finish = pg_finish,
	.set_state = pg_set_state,
	.requeue = pg_requeue,
	.promote = pg_promote,
	.delete = pg_delete,
	.list = pg_list,
	.running = pg_running,
	.count = pg_count,
	.finished_since = pg_finished_since,
	.overview = pg_overview,
	.expired = pg_expired,
	.queue_set = pg_queue_set,
	.queues = pg_queues,
	.add_deps = pg_add_deps,
	.dependents = pg_dependents,
	.dep_done = pg_dep_done,
	.next_due = pg_next_due,
	.due = pg_due,
	.idem_get = pg_idem_get,
	.idem_put = pg_idem_put,
	.idem_purge = pg_idem_purge,
	.cluster = &pg_cluster_ops,
};
