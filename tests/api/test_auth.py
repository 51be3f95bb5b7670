"""Bearer tokens, the clean job environment, and the non-loopback refusal."""
import os
import subprocess

from harness import (RunnelTestCase, bin_path, clean_env, proc_environ,
                     scaled)

TOKEN = "s3cret-Token_value.42"
LEAK = "zz-server-only-value-9f1c"

PROTECTED = [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"), ("GET", "/api/v1/jobs/1"),
             ("DELETE", "/api/v1/jobs/1"), ("POST", "/api/v1/jobs/1/cancel"),
             ("POST", "/api/v1/jobs/1/retry"), ("GET", "/api/v1/jobs/1/output"),
             ("GET", "/api/v1/workers"), ("GET", "/api/v1/queues"),
             ("GET", "/api/v1/stats"), ("GET", "/api/v1/events"), ("GET", "/metrics"),
             ("GET", "/api/v1/nosuchroute")]

# Names a job may see (besides its spec's env).  The shell adds PWD and
# friends itself; they are not inherited.
ALLOWED_ENV = {"PATH", "HOME", "LANG", "TMPDIR", "RUNNEL_JOB_ID", "RUNNEL_ATTEMPT"}
SHELL_ENV = {"PWD", "OLDPWD", "SHLVL", "_"}


def env_names(output):
    return {line.split("=", 1)[0] for line in output.decode().splitlines() if "=" in line}


class TokenTest(RunnelTestCase):
    TOKEN = TOKEN
    SERVER_ENV = {"ZZ_SERVER_ONLY": LEAK, "RUNNEL_SOMETHING": LEAK}
    SERVER_ARGS = RunnelTestCase.SERVER_ARGS + ["--log-level", "debug"]

    def test_requests_without_the_right_token_are_401(self):
        wrong = [None, "Bearer", "Bearer ", "Bearer wrong", "Bearer " + TOKEN[:-1],
                 "Bearer " + TOKEN + "x", "Bearer " + TOKEN.upper(), "Basic " + TOKEN,
                 TOKEN, "Token " + TOKEN]
        for method, path in PROTECTED:
            for auth in wrong:
                with self.subTest(method=method, path=path, auth=auth):
                    headers = {"Authorization": auth} if auth else {}
                    r = self.api(method, path, token=False, headers=headers,
                                 body={"command": "true"} if method == "POST" else None)
                    self.assertError(r, 401, "unauthorized")
                    self.assertIn("Bearer", r.headers.get("WWW-Authenticate", ""))

    def test_refused_submit_stores_nothing(self):
        before = self.server.total()
        r = self.api("POST", "/api/v1/jobs", token="nope", body={"command": "true"})
        self.assertError(r, 401, "unauthorized")
        self.assertEqual(self.server.total(), before)

    def test_session_sign_in_and_out(self):
        r = self.api("GET", "/api/v1/session", token=False)
        self.assertEqual((r.status, r.data), (200, {"auth": True, "authorized": False}),
                         "a page may ask whether it is signed in without a token")
        r = self.api("POST", "/api/v1/session", token="wrong")
        self.assertError(r, 401, "unauthorized")
        r = self.api("POST", "/api/v1/session")
        self.assertEqual(r.status, 201)
        cookie = r.headers["Set-Cookie"].split(";", 1)[0]
        self.assertIn("HttpOnly", r.headers["Set-Cookie"])
        r = self.api("GET", "/api/v1/session", token=False, headers={"Cookie": cookie})
        self.assertEqual(r.data, {"auth": True, "authorized": True})
        r = self.api("GET", "/api/v1/jobs", token=False, headers={"Cookie": cookie})
        self.assertEqual(r.status, 200, "the session cookie stands in for the token")
        r = self.api("DELETE", "/api/v1/session", token=False, headers={"Cookie": cookie})
        self.assertEqual(r.status, 204)
        r = self.api("GET", "/api/v1/jobs", token=False, headers={"Cookie": cookie})
        self.assertError(r, 401, "unauthorized")
        r = self.api("GET", "/api/v1/session", token=False, headers={"Cookie": cookie})
        self.assertEqual(r.data, {"auth": True, "authorized": False})

    def test_healthz_is_public(self):
        r = self.api("GET", "/healthz", token=False)
        self.assertEqual((r.status, r.data), (200, {"status": "ok"}))

    def test_the_right_token_works(self):
        j = self.submit({"command": "true"})
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        r = self.api("GET", "/api/v1/jobs/%d" % j["id"], token=False,
                     headers={"Authorization": "bearer " + TOKEN})
        self.assertEqual(r.status, 200, "the auth scheme is case-insensitive")
        r = self.api("GET", "/metrics")
        self.assertEqual(r.status, 200)

    def test_events_with_the_token(self):
        ev = self.server.events()
        try:
            self.assertEqual(ev.status, 200)
            self.assertEqual(ev.next(10)["retry"], "2000")
        finally:
            ev.close()

    def test_jobs_never_see_the_token_or_the_server_environment(self):
        for spec in ({"argv": ["env"]}, {"command": "env"},
                     {"command": "cat /proc/self/environ | tr '\\0' '\\n'"},
                     {"argv": ["env"], "env": {"MINE": "1"}}):
            with self.subTest(spec=spec):
                j = self.submit(spec)
                self.assertEqual(self.wait(j["id"])["state"], "succeeded")
                out = self.output(j["id"])
                self.assertNotIn(TOKEN.encode(), out)
                self.assertNotIn(LEAK.encode(), out)
                names = env_names(out)
                extra = names - ALLOWED_ENV - set(spec.get("env", {}))
                if "command" in spec:
                    extra -= SHELL_ENV
                self.assertEqual(extra, set(), "unexpected variables in the job's env")
                self.assertIn("RUNNEL_JOB_ID", names)
                self.assertIn("PATH", names)

    def test_workers_never_see_the_token(self):
        pids = self.server.worker_pids()
        self.assertTrue(pids)
        for pid in pids:
            env = proc_environ(pid)
            self.assertIsNotNone(env)
            self.assertNotIn(TOKEN.encode(), env)
            self.assertNotIn(LEAK.encode(), env)

    def test_the_token_is_never_logged(self):
        self.api("GET", "/api/v1/stats", token="Bearer-guess-" + TOKEN[:4])
        self.submit({"command": "true"})
        self.assertNotIn(TOKEN.encode(), self.server.log())


class TokenFileTest(RunnelTestCase):
    START_SERVER = False

    def test_token_file_without_its_trailing_newline(self):
        path = os.path.join(self.tmp, "token")
        with open(path, "w") as f:
            f.write("file-token-77\n")
        s = self.new_server("tokenfile", args=self.SERVER_ARGS + ["--token-file", path])
        s.token = "file-token-77"
        s.start()
        self.assertEqual(s.api("GET", "/api/v1/stats").status, 200)
        self.assertEqual(s.api("GET", "/api/v1/stats", token=False).status, 401)
        self.assertEqual(s.api("GET", "/api/v1/stats", token="file-token-7").status, 401)
        self.assertEqual(s.stop(), 0)


class ListenTest(RunnelTestCase):
    START_SERVER = False

    def test_non_loopback_without_a_token_refuses_to_start(self):
        data = os.path.join(self.tmp, "refused-data")
        p = subprocess.run([bin_path("runneld"), "--listen", "0.0.0.0:0", "--data", data,
                            "--workers", "1"], env=clean_env(), capture_output=True,
                           timeout=scaled(20), stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        err = p.stderr.decode(errors="replace")
        self.assertIn("token", err.lower(), err)
        self.assertNotIn("listening on", err)

    def test_non_loopback_with_insecure_starts(self):
        s = self.new_server("insecure", listen="0.0.0.0:0",
                            args=self.SERVER_ARGS + ["--insecure"], workers=1)
        s.start()
        self.assertEqual(s.api("GET", "/api/v1/stats").status, 200)
        self.assertEqual(s.stop(), 0)

    def test_non_loopback_with_a_token_starts(self):
        s = self.new_server("withtoken", listen="0.0.0.0:0", token="tok-1", workers=1)
        s.start()
        self.assertEqual(s.api("GET", "/api/v1/stats").status, 200)
        self.assertEqual(s.api("GET", "/api/v1/stats", token=False).status, 401)
        self.assertEqual(s.stop(), 0)

    def test_empty_environment_values_are_unset(self):
        # docker-compose passes RUNNEL_X= for a setting left blank in .env.
        s = self.new_server("emptyenv", workers=1,
                            env={"RUNNEL_LOG_LEVEL": "", "RUNNEL_MAX_UPLOAD": "",
                                 "RUNNEL_SHUTDOWN_GRACE": ""})
        s.start()
        j = s.submit({"command": "true"})
        self.assertEqual(s.wait(j["id"])["state"], "succeeded")
        self.assertEqual(s.stop(), 0)

    def test_a_bad_environment_value_is_named(self):
        p = subprocess.run([bin_path("runneld"), "--listen", "127.0.0.1:0", "--data",
                            os.path.join(self.tmp, "badenv")],
                           env=clean_env({"RUNNEL_SHUTDOWN_GRACE": "soon"}),
                           capture_output=True, timeout=scaled(20), stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("RUNNEL_SHUTDOWN_GRACE", p.stderr.decode(errors="replace"))
