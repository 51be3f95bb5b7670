"""Scheduling: delay and run_at, their refusals, cancel of a scheduled job,
and many jobs due at one instant.

Times are checked against the jobs' own timestamps (created_at, run_at,
started_at, in ms).  Waiting for a scheduled time to pass is what some of
these tests test: they wait on ?wait= or on the clock, with deadlines.
"""
import os
import shlex
import time

from harness import RunnelTestCase, allowance, epoch, rfc3339, scaled


class ScheduleTest(RunnelTestCase):
    WORKERS = 2

    def test_delay_starts_on_time_on_an_idle_server(self):
        self.idle()
        j = self.submit({"command": "true", "delay": 1})
        self.assertEqual(j["state"], "scheduled", j)
        self.assertEqual(j["attempts"], 0)
        self.assertIsNone(j["started_at"])
        created, run_at = epoch(j["created_at"]), epoch(j["run_at"])
        self.assertAlmostEqual(run_at - created, 1.0, delta=0.0015,
                               msg="run_at is created_at + delay: %r" % j)
        q = self.queue("default")
        self.assertGreaterEqual(q["scheduled"], 1, q)
        done = self.wait(j["id"], 30)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(done["run_at"], j["run_at"])
        started = epoch(done["started_at"])
        d = started - created
        self.assertGreaterEqual(started, run_at, "started before its run_at: %r" % done)
        self.assertGreaterEqual(d, 0.999, "started %.3fs after creation" % d)
        self.assertLessEqual(d, 1.0 + allowance(0.1),
                             "delay 1 started %.3fs after creation" % d)

    def test_several_delays_start_in_time_order(self):
        self.idle()
        order = os.path.join(self.tmp, "delay-order")
        cmd = "echo $RUNNEL_JOB_ID >> %s" % shlex.quote(order)
        delays = (0.8, 0.2, 0.6, 0.4, 1.0)
        jobs = self.batch([{"command": cmd, "delay": d} for d in delays])
        for j in jobs:
            self.assertEqual(j["state"], "scheduled")
        done = self.wait_all([j["id"] for j in jobs], 30)
        for j in jobs:
            d = done[j["id"]]
            self.assertEqual(d["state"], "succeeded", d)
            late = epoch(d["started_at"]) - epoch(d["run_at"])
            self.assertGreaterEqual(late, 0, d)
            self.assertLessEqual(late, allowance(0.1), "started %.3fs late" % late)
        with open(order) as f:
            ran = [int(x) for x in f.read().split()]
        want = [j["id"] for _, j in sorted(zip(delays, jobs), key=lambda p: p[0])]
        self.assertEqual(ran, want, "run in run_at order")

    def test_an_earlier_job_rearms_the_timer(self):
        self.idle()
        late = self.submit({"command": "true", "delay": 3600})
        early = self.submit({"command": "true", "delay": 0.5})
        done = self.wait(early["id"], 20)
        self.assertEqual(done["state"], "succeeded")
        self.assertLessEqual(epoch(done["started_at"]) - epoch(done["run_at"]),
                             allowance(0.1))
        self.assertEqual(self.job(late["id"])["state"], "scheduled")
        self.assertEqual(self.cancel(late["id"]).data["state"], "canceled")

    def test_run_at_in_the_past_is_now_and_in_the_future_waits(self):
        self.idle()
        past = self.submit({"command": "true", "run_at": "2001-02-03T04:05:06Z"})
        self.assertIn(past["state"], ("queued", "running"), past)
        self.assertAlmostEqual(epoch(past["run_at"]), epoch(past["created_at"]),
                               delta=0.0015, msg="the past means now: %r" % past)
        self.assertEqual(self.wait(past["id"])["state"], "succeeded")

        at = rfc3339(time.time() + 1.2)
        fut = self.submit({"command": "true", "run_at": at})
        self.assertEqual(fut["state"], "scheduled")
        self.assertEqual(fut["run_at"], at)
        done = self.wait(fut["id"], 20)
        self.assertEqual(done["state"], "succeeded")
        late = epoch(done["started_at"]) - epoch(at)
        self.assertGreaterEqual(late, 0)
        self.assertLessEqual(late, allowance(0.1), "started %.3fs late" % late)

        # delay 0 is now too
        zero = self.submit({"command": "true", "delay": 0})
        self.assertIn(zero["state"], ("queued", "running"), zero)
        self.assertEqual(self.wait(zero["id"])["state"], "succeeded")

    def test_bad_delay_and_run_at_are_refused(self):
        before = self.server.total()
        far = rfc3339(time.time() + 60)
        cases = [
            ({"delay": -1}, "delay"), ({"delay": "5"}, "delay"),
            ({"delay": True}, "delay"),
            ({"delay": 366 * 86400 + 1}, "delay"),
            ({"run_at": "tomorrow"}, "run_at"), ({"run_at": 5}, "run_at"),
            ({"run_at": "2026-13-01T00:00:00Z"}, "run_at"),
        ]
        for extra, field in cases:
            spec = {"command": "true"}
            spec.update(extra)
            with self.subTest(spec=spec):
                self.assertError(self.api("POST", "/api/v1/jobs", body=spec),
                                 400, "invalid_field", field)
        # both: refused, field run_at (in either order of the members)
        for raw in ('{"command":"true","delay":1,"run_at":"%s"}' % far,
                    '{"command":"true","run_at":"%s","delay":1}' % far):
            with self.subTest(body=raw):
                r = self.api("POST", "/api/v1/jobs", raw=raw,
                             headers={"Content-Type": "application/json"})
                self.assertError(r, 400, "invalid_field", "run_at")
        self.assertEqual(self.server.total(), before, "a refused spec stored nothing")

    def test_queued_jobs_of_a_batch_run_beside_scheduled_ones(self):
        # One queue, a batch whose first job does not queue (scheduled, or
        # failed by its dependency): the queued jobs after it still run.
        f = self.submit({"command": "exit 1", "queue": "mixed-1"})
        self.wait(f["id"])
        for q, first in (("mixed-0", {"command": "true", "delay": 3600}),
                         ("mixed-1", {"command": "true", "after": [f["id"]]})):
            with self.subTest(first=first):
                jobs = self.batch([dict(first, queue=q),
                                   {"command": "true", "queue": q},
                                   {"command": "true", "queue": q}])
                self.assertIn(jobs[0]["state"], ("scheduled", "failed"))
                for j in jobs[1:]:
                    self.assertIn(j["state"], ("queued", "running"), j)
                for j in jobs[1:]:
                    d = self.wait(j["id"], 5)
                    self.assertEqual(d["state"], "succeeded", d)
                if jobs[0]["state"] == "scheduled":
                    self.cancel(jobs[0]["id"])

    def test_cancel_of_a_scheduled_job_is_final(self):
        marker = os.path.join(self.tmp, "scheduled-ran")
        j = self.submit({"command": "touch %s" % marker, "delay": 0.5,
                         "queue": "sched-cancel"})
        self.assertEqual(self.queue("sched-cancel")["scheduled"], 1)
        r = self.cancel(j["id"])
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.data["state"], r.data["error"], r.data["attempts"]),
                         ("canceled", "canceled", 0))
        self.assertIsNone(r.data["started_at"])
        self.assertEqual(self.queue("sched-cancel")["scheduled"], 0)
        # its time comes and goes: it stays canceled, nothing ran
        self.wait_for_time(epoch(j["run_at"]) + scaled(0.5))
        self.sentinel()
        self.assertEqual(self.job(j["id"])["state"], "canceled")
        self.assertFalse(os.path.exists(marker), "a canceled scheduled job ran")
        self.assertError(self.cancel(j["id"]), 409, "conflict")


class DueStallTest(RunnelTestCase):
    """Many jobs due at one instant are promoted in batches, one batch per
    loop turn and commit: runneld keeps answering meanwhile, and the
    promotion is seen progressing."""
    WORKERS = 1
    N = 20000

    def test_many_jobs_due_at_once_do_not_stall_the_loop(self):
        q = "due-many"
        self.patch_queue(q, {"paused": True})	# promoted, not run
        at = time.time() + scaled(4)
        spec = {"command": "true", "queue": q, "run_at": rfc3339(at)}
        at = epoch(spec["run_at"])
        for _ in range(self.N // 10000):
            r = self.api("POST", "/api/v1/jobs", body=[spec] * 10000, timeout=60)
            self.assertEqual(r.status, 201, r.raw[:300])
        self.assertLess(time.time(), at, "submitting took past run_at")
        self.assertEqual(self.queue(q)["scheduled"], self.N)
        self.wait_for_time(at - 0.2, "just before run_at")
        worst, when, seen = 0.0, None, []
        end = time.monotonic() + scaled(30)
        while True:
            # every answer timed: a stalled loop delays whichever comes
            t0, sent = time.monotonic(), time.time() - at
            r = self.api("GET", "/api/v1/queues", timeout=60)
            took = time.monotonic() - t0
            self.assertEqual(r.status, 200)
            if took > worst:
                worst, when = took, sent
            info = {x["name"]: x for x in r.data["queues"]}[q]
            if not seen or seen[-1] != info["queued"]:
                seen.append(info["queued"])
            if info["queued"] == self.N:
                break
            self.assertLess(time.monotonic(), end, "promotion unfinished: %r" % info)
        print("due stall: worst GET /api/v1/queues %.3f s (sent %.2f s "
              "after run_at)" % (worst, when))
        self.assertTrue([v for v in seen if 0 < v < self.N],
                        "the %d due jobs were promoted in one go (queued counts "
                        "seen: %r); GET took up to %.2fs (sent %.2fs after run_at)" %
                        (self.N, seen, worst, when))
        self.assertLess(worst, scaled(0.5),
                        "GET /api/v1/queues took %.2fs (sent %.2fs after run_at) while "
                        "%d due jobs were promoted" % (worst, when, self.N))
