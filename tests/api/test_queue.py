"""One busy worker: priority order, cancel of queued jobs, retry, delete."""
import os

from harness import RunnelTestCase, parse_ts


class OneWorkerTest(RunnelTestCase):
    WORKERS = 1

    def hold(self):
        """Blocks the only worker with a gate job; returns (gate, job)."""
        g = self.gate()
        j = self.submit({"command": g.cmd, "priority": -1000000})
        self.server.wait_running(j["id"])
        return g, j

    def test_smaller_priority_runs_first_and_ties_in_id_order(self):
        order = os.path.join(self.tmp, "order")
        cmd = "echo $RUNNEL_JOB_ID >> %s" % order
        g, held = self.hold()
        prio = {}
        try:
            for p in (5, 0, -3, 5, 0, -3, 1000000, -1000000, 0, 7):
                j = self.submit({"command": cmd, "priority": p})
                prio[j["id"]] = p
                self.assertEqual(j["state"], "queued")
            r = self.api("POST", "/api/v1/jobs", body=[
                {"command": cmd, "priority": p} for p in (2, -3, 5, 0)])
            self.assertEqual(r.status, 201, r.raw)
            for j in r.data["jobs"]:
                prio[j["id"]] = j["priority"]
            # nothing ran yet: the worker is held
            self.assertFalse(os.path.exists(order))
        finally:
            g.open()
        done = {jid: self.wait(jid) for jid in prio}
        for j in done.values():
            self.assertEqual(j["state"], "succeeded", j)
        with open(order) as f:
            ran = [int(line) for line in f.read().split()]
        want = sorted(prio, key=lambda i: (prio[i], i))
        self.assertEqual(ran, want, "run order (priority, then id)")
        starts = [parse_ts(done[i]["started_at"]) for i in want]
        self.assertEqual(starts, sorted(starts), "started_at follows the order")
        for a, b in zip(want, want[1:]):
            self.assertLessEqual(parse_ts(done[a]["finished_at"]),
                                 parse_ts(done[b]["started_at"]))

    def test_cancel_of_a_queued_job_is_immediate_and_it_never_runs(self):
        marker = os.path.join(self.tmp, "canceled-ran")
        g, held = self.hold()
        try:
            j = self.submit({"command": "touch %s" % marker})
            self.assertEqual(j["state"], "queued")
            r = self.cancel(j["id"])
            self.assertEqual(r.status, 200, r.raw)
            self.assertEqual(r.data["id"], j["id"])
            self.assertEqual(r.data["state"], "canceled")
            self.assertEqual(r.data["error"], "canceled")
            self.assertIsNone(r.data["started_at"])
            self.assertIsNotNone(r.data["finished_at"])
            self.assertEqual(r.data["attempts"], 0)
            self.assertEqual(self.job(j["id"])["state"], "canceled")
            # cancel again, retry of the holder, delete of the holder: wrong states
            self.assertError(self.cancel(j["id"]), 409, "conflict")
            self.assertError(self.api("POST", "/api/v1/jobs/%d/retry" % held["id"]),
                             409, "conflict")
            self.assertError(self.api("DELETE", "/api/v1/jobs/%d" % held["id"]),
                             409, "conflict")
            q = self.submit({"command": "true"})
            self.assertError(self.api("POST", "/api/v1/jobs/%d/retry" % q["id"]),
                             409, "conflict")
            self.assertError(self.api("DELETE", "/api/v1/jobs/%d" % q["id"]),
                             409, "conflict")
        finally:
            g.open()
        self.wait(held["id"])
        self.assertEqual(self.wait(q["id"])["state"], "succeeded")
        self.assertFalse(os.path.exists(marker), "a canceled job ran")
        self.assertEqual(self.job(j["id"])["state"], "canceled")

    def test_cancel_of_a_finished_job_is_409(self):
        for cmd, state in (("true", "succeeded"), ("exit 2", "failed")):
            j = self.submit({"command": cmd})
            self.assertEqual(self.wait(j["id"])["state"], state)
            self.assertError(self.cancel(j["id"]), 409, "conflict")
            self.assertEqual(self.job(j["id"])["state"], state)

    def test_retry_queues_a_failed_job_again_and_counts_attempts(self):
        j = self.submit({"command": "echo attempt $RUNNEL_ATTEMPT; exit 3"})
        done = self.wait(j["id"])
        self.assertEqual((done["state"], done["attempts"], done["error"]),
                         ("failed", 1, "exit status 3"))
        self.assertEqual(self.output(j["id"]), b"attempt 1\n")
        r = self.api("POST", "/api/v1/jobs/%d/retry" % j["id"])
        self.assertEqual(r.status, 200, r.raw)
        self.assertIn(r.data["state"], ("queued", "running"))
        again = self.wait(j["id"])
        self.assertEqual((again["state"], again["attempts"], again["exit_code"]),
                         ("failed", 2, 3))
        self.assertEqual(self.output(j["id"]), b"attempt 2\n")
        # retry of a succeeded job is refused
        ok = self.submit({"command": "true"})
        self.wait(ok["id"])
        self.assertError(self.api("POST", "/api/v1/jobs/%d/retry" % ok["id"]),
                         409, "conflict")
        # both attempts' output goes with a delete
        self.assertTrue(self.output_files(j["id"]))
        r = self.api("DELETE", "/api/v1/jobs/%d" % j["id"])
        self.assertEqual(r.status, 204)
        self.assertEqual(self.output_files(j["id"]), [])

    def test_retry_of_a_canceled_job_runs_it(self):
        g, held = self.hold()
        try:
            j = self.submit({"command": "echo ran"})
            self.assertEqual(self.cancel(j["id"]).data["state"], "canceled")
        finally:
            g.open()
        r = self.api("POST", "/api/v1/jobs/%d/retry" % j["id"])
        self.assertEqual(r.status, 200, r.raw)
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "succeeded")
        self.assertEqual(done["error"], None)
        self.assertEqual(done["attempts"], 1)
        self.assertEqual(self.output(j["id"]), b"ran\n")

    def test_delete_removes_the_job_and_its_output(self):
        j = self.submit({"command": "echo out; echo err >&2"})
        self.wait(j["id"])
        self.assertEqual(len(self.output_files(j["id"])), 2)
        before = self.server.total()
        r = self.api("DELETE", "/api/v1/jobs/%d" % j["id"])
        self.assertEqual(r.status, 204)
        self.assertEqual(r.raw, b"")
        self.assertEqual(self.output_files(j["id"]), [])
        self.assertEqual(self.server.total(), before - 1)
        path = "/api/v1/jobs/%d" % j["id"]
        self.assertError(self.api("GET", path), 404, "not_found")
        self.assertError(self.api("GET", path + "/output"), 404, "not_found")
        self.assertError(self.api("DELETE", path), 404, "not_found")
        self.assertError(self.api("POST", path + "/cancel"), 404, "not_found")
        self.assertError(self.api("POST", path + "/retry"), 404, "not_found")
        ids = [x["id"] for x in self.api("GET", "/api/v1/jobs?limit=1000").data["jobs"]]
        self.assertNotIn(j["id"], ids)
        # ids are never reused
        k = self.submit({"command": "true"})
        self.assertGreater(k["id"], j["id"])
        self.wait(k["id"])

    def test_delete_of_a_running_job_is_409(self):
        g, held = self.hold()
        try:
            self.assertError(self.api("DELETE", "/api/v1/jobs/%d" % held["id"]),
                             409, "conflict")
            self.assertEqual(self.job(held["id"])["state"], "running")
        finally:
            g.open()
        self.wait(held["id"])

    def test_follow_of_a_queued_job_waits_for_its_output(self):
        g, held = self.hold()
        try:
            j = self.submit({"command": "printf 'from a queued job'"})
            s = self.server.stream("/api/v1/jobs/%d/output?follow=1" % j["id"])
            self.assertEqual(s.status, 200)
            self.assertEqual(self.job(j["id"])["state"], "queued")
        finally:
            g.open()
        try:
            self.assertEqual(s.read_all(30), b"from a queued job")
        finally:
            s.close()
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
