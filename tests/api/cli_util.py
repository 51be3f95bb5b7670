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


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 in front of a runneld that closes each
    connection once it has passed cut_after bytes from the server (None:
    never), so that a client must resume.  target() points it at another
    port (a restarted server)."""

    def __init__(self, port, cut_after=None):
        import socket
        import threading
        self.upstream = port
        self.cut_after = cut_after
        self.cuts = 0
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.port = self.lsock.getsockname()[1]
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def target(self, port):
        self.upstream = port

    def _accept(self):
        import threading
        while not self.closed:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        import selectors
        import socket
        try:
            u = socket.create_connection(("127.0.0.1", self.upstream))
        except OSError:
            c.close()
            return
        sel = selectors.DefaultSelector()
        sel.register(c, selectors.EVENT_READ, u)
        sel.register(u, selectors.EVENT_READ, c)
        passed = 0
        try:
            while not self.closed:
                for key, _ in sel.select(timeout=0.5):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    if key.fileobj is u and self.cut_after is not None:
                        room = self.cut_after - passed
                        if len(data) >= room:
                            key.data.sendall(data[:room])
                            self.cuts += 1
                            return
                        passed += len(data)
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            c.close()
            u.close()

    def close(self):
        self.closed = True
        self.lsock.close()
