/*
 * The core's insides, shared by the files that change job states:
 * core.c (dispatch, commit), turn.c (what a turn records), submit.c,
 * action.c, finish.c, deps.c, delay.c, retain.c, and in cluster mode
 * cluster.c and notify.c.  Nothing outside the core wing includes this.
 */
#ifndef RUNNEL_CORE_INT_H
#define RUNNEL_CORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/result.h"
#include "pool/pool.h"		/* struct job_exit */
#include "store/cluster.h"	/* struct claim_round */
#include "store/job.h"

/* A state change of this turn, published after the commit. */
struct change {
	uint64_t	 id;
	int		 from;		/* -1: the job is new */
	int		 to;		/* -1: the job was deleted */
	char		 queue[JOB_QUEUE_MAX + 1];
	int64_t		 started_at;
	int64_t		 finished_at;
	int		 exit_code;	/* -1: none; for the log line of a finish */
	int		 signal;	/* -1: none */
	char		 error[96];
	struct job	*snap;		/* the job as it was, for subscribers */
};

enum pending_kind {
	P_SUBMIT,	/* complete with the submitted jobs */
	P_REPLAY,	/* an Idempotency-Key seen before: with its jobs */
	P_JOB,		/* complete with the job's id */
	P_QUEUE,	/* apply a queue's settings */
	P_DELETE,	/* remove the job's files (done may be NULL) */
	P_EXIT		/* a worker's report: apply again if the commit fails */
};

/* Something to do once the turn's commit succeeded or failed. */
struct pending {
	enum pending_kind	 kind;
	core_done_cb		 done;		/* NULL: nobody waits */
	void			*arg;
	uint64_t		 id;
	int			 attempts;
	int			 upload;	/* P_SUBMIT: its file was moved in */
	int			 files_later;	/* P_DELETE: files go on a thread
						 * (store/trash.c), done not
						 * waiting for them */
	int			 held;		/* P_SUBMIT: stored at the turn's end
						 * (submit_flush) */
	int			 rc;		/* its own failure, before the
						 * commit's; 0: none */
	struct job		*jobs;
	size_t			 njobs;
	int			 batch;
	uint64_t		*ids;		/* P_REPLAY */
	char			 queue[JOB_QUEUE_MAX + 1];
	int			 paused;	/* P_QUEUE */
	int			 concurrency;
	/* P_EXIT: a copy of the report */
	struct job_exit		 ex;
	char			 reason[32];
	char			 error[256];
	char			 node[NODE_ID_MAX + 1];
};

/* A claim of this turn: its RUN goes out once the claim is committed. */
struct run {
	int		 worker;
	struct job	 job;
};

struct turn {
	struct change	*changes;
	size_t		 nchanges, capchanges;
	struct pending	*pending;
	size_t		 npending, cappending;
	struct run	*runs;
	size_t		 nruns, capruns;
	int64_t		 waiting;	/* jobs this turn added to queued + scheduled */
	size_t		 nheld;		/* held submissions (pending, held) */
	int64_t		 held_waiting;	/* ... and the jobs of them that wait */
};

struct core {
	struct server	*srv;
	uv_check_t	 check;
	uv_idle_t	 idle;
	uv_timer_t	 redo_timer;
	uv_timer_t	 due_timer;
	uv_timer_t	 retain_timer;
	uv_timer_t	 sched_timer;
	int64_t		 sched_at;	/* what sched_timer is armed for; 0: nothing */
	int		 sched_owed;	/* a schedule may owe a run (sched.c) */
	int64_t		 due_at;	/* what due_timer is armed for; 0: nothing */
	int		 dirty;
	int		 runnable;	/* a queued job may exist */
	struct turn	 turn;
	struct pending	*redo;		/* reports to apply again */
	size_t		 nredo, capredo;
};

/*
 * A claim of a turn whose commit failed: never started here, yet maybe
 * committed (the answer to COMMIT lost on the way back).
 */
struct unsure_claim {
	uint64_t	 id;
	int		 attempt;
	char		 queue[JOB_QUEUE_MAX + 1];
};

/* A cancel this turn asks of the node running the job. */
struct cancel_note {
	uint64_t	 id;
	char		 node[NODE_ID_MAX + 1];
};

/*
 * Cluster mode (srv->cluster, NULL on SQLite): this node among those
 * sharing the database.  cluster.c owns the node's life (join, beat,
 * the leader's lease and chores, the poll) and its claims; notify.c what
 * it tells the others at a commit and what they tell it.
 */
struct cluster {
	struct server		*srv;
	char			 node[NODE_ID_MAX + 1];
	char			 host[NODE_HOST_MAX + 1];
	uv_timer_t		 tick;		/* lease, beat, chores, poll */
	uv_timer_t		 retry;		/* a contended queue: claim again */
	struct pg_listen	*listen;	/* NULL: --notify off */
	int64_t			 tick_ms;
	int64_t			 beat_ms;	/* how often the node beats */
	int64_t			 lease_ms;	/* how long a lease lasts */
	int64_t			 beat_next;	/* clock_mono_ms of the next beat */
	int64_t			 purge_next;	/* ... of the leader's next purge */
	int64_t			 retry_ms;	/* the retry timer's last delay */
	int			 leader;	/* held the lease at the last tick */
	int			 rejoin;	/* our row is gone: join again */
	int			 skew_said;	/* a large clock skew was logged */
	int			 skew_set;	/* skew_ms is in use */
	int64_t			 skew_ms;	/* the database's clock minus ours */
	int			 peers;		/* other live nodes, last seen */
	int			 missed;	/* LISTEN was down: poll waiters */
	int64_t			 up_mono;	/* the database came back (clock_mono_ms);
						 * 0: never lost */
	/* claims to settle before any other (cluster_claim) */
	struct unsure_claim	*unsure;
	size_t			 nunsure, capunsure;
	int			 unsure_settled;	/* ... in this turn */
	/* this turn */
	struct claim_round	 round;
	struct job		 first;		/* claimed with a finish for
						 * first_worker, to dispatch */
	int			 first_worker;	/* 0: none */
	int			 claimed_all;	/* a claim found nothing more */
	char			(*wake)[JOB_QUEUE_MAX + 1];
	size_t			 nwake, capwake;
	struct cancel_note	*cancels;
	size_t			 ncancels, capcancels;
	int			 counted;	/* waiting_base read this turn */
	int			 hello;		/* this turn joined: say so */
	int64_t			 waiting_base;	/* queued + scheduled then */
	/* the counts (srv->counts) as last read from the store */
	int64_t			 counts_at;	/* clock_mono_ms; 0: stale */
	/* jobs whose cancel the pool was told of: not again */
	uint64_t		*canceling;
	size_t			 ncanceling, capcanceling;
	int			 stopping;
};

/* sched.c: the schedules' timer (core/sched.h has the rest). */
void		 sched_init(struct server *);
/* sched.c: arms the timer on the first tick due (the leader's, in a cluster). */
void		 sched_rearm(struct server *);
/* sched.c: a job finished (from the commit's changes): a run it held up. */
void		 sched_job_finished(struct server *, uint64_t job_id);

/* turn.c: records a state change; the one transition check (job_can). */
struct change	*turn_change(struct core *, uint64_t id, int from, int to,
		    const char *queue);
/* turn.c: records how a finishing job ended, for its log line. */
void		 turn_outcome(struct change *, int exit_code, int signal,
		    const char *error);
/* turn.c: keeps the job as the change left it, for listeners (j may be NULL). */
void		 turn_snapshot(struct server *, struct change *,
		    const struct job *j);
/* turn.c: an operation to complete (done may be NULL) after the commit. */
struct pending	*turn_pending(struct core *, enum pending_kind,
		    core_done_cb done, void *arg, uint64_t id);
/* turn.c: releases what the turn holds and empties it. */
void		 turn_free(struct turn *);
/* turn.c: schedules the end-of-turn work (core.c: dispatch, commit, publish). */
void		 turn_dirty(struct server *);
/* refuse.c: fills err; returns rc for use in `return`. */
int		 refuse_set(struct core_error *err, int rc, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* refuse.c: -EBUSY for an action that does not fit j's state; clears j. */
int		 refuse_state(struct core_error *err, struct job *j,
		    const char *what);

/*
 * core.c: keeps a worker's report that could not be stored, to apply
 * again a second later, or as soon as the store is back.
 */
void		 core_keep_report(struct core *, uint64_t id,
		    const struct job_exit *);
/* core.c: the store takes writes again: kept reports now, then dispatch. */
void		 core_store_back(struct server *);
/* finish.c: re-applies a worker report kept over a failed commit. */
void		 finish_apply(struct server *, uint64_t id,
		    const struct job_exit *);
/*
 * finish.c: a running job whose worker reported its end, kept over a
 * failed commit (a full disk), is shown in *j as that report makes it.
 */
void		 finish_overlay(struct server *, struct job *j);
/* finish.c: copies a report into p so it outlives the caller's buffers. */
void		 finish_keep(struct pending *p, uint64_t id,
		    const struct job_exit *ex);
/*
 * finish.c: the report finish_keep kept in p, its strings pointed at p's
 * copies again: an array of pendings that grew moved them (use this,
 * never p->ex, to read a kept report).
 */
struct job_exit	*finish_kept(struct pending *p);

/* deps.c: job id reached its final state: its dependents move on. */
void		 deps_settle(struct server *, uint64_t id, enum job_state final);
/*
 * deps.c: job id failed or was canceled: every job that waits for it
 * fails with "dependency N failed", and so on down the chain, in st's
 * turn (store writes only; failed, if not NULL, is told each job, as it
 * was, and its error).  Returns how many failed, or a code.
 */
int		 deps_fail_chain(struct store *st, uint64_t id, int64_t now_ms,
		    void (*failed)(void *arg, const struct job *j,
		    const char *error), void *arg);

/* delay.c: the timer that makes scheduled jobs queued at their time. */
void		 delay_init(struct server *);
/* A job became due at run_at: arm the timer earlier if need be. */
void		 delay_arm(struct server *, int64_t run_at);
/* Arms the timer on the store's earliest due job. */
void		 delay_rearm(struct server *);
/* A scheduled job's time came, or its last dependency succeeded: queued. */
int		 delay_promote(struct server *, uint64_t id, const char *queue);

/* retain.c: the timer that deletes finished jobs past their retention. */
void		 retain_init(struct server *);

/* submit.c: stores the submissions the turn held (cluster mode), before
 * its dispatch: one statement for all, or each alone if that failed. */
void		 submit_flush(struct server *);

/* cluster.c: claims the best job for worker (core.c's dispatch): 1 with
 * *out filled, 0 when there is none to claim, or a code.  A job claimed
 * with a finish of this turn (for cluster_first_worker) comes first. */
int		 cluster_claim(struct server *, int worker, int64_t now_ms,
		    struct job *out);
/* cluster.c: the worker a job claimed with a finish waits for; 0: none. */
int		 cluster_first_worker(struct server *);
/* cluster.c: that job was not dispatched: queued again, the attempt not
 * counted, in the turn's transaction (before its commit). */
void		 cluster_first_drop(struct server *);
/* cluster.c: before the turn's commit: its counts, its notifications. */
void		 cluster_flush(struct server *);
/* cluster.c: 0 while the attempt ex reports is still the one its node
 * runs (its row locked until the commit), -EBUSY when it is not. */
int		 cluster_fence(struct server *, uint64_t id,
		    const struct job_exit *ex);
/* cluster.c: store_finish of the attempt ex reports, fenced as
 * cluster_fence in the same statement: 0, -ESTALE when the fence
 * refused it (logged), or a code. */
int		 cluster_finish(struct server *, const struct job_result *r,
		    const struct job_exit *ex);
/*
 * cluster.c: the turn's commit is over (rc < 0: failed; runs are its
 * claims, then never started).
 */
void		 cluster_turn_over(struct server *, int rc,
		    const struct run *runs, size_t nruns);
/* cluster.c: the counts read from the store are read again when next
 * asked for. */
void		 cluster_counts_stale(struct server *);
/* cluster.c: queued + scheduled jobs in the cluster, this turn's too. */
int64_t		 cluster_waiting(struct server *);
/* cluster.c: the running jobs of this node (free *ids). */
int		 cluster_own_jobs(struct server *, uint64_t **ids, size_t *n);
/* notify.c: jobs of queue became runnable in this turn: wake others. */
void		 notify_wake(struct server *, const char *queue);
/* notify.c: this turn joined the cluster: the others hear of it. */
void		 notify_hello(struct server *);
/* notify.c: asks the node running job id to end it (its cancel). */
int		 notify_cancel(struct server *, uint64_t id);
/* notify.c: before the turn's commit, what the others must hear. */
void		 notify_flush(struct server *);
/* notify.c: the turn ended (rc < 0: rolled back, nothing was sent). */
void		 notify_committed(struct server *, int rc);
/* notify.c: a notification came; the connection is (again) up. */
void		 notify_message(struct server *, const char *payload);
void		 notify_up(struct server *);
/* notify.c: polled: cancels asked of this node, and waited-for jobs. */
void		 notify_poll(struct server *);

#endif
