/*
 * The server: one libuv loop owns everything below, and this struct ties
 * the modules together.  No module keeps state of its own outside it
 * (the http wing's, sessions included, is struct http).  The exceptions
 * are process-wide by nature:
 *  - common/clock.c: a cluster node's offset to its database's clock
 *    (clock_set_skew_ms), which every timestamp of the process follows,
 *    and the test clock offset read once from the environment;
 *  - common/log.c: the program's name, the level shown and the last
 *    problem logged (one stderr per process; it says why a start failed);
 *  - hook/net.c: libcurl's global initialisation, once per process
 *    (hooknet_global_init);
 *  - a scratch buffer, a cache and random seeds that mean nothing to
 *    any other module: gate.c's peek buffer, jsonw.c's last formatted
 *    second, the back-off jitter's seeds in core/finish.c and
 *    store/pg_link.c.
 */
#ifndef RUNNEL_SERVER_H
#define RUNNEL_SERVER_H

#include <stdint.h>
#include <limits.h>

#include <uv.h>

#include "config.h"

struct store;
struct pool;
struct http;
struct events;
struct counts;
struct core;
struct space;
struct gate;
struct route;
struct cluster;
struct pgwork;
struct trash;
struct job;
struct deliver;
struct sse_log;

struct server {
	uv_loop_t		*loop;
	const struct config	*cfg;
	struct store		*store;
	struct pool		*pool;
	struct http		*http;
	struct events		*events;
	struct counts		*counts;
	struct core		*core;
	struct space		*space;
	struct gate		*gate;
	struct cluster		*cluster;	/* cluster mode; NULL on SQLite */
	struct pgwork		*pgwork;	/* cluster mode: output and files
						 * in PostgreSQL; NULL without */
	/* A schedule's job template (JSON text) into a job, checked as
	 * POST /api/v1/jobs checks a spec (api/spec.c, set by main): 0 or
	 * a code.  The core makes a schedule's jobs with it. */
	int			(*job_template)(const char *json, struct job *j);
	/* Job id as its JSON object (api/api.c, set by main): text the
	 * caller frees, or NULL.  The webhook sender posts it. */
	char			*(*job_json)(struct server *, uint64_t id,
				    size_t *len);
	struct deliver		*deliver;	/* webhook deliveries (hook/) */
	struct trash		*trash;		/* retention's file removals
						 * (store/trash.c); NULL until
						 * the first */
	struct sse_log		*sse_log;	/* the event stream's text
						 * (api/events.c); NULL when
						 * nobody subscribes */
	/* A job finished, committed (hook/deliver.c's kick, set by main). */
	void			(*job_finished)(struct server *, uint64_t id);
	/* The turn is over, its writes committed or undone: the reads held
	 * meanwhile may run (http's http_reads_release, set by http_start). */
	void			(*turn_over)(struct server *);
	const struct route	*routes;	/* what http serves (api/routes.c) */
	size_t			 nroutes;
	int64_t			 started_at;	/* wall-clock ms */
	int			 draining;	/* SIGTERM: refuse new jobs, start nothing */
	int			 lock_fd;	/* the data directory's flock; -1 */
	char			 data_dir[PATH_MAX];
	char			 output_dir[PATH_MAX];
	char			 scratch_dir[PATH_MAX];
	char			 files_dir[PATH_MAX];
	char			 tmp_dir[PATH_MAX];
};

#endif
