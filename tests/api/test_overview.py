"""GET /api/v1/stats for the dashboard's overview: retrying, dead,
oldest_queued_age_s, failed_per_minute, latency; the old fields kept."""
import time

from harness import BASE_ARGS, RunnelTestCase, epoch, wait_until


class OverviewTest(RunnelTestCase):
    # a failed attempt waits a minute for its retry: it stays "retrying"
    SERVER_ARGS = BASE_ARGS + ["--retry-base", "60"]

    def stats(self):
        r = self.api("GET", "/api/v1/stats")
        self.assertEqual(r.status, 200, r.raw)
        return r.data

    def test_the_shape(self):
        s = self.stats()
        for key in ("jobs", "total", "started_at", "uptime_seconds",
                    "finished_per_minute", "workers", "submitted_total",
                    "draining"):
            self.assertIn(key, s)
        self.assertIsInstance(s["retrying"], int)
        self.assertIsInstance(s["dead"], int)
        self.assertEqual(len(s["failed_per_minute"]), 60)
        self.assertEqual(len(s["finished_per_minute"]), 60)
        self.assertEqual(set(s["latency"]), {"window_s", "samples", "p50_ms", "p95_ms"})
        self.assertEqual(s["latency"]["window_s"], 300)
        self.assertIn("oldest_queued_age_s", s)

    def test_failures_are_counted_per_minute_and_dead(self):
        before = self.stats()
        self.run_job({"command": "exit 7"})
        after = self.stats()
        self.assertEqual(sum(after["failed_per_minute"]),
                         sum(before["failed_per_minute"]) + 1)
        self.assertGreaterEqual(after["failed_per_minute"][-1] +
                                after["failed_per_minute"][-2], 1)
        self.assertEqual(after["dead"], after["jobs"]["failed"])
        self.assertEqual(after["dead"], before["dead"] + 1)

    def test_retrying_counts_a_failed_attempt_waiting_for_its_back_off(self):
        before = self.stats()["retrying"]
        j = self.submit({"command": "exit 1", "max_attempts": 3})
        wait_until(lambda: self.job(j["id"])["state"] == "scheduled" and
                   self.job(j["id"])["attempts"] == 1, 10, "a failed attempt")
        self.assertEqual(self.stats()["retrying"], before + 1)
        # a job waiting for its delay is not retrying
        d = self.submit({"command": "true", "delay": 600})
        self.assertEqual(self.stats()["retrying"], before + 1)
        self.cancel(j["id"])
        self.cancel(d["id"])
        self.assertEqual(self.stats()["retrying"], before)

    def test_oldest_queued_age(self):
        self.assertIsNone(self.stats()["oldest_queued_age_s"])
        self.patch_queue("held", {"paused": True})
        self.addCleanup(lambda: self.patch_queue("held", {"paused": False}))
        j = self.submit({"command": "true", "queue": "held"})
        self.cancel_later(j["id"])
        t0 = epoch(j["created_at"])
        self.wait_for_time(t0 + 0.2)
        age = self.stats()["oldest_queued_age_s"]
        self.assertIsNotNone(age)
        self.assertGreaterEqual(age, 0.2)
        self.assertLess(age, time.time() - t0 + 1)
        self.cancel(j["id"])
        self.assertIsNone(self.stats()["oldest_queued_age_s"])


class LatencyTest(RunnelTestCase):
    def test_latency_from_queued_to_started(self):
        r = self.api("GET", "/api/v1/stats")
        self.assertEqual(r.data["latency"]["samples"], 0)
        self.assertIsNone(r.data["latency"]["p50_ms"])
        self.assertIsNone(r.data["latency"]["p95_ms"])
        self.patch_queue("slow", {"paused": True})
        j = self.submit({"command": "true", "queue": "slow"})
        self.wait_for_time(epoch(j["created_at"]) + 0.5)
        self.patch_queue("slow", {"paused": False})
        self.wait(j["id"])
        quick = [self.run_job({"command": "true"}) for _ in range(3)]
        lat = self.api("GET", "/api/v1/stats").data["latency"]
        self.assertEqual(lat["samples"], 4)
        self.assertGreaterEqual(lat["p95_ms"], 500)
        self.assertLess(lat["p50_ms"], 500)
        self.assertLessEqual(lat["p50_ms"], lat["p95_ms"])
        # a delayed job counts from its run_at, not its submission
        d = self.submit({"command": "true", "delay": 0.3})
        done = self.wait(d["id"])
        self.assertEqual(done["state"], "succeeded")
        lat = self.api("GET", "/api/v1/stats").data["latency"]
        self.assertEqual(lat["samples"], 5)
        self.assertLess(lat["p50_ms"], 300)
        self.assertTrue(quick)
