"""Idempotency-Key: parallel identical requests make one job (or one batch),
a repeat gets the same answer, another body under the same key is 422;
and --max-queued backpressure (429 with Retry-After), whose refusals store
nothing and take no key."""
import threading

from harness import BASE_ARGS, RunnelTestCase, http_request, scaled


class IdempotencyTest(RunnelTestCase):
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


class BackpressureTest(RunnelTestCase):
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
