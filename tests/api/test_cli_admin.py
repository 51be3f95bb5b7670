"""runnel ls, show, cancel, retry, rm, queue, schedule, stats and workers
against a real runneld: what they print, what they change (seen through
the API), their exit statuses; and the shell completion and man page."""
import fcntl
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import termios
import unittest

import harness
from cli_util import CliMixin
from harness import RunnelTestCase, bin_path, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ESC = b"\x1b["


def later(queue, **kw):
    """A spec that waits an hour in queue: it stays scheduled."""
    spec = {"command": "true", "queue": queue, "delay": 3600}
    spec.update(kw)
    return spec


class PtyMixin:
    def cli_pty(self, *args, cols=60, env=None):
        """runnel ARGS with stdout and stderr on a terminal of cols
        columns; (exit status, what the terminal got)."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        attrs = termios.tcgetattr(slave)
        attrs[1] &= ~termios.ONLCR	# "\n" stays "\n"
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        e = self.cli_env(extra=env)
        e["TERM"] = "xterm"
        p = subprocess.Popen([bin_path("runnel")] + [str(a) for a in args],
                             env=e, stdin=subprocess.DEVNULL, stdout=slave,
                             stderr=slave, close_fds=True)
        os.close(slave)
        out = b""
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:	# EIO: the other side is closed
                break
            if not data:
                break
            out += data
        os.close(master)
        return p.wait(timeout=30), out


def visible(line):
    """The columns a line of UTF-8 takes, escapes left out."""
    return len(re.sub(r"\x1b\[[0-9;]*m", "", line.decode()))


class LsTest(CliMixin, PtyMixin, RunnelTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        cls.ok = s.submit({"command": "true", "queue": "lsq", "name": "the ok one"})["id"]
        cls.bad = s.submit({"command": "exit 3", "queue": "lsq", "priority": 5})["id"]
        cls.killed = s.submit({"command": "kill -9 $$", "queue": "lsq"})["id"]
        cls.long = s.submit({"command": "echo " + "ü" * 200, "queue": "lsq"})["id"]
        for j in (cls.ok, cls.bad, cls.killed, cls.long):
            s.wait(j)
        cls.other = s.submit(later("lsother"))["id"]

    def test_json_is_the_servers_answer(self):
        p = self.cli("ls", "--queue", "lsq", "--json", check=0)
        self.assertTrue(p.stdout.endswith(b"}\n"))
        self.assertEqual(p.stdout.count(b"\n"), 1)
        r = self.api("GET", "/api/v1/jobs?queue=lsq")
        self.assertEqual(json.loads(p.stdout), r.data)

    def test_table_lists_the_jobs_with_their_outcome(self):
        p = self.cli("ls", "-q", "lsq", check=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0].split()[:3], ["ID", "STATE", "QUEUE"])
        self.assertIn("PRI", lines[0])
        rows = {int(l.split()[0]): l for l in lines[1:]}
        self.assertEqual(set(rows), {self.ok, self.bad, self.killed, self.long})
        self.assertIn("succeeded", rows[self.ok])
        self.assertIn("the ok one", rows[self.ok])
        self.assertRegex(rows[self.bad], r"failed\s+lsq\s+5\s")
        self.assertIn(" 3 ", rows[self.bad])
        self.assertIn("SIGKILL", rows[self.killed])
        # not a terminal: nothing cut, no colors
        self.assertIn("ü" * 200, rows[self.long])
        self.assertNotIn(ESC, p.stdout)
        self.assertEqual(p.stderr, b"")

    def test_filters_go_to_the_server(self):
        p = self.cli("ls", "--state", "failed,canceled", "--queue", "lsq", "--json",
                     check=0)
        ids = {j["id"] for j in json.loads(p.stdout)["jobs"]}
        self.assertEqual(ids, {self.bad, self.killed})
        p = self.cli("ls", "--state", "scheduled", check=0)
        ids = [int(l.split()[0]) for l in p.stdout.decode().splitlines()[1:]]
        self.assertIn(self.other, ids)
        self.assertNotIn(self.ok, ids)
        p = self.cli("ls", "-q", "lsq", "--limit", "2", "--before", self.long,
                     "--json", check=0)
        got = json.loads(p.stdout)
        self.assertEqual([j["id"] for j in got["jobs"]], [self.killed, self.bad])
        self.assertEqual(got["next"], self.bad)
        p = self.cli("ls", "--type", "upload", "-q", "lsq", check=0)
        self.assertEqual(len(p.stdout.splitlines()), 1)	# the heading only

    def test_a_terminal_gets_a_cut_colored_table_and_a_hint(self):
        rc, out = self.cli_pty("ls", "-q", "lsq", "--limit", "3", cols=60)
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertTrue(lines)
        for l in lines:
            self.assertLessEqual(visible(l), 60, l)
        self.assertIn(ESC + b"32msucceeded", out)
        self.assertIn(ESC + b"31mfailed", out)
        self.assertIn("…".encode(), out)
        self.assertIn(b"more: runnel ls --queue lsq --limit 3 --before %d" % self.bad, out)
        rc, out = self.cli_pty("ls", "-q", "lsq", env={"NO_COLOR": "1"})
        self.assertEqual(rc, 0, out)
        self.assertNotIn(ESC, out)
        self.assertIn(b"succeeded", out)

    def test_usage_errors_exit_2(self):
        for args in (["ls", "--limit", "0"], ["ls", "--limit", "x"],
                     ["ls", "--before", "-1"], ["ls", "extra"], ["ls", "--bogus"]):
            p = self.cli(*args, check=2)
            self.assertEqual(p.stdout, b"", args)
            self.assertTrue(p.stderr, args)

    def test_a_refused_filter_exits_6_with_the_servers_message(self):
        p = self.cli("ls", "--state", "nosuch", check=6)
        self.assertIn(b"state", p.stderr)


class ShowTest(CliMixin, RunnelTestCase):
    def test_show_prints_the_fields(self):
        j = self.submit({"command": "echo hi; exit 4", "name": "shown",
                         "env": {"A": "1"}, "max_attempts": 2, "queue": "showq",
                         "timeout": 30})
        j = self.wait(j["id"])
        p = self.cli("show", j["id"], check=0)
        out = p.stdout.decode()
        fields = dict(l.split(":", 1) for l in out.splitlines())
        fields = {k: v.strip() for k, v in fields.items()}
        self.assertEqual(fields["id"], str(j["id"]))
        self.assertEqual(fields["name"], "shown")
        self.assertEqual(fields["state"], "failed")
        self.assertEqual(fields["queue"], "showq")
        self.assertEqual(fields["command"], "echo hi; exit 4")
        self.assertEqual(fields["env"], "A=1")
        self.assertEqual(fields["exit code"], "4")
        self.assertEqual(fields["error"], "exit status 4")
        self.assertEqual(fields["attempts"], "2 of 2")
        self.assertEqual(fields["timeout"], "30s")
        self.assertRegex(fields["created"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.* ago\)$")
        self.assertIn("stdout 3 bytes", fields["output"])
        self.assertNotIn(ESC, p.stdout)

    def test_show_a_signal_and_an_argv(self):
        j = self.run_job({"argv": ["sh", "-c", "kill -TERM $$", "a b"]})
        p = self.cli("show", "#%d" % j["id"], check=0)
        self.assertIn(b"signal:      15 (SIGTERM)", p.stdout)
        self.assertIn(b"argv:        sh -c 'kill -TERM $$' 'a b'", p.stdout)

    def test_control_characters_do_not_reach_the_terminal(self):
        j = self.submit(later("showq", name="a\x1b[2Jb", command="echo 1\necho 2"))
        p = self.cli("show", j["id"], check=0)
        self.assertNotIn(b"\x1b", p.stdout)
        self.assertIn(b"name:        a?[2Jb\n", p.stdout)
        self.assertIn(b"command:     echo 1\n             echo 2\n", p.stdout)
        p = self.cli("ls", "-q", "showq", check=0)
        self.assertNotIn(b"\x1b", p.stdout)

    def test_json_is_the_job_as_get_has_it(self):
        j = self.run_job({"command": "true"})
        p = self.cli("show", j["id"], "--json", check=0)
        self.assertEqual(json.loads(p.stdout), self.job(j["id"]))

    def test_missing_job_exits_3_and_bad_ids_2(self):
        p = self.cli("show", "999999", check=3)
        self.assertIn(b"999999", p.stderr)
        self.assertEqual(p.stdout, b"")
        for args in (["show"], ["show", "x"], ["show", "0"], ["show", "1", "2"]):
            self.cli(*args, check=2)


class ActTest(CliMixin, RunnelTestCase):
    def test_cancel_goes_on_past_a_missing_job_and_exits_3(self):
        a = self.submit(later("act"))["id"]
        b = self.submit(later("act"))["id"]
        p = self.cli("cancel", a, 999999, b, check=3)
        self.assertEqual(p.stdout.decode().splitlines(),
                         ["canceled %d" % a, "canceled %d" % b])
        self.assertIn(b"999999", p.stderr)
        self.assertEqual(self.job(a)["state"], "canceled")
        self.assertEqual(self.job(b)["state"], "canceled")

    def test_a_conflict_exits_6_and_the_others_are_done(self):
        done = self.run_job({"command": "true"})["id"]
        a = self.submit(later("act"))["id"]
        p = self.cli("cancel", done, a, check=6)
        self.assertEqual(p.stdout, b"canceled %d\n" % a)
        self.assertIn(b"cannot cancel", p.stderr)
        self.assertEqual(self.job(done)["state"], "succeeded")
        self.assertEqual(self.job(a)["state"], "canceled")

    def test_first_failure_decides_the_status(self):
        done = self.run_job({"command": "true"})["id"]
        self.cli("cancel", 999999, done, check=3)
        self.cli("cancel", done, 999999, check=6)

    def test_retry_queues_a_failed_job_again(self):
        j = self.run_job({"command": "test -e flag || { touch flag; exit 1; }",
                          "cwd": self.tmp})
        self.assertEqual(j["state"], "failed")
        p = self.cli("retry", j["id"], check=0)
        self.assertEqual(p.stdout, b"queued %d again\n" % j["id"])
        j = self.wait(j["id"])
        self.assertEqual(j["state"], "succeeded")
        self.assertEqual(j["attempts"], 2)
        p = self.cli("retry", j["id"], check=6)
        self.assertIn(b"retry", p.stderr)

    def test_rm_deletes_finished_jobs_and_refuses_running_ones(self):
        done = self.run_job({"command": "true"})["id"]
        running = self.submit({"command": "sleep 60", "queue": "act-run"})["id"]
        self.addCleanup(self.api, "POST", "/api/v1/jobs/%d/cancel" % running)
        self.server.wait_running(running)
        p = self.cli("rm", running, done, check=6)
        self.assertEqual(p.stdout, b"deleted %d\n" % done)
        self.assertTrue(self.job_gone(done))
        self.assertEqual(self.job(running)["state"], "running")
        p = self.cli("rm", done, check=3)
        self.assertEqual(p.stdout, b"")

    def test_a_bad_id_sends_nothing(self):
        a = self.submit(later("act"))["id"]
        for cmd in ("cancel", "retry", "rm"):
            p = self.cli(cmd, a, "nope", check=2)
            self.assertEqual(p.stdout, b"")
            self.cli(cmd, check=2)
        self.assertEqual(self.job(a)["state"], "scheduled")

    def test_unreachable_server_exits_5(self):
        self.cli("cancel", "1", "2", "--url", "http://127.0.0.1:1", check=5)


class QueueTest(CliMixin, RunnelTestCase):
    def test_pause_resume_and_set(self):
        self.cli("queue", "pause", "qa", check=0)
        self.assertTrue(self.queue("qa")["paused"])
        p = self.cli("queue", "resume", "qa", check=0)
        self.assertEqual(p.stdout, b"resumed qa\n")
        self.assertFalse(self.queue("qa")["paused"])
        self.cli("queue", "set", "qa", "--concurrency", "3", check=0)
        self.assertEqual(self.queue("qa")["concurrency"], 3)
        p = self.cli("queue", "set", "--concurrency", "none", "qa", "--json", check=0)
        self.assertIsNone(json.loads(p.stdout)["concurrency"])
        self.assertIsNone(self.queue("qa")["concurrency"])

    def test_ls_shows_the_queues(self):
        self.patch_queue("qls", {"paused": True, "concurrency": 2})
        self.submit(later("qls"))
        p = self.cli("queue", "ls", check=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "PAUSED", "LIMIT", "SCHEDULED",
                                            "QUEUED", "RUNNING"])
        row = [l for l in lines if l.split()[0] == "qls"]
        self.assertEqual(row[0].split(), ["qls", "yes", "2", "1", "0", "0"])
        for args in (["queue", "--json"], ["queue", "--json", "ls"]):
            p = self.cli(*args, check=0)
            self.assertEqual(json.loads(p.stdout),
                             self.api("GET", "/api/v1/queues").data)
        self.cli("queue", "--json", "pause", "qls2", check=0)
        self.assertTrue(self.queue("qls2")["paused"])

    def test_usage_errors_change_nothing(self):
        self.patch_queue("qu", {"paused": False, "concurrency": 4})
        for args in (["queue", "set", "qu", "--concurrency", "0"],
                     ["queue", "set", "qu", "--concurrency", "x"],
                     ["queue", "set", "qu"], ["queue", "pause"],
                     ["queue", "pause", "qu", "other"], ["queue", "frob", "qu"],
                     ["queue", "pause", "qu", "--concurrency", "2"]):
            p = self.cli(*args, check=2)
            self.assertEqual(p.stdout, b"", args)
        q = self.queue("qu")
        self.assertEqual((q["paused"], q["concurrency"]), (False, 4))

    def test_a_bad_name_is_the_servers_to_refuse(self):
        p = self.cli("queue", "pause", "bad name", check=6)
        self.assertIn(b"queue", p.stderr)


class ScheduleTest(CliMixin, RunnelTestCase):
    def schedules(self):
        return {s["id"]: s for s in self.api("GET", "/api/v1/schedules").data["schedules"]}

    def test_add_ls_trigger_rm(self):
        p = self.cli("schedule", "add", "--cron", "0 3 * * *", "--tz", "Europe/Berlin",
                     "--name", "nightly", "--overlap", "skip", "-q", "sq",
                     "-e", "A=1", "-t", "60", "--", "echo", "$A", check=0)
        sid = int(p.stdout)
        s = self.schedules()[sid]
        self.assertEqual(s["name"], "nightly")
        self.assertEqual(s["cron"], "0 3 * * *")
        self.assertEqual(s["timezone"], "Europe/Berlin")
        self.assertEqual(s["overlap"], "skip")
        self.assertEqual(s["job"], {"command": "echo $A", "queue": "sq",
                                    "env": {"A": "1"}, "timeout": 60})

        p = self.cli("schedule", "ls", check=0)
        lines = p.stdout.decode().splitlines()
        self.assertEqual(lines[0].split()[:4], ["ID", "NAME", "CRON", "TZ"])
        row = [l for l in lines[1:] if int(l.split()[0]) == sid][0]
        self.assertIn("nightly", row)
        self.assertIn("0 3 * * *", row)
        self.assertRegex(row, r"in \d+[smhd]")
        p = self.cli("schedule", "--json", check=0)
        self.assertEqual(json.loads(p.stdout), self.api("GET", "/api/v1/schedules").data)

        p = self.cli("schedule", "trigger", sid, check=0)
        j = self.wait(int(p.stdout))
        self.assertEqual(j["schedule_id"], sid)
        self.assertEqual(j["queue"], "sq")
        self.assertEqual(self.output(j["id"]), b"1\n")

        p = self.cli("schedule", "rm", sid, check=0)
        self.assertEqual(p.stdout, b"deleted schedule %d\n" % sid)
        self.assertNotIn(sid, self.schedules())
        self.cli("schedule", "rm", sid, check=3)
        self.cli("schedule", "trigger", sid, check=3)

    def test_add_json_and_a_default_name(self):
        p = self.cli("schedule", "add", "--cron", "@every 1h", "--json", "--",
                     "true", check=0)
        s = json.loads(p.stdout)
        self.assertEqual(s["name"], "true")
        self.assertIn(s["id"], self.schedules())

    def test_refusals_add_nothing(self):
        before = set(self.schedules())
        p = self.cli("schedule", "add", "--cron", "61 * * * *", "--name", "bad",
                     "--", "true", check=6)
        self.assertIn(b"cron", p.stderr)
        for args in (["schedule", "add", "--", "true"],
                     ["schedule", "add", "--cron", "@daily"],
                     ["schedule", "add", "--cron", "@daily", "--overlap", "never",
                      "--", "true"],
                     ["schedule", "add", "--cron", "@daily", "--idempotency-key",
                      "k", "--", "true"],
                     ["schedule", "rm"], ["schedule", "rm", "x"],
                     ["schedule", "trigger", "1", "2"], ["schedule", "frob"]):
            p = self.cli(*args, check=2)
            self.assertEqual(p.stdout, b"", args)
        self.assertEqual(set(self.schedules()), before)


class StatsWorkersTest(CliMixin, RunnelTestCase):
    WORKERS = 2

    def test_stats(self):
        self.run_job({"command": "true"})
        self.run_job({"command": "false"})
        p = self.cli("stats", check=0)
        out = p.stdout.decode()
        st = self.server.stats()
        self.assertIn("jobs:      %d (" % st["total"], out)
        self.assertIn("%d succeeded" % st["jobs"]["succeeded"], out)
        self.assertIn("%d failed" % st["jobs"]["failed"], out)
        self.assertRegex(out, r"finished:  \d+ this minute, %d in the last hour"
                         % sum(st["finished_per_minute"]))
        self.assertIn("workers:   2 (", out)
        self.assertIn("uptime:", out)
        p = self.cli("stats", "--json", check=0)
        got = json.loads(p.stdout)
        self.assertEqual(set(got), set(st))
        self.assertEqual(got["jobs"]["failed"], st["jobs"]["failed"])

    def test_workers(self):
        j = self.submit({"command": "sleep 60"})["id"]
        self.addCleanup(self.api, "POST", "/api/v1/jobs/%d/cancel" % j)
        self.server.wait_running(j)
        p = self.cli("workers", check=0)
        # a node of a cluster (PostgreSQL) adds a NODE column, and a table
        # of the nodes after a blank line
        lines = p.stdout.decode().split("\n\n")[0].splitlines()
        node = ["NODE"] if harness.POSTGRESQL else []
        self.assertEqual(lines[0].split(), node + ["ID", "STATE", "PID", "JOB",
                                                   "JOBS", "DONE", "STARTED"])
        self.assertEqual(len(lines), 3)
        busy = [l.split()[len(node):] for l in lines[1:] if "busy" in l]
        self.assertEqual(len(busy), 1)
        self.assertEqual(busy[0][3], str(j))
        p = self.cli("workers", "--json", check=0)
        got = json.loads(p.stdout)
        self.assertEqual([w["id"] for w in got["workers"]], [1, 2])

    def test_extra_arguments_exit_2(self):
        for args in (["stats", "x"], ["workers", "--bogus"]):
            self.cli(*args, check=2)


class CompletionTest(unittest.TestCase):
    BASH = os.path.join(ROOT, "cli", "completion", "runnel.bash")

    def complete(self, *words):
        script = ('source "$0"; COMP_WORDS=(%s); COMP_CWORD=%d; _runnel; '
                  'printf "%%s\\n" "${COMPREPLY[@]}"' %
                  (" ".join("'%s'" % w for w in words), len(words) - 1))
        p = subprocess.run(["bash", "-c", script, self.BASH], capture_output=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode().split()

    @unittest.skipUnless(shutil.which("bash"), "no bash")
    def test_bash_completion(self):
        p = subprocess.run(["bash", "-n", self.BASH], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.complete("runnel", "l"), ["ls", "log"])
        self.assertEqual(self.complete("runnel", "queue", ""),
                         ["ls", "pause", "resume", "set"])
        self.assertEqual(self.complete("runnel", "ls", "--state", "succeeded,f"),
                         ["succeeded,failed"])
        self.assertIn("--before", self.complete("runnel", "ls", "--"))
        self.assertIn("--overlap", self.complete("runnel", "schedule", "add", "--o"))
        self.assertEqual(self.complete("runnel", "schedule", "add", "--overlap", "s"),
                         ["skip"])

    def test_zsh_completion_names_every_command(self):
        with open(os.path.join(ROOT, "cli", "completion", "_runnel")) as f:
            text = f.read()
        self.assertTrue(text.startswith("#compdef runnel"))
        for cmd in ("run", "add", "upload", "ls", "show", "log", "wait", "cancel",
                    "retry", "rm", "queue", "schedule", "stats", "workers"):
            self.assertIn("'%s:" % cmd, text)
        if shutil.which("zsh"):
            p = subprocess.run(["zsh", "-n", os.path.join(ROOT, "cli", "completion",
                                                           "_runnel")],
                               capture_output=True)
            self.assertEqual(p.returncode, 0, p.stderr)


class ManPageTest(unittest.TestCase):
    PAGE = os.path.join(ROOT, "docs", "runnel.1")

    @unittest.skipUnless(shutil.which("groff"), "no groff")
    def test_renders_without_warnings(self):
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", self.PAGE],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr, b"")

    def test_covers_every_command_and_exit_status(self):
        with open(self.PAGE) as f:
            text = f.read()
        for cmd in ("run", "add", "upload", "ls", "show", "log", "wait", "cancel",
                    "retry", "rm", "queue", "schedule", "stats", "workers"):
            self.assertIn(".TP\n.B %s " % cmd, text)
        for sec in ("ENVIRONMENT", "FILES", "EXIT STATUS", "JOB OPTIONS"):
            self.assertIn(".SH " + sec, text)
        for var in ("RUNNEL_URL", "RUNNEL_TOKEN", "NO_COLOR"):
            self.assertIn(var, text)


if __name__ == "__main__":
    unittest.main()
