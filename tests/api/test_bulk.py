"""POST /api/v1/jobs/bulk: cancel, retry, delete by ids or by filter;
per-job results in order; dry_run; a refused job leaves the others done;
the 10 000 cap; events; the body's errors.  And the manual retry's
max_attempts (no "attempts 2 of 1")."""
import os
import shlex
import time

from harness import RunnelTestCase, wait_until

BULK = "/api/v1/jobs/bulk"


class BulkTest(RunnelTestCase):
    def bulk(self, body, expect=200, timeout=None):
        r = self.api("POST", BULK, body=body, timeout=timeout)
        self.assertEqual(r.status, expect, r.raw[:500])
        if expect == 200:
            self.assertEqual(set(r.data) - {"done", "actionable"},
                             {"action", "matched", "more", "results"}, r.data)
        return r.data

    def held(self, queue, n, **spec):
        """n jobs queued in a paused queue."""
        self.patch_queue(queue, {"paused": True})
        self.addCleanup(lambda: self.patch_queue(queue, {"paused": False}))
        specs = [dict({"command": "true", "queue": queue}, **spec) for _ in range(n)]
        r = self.api("POST", "/api/v1/jobs", body=specs)
        self.assertEqual(r.status, 201, r.raw[:300])
        return [j["id"] for j in r.data["jobs"]]

    def test_cancel_by_ids_in_order_a_refused_one_leaves_the_others_done(self):
        a, b = self.held("bq1", 2)
        finished = self.run_job({"command": "true"})["id"]
        missing = 987654321
        d = self.bulk({"action": "cancel", "ids": [b, finished, missing, a]})
        self.assertEqual(d["action"], "cancel")
        self.assertEqual(d["matched"], 3)
        self.assertEqual(d["done"], 2)
        self.assertFalse(d["more"])
        res = d["results"]
        self.assertEqual([x["id"] for x in res], [b, finished, missing, a])
        self.assertEqual(res[0], {"id": b, "ok": True, "state": "canceled"})
        self.assertEqual(res[3], {"id": a, "ok": True, "state": "canceled"})
        self.assertFalse(res[1]["ok"])
        self.assertEqual(res[1]["error"]["code"], "conflict")
        self.assertTrue(res[1]["error"]["message"])
        self.assertEqual(res[2]["error"]["code"], "not_found")
        self.assertEqual(self.job(a)["state"], "canceled")
        self.assertEqual(self.job(finished)["state"], "succeeded")

    def test_retry_by_filter_with_events(self):
        ids = [self.run_job({"command": "exit 1", "name": "bulk-retry-%d" % i})["id"]
               for i in range(3)]
        ok = self.run_job({"command": "true", "name": "bulk-retry-ok"})["id"]
        ev = self.open_events()
        d = self.bulk({"action": "retry",
                       "filter": {"q": "bulk-retry", "state": ["failed"]}})
        self.assertEqual(d["matched"], 3)
        self.assertEqual(d["done"], 3)
        self.assertEqual([x["id"] for x in d["results"]], sorted(ids, reverse=True))
        for x in d["results"]:
            self.assertTrue(x["ok"], x)
            self.assertIn(x["state"], ("queued", "running", "failed"))
        # each retried job is reported on the stream until it fails again
        ended = set()
        while ended != set(ids):
            e = ev.next_job_event(lambda e: e["event"] == "job" and
                                  e["json"]["id"] in ids, 30)
            if e["json"]["state"] == "failed":
                ended.add(e["json"]["id"])
        for jid in ids:
            j = self.wait(jid)
            self.assertEqual(j["attempts"], 2)
            self.assertEqual(j["max_attempts"], 2)
        self.assertEqual(self.job(ok)["attempts"], 1)

    def test_dry_run_counts_and_changes_nothing(self):
        ids = self.held("bq2", 4)
        d = self.bulk({"action": "cancel", "filter": {"queue": "bq2"},
                       "dry_run": True})
        self.assertEqual(d, {"action": "cancel", "matched": 4, "actionable": 4,
                             "more": False, "results": []})
        # queued jobs cannot be deleted: matched, but not actionable
        d = self.bulk({"action": "delete", "ids": ids + [987654321], "dry_run": True})
        self.assertEqual((d["matched"], d["actionable"]), (4, 0))
        self.assertNotIn("done", d)
        for jid in ids:
            self.assertEqual(self.job(jid)["state"], "queued")

    def test_dry_run_says_how_many_the_action_fits(self):
        failed = [self.run_job({"command": "exit 3", "name": "bulk-fit"})["id"]
                  for _ in range(2)]
        ok = self.run_job({"command": "true", "name": "bulk-fit"})["id"]
        held = self.held("bq-fit", 1, name="bulk-fit")
        every = failed + [ok] + held
        cases = [("retry", 2), ("delete", 3), ("cancel", 1)]
        for action, n in cases:
            d = self.bulk({"action": action, "filter": {"name": "bulk-fit"},
                           "dry_run": True})
            self.assertEqual((d["matched"], d["actionable"], d["results"]),
                             (4, n, []), action)
            d = self.bulk({"action": action, "ids": every + [987654321],
                           "dry_run": True})
            self.assertEqual((d["matched"], d["actionable"]), (4, n), action)
        # what the dry run said is what the action then does
        d = self.bulk({"action": "retry", "ids": every})
        self.assertEqual(d["done"], 2)
        self.assertEqual([x["ok"] for x in d["results"]], [True, True, False, False])

    def test_delete_by_filter(self):
        keep = self.run_job({"command": "echo kept; exit 2", "name": "bulk-del"})["id"]
        gone = [self.run_job({"command": "echo out; echo err >&2", "name": "bulk-del"})["id"]
                for _ in range(2)]
        had = [f for jid in gone for f in self.output_files(jid)]
        d = self.bulk({"action": "delete", "filter": {"name": "bulk-del",
                                                     "exit_code": 0}})
        self.assertEqual(d["done"], 2)
        self.assertEqual(d["results"], [{"id": i, "ok": True}
                                        for i in sorted(gone, reverse=True)])
        for jid in gone:
            self.assertEqual(self.api("GET", "/api/v1/jobs/%d" % jid).status, 404)
        self.assertEqual(self.job(keep)["state"], "failed")
        self.assertEqual(self.output(keep), b"kept\n")
        # their output goes right after the answer, off the loop
        wait_until(lambda: not any(os.path.exists(f) for f in had), 10,
                   "the deleted jobs' output files to be removed")
        if had:
            self.assertTrue(self.output_files(keep))

    def test_cancel_of_a_running_job_does_not_wait_for_its_end(self):
        # The job ignores SIGTERM: it ends at the SIGKILL a kill grace
        # (1 s) later, which the bulk answer does not wait for.
        mark = os.path.join(self.tmp, "trapped-%d" % time.monotonic_ns())
        j = self.submit({"command": "trap '' TERM; touch %s; sleep 30" %
                         shlex.quote(mark)})
        self.cancel_later(j["id"])
        wait_until(lambda: os.path.exists(mark), 15, "the job to ignore SIGTERM")
        t0 = time.monotonic()
        d = self.bulk({"action": "cancel", "ids": [j["id"]]})
        self.assertLess(time.monotonic() - t0, 0.9)
        self.assertEqual(d["results"], [{"id": j["id"], "ok": True,
                                         "state": "running"}])
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "canceled")

    def test_more_than_ten_thousand(self):
        ids = self.held("bq3", 10000)
        ids += self.held("bq3", 1)
        d = self.bulk({"action": "cancel", "filter": {"queue": "bq3"},
                       "dry_run": True})
        self.assertEqual((d["matched"], d["more"]), (10001, True))
        # 10 000 cancels: seconds on a slow machine's PostgreSQL
        d = self.bulk({"action": "cancel", "filter": {"queue": "bq3",
                                                     "state": "queued"}},
                      timeout=60)
        self.assertEqual((d["matched"], d["done"], d["more"]), (10001, 10000, True))
        self.assertEqual(d["results"][0]["id"], ids[-1])
        self.assertEqual(len(d["results"]), 10000)
        d = self.bulk({"action": "cancel", "filter": {"queue": "bq3",
                                                     "state": "queued"}})
        self.assertEqual((d["matched"], d["done"], d["more"]), (1, 1, False))
        self.assertEqual(d["results"], [{"id": ids[0], "ok": True,
                                         "state": "canceled"}])

    def test_body_errors(self):
        cases = [
            ({"action": "cancel", "ids": [1], "colour": 1}, "unknown_field", "colour"),
            ({"action": "cancel", "filter": {"colour": "x"}}, "unknown_field",
             "filter.colour"),
            ({"action": "explode", "ids": [1]}, "invalid_field", "action"),
            ({"ids": [1]}, "invalid_field", "action"),
            ({"action": "cancel"}, "invalid_field", "ids"),
            ({"action": "cancel", "ids": [1], "filter": {}}, "invalid_field", "filter"),
            ({"action": "cancel", "ids": []}, "invalid_field", "ids"),
            ({"action": "cancel", "ids": [0]}, "invalid_field", "ids"),
            ({"action": "cancel", "ids": ["1"]}, "invalid_field", "ids"),
            ({"action": "cancel", "ids": [3, 3]}, "invalid_field", "ids"),
            ({"action": "cancel", "ids": list(range(1, 10002))}, "invalid_field", "ids"),
            ({"action": "cancel", "ids": [1], "dry_run": 1}, "invalid_field", "dry_run"),
            ({"action": "cancel", "filter": {"exit_code": 300}}, "invalid_field",
             "filter.exit_code"),
            ({"action": "cancel", "filter": {"created_after": "soon"}},
             "invalid_field", "filter.created_after"),
            ({"action": "cancel", "filter": {"state": "done"}}, "invalid_field",
             "filter.state"),
            ({"action": "cancel", "filter": {"state": 3}}, "invalid_field",
             "filter.state"),
            ({"action": "cancel", "filter": {"q": "x" * 201}}, "invalid_field",
             "filter.q"),
            ({"action": "cancel", "filter": {"q": "x" * 5000}}, "invalid_field",
             "filter.q"),
        ]
        for body, code, field in cases:
            with self.subTest(body=str(body)[:80]):
                r = self.api("POST", BULK, body=body)
                self.assertError(r, 400, code, field)
                self.assertNotIn("wrong type", r.data["error"]["message"]
                                 if "filter.q" == field else "")
        r = self.api("POST", BULK, raw=b"[1", headers={"Content-Type":
                                                       "application/json"})
        self.assertError(r, 400, "invalid_json")

    def test_cross_site_is_refused(self):
        (jid,) = self.held("bq4", 1)
        r = self.api("POST", BULK, body={"action": "cancel", "ids": [jid]},
                     headers={"Origin": "http://evil.example"})
        self.assertError(r, 403, "cross_origin")
        self.assertEqual(self.job(jid)["state"], "queued")


class RetryAttemptsTest(RunnelTestCase):
    def test_a_manual_retry_raises_max_attempts(self):
        j = self.run_job({"command": "exit 1"})
        self.assertEqual((j["attempts"], j["max_attempts"]), (1, 1))
        r = self.api("POST", "/api/v1/jobs/%d/retry" % j["id"])
        self.assertEqual(r.status, 200, r.raw)
        self.assertGreaterEqual(r.data["max_attempts"], 2)
        done = self.wait(j["id"])
        self.assertEqual((done["attempts"], done["max_attempts"]), (2, 2))
        self.assertEqual(done["state"], "failed")

    def test_automatic_retries_then_a_manual_one(self):
        j = self.submit({"command": "exit 1", "max_attempts": 2})
        wait_until(lambda: self.job(j["id"])["state"] == "failed", 30,
                   "two attempts to fail")
        self.assertEqual(self.job(j["id"])["attempts"], 2)
        r = self.api("POST", "/api/v1/jobs/%d/retry" % j["id"])
        self.assertEqual(r.data["max_attempts"], 3)
        done = self.wait(j["id"])
        self.assertEqual((done["attempts"], done["max_attempts"]), (3, 3))

    def test_a_retry_with_attempts_left_keeps_max_attempts(self):
        j = self.submit({"command": "true", "max_attempts": 5, "delay": 60})
        self.cancel(j["id"])
        r = self.api("POST", "/api/v1/jobs/%d/retry" % j["id"])
        self.assertEqual(r.data["max_attempts"], 5)
