"""The upload tests' part of the harness: multipart bodies written by hand,
byte for byte, the way curl and the browsers write them; raw uploads on a
socket for what must be watched while it streams (early answers, cuts, big
bodies); and UploadCase, the base class of the test_uploads_* modules.
"""
import hashlib
import http.client
import io
import json
import os
import select
import socket
import stat
import struct
import time
import urllib.parse

from harness import (FINISHED, Response, RunnelTestCase, parse_ts, scaled,
                     wait_until)

UPLOADS = "/api/v1/uploads"
OCTET = {"Content-Type": "application/octet-stream"}
CURL_BOUNDARY = "------------------------d74496d66958873e"


def sha(data):
    """The SHA-256 of data, in hex."""
    return hashlib.sha256(data).hexdigest()


def quote_browser(name):
    """A file name as browsers put it in filename="...": CR, LF and the
    quote percent-encoded (WHATWG), everything else (backslashes, UTF-8)
    as is."""
    return (name.replace("\r", "%0D").replace("\n", "%0A")
            .replace('"', "%22"))


def part(name, data, filename=None, ctype=None, disposition=None):
    """One multipart part.  disposition (bytes) replaces the whole
    Content-Disposition value, for names no client library would write."""
    if isinstance(data, str):
        data = data.encode()
    if disposition is None:
        disposition = b'form-data; name="%s"' % name.encode()
        if filename is not None:
            if isinstance(filename, str):
                filename = quote_browser(filename).encode()
            disposition += b'; filename="%s"' % filename
    head = b"Content-Disposition: " + disposition + b"\r\n"
    if ctype:
        head += b"Content-Type: " + ctype.encode() + b"\r\n"
    return head + b"\r\n", data


def multipart(parts, boundary):
    """The body of multipart/form-data with these (head, data) parts."""
    b = boundary.encode()
    out = []
    for head, data in parts:
        out += [b"--" + b + b"\r\n", head, data, b"\r\n"]
    out.append(b"--" + b + b"--\r\n")
    return b"".join(out)


def mp_headers(boundary):
    return {"Content-Type": "multipart/form-data; boundary=" + boundary}


def file_body(data, filename="f.bin", boundary=CURL_BOUNDARY, job=None,
              sha256=None, ctype="application/octet-stream"):
    """A curl -F like body: the file, then job and sha256 parts if given."""
    parts = [part("file", data, filename, ctype)]
    if job is not None:
        parts.append(part("job", job if isinstance(job, (str, bytes))
                          else json.dumps(job)))
    if sha256 is not None:
        parts.append(part("sha256", sha256))
    return multipart(parts, boundary)


def read_http_response(sock, timeout):
    """One final HTTP response (interim 1xx skipped) as a harness Response,
    or None when the connection ends before a status line."""
    end = time.monotonic() + scaled(timeout)
    buf = b""

    def fill():
        sock.settimeout(max(0.01, end - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            raise EOFError
        return data

    try:
        while True:
            while b"\r\n\r\n" not in buf:
                buf += fill()
            head, buf = buf.split(b"\r\n\r\n", 1)
            status = int(head.split(b"\r\n", 1)[0].split()[1])
            if status >= 200:
                break
        fields = head.split(b"\r\n", 1)[1] if b"\r\n" in head else b""
        hdrs = http.client.parse_headers(io.BytesIO(fields + b"\r\n\r\n"))
        n = int(hdrs.get("Content-Length", "0"))
        while len(buf) < n:
            buf += fill()
    except EOFError:
        if not buf:
            return None
        raise AssertionError("connection closed in the middle of a response: %r" % buf[:300])
    body = buf[:n]
    data = body
    if (hdrs.get("Content-Type") or "").startswith("application/json"):
        data = json.loads(body)
    return Response(status, hdrs, data, body)


class RawUpload:
    """A request whose body the test sends piece by piece on a socket,
    watching for an answer that comes before the body is over."""

    def __init__(self, server, headers, path=UPLOADS, method="POST", timeout=30):
        self.sock = server.raw_socket(timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % server.port]
        if server.token and "Authorization" not in headers:
            lines.append("Authorization: Bearer " + server.token)
        lines += ["%s: %s" % kv for kv in headers.items()]
        self.chunked = "chunked" in headers.get("Transfer-Encoding", "")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.sent = 0		# body bytes (not framing) sent
        self.cut = False	# the server closed or reset the connection

    def answered(self, wait=0):
        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)

    def send(self, data):
        """Sends body bytes (as one chunk if chunked).  False once the
        server has answered or closed: the rest is not wanted."""
        if self.cut or self.answered():
            return False
        wire = b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data
        try:
            self.sock.sendall(wire)
        except (BrokenPipeError, ConnectionResetError):
            self.cut = True
            return False
        self.sent += len(data)
        return True

    def finish(self):
        if self.chunked and not self.cut and not self.answered():
            try:
                self.sock.sendall(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.cut = True

    def response(self, timeout=None):
        try:
            return read_http_response(self.sock, timeout or self.timeout)
        except ConnectionResetError:
            return None

    def close(self, reset=False):
        if reset:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
        self.sock.close()


# The job object's members these tests rely on (test_submit checks the
# whole object; it may gain members).
JOB_KEYS = {"id", "type", "name", "queue", "priority", "state", "command", "argv",
            "env", "cwd", "timeout", "limits", "attempts", "max_attempts", "created_at",
            "run_at", "started_at", "finished_at", "exit_code", "signal", "error",
            "worker", "pid", "node", "stdout_bytes", "stderr_bytes", "cpu_ms", "max_rss_kb",
            "file"}


class UploadCase(RunnelTestCase):
    """Shortcuts for uploads and for looking at the data directory."""

    def assertUploadJob(self, j):
        self.assertIsInstance(j, dict)
        self.assertTrue(JOB_KEYS <= set(j), "job object members missing: %r" % (
            JOB_KEYS - set(j)))
        self.assertIsInstance(j["id"], int)
        self.assertEqual(j["type"], "upload")
        self.assertIn(j["state"], ("scheduled", "queued", "running") + FINISHED)
        parse_ts(j["created_at"])
        for k in ("started_at", "finished_at"):
            if j[k] is not None:
                parse_ts(j[k])
        f = j["file"]
        self.assertEqual(set(f), {"name", "size", "sha256"}, f)
        self.assertIsInstance(f["size"], int)
        self.assertRegex(f["sha256"], "^[0-9a-f]{64}$")

    def data_path(self, *p):
        return os.path.join(self.server.data, *p)

    def tmp_entries(self):
        return sorted(os.listdir(self.data_path("tmp")))

    def file_dirs(self):
        return sorted(os.listdir(self.data_path("files")))

    def stored(self, jid):
        """{name: bytes} of DATA/files/<jid>/."""
        d = self.data_path("files", str(jid))
        out = {}
        for name in os.listdir(d):
            with open(os.path.join(d, name), "rb") as f:
                out[name] = f.read()
        return out

    def stored_path(self, j):
        return self.data_path("files", str(j["id"]), j["file"]["name"])

    def data_tree(self):
        """Every path under the data directory but the store's own files,
        output and scratch: where an upload may have put something."""
        out = set()
        root = self.server.data
        for dirpath, dirnames, filenames in os.walk(root):
            rel = os.path.relpath(dirpath, root)
            if rel.split(os.sep)[0] in ("output", "scratch"):
                continue
            for n in dirnames + filenames:
                p = os.path.normpath(os.path.join(rel, n))
                if not p.startswith("runnel.db"):
                    out.add(p)
        return out

    def snapshot(self):
        return (self.server.total(), self.file_dirs())

    def assertNothingLeft(self, before, what=""):
        """Nothing stored since snapshot(): no job, no file, DATA/tmp empty."""
        wait_until(lambda: not self.tmp_entries(), 10,
                   "DATA/tmp to be empty %s (has %r)" % (what, self.tmp_entries()))
        self.assertEqual(self.snapshot(), before,
                         "%s: a refused or cut upload left a job or a file" % what)

    def upload(self, body, headers, query="", method="POST", timeout=60):
        return self.api(method, UPLOADS + query, raw=body, headers=headers,
                        timeout=timeout)

    def upload_raw(self, data, name=None, query="", method="POST", headers=OCTET,
                   expect=201):
        q = query
        if name is not None:
            q = "?name=" + urllib.parse.quote(name, safe="") + (
                "&" + query.lstrip("?&") if query else "")
        r = self.upload(data, headers, q, method)
        if expect is not None:
            self.assertEqual(r.status, expect, r.raw[:500])
        return r

    def upload_mp(self, data, filename="f.bin", expect=201, **kw):
        boundary = kw.pop("boundary", CURL_BOUNDARY)
        r = self.upload(file_body(data, filename, boundary, **kw), mp_headers(boundary))
        if expect is not None:
            self.assertEqual(r.status, expect, r.raw[:500])
        return r

    def assertUploaded(self, r, data, name):
        """r is the 201 of an upload of data stored as name."""
        self.assertEqual(r.status, 201, r.raw[:500])
        j = r.data
        self.assertUploadJob(j)
        self.assertEqual(j["type"], "upload")
        self.assertEqual(r.headers["Location"], "/api/v1/jobs/%d" % j["id"])
        self.assertEqual(j["file"], {"name": name, "size": len(data), "sha256": sha(data)})
        self.assertEqual(self.stored(j["id"]), {name: data},
                         "DATA/files/%d holds exactly the file" % j["id"])
        st = os.stat(self.stored_path(j))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, "stored file mode")
        return j

    def refused(self, status, code, field, body, headers, query="", method="POST",
                what=""):
        before = self.snapshot()
        r = self.upload(body, headers, query, method)
        self.assertError(r, status, code, field, msg=what)
        self.assertNothingLeft(before, what)
        return r
