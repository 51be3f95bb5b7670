"""Crashes and shutdown: a worker killed mid-job, runneld killed with -9 and
restarted on the same data directory, SIGTERM draining."""
import os
import signal
import time

from harness import RunnelTestCase, pid_running, wait_until


class WorkerKillTest(RunnelTestCase):
    WORKERS = 2

    def kill_worker_of(self, jid):
        job = self.server.wait_running(jid)
        self.track_pid(job["pid"])
        slot = [w for w in self.server.workers_info() if w["job"] == jid]
        self.assertEqual(len(slot), 1)
        os.kill(slot[0]["pid"], signal.SIGKILL)
        return job, slot[0]

    def test_worker_killed_mid_job_fails_it_and_is_replaced(self):
        j = self.submit({"command": "sleep 1000"})
        job, w = self.kill_worker_of(j["id"])
        done = self.wait(j["id"], 30)
        self.assertEqual(done["state"], "failed")
        self.assertEqual(done["error"], "worker lost")
        self.assertIsNone(done["pid"])
        wait_until(lambda: not pid_running(w["pid"]), 10, "the killed worker to be gone")

        def replaced():
            now = [x for x in self.server.workers_info() if x["id"] == w["id"]][0]
            return now if now["pid"] and now["pid"] != w["pid"] and \
                now["state"] == "idle" else None
        new = wait_until(replaced, 20, "a new worker in slot %d" % w["id"])
        self.assertTrue(pid_running(new["pid"]))
        m = self.api("GET", "/metrics").raw.decode()
        self.assertRegex(m, r"(?m)^runnel_worker_restarts_total [1-9]")
        # the pool still runs jobs, on every worker
        r = self.api("POST", "/api/v1/jobs", body=[{"command": "true"}] * 20)
        for x in r.data["jobs"]:
            self.assertEqual(self.wait(x["id"])["state"], "succeeded")
        self.assertEqual(self.api("GET", "/healthz").status, 200)

    def test_job_of_a_killed_worker_does_not_live_on(self):
        j = self.submit({"command": "sleep 1000"})
        job, w = self.kill_worker_of(j["id"])
        self.assertEqual(self.wait(j["id"], 30)["error"], "worker lost")
        wait_until(lambda: not pid_running(job["pid"]), 10,
                   "the job (pid %d) of the killed worker to be gone" % job["pid"])


class ServerKillTest(RunnelTestCase):
    WORKERS = 1

    def test_kill9_then_restart_keeps_every_acknowledged_job(self):
        s = self.server
        running = s.submit({"command": "sleep 1000"})
        info = s.wait_running(running["id"])
        job_pid = info["pid"]
        self.track_pid(job_pid)
        worker_pids = s.worker_pids()
        r = s.api("POST", "/api/v1/jobs", body=[
            {"command": "echo $RUNNEL_JOB_ID", "priority": i % 3} for i in range(50)])
        self.assertEqual(r.status, 201)
        queued = [x["id"] for x in r.data["jobs"]]
        queued.append(s.submit({"command": "echo $RUNNEL_JOB_ID"})["id"])
        for jid in queued:
            self.assertEqual(s.job(jid)["state"], "queued")

        s.kill9()
        # the workers and the job die with runneld: no orphan
        wait_until(lambda: not pid_running(job_pid), 10,
                   "the running job (pid %d) to die with runneld" % job_pid)
        for pid in worker_pids:
            wait_until(lambda: not pid_running(pid), 10,
                       "worker pid %d to die with runneld" % pid)

        s.start()
        j = s.job(running["id"])
        self.assertEqual(j["state"], "failed")
        self.assertEqual(j["error"], "server restarted")
        self.assertIsNotNone(j["finished_at"])
        self.assertEqual(j["attempts"], 1)
        for jid in queued:
            done = s.wait(jid, 60)
            self.assertEqual(done["state"], "succeeded", done)
            self.assertEqual(done["attempts"], 1)
            self.assertEqual(s.output(jid), b"%d\n" % jid)
        ids = [x["id"] for x in s.api("GET", "/api/v1/jobs?limit=1000").data["jobs"]]
        self.assertEqual(sorted(ids), sorted(queued + [running["id"]]))
        # still a working server, with new ids after the old ones
        n = s.submit({"command": "true"})
        self.assertGreater(n["id"], max(queued))
        self.assertEqual(s.wait(n["id"])["state"], "succeeded")


class DrainTest(RunnelTestCase):
    WORKERS = 2
    SERVER_ARGS = ["--kill-grace", "1", "--shutdown-grace", "3"]

    def test_sigterm_drains_then_requeues_the_running_job(self):
        s = self.server
        marker = os.path.join(self.tmp, "ran-once")
        running = s.submit({"command": "if [ -e %s ]; then echo second; exit 0; fi; "
                                       "touch %s; echo first; sleep 1000" % (marker, marker)})
        info = s.wait_running(running["id"])
        self.track_pid(info["pid"])
        g = self.gate()
        held = s.submit({"command": g.cmd})
        s.wait_running(held["id"])
        queued = s.submit({"command": "echo queued"})
        self.assertEqual(queued["state"], "queued")
        t0 = time.monotonic()
        s.send_signal(signal.SIGTERM)
        wait_until(lambda: s.api("GET", "/healthz").status == 503, 5,
                   "/healthz to say 503 while draining")
        before = s.total()
        r = s.api("POST", "/api/v1/jobs", body={"command": "true"})
        self.assertError(r, 503, "unavailable")
        r = s.api("POST", "/api/v1/jobs", body=[{"command": "true"}] * 3)
        self.assertError(r, 503, "unavailable")
        self.assertEqual(s.total(), before)
        # A worker becomes free while draining: it must not take the queued job.
        g.open()
        self.assertEqual(s.wait(held["id"], 10)["state"], "succeeded")
        self.assertEqual(s.job(queued["id"])["state"], "queued", "claimed while draining")
        self.assertEqual(s.wait_exit(30), 0)
        self.assertGreaterEqual(time.monotonic() - t0, 2.9, "the running job had its grace")
        wait_until(lambda: not pid_running(info["pid"]), 10, "the job to be ended")

        s.start()
        done = s.wait(running["id"], 30)
        self.assertEqual(done["state"], "succeeded")
        self.assertEqual(done["attempts"], 1, "the ended attempt is not counted")
        self.assertTrue(s.output(running["id"]).endswith(b"second\n"))
        self.assertEqual(s.wait(queued["id"])["state"], "succeeded")
        self.assertEqual(s.output(queued["id"]), b"queued\n")

    def test_sigterm_lets_a_short_job_finish(self):
        s = self.new_server("drain2", workers=1,
                            args=["--kill-grace", "1", "--shutdown-grace", "30"])
        s.start()
        g = self.gate()
        j = s.submit({"command": g.cmd + "; echo finished"})
        s.wait_running(j["id"])
        s.send_signal(signal.SIGTERM)
        wait_until(lambda: s.api("GET", "/healthz").status == 503, 5,
                   "/healthz to say 503 while draining")
        g.open()
        self.assertEqual(s.wait_exit(30), 0)
        s.start()
        done = s.job(j["id"])
        self.assertEqual(done["state"], "succeeded")
        self.assertEqual(s.output(j["id"]), b"finished\n")


# A worker that says HELLO and READY, then ignores SHUTDOWN and SIGTERM.
STUCK_WORKER = r'''#!/usr/bin/env python3
import json, os, signal, struct, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def send(kind, body=b""):
    os.write(3, struct.pack(">IHHQ", len(body), kind, 0, 0) + body)
send(1, json.dumps({"version": 1, "pid": os.getpid()}).encode())
send(2)
with open(os.path.join(os.path.dirname(__file__), "stuck-pids"), "a") as f:
    f.write("%d\n" % os.getpid())
while True:
    time.sleep(1000)
'''


class StuckWorkerTest(RunnelTestCase):
    START_SERVER = False

    def test_sigterm_kills_workers_that_do_not_exit_and_still_exits_cleanly(self):
        worker = os.path.join(self.tmp, "stuck-worker")
        pids = os.path.join(self.tmp, "stuck-pids")
        with open(worker, "w") as f:
            f.write(STUCK_WORKER)
        os.chmod(worker, 0o755)
        s = self.new_server(workers=2, args=["--worker", worker]).start()
        wait_until(lambda: os.path.exists(pids) and
                   len(open(pids).read().split()) == 2, 10, "both workers up")
        for pid in open(pids).read().split():
            self.track_pid(int(pid))
        t0 = time.monotonic()
        # runneld waits 5 s for its workers, then kills them and exits 0;
        # tearDownClass checks its log for sanitizer reports.
        self.assertEqual(s.stop(signal.SIGTERM, 30), 0)
        self.assertGreater(time.monotonic() - t0, 4.5)
        self.assertIn(b"workers did not exit in time", s.log())
        for pid in open(pids).read().split():
            wait_until(lambda: not pid_running(int(pid)), 5,
                       "the stuck worker to be gone")
