"""Running the `runnel` client (build/bin/runnel) against a test's runneld.

CliMixin.cli(*args) runs it with RUNNEL_URL pointing at the class's
server (or server=), the class's token in RUNNEL_TOKEN, and a HOME of its
own so that no user's config file is read; it returns the
CompletedProcess with stdout and stderr as bytes.
"""
import os
import subprocess

from harness import bin_path, clean_env, scaled


class CliMixin:
    def cli_env(self, server=None, extra=None):
        server = server or self.server
        home = os.path.join(self.tmp, "home")
        os.makedirs(home, exist_ok=True)
        env = clean_env({"HOME": home, "RUNNEL_URL": "http://127.0.0.1:%d" % server.port})
        env.pop("NO_COLOR", None)
        env.pop("XDG_CONFIG_HOME", None)
        if getattr(server, "token", None):
            env["RUNNEL_TOKEN"] = server.token
        env.update(extra or {})
        return env

    def cli(self, *args, server=None, env=None, input=None, timeout=30,
            check=None):
        """Runs runnel ARGS; check=N asserts the exit status is N."""
        p = subprocess.run([bin_path("runnel")] + [str(a) for a in args],
                           env=self.cli_env(server, env), input=input,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=scaled(timeout))
        if check is not None and p.returncode != check:
            raise AssertionError("runnel %s: exit %d, expected %d\nstdout: %r\n"
                                 "stderr: %r" % (" ".join(map(str, args)),
                                                 p.returncode, check,
                                                 p.stdout[-2000:], p.stderr[-2000:]))
        return p

    def cli_popen(self, *args, server=None, env=None, **kw):
        """runnel ARGS as a running process (pipes for stdout/stderr)."""
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen([bin_path("runnel")] + [str(a) for a in args],
                             env=self.cli_env(server, env), **kw)
        self.track_pid(p.pid)
        return p
