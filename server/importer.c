/*
 * runneld --import DIR --database URL: the command around
 * store/import.c.  It refuses a --database that is not PostgreSQL's,
 * takes DIR's lock as a starting runneld does (so no runneld runs on
 * DIR, and none starts there until the import is over), opens the
 * database as a node does (its schema made or brought up to date), and
 * lets the store copy everything in one transaction, with the core's
 * rule for the jobs that were running (finish_restart_store): what a
 * restart of the single runneld would have done to them.  Progress and
 * the summary are log lines; a failure ends with one error line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "core/finish.h"
#include "importer.h"
#include "log.h"
#include "server.h"
#include "store/datadir.h"
#include "store/import.h"
#include "store/store.h"

static int
restart(void *arg, struct store *dst, const struct job *j, int64_t now_ms,
    enum job_state *state, int *failed_after)
{
	const struct config *cfg = arg;

	return finish_restart_store(dst, j, cfg->retry_base_ms, now_ms, state,
	    failed_after);
}

static void
progress(void *arg, const char *phase, int64_t done, int64_t total,
    uint64_t bytes, int final)
{
	(void)arg;
	if (strcmp(phase, "jobs") == 0)
		log_info("import: jobs %" PRId64 "/%" PRId64 "%s", done, total,
		    final ? " copied" : "");
	else
		log_info("import: %s %" PRId64 "/%" PRId64 ": %.1f MB%s",
		    strcmp(phase, "output") == 0 ? "output of jobs" : phase, done,
		    total, bytes / 1e6, final ? " copied" : "");
}

/*
 * Says why the import failed (why, else the last problem logged) on one
 * line; returns the exit status.
 */
static int
failed(const char *why)
{
	char	 line[600];
	size_t	 n = 0;

	if (why == NULL) {
		why = log_last_problem();
		/* store/import.c's lines say "import: " already */
		if (strncmp(why, "import: ", 8) == 0)
			why += 8;
	}
	/* libpq's messages may span lines: the verdict does not. */
	for (const char *p = why; *p && n + 1 < sizeof(line); p++)
		line[n++] = *p == '\n' || *p == '\t' ? ' ' : *p;
	line[n] = '\0';
	log_error("runneld: import failed: %s", line);
	return 1;
}

/* The data directory's lock, as a runneld that starts takes it. */
static int
lock_source(struct server *srv, const char *dir)
{
	pid_t	 holder = 0;
	int	 rc = datadir_lock(srv, dir, 0, &holder);

	if (rc == -EEXIST && holder > 0)
		log_warnx("data directory %s is in use by runneld pid %d: stop "
		    "it first", dir, (int)holder);
	else if (rc == -EEXIST)
		log_warnx("data directory %s is in use by another runneld: stop "
		    "it first", dir);
	else if (rc < 0)
		log_warnx("data directory %s: %s", dir, strerror(-rc));
	return rc;
}

static void
summary(const char *dir, const struct import_stats *s, int64_t took_ms)
{
	log_info("import: %s is in the database (%.1f s): jobs=%" PRId64
	    " queues=%" PRId64 " dependencies=%" PRId64 " keys=%" PRId64
	    " output_files=%" PRId64 " output_rows=%" PRId64 " output_bytes=%"
	    PRIu64 " uploads=%" PRId64 " blobs=%" PRId64 " blob_bytes=%" PRIu64
	    " next_id=%" PRIu64, dir, took_ms / 1000.0, s->jobs, s->queues,
	    s->deps, s->keys, s->output_files, s->output_rows, s->output_bytes,
	    s->files, s->blobs, s->blob_bytes, s->next_id);
	if (s->running)
		log_info("import: running=%" PRId64 " retried=%" PRId64 " failed=%"
		    PRId64 " waiting_failed=%" PRId64 ": the jobs that were running "
		    "ended as a restart ends them", s->running, s->retried,
		    s->failed, s->deps_failed);
	if (s->files_missing)
		log_warnx("import: uploads_without_file=%" PRId64 ": their files "
		    "were missing or changed in %s/files; the jobs are imported "
		    "without them, as the node held them", s->files_missing, dir);
}

int
importer_run(const struct config *cfg)
{
	static struct server	 srv;
	struct import_hooks	 hooks = {restart, progress, (void *)cfg};
	struct import_stats	 stats;
	struct store		*st = NULL;
	char			 shown[512];
	int64_t			 t0 = clock_mono_ms();
	int			 rc;

	char			 why[700];

	if (cfg->database == NULL)
		return failed("--database must name the cluster's PostgreSQL "
		    "database");
	config_database_masked(cfg->database, shown, sizeof(shown));
	if (!store_is_postgresql(cfg->database)) {
		snprintf(why, sizeof(why), "--database %s: not a PostgreSQL URI "
		    "(postgresql://...) nor a key=value string that libpq reads "
		    "(dbname=...)", shown);
		return failed(why);
	}
	srv.lock_fd = -1;
	if (lock_source(&srv, cfg->import_dir) < 0)
		return failed(NULL);
	log_info("runneld %s: importing data directory %s into database %s",
	    RUNNEL_VERSION, cfg->import_dir, shown);
	if ((rc = store_open(&st, cfg->database, STORE_DURABLE)) < 0) {
		snprintf(why, sizeof(why), "database %s: %s", shown,
		    log_last_problem());
		datadir_unlock(&srv);
		return failed(why);
	}
	rc = import_copy(cfg->import_dir, st, &hooks, &stats);
	store_close(st);
	datadir_unlock(&srv);
	if (rc < 0)
		return failed(NULL);
	summary(cfg->import_dir, &stats, clock_mono_ms() - t0);
	return 0;
}
