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
