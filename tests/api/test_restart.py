"""Flow control across a restart of runneld (kill -9 or SIGTERM) on its data:
the running job retried or failed, scheduled jobs firing at their time,
Idempotency-Keys and queue settings kept."""
import os
import shlex

from harness import (BASE_ARGS, RunnelTestCase, allowance, epoch, pid_running, scaled,
                     wait_until)


class RestartTest(RunnelTestCase):
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
