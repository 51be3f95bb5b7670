"""runnel add: the job spec from options, ids, errors and exit codes."""
from cli_util import CliMixin
from harness import RunnelTestCase


class AddTest(CliMixin, RunnelTestCase):
    def test_add_prints_the_id_of_a_job_that_runs(self):
        p = self.cli("add", "--", "echo", "hello", check=0)
        jid = int(p.stdout)
        j = self.wait(jid)
        self.assertEqual(j["command"], "echo hello")
        self.assertEqual(j["state"], "succeeded")
        self.assertEqual(self.server.output(jid), b"hello\n")

    def test_options_become_the_spec(self):
        p = self.cli("add", "--json", "-q", "media", "-p", "-5", "-n", "the name",
                     "-e", "A=1", "--env", "B=x=y", "-t", "1m", "-r", "2",
                     "--delay", "1h", "-l", "mem=1G", "--limit", "files=64",
                     "--argv", "--", "ls", "-l", "a b", check=0)
        import json
        j = json.loads(p.stdout)
        self.assertEqual(j["queue"], "media")
        self.assertEqual(j["priority"], -5)
        self.assertEqual(j["name"], "the name")
        self.assertEqual(j["env"], {"A": "1", "B": "x=y"})
        self.assertEqual(j["timeout"], 60)
        self.assertEqual(j["max_attempts"], 3)
        self.assertEqual(j["state"], "scheduled")
        self.assertEqual(j["argv"], ["ls", "-l", "a b"])
        self.assertIsNone(j["command"])
        self.assertEqual(j["limits"]["memory_mb"], 1024)
        self.assertEqual(j["limits"]["open_files"], 64)

    def test_a_refused_spec_prints_the_servers_message_and_exits_6(self):
        before = self.server.total()
        p = self.cli("add", "-q", "bad queue!", "--", "true", check=6)
        self.assertIn(b"queue", p.stderr)
        self.assertEqual(p.stdout, b"")
        self.assertEqual(self.server.total(), before)

    def test_usage_errors_exit_2_and_send_nothing(self):
        before = self.server.total()
        for args in (["add"], ["add", "--priority", "x", "--", "true"],
                     ["add", "--bogus", "--", "true"], ["nosuchcommand"],
                     ["add", "--limit", "mem", "--", "true"]):
            p = self.cli(*args, check=2)
            self.assertTrue(p.stderr, args)
        self.assertEqual(self.server.total(), before)

    def test_unreachable_server_exits_5(self):
        p = self.cli("add", "--url", "http://127.0.0.1:1", "--", "true", check=5)
        self.assertIn(b"cannot reach", p.stderr)

    def test_idempotency_key_makes_one_job(self):
        before = self.server.total()
        a = self.cli("add", "--idempotency-key", "k1", "--", "true", check=0)
        b = self.cli("add", "--idempotency-key", "k1", "--", "true", check=0)
        self.assertEqual(a.stdout, b.stdout)
        self.assertEqual(self.server.total(), before + 1)


class AuthTest(CliMixin, RunnelTestCase):
    TOKEN = "s3cret-token"

    def test_token_from_the_environment_or_config_file(self):
        self.cli("add", "--", "true", check=0)
        p = self.cli("add", "--", "true", env={"RUNNEL_TOKEN": "wrong"}, check=4)
        self.assertIn(b"submit", p.stderr)
        import os
        cfg = os.path.join(self.tmp, "cfg")
        with open(cfg, "w") as f:
            f.write("# runnel\nurl = http://127.0.0.1:%d\ntoken = %s\n" %
                    (self.server.port, self.TOKEN))
        os.chmod(cfg, 0o600)
        env = {"RUNNEL_CONFIG": cfg, "RUNNEL_TOKEN": "", "RUNNEL_URL": ""}
        p = self.cli("add", "--", "true", env=env, check=0)
        self.assertEqual(p.stderr, b"")


class DrainingServerTest(CliMixin, RunnelTestCase):
    SERVER_ARGS = ["--kill-grace", "1", "--shutdown-grace", "60"]

    def test_a_server_that_refuses_writes_gives_status_7(self):
        import signal
        g = self.gate()
        jid = self.submit({"command": g.cmd})["id"]
        self.server.wait_running(jid)
        self.server.send_signal(signal.SIGTERM)	# drains: writes get 503
        from harness import wait_until
        wait_until(lambda: self.api("POST", "/api/v1/jobs",
                                    body={"command": "true"}).status == 503,
                   what="runneld to refuse writes while draining")
        p = self.cli("add", "--", "true", check=7)
        self.assertIn(b"submit", p.stderr)
        g.open()
        self.server.wait_exit()
