/*
 * Schedules in the core (core/sched.h): the timer on the first tick due,
 * firing ticks with their misfire and overlap policies, the runs owed to
 * overlap "queue", and the client operations on schedules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "core/action.h"
#include "core/cluster.h"
#include "core/core.h"
#include "core/core_int.h"
#include "core/sched.h"
#include "core/submit.h"
#include "cron.h"
#include "log.h"
#include "server.h"
#include "store/store.h"
#include "tz.h"

#define SCHED_FIRE_BATCH	64		/* schedules fired per turn */
#define SCHED_SCAN_MAX	100000		/* ticks looked at after a downtime */
#define SCHED_RETRY_MS	1000		/* the store was away: again then */

static void	on_sched(uv_timer_t *);

/* ---- expressions and zones --------------------------------------------- */

/* A schedule's expression and zone, ready to compute fire times. */
struct when {
	struct cron	*cron;
	struct tz	*tz;
	int64_t		 until;
};

static void
when_close(struct when *w)
{
	cron_free(w->cron);
	tz_free(w->tz);
	memset(w, 0, sizeof(*w));
}

static int
when_open(const struct schedule *sc, struct when *w, struct core_error *err)
{
	struct cron_error	 ce;
	int			 rc;

	memset(w, 0, sizeof(*w));
	w->until = sc->until;
	if ((rc = cron_parse(sc->cron, &w->cron, &ce)) < 0)
		return err ? refuse_set(err, -EINVAL, "cron",
		    "cron: %s at position %d", ce.msg, ce.pos) : rc;
	if ((rc = tz_load(sc->timezone, &w->tz)) < 0) {
		when_close(w);
		if (err == NULL)
			return rc;
		return refuse_set(err, -EINVAL, "timezone", "timezone: %s",
		    rc == -ENOENT ? "no such zone" : rc == -EINVAL ?
		    "not a zone name" : "the zone's file cannot be read");
	}
	return 0;
}

/* The first tick after after_ms, 0 when none is left. */
static int64_t
when_next(const struct when *w, int64_t after_ms)
{
	int64_t t = cron_next(w->cron, w->tz, after_ms);

	if (t <= 0 || (w->until > 0 && t > w->until))
		return 0;
	return t;
}

int
sched_check(struct schedule *sc, int64_t now_ms, struct core_error *err)
{
	struct when	 w;
	int		 rc;

	if ((rc = when_open(sc, &w, err)) < 0)
		return rc;
	sc->next_at = when_next(&w, now_ms);
	if (sc->next_at == 0 && cron_next(w.cron, w.tz, now_ms) <= 0) {
		when_close(&w);
		return refuse_set(err, -EINVAL, "cron",
		    "cron: %s never fires", sc->cron);
	}
	when_close(&w);
	return 0;
}

size_t
sched_next_runs(const struct schedule *sc, int64_t after_ms, int64_t *out,
    size_t n)
{
	struct when	 w;
	size_t		 k = 0;
	int64_t		 t;

	if (sc->next_at == 0 || when_open(sc, &w, NULL) < 0)
		return 0;
	/* The tick owed is the first, however late it is. */
	t = sc->next_at > after_ms ? sc->next_at : when_next(&w, after_ms);
	while (k < n && t > 0) {
		out[k++] = t;
		t = when_next(&w, t);
	}
	when_close(&w);
	return k;
}

/* ---- the timer -------------------------------------------------------- */

static void
sched_start_at(struct server *srv, int64_t at)
{
	struct core	*c = srv->core;
	int64_t		 wait = at - clock_now_ms();

	c->sched_at = at;
	uv_timer_start(&c->sched_timer, on_sched,
	    (uint64_t)(wait > 0 ? wait : 0), 0);
}

void
sched_init(struct server *srv)
{
	struct core *c = srv->core;

	uv_timer_init(srv->loop, &c->sched_timer);
	c->sched_timer.data = srv;
}

void
sched_rearm(struct server *srv)
{
	struct core	*c = srv->core;
	int64_t		 at;

	if (srv->cluster && !cluster_leader(srv))
		return;
	if (store_sched_next(srv->store, &at) < 0) {
		sched_start_at(srv, clock_now_ms() + SCHED_RETRY_MS);
		return;
	}
	/* The owed runs are looked at on every pass: one soon. */
	if (c->sched_owed && (at == 0 || at > clock_now_ms() + SCHED_RETRY_MS))
		at = clock_now_ms() + SCHED_RETRY_MS;
	/* Never later than a pass already armed: a job's end asks for one
	 * now (sched_job_finished), and a rearm before it runs (the
	 * cluster's tick, a request) must not push it to the next tick.
	 * A pass that finds nothing due only arms again. */
	if (uv_is_active((uv_handle_t *)&c->sched_timer) && c->sched_at != 0 &&
	    (at == 0 || c->sched_at <= at))
		return;
	if (at == 0) {
		uv_timer_stop(&c->sched_timer);
		c->sched_at = 0;
	} else {
		sched_start_at(srv, at);
	}
}

/* ---- making a schedule's jobs -------------------------------------------- */

static void
done_nothing(void *arg, const struct core_result *r)
{
	(void)arg;
	(void)r;
}

/*
 * Makes a job from sc's template for tick (its scheduled_for), stored in
 * the turn's transaction; *id is set.  Returns 0 or a code (logged).
 */
static int
make_job(struct server *srv, const struct schedule *sc, int64_t tick,
    uint64_t *id)
{
	struct job		 j;
	struct core_error	 err = {0};
	int			 rc;

	*id = 0;
	job_init(&j);
	if ((rc = srv->job_template(sc->job_json, &j)) < 0) {
		log_warnx("schedule=%llu: its job template no longer passes: "
		    "no run", (unsigned long long)sc->id);
		job_clear(&j);
		return rc;
	}
	j.schedule_id = sc->id;
	j.scheduled_for = tick;
	if ((rc = submit_made(srv, &j, &err)) < 0)
		log_warnx("schedule=%llu: no run for its tick: %s",
		    (unsigned long long)sc->id, err.message[0] ? err.message :
		    strerror(-rc));
	else
		*id = j.id;
	job_clear(&j);
	return rc;
}

/* Whether the schedule's last job has yet to finish. */
static int
last_unfinished(struct server *srv, const struct schedule *sc)
{
	struct job	 j;
	int		 live;

	if (sc->last_job == 0 || core_job_get(srv, sc->last_job, &j) < 0)
		return 0;
	live = !job_state_finished(j.state);
	job_clear(&j);
	return live;
}

/*
 * One tick, by sc's overlap policy: a job made (its id into sc->last_job)
 * or none, and the tick recorded.  Returns 0 or a store code.
 */
static int
fire_tick(struct server *srv, struct schedule *sc, int64_t tick)
{
	struct core_error	 err;
	uint64_t		 id = 0;
	int			 busy, rc;

	/* The tick's row first: a tick fired already makes nothing. */
	if ((rc = store_sched_tick(srv->store, sc->id, tick, 0)) == -EEXIST) {
		log_warnx("schedule=%llu: tick %lld fired already: not again",
		    (unsigned long long)sc->id, (long long)tick);
		return 0;
	}
	if (rc < 0)
		return rc;
	busy = last_unfinished(srv, sc);
	if (busy && sc->overlap == SCHED_OVERLAP_SKIP) {
		log_info("schedule=%llu tick skipped: job=%llu still runs",
		    (unsigned long long)sc->id,
		    (unsigned long long)sc->last_job);
	} else if (busy && sc->overlap == SCHED_OVERLAP_QUEUE) {
		/* One waits behind it; a tick more while one waits is dropped. */
		if (sc->waiting == 0)
			sc->waiting = tick;
	} else {
		if (busy && sc->overlap == SCHED_OVERLAP_CANCEL &&
		    action_cancel(srv, sc->last_job, done_nothing, NULL,
		    &err) < 0)
			log_warnx("schedule=%llu: job=%llu could not be canceled",
			    (unsigned long long)sc->id,
			    (unsigned long long)sc->last_job);
		rc = make_job(srv, sc, tick, &id);
		if (rc == -ENOSPC || rc == -EIO || rc == -ENOTCONN)
			return rc;
		if (id) {
			sc->last_job = id;
			return store_sched_tick_job(srv->store, sc->id, tick,
			    id);
		}
	}
	return 0;
}

/*
 * The ticks of sc due at now (at most SCHED_CATCHUP_MAX, the latest)
 * into ticks, how many were due into *due, and the tick after them into
 * *next (0: none left).
 */
static size_t
due_ticks(const struct when *w, const struct schedule *sc, int64_t now,
    int64_t *ticks, size_t *due, int64_t *next)
{
	int64_t	 t = sc->next_at, every = cron_every_ms(w->cron);
	int64_t	 end = w->until > 0 && w->until < now ? w->until : now;
	size_t	 n = 0, k = 0;

	/* @every: the ticks due are counted, not walked; the latest kept
	 * (all of them at or before end, so the ring below fills). */
	if (every > 0 && t > 0 && end - t >= every *
	    (int64_t)SCHED_CATCHUP_MAX) {
		int64_t skip = (end - t) / every - (SCHED_CATCHUP_MAX - 1);

		n = (size_t)skip;
		t += skip * every;
	}
	while (t > 0 && t <= now && k < SCHED_SCAN_MAX) {
		/* A ring of the latest: the oldest drop out. */
		ticks[n % SCHED_CATCHUP_MAX] = t;
		n++;
		k++;
		t = when_next(w, t);
	}
	/* A downtime of more ticks than looked at: on from now. */
	if (t > 0 && t <= now)
		t = when_next(w, now);
	*next = t;
	*due = n;
	if (n > SCHED_CATCHUP_MAX) {
		int64_t	 tmp[SCHED_CATCHUP_MAX];
		size_t	 start = n % SCHED_CATCHUP_MAX;

		for (size_t i = 0; i < SCHED_CATCHUP_MAX; i++)
			tmp[i] = ticks[(start + i) % SCHED_CATCHUP_MAX];
		memcpy(ticks, tmp, sizeof(tmp));
		n = SCHED_CATCHUP_MAX;
	}
	return n;
}

/* The ticks of due to fire by the misfire policy; returns how many, from *first. */
static size_t
pick_ticks(const struct schedule *sc, const int64_t *ticks, size_t n,
    int64_t now, int64_t grace, size_t *first)
{
	size_t late = 0;

	while (late < n && now - ticks[late] > grace)
		late++;
	*first = 0;
	if (late == 0)
		return n;			/* all on time */
	switch (sc->misfire) {
	case SCHED_MISFIRE_SKIP:
		*first = late;
		return n - late;
	case SCHED_MISFIRE_ONCE:
		*first = n - 1;
		return 1;
	default:
		return n;
	}
}

/* Fires what is due of schedule id, in a savepoint: all of it or none. */
static int
fire(struct server *srv, uint64_t id, int64_t now)
{
	struct schedule	 sc;
	struct when	 w;
	int64_t		 ticks[SCHED_CATCHUP_MAX], next;
	size_t		 n, due, first, fire_n;
	int		 rc;

	if ((rc = store_sched_get(srv->store, id, &sc)) < 0)
		return rc == -ENOENT ? 0 : rc;
	if (sc.paused || sc.next_at == 0 || sc.next_at > now) {
		schedule_clear(&sc);
		return 0;
	}
	if (when_open(&sc, &w, NULL) < 0) {
		/* A zone gone from this machine: no tick until it is back. */
		log_warnx("schedule=%llu: its cron or zone cannot be read: "
		    "not fired", (unsigned long long)id);
		schedule_clear(&sc);
		return 0;
	}
	n = due_ticks(&w, &sc, now, ticks, &due, &next);
	when_close(&w);
	fire_n = pick_ticks(&sc, ticks, n, now, srv->cfg->misfire_grace_ms,
	    &first);
	if (due > fire_n)
		log_info("schedule=%llu: %zu tick(s) due, %zu run (misfire %s)",
		    (unsigned long long)id, due, fire_n,
		    schedule_misfire_name(sc.misfire));
	if ((rc = store_mark(srv->store)) < 0)
		goto out;
	/* Another leader fired it meanwhile: -ESTALE, nothing done here. */
	rc = store_sched_advance(srv->store, id, sc.next_at, next);
	for (size_t i = first; rc == 0 && i < first + fire_n; i++)
		rc = fire_tick(srv, &sc, ticks[i]);
	if (rc == 0)
		rc = store_sched_made(srv->store, id, sc.last_job, sc.waiting);
	if (store_unmark(srv->store, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && sc.waiting)
		srv->core->sched_owed = 1;
out:
	schedule_clear(&sc);
	return rc == -ESTALE ? 0 : rc;
}

/* An owed run (overlap queue) whose blocker has finished is made now. */
static int
pay_owed(struct server *srv, uint64_t id)
{
	struct schedule	 sc;
	uint64_t	 job = 0;
	int		 rc;

	if ((rc = store_sched_get(srv->store, id, &sc)) < 0)
		return rc == -ENOENT ? 0 : rc;
	if (sc.waiting == 0 || sc.paused || last_unfinished(srv, &sc)) {
		srv->core->sched_owed |= sc.waiting != 0;
		schedule_clear(&sc);
		return 0;
	}
	if ((rc = store_mark(srv->store)) == 0) {
		rc = make_job(srv, &sc, sc.waiting, &job);
		if (rc == 0)
			rc = store_sched_made(srv->store, id, job, 0);
		/* The tick it was owed for made it. */
		if (rc == 0 && job)
			rc = store_sched_tick_job(srv->store, id, sc.waiting,
			    job);
		if (store_unmark(srv->store, rc == 0) < 0 && rc == 0)
			rc = -EIO;
	}
	schedule_clear(&sc);
	return rc;
}

static void
on_sched(uv_timer_t *t)
{
	struct server	*srv = t->data;
	struct core	*c = srv->core;
	uint64_t	*ids = NULL;
	size_t		 n = 0;
	int64_t		 now = clock_now_ms();
	int		 rc;

	c->sched_at = 0;
	if (srv->draining || (srv->cluster && !cluster_leader(srv)))
		return;
	if ((rc = store_begin(srv->store)) < 0)
		goto later;
	turn_dirty(srv);
	if (c->sched_owed) {
		c->sched_owed = 0;
		if ((rc = store_sched_owed(srv->store, &ids, &n)) < 0)
			goto later;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = pay_owed(srv, ids[i]);
		free(ids);
		ids = NULL;
		if (rc < 0)
			goto later;
	}
	if ((rc = store_sched_due(srv->store, now, SCHED_FIRE_BATCH, &ids, &n)) < 0)
		goto later;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fire(srv, ids[i], now);
	free(ids);
	if (rc < 0)
		goto later;
	if (n == SCHED_FIRE_BATCH) {
		/* More are due: after this turn's commit (1 ms: see delay.c). */
		c->sched_at = now;
		uv_timer_start(&c->sched_timer, on_sched, 1, 0);
		return;
	}
	sched_rearm(srv);
	return;
later:
	log_warnx("schedules: store unavailable: trying again in a second");
	c->sched_owed = 1;
	sched_start_at(srv, clock_now_ms() + SCHED_RETRY_MS);
}

void
sched_job_finished(struct server *srv, uint64_t job_id)
{
	struct core *c = srv->core;

	(void)job_id;
	/* Few schedules ever owe a run: a pass looks at those only. */
	if (c->sched_owed && !(srv->cluster && !cluster_leader(srv)))
		sched_start_at(srv, clock_now_ms());
}

/* ---- what clients do ------------------------------------------------------ */

static int
refused(struct core_error *err, int rc, const char *name)
{
	if (rc == -EEXIST && name != NULL)
		return refuse_set(err, rc, "name",
		    "a schedule named \"%s\" exists", name);
	if (rc == -ENOENT)
		return refuse_set(err, rc, NULL, "no such schedule");
	return refuse_set(err, rc, NULL, "%s", "");
}

/* Done after the commit with id; the timer looks again then. */
static int
pending_id(struct server *srv, uint64_t id, core_done_cb done, void *arg)
{
	turn_pending(srv->core, P_JOB, done, arg, id);
	turn_dirty(srv);
	/* Read in the turn's transaction: armed for what it will commit. */
	sched_rearm(srv);
	return 0;
}

int
sched_create(struct server *srv, struct schedule *sc, core_done_cb done,
    void *arg, struct core_error *err)
{
	int rc;

	if (srv->draining)
		return refuse_set(err, -ESHUTDOWN, NULL, "%s", "");
	if ((rc = store_mark(srv->store)) < 0)
		return refused(err, rc, sc->name);
	rc = store_sched_add(srv->store, sc);
	if (store_unmark(srv->store, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0)
		return refused(err, rc, sc->name);
	return pending_id(srv, sc->id, done, arg);
}

int
sched_update(struct server *srv, struct schedule *sc, int replan,
    core_done_cb done, void *arg, struct core_error *err)
{
	int rc;

	if (srv->draining)
		return refuse_set(err, -ESHUTDOWN, NULL, "%s", "");
	/* A new expression, zone or end, or a resume: on from now, with no
	 * catch-up of what passed meanwhile. */
	if (replan && (rc = sched_check(sc, clock_now_ms(), err)) < 0)
		return rc;
	if ((rc = store_mark(srv->store)) < 0)
		return refused(err, rc, sc->name);
	rc = store_sched_put(srv->store, sc);
	if (rc == 0 && replan)
		rc = store_sched_replan(srv->store, sc->id, sc->next_at);
	if (store_unmark(srv->store, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0)
		return refused(err, rc, sc->name);
	return pending_id(srv, sc->id, done, arg);
}

int
sched_delete(struct server *srv, uint64_t id, core_done_cb done, void *arg,
    struct core_error *err)
{
	int rc;

	if ((rc = store_sched_delete(srv->store, id)) < 0)
		return refused(err, rc, NULL);
	return pending_id(srv, id, done, arg);
}

int
sched_trigger(struct server *srv, uint64_t id, core_done_cb done, void *arg,
    struct core_error *err)
{
	struct schedule	 sc;
	struct job	*j;
	int		 rc;

	if (srv->draining)
		return refuse_set(err, -ESHUTDOWN, NULL, "%s", "");
	if ((rc = store_sched_get(srv->store, id, &sc)) < 0)
		return refused(err, rc, NULL);
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		schedule_clear(&sc);
		return refuse_set(err, -ENOMEM, NULL, "%s", "");
	}
	job_init(j);
	if ((rc = srv->job_template(sc.job_json, j)) < 0) {
		rc = refuse_set(err, -EINVAL, "job",
		    "the schedule's job template no longer passes");
		goto fail;
	}
	/* A run asked for now: no tick, no overlap policy. */
	j->schedule_id = id;
	j->scheduled_for = clock_now_ms();
	if ((rc = store_mark(srv->store)) < 0) {
		refuse_set(err, rc, NULL, "%s", "");
		goto fail;
	}
	if ((rc = submit_made(srv, j, err)) == 0)
		rc = store_sched_made(srv->store, id, j->id, SCHED_KEEP);
	if (store_unmark(srv->store, rc == 0) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0) {
		if (err->message[0] == '\0')
			refuse_set(err, rc, NULL, "%s", "");
		goto fail;
	}
	schedule_clear(&sc);
	submit_pending(srv, j, done, arg);
	return 0;
fail:
	job_clear(j);
	free(j);
	schedule_clear(&sc);
	return rc;
}
