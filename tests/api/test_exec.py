"""How jobs run: exit status, signals, timeout and cancel of process trees,
stdin, working directory, environment."""
import hashlib
import os
import time

from harness import RunnelTestCase, parse_ts, pid_running, proc_state, scaled, wait_until

# A process tree where every member ignores SIGTERM: only the SIGKILL after
# --kill-grace ends it.  Each member writes its pid to PIDS.
TREE = ("trap '' TERM; "
        "(sleep 1000 & echo $! >> {pids}; exec sleep 1001) & echo $! >> {pids}; "
        "sh -c 'trap \"\" TERM; echo $$ >> {pids}; sleep 1002' & "
        "echo $$ >> {pids}; sleep 1003")
TREE_SIZE = 4


class ExecTest(RunnelTestCase):
    WORKERS = 2
    SERVER_ARGS = ["--kill-grace", "1", "--shutdown-grace", "5"]

    def tree(self, name, **spec):
        pids_file = os.path.join(self.tmp, name + ".pids")
        spec["command"] = TREE.format(pids=pids_file)
        j = self.submit(spec)
        self.cancel_later(j["id"])

        def pids():
            try:
                with open(pids_file) as f:
                    got = [int(x) for x in f.read().split()]
            except FileNotFoundError:
                return None
            return got if len(got) == TREE_SIZE else None
        got = wait_until(pids, 15, "the job's tree to write its pids")
        for p in got:
            self.track_pid(p)
        return j, got

    def assertGone(self, pids):
        # Ended and reaped: nothing of the tree runs any more.
        running = [p for p in pids if pid_running(p)]
        self.assertEqual(running, [], "processes of the job still running")
        wait_until(lambda: all(proc_state(p) is None for p in pids), 10,
                   "the tree's zombies to be reaped")

    def test_exit_status_zero_succeeds(self):
        j = self.run_job({"command": "true"})
        self.assertEqual((j["state"], j["exit_code"], j["signal"], j["error"]),
                         ("succeeded", 0, None, None))

    def test_exit_status_fails(self):
        j = self.run_job({"command": "exit 3"})
        self.assertEqual((j["state"], j["exit_code"], j["signal"], j["error"]),
                         ("failed", 3, None, "exit status 3"))

    def test_killed_by_signal(self):
        j = self.run_job({"command": "kill -9 $$"})
        self.assertEqual((j["state"], j["exit_code"], j["signal"], j["error"]),
                         ("failed", None, 9, "killed by signal 9"))
        j = self.run_job({"command": "kill -TERM $$"})
        self.assertEqual((j["state"], j["signal"], j["error"]),
                         ("failed", 15, "killed by signal 15"))

    def test_command_not_found(self):
        j = self.run_job({"command": "no-such-command-xyzzy"})
        self.assertEqual((j["state"], j["exit_code"], j["error"]),
                         ("failed", 127, "exit status 127"))

    def test_argv_program_that_cannot_be_executed(self):
        j = self.run_job({"argv": ["/nonexistent/program-xyzzy", "x"]})
        self.assertEqual(j["state"], "failed")
        self.assertEqual(j["exit_code"], 127)
        self.assertIsInstance(j["error"], str)
        self.assertTrue(j["error"])

    def test_job_runs_in_its_own_process_group_and_session(self):
        g = self.gate()
        j = self.submit({"command": g.cmd})
        try:
            pid = self.server.wait_running(j["id"])["pid"]
            self.track_pid(pid)
            self.assertEqual(os.getpgid(pid), pid)
            self.assertEqual(os.getsid(pid), pid)
            self.assertNotEqual(os.getsid(pid), os.getsid(self.server.pid))
        finally:
            g.open()
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")

    def test_timeout_kills_the_whole_tree_even_what_ignores_sigterm(self):
        j, pids = self.tree("timeout", timeout=1)
        done = self.wait(j["id"], 30)
        self.assertEqual(done["state"], "failed")
        self.assertEqual(done["error"], "timeout after 1s")
        self.assertEqual(done["timeout"], 1)
        self.assertEqual(done["signal"], 9)
        took = (parse_ts(done["finished_at"]) - parse_ts(done["started_at"])).total_seconds()
        self.assertGreaterEqual(took, 1.9, "timeout 1s, then SIGKILL 1s later")
        self.assertGone(pids)

    def test_fractional_timeout(self):
        j = self.run_job({"command": "sleep 1000", "timeout": 0.5})
        self.assertEqual(j["state"], "failed")
        self.assertEqual(j["error"], "timeout after 0.5s")
        self.assertEqual(j["timeout"], 0.5)

    def test_timeout_not_reached(self):
        j = self.run_job({"command": "echo fine", "timeout": 30})
        self.assertEqual(j["state"], "succeeded")
        self.assertEqual(j["timeout"], 30)

    def test_cancel_of_a_running_tree_answers_once_it_is_gone(self):
        j, pids = self.tree("cancel")
        self.assertEqual(self.job(j["id"])["state"], "running")
        t0 = time.monotonic()
        r = self.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.data["state"], "canceled")
        self.assertEqual(r.data["error"], "canceled")
        self.assertIsNone(r.data["pid"])
        self.assertIsNotNone(r.data["finished_at"])
        self.assertGone(pids)
        self.assertGreaterEqual(time.monotonic() - t0, 0.9, "SIGKILL comes after the grace")
        self.assertEqual(self.job(j["id"])["state"], "canceled")
        self.assertError(self.api("POST", "/api/v1/jobs/%d/cancel" % j["id"]),
                         409, "conflict")

    def test_cancel_of_a_running_job(self):
        j = self.submit({"command": "sleep 1000"})
        self.cancel_later(j["id"])
        pid = self.server.wait_running(j["id"])["pid"]
        self.track_pid(pid)
        r = self.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.data["state"], r.data["error"]), ("canceled", "canceled"))
        self.assertFalse(pid_running(pid))

    def test_stdin_is_fed(self):
        j = self.run_job({"command": "cat", "stdin": "hello\nw\u00f6rld"})
        self.assertEqual(j["state"], "succeeded")
        self.assertEqual(self.output(j["id"]), "hello\nw\u00f6rld".encode())

    def test_large_stdin_is_fed_whole(self):
        data = "".join("line %d of the standard input\n" % i for i in range(20000))
        self.assertGreater(len(data), 500000)
        j = self.run_job({"command": "sha256sum", "stdin": data})
        self.assertEqual(j["state"], "succeeded")
        self.assertEqual(self.output(j["id"]).split()[0].decode(),
                         hashlib.sha256(data.encode()).hexdigest())

    def test_default_stdin_is_empty(self):
        j = self.run_job({"command": "cat; echo end", "timeout": scaled(10)})
        self.assertEqual(j["state"], "succeeded", j)
        self.assertEqual(self.output(j["id"]), b"end\n")

    def test_cwd_is_used(self):
        j = self.run_job({"command": "pwd", "cwd": self.tmp})
        self.assertEqual(self.output(j["id"]).decode().strip(), os.path.realpath(self.tmp))

    def test_default_cwd_is_a_fresh_scratch_dir_per_job_removed_afterwards(self):
        seen = set()
        for _ in range(4):
            j = self.run_job({"command": "pwd; ls -A | wc -l; mkdir -p d/e; "
                                         "touch left-behind d/e/f; chmod 0 d"})
            self.assertEqual(j["state"], "succeeded")
            path, count = self.output(j["id"]).decode().split("\n")[:2]
            self.assertEqual(count.strip(), "0", "the scratch dir starts empty")
            self.assertTrue(os.path.isabs(path))
            self.assertNotIn(path, ("/", os.path.realpath(self.tmp)))
            self.assertTrue(path.startswith(os.path.realpath(self.server.data)), path)
            self.assertNotIn(path, seen, "two jobs got the same scratch directory")
            seen.add(path)
            # it, and what the job left there, go right after the job (the
            # worker removes it while runneld records the end)
            wait_until(lambda: not os.path.exists(path), 10,
                       "scratch dir %s to be removed" % path)

    def test_spec_env_is_added(self):
        j = self.run_job({"argv": ["env"], "env": {"A": "1", "B_2": "x y", "_c": "=="}})
        lines = self.output(j["id"]).decode().splitlines()
        for want in ("A=1", "B_2=x y", "_c===", "RUNNEL_JOB_ID=%d" % j["id"],
                     "RUNNEL_ATTEMPT=1"):
            self.assertIn(want, lines)

    def test_runnel_variables_cannot_be_overridden(self):
        j = self.run_job({"argv": ["env"], "env": {"RUNNEL_JOB_ID": "999",
                                                   "RUNNEL_ATTEMPT": "7"}})
        lines = self.output(j["id"]).decode().splitlines()
        self.assertIn("RUNNEL_JOB_ID=%d" % j["id"], lines)
        self.assertIn("RUNNEL_ATTEMPT=1", lines)
        self.assertNotIn("RUNNEL_JOB_ID=999", lines)

    def test_resource_use_is_reported(self):
        j = self.run_job({"command": "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"})
        self.assertEqual(j["state"], "succeeded")
        self.assertIsInstance(j["cpu_ms"], int)
        self.assertGreaterEqual(j["cpu_ms"], 0)
        self.assertIsInstance(j["max_rss_kb"], int)
        self.assertGreater(j["max_rss_kb"], 0)


def processes_with(var):
    """Pids of live processes with var (NAME=value) in their environment."""
    want = var.encode() + b"\0"
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                env = b"\0" + f.read()
        except OSError:
            continue
        if b"\0" + want in env and pid_running(int(name)):
            out.append(int(name))
    return out


# Ways a job leaves processes behind that are not in its process group:
# each writes into every directory next to its own, over and over.
LEAKERS = {
    "setsid": "setsid sh -c '{loop}' >/dev/null 2>&1 &",
    "nohup-disown": "nohup sh -c '{loop}' >/dev/null 2>&1 & disown",
    "double-fork": "(setsid sh -c '{loop}' >/dev/null 2>&1 &)",
    "setsid-fork": "setsid -f sh -c '{loop}' >/dev/null 2>&1",
    "holds-stdout": "setsid sh -c '{loop}' &",
}
LOOP = ("trap \"\" HUP TERM; while :; do for d in ../*/; do "
        "echo leaked > \"$d/evil\" 2>/dev/null; done; sleep 0.02; done")


class LeftBehindTest(RunnelTestCase):
    """One worker, so the next job runs right where the last one ran."""
    WORKERS = 1

    def test_the_next_directory_is_as_new_whatever_the_last_job_did_to_its_own(self):
        # A directory left as made becomes the next one (a rename); one
        # opened up, or not empty, is replaced.
        look = "pwd; stat -c %a .; ls -A | wc -l"
        for last in ("true", ":", "chmod 0777 .", "chmod 0500 .", "touch x",
                     "mkdir d", "touch x; rm x", "chmod 0700 .", "chmod 0 ."):
            with self.subTest(last=last):
                a = self.run_job({"command": last + "; pwd"})
                self.assertEqual(a["state"], "succeeded", a)
                b = self.run_job({"command": look})
                self.assertEqual(b["state"], "succeeded", b)
                path, mode, count = self.output(b["id"]).decode().split("\n")[:3]
                self.assertEqual((mode, count.strip()), ("700", "0"), last)
                self.assertNotEqual(path, self.output(a["id"]).decode().strip())
                self.assertTrue(path.endswith("/%d.1" % b["id"]), path)

    def test_no_process_of_a_finished_job_outlives_it(self):
        for name, leak in sorted(LEAKERS.items()):
            with self.subTest(leaker=name):
                mark = "LEAK_MARK=%s-%d" % (name, os.getpid())
                a = self.submit({"command": leak.format(loop=LOOP) + "\nsleep 0.1; echo a",
                                 "env": {"LEAK_MARK": mark.split("=", 1)[1]}})
                done = self.wait(a["id"])
                self.assertEqual(done["state"], "succeeded", done)
                left = processes_with(mark)
                for p in left:
                    self.track_pid(p)
                self.assertEqual(left, [], "%s: processes of job %d live on after "
                                 "it finished" % (name, a["id"]))
                # the next job, on the same worker, finds nothing of it
                b = self.submit({"command": "sleep 0.3; ls -A"})
                done = self.wait(b["id"])
                self.assertEqual((done["state"], self.output(b["id"])),
                                 ("succeeded", b""), name)
