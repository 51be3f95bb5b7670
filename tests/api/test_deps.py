"""Dependencies (after): chains run in order, a failure or cancel cascades,
dead or unknown dependencies, dependencies and retries, after with delay,
and a chain of 1000."""
import os
import shlex
import sys
import time

from harness import BASE_ARGS, RunnelTestCase, allowance, epoch, scaled


class DepsTest(RunnelTestCase):
    WORKERS = 2
    SERVER_ARGS = BASE_ARGS + ["--retry-base", "0.2"]

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
