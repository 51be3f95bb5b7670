"""runnel run, log and wait against a real runneld: exit statuses passed
through, both streams byte-exact (binary, invalid UTF-8), output live,
every attempt, a follow resumed over cut connections and over a server
restart, and Ctrl-C (cancel without a terminal; a question on one)."""
import os
import pty
import select
import signal
import subprocess
import time

from cli_util import CliMixin, CuttingProxy
from harness import RunnelTestCase, BASE_ARGS, scaled, wait_until

# bytes 0..255 and invalid UTF-8, written by printf from octal escapes
ALL_BYTES = bytes(range(256)) + b"\xff\xfe\xc3\x28\xe2\x82"
PRINTF_ALL = "printf '%s'" % "".join("\\%03o" % b for b in ALL_BYTES)
ERR_BYTES = b"err\x00\x80\xc0\n" * 3
PRINTF_ERR = "printf '%s' >&2" % "".join("\\%03o" % b for b in ERR_BYTES)


class RunTest(CliMixin, RunnelTestCase):
    SERVER_ARGS = BASE_ARGS + ["--retry-base", "0.05"]

    def test_exit_status_is_the_jobs(self):
        for cmd, status in (("true", 0), ("exit 3", 3), ("exit 255", 255),
                            ("kill -9 $$", 137), ("kill -TERM $$", 143)):
            p = self.cli("run", "--", cmd)
            self.assertEqual(p.returncode, status, (cmd, p.stderr))

    def test_a_job_that_fails_without_exit_status_exits_1(self):
        dep = int(self.cli("add", "--", "exit 1", check=0).stdout)
        p = self.cli("run", "--after", dep, "--", "echo never", check=1)
        self.assertEqual(p.stdout, b"")
        self.assertIn(b"dependency", p.stderr)

    def test_both_streams_byte_exact(self):
        p = self.cli("run", "--", "%s; %s" % (PRINTF_ALL, PRINTF_ERR), check=0)
        self.assertEqual(p.stdout, ALL_BYTES)
        self.assertEqual(p.stderr, ERR_BYTES)

    def test_big_output_byte_exact(self):
        p = self.cli("run", "--", "head -c 3000000 /dev/urandom | tee out.bin | "
                     "sha256sum >&2; cat out.bin", check=0, timeout=60)
        self.assertEqual(len(p.stdout), 3000000)
        import hashlib
        self.assertEqual(hashlib.sha256(p.stdout).hexdigest().encode(),
                         p.stderr.split()[0])

    def test_output_comes_while_the_job_runs(self):
        g = self.gate()
        p = self.cli_popen("run", "--", "echo first; %s; echo second" % g.cmd)
        line = self.read_line(p.stdout)
        self.assertEqual(line, b"first\n")
        self.assertIsNone(p.poll())
        g.open()
        rest, err = p.communicate(timeout=scaled(20))
        self.assertEqual(rest, b"second\n")
        self.assertEqual(p.returncode, 0)

    def test_every_attempt_is_followed(self):
        p = self.cli("run", "-r", "2", "--",
                     'echo "try $RUNNEL_ATTEMPT"; [ $RUNNEL_ATTEMPT = 3 ]',
                     check=0)
        self.assertEqual(p.stdout, b"try 1\ntry 2\ntry 3\n")

    def test_argv_form_and_stdin(self):
        src = os.path.join(self.tmp, "in.txt")
        with open(src, "w") as f:
            f.write("one\ntwo\n")
        p = self.cli("run", "--stdin", src, "--argv", "--", "sh", "-c",
                     'wc -l; echo "$0"', "a b", check=0)
        self.assertEqual(p.stdout, b"2\na b\n")

    def test_log_wait_and_attempts(self):
        jid = int(self.cli("add", "-r", "1", "--",
                           'echo "out $RUNNEL_ATTEMPT"; echo "err $RUNNEL_ATTEMPT" >&2;'
                           ' exit 4', check=0).stdout)
        p = self.cli("wait", jid, check=4)
        self.assertIn(b"exit status 4", p.stderr)
        self.assertEqual(self.cli("log", jid, check=0).stdout, b"out 2\n")
        self.assertEqual(self.cli("log", "--attempt", 1, jid, check=0).stdout, b"out 1\n")
        self.assertEqual(self.cli("log", "-e", jid, check=0).stdout, b"err 2\n")
        self.assertEqual(self.cli("log", "-f", jid, check=0).stdout, b"out 2\n")
        self.cli("log", "--attempt", 3, jid, check=3)
        self.cli("log", 999999, check=3)
        self.cli("wait", 999999, check=3)
        self.cli("log", "x", check=2)

    def test_wait_many_exits_with_the_first_failure(self):
        a = int(self.cli("add", "--", "true", check=0).stdout)
        b = int(self.cli("add", "--", "exit 7", check=0).stdout)
        c = int(self.cli("add", "--", "exit 9", check=0).stdout)
        self.cli("wait", a, b, c, check=7)
        self.cli("wait", a, c, b, check=9)
        self.cli("wait", a, check=0)

    def test_log_follow_from_the_start_of_a_queued_job(self):
        g = self.gate()
        jid = int(self.cli("add", "--delay", "0.5", "--",
                           "echo a; %s; echo b" % g.cmd, check=0).stdout)
        p = self.cli_popen("log", "-f", jid)
        self.assertEqual(self.read_line(p.stdout), b"a\n")
        g.open()
        out, _ = p.communicate(timeout=scaled(20))
        self.assertEqual(out, b"b\n")
        self.assertEqual(p.returncode, 0)

    def test_a_follow_resumes_over_cut_connections(self):
        proxy = CuttingProxy(self.server.port, cut_after=50000)
        self.addCleanup(proxy.close)
        url = "http://127.0.0.1:%d" % proxy.port
        p = self.cli("run", "--", "head -c 1000000 /dev/urandom > o.bin; "
                     "head -c 300000 /dev/urandom > e.bin; "
                     "sha256sum o.bin e.bin >&2; cat o.bin; cat e.bin >&2",
                     env={"RUNNEL_URL": url}, check=0, timeout=90)
        self.assertGreater(proxy.cuts, 10)
        import hashlib
        # stderr: sha256sum's two lines (72 bytes each), then e.bin
        sums = p.stderr[:2 * 72].split()
        self.assertEqual(len(p.stdout), 1000000)
        self.assertEqual(hashlib.sha256(p.stdout).hexdigest().encode(), sums[0])
        err_bytes = p.stderr[2 * 72:]
        self.assertEqual(len(err_bytes), 300000)
        self.assertEqual(hashlib.sha256(err_bytes).hexdigest().encode(), sums[2])

    def test_sigint_without_a_terminal_cancels_the_job(self):
        p = self.cli_popen("run", "--", "echo started; sleep 60")
        self.assertEqual(self.read_line(p.stdout), b"started\n")
        jid = self.newest_id()
        p.send_signal(signal.SIGINT)
        p.communicate(timeout=scaled(10))
        self.assertEqual(p.returncode, 130)
        self.assertEqual(self.wait(jid)["state"], "canceled")

    def read_line(self, f, timeout=20):
        end = time.monotonic() + scaled(timeout)
        buf = b""
        while not buf.endswith(b"\n"):
            r, _, _ = select.select([f], [], [], max(0, end - time.monotonic()))
            if not r:
                raise AssertionError("no line within %ss: %r" % (timeout, buf))
            b = os.read(f.fileno(), 1)
            if not b:
                raise AssertionError("end of output: %r" % buf)
            buf += b
        return buf

    def newest_id(self):
        return self.api("GET", "/api/v1/jobs?limit=1").data["jobs"][0]["id"]


class TerminalTest(CliMixin, RunnelTestCase):
    """Ctrl-C on a terminal: a pseudo-terminal is the client's controlling
    terminal, stdin and stderr."""

    def run_on_tty(self, *args):
        import fcntl
        import termios
        master, slave = pty.openpty()

        def ctty():
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        p = subprocess.Popen([self.bin()] + list(args), stdin=slave,
                             stdout=subprocess.PIPE, stderr=slave,
                             env=self.cli_env(), preexec_fn=ctty)
        os.close(slave)
        self.track_pid(p.pid)
        self.addCleanup(os.close, master)
        return p, master

    def bin(self):
        from harness import bin_path
        return bin_path("runnel")

    def read_tty_until(self, master, needle, timeout=20):
        end = time.monotonic() + scaled(timeout)
        buf = b""
        while needle not in buf:
            r, _, _ = select.select([master], [], [], max(0, end - time.monotonic()))
            if not r:
                raise AssertionError("%r not on the terminal: %r" % (needle, buf))
            buf += os.read(master, 4096)
        return buf

    def start_job(self):
        p, master = self.run_on_tty("run", "--", "echo started; sleep 60")
        line = b""
        while not line.endswith(b"\n"):
            line += p.stdout.read(1)
        jid = self.api("GET", "/api/v1/jobs?limit=1").data["jobs"][0]["id"]
        self.server.wait_running(jid)
        return p, master, jid

    def test_ctrl_c_then_detach_leaves_the_job_running(self):
        p, master, jid = self.start_job()
        os.write(master, b"\x03")	# the terminal's interrupt character
        self.read_tty_until(master, b"c: cancel it")
        os.write(master, b"d\n")
        p.wait(timeout=scaled(10))
        self.assertEqual(p.returncode, 0)
        self.assertIn(b"runnel log -f %d" % jid, self.read_tty_until(master, b"waits"))
        self.assertEqual(self.job(jid)["state"], "running")
        self.cancel(jid)

    def test_ctrl_c_then_cancel_ends_the_job_and_reports_it(self):
        p, master, jid = self.start_job()
        os.write(master, b"\x03")
        self.read_tty_until(master, b"c: cancel it")
        os.write(master, b"c\n")
        p.wait(timeout=scaled(15))
        self.assertEqual(p.returncode, 143)	# SIGTERM ended its group
        self.assertEqual(self.job(jid)["state"], "canceled")


class RestartTest(CliMixin, RunnelTestCase):
    SERVER_ARGS = ["--kill-grace", "1", "--shutdown-grace", "0.2"]

    def test_run_follows_across_a_server_restart(self):
        g = self.gate()
        # the job's first run is ended by the shutdown and goes back to the
        # queue; its second run writes the same first line, then the rest
        p = self.cli_popen("run", "--", "echo one; %s; echo two" % g.cmd)
        line = b""
        while not line.endswith(b"\n"):
            line += p.stdout.read(1)
        self.assertEqual(line, b"one\n")
        jid = self.api("GET", "/api/v1/jobs?limit=1").data["jobs"][0]["id"]
        port = self.server.port
        self.server.stop()
        self.server.listen = "127.0.0.1:%d" % port
        self.server.start()
        self.server.wait_running(jid)
        g.open()
        rest, err = p.communicate(timeout=scaled(30))
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(line + rest, self.server.output(jid))
        self.assertEqual(self.job(jid)["state"], "succeeded")

    def test_wait_across_a_server_restart(self):
        g = self.gate()
        jid = int(self.cli("add", "--delay", "1", "--", "%s; exit 5" % g.cmd,
                           check=0).stdout)
        p = self.cli_popen("wait", jid)
        port = self.server.port
        self.server.stop()
        self.assertIsNone(p.poll())
        self.server.listen = "127.0.0.1:%d" % port
        self.server.start()
        g.open()
        p.communicate(timeout=scaled(30))
        self.assertEqual(p.returncode, 5)
