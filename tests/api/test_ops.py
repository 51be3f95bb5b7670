"""Operating runneld: workers, queues, stats, metrics, healthz, routes."""
import re

from harness import RunnelTestCase, children_of, parse_ts, pid_running, wait_until

SAMPLE_RE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                       r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? '
                       r'(-?[0-9.]+(e[+-]?[0-9]+)?|[+-]Inf|NaN)$')
STATES = ("scheduled", "queued", "running", "succeeded", "failed", "canceled")


def metrics_samples(text):
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, value = line.rsplit(" ", 1)
        out[name] = float(value)
    return out


class OpsTest(RunnelTestCase):
    WORKERS = 3

    def test_healthz(self):
        r = self.api("GET", "/healthz")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("application/json"))
        self.assertEqual(r.data, {"status": "ok"})

    def test_workers(self):
        ws = self.server.workers_info()
        self.assertEqual(len(ws), 3)
        self.assertEqual(sorted(w["id"] for w in ws), [1, 2, 3])
        kids = children_of(self.server.pid)
        for w in ws:
            self.assertEqual(set(w), {"id", "pid", "state", "job", "started_at", "jobs_done"})
            self.assertIn(w["state"], ("idle", "busy", "starting"))
            self.assertTrue(pid_running(w["pid"]))
            self.assertIn(w["pid"], kids, "workers are runneld's children")
            parse_ts(w["started_at"])
            self.assertIsInstance(w["jobs_done"], int)
        g = self.gate()
        j = self.submit({"command": g.cmd})
        try:
            self.server.wait_running(j["id"])
            busy = [w for w in self.server.workers_info() if w["job"] == j["id"]]
            self.assertEqual(len(busy), 1)
            self.assertEqual(busy[0]["state"], "busy")
            self.assertEqual(busy[0]["id"], self.job(j["id"])["worker"])
            done_before = busy[0]["jobs_done"]
        finally:
            g.open()
        self.wait(j["id"])
        after = [w for w in self.server.workers_info() if w["id"] == busy[0]["id"]][0]
        self.assertEqual(after["jobs_done"], done_before + 1)
        self.assertIsNone(after["job"])
        wait_until(lambda: all(w["state"] == "idle" for w in self.server.workers_info()),
                   10, "all workers idle")

    def test_queues(self):
        g = self.gate()
        held = self.submit({"command": g.cmd, "queue": "ops-q"})
        try:
            self.server.wait_running(held["id"])
            qs = {q["name"]: q for q in self.api("GET", "/api/v1/queues").data["queues"]}
            self.assertIn("ops-q", qs)
            q = qs["ops-q"]
            for k in ("name", "paused", "concurrency", "queued", "running"):
                self.assertIn(k, q)
            self.assertEqual((q["paused"], q["concurrency"], q["queued"], q["running"]),
                             (False, None, 0, 1))
        finally:
            g.open()
        self.wait(held["id"])
        qs = {q["name"]: q for q in self.api("GET", "/api/v1/queues").data["queues"]}
        self.assertEqual((qs["ops-q"]["queued"], qs["ops-q"]["running"]), (0, 0))

    def test_stats(self):
        s = self.server.stats()
        for k in ("jobs", "total", "uptime_seconds", "finished_per_minute", "workers"):
            self.assertIn(k, s)
        self.assertEqual(set(s["jobs"]), set(STATES))
        self.assertEqual(sum(s["jobs"].values()), s["total"])
        self.assertGreaterEqual(s["uptime_seconds"], 0)
        self.assertEqual(len(s["finished_per_minute"]), 60)
        self.assertEqual(s["workers"]["size"], 3)
        j = self.submit({"command": "true"})
        self.wait(j["id"])
        t = self.server.stats()
        self.assertEqual(t["total"], s["total"] + 1)
        self.assertEqual(t["jobs"]["succeeded"], s["jobs"]["succeeded"] + 1)
        self.assertEqual(sum(t["finished_per_minute"]), sum(s["finished_per_minute"]) + 1)
        self.assertGreaterEqual(t["uptime_seconds"], s["uptime_seconds"])

    def test_metrics(self):
        for cmd in ("true", "exit 1"):
            self.wait(self.submit({"command": cmd})["id"])
        r = self.api("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"), r.headers)
        text = r.raw.decode()
        for line in text.splitlines():
            if line and not line.startswith("#"):
                self.assertRegex(line, SAMPLE_RE)
        m = metrics_samples(text)
        stats = self.server.stats()
        for st in STATES:
            self.assertEqual(m['runnel_jobs{state="%s"}' % st], stats["jobs"][st], st)
        self.assertGreaterEqual(m["runnel_jobs_submitted_total"], 2)
        self.assertIn("# TYPE runnel_jobs gauge", text)
        self.assertTrue(any(k.startswith("runnel_job_duration_seconds_bucket") for k in m))
        self.assertTrue(any(k.startswith("runnel_http_requests_total") for k in m))
        self.assertIn("runnel_worker_restarts_total", m)

    def test_unknown_routes_are_404(self):
        for path in ("/api/v1/nope", "/api/v2/jobs", "/nope", "/api/v1/jobs/1/nope",
                     "/api/v1/jobs/", "/api/v1//jobs", "/api/v1/jobs/1/output/x",
                     "/api/v1/queues/default/x", "/healthz/x"):
            with self.subTest(path=path):
                self.assertError(self.api("GET", path), 404, "not_found")

    def test_wrong_method_is_405_with_allow(self):
        cases = [("PUT", "/api/v1/jobs", {"GET", "POST"}),
                 ("DELETE", "/api/v1/jobs", {"GET", "POST"}),
                 ("POST", "/api/v1/workers", {"GET"}),
                 ("POST", "/healthz", {"GET"}),
                 ("DELETE", "/metrics", {"GET"}),
                 ("GET", "/api/v1/jobs/1/cancel", {"POST"}),
                 ("GET", "/api/v1/jobs/1/retry", {"POST"}),
                 ("PATCH", "/api/v1/jobs/1", {"GET", "DELETE"}),
                 ("POST", "/api/v1/jobs/1", {"GET", "DELETE"}),
                 ("POST", "/api/v1/events", {"GET"})]
        before = self.server.total()
        for method, path, allow in cases:
            with self.subTest(method=method, path=path):
                r = self.api(method, path)
                self.assertEqual(r.status, 405, r.raw)
                self.assertIn("Allow", r.headers)
                got = {m.strip() for m in r.headers["Allow"].split(",")}
                self.assertTrue(allow <= got, "Allow: %s" % r.headers["Allow"])
                self.assertNotIn(method, got)
                self.assertIsInstance(r.data.get("error"), dict)
        self.assertEqual(self.server.total(), before)
