/*
 * Claim latency against queue depth in cluster mode: the claim path of
 * store/pg_claim.c as a node's dispatch runs it (a round, then the best
 * queued job of the queues it allows, FOR UPDATE SKIP LOCKED), timed on
 * a fresh PostgreSQL database at each depth, with what the rest of the
 * turn costs too (the fence and the finish of the job, the commit).
 * The claim must not grow with depth (target: within 1.5x).  The
 * queue is filled through the store (batches of 1 000, as submissions
 * make them), and one job is submitted again after each claim so that
 * the depth holds.  The depths take turns, claim by claim (a process
 * each), so that a machine busy with something else weighs on all of
 * them alike.
 *
 * usage: cluster_claim [--levels N] [--claims N] URL DEPTH [URL DEPTH ...]
 *   each URL an empty database of its own (bench/cluster.py makes them);
 *   N priority levels spread the claimed rows over the table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "store/cluster.h"
#include "store/store.h"

#define NODE	"bench"

static int	 levels = 1;	/* priorities the jobs are spread over */
static int	 claims = 2000;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int
pid_alive(int pid)
{
	return pid == (int)getpid();
}

static void
fill(struct store *s, long depth)
{
	static long	 made;
	struct job	 jobs[1000];

	for (long done = 0; done < depth; done += 1000) {
		int n = depth - done < 1000 ? (int)(depth - done) : 1000;

		for (int i = 0; i < n; i++) {
			job_init(&jobs[i]);
			jobs[i].command = strdup("true");
			jobs[i].queue = strdup("default");
			jobs[i].priority = (int)(made++ % levels);
			jobs[i].state = JOB_QUEUED;
		}
		if (store_submit(s, jobs, (size_t)n, now_ms()) < 0 ||
		    store_commit(s, 1) < 0)
			exit(1);
		for (int i = 0; i < n; i++)
			job_clear(&jobs[i]);
	}
}

/* A database at its depth, and what its claims took. */
struct side {
	struct store	*s;
	long		 depth;
	double		*each;		/* claim (round + next), seconds */
	double		 claim, total, worst;
};

static void
open_side(struct side *d, const char *url, long depth)
{
	struct node_row		 me, holder;
	double			 t0;

	memset(d, 0, sizeof(*d));
	d->depth = depth;
	if ((d->each = calloc((size_t)claims, sizeof(*d->each))) == NULL ||
	    store_open(&d->s, url, STORE_DURABLE) < 0)
		exit(1);
	memset(&me, 0, sizeof(me));
	snprintf(me.id, sizeof(me.id), NODE);
	snprintf(me.host, sizeof(me.host), "bench");
	me.pid = (int)getpid();
	me.workers = 1;
	me.timeout_ms = 3600 * 1000;
	if (store_node_session(d->s, 5000, 3600 * 1000, 60000) < 0 ||
	    store_node_join(d->s, &me, pid_alive, &holder) < 0 ||
	    store_commit(d->s, 1) < 0)
		exit(1);
	t0 = now();
	fill(d->s, depth);
	fprintf(stderr, "cluster_claim: %ld jobs queued in %.1f s\n", depth,
	    now() - t0);
}

/* One turn as a node's: claim, then the job's fence, finish, commit. */
static void
turn(struct side *d, int i)
{
	struct job_result	 r = {.state = JOB_SUCCEEDED, .exit_code = 0,
	    .signal = -1, .finished_at = 3, .cpu_ms = 1, .max_rss_kb = 1};
	struct claim_round	 round = {0};
	struct job		 j;
	double			 t0 = now(), t1;

	if (store_claim_round(d->s, NODE, &round) < 0 ||
	    store_claim_next(d->s, NODE, 1, now_ms(), &round, &j) != 1)
		exit(2);
	t1 = now();
	r.id = j.id;
	if (store_fence(d->s, j.id, NODE, j.attempts) < 0 ||
	    store_finish(d->s, &r) < 0 || store_commit(d->s, 0) < 0)
		exit(3);
	job_clear(&j);
	claim_round_clear(&round);
	d->each[i] = t1 - t0;
	d->claim += t1 - t0;
	d->total += now() - t0;
	if (t1 - t0 > d->worst)
		d->worst = t1 - t0;
	fill(d->s, 1);	/* keep the depth */
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(struct side *d)
{
	/* The median says more than the mean on a shared machine. */
	qsort(d->each, (size_t)claims, sizeof(*d->each), cmp_double);
	printf("cluster claim, depth %8ld, %d priority level%s: claim (round "
	    "+ next) median %.1f us, mean %.1f us, p99 %.1f us, max %.1f ms; "
	    "claim + fence + finish + commit %.1f us\n", d->depth, levels,
	    levels > 1 ? "s" : "", d->each[claims / 2] * 1e6,
	    d->claim / claims * 1e6, d->each[claims * 99 / 100] * 1e6,
	    d->worst * 1e3, d->total / claims * 1e6);
	fflush(stdout);
	store_node_leave(d->s, NODE);
	store_commit(d->s, 1);
	store_close(d->s);
	free(d->each);
}

static void
token_pass(int fd)
{
	if (write(fd, "t", 1) != 1)
		exit(4);
}

static void
token_wait(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		exit(4);
}

/*
 * A process per depth (the store's cluster statements are prepared once
 * per process), passing a token round a ring of pipes: claim by claim,
 * one depth after the other, so that a machine busy with something else
 * weighs on all of them alike.  The reports come in order too.
 */
static int
run_sides(int argc, char **argv)
{
	int	 n = argc / 2, (*ring)[2], status, rc = 0;
	pid_t	*pids;

	ring = calloc((size_t)n + 1, sizeof(*ring));
	pids = calloc((size_t)n, sizeof(*pids));
	if (ring == NULL || pids == NULL)
		return 1;
	/* ring[k]: the token to side k; ring[n]: back to the parent. */
	for (int k = 0; k <= n; k++)
		if (pipe(ring[k]) < 0)
			return 1;
	for (int k = 0; k < n; k++) {
		struct side d;

		if ((pids[k] = fork()) < 0)
			return 1;
		if (pids[k] > 0)
			continue;
		open_side(&d, argv[2 * k], atol(argv[2 * k + 1]));
		token_pass(ring[n][1]);		/* filled */
		for (int c = 0; c < claims; c++) {
			token_wait(ring[k][0]);
			turn(&d, c);
			token_pass(ring[k + 1][1]);
		}
		token_wait(ring[k][0]);
		report(&d);
		token_pass(ring[k + 1][1]);
		_exit(0);
	}
	for (int k = 0; k < n; k++)
		token_wait(ring[n][0]);
	/* Each pass round the ring goes through every side once. */
	for (int c = 0; c <= claims; c++) {
		token_pass(ring[0][1]);
		token_wait(ring[n][0]);
	}
	for (int k = 0; k < n; k++)
		if (waitpid(pids[k], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			rc = 1;
	free(ring);
	free(pids);
	return rc;
}

int
main(int argc, char **argv)
{
	int i = 1;

	log_init("cluster_claim", LOG_WARN);
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--levels") == 0)
			levels = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--claims") == 0)
			claims = atoi(argv[i + 1]);
		else
			break;
	}
	if (i >= argc || (argc - i) % 2 != 0 || levels < 1 || claims < 1) {
		fprintf(stderr, "usage: cluster_claim [--levels N] [--claims N] "
		    "URL DEPTH [URL DEPTH ...]\n");
		return 2;
	}
	return run_sides(argc - i, argv + i);
}
