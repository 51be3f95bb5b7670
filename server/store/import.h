/*
 * runneld --import: a single node's data directory moved into a
 * cluster's PostgreSQL database.  Every row of its runnel.db (jobs with
 * their ids, queues, dependencies, idempotency keys), every attempt's
 * output (data/output/) as job_output rows and every upload's file
 * (data/files/) as a blob go in with one transaction: all of it, or
 * nothing.  The directory is read only, its database opened read-only.
 * The SQL of both sides is in store/import.c and store/import_data.c;
 * the caller (server/importer.c) holds the directory's lock and brings
 * the restart rule, which is the core's.
 */
#ifndef RUNNEL_STORE_IMPORT_H
#define RUNNEL_STORE_IMPORT_H

#include <stdint.h>

#include "store/store.h"

struct import_stats {
	int64_t		 jobs;
	int64_t		 queues;
	int64_t		 deps;		/* dependency records */
	int64_t		 keys;		/* idempotency keys */
	int64_t		 running;	/* jobs found running ... */
	int64_t		 retried;	/* ... of them retried later */
	int64_t		 failed;	/* ... failed ("server restarted") */
	int64_t		 deps_failed;	/* jobs that waited for those */
	int64_t		 output_files;
	int64_t		 output_rows;
	uint64_t	 output_bytes;
	int64_t		 files;		/* upload jobs whose file went in */
	int64_t		 blobs;		/* distinct files written */
	uint64_t	 blob_bytes;
	int64_t		 files_missing;	/* upload jobs without their file */
	uint64_t	 next_id;	/* the id the next new job gets at least */
};

struct import_hooks {
	/*
	 * Job j was running in the directory: its attempt ends in dst, in
	 * the open transaction, as a restart ends it (*state: its new
	 * state; *failed_after: jobs failed because they waited for it).
	 * Returns 0 or a store code.
	 */
	int	(*restart)(void *arg, struct store *dst, const struct job *j,
		    int64_t now_ms, enum job_state *state, int *failed_after);
	/*
	 * How far a phase ("jobs", "output", "files") is: done of total,
	 * bytes of data so far.  About once a second, and at its end
	 * (final set).  NULL: none.
	 */
	void	(*progress)(void *arg, const char *phase, int64_t done,
		    int64_t total, uint64_t bytes, int final);
	void	*arg;
};

/*
 * Copies the data directory dir into dst, a PostgreSQL store that holds
 * no jobs, queue settings or idempotency keys, on which no node runs,
 * and commits (durably).  Ids stay as they are, and dst's id sequence
 * goes past the largest id the directory ever gave.  Fills *st.
 * Returns 0; -EEXIST when dst holds something already or a node runs
 * on it; -EPROTO when runnel.db's schema is not this runneld's, a row
 * does not fit dst's columns, or a file changed during the import;
 * -ENOENT when dir holds no runnel.db; or another code.  Why is logged
 * (the last problem logged says it); dst is then left as it was.
 */
int	import_copy(const char *dir, struct store *dst,
	    const struct import_hooks *, struct import_stats *st);

#endif
