"""A shell-form command without shell syntax is exec'd directly
(worker/direct.c); what the job shows must be what it showed through
/bin/sh -c.  Each command runs twice: as it is, and with " #" appended,
a comment that sends the same command through the shell."""
import os
import re

from harness import RunnelTestCase


class DirectPathTest(RunnelTestCase):
    def both(self, command, **spec):
        direct = self.submit(dict(spec, command=command))
        shell = self.submit(dict(spec, command=command + " #"))
        return self.wait(direct["id"]), self.wait(shell["id"])

    def same(self, command, canon=lambda b, j: b, **spec):
        """canon(bytes, job) makes outputs comparable (the job's own id)."""
        d, s = self.both(command, **spec)
        for k in ("state", "exit_code", "signal", "error"):
            self.assertEqual(d[k], s[k], (command, k, d, s))
        for which in ("", "?stream=stderr"):
            self.assertEqual(canon(self.output(d["id"], which), d),
                             canon(self.output(s["id"], which), s),
                             (command, which))
        return d, s

    def output(self, jid, query):
        r = self.api("GET", "/api/v1/jobs/%d/output%s" % (jid, query))
        self.assertEqual(r.status, 200)
        return r.raw

    def test_same_environment_pwd_included(self):
        def canon(out, job):
            # the shell lists its variables in an order of its own
            # and each job has a scratch directory of its own
            out = re.sub(rb"/scratch/w\d+/[0-9.]+", b"/scratch/X", out)
            return sorted(out.replace(b"RUNNEL_JOB_ID=%d\n" % job["id"],
                                      b"RUNNEL_JOB_ID=N\n").splitlines())
        link = os.path.join(self.tmp, "link")
        os.symlink(self.tmp, link)
        for spec in ({"env": {"A": "1", "B": "x y"}, "cwd": self.tmp},
                     {"cwd": link},				# PWD is the physical path
                     {"cwd": link, "env": {"PWD": link}},	# ... unless PWD names it
                     {"env": {"PWD": "/"}},			# a wrong PWD is replaced
                     {}):
            d, _ = self.same("env", canon, **spec)
            env = self.output(d["id"], "").decode()
            self.assertIn("RUNNEL_JOB_ID=%d\n" % d["id"], env)
            if spec.get("cwd"):
                want = spec["env"]["PWD"] if "PWD" in spec.get("env", {}) else \
                    os.path.realpath(spec["cwd"])
                self.assertIn("\nPWD=%s\n" % want, "\n" + env)

    def test_same_exit_statuses_and_messages(self):
        self.same("ls -d /")
        self.same("false")
        self.same("true")
        self.same("ls /no/such/dir")				# 2, ls's message
        self.same("no-such-program-here arg")		# 127, the shell's message
        self.same("/no/such/program")
        noexec = os.path.join(self.tmp, "noexec")
        with open(noexec, "w") as f:
            f.write("echo never\n")
        self.same(noexec)						# 126
        script = os.path.join(self.tmp, "script")
        with open(script, "w") as f:
            f.write("echo from a script without a shebang: $1\n")
        os.chmod(script, 0o755)
        d, _ = self.same(script + " arg")			# ENOEXEC: sh runs it
        self.assertEqual(self.output(d["id"], ""),
                         b"from a script without a shebang: arg\n")

    def test_same_signals_timeout_and_limits(self):
        d, _ = self.same("sleep 30", timeout=0.3)
        self.assertEqual(d["signal"], 15)
        self.same("cat /proc/self/limits", limits={"open_files": 77})
        self.same("head -c 100000 /dev/zero", limits={"output_mb": 1})

    def test_own_process_group_and_session(self):
        # a session and group of its own in either case; directly, the
        # program is the job's process, so it leads them
        d, s = self.both("cat /proc/self/stat")
        for j in (d, s):
            out = self.output(j["id"], "")
            pid = int(out.split()[0])
            fields = out.split(b") ")[1].split()
            pgrp, session = int(fields[2]), int(fields[3])
            self.assertEqual(pgrp, session)
            if j is d:
                self.assertEqual(pid, pgrp)
            else:
                self.assertNotEqual(pid, pgrp)	# sh's child

    def test_cancel_ends_a_direct_job(self):
        j = self.submit({"command": "sleep 60"})
        self.server.wait_running(j["id"])
        r = self.cancel(j["id"])
        self.assertEqual(r.status, 200)
        j = self.wait(j["id"])
        self.assertEqual(j["state"], "canceled")
        self.assertEqual(j["signal"], 15)


class ShellFieldTest(RunnelTestCase):
    def test_shell_true_runs_the_command_through_the_shell(self):
        j = self.submit({"command": "cat /proc/self/stat", "shell": True})
        self.assertIs(j["shell"], True)
        j = self.wait(j["id"])
        out = self.server.output(j["id"])
        pid, pgrp = int(out.split()[0]), int(out.split(b") ")[1].split()[2])
        self.assertNotEqual(pid, pgrp)		# cat is the shell's child
        plain = self.wait(self.submit({"command": "cat /proc/self/stat"})["id"])
        self.assertIs(plain["shell"], False)
        out = self.server.output(plain["id"])
        self.assertEqual(int(out.split()[0]), int(out.split(b") ")[1].split()[2]))

    def test_shell_must_be_a_boolean_and_go_with_a_command(self):
        before = self.server.total()
        for spec, field in (({"command": "ls", "shell": 1}, "shell"),
                            ({"command": "ls", "shell": "yes"}, "shell"),
                            ({"argv": ["ls"], "shell": True}, "shell")):
            r = self.api("POST", "/api/v1/jobs", body=spec)
            self.assertEqual(r.status, 400, spec)
            self.assertEqual(r.data["error"]["field"], field)
        self.assertEqual(self.server.total(), before)
        j = self.submit({"argv": ["true"], "shell": False})
        self.assertIs(j["shell"], False)

    def test_shell_in_a_raw_uploads_query(self):
        for value, want in (("true", True), ("false", False)):
            r = self.api("POST", "/api/v1/uploads?name=a.txt&command=cat&shell=" + value,
                         raw=b"x", headers={"Content-Type": "application/octet-stream"})
            self.assertEqual(r.status, 201, r.raw[:300])
            self.assertIs(r.data["shell"], want)
            self.assertEqual(self.wait(r.data["id"])["state"], "succeeded")
        before = self.server.total()
        r = self.api("POST", "/api/v1/uploads?name=a.txt&command=cat&shell=yes",
                     raw=b"x", headers={"Content-Type": "application/octet-stream"})
        self.assertEqual((r.status, r.data["error"]["field"]), (400, "shell"))
        self.assertEqual(self.server.total(), before)

    def test_shell_survives_a_restart(self):
        g = self.gate()
        held = self.submit({"command": g.cmd})
        self.server.wait_running(held["id"])
        j = self.submit({"command": "cat /proc/self/stat", "shell": True})
        g.open()
        self.server.stop()
        self.server.start()
        self.assertIs(self.job(j["id"])["shell"], True)
