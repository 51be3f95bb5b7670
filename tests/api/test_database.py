"""--database as an operator meets it: documented in --help, a wrong URL,
an unreachable server or a database of a newer runneld stop runneld at
start-up with exit status 1 and one line that says why (naming the
database, its password masked), the start-up line names the backend, and
a password never reaches the log, the environment or the process's
arguments.  Most of this needs no PostgreSQL server and runs in either
suite; what needs one runs on PostgreSQL only."""
import os
import re
import time

import harness_pg
from harness import (BACKEND, POSTGRESQL, RunnelTestCase, bin_path, postgresql_only,
                     run_runneld, scaled, wait_until)

SECRET = "hunter2-s3cret"
# Unix sockets in a directory that does not exist: nothing listens there.
NOWHERE = "/nonexistent-runnel-test"


def lines_of(out):
    return [l for l in out.splitlines() if l.strip()]


class DatabaseOptionTest(RunnelTestCase):
    START_SERVER = False

    def refused(self, database=None, env=None, level="error", what=""):
        """runneld's (status, lines) when started on database."""
        args = ["--listen", "127.0.0.1:0", "--data", os.path.join(self.tmp, "data"),
                "--workers", "1", "--log-level", level]
        if database is not None:
            args += ["--database", database]
        rc, out = run_runneld(args, env=env)
        self.assertEqual(rc, 1, "%s: %s" % (what or database, out))
        self.assertNotIn("listening on", out)
        return lines_of(out)

    def assertOneLine(self, lines, *expect):
        self.assertEqual(len(lines), 1, "\n".join(lines))
        self.assertIn(" error: runneld: could not start: ", lines[0])
        for e in expect:
            self.assertIn(e, lines[0])

    def test_help_documents_the_option_and_its_variable(self):
        rc, out = run_runneld(["--help"])
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"--database URL +\S")
        self.assertIn("RUNNEL_DATABASE", out)

    def test_a_string_that_is_not_postgresqls_stops_it_before_anything(self):
        data = os.path.join(self.tmp, "never-made")
        for bad in ("garbage", "mysql://h/runnel", "./runnel.db", "/srv/runnel.db"):
            with self.subTest(database=bad):
                rc, out = run_runneld(["--listen", "127.0.0.1:0", "--data", data,
                                       "--database", bad, "--log-level", "error"])
                self.assertEqual(rc, 1, out)
                self.assertOneLine(lines_of(out), bad, "not a PostgreSQL URI")
                self.assertFalse(os.path.exists(data), "runneld made its data "
                                 "directory for a database it cannot use")

    def test_a_wrong_url_stops_it_with_one_line(self):
        for bad in ("postgresql://localhost:notaport/runnel",
                    "postgresql:///runnel?host=%s&nosuchoption=1" % NOWHERE,
                    "dbname=runnel nosuchoption=1",
                    "dbname='runnel"):
            with self.subTest(database=bad):
                self.assertOneLine(self.refused(bad), "database ")

    def test_the_variable_is_read_like_the_flag(self):
        lines = self.refused(env={"RUNNEL_DATABASE": "garbage"})
        self.assertOneLine(lines, "garbage", "not a PostgreSQL URI")
        lines = self.refused(env={"RUNNEL_DATABASE": "postgresql:///runnel?host=" + NOWHERE})
        self.assertOneLine(lines, "database postgresql:///runnel?host=" + NOWHERE)

    def test_an_unreachable_server_stops_it_at_once(self):
        url = "postgresql:///runnel?host=%s&connect_timeout=30" % NOWHERE
        t0 = time.monotonic()
        lines = self.refused(url)
        took = time.monotonic() - t0
        self.assertOneLine(lines, "database " + url)
        self.assertLess(took, scaled(5), "runneld took %.1fs to give up" % took)
        # at the default level too, its last line is the verdict
        lines = self.refused(url, level="info")
        self.assertIn(" error: runneld: could not start: database " + url, lines[-1])

    def test_a_password_never_reaches_the_log(self):
        for url, shown in (
                ("postgresql://runnel:%s@/runnel?host=%s" % (SECRET, NOWHERE),
                 "postgresql://runnel:***@/runnel?host=" + NOWHERE),
                ("postgresql:///runnel?host=%s&password=%s" % (NOWHERE, SECRET),
                 "password=***"),
                ("host=%s dbname=runnel password=%s" % (NOWHERE, SECRET),
                 "host=%s dbname=runnel password=***" % NOWHERE),
                ("host=%s dbname=runnel password='%s x'" % (NOWHERE, SECRET),
                 "password='***'")):
            with self.subTest(database=url):
                lines = self.refused(url, level="debug")
                self.assertNotIn(SECRET, "\n".join(lines))
                self.assertIn(shown, lines[-1])
                lines = self.refused(env={"RUNNEL_DATABASE": url}, level="debug")
                self.assertNotIn(SECRET, "\n".join(lines))


class StartUpLineTest(RunnelTestCase):
    WORKERS = 1

    def test_the_start_up_line_names_the_backend(self):
        m = re.search(rb"listening on http://\S+ data=\S+ store=(\S+)( database=(\S+))? workers=1 ",
                      self.server.log())
        self.assertTrue(m, self.server.log()[-500:])
        self.assertEqual(m.group(1).decode(), BACKEND)
        if POSTGRESQL:
            self.assertEqual(m.group(3).decode(), harness_pg.masked(self.server.database))
        else:
            self.assertIsNone(m.group(2))


def proc_bytes(pid, what):
    with open("/proc/%d/%s" % (pid, what), "rb") as f:
        return f.read()


@postgresql_only("needs a server to connect to")
class PasswordTest(RunnelTestCase):
    START_SERVER = False
    WORKERS = 1

    def with_password(self, url):
        """url with a password: the suite's server trusts local users, so
        any password connects, and none may show."""
        if url.startswith("postgresql://"):
            return url + "&password=" + SECRET
        return url + " password=" + SECRET

    def test_a_password_stays_out_of_log_arguments_and_environment(self):
        s = self.new_server("flag")
        s.start()	# makes its database
        s.stop()
        url = self.with_password(s.database)
        for how in ("flag", "variable"):
            with self.subTest(how=how):
                s2 = self.new_server("by-" + how, data=s.data, database=False)
                if how == "flag":
                    s2.args = s2.args + ["--database", url]
                else:
                    s2.env["RUNNEL_DATABASE"] = url
                s2.start()
                log = s2.log()
                self.assertIn(b"password=***", log)
                self.assertNotIn(SECRET.encode(), log)
                # ps shows neither runneld's nor its workers' (jobs run
                # as the same user and can read them)
                for pid in [s2.pid] + s2.worker_pids():
                    for what in ("cmdline", "environ"):
                        self.assertNotIn(SECRET.encode(), proc_bytes(pid, what),
                                         "/proc/%d/%s" % (pid, what))
                j = s2.submit({"command": "true"})
                self.assertEqual(s2.wait(j["id"])["state"], "succeeded")
                self.assertEqual(s2.stop(), 0)


@postgresql_only("a PostgreSQL database's schema version")
class NewerSchemaTest(RunnelTestCase):
    START_SERVER = False
    WORKERS = 1

    def snapshot(self, s):
        """What a runneld could change in its database: tables, versions, jobs."""
        return s.sql("SELECT string_agg(table_name, ',' ORDER BY table_name) "
                     "FROM information_schema.tables WHERE table_schema = 'public'"), \
            s.sql("SELECT * FROM runnel_schema"), s.sql("SELECT count(*), max(id) FROM jobs")

    def test_a_database_of_a_newer_runneld_is_refused_untouched(self):
        s = self.new_server()
        s.start()
        j = s.submit({"command": "true"})
        self.assertEqual(s.wait(j["id"])["state"], "succeeded")
        self.assertEqual(s.stop(), 0)
        s.sql("UPDATE runnel_schema SET version = version + 1")
        before = self.snapshot(s)
        rc, out = run_runneld(["--listen", "127.0.0.1:0", "--data", s.data,
                               "--workers", "1", "--database", s.database,
                               "--log-level", "error"])
        self.assertEqual(rc, 1, out)
        lines = lines_of(out)
        self.assertEqual(len(lines), 1, out)
        self.assertRegex(lines[0], r"error: runneld: could not start: database .*newer")
        self.assertEqual(self.snapshot(s), before)
