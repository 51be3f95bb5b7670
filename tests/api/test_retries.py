"""Automatic retries (max_attempts) with exponential back-off and jitter:
the back-off bounds, the cap of an hour, each attempt's output, no retry
of a canceled job, a retry after the worker is killed.

The back-off is checked against the job's timestamps as the event stream
shows them and against `date +%s.%N` lines each attempt appends to a file.
"""
import os
import shlex
import signal
import time

from harness import (BASE_ARGS, FINISHED, RunnelTestCase, allowance, epoch, pid_running,
                     scaled, wait_until)


def read_floats(path):
    with open(path) as f:
        return [float(x) for x in f.read().split()]


class RetryTest(RunnelTestCase):
    WORKERS = 2
    BASE = 0.2
    SERVER_ARGS = BASE_ARGS + ["--retry-base", "%g" % BASE]

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
