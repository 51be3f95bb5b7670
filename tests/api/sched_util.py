"""What the schedule test modules (test_schedules*.py) share: making,
reading and deleting schedules, and the jobs their ticks made."""
import time

from harness import FINISHED, RunnelTestCase, epoch, wait_until

SCHED_KEYS = {"id", "name", "cron", "timezone", "job", "overlap", "misfire",
              "paused", "until", "next_runs", "waiting", "last_job",
              "created_at"}
LAST_JOB_KEYS = {"id", "state", "exit_code", "error", "scheduled_for",
                 "started_at", "finished_at"}


def ms(s):
    """An API timestamp as integer milliseconds since the epoch."""
    return round(epoch(s) * 1000)


class ScheduleCase(RunnelTestCase):
    """A RunnelTestCase with shortcuts for /api/v1/schedules."""

    def create(self, body, server=None):
        """The schedule made from body (201); deleted when the test ends."""
        s = server or self.server
        r = s.api("POST", "/api/v1/schedules", body=body)
        self.assertEqual(r.status, 201, "POST %r: %r" % (body, r.raw[:500]))
        self.assertEqual(r.headers.get("Location"),
                         "/api/v1/schedules/%d" % r.data["id"])
        self.assertEqual(set(r.data), SCHED_KEYS, r.data)
        self.addCleanup(self._drop, r.data["id"])
        return r.data

    def _drop(self, sid):
        """Cleanup: the schedule paused, its unfinished jobs canceled.

        Paused, not deleted: on SQLite runneld gives the id of the newest
        schedule deleted to the next one made (test_schedules'
        test_the_id_of_a_deleted_schedule_is_not_reused), which would
        hand one test's jobs to the next."""
        s = self.server
        if not s.running():
            return
        s.api("PATCH", "/api/v1/schedules/%d" % sid, body={"paused": True})
        for j in self.jobs_of(sid):
            if j["state"] not in FINISHED:
                s.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)

    def every(self, name, job=None, **kw):
        """An "@every 1s" schedule of job (default: true)."""
        body = {"name": name, "cron": "@every 1s",
                "job": job or {"command": "true"}}
        body.update(kw)
        return self.create(body)

    def sched(self, sid, server=None):
        r = (server or self.server).api("GET", "/api/v1/schedules/%d" % sid)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(set(r.data), SCHED_KEYS, r.data)
        return r.data

    def patch(self, sid, body, expect=200, server=None):
        r = (server or self.server).api("PATCH", "/api/v1/schedules/%d" % sid,
                                        body=body)
        self.assertEqual(r.status, expect, "PATCH %r: %r" % (body, r.raw[:500]))
        return r.data

    def schedules(self, server=None):
        r = (server or self.server).api("GET", "/api/v1/schedules")
        self.assertEqual(r.status, 200, r.raw[:300])
        return r.data["schedules"]

    def jobs_of(self, sid, server=None):
        """The jobs of schedule sid, newest first (GET ?schedule=)."""
        r = (server or self.server).api(
            "GET", "/api/v1/jobs?schedule=%d&limit=1000" % sid)
        if r.status != 200:
            raise AssertionError("GET ?schedule=%d: %d %r" % (sid, r.status, r.raw[:300]))
        return r.data["jobs"]

    def ticked(self, sid, server=None):
        """The jobs of sid oldest first, with scheduled_for in ms as "sf"."""
        out = list(reversed(self.jobs_of(sid, server)))
        for j in out:
            self.assertEqual(j["schedule_id"], sid, j)
            j["sf"] = ms(j["scheduled_for"])
        return out

    def wait_jobs(self, sid, n, timeout=20, server=None, pred=None):
        """The jobs of sid (oldest first) once there are n (of pred)."""
        def enough():
            js = self.ticked(sid, server)
            mine = [j for j in js if pred is None or pred(j)]
            return js if len(mine) >= n else None
        return wait_until(enough, timeout, "%d job(s) of schedule %d" % (n, sid))

    def assertNoDuplicateTicks(self, jobs):
        sfs = [j["sf"] for j in jobs]
        dup = sorted({t for t in sfs if sfs.count(t) > 1})
        self.assertEqual(dup, [], "ticks with more than one job: %r" % [
            (j["id"], j["scheduled_for"]) for j in jobs if j["sf"] in dup])

    def assertConsecutive(self, jobs, period=1000):
        """Every job for the tick right after the one before."""
        self.assertNoDuplicateTicks(jobs)
        sfs = [j["sf"] for j in jobs]
        gaps = [(a, b) for a, b in zip(sfs, sfs[1:]) if b - a != period]
        self.assertEqual(gaps, [], "ticks not %d ms apart: %r" % (period, [
            (j["id"], j["scheduled_for"]) for j in jobs]))

    def now_ms(self):
        return int(time.time() * 1000)
