/*
 * runneld: options, start-up and shutdown order — wiring only.
 *
 * Start-up: the data directory's lock, the port, the data directory,
 * the store (migrations, recovery of jobs a dead runneld left running),
 * counts, then the worker pool.
 * SIGTERM/SIGINT: refuse new jobs, let running ones finish within
 * --shutdown-grace, then end them (they go back to the queue without
 * counting the attempt), stop the workers and exit 0.  A second signal
 * skips the grace.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/api.h"
#include "api/routes.h"
#include "hook/deliver.h"
#include "hook/net.h"
#include "clock.h"
#include "config.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/counts.h"
#include "core/events.h"
#include "core/workers.h"
#include "http/http.h"
#include "importer.h"
#include "log.h"
#include "pool/pool.h"
#include "probe.h"
#include "server.h"
#include "store/blobs.h"
#include "store/datadir.h"
#include "store/files.h"
#include "store/space.h"
#include "store/store.h"
#include "store/trash.h"

#define STOP_DEADLINE_MS	5000
#define KILL_WAIT_MS		2000

struct runneld {
	struct server	 srv;
	struct config	 cfg;
	struct counts	 counts;
	uv_signal_t	 sigterm;
	uv_signal_t	 sigint;
	uv_check_t	 drain_check;
	uv_timer_t	 grace;
	uv_timer_t	 deadline;
	int		 signals;
	int		 stopped;
	int		 killed;	/* the workers were SIGKILLed at the deadline */
	int		 abandoned;	/* ... and still were not gone after it */
	char		 failed_at[600];	/* what start-up failed on, or "" */
};

static void
on_closed(uv_handle_t *h)
{
	(void)h;
}

static void
close_if_open(uv_handle_t *h)
{
	if (h->loop && !uv_is_closing(h))
		uv_close(h, on_closed);
}

/*
 * Workers that do not exit are killed; their ends (exit status, socket
 * closed) still come through the loop, which then runs dry and frees
 * them.  Only if even that does not happen is the loop left as it is.
 */
static void
on_deadline(uv_timer_t *t)
{
	struct runneld *r = t->data;

	/* Only deleted jobs' file removals keep the loop: they end. */
	if ((r->srv.pool == NULL || pool_up(r->srv.pool) == 0) &&
	    trash_backlog(&r->srv) > 0) {
		uv_timer_start(&r->deadline, on_deadline, KILL_WAIT_MS, 0);
		return;
	}
	if (!r->killed) {
		log_warnx("runneld: workers did not exit in time: killing them");
		pool_kill(&r->srv);
		r->killed = 1;
		uv_timer_start(&r->deadline, on_deadline, KILL_WAIT_MS, 0);
		return;
	}
	log_warnx("runneld: killed workers are still not gone: exiting anyway");
	r->abandoned = 1;
	uv_stop(r->srv.loop);
}

/* Everything is idle: stop serving and let the loop run dry. */
static void
stop_all(struct runneld *r)
{
	struct server *srv = &r->srv;

	if (r->stopped)
		return;
	r->stopped = 1;
	core_flush(srv);
	/* Tries in flight stay due: sent again after the restart. */
	deliver_stop(srv);
	events_stop(srv);
	pool_stop(srv);
	blobs_stop(srv);
	http_stop(srv);
	/* Nothing runs any more: the node leaves before the turn closes. */
	cluster_stop(srv);
	core_stop(srv);
	space_stop(srv);
	close_if_open((uv_handle_t *)&r->sigterm);
	close_if_open((uv_handle_t *)&r->sigint);
	close_if_open((uv_handle_t *)&r->drain_check);
	close_if_open((uv_handle_t *)&r->grace);
	uv_timer_start(&r->deadline, on_deadline, STOP_DEADLINE_MS, 0);
	uv_unref((uv_handle_t *)&r->deadline);
}

/* Runs every turn while draining: stop once no job runs. */
static void
on_drain_check(uv_check_t *h)
{
	struct runneld *r = h->data;

	if (pool_busy(r->srv.pool) == 0)
		stop_all(r);
}

static void
on_grace(uv_timer_t *t)
{
	struct runneld	*r = t->data;
	int		 n = pool_cancel_all(r->srv.pool, "shutdown");

	if (n)
		log_info("runneld: shutdown grace over: ending %d running "
		    "job(s); they will run again after a restart", n);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	struct runneld *r = s->data;

	if (r->signals++ > 0) {
		log_info("runneld: second signal: ending running jobs now");
		uv_timer_stop(&r->grace);
		on_grace(&r->grace);
		return;
	}
	r->srv.draining = 1;
	log_info("runneld: %s: draining: %d job(s) running, grace %.1fs",
	    strsignal(signum), pool_busy(r->srv.pool),
	    r->cfg.shutdown_grace_ms / 1000.0);
	uv_check_start(&r->drain_check, on_drain_check);
	uv_timer_start(&r->grace, on_grace, (uint64_t)r->cfg.shutdown_grace_ms, 0);
}

static int
worker_path(const struct config *cfg, char *out, size_t n)
{
	char	 self[PATH_MAX - 32];
	ssize_t	 len;
	char	*slash;

	if (cfg->worker_path[0]) {
		snprintf(out, n, "%s", cfg->worker_path);
	} else {
		if ((len = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
			return -1;
		self[len] = '\0';
		if ((slash = strrchr(self, '/')) != NULL)
			*slash = '\0';
		snprintf(out, n, "%s/runnel-worker", self);
	}
	if (access(out, X_OK) != 0) {
		log_warn("runneld: worker binary %s (set --worker)", out);
		return -1;
	}
	return 0;
}

/* src with every run of control characters and blanks made one space. */
static void
one_line(char *out, size_t n, const char *src)
{
	size_t	 len = 0;
	int	 blank = 0;

	for (; *src && len + 1 < n; src++) {
		if ((unsigned char)*src <= ' ' || *src == 0x7f) {
			blank = len > 0;
			continue;
		}
		if (blank && len + 2 < n)
			out[len++] = ' ';
		blank = 0;
		out[len++] = *src;
	}
	out[len] = '\0';
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	/* Each connection, worker and output file needs a descriptor. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * The data directory's lock.  -EEXIST (said here) when another runneld
 * holds it; -ENOENT when the directory is missing and create is not set.
 */
static int
lock_data(struct runneld *r, int create)
{
	pid_t	 holder;
	int	 rc;

	if ((rc = datadir_lock(&r->srv, r->cfg.data_dir, create, &holder)) == -EEXIST) {
		if (holder > 0)
			log_error("runneld: data directory %s is in use by "
			    "runneld pid %d", r->cfg.data_dir, (int)holder);
		else
			log_error("runneld: data directory %s is in use by "
			    "another runneld", r->cfg.data_dir);
	} else if (rc < 0 && (rc != -ENOENT || create)) {
		log_warnx("runneld: data directory %s: %s", r->cfg.data_dir,
		    strerror(-rc));
	}
	return rc;
}

/* A --database that is not PostgreSQL's is refused before anything. */
static int
database_check(const struct config *cfg)
{
	char shown[512];

	if (cfg->database == NULL || store_is_postgresql(cfg->database))
		return 0;
	config_database_masked(cfg->database, shown, sizeof(shown));
	log_warnx("runneld: --database %s: not a PostgreSQL URI "
	    "(postgresql://...) nor a key=value string that libpq reads "
	    "(dbname=...)", shown);
	return -1;
}

/*
 * The store: --database names a PostgreSQL database, else it is
 * runnel.db in the data directory.  The store logs why it failed; the
 * line that says runneld does not start names the database too
 * (failed_at), its password masked.
 */
static int
open_store(struct runneld *r)
{
	struct server	*srv = &r->srv;
	const char	*where = r->cfg.database;
	char		 db[PATH_MAX + 16], shown[512];
	int		 rc;

	if (where == NULL) {
		snprintf(db, sizeof(db), "%s/runnel.db", srv->data_dir);
		return store_open(&srv->store, db, r->cfg.durability);
	}
	config_database_masked(where, shown, sizeof(shown));
	if ((rc = store_open(&srv->store, where, r->cfg.durability)) < 0)
		snprintf(r->failed_at, sizeof(r->failed_at), "database %s: ",
		    shown);
	return rc;
}

/*
 * Nothing is touched before it is known that runneld can serve: an
 * existing data directory is locked first (a second runneld is told so
 * at once), the port is bound, and only then is a missing directory made
 * and the store opened and migrated.
 */
static int
start(struct runneld *r)
{
	struct server	*srv = &r->srv;
	char		 wpath[PATH_MAX];
	int		 rc, locked;

	if (worker_path(&r->cfg, wpath, sizeof(wpath)) < 0 ||
	    database_check(&r->cfg) < 0)
		return -1;
	if ((rc = lock_data(r, 0)) < 0 && rc != -ENOENT)
		return rc;
	locked = rc == 0;
	if ((rc = http_start(srv)) < 0 ||
	    (!locked && (rc = lock_data(r, 1)) < 0) ||
	    (rc = datadir_open(srv, r->cfg.data_dir)) < 0 ||
	    (rc = space_start(srv, core_storage_changed)) < 0)
		return rc;
	if ((rc = open_store(r)) < 0)
		return rc;
	/* Cluster mode: output and files go to the database too. */
	if (r->cfg.database && (rc = blobs_start(srv, r->cfg.database)) < 0)
		return rc;
	if ((rc = files_sweep(srv)) > 0)
		log_info("runneld: removed %d file(s) left without a job", rc);
	/* Counts, then the jobs a dead runneld left running, then serve. */
	if ((rc = core_start(srv)) < 0 || (rc = cluster_start(srv)) < 0 ||
	    (rc = core_load(srv)) < 0 ||
	    (rc = events_start(srv)) < 0 || (rc = core_recover(srv)) < 0 ||
	    (rc = pool_start(srv, wpath, &core_pool_cb, srv)) < 0 ||
	    (rc = deliver_start(srv)) < 0)
		return rc;
	srv->job_finished = deliver_kick;
	return 0;
}

/* " database=..." for the start-up line (password masked), or "". */
static const char *
database_field(const struct config *cfg, char *out, size_t n)
{
	char shown[512];

	if (cfg->database == NULL)
		return "";
	config_database_masked(cfg->database, shown, sizeof(shown));
	/* A key=value string has blanks: quote it, as the log does. */
	snprintf(out, n, strpbrk(shown, " \t\"") ? " database=\"%s\"" :
	    " database=%s", shown);
	return out;
}

int
main(int argc, char **argv)
{
	static struct runneld	 r;
	struct server		*srv = &r.srv;
	char			 dbfield[600];
	int			 rc;

	if ((rc = config_parse(&r.cfg, argc, argv)) != 0)
		return rc > 0 ? 0 : 2;
	if (r.cfg.check_url)
		return probe_url(r.cfg.check_url);
	log_init("runneld", r.cfg.log_level);
	if (r.cfg.import_dir[0]) {
		rc = importer_run(&r.cfg);
		config_free(&r.cfg);
		return rc;
	}
	if (r.cfg.token == NULL && !r.cfg.insecure &&
	    !config_host_loopback(r.cfg.listen_host))
		fatalx("runneld: refusing to serve command execution on %s "
		    "without a token: set RUNNEL_TOKEN or --token-file (or pass "
		    "--insecure)", r.cfg.listen_host);
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	/* libcurl's, once, before any thread (the pool's, libpq's) starts. */
	if (hooknet_global_init() < 0)
		fatalx("runneld: libcurl could not start");
	srv->loop = uv_default_loop();
	srv->cfg = &r.cfg;
	srv->lock_fd = -1;
	srv->counts = &r.counts;
	srv->routes = api_routes;
	srv->job_template = api_job_template;
	srv->job_json = api_job_json;
	srv->nroutes = api_nroutes;
	srv->started_at = clock_now_ms();
	counts_init(&r.counts);
	uv_signal_init(srv->loop, &r.sigterm);
	uv_signal_init(srv->loop, &r.sigint);
	uv_check_init(srv->loop, &r.drain_check);
	uv_timer_init(srv->loop, &r.grace);
	uv_timer_init(srv->loop, &r.deadline);
	r.sigterm.data = r.sigint.data = r.drain_check.data = &r;
	r.grace.data = r.deadline.data = &r;
	if ((rc = start(&r)) < 0) {
		/* The cause was logged where it was met, maybe below the
		 * level shown: say it again with the verdict. */
		if (rc != -EEXIST) {
			char cause[512];

			/* libpq's messages span lines: the verdict does not. */
			one_line(cause, sizeof(cause), log_last_problem());
			log_error("runneld: could not start: %s%s", r.failed_at,
			    cause);
		}
		return 1;
	}
	uv_signal_start(&r.sigterm, on_signal, SIGTERM);
	uv_signal_start(&r.sigint, on_signal, SIGINT);
	log_info("runneld %s listening on http://%s%s%s:%d data=%s store=%s%s "
	    "workers=%d durability=%s auth=%s", RUNNEL_VERSION,
	    strchr(r.cfg.listen_host, ':') ? "[" : "", r.cfg.listen_host,
	    strchr(r.cfg.listen_host, ':') ? "]" : "", http_port(srv),
	    r.cfg.data_dir, store_backend(srv->store),
	    database_field(&r.cfg, dbfield, sizeof(dbfield)), r.cfg.workers,
	    r.cfg.durability == STORE_FAST ? "fast" : "full",
	    r.cfg.token ? "token" : "none");
	uv_run(srv->loop, UV_RUN_DEFAULT);
	close_if_open((uv_handle_t *)&r.deadline);
	uv_run(srv->loop, UV_RUN_NOWAIT);
	http_free(srv);
	/* Workers' handles still open must not be freed under the loop. */
	if (!r.abandoned)
		pool_free(srv);
	blobs_free(srv);
	if (!r.abandoned)
		trash_free(srv);
	events_free(srv);
	cluster_free(srv);
	core_free(srv);
	space_free(srv);
	store_close(srv->store);
	datadir_unlock(srv);
	counts_close(&r.counts);
	config_free(&r.cfg);
	if (!r.abandoned && uv_loop_close(srv->loop) != 0)
		log_debug("runneld: loop closed with handles open");
	log_info("runneld: stopped");
	return 0;
}
