"""Start-up as a careless operator meets it: a second runneld on a data
directory in use, a port that is taken, a data directory that cannot be
made, the cause of a failed start at --log-level error, .ci/serve's
defaults giving way to the environment; and the log lines an operator
reads (one per finished job, the optional access log)."""
import os
import re
import socket

import harness_pg
from harness import (POSTGRESQL, RunnelTestCase, bin_path, exchange, pid_running,
                     run_runneld, wait_until)

SERVE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     ".ci", "serve")


def listing(path):
    """Every path below path with its size and mtime."""
    out = {}
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            out[os.path.relpath(p, path)] = (st.st_size, st.st_mtime_ns)
    return out


class SecondInstanceTest(RunnelTestCase):
    WORKERS = 1

    def database_rows(self, s):
        """On PostgreSQL, what a second runneld could have changed in the
        database (on SQLite, runnel.db's size and time say it)."""
        if not POSTGRESQL:
            return None
        return s.sql("SELECT (SELECT version FROM runnel_schema), string_agg("
                     "id || ':' || state || ':' || attempts, ',' ORDER BY id) FROM jobs")

    def test_a_second_runneld_on_a_data_directory_in_use_refuses_and_touches_nothing(self):
        s = self.server
        gate = self.gate()
        j = self.submit({"command": gate.cmd + "; echo done"})
        info = s.wait_running(j["id"])
        self.track_pid(info["pid"])
        queued = self.submit({"command": "echo later"})
        scratch = os.path.join(s.data, "scratch")
        before = listing(s.data)
        rows = self.database_rows(s)
        for listen in ("127.0.0.1:0", "127.0.0.1:%d" % s.port):
            with self.subTest(listen=listen):
                rc, out = run_runneld(["--listen", listen, "--data", s.data,
                                       "--workers", "1"])
                self.assertEqual(rc, 1, out)
                self.assertIn("data directory %s is in use by runneld pid %d" %
                              (s.data, s.pid), out)
                self.assertNotIn("migration", out)
                self.assertNotIn("restarted", out)
        # nothing below the data directory changed: not the database,
        # not the running job's scratch directory
        after = listing(s.data)
        for name in ("runnel.db", "runnel.lock"):
            self.assertEqual(after.get(name), before.get(name), name)
        self.assertEqual(self.database_rows(s), rows)
        self.assertTrue(os.path.isdir(scratch))
        self.assertEqual(s.job(j["id"])["state"], "running")
        self.assertTrue(pid_running(info["pid"]))
        gate.open()
        done = self.wait(j["id"])
        self.assertEqual((done["state"], done["error"]), ("succeeded", None))
        self.assertEqual(self.output(j["id"]), b"done\n")
        self.assertEqual(self.wait(queued["id"])["state"], "succeeded")


class StartFailureTest(RunnelTestCase):
    START_SERVER = False

    def test_a_taken_port_fails_before_the_data_directory_is_made(self):
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        data = os.path.join(self.tmp, "never-made")
        try:
            rc, out = run_runneld(["--listen", "127.0.0.1:%d" % taken.getsockname()[1],
                                   "--data", data, "--log-level", "error"])
        finally:
            taken.close()
        self.assertEqual(rc, 1, out)
        self.assertFalse(os.path.exists(data), "runneld made its data directory "
                         "though it could not serve")
        if POSTGRESQL:
            tables = harness_pg.psql(harness_pg.for_data(data), "SELECT count(*) FROM "
                                     "information_schema.tables WHERE table_schema = 'public'")
            self.assertEqual(tables, "0", "runneld made tables though it could not serve")
        # the cause is at error, the level asked for
        self.assertRegex(out, r"error: .*could not start: .*Address already in use")

    def test_the_cause_of_a_failed_start_is_logged_at_error(self):
        blocker = os.path.join(self.tmp, "a-file")
        with open(blocker, "w") as f:
            f.write("not a directory\n")
        rc, out = run_runneld(["--listen", "127.0.0.1:0", "--data",
                               os.path.join(blocker, "data"), "--log-level", "error"])
        self.assertEqual(rc, 1, out)
        lines = [l for l in out.splitlines() if l.strip()]
        self.assertTrue(lines, "nothing logged")
        self.assertTrue(all(" error: " in l for l in lines), out)
        self.assertRegex(out, r"could not start: .*%s.*Not a directory" %
                         re.escape(blocker))

    def test_environment_variables_choose_listen_data_and_database(self):
        data = os.path.join(self.tmp, "from-env")
        s = self.new_server("envserver", listen=None, data=data)
        s.env.update({"RUNNEL_LISTEN": "127.0.0.1:0", "RUNNEL_DATA": data})
        if POSTGRESQL:
            s.env["RUNNEL_DATABASE"] = s.database
        s.argv = lambda: [bin_path("runneld"), "--workers", "1"]
        s.start()
        self.assertTrue(os.path.isfile(os.path.join(data, "runnel.lock")))
        self.assertEqual(os.path.isfile(os.path.join(data, "runnel.db")), not POSTGRESQL)
        j = s.submit({"command": "echo hi"})
        self.assertEqual(s.wait(j["id"])["state"], "succeeded")
        s.stop()
        if POSTGRESQL:
            self.assertEqual(s.sql("SELECT count(*) FROM jobs"), "1")


class ServeScriptTest(RunnelTestCase):
    """.ci/serve, the quick start, run whole but for its install and build
    (RUNNEL_SERVE_BIN names the runneld to run): its defaults, 127.0.0.1:8080
    and ./data, give way to RUNNEL_LISTEN and RUNNEL_DATA, and its arguments
    to runneld win over both."""
    START_SERVER = False

    def free_port(self):
        with socket.socket() as sk:
            sk.bind(("127.0.0.1", 0))
            return sk.getsockname()[1]

    def serve(self, name, data, env, args=()):
        s = self.new_server(name, listen=None, data=data)
        s.env.update({"RUNNEL_SERVE_BIN": os.path.dirname(bin_path("runneld")),
                      "RUNNEL_WORKERS": "1"})
        s.env.update(env)
        if POSTGRESQL:
            s.env["RUNNEL_DATABASE"] = s.database
        s.argv = lambda: ["sh", SERVE] + list(args)
        return s.start()

    def test_serve_honours_runnel_listen_and_runnel_data(self):
        port = self.free_port()
        data = os.path.join(self.tmp, "serve-env")
        s = self.serve("serve-env", data, {"RUNNEL_LISTEN": "127.0.0.1:%d" % port,
                                           "RUNNEL_DATA": data})
        self.assertEqual(s.port, port)
        self.assertTrue(os.path.isfile(os.path.join(data, "runnel.lock")))
        self.assertTrue(pid_running(s.pid))     # exec'd: the script's pid is runneld's
        j = s.submit({"command": "echo hi"})
        self.assertEqual(s.wait(j["id"])["state"], "succeeded")
        s.stop()

    def test_serve_arguments_win_over_the_environment(self):
        port = self.free_port()
        data = os.path.join(self.tmp, "serve-arg")
        unused = os.path.join(self.tmp, "serve-unused")
        s = self.serve("serve-arg", data,
                       {"RUNNEL_LISTEN": "127.0.0.1:1", "RUNNEL_DATA": unused},
                       ["--listen", "127.0.0.1:%d" % port, "--data", data])
        self.assertEqual(s.port, port)
        self.assertTrue(os.path.isfile(os.path.join(data, "runnel.lock")))
        self.assertFalse(os.path.exists(unused))
        s.stop()


class OperatorLogTest(RunnelTestCase):
    WORKERS = 1
    SERVER_ARGS = RunnelTestCase.SERVER_ARGS + ["--access-log"]

    def test_each_finished_job_has_an_info_line(self):
        a = self.submit({"command": "exit 3"})
        b = self.submit({"command": "true"})
        self.wait(a["id"])
        self.wait(b["id"])

        def lines():
            log = self.server.log().decode(errors="replace")
            got = {}
            for jid in (a["id"], b["id"]):
                m = re.search(r" info: job=%d state=(\w+) exit=(\S+) "
                              r"duration=(\d+\.\d{3})s" % jid, log)
                if not m:
                    return None
                got[jid] = m.groups()
            return got
        got = wait_until(lines, 10, "a finished line per job")
        self.assertEqual(got[a["id"]][:2], ("failed", "3"))
        self.assertEqual(got[b["id"]][:2], ("succeeded", "0"))

    def test_the_access_log_has_a_line_per_request(self):
        self.api("GET", "/api/v1/jobs/999999")
        log = wait_until(lambda: re.search(
            rb'info: access client=127\.0\.0\.1 method=GET path=/api/v1/jobs/999999 '
            rb'status=404 bytes=\d+ ms=\d+\.\d', self.server.log()), 10,
            "the access log line")
        self.assertTrue(log)
        # the token never reaches it, nor does a query string
        self.api("GET", "/api/v1/jobs?limit=1&state=failed")
        wait_until(lambda: b"path=/api/v1/jobs status=200" in self.server.log(),
                   10, "the list request's line")
        self.assertNotIn(b"limit=1", self.server.log())

    def test_refusals_at_the_door_are_logged_and_counted(self):
        before = self.api("GET", "/metrics").raw.decode()
        raw, _ = exchange(self.server.port, b"GARBAGE\r\n\r\n")
        self.assertTrue(raw.startswith(b"HTTP/1.1 400 "), raw)
        wait_until(lambda: re.search(rb"info: access client=127\.0\.0\.1 method=- path=- "
                                     rb"status=400 bytes=- ms=-", self.server.log()), 10,
                   "the refusal's access line")

        def count(text):
            m = re.search(r'(?m)^runnel_http_requests_total\{code="400"\} (\d+)$', text)
            return int(m.group(1)) if m else 0
        self.assertEqual(count(self.api("GET", "/metrics").raw.decode()), count(before) + 1)
