/*
 * runneld's configuration: flags, each with an environment variable for
 * containers (the flag wins).  `runneld --help` lists them.
 */
#ifndef RUNNEL_CONFIG_H
#define RUNNEL_CONFIG_H

#include <stdint.h>

#include "store/store.h"

/* Default resource limits of jobs (spec.c's limits names). */
enum limit {
	LIMIT_MEMORY,		/* memory_mb */
	LIMIT_CPU,		/* cpu_seconds */
	LIMIT_FILES,		/* open_files */
	LIMIT_PROCS,		/* processes */
	LIMIT_OUTPUT,		/* output_mb */
	LIMIT_COUNT
};

struct hook_allow;

struct config {
	char			 listen_host[256];
	int			 listen_port;
	char			 data_dir[4096];
	char			*database;	/* PostgreSQL conninfo; NULL:
						 * SQLite in data_dir */
	/* cluster mode (with database) */
	char			 node_id[65];	/* "" = DIR/node-id */
	int64_t			 node_timeout_ms;
	int			 notify;	/* LISTEN/NOTIFY, else polling only */
	int64_t			 poll_interval_ms;
	int			 workers;
	char			*token;		/* NULL: no authentication */
	int			 insecure;
	uint64_t		 max_upload;	/* bytes */
	uint64_t		 max_body;	/* bytes of a JSON body */
	int64_t			 shutdown_grace_ms;
	int64_t			 kill_grace_ms;
	int64_t			 list_window;	/* ids a search page examines;
						 * 0: the store's (tests set
						 * RUNNEL_LIST_WINDOW) */
	uint64_t		 sse_buffer_max;	/* bytes an event subscriber
						 * may fall behind; 0: 4 MiB
						 * (tests set RUNNEL_SSE_BUFFER) */
	enum store_durability	 durability;
	int			 log_level;
	char			 web_dir[4096];	/* "" = the built-in copy */
	char			 worker_path[4096];
	const char		*check_url;	/* --check: probe and exit */
	char			 import_dir[4096];	/* --import: copy it into
							 * database and exit; "" */
	int64_t			 retry_base_ms;
	int64_t			 misfire_grace_ms;	/* a tick later than this was missed */
	char			*webhook_secret;	/* signs deliveries; NULL: unsigned */
	struct hook_allow	*webhook_allow;		/* --webhook-allow; never NULL once parsed */
	int64_t			 webhook_retry_base_ms;
	int64_t			 max_queued;	/* 0: no limit */
	int64_t			 retain_finished_ms;	/* 0: keep forever */
	int64_t			 retain_max_jobs;	/* 0: no limit */
	int64_t			 limits[LIMIT_COUNT];	/* 0: none */
	int			 access_log;	/* a line per request at info */
	char			**allow_origins;	/* NULL-ended; NULL: none */
	size_t			 allow_origins_cap;	/* of allow_origins */
	int			 max_connections;
	int			 max_client_connections;	/* per address */
	int64_t			 header_timeout_ms;
};

#define CONFIG_ORIGINS_MAX	32
#define CONFIG_NODE_ID_MAX	64

/*
 * Fills *cfg from defaults, the environment and argv.  Prints help or an
 * error and returns 1 (exit 0) or -1 (exit 2) when runneld should not
 * start; 0 otherwise.
 */
int	config_parse(struct config *cfg, int argc, char **argv);
void	config_free(struct config *cfg);
/* 1 if s is a valid node id: 1 to 64 of [A-Za-z0-9_.-]. */
int	config_node_id_valid(const char *s);
/* 1 if host is a loopback address (127.0.0.0/8, ::1, localhost). */
int	config_host_loopback(const char *host);
/*
 * Copies a PostgreSQL connection string or URI into out (n bytes, cut
 * if need be) with its password replaced by "***": the userinfo
 * password of a URI (postgresql://u:PASS@h/db), and the value of every
 * password keyword (password=PASS in a key/value string, or ?password=
 * in a URI's query).  For logs.
 */
void	config_database_masked(const char *conninfo, char *out, size_t n);

#endif
