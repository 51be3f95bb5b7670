/*
 * What store/import.c (the rows and the transaction) shares with
 * store/import_data.c (the bytes of output/ and files/): the state of
 * one import.
 */
#ifndef RUNNEL_STORE_IMPORT_INT_H
#define RUNNEL_STORE_IMPORT_INT_H

#include <limits.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store/import.h"
#include "store/pg.h"

struct import {
	sqlite3				*src;	/* read-only */
	struct pg_store			*dst;
	const struct import_hooks	*hooks;
	struct import_stats		*st;
	char				 output_dir[PATH_MAX];
	char				 files_dir[PATH_MAX];
	int64_t				 now_ms;
	int64_t				 jobs_total;
	uint64_t			*running;	/* ids of jobs found running */
	size_t				 nrunning;
	size_t				 running_cap;
	int64_t				 shown_at;	/* last progress, mono ms */
};

/* Logs SQLite's message for what; returns -EIO (-ENOMEM when it is). */
int	import_src_fail(struct import *, const char *what, int rc);
/* Prepares sql on the source.  0 or a code (logged). */
int	import_src_prepare(struct import *, const char *sql,
	    sqlite3_stmt **st);
/* The integer the source's query sql answers (0 for none).  0 or a code. */
int	import_src_int(struct import *, const char *sql, int64_t *v);
/* Progress of a phase (hooks->progress), at most once a second unless final. */
void	import_progress(struct import *, const char *phase, int64_t done,
	    int64_t total, uint64_t bytes, int final);

/* Every attempt's output files into job_output.  0 or a code (logged). */
int	import_output(struct import *);
/* Every upload's file into blobs and blob_chunks.  0 or a code (logged). */
int	import_files(struct import *);

#endif
