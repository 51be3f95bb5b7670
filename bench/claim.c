/*
 * Claim latency against queue depth: the store's claim path (the head
 * of the queue, claim by id, read the row) timed with 1 000 and with
 * 1 000 000 queued jobs, with what it costs to finish and commit too.
 * The claim must not grow with depth (target: within 1.5x).
 *
 * usage: claim [DEPTH ...]   (default 1000 1000000, with one priority
 * level and with seven: then the claimed rows are spread over the table)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "store/store.h"

#define CLAIMS	2000

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int levels = 1;	/* priorities the jobs are spread over */

static void
fill(struct store *s, long depth)
{
	struct job	 jobs[1000];

	for (long done = 0; done < depth; done += 1000) {
		int n = depth - done < 1000 ? (int)(depth - done) : 1000;

		for (int i = 0; i < n; i++) {
			job_init(&jobs[i]);
			jobs[i].command = strdup("true");
			jobs[i].queue = strdup("default");
			jobs[i].priority = (int)((done + i) % levels);
			jobs[i].state = JOB_QUEUED;
		}
		if (store_submit(s, jobs, (size_t)n, 1) < 0 ||
		    store_commit(s, 0) < 0)
			exit(1);
		for (int i = 0; i < n; i++)
			job_clear(&jobs[i]);
	}
}

static void
measure(long depth)
{
	char		 path[] = "/tmp/runnel-bench-claim-XXXXXX";
	struct store	*s;
	double		 claim = 0, total = 0;
	int		 fd = mkstemp(path);

	close(fd);
	if (store_open(&s, path, STORE_DURABLE) < 0)
		exit(1);
	fill(s, depth);
	for (int i = 0; i < CLAIMS; i++) {
		struct job_result	 r = {.state = JOB_SUCCEEDED, .exit_code = 0,
		    .signal = -1, .finished_at = 3, .cpu_ms = 1, .max_rss_kb = 1};
		struct job		 j;
		uint64_t		 id;
		int64_t			 prio;
		double			 t0 = now(), t1;

		if (store_head(s, "default", &id, &prio) != 1 ||
		    store_claim(s, id, 1, 2, &j) != 1)
			exit(2);
		t1 = now();
		r.id = j.id;
		job_clear(&j);
		if (store_finish(s, &r) < 0 || store_commit(s, 0) < 0)
			exit(3);
		claim += t1 - t0;
		total += now() - t0;
		fill(s, 1);	/* keep the depth */
	}
	printf("depth %8ld, %d priority level%s: claim %.1f us, claim + finish "
	    "+ commit %.1f us\n", depth, levels, levels > 1 ? "s" : "",
	    claim / CLAIMS * 1e6, total / CLAIMS * 1e6);
	store_close(s);
	unlink(path);
	{
		char side[64];

		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}
}

int
main(int argc, char **argv)
{
	log_init("claim", LOG_WARN);
	if (argc == 1) {
		measure(1000);
		measure(1000000);
		/* Claims then jump between rows spread over the table. */
		levels = 7;
		measure(1000);
		measure(1000000);
	}
	for (int i = 1; i < argc; i++)
		measure(atol(argv[i]));
	return 0;
}
