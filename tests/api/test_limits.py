"""Resource limits of a job (memory_mb, cpu_seconds, open_files, processes,
output_mb), set in the job only, and the server's defaults merged in."""
import sys

from harness import BASE_ARGS, MiB, RunnelTestCase


PY = sys.executable or "/usr/bin/python3"


RLIMITS_PY = ("import resource as r; print(*[r.getrlimit(x)[0] for x in "
              "(r.RLIMIT_AS, r.RLIMIT_CPU, r.RLIMIT_NOFILE, r.RLIMIT_NPROC)])")


class LimitsTest(RunnelTestCase):
    WORKERS = 1

    def worker_pid(self):
        pids = self.server.worker_pids()
        self.assertEqual(len(pids), 1)
        return pids[0]

    def proc_limits(self, pid):
        with open("/proc/%d/limits" % pid) as f:
            return f.read()

    def test_a_job_allocating_past_memory_mb_fails_cleanly(self):
        self.idle()
        wpid = self.worker_pid()
        wlimits = self.proc_limits(wpid)
        j = self.submit({"argv": [PY, "-c", "x = bytearray(512 << 20); print('got it')"],
                         "limits": {"memory_mb": 128}})
        self.assertEqual(j["limits"], {"memory_mb": 128})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["exit_code"], d["error"]),
                         ("failed", 1, "exit status 1"), d)
        self.assertIn(b"MemoryError", self.output(j["id"], "?stream=stderr"))
        self.assertEqual(self.output(j["id"]), b"")
        # runneld and the worker are unaffected: the same worker runs on
        self.assertEqual(self.api("GET", "/healthz").status, 200)
        self.assertEqual(self.worker_pid(), wpid)
        self.assertEqual(self.proc_limits(wpid), wlimits)
        ok = self.submit({"argv": [PY, "-c", "x = bytearray(16 << 20); print(len(x))"],
                          "limits": {"memory_mb": 128}})
        d = self.wait(ok["id"], 60)
        self.assertEqual(d["state"], "succeeded", d)
        self.assertEqual(self.output(ok["id"]), b"%d\n" % (16 << 20))
        self.assertEqual(self.worker_pid(), wpid)

    def test_output_past_output_mb_is_cut(self):
        self.idle()
        wpid = self.worker_pid()
        for cmd in ("head -c %d /dev/zero" % (3 * MiB), "yes"):
            with self.subTest(cmd=cmd):
                j = self.submit({"command": cmd, "limits": {"output_mb": 1}})
                d = self.wait(j["id"], 60)
                self.assertEqual(d["state"], "failed", d)
                self.assertTrue((d["error"] or "").startswith("output limit"), d)
                self.assertEqual(d["stdout_bytes"], MiB, d)
                out = self.output(j["id"])
                self.assertEqual(len(out), MiB)
                if cmd == "yes":
                    self.assertEqual(out, (b"y\n" * (MiB // 2)))
        # exactly the limit is fine
        j = self.submit({"command": "head -c %d /dev/zero" % MiB,
                         "limits": {"output_mb": 1}})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["stdout_bytes"]), ("succeeded", MiB), d)
        self.assertEqual(self.worker_pid(), wpid)
        self.assertEqual(self.wait(self.submit({"command": "echo next"})["id"])["state"],
                         "succeeded")

    def test_cpu_seconds_ends_a_spinning_job(self):
        j = self.submit({"command": "while :; do :; done", "limits": {"cpu_seconds": 1}})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["signal"]), ("failed", 24), d)
        self.assertTrue(d["error"].startswith("killed by signal 24 (SIGXCPU"), d)
        self.assertGreater(d["cpu_ms"], 0, d)	# the kernel's count, not exact

    def test_open_files_limit_is_enforced(self):
        j = self.submit({"argv": [PY, "-c", "import os\nfor _ in range(100): "
                                  "os.open('/dev/null', os.O_RDONLY)"],
                         "limits": {"open_files": 32}})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["exit_code"]), ("failed", 1), d)
        self.assertIn(b"Too many open files", self.output(j["id"], "?stream=stderr"))

    def test_rlimits_are_set_in_the_job_only(self):
        self.idle()
        wpid = self.worker_pid()
        wlimits = self.proc_limits(wpid)
        lim = {"memory_mb": 300, "cpu_seconds": 30, "open_files": 64,
               "processes": 500, "output_mb": 5}
        j = self.submit({"argv": [PY, "-c", RLIMITS_PY], "limits": lim})
        self.assertEqual(j["limits"], lim)
        d = self.wait(j["id"], 60)
        self.assertEqual(d["state"], "succeeded", d)
        self.assertEqual(self.output(j["id"]).split(),
                         [b"%d" % (300 * MiB), b"30", b"64", b"500"])
        self.assertEqual(self.proc_limits(wpid), wlimits, "the worker is not bound")
        # a job without limits gets none of them
        k = self.submit({"argv": [PY, "-c", RLIMITS_PY]})
        self.assertIsNone(k["limits"])
        self.wait(k["id"], 60)
        self.assertNotIn(b"64", self.output(k["id"]).split())

    def test_bad_limits_are_refused(self):
        before = self.server.total()
        for lim, code, field in (
                ({"memory": 1}, "unknown_field", "limits.memory"),
                ({"memory_mb": 0}, "invalid_field", "limits.memory_mb"),
                ({"cpu_seconds": -1}, "invalid_field", "limits.cpu_seconds"),
                ({"open_files": 1.5}, "invalid_field", "limits.open_files"),
                ({"processes": "5"}, "invalid_field", "limits.processes"),
                ({"output_mb": None}, "invalid_field", "limits.output_mb"),
                ([1], "invalid_field", "limits"), ("x", "invalid_field", "limits")):
            with self.subTest(limits=lim):
                self.assertError(self.api("POST", "/api/v1/jobs",
                                          body={"command": "true", "limits": lim}),
                                 400, code, field)
        self.assertEqual(self.server.total(), before)


class LimitDefaultsTest(RunnelTestCase):
    WORKERS = 1
    SERVER_ARGS = BASE_ARGS + ["--limit-output-mb", "1", "--limit-open-files", "100"]

    def test_server_defaults_merge_into_the_job_limits(self):
        j = self.submit({"command": "head -c %d /dev/zero" % (2 * MiB)})
        self.assertEqual(j["limits"], {"output_mb": 1, "open_files": 100})
        d = self.wait(j["id"], 60)
        self.assertEqual((d["state"], d["stdout_bytes"]), ("failed", MiB), d)
        self.assertTrue(d["error"].startswith("output limit"), d)
        k = self.submit({"command": "head -c %d /dev/zero" % (2 * MiB),
                         "limits": {"output_mb": 3, "memory_mb": 500}})
        self.assertEqual(k["limits"], {"output_mb": 3, "memory_mb": 500,
                                       "open_files": 100})
        d = self.wait(k["id"], 60)
        self.assertEqual((d["state"], d["stdout_bytes"]), ("succeeded", 2 * MiB), d)
        r = self.submit({"argv": [PY, "-c", RLIMITS_PY]})
        self.wait(r["id"], 60)
        self.assertEqual(self.output(r["id"]).split()[2], b"100")
