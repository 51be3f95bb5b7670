"""Submitting jobs (one and in batches), reading them back, ?wait=."""
import threading
import time

from harness import RunnelTestCase, parse_ts, scaled


class SubmitTest(RunnelTestCase):
    WORKERS = 2

    def test_single_submit_answers_201_with_location_and_the_job(self):
        r = self.api("POST", "/api/v1/jobs", body={"command": "echo hi", "name": "greet"})
        self.assertEqual(r.status, 201, r.raw)
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        j = r.data
        self.assertJobShape(j)
        self.assertEqual(r.headers["Location"], "/api/v1/jobs/%d" % j["id"])
        self.assertGreater(j["id"], 0)
        self.assertEqual(j["type"], "command")
        self.assertEqual(j["name"], "greet")
        self.assertEqual(j["queue"], "default")
        self.assertEqual(j["priority"], 0)
        self.assertIn(j["state"], ("queued", "running"))
        self.assertEqual(j["command"], "echo hi")
        self.assertIsNone(j["argv"])
        self.assertEqual(j["env"], {})
        self.assertIsNone(j["cwd"])
        self.assertIsNone(j["timeout"])
        self.assertIsNone(j["limits"])
        self.assertEqual(j["max_attempts"], 1)
        self.assertIsNone(j["run_at"])
        self.assertIsNone(j["finished_at"])
        self.assertIsNone(j["exit_code"])
        self.assertIsNone(j["error"])
        self.assertIsNone(j["file"])

        got = self.api("GET", r.headers["Location"])
        self.assertEqual(got.status, 200)
        self.assertEqual(got.data["id"], j["id"])
        self.assertEqual(got.data["created_at"], j["created_at"])

        done = self.wait(j["id"])
        self.assertJobShape(done)
        self.assertEqual(done["state"], "succeeded")
        self.assertEqual(done["exit_code"], 0)
        self.assertIsNone(done["signal"])
        self.assertIsNone(done["error"])
        self.assertEqual(done["attempts"], 1)
        self.assertIsNone(done["pid"], "pid is only shown while running")
        self.assertEqual(done["stdout_bytes"], 3)
        self.assertEqual(done["stderr_bytes"], 0)
        self.assertIsInstance(done["cpu_ms"], int)
        self.assertIsInstance(done["max_rss_kb"], int)
        self.assertIsNone(done["worker"], "worker is only shown while running")
        created, started, finished = (parse_ts(done[k]) for k in
                                      ("created_at", "started_at", "finished_at"))
        self.assertLessEqual(created, started)
        self.assertLessEqual(started, finished)
        self.assertEqual(self.output(j["id"]), b"hi\n")

    def test_submit_without_content_type_is_accepted(self):
        r = self.api("POST", "/api/v1/jobs", raw=b'{"command": "true"}')
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(self.wait(r.data["id"])["state"], "succeeded")

    def test_content_type_with_parameters_is_accepted(self):
        for ctype in ("application/json; charset=utf-8", "Application/JSON"):
            r = self.api("POST", "/api/v1/jobs", raw=b'{"command": "true"}',
                         headers={"Content-Type": ctype})
            self.assertEqual(r.status, 201, "%s: %r" % (ctype, r.raw))

    def test_every_spec_field_is_kept(self):
        spec = {"command": "cat", "name": "all fields", "queue": "media.q-1_x",
                "priority": -5, "timeout": 2.5, "env": {"A": "1", "b_2": "x y"},
                "cwd": self.tmp, "stdin": "in\n", "max_attempts": 1}
        j = self.submit(spec)
        for k, v in spec.items():
            if k != "stdin":
                self.assertEqual(j[k], v, k)
        got = self.job(j["id"])
        for k, v in spec.items():
            if k != "stdin":
                self.assertEqual(got[k], v, k)
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        self.assertEqual(self.output(j["id"]), b"in\n")

    def test_argv_form_runs_without_a_shell(self):
        j = self.submit({"argv": ["printf", "%s|", "a b", "c", "$HOME", "*"]})
        self.assertIsNone(j["command"])
        self.assertEqual(j["argv"], ["printf", "%s|", "a b", "c", "$HOME", "*"])
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        self.assertEqual(self.output(j["id"]), b"a b|c|$HOME|*|")

    def test_priority_bounds_are_accepted(self):
        for p in (-1000000, 1000000):
            j = self.submit({"command": "true", "priority": p})
            self.assertEqual(j["priority"], p)
            self.wait(j["id"])

    def test_longest_command_is_accepted(self):
        cmd = "true #" + "a" * (131071 - 6)
        self.assertEqual(len(cmd), 131071)
        j = self.submit({"command": cmd})
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        self.assertEqual(self.job(j["id"])["command"], cmd)

    def test_unicode_survives(self):
        j = self.submit({"command": "printf '%s' 'h\u00e9llo \u2603 \U0001F600'",
                         "name": "\u00e9t\u00e9"})
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        self.assertEqual(self.job(j["id"])["name"], "\u00e9t\u00e9")
        self.assertEqual(self.output(j["id"]), "h\u00e9llo \u2603 \U0001F600".encode())

    def test_batch_of_1000_all_succeed_with_distinct_ids_in_order(self):
        specs = [{"command": "echo $RUNNEL_JOB_ID", "name": "b%d" % i} for i in range(1000)]
        r = self.api("POST", "/api/v1/jobs", body=specs)
        self.assertEqual(r.status, 201, r.raw[:300])
        jobs = r.data["jobs"]
        self.assertEqual(len(jobs), 1000)
        self.assertEqual([j["name"] for j in jobs], ["b%d" % i for i in range(1000)])
        ids = [j["id"] for j in jobs]
        self.assertEqual(len(set(ids)), 1000)
        self.assertEqual(ids, sorted(ids), "ids follow the order of the specs")
        for jid in ids:
            done = self.wait(jid, 60)
            self.assertEqual(done["state"], "succeeded", done)
        # each ran as itself
        for jid in ids[::97]:
            self.assertEqual(self.output(jid), b"%d\n" % jid)

    def test_batch_of_one_answers_a_list(self):
        r = self.api("POST", "/api/v1/jobs", body=[{"command": "true"}])
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(list(r.data), ["jobs"])
        self.assertEqual(len(r.data["jobs"]), 1)
        self.wait(r.data["jobs"][0]["id"])

    def test_batch_is_all_or_nothing(self):
        before = self.server.total()
        specs = [{"command": "true"}, {"command": "true"}, {"command": "true"},
                 {"command": "true", "priority": "high"}, {"command": "true"}]
        r = self.api("POST", "/api/v1/jobs", body=specs)
        self.assertError(r, 400, "invalid_field", "[3].priority")
        specs[3] = {"command": "true", "bogus": 1}
        r = self.api("POST", "/api/v1/jobs", body=specs)
        self.assertError(r, 400, "unknown_field", "[3].bogus")
        self.assertEqual(self.server.total(), before)

    def test_batch_item_that_is_not_an_object_is_named(self):
        before = self.server.total()
        r = self.api("POST", "/api/v1/jobs", body=[{"command": "true"}, 5])
        self.assertError(r, 400, "invalid_field", "[1]")
        self.assertEqual(self.server.total(), before)

    def test_batch_over_10000_is_413(self):
        before = self.server.total()
        r = self.api("POST", "/api/v1/jobs", body=[{"command": "true"}] * 10001)
        self.assertError(r, 413, "too_large")
        self.assertEqual(self.server.total(), before)

    def test_empty_batch_is_400(self):
        before = self.server.total()
        r = self.api("POST", "/api/v1/jobs", body=[])
        self.assertEqual(r.status, 400, r.raw)
        self.assertError(r, 400, r.data["error"]["code"])
        self.assertEqual(self.server.total(), before)

    def test_concurrent_submissions_are_all_acknowledged(self):
        results = [[] for _ in range(16)]

        def client(n):
            for i in range(25):
                r = self.api("POST", "/api/v1/jobs",
                             body={"command": "true", "name": "c%d-%d" % (n, i)})
                results[n].append(r)
        threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(60))
        answers = [r for rs in results for r in rs]
        self.assertEqual(len(answers), 400)
        self.assertEqual({r.status for r in answers}, {201})
        ids = [r.data["id"] for r in answers]
        self.assertEqual(len(set(ids)), 400)
        for rs in results:	# one client's jobs in its order
            mine = [r.data["id"] for r in rs]
            self.assertEqual(mine, sorted(mine))
        for jid in ids:
            self.assertEqual(self.wait(jid)["state"], "succeeded")

    def test_get_unknown_job_is_404(self):
        r = self.api("GET", "/api/v1/jobs/987654321")
        self.assertError(r, 404, "not_found")


class WaitTest(RunnelTestCase):
    WORKERS = 2

    def test_wait_holds_until_the_job_finishes(self):
        g = self.gate()
        j = self.submit({"command": g.cmd + "; echo done"})
        self.server.wait_running(j["id"])
        answer = {}

        def long_poll():
            t0 = time.monotonic()
            answer["r"] = self.api("GET", "/api/v1/jobs/%d?wait=60" % j["id"],
                                   timeout=90)
            answer["t"] = time.monotonic() - t0
        t = threading.Thread(target=long_poll)
        t.start()
        try:
            g.open()
        finally:
            t.join(scaled(90))
        r = answer["r"]
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.data["state"], "succeeded")
        self.assertLess(answer["t"], scaled(30))

    def test_wait_times_out_with_the_job_as_it_is(self):
        g = self.gate()
        j = self.submit({"command": g.cmd})
        try:
            self.server.wait_running(j["id"])
            t0 = time.monotonic()
            r = self.api("GET", "/api/v1/jobs/%d?wait=0.5" % j["id"])
            took = time.monotonic() - t0
            self.assertEqual(r.status, 200, r.raw)
            self.assertEqual(r.data["state"], "running")
            self.assertGreaterEqual(took, 0.45)
            t0 = time.monotonic()
            r = self.api("GET", "/api/v1/jobs/%d?wait=0" % j["id"])
            self.assertEqual(r.data["state"], "running")
            self.assertLess(time.monotonic() - t0, scaled(5))
        finally:
            g.open()
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")

    def test_many_waiters_on_one_job_are_all_answered(self):
        g = self.gate()
        j = self.submit({"command": g.cmd})
        self.server.wait_running(j["id"])
        answers = []

        def long_poll():
            answers.append(self.api("GET", "/api/v1/jobs/%d?wait=60" % j["id"],
                                    timeout=90))
        threads = [threading.Thread(target=long_poll) for _ in range(100)]
        try:
            for t in threads:
                t.start()
        finally:
            g.open()
            for t in threads:
                t.join(scaled(90))
        self.assertEqual(len(answers), 100)
        for r in answers:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.data["state"], "succeeded")

    def test_wait_on_a_finished_job_answers_at_once(self):
        j = self.submit({"command": "true"})
        self.wait(j["id"])
        t0 = time.monotonic()
        r = self.api("GET", "/api/v1/jobs/%d?wait=300" % j["id"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.data["state"], "succeeded")
        self.assertLess(time.monotonic() - t0, scaled(5))

    def test_bad_wait_values_are_400(self):
        j = self.submit({"command": "true"})
        self.wait(j["id"])
        for v in ("abc", "-1", "300.5", "301", "nan", "inf", "", "1s", "1e9"):
            with self.subTest(wait=v):
                r = self.api("GET", "/api/v1/jobs/%d?wait=%s" % (j["id"], v))
                self.assertError(r, 400, "invalid_field", "wait")

    def test_wait_on_an_unknown_job_is_404(self):
        r = self.api("GET", "/api/v1/jobs/987654321?wait=1")
        self.assertError(r, 404, "not_found")
