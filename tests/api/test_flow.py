"""Flow control (issue 6): scheduling (delay, run_at), automatic retries
with back-off, dependencies (after), queue pause and concurrency,
Idempotency-Key, backpressure (--max-queued), retention
(--retain-finished, --retain-max-jobs) and resource limits.

Times are checked against the jobs' own timestamps (created_at, run_at,
started_at, finished_at, in ms) and, where a finer clock helps, against
`date +%s.%N` lines the jobs append to a file.  Waiting for a scheduled
time to pass is what some of these tests test: they wait on ?wait=, on
the event stream, or (while runneld is down) on the clock, with deadlines.
"""
import datetime
import glob
import os
import shlex
import signal
import sys
import threading
import time
import urllib.parse

from harness import (FINISHED, SCALE, RunnelTestCase, http_request, parse_ts,
                     pid_running, scaled, wait_until)

PY = sys.executable or "/usr/bin/python3"
BASE_ARGS = ["--kill-grace", "1", "--shutdown-grace", "5"]
MiB = 1 << 20


def epoch(s):
    """An API timestamp as seconds since the epoch (None stays None)."""
    return None if s is None else parse_ts(s).timestamp()


def rfc3339(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def allowance(seconds=0.1):
    """Dispatch allowance on top of a computed time (scaled)."""
    return scaled(seconds)


def read_floats(path):
    with open(path) as f:
        return [float(x) for x in f.read().split()]


class FlowBase(RunnelTestCase):
    """Helpers shared by the flow-control classes (no tests of its own)."""
    SERVER_ARGS = BASE_ARGS + ["--retry-base", "0.2"]

    # -- waiting
    def idle(self, server=None):
        s = server or self.server
        wait_until(lambda: all(w["state"] == "idle" for w in s.workers_info()),
                   15, "every worker idle")

    def wait_for_time(self, t, what="a time to pass"):
        """Waits for the wall clock to pass t (epoch seconds)."""
        wait_until(lambda: time.time() >= t,
                   max(0.0, t - time.time()) / SCALE + 5, what)

    def sentinel(self, queue="sentinel", server=None):
        """A job in another queue run to its end: proof that the
        dispatcher went round while something else stayed put."""
        s = server or self.server
        j = s.submit({"command": "true", "queue": queue})
        done = s.wait(j["id"], 30)
        self.assertEqual(done["state"], "succeeded", done)
        return done

    def wait_all(self, ids, timeout=60, server=None):
        s = server or self.server
        return {i: s.wait(i, timeout) for i in ids}

    # -- queues
    def queues(self, server=None):
        r = (server or self.server).api("GET", "/api/v1/queues")
        self.assertEqual(r.status, 200, r.raw)
        return {q["name"]: q for q in r.data["queues"]}

    def queue(self, name, server=None):
        return self.queues(server).get(name)

    def patch_queue(self, name, body, expect=200, server=None):
        r = (server or self.server).api("PATCH", "/api/v1/queues/" + name,
                                        body=body)
        self.assertEqual(r.status, expect, "PATCH %s %r: %r" % (name, body, r.raw))
        return r.data

    # -- jobs
    def batch(self, specs, server=None):
        r = (server or self.server).api("POST", "/api/v1/jobs", body=specs)
        self.assertEqual(r.status, 201, r.raw[:500])
        return r.data["jobs"]

    def job_gone(self, jid, server=None):
        r = (server or self.server).api("GET", "/api/v1/jobs/%d" % jid)
        if r.status == 404:
            return True
        self.assertEqual(r.status, 200, r.raw)
        return False

    def output_files(self, jid, server=None):
        s = server or self.server
        return sorted(glob.glob(os.path.join(s.data, "output", "%d.*" % jid)))

    def stats_jobs(self, server=None):
        return (server or self.server).stats()["jobs"]

    # -- events
    def open_events(self, server=None):
        ev = (server or self.server).events()
        self.addCleanup(ev.close)
        self.assertEqual(ev.status, 200)
        ev.next(10)	# the retry line: the subscription is in place
        return ev

    def job_events(self, ev, jid, until=FINISHED, timeout=30):
        """The job objects the stream reports for jid, up to a state in until."""
        out = []
        while True:
            e = ev.next_job_event(lambda e: e["event"] == "job" and
                                  e["json"]["id"] == jid, timeout)
            out.append(e["json"])
            if e["json"]["state"] in until:
                return out


# ---- scheduling -------------------------------------------------------------

class FlowScheduleTest(FlowBase):
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


class FlowDueStallTest(FlowBase):
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
        self.assertTrue([v for v in seen if 0 < v < self.N],
                        "the %d due jobs were promoted in one go (queued counts "
                        "seen: %r); GET took up to %.2fs (sent %.2fs after run_at)" %
                        (self.N, seen, worst, when))
        self.assertLess(worst, scaled(0.5),
                        "GET /api/v1/queues took %.2fs (sent %.2fs after run_at) while "
                        "%d due jobs were promoted" % (worst, when, self.N))


# ---- retries ----------------------------------------------------------------

class FlowRetryTest(FlowBase):
    WORKERS = 2
    BASE = 0.2

    def test_no_backoff_is_longer_than_an_hour(self):
        s = self.new_server("hour-cap", args=BASE_ARGS + ["--retry-base", "100000"])
        s.start()
        # Before the jitter an hour; after it, still at most an hour (12
        # draws: a jitter above 1 would show with odds 1 - 2**-12).
        ids = [s.submit({"command": "exit 1", "max_attempts": 2})["id"] for _ in range(12)]
        for jid in ids:
            wait_until(lambda: s.job(jid)["attempts"] == 1 and
                       s.job(jid)["state"] == "scheduled", 30, "job %d's back-off" % jid)
            d = s.job(jid)
            gap = epoch(d["run_at"]) - epoch(d["started_at"])
            self.assertGreaterEqual(gap, 0.75 * 3600 - 1, d)
            self.assertLessEqual(gap, 3600 + 1, d)
        self.assertEqual(s.stop(), 0)

    def test_backoff_times_are_within_their_bounds(self):
        self.idle()
        stamps = os.path.join(self.tmp, "backoff-stamps")
        ev = self.open_events()
        j = self.submit({"command": "date +%%s.%%N >> %s; exit 1" % shlex.quote(stamps),
                         "max_attempts": 4})
        self.assertEqual(j["max_attempts"], 4)
        seen = self.job_events(ev, j["id"], FINISHED, 60)
        done = self.wait(j["id"], 30)
        self.assertEqual((done["state"], done["attempts"], done["error"],
                          done["exit_code"]), ("failed", 4, "exit status 1", 1), done)

        # 1. the attempts' own clocks
        t = read_floats(stamps)
        self.assertEqual(len(t), 4, "one line per attempt: %r" % t)
        for k in (1, 2, 3):
            gap = t[k] - t[k - 1]
            lo = 0.75 * self.BASE * 2 ** (k - 1)
            hi = 1.25 * self.BASE * 2 ** (k - 1) + allowance(0.1)
            self.assertGreaterEqual(gap, lo, "gap %d: %.3fs < %.3fs" % (k, gap, lo))
            self.assertLessEqual(gap, hi, "gap %d: %.3fs > %.3fs" % (k, gap, hi))

        # 2. the job as the events show it: scheduled with run_at, the
        # last error kept and attempts counted while it waits
        states = [e["state"] for e in seen]
        self.assertEqual([s for s in states if s != "queued"],
                         ["running", "scheduled"] * 3 + ["running", "failed"],
                         states)
        sched = [e for e in seen if e["state"] == "scheduled"]
        runs = [e for e in seen if e["state"] == "running"]
        for k, s in enumerate(sched, 1):
            self.assertEqual(s["attempts"], k, s)
            self.assertEqual(s["error"], "exit status 1", s)
            self.assertIsNotNone(s["run_at"], s)
            self.assertIsNone(s["finished_at"], s)
            wait = epoch(s["run_at"]) - epoch(runs[k - 1]["started_at"])
            lo = 0.75 * self.BASE * 2 ** (k - 1)
            hi = 1.25 * self.BASE * 2 ** (k - 1) + allowance(0.1)
            self.assertGreaterEqual(wait, lo, s)
            self.assertLessEqual(wait, hi, s)
            late = epoch(runs[k]["started_at"]) - epoch(s["run_at"])
            self.assertGreaterEqual(late, 0, "attempt %d started before its "
                                    "run_at" % (k + 1))
            self.assertLessEqual(late, allowance(0.1))

    def test_max_attempts_exhaustion(self):
        specs = [
            ({"command": "exit 7", "max_attempts": 3},
             ("failed", 3, "exit status 7")),
            ({"command": "kill -9 $$", "max_attempts": 2},
             ("failed", 2, "killed by signal 9")),
            ({"command": "sleep 30", "timeout": 0.3, "max_attempts": 2},
             ("failed", 2, "timeout after 0.3s")),
            ({"command": '[ "$RUNNEL_ATTEMPT" -ge 3 ] || exit 5; echo ok',
              "max_attempts": 5}, ("succeeded", 3, None)),
            ({"command": "exit 9"}, ("failed", 1, "exit status 9")),
        ]
        jobs = self.batch([s for s, _ in specs])
        for j, (spec, want) in zip(jobs, specs):
            done = self.wait(j["id"], 60)
            with self.subTest(spec=spec):
                self.assertEqual((done["state"], done["attempts"], done["error"]),
                                 want, done)
                self.assertEqual(done["max_attempts"], spec.get("max_attempts", 1))
                self.assertIsNotNone(done["finished_at"])
        self.assertEqual(self.output(jobs[3]["id"]), b"ok\n")

    def test_each_attempt_output_stays_readable(self):
        j = self.submit({"command": "echo out $RUNNEL_ATTEMPT; "
                         "echo err $RUNNEL_ATTEMPT >&2; exit 2", "max_attempts": 3})
        done = self.wait(j["id"], 30)
        self.assertEqual((done["state"], done["attempts"]), ("failed", 3), done)
        path = "/api/v1/jobs/%d/output" % j["id"]
        for n in (1, 2, 3):
            self.assertEqual(self.output(j["id"], "?attempt=%d" % n),
                             b"out %d\n" % n)
            self.assertEqual(self.output(j["id"], "?attempt=%d&stream=stderr" % n),
                             b"err %d\n" % n)
        self.assertEqual(self.output(j["id"]), b"out 3\n", "default: the latest")
        self.assertEqual(done["stdout_bytes"], 6)
        self.assertError(self.api("GET", path + "?attempt=4"), 404, "not_found")
        self.assertError(self.api("GET", path + "?attempt=0"), 400, "invalid_field",
                         "attempt")
        self.assertEqual(len(self.output_files(j["id"])), 6)
        # a delete takes every attempt's files
        self.assertEqual(self.api("DELETE", "/api/v1/jobs/%d" % j["id"]).status, 204)
        self.assertEqual(self.output_files(j["id"]), [])

    def test_a_canceled_job_is_never_retried(self):
        # canceled while running
        g = self.gate()
        j = self.submit({"command": g.cmd, "max_attempts": 5})
        self.server.wait_running(j["id"])
        r = self.cancel(j["id"])
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.data["state"], r.data["attempts"]), ("canceled", 1))
        # canceled while it waits for its next attempt
        ev = self.open_events()
        k = self.submit({"command": "exit 1", "max_attempts": 100})
        self.job_events(ev, k["id"], ("scheduled",) + FINISHED, 30)
        r2 = self.cancel(k["id"])
        self.assertEqual(r2.status, 200, r2.raw)
        self.assertEqual(r2.data["state"], "canceled", r2.data)
        # well past their back-off (at most 1.25 x 0.2 s x 2^(attempts-1))
        span = 1.25 * self.BASE * 2 ** r2.data["attempts"]
        self.wait_for_time(time.time() + span + scaled(0.5))
        self.sentinel()
        a, b = self.job(j["id"]), self.job(k["id"])
        self.assertEqual((a["state"], a["attempts"]), ("canceled", 1), a)
        self.assertEqual((b["state"], b["attempts"]), ("canceled", r2.data["attempts"]), b)

    def test_retry_after_the_worker_is_killed(self):
        marker = os.path.join(self.tmp, "worker-kill-marker")
        cmd = ("if [ -e {m} ]; then echo second; else touch {m}; echo first; "
               "exec sleep 1000; fi").format(m=shlex.quote(marker))
        ev = self.open_events()
        j = self.submit({"command": cmd, "max_attempts": 2})
        job = self.server.wait_running(j["id"])
        self.track_pid(job["pid"])
        wait_until(lambda: self.output(j["id"]) == b"first\n", 10, "the first output")
        slot = [w for w in self.server.workers_info() if w["job"] == j["id"]]
        self.assertEqual(len(slot), 1)
        os.kill(slot[0]["pid"], signal.SIGKILL)
        seen = self.job_events(ev, j["id"], ("scheduled",) + FINISHED, 30)
        self.assertEqual(seen[-1]["state"], "scheduled", seen[-1])
        self.assertEqual((seen[-1]["error"], seen[-1]["attempts"]), ("worker lost", 1))
        done = self.wait(j["id"], 30)
        self.assertEqual((done["state"], done["attempts"], done["error"]),
                         ("succeeded", 2, None), done)
        self.assertEqual(self.output(j["id"]), b"second\n")
        self.assertEqual(self.output(j["id"], "?attempt=1"), b"first\n")
        wait_until(lambda: not pid_running(job["pid"]), 10,
                   "the first attempt's process to be gone")


class FlowRestartTest(FlowBase):
    """runneld killed (-9) or stopped and started again on its data."""
    WORKERS = 1
    SERVER_ARGS = BASE_ARGS + ["--retry-base", "2"]

    def marker_cmd(self, name):
        marker = os.path.join(self.tmp, name)
        return ("if [ -e {m} ]; then echo second; else touch {m}; echo first; "
                "exec sleep 1000; fi").format(m=shlex.quote(marker))

    def test_a_job_running_when_runneld_is_killed_is_retried(self):
        s = self.server
        j = s.submit({"command": self.marker_cmd("kill9-marker"), "max_attempts": 2})
        job = s.wait_running(j["id"])
        self.track_pid(job["pid"])
        wait_until(lambda: s.output(j["id"]) == b"first\n", 10, "the first output")
        s.kill9()
        wait_until(lambda: not pid_running(job["pid"]), 10, "the job to die with runneld")
        s.start()
        # --retry-base 2: it waits 1.5 s at least
        now = s.job(j["id"])
        self.assertEqual((now["state"], now["error"], now["attempts"]),
                         ("scheduled", "server restarted", 1), now)
        self.assertIsNotNone(now["run_at"])
        done = s.wait(j["id"], 30)
        self.assertEqual((done["state"], done["attempts"], done["error"]),
                         ("succeeded", 2, None), done)
        self.assertEqual(s.output(j["id"]), b"second\n")
        self.assertEqual(s.output(j["id"], "?attempt=1"), b"first\n")

    def test_the_last_attempt_running_when_runneld_is_killed_fails(self):
        s = self.server
        j = s.submit({"command": "exec sleep 1000"})
        job = s.wait_running(j["id"])
        self.track_pid(job["pid"])
        s.kill9()
        s.start()
        now = s.job(j["id"])
        self.assertEqual((now["state"], now["error"], now["attempts"]),
                         ("failed", "server restarted", 1), now)

    def check_scheduled_survive(self, stop):
        s = self.server
        self.idle()
        a = s.submit({"command": "true", "delay": scaled(3)})
        b = s.submit({"command": "true", "delay": 0.3})
        c = s.submit({"command": "true", "delay": 3600})
        stop()
        # b's time passes while runneld is down
        self.wait_for_time(epoch(b["run_at"]) + 0.1, "b's run_at")
        s.start()
        self.assertEqual(s.job(a["id"])["state"], "scheduled")
        done_b = s.wait(b["id"], 30)
        self.assertEqual(done_b["state"], "succeeded", done_b)
        self.assertGreaterEqual(epoch(done_b["started_at"]), epoch(b["run_at"]))
        done_a = s.wait(a["id"], 30)
        self.assertEqual(done_a["state"], "succeeded", done_a)
        self.assertEqual(done_a["run_at"], a["run_at"])
        late = epoch(done_a["started_at"]) - epoch(a["run_at"])
        self.assertGreaterEqual(late, 0, done_a)
        self.assertLessEqual(late, allowance(0.1), "fired %.3fs late after a restart" % late)
        cj = s.job(c["id"])
        self.assertEqual((cj["state"], cj["run_at"]), ("scheduled", c["run_at"]))
        self.assertEqual(self.cancel(c["id"]).data["state"], "canceled")

    def test_scheduled_jobs_survive_a_kill9_and_fire_at_their_time(self):
        self.check_scheduled_survive(self.server.kill9)

    def test_scheduled_jobs_survive_a_stop_and_fire_at_their_time(self):
        self.check_scheduled_survive(lambda: self.assertEqual(self.server.stop(), 0))

    def test_idempotency_keys_survive_a_restart(self):
        s = self.server
        r1 = s.api("POST", "/api/v1/jobs", body={"command": "true"},
                   headers={"Idempotency-Key": "restart-key"})
        self.assertEqual(r1.status, 201, r1.raw)
        s.wait(r1.data["id"])
        s.kill9()
        s.start()
        r2 = s.api("POST", "/api/v1/jobs", body={"command": "true"},
                   headers={"Idempotency-Key": "restart-key"})
        self.assertEqual((r2.status, r2.data["id"]), (200, r1.data["id"]), r2.raw)
        self.assertError(s.api("POST", "/api/v1/jobs", body={"command": "false"},
                               headers={"Idempotency-Key": "restart-key"}),
                         422, "idempotency_mismatch")

    def test_queue_settings_persist_across_restarts(self):
        s = self.server
        self.patch_queue("keep-a", {"paused": True, "concurrency": 3})
        self.patch_queue("keep-b", {"concurrency": 1})
        self.patch_queue("keep-c", {"paused": True})
        self.patch_queue("keep-c", {"paused": False})
        held = s.submit({"command": "true", "queue": "keep-a"})
        self.assertEqual(s.stop(), 0)
        s.start()
        q = self.queues()
        self.assertEqual({k: q["keep-a"][k] for k in ("paused", "concurrency", "queued")},
                         {"paused": True, "concurrency": 3, "queued": 1}, q.get("keep-a"))
        self.assertEqual((q["keep-b"]["paused"], q["keep-b"]["concurrency"]), (False, 1))
        self.assertEqual((q["keep-c"]["paused"], q["keep-c"]["concurrency"]), (False, None))
        self.sentinel()
        self.assertEqual(s.job(held["id"])["state"], "queued", "a paused queue stays paused")
        s.kill9()
        s.start()
        self.assertEqual(self.queue("keep-a")["paused"], True)
        self.patch_queue("keep-a", {"paused": False, "concurrency": None})
        self.assertEqual(s.wait(held["id"])["state"], "succeeded")
        q = self.queue("keep-a")
        self.assertEqual((q["paused"], q["concurrency"]), (False, None))


# ---- dependencies -----------------------------------------------------------

class FlowDepsTest(FlowBase):
    WORKERS = 2

    def test_success_chain_runs_in_order(self):
        order = os.path.join(self.tmp, "chain-order")
        rec = "echo $RUNNEL_JOB_ID >> %s" % shlex.quote(order)
        g = self.gate()
        a = self.submit({"command": g.cmd + "; " + rec, "queue": "deps-ok"})
        b = self.submit({"command": rec, "after": [a["id"]], "queue": "deps-ok"})
        c = self.submit({"command": rec, "after": [b["id"]], "queue": "deps-ok"})
        d = self.submit({"command": rec, "after": [a["id"], c["id"], a["id"]],
                         "queue": "deps-ok"})
        try:
            for x, after in ((b, [a["id"]]), (c, [b["id"]]),
                             (d, [a["id"], c["id"], a["id"]])):
                self.assertEqual(x["state"], "scheduled", x)
                self.assertEqual(x["after"], after, x)
                self.assertIsNone(x["run_at"], x)
            self.assertEqual(self.queue("deps-ok")["scheduled"], 3)
            # still waiting once the dispatcher went round
            self.sentinel()
            self.assertEqual(self.job(d["id"])["state"], "scheduled")
            self.assertFalse(os.path.exists(order))
        finally:
            g.release()
            g.open()
        done = self.wait_all([x["id"] for x in (a, b, c, d)], 30)
        for x in done.values():
            self.assertEqual(x["state"], "succeeded", x)
        with open(order) as f:
            self.assertEqual([int(i) for i in f.read().split()],
                             [a["id"], b["id"], c["id"], d["id"]])
        for prev, nxt in ((a, b), (b, c), (c, d)):
            self.assertLessEqual(epoch(done[prev["id"]]["finished_at"]),
                                 epoch(done[nxt["id"]]["started_at"]))
        self.assertEqual(done[d["id"]]["after"], [a["id"], c["id"], a["id"]])
        q = self.queue("deps-ok")
        self.assertEqual((q["scheduled"], q["queued"], q["running"]), (0, 0, 0))

    def test_failure_cascades_down_a_chain_of_five(self):
        g = self.gate()
        markers = [os.path.join(self.tmp, "cascade-%d" % i) for i in range(5)]
        head = self.submit({"command": "%s; touch %s; exit 3" % (g.cmd, markers[0]),
                            "queue": "deps-fail"})
        chain = [head]
        for i in range(1, 5):
            chain.append(self.submit({"command": "touch %s" % markers[i],
                                      "after": [chain[-1]["id"]],
                                      "queue": "deps-fail"}))
        self.assertEqual(self.queue("deps-fail")["scheduled"], 4)
        g.open()
        done = self.wait(head["id"], 30)
        self.assertEqual((done["state"], done["error"]), ("failed", "exit status 3"))
        for prev, x in zip(chain, chain[1:]):
            d = self.wait(x["id"], 30)
            self.assertEqual(d["state"], "failed", d)
            self.assertEqual(d["error"], "dependency %d failed" % prev["id"], d)
            self.assertEqual(d["attempts"], 0, d)
            self.assertIsNone(d["started_at"], d)
            self.assertIsNone(d["exit_code"], d)
            self.assertIsNotNone(d["finished_at"], d)
        self.assertTrue(os.path.exists(markers[0]))
        for m in markers[1:]:
            self.assertFalse(os.path.exists(m), "a job whose dependency failed ran")
        q = self.queue("deps-fail")
        self.assertEqual((q["scheduled"], q["queued"], q["running"]), (0, 0, 0), q)

    def test_cancel_cascades(self):
        a = self.submit({"command": "true", "delay": 3600, "queue": "deps-cancel"})
        b = self.submit({"command": "true", "after": [a["id"]], "queue": "deps-cancel"})
        c = self.submit({"command": "true", "after": [b["id"]], "delay": 0.1,
                         "queue": "deps-cancel"})
        self.assertEqual(self.queue("deps-cancel")["scheduled"], 3)
        self.assertEqual(self.cancel(a["id"]).data["state"], "canceled")
        jb, jc = self.job(b["id"]), self.job(c["id"])
        self.assertEqual((jb["state"], jb["error"]),
                         ("failed", "dependency %d failed" % a["id"]))
        self.assertEqual((jc["state"], jc["error"]),
                         ("failed", "dependency %d failed" % b["id"]))
        self.assertEqual(self.queue("deps-cancel")["scheduled"], 0)

    def test_a_dependency_already_failed_fails_the_job_at_once(self):
        f = self.submit({"command": "exit 1"})
        self.assertEqual(self.wait(f["id"])["state"], "failed")
        ok = self.submit({"command": "true"})
        self.assertEqual(self.wait(ok["id"])["state"], "succeeded")
        c = self.submit({"command": "true", "delay": 3600})
        self.cancel(c["id"])
        marker = os.path.join(self.tmp, "dead-dep-ran")
        for after, bad in (([f["id"]], f), ([ok["id"], f["id"]], f), ([c["id"]], c)):
            with self.subTest(after=after):
                j = self.submit({"command": "touch %s" % marker, "after": after})
                self.assertEqual(j["state"], "failed", j)
                self.assertEqual(j["error"], "dependency %d failed" % bad["id"])
                self.assertEqual(j["after"], after)
                self.assertIsNotNone(j["finished_at"])
                self.assertEqual(j["attempts"], 0)
        # a succeeded dependency: queued at once
        j = self.submit({"command": "true", "after": [ok["id"]]})
        self.assertIn(j["state"], ("queued", "running"), j)
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        # in a batch: each job on its own
        jobs = self.batch([{"command": "true", "after": [f["id"]]},
                           {"command": "true", "after": [ok["id"]]}])
        self.assertEqual(jobs[0]["state"], "failed")
        self.assertIn(jobs[1]["state"], ("queued", "running"))
        self.assertEqual(self.wait(jobs[1]["id"], 5)["state"], "succeeded")
        self.sentinel()
        self.assertFalse(os.path.exists(marker))

    def test_unknown_or_bad_dependencies_are_refused(self):
        ok = self.submit({"command": "true"})
        self.wait(ok["id"])
        before = self.server.total()
        self.assertError(self.api("POST", "/api/v1/jobs",
                                  body={"command": "true", "after": [987654321]}),
                         422, "invalid_dependency", "after")
        self.assertError(self.api("POST", "/api/v1/jobs", body=[
            {"command": "true", "after": [ok["id"]]},
            {"command": "true", "after": [ok["id"], 987654321]}]),
            422, "invalid_dependency", "[1].after")
        for bad in ("x", [0], [-1], ["1"], [1.5], {"id": 1}):
            with self.subTest(after=bad):
                self.assertError(self.api("POST", "/api/v1/jobs",
                                          body={"command": "true", "after": bad}),
                                 400, "invalid_field", "after")
        self.assertEqual(self.server.total(), before, "nothing stored")
        j = self.submit({"command": "true", "after": []})
        self.assertEqual(j["after"], [])
        self.wait(j["id"])

    def test_a_dependent_waits_for_retries(self):
        a = self.submit({"command": '[ "$RUNNEL_ATTEMPT" -ge 2 ] || exit 4',
                         "max_attempts": 3})
        b = self.submit({"command": "true", "after": [a["id"]]})
        x = self.submit({"command": "exit 6", "max_attempts": 2})
        y = self.submit({"command": "true", "after": [x["id"]]})
        da, db = self.wait(a["id"]), self.wait(b["id"])
        self.assertEqual((da["state"], da["attempts"]), ("succeeded", 2), da)
        self.assertEqual((db["state"], db["attempts"]), ("succeeded", 1), db)
        self.assertGreaterEqual(epoch(db["started_at"]), epoch(da["finished_at"]))
        dx, dy = self.wait(x["id"]), self.wait(y["id"])
        self.assertEqual((dx["state"], dx["attempts"]), ("failed", 2), dx)
        self.assertEqual((dy["state"], dy["error"]),
                         ("failed", "dependency %d failed" % x["id"]), dy)
        self.assertGreaterEqual(epoch(dy["finished_at"]), epoch(dx["finished_at"]))

    def test_a_retry_waits_for_its_dependencies(self):
        g = self.gate()
        # fails at once; its retry (attempt 2) waits at the gate, then succeeds
        a = self.submit({"command": '[ "$RUNNEL_ATTEMPT" -ge 2 ] || exit 1; ' + g.cmd,
                         "queue": "deps-retry"})
        b = self.submit({"command": "true", "after": [a["id"]], "queue": "deps-retry"})
        self.assertEqual(self.wait(a["id"])["state"], "failed")
        fb = self.wait(b["id"])
        self.assertEqual((fb["state"], fb["error"]),
                         ("failed", "dependency %d failed" % a["id"]))
        # its dependency still failed: refused, and nothing changes
        r = self.api("POST", "/api/v1/jobs/%d/retry" % b["id"])
        self.assertError(r, 409, "conflict")
        self.assertIn("dependency %d" % a["id"], r.data["error"]["message"])
        self.assertEqual(self.job(b["id"]), fb)
        # the dependency again, then the dependent: it waits for the rerun
        self.addCleanup(g.open)
        r = self.api("POST", "/api/v1/jobs/%d/retry" % a["id"])
        self.assertEqual(r.status, 200, r.data)
        r = self.api("POST", "/api/v1/jobs/%d/retry" % b["id"])
        self.assertEqual((r.status, r.data["state"]), (200, "scheduled"), r.data)
        self.assertIsNone(r.data["error"])
        self.sentinel()
        self.assertEqual(self.job(b["id"])["state"], "scheduled")
        g.open()
        da, db = self.wait(a["id"]), self.wait(b["id"])
        self.assertEqual((da["state"], da["attempts"]), ("succeeded", 2), da)
        self.assertEqual(db["state"], "succeeded", db)
        self.assertGreaterEqual(epoch(db["started_at"]), epoch(da["finished_at"]))
        # a dependency deleted since holds nothing up
        c = self.submit({"command": "exit 2"})
        d = self.submit({"command": "true", "after": [c["id"], a["id"]]})
        self.assertEqual(self.wait(d["id"])["state"], "failed")
        self.assertEqual(self.api("DELETE", "/api/v1/jobs/%d" % c["id"]).status, 204)
        r = self.api("POST", "/api/v1/jobs/%d/retry" % d["id"])
        self.assertEqual(r.status, 200, r.data)
        self.assertEqual(self.wait(d["id"])["state"], "succeeded")

    def test_after_and_delay_wait_for_both(self):
        # dependency done first: the job still waits for its time
        a = self.submit({"command": "true"})
        b = self.submit({"command": "true", "after": [a["id"]], "delay": 1})
        db = self.wait(b["id"], 30)
        self.assertEqual(db["state"], "succeeded")
        self.assertGreaterEqual(epoch(db["started_at"]), epoch(b["run_at"]))
        self.assertLessEqual(epoch(db["started_at"]) - epoch(b["run_at"]), allowance(0.1))
        # time passed first: it starts when its dependency succeeds
        g = self.gate()
        c = self.submit({"command": g.cmd})
        d = self.submit({"command": "true", "after": [c["id"]], "delay": 0.2})
        self.wait_for_time(epoch(d["run_at"]) + 0.2, "d's run_at")
        self.sentinel()
        self.assertEqual(self.job(d["id"])["state"], "scheduled")
        g.open()
        dc, dd = self.wait(c["id"]), self.wait(d["id"])
        self.assertEqual(dd["state"], "succeeded")
        self.assertLessEqual(epoch(dd["started_at"]) - epoch(dc["finished_at"]),
                             allowance(0.2))

    def test_a_chain_of_1000(self):
        n = 1000
        order = os.path.join(self.tmp, "chain1000")
        rec = "echo $RUNNEL_JOB_ID >> %s" % shlex.quote(order)
        g = self.gate()
        t0 = time.monotonic()
        ids = [self.submit({"command": g.cmd + "; " + rec, "queue": "chain"})["id"]]
        try:
            for _ in range(n - 1):
                j = self.submit({"command": rec, "after": [ids[-1]], "queue": "chain"})
                self.assertEqual(j["state"], "scheduled")
                ids.append(j["id"])
            t_submit = time.monotonic() - t0
            self.assertEqual(self.queue("chain")["scheduled"], n - 1)
        finally:
            g.release()
        g.open()
        t1 = time.monotonic()
        last = self.wait(ids[-1], 120)
        t_run = time.monotonic() - t1
        self.assertEqual(last["state"], "succeeded", last)
        total = time.monotonic() - t0
        sys.stderr.write("chain of %d: submitted in %.2fs, resolved in %.2fs\n" %
                         (n, t_submit, t_run))
        self.assertLess(total, scaled(60), "a chain of %d took %.1fs" % (n, total))
        r = self.api("GET", "/api/v1/jobs?queue=chain&limit=1000")
        self.assertEqual({j["state"] for j in r.data["jobs"]}, {"succeeded"})
        self.assertEqual(len(r.data["jobs"]), n)
        with open(order) as f:
            self.assertEqual([int(i) for i in f.read().split()], ids, "run in order")


# ---- queues: pause and concurrency ------------------------------------------

class FlowQueueTest(FlowBase):
    WORKERS = 3

    def test_patch_answers_the_queue_and_refuses_bad_input(self):
        r = self.patch_queue("pq", {"paused": True})
        self.assertEqual(r, {"name": "pq", "paused": True, "concurrency": None,
                             "scheduled": 0, "queued": 0, "running": 0})
        r = self.patch_queue("pq", {"concurrency": 2})
        self.assertEqual((r["paused"], r["concurrency"]), (True, 2), r)
        r = self.patch_queue("pq", {"paused": False})
        self.assertEqual((r["paused"], r["concurrency"]), (False, 2), r)
        r = self.patch_queue("pq", {"concurrency": None, "paused": True})
        self.assertEqual((r["paused"], r["concurrency"]), (True, None), r)
        r = self.patch_queue("pq", {})
        self.assertEqual((r["paused"], r["concurrency"]), (True, None), r)
        self.assertEqual(self.queue("pq"), r)
        r = self.patch_queue("pq", {"paused": False, "concurrency": 1000000})
        self.assertEqual(r["concurrency"], 1000000)

        for body, code, field in (
                ({"paused": "yes"}, "invalid_field", "paused"),
                ({"paused": 1}, "invalid_field", "paused"),
                ({"paused": None}, "invalid_field", "paused"),
                ({"concurrency": 0}, "invalid_field", "concurrency"),
                ({"concurrency": -1}, "invalid_field", "concurrency"),
                ({"concurrency": 1.5}, "invalid_field", "concurrency"),
                ({"concurrency": "2"}, "invalid_field", "concurrency"),
                ({"concurrency": 1000001}, "invalid_field", "concurrency"),
                ({"concurrency": True}, "invalid_field", "concurrency"),
                ({"paused": True, "limit": 3}, "unknown_field", "limit")):
            with self.subTest(body=body):
                self.assertError(self.api("PATCH", "/api/v1/queues/pq", body=body),
                                 400, code, field)
        for raw in ("[]", "nope", '"x"'):
            with self.subTest(raw=raw):
                r = self.api("PATCH", "/api/v1/queues/pq", raw=raw,
                             headers={"Content-Type": "application/json"})
                self.assertEqual(r.status, 400, r.raw)
        for name in ("a" * 65, "bad%20name", "caf%C3%A9", "a%2Fb"):
            with self.subTest(name=name):
                r = self.api("PATCH", "/api/v1/queues/" + name, body={"paused": True})
                self.assertIn(r.status, (400, 404), r.raw)
                if name in ("a" * 65, "bad%20name"):
                    self.assertError(r, 400, "invalid_field", "name")
        q = self.queue("pq")
        self.assertEqual((q["paused"], q["concurrency"]), (False, 1000000),
                         "refused PATCHes changed nothing")
        self.assertNotIn("a" * 65, self.queues())

    def test_concurrent_patches_of_different_fields_both_apply(self):
        # {"paused"} and {"concurrency"} sent at once: each changes its own
        # field only, whatever loop turn they land in
        lost = []
        for k in range(20):
            name = "race-%d" % k
            barrier = threading.Barrier(2)
            answers = [None, None]

            def go(i, body):
                barrier.wait(scaled(10))
                answers[i] = http_request(self.server.port, "PATCH",
                                          "/api/v1/queues/" + name, body=body)
            ts = [threading.Thread(target=go, args=(0, {"paused": True})),
                  threading.Thread(target=go, args=(1, {"concurrency": 5}))]
            for t in ts:
                t.start()
            for t in ts:
                t.join(scaled(30))
            self.assertEqual([a.status for a in answers], [200, 200])
            q = self.queue(name)
            if (q["paused"], q["concurrency"]) != (True, 5):
                lost.append((name, q["paused"], q["concurrency"]))
        self.assertEqual(lost, [], "PATCH {paused: true} and PATCH {concurrency: 5} "
                         "at once: (queue, paused, concurrency) after both")

    def test_pause_stops_new_starts_and_resume_restarts_them(self):
        out = os.path.join(self.tmp, "paused-ran")
        self.patch_queue("pz", {"paused": True})
        jobs = self.batch([{"command": "echo $RUNNEL_JOB_ID >> %s" % out,
                            "queue": "pz"} for _ in range(3)])
        for j in jobs:
            self.assertEqual(j["state"], "queued")
        self.sentinel()
        self.sentinel()
        self.assertFalse(os.path.exists(out), "a job of a paused queue started")
        q = self.queue("pz")
        self.assertEqual((q["paused"], q["queued"], q["running"]), (True, 3, 0), q)
        r = self.patch_queue("pz", {"paused": False})
        self.assertEqual((r["paused"], r["queued"]), (False, 3), r)
        for d in self.wait_all([j["id"] for j in jobs], 30).values():
            self.assertEqual(d["state"], "succeeded", d)
        with open(out) as f:
            self.assertEqual(sorted(int(i) for i in f.read().split()),
                             [j["id"] for j in jobs])

    def test_pause_lets_running_jobs_finish(self):
        g = self.gate()
        j = self.submit({"command": g.cmd, "queue": "pr"})
        self.server.wait_running(j["id"])
        try:
            r = self.patch_queue("pr", {"paused": True})
            self.assertEqual((r["paused"], r["running"]), (True, 1), r)
            k = self.submit({"command": "true", "queue": "pr"})
            self.assertEqual(self.job(j["id"])["state"], "running")
        finally:
            g.open()
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        self.sentinel()
        self.assertEqual(self.job(k["id"])["state"], "queued")
        self.patch_queue("pr", {"paused": False})
        self.assertEqual(self.wait(k["id"])["state"], "succeeded")

    def test_concurrency_one_never_overlaps(self):
        n = 50
        q = "solo"
        log = os.path.join(self.tmp, "solo.log")
        lq = shlex.quote(log)
        cmd = ('echo "s $RUNNEL_JOB_ID $(date +%%s.%%N)" >> %s; sleep 0.02; '
               'echo "e $RUNNEL_JOB_ID $(date +%%s.%%N)" >> %s' % (lq, lq))
        self.idle()
        self.patch_queue(q, {"concurrency": 1})
        jobs = self.batch([{"command": cmd, "queue": q} for _ in range(n)])
        most = [0]

        def drained():
            info = self.queue(q)
            most[0] = max(most[0], info["running"])
            return info["queued"] == 0 and info["running"] == 0
        # meanwhile the pool's other workers serve other queues
        self.sentinel()
        wait_until(drained, 60, "the queue to drain")
        self.assertLessEqual(most[0], 1, "the queue showed %d running" % most[0])
        done = self.wait_all([j["id"] for j in jobs], 30)
        for d in done.values():
            self.assertEqual(d["state"], "succeeded", d)
        # the jobs' own clocks
        ends, starts = {}, {}
        with open(log) as f:
            for line in f:
                kind, jid, t = line.split()
                (starts if kind == "s" else ends)[int(jid)] = float(t)
        self.assertEqual(len(starts), n)
        seq = sorted(starts, key=starts.get)
        for a, b in zip(seq, seq[1:]):
            self.assertLessEqual(ends[a], starts[b],
                                 "jobs %d and %d overlapped" % (a, b))
        # the API's times (ms)
        iv = sorted((epoch(d["started_at"]), epoch(d["finished_at"]), i)
                    for i, d in done.items())
        for (s1, f1, a), (s2, f2, b) in zip(iv, iv[1:]):
            self.assertLessEqual(f1, s2, "jobs %d and %d overlapped (API)" % (a, b))

    def test_concurrency_n_is_a_semaphore(self):
        q = "sem"
        self.idle()
        self.patch_queue(q, {"concurrency": 2})
        gates = [self.gate() for _ in range(4)]
        jobs = [self.submit({"command": g.cmd, "queue": q}) for g in gates]
        try:
            wait_until(lambda: self.queue(q)["running"] == 2, 10, "two running")
            self.sentinel()		# the third worker is free for others
            info = self.queue(q)
            self.assertEqual((info["running"], info["queued"]), (2, 2), info)
            running = [j["id"] for j in jobs if self.job(j["id"])["state"] == "running"]
            self.assertEqual(running, [jobs[0]["id"], jobs[1]["id"]])
            gates[0].open()
            self.assertEqual(self.wait(jobs[0]["id"])["state"], "succeeded")
            self.server.wait_running(jobs[2]["id"])
            info = self.queue(q)
            self.assertEqual((info["running"], info["queued"]), (2, 1), info)
            # raised while full: the waiting one starts
            r = self.patch_queue(q, {"concurrency": 3})
            self.assertEqual(r["concurrency"], 3)
            self.server.wait_running(jobs[3]["id"])
            self.assertEqual(self.queue(q)["running"], 3)
            # lowered below the running count: running jobs go on, none starts
            self.patch_queue(q, {"concurrency": 1})
            more = self.submit({"command": "true", "queue": q})
            gates[1].open()
            gates[2].open()
            self.wait(jobs[1]["id"])
            self.wait(jobs[2]["id"])
            self.sentinel()
            self.assertEqual(self.job(more["id"])["state"], "queued")
        finally:
            for g in gates:
                g.release()
        gates[3].open()
        self.assertEqual(self.wait(more["id"])["state"], "succeeded")
        self.patch_queue(q, {"concurrency": None})

    def test_other_queues_run_in_priority_order_while_one_is_blocked(self):
        self.idle()
        self.patch_queue("blk-paused", {"paused": True})
        self.patch_queue("blk-full", {"concurrency": 1})
        ran_p = os.path.join(self.tmp, "blk-paused-ran")
        ran_f = os.path.join(self.tmp, "blk-full-ran")
        order = os.path.join(self.tmp, "open-order")
        gf, h1, h2 = self.gate("full"), self.gate("h1"), self.gate("h2")
        holder = self.submit({"command": gf.cmd, "queue": "blk-full"})
        self.server.wait_running(holder["id"])
        try:
            paused = self.batch([{"command": "touch %s" % ran_p, "queue": "blk-paused",
                                  "priority": -1000} for _ in range(20)])
            full = self.batch([{"command": "touch %s" % ran_f, "queue": "blk-full",
                                "priority": -1000} for _ in range(20)])
            other = self.submit({"command": "true", "queue": "other", "priority": 1000})
            self.assertEqual(self.wait(other["id"], 20)["state"], "succeeded")
            # hold the two other workers, then queue work on two open queues
            hold1 = self.submit({"command": h1.cmd, "queue": "hold"})
            hold2 = self.submit({"command": h2.cmd, "queue": "hold"})
            self.server.wait_running(hold1["id"])
            self.server.wait_running(hold2["id"])
            rec = "echo $RUNNEL_JOB_ID >> %s" % shlex.quote(order)
            prio = {}
            for i, p in enumerate((5, -2, 0, 3, -7, 1, -2, 900)):
                j = self.submit({"command": rec, "queue": "open-%d" % (i % 2),
                                 "priority": p})
                prio[j["id"]] = p
            h2.open()
            for d in self.wait_all(list(prio), 30).values():
                self.assertEqual(d["state"], "succeeded", d)
            with open(order) as f:
                ran = [int(x) for x in f.read().split()]
            self.assertEqual(ran, sorted(prio, key=lambda i: (prio[i], i)),
                             "open queues in priority order")
            self.assertFalse(os.path.exists(ran_p))
            self.assertFalse(os.path.exists(ran_f))
            self.assertEqual(self.queue("blk-paused")["queued"], 20)
            self.assertEqual(self.queue("blk-full")["queued"], 20)
        finally:
            for g in (h1, h2, gf):
                g.release()
            self.patch_queue("blk-paused", {"paused": False})
            self.patch_queue("blk-full", {"concurrency": None})
        self.wait_all([j["id"] for j in paused + full] + [holder["id"]], 60)


# ---- idempotency ------------------------------------------------------------

class FlowIdempotencyTest(FlowBase):
    WORKERS = 2

    def post(self, body, key, server=None):
        s = server or self.server
        return s.api("POST", "/api/v1/jobs", body=body,
                     headers={"Idempotency-Key": key})

    def parallel(self, body, key, n=10):
        barrier = threading.Barrier(n)
        results = [None] * n

        def go(i):
            try:
                barrier.wait(scaled(10))
                results[i] = http_request(self.server.port, "POST", "/api/v1/jobs",
                                          body=body, headers={"Idempotency-Key": key})
            except Exception as e:	# reported below
                results[i] = e
        threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(30))
        for r in results:
            if isinstance(r, Exception) or r is None:
                self.fail("a parallel request failed: %r" % (r,))
        return results

    def test_ten_parallel_identical_requests_make_one_job(self):
        before = self.server.total()
        spec = {"command": "echo once", "name": "idem-one"}
        results = self.parallel(spec, "parallel-one")
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] * 9 + [201],
                         [(r.status, r.raw[:200]) for r in results])
        ids = {r.data["id"] for r in results}
        self.assertEqual(len(ids), 1, ids)
        self.assertEqual(self.server.total(), before + 1)
        for r in results:
            self.assertEqual(r.data["name"], "idem-one")
            self.assertEqual(r.data["command"], "echo once")
        jid = ids.pop()
        self.assertEqual(self.wait(jid)["state"], "succeeded")
        # later: the same answer, the job as it is now
        r = self.post(spec, "parallel-one")
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.data["id"], r.data["state"]), (jid, "succeeded"))
        self.assertEqual(self.output(jid), b"once\n")
        self.assertEqual(self.server.total(), before + 1)

    def test_ten_parallel_identical_batches_make_one_batch(self):
        before = self.server.total()
        body = [{"command": "true"}, {"command": "exit 2"}, {"command": "true"}]
        results = self.parallel(body, "parallel-batch")
        self.assertEqual(sorted(r.status for r in results), [200] * 9 + [201])
        idsets = {tuple(j["id"] for j in r.data["jobs"]) for r in results}
        self.assertEqual(len(idsets), 1, idsets)
        self.assertEqual(len(next(iter(idsets))), 3)
        self.assertEqual(self.server.total(), before + 3)

    def test_repeat_answers_the_same_form(self):
        r1 = self.post({"command": "true"}, "form-single")
        self.assertEqual(r1.status, 201, r1.raw)
        r2 = self.post({"command": "true"}, "form-single")
        self.assertEqual(r2.status, 200, r2.raw)
        self.assertEqual(r2.data["id"], r1.data["id"])
        self.assertNotIn("jobs", r2.data)
        body = [{"command": "true"}, {"command": "true", "queue": "b"}]
        b1 = self.post(body, "form-batch")
        self.assertEqual(b1.status, 201, b1.raw)
        b2 = self.post(body, "form-batch")
        self.assertEqual(b2.status, 200, b2.raw)
        self.assertEqual([j["id"] for j in b2.data["jobs"]],
                         [j["id"] for j in b1.data["jobs"]])
        # a one-element batch stays a batch
        o1 = self.post([{"command": "true"}], "form-one-batch")
        o2 = self.post([{"command": "true"}], "form-one-batch")
        self.assertEqual((o1.status, o2.status), (201, 200))
        self.assertEqual([j["id"] for j in o2.data["jobs"]],
                         [j["id"] for j in o1.data["jobs"]])
        # a different key, the same body: a new job
        r3 = self.post({"command": "true"}, "form-single-2")
        self.assertEqual(r3.status, 201)
        self.assertNotEqual(r3.data["id"], r1.data["id"])
        # no key: a new job each time
        n1, n2 = self.submit({"command": "true"}), self.submit({"command": "true"})
        self.assertNotEqual(n1["id"], n2["id"])

    def test_the_same_key_with_another_body_is_422(self):
        r = self.post({"command": "echo a"}, "mismatch")
        self.assertEqual(r.status, 201)
        before = self.server.total()
        for body in ({"command": "echo b"}, [{"command": "echo a"}],
                     {"command": "echo a", "priority": 1}):
            with self.subTest(body=body):
                self.assertError(self.post(body, "mismatch"), 422,
                                 "idempotency_mismatch")
        self.assertEqual(self.server.total(), before)
        again = self.post({"command": "echo a"}, "mismatch")
        self.assertEqual((again.status, again.data["id"]), (200, r.data["id"]))

    def test_a_refused_request_does_not_take_the_key(self):
        before = self.server.total()
        self.assertError(self.post({"command": "true", "bogus": 1}, "refused"),
                         400, "unknown_field")
        self.assertError(self.post({"command": "true", "after": [987654321]}, "refused"),
                         422, "invalid_dependency")
        self.assertEqual(self.server.total(), before)
        r = self.post({"command": "true"}, "refused")
        self.assertEqual(r.status, 201, r.raw)

    def test_bad_keys_are_refused(self):
        before = self.server.total()
        for key in ("k" * 201, "caf\u00e9"):
            with self.subTest(key=key):
                r = self.post({"command": "true"}, key)
                self.assertError(r, 400, "invalid_field", "Idempotency-Key")
        # a control character in a header is malformed HTTP, refused before
        # any handler (and the connection closed)
        for key in ("a\x7fb", "a\x01b"):
            with self.subTest(key=key):
                r = self.post({"command": "true"}, key)
                self.assertError(r, 400, "bad_request")
                self.assertEqual(r.headers.get("Connection"), "close")
        self.assertEqual(self.server.total(), before)
        r = self.post({"command": "true"}, "k" * 200)
        self.assertEqual(r.status, 201, r.raw)
        r = self.post({"command": "true"}, "!#$%&'()*+,-./:;<=>?@[]^_`{|}~")
        self.assertEqual(r.status, 201, r.raw)


# ---- backpressure -----------------------------------------------------------

class FlowBackpressureTest(FlowBase):
    WORKERS = 1
    SERVER_ARGS = BASE_ARGS + ["--max-queued", "5"]

    def assertFull(self, r):
        self.assertError(r, 429, "queue_full")
        ra = r.headers.get("Retry-After")
        self.assertIsNotNone(ra, "429 without Retry-After")
        self.assertRegex(ra, r"^[0-9]+$")
        self.assertGreaterEqual(int(ra), 1)
        self.assertLessEqual(int(ra), 60)

    def test_429_past_max_queued_and_nothing_stored(self):
        g = self.gate()
        holder = self.submit({"command": g.cmd})
        self.server.wait_running(holder["id"])	# running: does not count
        try:
            queued = self.batch([{"command": "true"}] * 2)
            kr = self.api("POST", "/api/v1/jobs", body={"command": "true"},
                          headers={"Idempotency-Key": "bp-before"})
            self.assertEqual(kr.status, 201, kr.raw)
            queued.append(kr.data)
            sched = [self.submit({"command": "true", "delay": 3600}) for _ in range(2)]
            before = self.server.total()
            self.assertFull(self.api("POST", "/api/v1/jobs", body={"command": "true"}))
            self.assertFull(self.api("POST", "/api/v1/jobs",
                                     body={"command": "true", "delay": 10}))
            self.assertFull(self.api("POST", "/api/v1/jobs",
                                     body=[{"command": "true"}] * 2))
            self.assertFull(self.api("POST", "/api/v1/jobs", body={"command": "true"},
                                     headers={"Idempotency-Key": "bp-key"}))
            self.assertEqual(self.server.total(), before, "a 429 stored nothing")
            # a repeat of a key that made its job answers it: it adds nothing
            r = self.api("POST", "/api/v1/jobs", body={"command": "true"},
                         headers={"Idempotency-Key": "bp-before"})
            self.assertEqual((r.status, r.data.get("id")), (200, kr.data["id"]), r.raw)
            # one place free: a batch of two is refused whole
            self.cancel(sched[0]["id"])
            self.assertFull(self.api("POST", "/api/v1/jobs",
                                     body=[{"command": "true"}] * 2))
            self.assertEqual(self.server.total(), before)
            js = self.stats_jobs()
            self.assertEqual((js["queued"], js["scheduled"]), (3, 1), js)
            # a job failed at once by its dependency does not wait
            f = self.submit({"command": "true", "after": [sched[0]["id"]]})
            self.assertEqual(f["state"], "failed")
            one = self.submit({"command": "true"})
            self.assertFull(self.api("POST", "/api/v1/jobs", body={"command": "true"}))
            self.cancel(sched[1]["id"])
        finally:
            g.open()
        self.wait_all([j["id"] for j in queued] + [one["id"], holder["id"]])
        # room again; the key refused with 429 was not taken
        r = self.api("POST", "/api/v1/jobs", body={"command": "true"},
                     headers={"Idempotency-Key": "bp-key"})
        self.assertEqual(r.status, 201, r.raw)
        self.wait(r.data["id"])
        ok = self.batch([{"command": "true"}] * 5)
        self.wait_all([j["id"] for j in ok])


# ---- retention --------------------------------------------------------------

class FlowRetentionTest(FlowBase):
    """Each test starts its own runnelds on one data directory: the
    retention timer runs 1 s after a start."""
    START_SERVER = False
    WORKERS = 1

    def start(self, name, data=None, extra=()):
        s = self.new_server(name, data=data, args=BASE_ARGS + list(extra))
        s.start()
        return s

    def finish(self, s, specs):
        jobs = [s.submit(spec) for spec in specs]
        out = []
        for j in jobs:
            d = s.wait(j["id"], 30)
            self.assertIn(d["state"], FINISHED, d)
            out.append(d)
        return out

    def upload(self, s, name):
        r = s.api("POST", "/api/v1/uploads?" + urllib.parse.urlencode(
            {"name": name, "command": "cat"}), raw=b"uploaded bytes\n",
            headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r.raw)
        d = s.wait(r.data["id"], 30)
        self.assertEqual(d["state"], "succeeded", d)
        return d

    def files_of(self, s, jid):
        return self.output_files(jid, s) + glob.glob(
            os.path.join(s.data, "files", "%d" % jid))

    def test_retain_finished_removes_old_jobs_and_their_files(self):
        s = self.start("age1")
        noisy = {"command": "echo out; echo err >&2"}
        old = self.finish(s, [noisy, {"command": "echo x; exit 3"}, noisy])
        old.append(self.upload(s, "old.txt"))
        old_retry = s.submit({"command": "echo a $RUNNEL_ATTEMPT; exit 1",
                              "max_attempts": 2})
        old.append(s.wait(old_retry["id"]))
        self.assertEqual(old[-1]["attempts"], 2)
        waiting = s.submit({"command": "true", "delay": 3600})
        self.patch_queue("held", {"paused": True}, server=s)
        held = s.submit({"command": "true", "queue": "held"})
        for d in old:
            self.assertTrue(self.files_of(s, d["id"]), d)
        gap = scaled(4)
        self.wait_for_time(max(epoch(d["finished_at"]) for d in old) + gap)
        new = self.finish(s, [noisy, noisy])
        new.append(self.upload(s, "new.txt"))
        self.assertEqual(s.stop(), 0)
        # old ones are >= gap old; new ones ~ a restart plus 1 s old
        retain = 1 + scaled(2)
        s2 = self.start("age2", s.data, ["--retain-finished", "%g" % retain])
        wait_until(lambda: all(self.job_gone(d["id"], s2) for d in old), 15,
                   "the old finished jobs to be deleted")
        for d in old:
            self.assertEqual(self.files_of(s2, d["id"]), [],
                             "files of deleted job %d left behind" % d["id"])
        for d in new:
            self.assertEqual(s2.job(d["id"])["state"], d["state"])
            self.assertTrue(self.files_of(s2, d["id"]), d)
        self.assertEqual(s2.output(new[0]["id"]), b"out\n")
        self.assertEqual(s2.job(waiting["id"])["state"], "scheduled")
        self.assertEqual(s2.job(held["id"])["state"], "queued")
        js = self.stats_jobs(s2)
        self.assertEqual(js["succeeded"] + js["failed"] + js["canceled"], len(new), js)
        s2.api("POST", "/api/v1/jobs/%d/cancel" % waiting["id"])
        s2.api("POST", "/api/v1/jobs/%d/cancel" % held["id"])

    def sequential(self, s, n, cmd="echo $RUNNEL_JOB_ID; sleep 0.01"):
        """n jobs finished one after the other (distinct finished_at)."""
        out = []
        for _ in range(n):
            out.append(self.finish(s, [{"command": cmd}])[0])
        for a, b in zip(out, out[1:]):
            self.assertLess(epoch(a["finished_at"]), epoch(b["finished_at"]))
        return out

    def test_retain_max_jobs_keeps_the_newest(self):
        s = self.start("max1")
        done = self.sequential(s, 6)
        waiting = s.submit({"command": "true", "delay": 3600})
        self.assertEqual(s.stop(), 0)
        s2 = self.start("max2", s.data, ["--retain-max-jobs", "3"])
        wait_until(lambda: all(self.job_gone(d["id"], s2) for d in done[:3]), 15,
                   "the 3 oldest finished jobs to be deleted")
        for d in done[:3]:
            self.assertEqual(self.files_of(s2, d["id"]), [])
        for d in done[3:]:
            self.assertEqual(s2.job(d["id"])["state"], "succeeded",
                             "one of the 3 newest was deleted")
            self.assertTrue(self.files_of(s2, d["id"]))
        self.assertEqual(s2.job(waiting["id"])["state"], "scheduled",
                         "unfinished jobs do not count and stay")
        s2.api("POST", "/api/v1/jobs/%d/cancel" % waiting["id"])

    def test_age_and_count_together_delete_only_what_is_past_them(self):
        s = self.start("both1")
        old = self.sequential(s, 3)
        gap = scaled(4)
        self.wait_for_time(epoch(old[-1]["finished_at"]) + gap)
        new = self.sequential(s, 7)
        self.assertEqual(s.stop(), 0)
        retain = 1 + scaled(2)
        s2 = self.start("both2", s.data, ["--retain-finished", "%g" % retain,
                                          "--retain-max-jobs", "5"])
        # expected: the 3 old ones by age, then the 2 oldest of the 7 new
        # ones by count: 5 remain, the newest
        wait_until(lambda: all(self.job_gone(d["id"], s2) for d in old + new[:2]), 15,
                   "old jobs and the surplus to be deleted")
        kept = [d["id"] for d in new if not self.job_gone(d["id"], s2)]
        self.assertEqual(kept, [d["id"] for d in new[2:]],
                         "--retain-finished %g --retain-max-jobs 5 should keep the "
                         "5 newest finished jobs" % retain)


# ---- resource limits --------------------------------------------------------

RLIMITS_PY = ("import resource as r; print(*[r.getrlimit(x)[0] for x in "
              "(r.RLIMIT_AS, r.RLIMIT_CPU, r.RLIMIT_NOFILE, r.RLIMIT_NPROC)])")


class FlowLimitsTest(FlowBase):
    WORKERS = 1

    def worker_pid(self):
        pids = self.server.worker_pids()
        self.assertEqual(len(pids), 1)
        return pids[0]

    def proc_limits(self, pid):
        with open("/proc/%d/limits" % pid) as f:
            return f.read()

    def test_a_job_allocating_past_memory_mb_fails_cleanly(self):
        self.idle()
        wpid = self.worker_pid()
        wlimits = self.proc_limits(wpid)
        j = self.submit({"argv": [PY, "-c", "x = bytearray(512 << 20); print('got it')"],
                         "limits": {"memory_mb": 128}})
        self.assertEqual(j["limits"], {"memory_mb": 128})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["exit_code"], d["error"]),
                         ("failed", 1, "exit status 1"), d)
        self.assertIn(b"MemoryError", self.output(j["id"], "?stream=stderr"))
        self.assertEqual(self.output(j["id"]), b"")
        # runneld and the worker are unaffected: the same worker runs on
        self.assertEqual(self.api("GET", "/healthz").status, 200)
        self.assertEqual(self.worker_pid(), wpid)
        self.assertEqual(self.proc_limits(wpid), wlimits)
        ok = self.submit({"argv": [PY, "-c", "x = bytearray(16 << 20); print(len(x))"],
                          "limits": {"memory_mb": 128}})
        d = self.wait(ok["id"], 60)
        self.assertEqual(d["state"], "succeeded", d)
        self.assertEqual(self.output(ok["id"]), b"%d\n" % (16 << 20))
        self.assertEqual(self.worker_pid(), wpid)

    def test_output_past_output_mb_is_cut(self):
        self.idle()
        wpid = self.worker_pid()
        for cmd in ("head -c %d /dev/zero" % (3 * MiB), "yes"):
            with self.subTest(cmd=cmd):
                j = self.submit({"command": cmd, "limits": {"output_mb": 1}})
                d = self.wait(j["id"], 60)
                self.assertEqual(d["state"], "failed", d)
                self.assertTrue((d["error"] or "").startswith("output limit"), d)
                self.assertEqual(d["stdout_bytes"], MiB, d)
                out = self.output(j["id"])
                self.assertEqual(len(out), MiB)
                if cmd == "yes":
                    self.assertEqual(out, (b"y\n" * (MiB // 2)))
        # exactly the limit is fine
        j = self.submit({"command": "head -c %d /dev/zero" % MiB,
                         "limits": {"output_mb": 1}})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["stdout_bytes"]), ("succeeded", MiB), d)
        self.assertEqual(self.worker_pid(), wpid)
        self.assertEqual(self.wait(self.submit({"command": "echo next"})["id"])["state"],
                         "succeeded")

    def test_cpu_seconds_ends_a_spinning_job(self):
        j = self.submit({"command": "while :; do :; done", "limits": {"cpu_seconds": 1}})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["signal"]), ("failed", 24), d)
        self.assertTrue(d["error"].startswith("killed by signal 24 (SIGXCPU"), d)
        self.assertGreater(d["cpu_ms"], 0, d)	# the kernel's count, not exact

    def test_open_files_limit_is_enforced(self):
        j = self.submit({"argv": [PY, "-c", "import os\nfor _ in range(100): "
                                  "os.open('/dev/null', os.O_RDONLY)"],
                         "limits": {"open_files": 32}})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["exit_code"]), ("failed", 1), d)
        self.assertIn(b"Too many open files", self.output(j["id"], "?stream=stderr"))

    def test_rlimits_are_set_in_the_job_only(self):
        self.idle()
        wpid = self.worker_pid()
        wlimits = self.proc_limits(wpid)
        lim = {"memory_mb": 300, "cpu_seconds": 30, "open_files": 64,
               "processes": 500, "output_mb": 5}
        j = self.submit({"argv": [PY, "-c", RLIMITS_PY], "limits": lim})
        self.assertEqual(j["limits"], lim)
        d = self.wait(j["id"], 60)
        self.assertEqual(d["state"], "succeeded", d)
        self.assertEqual(self.output(j["id"]).split(),
                         [b"%d" % (300 * MiB), b"30", b"64", b"500"])
        self.assertEqual(self.proc_limits(wpid), wlimits, "the worker is not bound")
        # a job without limits gets none of them
        k = self.submit({"argv": [PY, "-c", RLIMITS_PY]})
        self.assertIsNone(k["limits"])
        self.wait(k["id"], 60)
        self.assertNotIn(b"64", self.output(k["id"]).split())

    def test_bad_limits_are_refused(self):
        before = self.server.total()
        for lim, code, field in (
                ({"memory": 1}, "unknown_field", "limits.memory"),
                ({"memory_mb": 0}, "invalid_field", "limits.memory_mb"),
                ({"cpu_seconds": -1}, "invalid_field", "limits.cpu_seconds"),
                ({"open_files": 1.5}, "invalid_field", "limits.open_files"),
                ({"processes": "5"}, "invalid_field", "limits.processes"),
                ({"output_mb": None}, "invalid_field", "limits.output_mb"),
                ([1], "invalid_field", "limits"), ("x", "invalid_field", "limits")):
            with self.subTest(limits=lim):
                self.assertError(self.api("POST", "/api/v1/jobs",
                                          body={"command": "true", "limits": lim}),
                                 400, code, field)
        self.assertEqual(self.server.total(), before)


class FlowLimitDefaultsTest(FlowBase):
    WORKERS = 1
    SERVER_ARGS = BASE_ARGS + ["--limit-output-mb", "1", "--limit-open-files", "100"]

    def test_server_defaults_merge_into_the_job_limits(self):
        j = self.submit({"command": "head -c %d /dev/zero" % (2 * MiB)})
        self.assertEqual(j["limits"], {"output_mb": 1, "open_files": 100})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["stdout_bytes"]), ("failed", MiB), d)
        self.assertTrue(d["error"].startswith("output limit"), d)
        k = self.submit({"command": "head -c %d /dev/zero" % (2 * MiB),
                         "limits": {"output_mb": 3, "memory_mb": 500}})
        self.assertEqual(k["limits"], {"output_mb": 3, "memory_mb": 500,
                                       "open_files": 100})
        d = self.wait(k["id"], 60)
        self.assertEqual((d["state"], d["stdout_bytes"]), ("succeeded", 2 * MiB), d)
        r = self.submit({"argv": [PY, "-c", RLIMITS_PY]})
        self.wait(r["id"], 60)
        self.assertEqual(self.output(r["id"]).split()[2], b"100")
