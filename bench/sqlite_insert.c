/*
 * Baseline: SQLite WAL inserts into a table like runnel's jobs table,
 * one row per transaction with synchronous=FULL, and 100 rows per
 * transaction.  What group commit is measured against.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double
rate(int per_txn, int total)
{
	char		 path[] = "/tmp/runnel-bench-sqlite-XXXXXX";
	int		 fd = mkstemp(path);
	sqlite3		*db;
	sqlite3_stmt	*st;
	double		 t0, t;

	close(fd);
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	    "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, "
	    "command TEXT, state TEXT, created_at INTEGER)", 0, 0, 0);
	sqlite3_prepare_v2(db, "INSERT INTO jobs (command, state, created_at) "
	    "VALUES ('true', 'queued', 1)", -1, &st, 0);
	t0 = now();
	for (int i = 0; i < total; i += per_txn) {
		sqlite3_exec(db, "BEGIN", 0, 0, 0);
		for (int k = 0; k < per_txn; k++) {
			sqlite3_step(st);
			sqlite3_reset(st);
		}
		sqlite3_exec(db, "COMMIT", 0, 0, 0);
	}
	t = now() - t0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	{
		char wal[64];

		snprintf(wal, sizeof(wal), "%s-wal", path);
		unlink(wal);
		snprintf(wal, sizeof(wal), "%s-shm", path);
		unlink(wal);
	}
	return total / t;
}

int
main(void)
{
	printf("SQLite WAL insert, synchronous=FULL: %.0f rows/s one row per "
	    "transaction, %.0f rows/s 100 rows per transaction\n",
	    rate(1, 3000), rate(100, 100000));
	return 0;
}
