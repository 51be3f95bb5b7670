"""Shared helpers for runnel's benchmarks: start a runneld, talk to it.

Standard library only.  A benchmark prints numbers; it asserts nothing.
"""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time


class Server:
    """A runneld on a free port with its own data directory."""

    def __init__(self, bindir, workers=2, args=(), env=None):
        self.dir = tempfile.mkdtemp(prefix="runnel-bench-")
        self.data = os.path.join(self.dir, "data")
        # O_APPEND: seeking to read it back must not move where runneld
        # writes (one open file, shared with the child)
        self.log = open(os.path.join(self.dir, "runneld.log"), "a+")
        e = {k: v for k, v in os.environ.items() if not k.startswith("RUNNEL_")}
        e.update(env or {})
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "runneld"), "--listen", "127.0.0.1:0",
             "--data", self.data, "--workers", str(workers), *args],
            stdout=self.log, stderr=self.log, env=e)
        self.port = self._port()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        self.used = time.monotonic()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.request("GET", "/healthz")[0] == 200:
                return
            time.sleep(0.01)
        raise RuntimeError("runneld did not become healthy")

    def _port(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            self.log.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError("runneld exited")
            time.sleep(0.01)
        raise RuntimeError("runneld did not say where it listens")

    def request(self, method, path, body=None, raw=False):
        headers = {}
        if body is not None:
            if not isinstance(body, (bytes, bytearray)):
                body = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        # runneld closes a keep-alive connection idle for 120 s (a long
        # baseline round in between): take a new one before it does.
        if time.monotonic() - self.used > 60:
            self.conn.close()
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        self.used = time.monotonic()
        data = r.read()
        if not raw and r.headers.get("Content-Type", "").startswith("application/json"):
            data = json.loads(data)
        return r.status, data

    def submit(self, spec):
        status, data = self.request("POST", "/api/v1/jobs", spec)
        if status != 201:
            raise RuntimeError("submit: %s %s" % (status, data))
        return data

    def wait(self, job_id, timeout=300):
        status, data = self.request("GET", "/api/v1/jobs/%d?wait=%d" % (job_id, timeout))
        return data

    def pid_rss_kb(self, pid=None):
        with open("/proc/%d/status" % (pid or self.proc.pid)) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def workers(self):
        return self.request("GET", "/api/v1/workers")[1]["workers"]

    def cpu_s(self, pid=None):
        """User+system CPU seconds of a process (and its reaped children)."""
        with open("/proc/%d/stat" % (pid or self.proc.pid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick

    def stop(self):
        self.conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Reader:
    """GET path on a connection of its own every 2 ms, from a thread,
    until stop(), which returns every answer's time in ms."""

    def __init__(self, port, path="/healthz"):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.path = path
        self.times = []
        self.stop_ = threading.Event()
        self.thread = threading.Thread(target=self.run)
        self.thread.start()

    def run(self):
        while not self.stop_.is_set():
            t = time.monotonic()
            self.conn.request("GET", self.path)
            r = self.conn.getresponse()
            r.read()
            assert r.status == 200, r.status
            self.times.append((time.monotonic() - t) * 1000)
            self.stop_.wait(0.002)

    def stop(self):
        self.stop_.set()
        self.thread.join()
        self.conn.close()
        return self.times


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def percentile(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def default_bindir():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(os.path.dirname(here), "build-release", "bin")
