"""Shared helpers for runnel's black-box API tests (Python standard library only).

A test class derives from RunnelTestCase: setUpClass starts one runneld on a
free port with a fresh data directory in a temp dir, tearDownClass stops it
with SIGTERM and checks that it exited 0 and that its stderr (where the
workers log too) holds no sanitizer report.

Synchronisation is by condition, never by sleeping "long enough":
?wait= on a job, wait_until(cond) with a deadline, fifo gates the test
opens when it is ready, reading a stream until the expected bytes arrive.

What more than one test module needs lives here, once: shortcuts on
RunnelTestCase (batches, queues, events, the wall clock), raw HTTP on a
socket (exchange).  The upload tests' own helpers are in harness_uploads.py.

The runneld and runnel-worker binaries come from the directory in the
RUNNEL_API_TEST_BIN environment variable (run.py sets it from --bin).
Deadlines are multiplied by RUNNEL_API_TEST_SCALE (default 1; a sanitizer
build may want 3).  With RUNNEL_API_TEST_PG_URL (run.py --database-url)
every runneld gets a PostgreSQL database of its own (harness_pg.py);
sqlite_only() marks the few tests that are about SQLite's file itself.
"""
import datetime
import errno
import glob
import hashlib
import http.client
import io
import itertools
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness_pg
from harness_pg import BACKEND, POSTGRESQL

BIN_DIR = os.environ.get("RUNNEL_API_TEST_BIN", "")
SCALE = float(os.environ.get("RUNNEL_API_TEST_SCALE", "1") or "1")
KEEP = os.environ.get("RUNNEL_API_TEST_KEEP", "") not in ("", "0")

FINISHED = ("succeeded", "failed", "canceled")
# No answer of runneld may take longer, bar ?wait= and cancel (given their own).
REQUEST_TIMEOUT = 5
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SANITIZER_RE = re.compile(r"ERROR: \w*Sanitizer|runtime error:|"
                          r"WARNING: \w*Sanitizer|SUMMARY: \w*Sanitizer")
LISTEN_RE = re.compile(rb"listening on http://[^ ]*:(\d+)")
# runneld's arguments in every test class unless it says otherwise
BASE_ARGS = ["--kill-grace", "1", "--shutdown-grace", "5"]
MiB = 1 << 20
GiB = 1 << 30


# ---- backends --------------------------------------------------------------

def sqlite_only(reason):
    """Skips a test or class on PostgreSQL: it is about SQLite's file."""
    return unittest.skipIf(POSTGRESQL, "SQLite only: " + reason)


def postgresql_only(reason):
    """Skips a test or class unless the suite runs on PostgreSQL."""
    return unittest.skipUnless(POSTGRESQL, "PostgreSQL only (run.py "
                               "--database-url): " + reason)


# ---- waiting ---------------------------------------------------------------

def scaled(seconds):
    return seconds * SCALE


def wait_until(cond, timeout=10.0, what=None):
    """Calls cond() until it returns something true, and returns that.

    Raises AssertionError when timeout (scaled) seconds pass first.  The
    poll interval starts at 2 ms and backs off to 50 ms.
    """
    end = time.monotonic() + scaled(timeout)
    delay = 0.002
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= end:
            raise AssertionError("timed out after %.1fs waiting for %s" %
                                 (scaled(timeout), what or getattr(
                                     cond, "__name__", "a condition")))
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


# ---- processes -------------------------------------------------------------

def _proc_stat(pid):
    """The fields of /proc/pid/stat after the command name, None if gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(b")") + 2:].split()


def proc_state(pid):
    """The state letter of pid from /proc (R, S, Z, ...), None if gone."""
    rest = _proc_stat(pid)
    return rest[0].decode() if rest else None


def proc_ppid(pid):
    rest = _proc_stat(pid)
    return int(rest[1]) if rest else None


def pid_running(pid):
    """True while pid exists and is not a zombie."""
    s = proc_state(pid)
    return s is not None and s not in ("Z", "X")


def all_pids():
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            out.append(int(name))
    return out


def children_of(pid):
    return [p for p in all_pids() if proc_ppid(p) == pid]


def zombies_of(pid):
    return [p for p in children_of(pid) if proc_state(p) == "Z"]


def proc_environ(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return f.read()
    except OSError:
        return None


def kill_quietly(pid, sig=signal.SIGKILL, group=False):
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# ---- time and JSON ---------------------------------------------------------

def parse_ts(s):
    """An API timestamp (RFC 3339 UTC with milliseconds) as a datetime."""
    if not isinstance(s, str) or not TS_RE.match(s):
        raise AssertionError("not an RFC 3339 UTC timestamp with ms: %r" % (s,))
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


def epoch(s):
    """An API timestamp as seconds since the epoch (None stays None)."""
    return None if s is None else parse_ts(s).timestamp()


def rfc3339(t):
    """Seconds since the epoch as an API timestamp."""
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def allowance(seconds=0.1):
    """Dispatch allowance on top of a computed time (scaled)."""
    return scaled(seconds)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---- HTTP ------------------------------------------------------------------

class Response(tuple):
    """(status, headers, data): data is the parsed JSON for JSON answers,
    the raw bytes otherwise.  .raw keeps the bytes in every case."""

    def __new__(cls, status, headers, data, raw):
        r = tuple.__new__(cls, (status, headers, data))
        r.raw = raw
        return r

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    data = property(lambda self: self[2])


# ---- recording answers -----------------------------------------------------
# With RUNNEL_API_RECORD set (ctest sets it), http_request appends one JSON
# line per exchange to <dir>/<class>-<pid>.jsonl: method, path, query,
# status, content type and the parsed JSON body (under RECORD_BODY_MAX
# bytes).  tests/openapi/ checks every recorded answer against
# docs/openapi.yaml.
RECORD_DIR = os.environ.get("RUNNEL_API_RECORD", "")
RECORD_BODY_MAX = 1 << 20
_record = {"file": None}
_record_lock = threading.Lock()


def record_exchange(method, path, status, ctype, payload):
    """Appends one exchange to this process's record file (if recording)."""
    if not RECORD_DIR:
        return
    target, _, query = path.partition("?")
    rec = {"method": method, "path": target, "query": query,
           "status": status, "content_type": ctype}
    if ctype.startswith("application/json") and payload:
        if len(payload) > RECORD_BODY_MAX:
            rec["body_skipped"] = "over %d bytes" % RECORD_BODY_MAX
        else:
            try:
                rec["body"] = json.loads(payload)
            except ValueError:
                rec["body_invalid"] = payload[:200].decode("utf-8", "replace")
    line = json.dumps(rec) + "\n"
    with _record_lock:
        if _record["file"] is None:
            os.makedirs(RECORD_DIR, exist_ok=True)
            name = "%s-%d.jsonl" % (os.environ.get("RUNNEL_API_RECORD_NAME",
                                                   "api"), os.getpid())
            _record["file"] = open(os.path.join(RECORD_DIR, name), "a",
                                   encoding="utf-8")
        _record["file"].write(line)
        _record["file"].flush()


def http_request(port, method, path, body=None, headers=None, raw=None,
                 token=None, timeout=None):
    """One request on a fresh connection; see Server.api."""
    if timeout is None:
        timeout = REQUEST_TIMEOUT
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=scaled(timeout))
    hdrs = {}
    data = None
    if token:
        hdrs["Authorization"] = "Bearer " + token
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    elif raw is not None:
        data = raw if isinstance(raw, bytes) else raw.encode()
    for k, v in (headers or {}).items():
        # a None value removes a default header
        for have in [h for h in hdrs if h.lower() == k.lower()]:
            del hdrs[have]
        if v is not None:
            hdrs[k] = v
    try:
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
        except socket.timeout:
            raise AssertionError("no answer to %s %s within %.1fs" %
                                 (method, path[:100], scaled(timeout))) from None
        ctype = resp.getheader("Content-Type") or ""
        record_exchange(method, path, resp.status, ctype, payload)
        parsed = payload
        if ctype.startswith("application/json"):
            try:
                parsed = json.loads(payload)
            except ValueError as e:
                raise AssertionError("%s %s: %d answer is not JSON (%s): %r" %
                                     (method, path, resp.status, e, payload[:300]))
        return Response(resp.status, resp.headers, parsed, payload)
    finally:
        conn.close()


def exchange(port, data, timeout=5, source=None):
    """Sends data on a fresh connection; returns (bytes read, closed)."""
    s = socket.socket()
    if source:
        s.bind((source, 0))
    s.settimeout(scaled(timeout))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(data)
        out = b""
        end = time.monotonic() + scaled(timeout)
        while time.monotonic() < end:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                return out, False
            except ConnectionResetError:
                return out, True
            if not chunk:
                return out, True
            out += chunk
        return out, False
    finally:
        s.close()


class Stream:
    """A raw HTTP/1.1 GET whose body is read as it arrives (chunked or not).

    For ?follow=1 output and the SSE stream: read() returns whatever body
    bytes came, within a deadline, and b"" once the body is over.
    """

    def __init__(self, port, path, headers=None, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=scaled(timeout))
        lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1:%d" % port]
        for k, v in (headers or {}).items():
            lines.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        self.done = False
        self.body = b""		# everything read so far
        self._chunk_left = 0	# bytes left in the current chunk
        self._chunk_crlf = False
        end = time.monotonic() + scaled(timeout)
        while b"\r\n\r\n" not in self.buf:
            self._fill(end)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        first, *rest = head.decode("latin-1").split("\r\n")
        self.status = int(first.split()[1])
        self.headers = {}
        for line in rest:
            k, v = line.split(":", 1)
            self.headers[k.strip().lower()] = v.strip()
        self.chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self.length = None
        if not self.chunked and "content-length" in self.headers:
            self.length = int(self.headers["content-length"])
            if self.length == 0:
                self.done = True

    def _fill(self, end):
        left = end - time.monotonic()
        if left <= 0:
            raise socket.timeout("stream read timed out")
        self.sock.settimeout(left)
        data = self.sock.recv(1 << 16)
        if not data:
            raise EOFError("connection closed")
        self.buf += data

    def _take(self):
        """Body bytes decodable from buf now (b"" if none)."""
        if not self.chunked:
            out, self.buf = self.buf, b""
            if self.length is not None:
                got = len(self.body) + len(out)
                if got >= self.length:
                    out = out[:self.length - len(self.body)]
                    self.done = True
            return out
        out = b""
        while True:
            if self._chunk_crlf:
                if len(self.buf) < 2:
                    return out
                assert self.buf[:2] == b"\r\n", "bad chunk framing: %r" % self.buf[:20]
                self.buf = self.buf[2:]
                self._chunk_crlf = False
            if self._chunk_left == 0:
                if b"\r\n" not in self.buf:
                    return out
                line, rest = self.buf.split(b"\r\n", 1)
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    # trailers end with an empty line
                    if b"\r\n" not in rest:
                        return out
                    self.buf = b""
                    self.done = True
                    return out
                self.buf = rest
                self._chunk_left = size
            n = min(self._chunk_left, len(self.buf))
            if n == 0:
                return out
            out += self.buf[:n]
            self.buf = self.buf[n:]
            self._chunk_left -= n
            if self._chunk_left == 0:
                self._chunk_crlf = True

    def read(self, timeout=10):
        """Body bytes as they come: waits until some arrive or the body
        ends (then b"").  Raises socket.timeout after timeout."""
        end = time.monotonic() + scaled(timeout)
        while True:
            out = self._take()
            if out:
                self.body += out
                return out
            if self.done:
                return b""
            try:
                self._fill(end)
            except EOFError:
                if self.length is None and not self.chunked:
                    self.done = True
                    return b""
                raise

    def read_until(self, pred, timeout=10):
        """Reads until pred(self.body) is true; returns the body so far."""
        end = time.monotonic() + scaled(timeout)
        while not pred(self.body):
            if self.done:
                raise AssertionError("stream ended before the condition: %r" %
                                     self.body[-300:])
            self.read(max(0.001, (end - time.monotonic()) / SCALE))
        return self.body

    def read_all(self, timeout=30):
        end = time.monotonic() + scaled(timeout)
        while not self.done:
            self.read(max(0.001, (end - time.monotonic()) / SCALE))
        return self.body

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class EventStream:
    """GET /api/v1/events, parsed into Server-Sent Events."""

    def __init__(self, port, headers=None, timeout=30):
        self.stream = Stream(port, "/api/v1/events", headers, timeout)
        self.status = self.stream.status
        self.headers = self.stream.headers
        self.text = ""
        self.pending = []	# parsed, not yet returned

    def _parse(self):
        while "\n\n" in self.text:
            block, self.text = self.text.split("\n\n", 1)
            ev = {"id": None, "event": None, "data": None, "comments": [],
                  "retry": None}
            data = []
            for line in block.split("\n"):
                if line.startswith(":"):
                    ev["comments"].append(line[1:].strip())
                    continue
                k, _, v = line.partition(":")
                if v.startswith(" "):
                    v = v[1:]
                if k == "data":
                    data.append(v)
                elif k in ("id", "event", "retry"):
                    ev[k] = v
            if data:
                ev["data"] = "\n".join(data)
            self.pending.append(ev)

    def next(self, timeout=10):
        """The next block (event, comment or retry line) within timeout."""
        end = time.monotonic() + scaled(timeout)
        while not self.pending:
            chunk = self.stream.read(max(0.001, (end - time.monotonic()) / SCALE))
            if chunk == b"":
                raise EOFError("event stream ended")
            self.text += chunk.decode()
            self._parse()
        return self.pending.pop(0)

    def next_job_event(self, pred=lambda ev: True, timeout=10):
        """The next `event: job`/`deleted` event whose parsed data satisfies pred."""
        end = time.monotonic() + scaled(timeout)
        while True:
            left = (end - time.monotonic()) / SCALE
            if left <= 0:
                raise AssertionError("no matching event within %ss" % timeout)
            ev = self.next(left)
            if ev["event"] in ("job", "deleted"):
                ev["json"] = json.loads(ev["data"])
                if pred(ev):
                    return ev

    def close(self):
        self.stream.close()


# ---- gates -----------------------------------------------------------------

_gate_numbers = itertools.count(1)


class Gate:
    """A fifo a job blocks on (`gate.cmd`) until the test calls open().

    The job runs `cat FIFO >/dev/null`: it blocks in open() until a writer
    comes; the test's writer opens and closes at once, and cat sees EOF.
    """

    def __init__(self, directory, name="gate"):
        self.path = os.path.join(directory, "%s-%d.fifo" % (name, next(_gate_numbers)))
        os.mkfifo(self.path)
        self.cmd = "cat %s >/dev/null" % shlex.quote(self.path)
        self.opened = False

    def _try_open(self):
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno == errno.ENXIO:	# no reader yet
                return False
            raise
        os.close(fd)
        self.opened = True
        return True

    def open(self, timeout=15):
        """Lets the job through; waits (with a deadline) for it to be there."""
        if not self.opened:
            wait_until(self._try_open, timeout,
                       "the job to open its gate %s" % self.path)

    def release(self, within=60):
        """For cleanups: lets the job through now, or, if it has not
        reached its open() yet (a job reported running may still be
        exec'ing), once it does, from a thread, for up to `within` s."""
        if self.opened or self._try_open():
            return

        def late():
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                try:
                    if self._try_open():
                        return
                except OSError:		# the test's directory went
                    return
                time.sleep(0.05)
        threading.Thread(target=late, daemon=True).start()


# ---- the server ------------------------------------------------------------

def bin_path(name):
    if not BIN_DIR:
        raise unittest.SkipTest("RUNNEL_API_TEST_BIN is not set (use run.py --bin)")
    return os.path.join(BIN_DIR, name)


def vm_rss_kb(pid):
    """The resident set size of process pid, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def clean_env(extra=None):
    """The test process's environment without RUNNEL_*, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNEL_")}
    env.update(extra or {})
    return env


def with_database(args, env=None):
    """args with the --database of its --data directory on PostgreSQL
    (unless args or env name a database already)."""
    args = list(args)
    if not POSTGRESQL or "RUNNEL_DATABASE" in (env or {}) or any(
            a == "--database" or a.startswith("--database=") for a in args):
        return args
    for i, a in enumerate(args):
        if a == "--data" and i + 1 < len(args):
            return args + ["--database", harness_pg.for_data(args[i + 1])]
        if a.startswith("--data="):
            return args + ["--database", harness_pg.for_data(a[7:])]
    return args


def run_runneld(args, env=None, timeout=20):
    """Runs runneld to its exit; returns (status, output).  On PostgreSQL
    a --data directory brings its database (with_database)."""
    args = with_database(args, env)
    p = subprocess.run([bin_path("runneld")] + args, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=clean_env(env), timeout=scaled(timeout))
    return p.returncode, p.stdout.decode(errors="replace")


class Server:
    """One runneld process (restartable on the same data directory)."""

    def __init__(self, workdir, name="runneld", workers=2, args=(), env=None,
                 token=None, data=None, listen="127.0.0.1:0", database=None):
        """database: a PostgreSQL URL, or None for the backend of the
        suite (on PostgreSQL, the database of this data directory)."""
        self.workdir = workdir
        self._database = database
        self.name = name
        self.data = data or os.path.join(workdir, name + "-data")
        self.log_path = os.path.join(workdir, name + ".log")
        self.workers = workers
        self.args = list(args)
        self.env = dict(env or {})
        self.token = token	# sent with every request unless told otherwise
        self.listen = listen
        self.proc = None
        self.port = None
        self.log_offset = 0
        self.exit_codes = []	# of every stop, in order
        self.expected_running = False	# False once told to stop

    # -- life
    @property
    def database(self):
        """The PostgreSQL database's URL (made at first use), None on SQLite."""
        if self._database is None and POSTGRESQL:
            self._database = harness_pg.for_data(self.data)
        return self._database

    def sql(self, query):
        """psql's answer to query on this runneld's database (PostgreSQL)."""
        return harness_pg.psql(self.database, query)

    def argv(self):
        db = ["--database", self.database] if self.database else []
        return [bin_path("runneld"), "--listen", self.listen, "--data", self.data,
                "--workers", str(self.workers)] + db + self.args

    def start(self, timeout=20):
        with open(self.log_path, "ab") as log:
            self.log_offset = log.tell()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log,
                                         env=clean_env(self.env))
        self.port = None

        def listening():
            m = LISTEN_RE.search(self.log_since_start())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise AssertionError("runneld exited with %s at start-up:\n%s" % (
                    self.proc.returncode, self.log_since_start().decode(errors="replace")))
            return None
        self.expected_running = True
        self.port = wait_until(listening, timeout, "runneld to listen")
        # The pool is up when /healthz says so.
        wait_until(lambda: self.api("GET", "/healthz", token=False).status == 200,
                   timeout, "runneld's /healthz to answer 200")
        return self

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
            self.expected_running = False
        self.proc.send_signal(sig)

    def died(self):
        """Why runneld is gone though nobody stopped it, or None."""
        if not self.expected_running or self.proc is None or self.proc.poll() is None:
            return None
        tail = self.log().decode(errors="replace").splitlines()[-15:]
        return "%s exited by itself with status %s; the end of its log:\n  %s" % (
            self.name, self.proc.returncode, "\n  ".join(tail))

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Sends sig and waits for the exit; returns the exit status."""
        if self.proc is None:
            return None
        self.expected_running = False
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(scaled(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.exit_codes.append("hung")
            raise AssertionError("runneld did not exit within %ss of %s" %
                                 (scaled(timeout), signal.Signals(sig).name))
        self.exit_codes.append(rc)
        return rc

    def kill9(self):
        self.expected_running = False
        self.proc.kill()
        self.proc.wait()
        self.exit_codes.append(-9)

    def wait_exit(self, timeout=30):
        self.expected_running = False
        rc = self.proc.wait(scaled(timeout))
        self.exit_codes.append(rc)
        return rc

    # -- logs
    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return b""

    def log_since_start(self):
        return self.log()[self.log_offset:]

    def sanitizer_lines(self):
        return [l for l in self.log().decode(errors="replace").splitlines()
                if SANITIZER_RE.search(l)]

    # -- HTTP
    def api(self, method, path, body=None, headers=None, raw=None, token=None,
            timeout=None):
        """(status, headers, data) of one request; data is JSON when the
        answer is JSON.  body is JSON-encoded with Content-Type
        application/json; raw is sent as is.  token=None sends the
        server's token (if any), False none, a string that one."""
        if token is None:
            token = self.token
        return http_request(self.port, method, path, body, headers, raw,
                            token or None, timeout)

    def submit(self, spec, expect=201):
        r = self.api("POST", "/api/v1/jobs", body=spec)
        if r.status != expect:
            raise AssertionError("submit %r: expected %d, got %d %r" %
                                 (spec, expect, r.status, r.data))
        return r.data

    def job(self, jid):
        r = self.api("GET", "/api/v1/jobs/%d" % jid)
        if r.status != 200:
            raise AssertionError("GET job %d: %d %r" % (jid, r.status, r.data))
        return r.data

    def wait(self, jid, timeout=30):
        """The job once it is finished (long-polls with ?wait=)."""
        end = time.monotonic() + scaled(timeout)
        while True:
            left = end - time.monotonic()
            w = max(0.0, min(left, 300))
            r = self.api("GET", "/api/v1/jobs/%d?wait=%.3f" % (jid, w),
                         timeout=w + REQUEST_TIMEOUT)
            if r.status != 200:
                raise AssertionError("GET job %d?wait: %d %r" % (jid, r.status, r.data))
            if r.data["state"] in FINISHED:
                return r.data
            if left <= 0:
                raise AssertionError("job %d not finished after %.1fs: %r" %
                                     (jid, scaled(timeout), r.data))

    def wait_state(self, jid, states, timeout=15):
        if isinstance(states, str):
            states = (states,)
        return wait_until(lambda: (lambda j: j if j["state"] in states else None)(
            self.job(jid)), timeout, "job %d to be %s" % (jid, "/".join(states)))

    def wait_running(self, jid, timeout=15):
        """The job once it runs and its pid is known."""
        def running():
            j = self.job(jid)
            if j["state"] in FINISHED:
                raise AssertionError("job %d finished before it was seen "
                                     "running: %r" % (jid, j))
            return j if j["state"] == "running" and j.get("pid") else None
        return wait_until(running, timeout, "job %d to run with a pid" % jid)

    def output(self, jid, query=""):
        r = self.api("GET", "/api/v1/jobs/%d/output%s" % (jid, query))
        if r.status != 200:
            raise AssertionError("output of %d: %d %r" % (jid, r.status, r.data))
        return r.raw

    def stats(self):
        r = self.api("GET", "/api/v1/stats")
        assert r.status == 200, r
        return r.data

    def total(self):
        return self.stats()["total"]

    def workers_info(self):
        r = self.api("GET", "/api/v1/workers")
        assert r.status == 200, r
        return r.data["workers"]

    def worker_pids(self):
        return [w["pid"] for w in self.workers_info() if w["pid"]]

    def stream(self, path, headers=None, timeout=30):
        h = dict(headers or {})
        if self.token and "Authorization" not in h:
            h["Authorization"] = "Bearer " + self.token
        return Stream(self.port, path, h, timeout)

    def events(self, timeout=30):
        h = {}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        return EventStream(self.port, h, timeout)

    def raw_socket(self, timeout=10):
        return socket.create_connection(("127.0.0.1", self.port), timeout=scaled(timeout))


# ---- the base test class ---------------------------------------------------

class RunnelTestCase(unittest.TestCase):
    """Starts one runneld per class (unless START_SERVER is False).

    Class knobs: WORKERS, SERVER_ARGS, SERVER_ENV, TOKEN (given to runneld
    as RUNNEL_TOKEN and sent by the helpers).
    """
    WORKERS = 2
    SERVER_ARGS = list(BASE_ARGS)
    SERVER_ENV = {}
    TOKEN = None
    START_SERVER = True

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="runnel-api-%s-" % cls.__name__)
        cls.servers = []
        cls.cleanup_pids = []	# process groups to SIGKILL at the end
        cls.addClassCleanup(cls._kill_everything)
        cls.server = None
        if cls.START_SERVER:
            cls.server = cls.new_server()
            cls.server.start()

    @classmethod
    def new_server(cls, name=None, **kw):
        kw.setdefault("workers", cls.WORKERS)
        kw.setdefault("args", cls.SERVER_ARGS)
        env = dict(cls.SERVER_ENV)
        token = kw.pop("token", cls.TOKEN)
        if token:
            env.setdefault("RUNNEL_TOKEN", token)
        env.update(kw.pop("env", {}))
        s = Server(cls.tmp, name or "runneld%d" % len(cls.servers), env=env,
                   token=token, **kw)
        cls.servers.append(s)
        return s

    @classmethod
    def tearDownClass(cls):
        problems = []
        for s in cls.servers:
            if s.running():
                try:
                    rc = s.stop(signal.SIGTERM, 60)
                except AssertionError as e:
                    problems.append("%s: %s" % (s.name, e))
                    continue
                if rc != 0:
                    problems.append("%s exited %s after SIGTERM" % (s.name, rc))
            why = s.died()
            if why:
                problems.append(why)
            bad = s.sanitizer_lines()
            if bad:
                problems.append("%s: sanitizer reports in its log:\n  %s" %
                                (s.name, "\n  ".join(bad[:20])))
        if problems:
            cls._failed = True
            raise AssertionError("; ".join(problems) + "\n(logs in %s)" % cls.tmp)

    @classmethod
    def _kill_everything(cls):
        for s in getattr(cls, "servers", []):
            if s.running():
                s.proc.kill()
                s.proc.wait()
        for pid in getattr(cls, "cleanup_pids", []):
            kill_quietly(pid, signal.SIGKILL, group=True)
            kill_quietly(pid, signal.SIGKILL)
        keep = KEEP or getattr(cls, "_failed", False)
        if not keep:
            shutil.rmtree(cls.tmp, ignore_errors=True)
        else:
            print("runnel-api: kept %s" % cls.tmp)
        for line in harness_pg.finish(keep):
            print(line)

    def setUp(self):
        # A runneld that crashed earlier in the class fails what follows
        # with the reason, not with "connection refused".
        for s in type(self).servers:
            why = s.died()
            if why:
                self.fail("runneld died before this test: " + why)

    def tearDown(self):
        for s in type(self).servers:
            why = s.died()
            if why:
                self.fail("runneld died during this test: " + why)

    def run(self, result=None):
        # keep the temp dir (logs, data) of a class that had a failure
        n = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result is not None and len(result.failures) + len(result.errors) > n:
            type(self)._failed = True
        return out

    # -- shortcuts on the class's server
    def api(self, *a, **kw):
        return self.server.api(*a, **kw)

    def submit(self, spec, expect=201):
        return self.server.submit(spec, expect)

    def job(self, jid):
        return self.server.job(jid)

    def wait(self, jid, timeout=30):
        return self.server.wait(jid, timeout)

    def output(self, jid, query=""):
        return self.server.output(jid, query)

    def run_job(self, spec, timeout=30):
        """The job of spec once it is finished."""
        j = self.submit(spec)
        return self.wait(j["id"], timeout)

    def idle(self, server=None, timeout=15):
        """Waits for every worker to be idle: a job submitted now is
        claimed at once, in the same turn as its submission."""
        s = server or self.server
        wait_until(lambda: all(w["state"] == "idle" for w in s.workers_info()),
                   timeout, "every worker idle")

    def output_files(self, jid, server=None):
        """The files of the job's output (every attempt, both streams)."""
        s = server or self.server
        return sorted(glob.glob(os.path.join(s.data, "output", "%d.*" % jid)))

    def wait_for_time(self, t, what="a time to pass"):
        """Waits for the wall clock to pass t (epoch seconds)."""
        wait_until(lambda: time.time() >= t,
                   max(0.0, t - time.time()) / SCALE + 5, what)

    def sentinel(self, queue="sentinel", server=None):
        """A job in another queue run to its end: proof that the
        dispatcher went round while something else stayed put."""
        s = server or self.server
        j = s.submit({"command": "true", "queue": queue})
        done = s.wait(j["id"], 30)
        self.assertEqual(done["state"], "succeeded", done)
        return done

    def wait_all(self, ids, timeout=60, server=None):
        """{id: job} once every job of ids is finished."""
        s = server or self.server
        return {i: s.wait(i, timeout) for i in ids}

    def batch(self, specs, server=None):
        """The jobs of a batch submit (201)."""
        r = (server or self.server).api("POST", "/api/v1/jobs", body=specs)
        self.assertEqual(r.status, 201, r.raw[:500])
        return r.data["jobs"]

    def job_gone(self, jid, server=None):
        """True once GET of the job is 404."""
        r = (server or self.server).api("GET", "/api/v1/jobs/%d" % jid)
        if r.status == 404:
            return True
        self.assertEqual(r.status, 200, r.raw)
        return False

    def stats_jobs(self, server=None):
        """The per-state job counts of /api/v1/stats."""
        return (server or self.server).stats()["jobs"]

    # -- queues
    def queues(self, server=None):
        """{name: queue} of GET /api/v1/queues."""
        r = (server or self.server).api("GET", "/api/v1/queues")
        self.assertEqual(r.status, 200, r.raw)
        return {q["name"]: q for q in r.data["queues"]}

    def queue(self, name, server=None):
        return self.queues(server).get(name)

    def patch_queue(self, name, body, expect=200, server=None):
        r = (server or self.server).api("PATCH", "/api/v1/queues/" + name,
                                        body=body)
        self.assertEqual(r.status, expect, "PATCH %s %r: %r" % (name, body, r.raw))
        return r.data

    # -- events
    def open_events(self, server=None):
        """The event stream, once its subscription is in place."""
        ev = (server or self.server).events()
        self.addCleanup(ev.close)
        self.assertEqual(ev.status, 200)
        ev.next(10)	# the retry line: the subscription is in place
        return ev

    def job_events(self, ev, jid, until=FINISHED, timeout=30):
        """The job objects the stream reports for jid, up to a state in until."""
        out = []
        while True:
            e = ev.next_job_event(lambda e: e["event"] == "job" and
                                  e["json"]["id"] == jid, timeout)
            out.append(e["json"])
            if e["json"]["state"] in until:
                return out

    def gate(self, name="gate"):
        return Gate(self.tmp, name)

    def track_pid(self, pid):
        """Kill this process group at the end of the class, whatever happens."""
        type(self).cleanup_pids.append(pid)

    def cancel(self, jid):
        return self.api("POST", "/api/v1/jobs/%d/cancel" % jid)

    def cancel_later(self, jid):
        """Cancels the job when the test ends (if it still runs), so that a
        failing test does not leave the next ones a busy worker."""
        def cancel():
            try:
                if self.server.running():
                    self.server.api("POST", "/api/v1/jobs/%d/cancel" % jid, timeout=30)
            except Exception:
                pass
        self.addCleanup(cancel)

    # -- assertions
    def assertError(self, r, status, code, field=None, msg=None):
        """r is an error answer: status, JSON {"error": {code, message[, field]}}."""
        where = msg or ""
        self.assertEqual(r.status, status, "%s: %r" % (where, r.raw[:500]))
        ctype = r.headers.get("Content-Type", "")
        self.assertTrue(ctype.startswith("application/json"),
                        "%s: error Content-Type %r" % (where, ctype))
        self.assertIsInstance(r.data, dict, where)
        err = r.data.get("error")
        self.assertIsInstance(err, dict, "%s: %r" % (where, r.data))
        self.assertEqual(err.get("code"), code, "%s: %r" % (where, r.data))
        self.assertIsInstance(err.get("message"), str, where)
        self.assertTrue(err["message"], where)
        if field is not None:
            self.assertEqual(err.get("field"), field, "%s: %r" % (where, r.data))

    def assertJobShape(self, j):
        keys = {"id", "type", "name", "queue", "priority", "state", "command", "shell",
                "argv", "env", "cwd", "timeout", "limits", "attempts",
                "max_attempts", "after", "created_at", "run_at", "started_at",
                "finished_at", "exit_code", "signal", "error", "worker", "pid",
                "node", "stdout_bytes", "stderr_bytes", "cpu_ms", "max_rss_kb",
                "file", "schedule_id", "scheduled_for", "webhooks"}
        self.assertEqual(set(j), keys, "job object members")
        self.assertIsInstance(j["id"], int)
        self.assertIn(j["state"], ("scheduled", "queued", "running") + FINISHED)
        # The node of the attempt: a cluster's (PostgreSQL) only, once claimed.
        if not POSTGRESQL or j["started_at"] is None:
            self.assertIsNone(j["node"], j)
        else:
            self.assertIsInstance(j["node"], str, j)
        parse_ts(j["created_at"])
        # a schedule's job: its schedule and tick; else both null
        if j["schedule_id"] is None:
            self.assertIsNone(j["scheduled_for"], j)
        else:
            self.assertIsInstance(j["schedule_id"], int)
            parse_ts(j["scheduled_for"])
        for k in ("started_at", "finished_at"):
            if j[k] is not None:
                parse_ts(j[k])
