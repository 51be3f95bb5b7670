"""Queue control (PATCH /api/v1/queues/NAME): pause and resume, concurrency
limits as a semaphore, and other queues served in priority order while
one is blocked."""
import os
import shlex
import threading

from harness import RunnelTestCase, epoch, http_request, scaled, wait_until


class QueueControlTest(RunnelTestCase):
    WORKERS = 3

    def test_patch_answers_the_queue_and_refuses_bad_input(self):
        r = self.patch_queue("pq", {"paused": True})
        self.assertEqual(r, {"name": "pq", "paused": True, "concurrency": None,
                             "scheduled": 0, "queued": 0, "running": 0,
                             "webhooks": None})
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
