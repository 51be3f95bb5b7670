"""Upload jobs: POST/PUT /api/v1/uploads (multipart and raw), safe names,
limits, dropped connections, the worker's check of the stored file, the
download with Range, and what a kill -9 leaves behind.

Multipart bodies are written by hand here, byte for byte, the way curl
and the browsers write them.  Uploads that must be watched while they
stream (early answers, cuts, the 1 GiB one) are written on a raw socket
(RawUpload).
"""
import hashlib
import http.client
import io
import json
import os
import select
import shlex
import socket
import stat
import struct
import threading
import time
import urllib.parse

from harness import (FINISHED, Response, RunnelTestCase, parse_ts, scaled,
                     vm_rss_kb, wait_until)

MiB = 1 << 20
GiB = 1 << 30
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
UPLOADS = "/api/v1/uploads"
OCTET = {"Content-Type": "application/octet-stream"}


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ---- multipart bodies, by hand ---------------------------------------------

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


CURL_BOUNDARY = "------------------------d74496d66958873e"
CHROME_BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
FIREFOX_BOUNDARY = "---------------------------30142129031596326423459376942"


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


# ---- an upload written by hand on a socket ---------------------------------

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


def blocks(total, block):
    """total bytes made of block repeated, each MiB stamped with its
    number (so that a reordered or repeated piece shows in the hash)."""
    i = 0
    while i * len(block) < total:
        n = min(len(block), total - i * len(block))
        yield struct.pack("<Q", i) + block[8:n] if n >= 8 else block[:n]
        i += 1


class RssSampler(threading.Thread):
    """VmRSS of pid every 50 ms until stop()."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            try:
                self.samples.append(vm_rss_kb(self.pid))
            except OSError:
                return
            self.halt.wait(0.05)

    def stop(self):
        self.halt.set()
        self.join()
        return max(self.samples) if self.samples else 0


# ---- the base class of these tests -----------------------------------------

# The job object's members these tests rely on (test_submit checks the
# whole object; it may gain members).
JOB_KEYS = {"id", "type", "name", "queue", "priority", "state", "command", "argv",
            "env", "cwd", "timeout", "limits", "attempts", "max_attempts", "created_at",
            "run_at", "started_at", "finished_at", "exit_code", "signal", "error",
            "worker", "pid", "stdout_bytes", "stderr_bytes", "cpu_ms", "max_rss_kb",
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


# ---- the two forms ---------------------------------------------------------

class UploadFormsTest(UploadCase):
    WORKERS = 2

    def test_multipart_like_curl_with_expect_100_continue(self):
        data = os.urandom(3 * MiB + 17)
        body = file_body(data, "report.pdf")
        before = self.server.total()
        u = RawUpload(self.server, {**mp_headers(CURL_BOUNDARY),
                                    "Content-Length": str(len(body)),
                                    "Expect": "100-continue",
                                    "User-Agent": "curl/8.5.0", "Accept": "*/*"})
        try:
            # curl waits for the interim answer before it sends the body
            u.sock.settimeout(scaled(10))
            interim = b""
            while b"\r\n\r\n" not in interim:
                got = u.sock.recv(1)
                self.assertTrue(got, "connection closed before 100 Continue")
                interim += got
            self.assertTrue(interim.startswith(b"HTTP/1.1 100"), interim)
            for i in range(0, len(body), 65536):
                self.assertTrue(u.send(body[i:i + 65536]), "answered early")
            r = u.response()
        finally:
            u.close()
        j = self.assertUploaded(r, data, "report.pdf")
        self.assertEqual(self.server.total(), before + 1)
        self.assertEqual(j["state"], "queued")
        self.assertIsNone(j["command"])
        self.assertIsNone(j["argv"])
        self.assertEqual(j["queue"], "default")
        self.assertEqual((j["priority"], j["attempts"], j["max_attempts"]), (0, 0, 1))
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(done["file"], j["file"])

    def test_multipart_like_browsers(self):
        data = os.urandom(200 * 1024)
        name = "视频 2026.mp4"
        for boundary in (CHROME_BOUNDARY, FIREFOX_BOUNDARY):
            with self.subTest(boundary=boundary):
                # a form: job first, then the file input; the sha256 field
                # filled in by a script (with the newline of sha256sum)
                body = multipart([
                    part("job", json.dumps({"name": "from a form", "queue": "media",
                                            "priority": 7})),
                    part("file", data, name, "video/mp4"),
                    part("sha256", sha(data) + "\n"),
                ], boundary)
                r = self.upload(body, {**mp_headers(boundary),
                                       "Origin": "http://127.0.0.1:%d" % self.server.port})
                j = self.assertUploaded(r, data, name)
                self.assertEqual((j["name"], j["queue"], j["priority"]),
                                 ("from a form", "media", 7))
        # an empty file input: filename="" and no bytes
        body = multipart([part("file", b"", "", "application/octet-stream")],
                         CHROME_BOUNDARY)
        j = self.assertUploaded(self.upload(body, mp_headers(CHROME_BOUNDARY)), b"",
                                "upload")

    def test_multipart_details(self):
        data = b"line one\r\nline two\r\n--" + CURL_BOUNDARY.encode()[:-1] + b"\r\n\r\n-"
        cases = {
            "sha256 before the file, upper case":
                multipart([part("sha256", sha(data).upper()),
                           part("file", data, "a.txt", "text/plain")], CURL_BOUNDARY),
            "a part without Content-Type, a preamble and an epilogue":
                b"this is a preamble\r\n" + multipart(
                    [part("file", data, "a.txt")], CURL_BOUNDARY) + b"epilogue\r\n",
            "an empty job part":
                multipart([part("file", data, "a.txt"), part("job", "{}")], CURL_BOUNDARY),
        }
        for what, body in cases.items():
            with self.subTest(what):
                r = self.upload(body, mp_headers(CURL_BOUNDARY))
                self.assertUploaded(r, data, "a.txt")
        with self.subTest("quoted boundary, other parameters, any case"):
            r = self.upload(file_body(data, "a.txt", "simple"),
                            {"Content-Type": 'Multipart/Form-Data; charset=utf-8; '
                             'BOUNDARY="simple"'})
            self.assertUploaded(r, data, "a.txt")
        with self.subTest("a file part without filename"):
            body = multipart([part("file", data)], CURL_BOUNDARY)
            self.assertUploaded(self.upload(body, mp_headers(CURL_BOUNDARY)), data, "upload")

    def test_multipart_body_arriving_in_small_pieces(self):
        # bytes near the delimiter that are not one: CR, LF, dashes and
        # a prefix of the boundary, sent in pieces of 1 to 97 bytes
        bnd = "XyZ"
        tricky = b"\r\n--XyZ"[:-1] + b"\r" + b"\r\n-" + b"\n--Xy" + b"\r\n--"
        data = (os.urandom(3000) + tricky) * 5 + tricky
        self.assertNotIn(b"\r\n--XyZ", data)
        body = file_body(data, "pieces.bin", bnd)
        u = RawUpload(self.server, {**mp_headers(bnd), "Content-Length": str(len(body))})
        try:
            i = k = 0
            while i < len(body):
                n = 1 + (k * 37) % 97
                self.assertTrue(u.send(body[i:i + n]), "answered early")
                i += n
                k += 1
            r = u.response()
        finally:
            u.close()
        self.assertUploaded(r, data, "pieces.bin")

    def test_raw_post_with_the_spec_in_the_query(self):
        data = os.urandom(1 * MiB + 1)
        q = "?" + urllib.parse.urlencode({
            "name": "movie.mp4", "command": "wc -c", "queue": "media",
            "priority": "-5", "timeout": "30.5", "cwd": "/tmp", "max_attempts": "1",
            "sha256": sha(data)})
        r = self.upload(data, OCTET, q)
        j = self.assertUploaded(r, data, "movie.mp4")
        self.assertEqual((j["command"], j["queue"], j["priority"], j["timeout"],
                          j["cwd"], j["max_attempts"]),
                         ("wc -c", "media", -5, 30.5, "/tmp", 1))
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(self.output(j["id"]).strip(), str(len(data)).encode())
        # Content-Type parameters are fine; no name: "upload"
        r = self.upload(b"abc", {"Content-Type": "application/octet-stream; x=1"})
        self.assertUploaded(r, b"abc", "upload")

    def test_raw_put_like_curl_upload_file(self):
        data = os.urandom(70000)
        # curl -T sends PUT without Content-Type
        r = self.upload(data, {"User-Agent": "curl/8.5.0"}, "?name=t.bin", "PUT")
        self.assertUploaded(r, data, "t.bin")
        r = self.upload(data, OCTET, "?name=t2.bin", "PUT")
        self.assertUploaded(r, data, "t2.bin")
        # curl -T - (from a pipe): chunked
        for method, hdrs in (("PUT", {}), ("POST", OCTET)):
            with self.subTest(method=method):
                u = RawUpload(self.server, {**hdrs, "Transfer-Encoding": "chunked"},
                              UPLOADS + "?name=piped.bin", method)
                try:
                    for i in range(0, len(data), 4000):
                        self.assertTrue(u.send(data[i:i + 4000]))
                    u.finish()
                    r = u.response()
                finally:
                    u.close()
                self.assertUploaded(r, data, "piped.bin")

    def test_zero_byte_file(self):
        rs = [self.upload_mp(b"", "empty.txt"),
              self.upload_raw(b"", "empty.txt"),
              self.upload_raw(b"", "empty.txt", method="PUT", headers={})]
        u = RawUpload(self.server, {**OCTET, "Transfer-Encoding": "chunked"},
                      UPLOADS + "?name=empty.txt")
        try:
            u.finish()
            rs.append(u.response())
        finally:
            u.close()
        for r in rs:
            j = self.assertUploaded(r, b"", "empty.txt")
            self.assertEqual(j["file"]["sha256"], EMPTY_SHA)
            done = self.wait(j["id"])
            self.assertEqual((done["state"], done["exit_code"]), ("succeeded", 0), done)
            d = self.api("GET", "/api/v1/jobs/%d/file" % j["id"])
            self.assertEqual((d.status, d.raw, d.headers["Content-Length"]), (200, b"", "0"))
            d = self.api("GET", "/api/v1/jobs/%d/file" % j["id"],
                         headers={"Range": "bytes=0-"})
            self.assertEqual(d.status, 416)
            self.assertEqual(d.headers["Content-Range"], "bytes */0")

    def test_keep_alive_connection_takes_uploads_in_a_row(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=scaled(30))
        try:
            ids = []
            for i in range(3):
                data = b"%d" % i * (1000 * (i + 1))
                conn.request("PUT", UPLOADS + "?name=k%d" % i, body=data)
                r = conn.getresponse()
                j = json.loads(r.read())
                self.assertEqual(r.status, 201, j)
                self.assertEqual(j["file"]["sha256"], sha(data))
                ids.append(j["id"])
                body = file_body(data, "m%d" % i)
                conn.request("POST", UPLOADS, body=body, headers=mp_headers(CURL_BOUNDARY))
                r = conn.getresponse()
                self.assertEqual(r.status, 201, r.read())
                r.read()
            conn.request("GET", "/api/v1/jobs/%d" % ids[-1])
            r = conn.getresponse()
            self.assertEqual(json.loads(r.read())["id"], ids[-1])
        finally:
            conn.close()

    # -- refusals ------------------------------------------------------------

    def test_bad_multipart_is_refused_and_changes_nothing(self):
        H = mp_headers(CURL_BOUNDARY)
        ok = part("file", b"data", "a.txt")
        cases = [
            ("no file part", multipart([part("job", '{"command": "true"}')], CURL_BOUNDARY),
             H, 400, "invalid_field", "file"),
            ("two file parts", multipart([ok, part("file", b"other", "b.txt")], CURL_BOUNDARY),
             H, 400, "invalid_field", "file"),
            ("an unknown part", multipart([ok, part("extra", "1")], CURL_BOUNDARY),
             H, 400, "unknown_field", "extra"),
            ("an unknown part first", multipart([part("meta", "x"), ok], CURL_BOUNDARY),
             H, 400, "unknown_field", "meta"),
            ("stdin in the job", multipart([ok, part("job", '{"stdin": "x"}')], CURL_BOUNDARY),
             H, 400, "invalid_field", "stdin"),
            ("an unknown job field", multipart([ok, part("job", '{"bogus": 1}')], CURL_BOUNDARY),
             H, 400, "unknown_field", "bogus"),
            ("a bad priority", multipart([ok, part("job", '{"priority": "high"}')],
                                         CURL_BOUNDARY), H, 400, "invalid_field", "priority"),
            ("a relative cwd", multipart([ok, part("job", '{"cwd": "tmp"}')], CURL_BOUNDARY),
             H, 400, "invalid_field", "cwd"),
            ("command and argv", multipart(
                [ok, part("job", '{"command": "true", "argv": ["true"]}')], CURL_BOUNDARY),
             H, 400, "invalid_field", "argv"),
            ("malformed job JSON", multipart([ok, part("job", '{"command": ')], CURL_BOUNDARY),
             H, 400, "invalid_json", None),
            ("a job that is not an object", multipart([ok, part("job", '[1]')], CURL_BOUNDARY),
             H, 400, "invalid_field", None),
            ("a short sha256", multipart([ok, part("sha256", "abc")], CURL_BOUNDARY),
             H, 400, "invalid_field", "sha256"),
            ("a sha256 that is not hex", multipart([ok, part("sha256", "g" * 64)],
                                                   CURL_BOUNDARY),
             H, 400, "invalid_field", "sha256"),
            ("no boundary", multipart([ok], CURL_BOUNDARY),
             {"Content-Type": "multipart/form-data"}, 400, "invalid_multipart", None),
            ("a boundary over 70", multipart([ok], "b" * 71),
             mp_headers("b" * 71), 400, "invalid_multipart", None),
            ("not multipart at all", b"file=a.txt&x=1", H, 400, "invalid_multipart", None),
            ("no closing delimiter", multipart([ok], CURL_BOUNDARY)[:-8], H, 400,
             "invalid_multipart", None),
            ("a part without Content-Disposition",
             b"--%s\r\nContent-Type: text/plain\r\n\r\nx\r\n--%s--\r\n" % (
                 CURL_BOUNDARY.encode(), CURL_BOUNDARY.encode()), H, 400,
             "invalid_multipart", None),
            ("a raw NUL in the file name",
             multipart([part("file", b"x", disposition=b'form-data; name="file"; '
                             b'filename="a\x00b.txt"')], CURL_BOUNDARY),
             H, 400, "invalid_multipart", None),
        ]
        for what, body, hdrs, status, code, field in cases:
            with self.subTest(what):
                self.refused(status, code, field, body, hdrs, what=what)

    def test_bad_raw_uploads_are_refused_and_change_nothing(self):
        cases = [
            ("an unknown parameter", "?name=a&color=red", 400, "unknown_field", "color"),
            ("stdin", "?name=a&stdin=x", 400, "invalid_field", "stdin"),
            ("a bad priority", "?priority=high", 400, "invalid_field", "priority"),
            ("a priority out of range", "?priority=1000001", 400, "invalid_field", "priority"),
            ("a bad timeout", "?timeout=-1", 400, "invalid_field", "timeout"),
            ("a bad queue", "?queue=a%20b", 400, "invalid_field", "queue"),
            ("max_attempts over 100", "?max_attempts=101", 400, "invalid_field",
             "max_attempts"),
            ("max_attempts 0", "?max_attempts=0", 400, "invalid_field", "max_attempts"),
            ("a short sha256", "?sha256=abc", 400, "invalid_field", "sha256"),
            ("a sha256 that is not hex", "?sha256=" + "z" * 64, 400, "invalid_field", "sha256"),
            ("a parameter given twice", "?priority=1&priority=2", 400, "invalid_field",
             "priority"),
            ("a negative delay", "?delay=-5", 400, "invalid_field", "delay"),
        ]
        for what, query, status, code, field in cases:
            for method, hdrs in (("POST", OCTET), ("PUT", {})):
                with self.subTest(what, method=method):
                    self.refused(status, code, field, b"some bytes", hdrs, query, method,
                                 what=what)

    def test_wrong_content_type_is_415(self):
        for hdrs, method in (({"Content-Type": "text/plain"}, "POST"),
                             ({"Content-Type": "application/json"}, "POST"),
                             ({"Content-Type": "application/x-www-form-urlencoded"}, "POST"),
                             ({"Content-Type": "application/octet-streamx"}, "POST"),
                             ({"Content-Type": "image/png"}, "PUT"),
                             ({}, "POST")):
            with self.subTest(hdrs=hdrs, method=method):
                self.refused(415, "unsupported_media_type", None, b"{}", hdrs, "?name=a",
                             method)

    def test_checksum(self):
        data = os.urandom(2 * MiB + 3)
        good, bad = sha(data), sha(data + b"x")
        # a mismatch: 422 and nothing stored, in both forms
        for what, body, hdrs, q in (
                ("multipart", file_body(data, "c.bin", sha256=bad),
                 mp_headers(CURL_BOUNDARY), ""),
                ("raw", data, OCTET, "?name=c.bin&sha256=" + bad),
                ("raw, upper case", data, OCTET, "?name=c.bin&sha256=" + bad.upper())):
            with self.subTest(what):
                r = self.refused(422, "checksum_mismatch", "sha256", body, hdrs, q, what=what)
                self.assertIn(good, r.data["error"]["message"])
        # a match (any case) is stored
        self.assertUploaded(self.upload_mp(data, "c.bin", sha256=good.upper()), data, "c.bin")
        self.assertUploaded(self.upload_raw(data, "c.bin", "sha256=" + good), data, "c.bin")

    def test_idempotency_key_makes_a_repeated_upload_create_nothing(self):
        data = os.urandom(300 * 1024 + 7)
        key = {"Idempotency-Key": "upload-once-1"}
        job = {"command": "true", "queue": "idem-up"}
        # multipart: the retry comes with a new boundary, like a new curl -F
        first = self.upload(file_body(data, "i.bin", CURL_BOUNDARY, job=job),
                            dict(mp_headers(CURL_BOUNDARY), **key))
        j = self.assertUploaded(first, data, "i.bin")
        before = self.snapshot()
        again = self.upload(file_body(data, "i.bin", CHROME_BOUNDARY, job=job),
                            dict(mp_headers(CHROME_BOUNDARY), **key))
        self.assertEqual(again.status, 200, again.raw[:500])
        self.assertEqual(again.data["id"], j["id"])
        self.assertEqual(again.data["file"], j["file"])
        self.assertNothingLeft(before, "a repeated upload")
        # the same key with another file, name or spec: 422, nothing stored
        for what, body in (("another file", file_body(data + b"!", "i.bin", job=job)),
                           ("another name", file_body(data, "j.bin", job=job)),
                           ("another spec", file_body(data, "i.bin",
                                                      job=dict(job, priority=3)))):
            with self.subTest(what):
                self.refused(422, "idempotency_mismatch", "Idempotency-Key", body,
                             dict(mp_headers(CURL_BOUNDARY), **key), what=what)
        # raw: the query is the spec
        rkey = dict(OCTET, **{"Idempotency-Key": "upload-once-2"})
        r1 = self.upload(data, rkey, "?name=r.bin&queue=idem-up")
        jr = self.assertUploaded(r1, data, "r.bin")
        before = self.snapshot()
        r2 = self.upload(data, rkey, "?name=r.bin&queue=idem-up")
        self.assertEqual((r2.status, r2.data["id"]), (200, jr["id"]))
        self.assertNothingLeft(before, "a repeated raw upload")
        self.refused(422, "idempotency_mismatch", "Idempotency-Key", data, rkey,
                     "?name=r.bin&queue=other", what="raw, another queue")
        # a bad key is refused before the body is read
        self.refused(400, "invalid_field", "Idempotency-Key", data,
                     dict(OCTET, **{"Idempotency-Key": "x" * 201}), "?name=k.bin",
                     what="a key too long")

    def test_eight_concurrent_uploads(self):
        n = 8
        datas = [os.urandom(4 * MiB + i * 1001) for i in range(n)]
        names = ["c%d-%s.bin" % (i, "视频" if i % 2 else "x") for i in range(n)]
        start = threading.Barrier(n)
        results = [None] * n

        def one(i):
            try:
                start.wait(scaled(10))
                if i % 3 == 0:
                    r = self.upload_mp(datas[i], names[i], expect=None,
                                       sha256=sha(datas[i]))
                elif i % 3 == 1:
                    r = self.upload_raw(datas[i], names[i], expect=None)
                else:
                    u = RawUpload(self.server, {"Transfer-Encoding": "chunked"},
                                  UPLOADS + "?name=" + urllib.parse.quote(names[i]), "PUT")
                    try:
                        for k in range(0, len(datas[i]), 256 * 1024):
                            assert u.send(datas[i][k:k + 256 * 1024]), "answered early"
                        u.finish()
                        r = u.response(60)
                    finally:
                        u.close()
                results[i] = r
            except Exception as e:	# reported below, in the test's thread
                results[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(120))
        jobs = []
        for i, r in enumerate(results):
            self.assertNotIsInstance(r, Exception, "upload %d: %r" % (i, r))
            self.assertIsNotNone(r, "upload %d did not finish" % i)
            jobs.append(self.assertUploaded(r, datas[i], names[i]))
        self.assertEqual(len({j["id"] for j in jobs}), n)
        for i, j in enumerate(jobs):
            done = self.wait(j["id"])
            self.assertEqual(done["state"], "succeeded", done)
            d = self.api("GET", "/api/v1/jobs/%d/file" % j["id"], timeout=30)
            self.assertEqual(sha(d.raw), sha(datas[i]))
        self.assertEqual(self.tmp_entries(), [])


# ---- clients that go away --------------------------------------------------

class UploadCutTest(UploadCase):
    """A client that disconnects mid-upload leaves nothing behind and
    creates no job.  Each case waits for its own temp file only, so that
    one failure does not spill into the next."""
    WORKERS = 1

    def cut(self, method, path, hdrs, first=b"", how="fin"):
        """Sends the head (the upload's temp file appears), first, then
        8 MiB of body, and goes away.  how: "fin", a plain close at once,
        while runneld most likely still has bytes of it to read;
        "drained", a close once runneld has read everything sent;
        "reset", an RST at once."""
        data = os.urandom(MiB)
        before = self.snapshot()
        old = set(self.tmp_entries())
        mine = lambda: set(self.tmp_entries()) - old
        u = RawUpload(self.server, hdrs, path, method)
        try:
            if first:
                self.assertTrue(u.send(first))
            wait_until(mine, 10, "the upload to start (its temp file in DATA/tmp)")
            for _ in range(8):
                self.assertTrue(u.send(data), "answered early")
            if how == "drained":
                # (a multipart parser may hold back a few bytes that could
                # start a delimiter)
                wait_until(lambda: any(os.path.getsize(self.data_path("tmp", n)) >=
                                       8 * MiB - 80 for n in mine()), 10,
                           "runneld to read all that was sent")
        finally:
            u.close(how == "reset")
        wait_until(lambda: not mine(), 5, "the temp file of the cut upload to go "
                   "(DATA/tmp has %r)" % sorted(mine()))
        self.assertEqual(self.snapshot(), before, "a cut upload left a job or a file")

    def test_connection_cut_in_the_middle_leaves_nothing(self):
        mp_head = file_body(b"", "cut.bin")
        mp_head = mp_head[:mp_head.index(b"\r\n\r\n") + 4]
        q = UPLOADS + "?name=cut.bin"
        for how in ("fin", "drained", "reset"):
            for what, method, path, hdrs, first in (
                    ("raw, Content-Length", "POST", q,
                     {**OCTET, "Content-Length": str(64 * MiB)}, b""),
                    ("raw, chunked", "POST", q,
                     {**OCTET, "Transfer-Encoding": "chunked"}, b""),
                    ("PUT, Content-Length", "PUT", q, {"Content-Length": str(64 * MiB)}, b""),
                    ("multipart, Content-Length", "POST", UPLOADS, {
                        **mp_headers(CURL_BOUNDARY), "Content-Length": str(64 * MiB)},
                     mp_head),
                    ("multipart, chunked", "POST", UPLOADS, {
                        **mp_headers(CURL_BOUNDARY), "Transfer-Encoding": "chunked"},
                     mp_head)):
                with self.subTest(what, close=how):
                    self.cut(method, path, hdrs, first, how)
        self.assertEqual(self.api("GET", "/healthz").status, 200)


# ---- running and reading back ----------------------------------------------

class UploadRunTest(UploadCase):
    WORKERS = 2

    def test_command_gets_the_file_by_path_name_and_stdin(self):
        data = os.urandom(3 * MiB + 5)	# more than a pipe holds
        name = "données 1.bin"
        cmd = ('wc -c < "$RUNNEL_FILE"; sha256sum; printf "%s\\n%s\\n" '
               '"$RUNNEL_FILE" "$RUNNEL_FILE_NAME"')
        for how in ("multipart", "raw"):
            with self.subTest(how):
                if how == "multipart":
                    r = self.upload_mp(data, name, job={"command": cmd})
                else:
                    r = self.upload_raw(data, name, urllib.parse.urlencode({"command": cmd}))
                j = self.assertUploaded(r, data, name)
                done = self.wait(j["id"], 60)
                self.assertEqual((done["state"], done["exit_code"]), ("succeeded", 0), done)
                path = os.path.realpath(self.stored_path(j))
                want = "%d\n%s  -\n%s\n%s\n" % (len(data), sha(data), path, name)
                self.assertEqual(self.output(j["id"]).decode(), want)

    def test_argv_env_cwd_and_name_in_the_job_part(self):
        data = b"hello upload\n"
        job = {"argv": ["sh", "-c", 'echo "$GREETING $(pwd) $(cat)"'], "env": {
            "GREETING": "hi"}, "cwd": "/tmp", "name": "argv upload", "timeout": 20}
        j = self.assertUploaded(self.upload_mp(data, "h.txt", job=job), data, "h.txt")
        self.assertEqual((j["argv"], j["env"], j["cwd"], j["name"], j["timeout"]),
                         (job["argv"], job["env"], "/tmp", "argv upload", 20))
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(self.output(j["id"]), b"hi /tmp hello upload\n")

    def test_without_a_command_the_job_succeeds_once_checked(self):
        j = self.upload_raw(os.urandom(5000), "plain.bin").data
        done = self.wait(j["id"])
        self.assertEqual((done["state"], done["exit_code"], done["signal"], done["error"]),
                         ("succeeded", 0, None, None), done)
        self.assertEqual((done["stdout_bytes"], done["stderr_bytes"]), (0, 0))
        self.assertEqual(done["attempts"], 1)
        self.assertLessEqual(parse_ts(done["started_at"]), parse_ts(done["finished_at"]))

    def test_a_retry_finds_the_file_again(self):
        # the first attempt fails, the automatic retry runs with the file
        data = os.urandom(50000)
        marker = os.path.join(self.tmp, "first-attempt-%d" % time.monotonic_ns())
        cmd = "test -e %s || { touch %s; exit 1; }; sha256sum" % (
            shlex.quote(marker), shlex.quote(marker))
        j = self.upload_raw(data, "retry.bin", urllib.parse.urlencode(
            {"command": cmd, "max_attempts": 2})).data
        self.assertEqual(j["max_attempts"], 2)
        done = self.wait(j["id"], 60)
        self.assertEqual((done["state"], done["attempts"]), ("succeeded", 2), done)
        self.assertEqual(self.output(j["id"]), ("%s  -\n" % sha(data)).encode())

    def test_a_delayed_upload_job_waits_scheduled(self):
        j = self.upload_raw(b"later", "later.txt", "delay=0.5&command=cat").data
        self.assertEqual(j["state"], "scheduled")
        self.assertIsNotNone(j["run_at"])
        done = self.wait(j["id"], 30)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertGreaterEqual(parse_ts(done["started_at"]), parse_ts(j["run_at"]))
        self.assertEqual(self.output(j["id"]), b"later")

    def test_a_failing_command_fails_the_job_and_keeps_the_file(self):
        data = b"x" * 100
        j = self.upload_raw(data, "x.txt", "command=" + urllib.parse.quote(
            "cat >/dev/null; echo bad >&2; exit 3")).data
        done = self.wait(j["id"])
        self.assertEqual((done["state"], done["exit_code"], done["error"]),
                         ("failed", 3, "exit status 3"), done)
        self.assertEqual(self.output(j["id"], "?stream=stderr"), b"bad\n")
        self.assertEqual(self.stored(j["id"]), {"x.txt": data})

    def test_download_equals_upload_byte_for_byte(self):
        data = os.urandom(5 * MiB + 123)
        for name, ascii_name, enc in (
                ("report.pdf", "report.pdf", "report.pdf"),
                ('say "hi";.txt', "say _hi_;.txt", "say%20%22hi%22%3B.txt"),
                ("视频 2026.mp4", "______ 2026.mp4", "%E8%A7%86%E9%A2%91%202026.mp4")):
            with self.subTest(name=name):
                j = self.assertUploaded(self.upload_raw(data, name), data, name)
                r = self.api("GET", "/api/v1/jobs/%d/file" % j["id"], timeout=30)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
                self.assertEqual(r.headers["Content-Length"], str(len(data)))
                self.assertEqual(r.headers["Accept-Ranges"], "bytes")
                self.assertEqual(r.headers["Content-Disposition"],
                                 "attachment; filename=\"%s\"; filename*=UTF-8''%s" % (
                                     ascii_name, enc))
                self.assertEqual(urllib.parse.unquote(enc), name)
                self.assertEqual(len(r.raw), len(data))
                self.assertTrue(r.raw == data, "the download differs from the upload")
                # while the job is finished too
                self.wait(j["id"])
                self.assertEqual(sha(self.api("GET", "/api/v1/jobs/%d/file" % j["id"],
                                              timeout=30).raw), sha(data))

    def test_range_requests(self):
        data = bytes(range(256)) * 40	# 10240 bytes
        size = len(data)
        j = self.upload_raw(data, "r.bin").data
        path = "/api/v1/jobs/%d/file" % j["id"]
        for rng, a, b in (("bytes=0-0", 0, 0), ("bytes=5-9", 5, 9), ("bytes=100-", 100, size - 1),
                          ("bytes=-3", size - 3, size - 1), ("bytes=-99999", 0, size - 1),
                          ("bytes=10000-99999", 10000, size - 1),
                          ("bytes=%d-" % (size - 1), size - 1, size - 1),
                          ("bytes=0-%d" % (size - 1), 0, size - 1)):
            with self.subTest(rng):
                r = self.api("GET", path, headers={"Range": rng})
                self.assertEqual(r.status, 206, r.raw[:200])
                self.assertEqual(r.headers["Content-Range"], "bytes %d-%d/%d" % (a, b, size))
                self.assertEqual(r.headers["Content-Length"], str(b - a + 1))
                self.assertEqual(r.raw, data[a:b + 1])
        for rng in ("bytes=%d-" % size, "bytes=99999-", "bytes=-0", "bytes=%d-%d" % (
                size, size + 10)):
            with self.subTest(rng):
                r = self.api("GET", path, headers={"Range": rng})
                self.assertError(r, 416, "range_not_satisfiable")
                self.assertEqual(r.headers["Content-Range"], "bytes */%d" % size)
        # what is not served as a range gets the whole file: several
        # ranges, another unit, and anything that is not digits as written
        for rng in ("bytes=0-1,5-6", "items=0-1", "bytes=abc", "bytes=9-3",
                    "bytes=--1", "bytes=0--1", "bytes=+1-2", "bytes= 1-2",
                    "bytes=1 -2", "bytes=1-+2", "bytes=-+3", "bytes=0x1-2",
                    "bytes=99999999999999999999-", "bytes=1-2 "):
            with self.subTest(rng):
                r = self.api("GET", path, headers={"Range": rng})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.raw, data)

    def test_file_of_a_job_that_is_not_an_upload_is_404(self):
        j = self.submit({"command": "true"})
        self.assertIsNone(j["file"])
        self.assertEqual(j["type"], "command")
        self.assertError(self.api("GET", "/api/v1/jobs/%d/file" % j["id"]), 404, "not_found")
        self.assertError(self.api("GET", "/api/v1/jobs/987654321/file"), 404, "not_found")
        self.assertError(self.api("GET", "/api/v1/jobs/abc/file"), 400, "invalid_field")

    def test_delete_removes_the_file(self):
        g = self.gate()
        j = self.upload_raw(b"to be deleted", "d.txt", "command=" + urllib.parse.quote(
            g.cmd)).data
        d = self.data_path("files", str(j["id"]))
        try:
            self.server.wait_running(j["id"])
            r = self.api("DELETE", "/api/v1/jobs/%d" % j["id"])
            self.assertError(r, 409, "conflict")
            self.assertTrue(os.path.isdir(d))
        finally:
            g.open()
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        r = self.api("DELETE", "/api/v1/jobs/%d" % j["id"])
        self.assertEqual(r.status, 204, r.raw)
        self.assertFalse(os.path.exists(d), "DATA/files/<id> outlived its job")
        self.assertError(self.api("GET", "/api/v1/jobs/%d" % j["id"]), 404, "not_found")
        self.assertError(self.api("GET", "/api/v1/jobs/%d/file" % j["id"]), 404, "not_found")

    def test_list_by_type(self):
        ups = [self.upload_raw(b"u%d" % i, "u%d" % i).data["id"] for i in range(3)]
        cmd = self.submit({"command": "true"})["id"]
        r = self.api("GET", "/api/v1/jobs?type=upload&limit=1000")
        self.assertEqual(r.status, 200)
        listed = {j["id"]: j for j in r.data["jobs"]}
        self.assertTrue(set(ups) <= set(listed))
        self.assertNotIn(cmd, listed)
        for j in listed.values():
            self.assertEqual(j["type"], "upload")
            self.assertIsInstance(j["file"], dict)
        self.assertEqual(listed[ups[1]]["file"], {"name": "u1", "size": 2,
                                                  "sha256": sha(b"u1")})
        r = self.api("GET", "/api/v1/jobs?type=command&limit=1000")
        ids = {j["id"] for j in r.data["jobs"]}
        self.assertIn(cmd, ids)
        self.assertFalse(ids & set(ups))
        for j in r.data["jobs"]:
            self.assertIsNone(j["file"])
        r = self.api("GET", "/api/v1/jobs?type=upload&limit=2")
        self.assertEqual([j["id"] for j in r.data["jobs"]], sorted(listed, reverse=True)[:2])
        self.assertError(self.api("GET", "/api/v1/jobs?type=uploads"), 400, "invalid_field",
                         "type")

    def test_file_object_in_get_and_in_events(self):
        ev = self.server.events()
        self.addCleanup(ev.close)
        self.assertEqual(ev.status, 200)
        data = os.urandom(10000)
        want = {"name": "ev.bin", "size": len(data), "sha256": sha(data)}
        j = self.upload_raw(data, "ev.bin", "command=true").data
        states = []
        while not states or states[-1] not in FINISHED:
            e = ev.next_job_event(lambda e: e["event"] == "job" and e["json"]["id"] == j["id"],
                                  15)
            self.assertUploadJob(e["json"])
            self.assertEqual(e["json"]["type"], "upload")
            self.assertEqual(e["json"]["file"], want, e["json"])
            states.append(e["json"]["state"])
        self.assertEqual(states[-1], "succeeded")
        self.assertIn("running", states)
        g = self.job(j["id"])
        self.assertEqual((g["type"], g["file"]), ("upload", want))
        # and the event of its deletion
        self.assertEqual(self.api("DELETE", "/api/v1/jobs/%d" % j["id"]).status, 204)
        e = ev.next_job_event(lambda e: e["event"] == "deleted" and
                              e["json"].get("id") == j["id"], 15)
        self.assertEqual(e["json"]["id"], j["id"])


# ---- names -----------------------------------------------------------------

# (what the client says, what is stored)
NAME_CASES = [
    ("../../etc/passwd", "passwd"),
    ("/etc/passwd", "passwd"),
    ("a/b", "b"),
    ("dir/", "upload"),
    ("/", "upload"),
    ("..", "upload"),
    (".", "upload"),
    ("...", "upload"),
    ("../..", "upload"),
    ("", "upload"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("a\\b", "b"),
    ("a\\", "upload"),
    ("x\x01y\x1fz\x7f.txt", "xyz.txt"),
    ("tab\there.txt", "tabhere.txt"),
    ("name. . ", "name"),
    ("report.pdf.", "report.pdf"),
    ("视频 2026.mp4", "视频 2026.mp4"),
    ("ünïcödé ✓.txt", "ünïcödé ✓.txt"),
    ("emoji 😀.png", "emoji 😀.png"),
    (" lead and inner  spaces.txt", " lead and inner  spaces.txt"),
    ("$(reboot);`id`|&>x.sh", "$(reboot);`id`|&>x.sh"),
    ("a%00b.txt", "a%00b.txt"),		# a literal percent sign: nothing decodes it
    ("-rf", "-rf"),
]

# raw bytes of the name (percent-encoded in ?name=): invalid UTF-8 and NUL
RAW_BYTE_CASES = [
    (b"ab\xff.txt", "ab_.txt"),
    (b"\xc3(x", "_(x"),
    (b"\xed\xa0\x80.bin", "___.bin"),	# a UTF-16 surrogate is not UTF-8
    (b"\xe8\xa7", "__"),			# a cut sequence
    (b"a\x00b.txt", "ab.txt"),		# %00: NUL dropped like any control character
    (b"\x00", "upload"),
    (b"x\n\r.txt", "x.txt"),
]


class UploadNamesTest(UploadCase):
    WORKERS = 1

    def check_name(self, send, expect, data=None):
        """send(data) uploads; the file must be stored as expect, in its
        own directory, and nothing else may appear anywhere."""
        data = data if data is not None else os.urandom(64)
        tree = self.data_tree()
        outside = set(os.listdir(self.tmp))
        r = send(data)
        j = self.assertUploaded(r, data, expect)
        d = os.path.join("files", str(j["id"]))
        self.assertEqual(self.data_tree() - tree, {d, os.path.join(d, expect)},
                         "what the upload added to the data directory")
        self.assertEqual(set(os.listdir(self.tmp)) - outside, set(),
                         "the upload wrote next to the data directory")
        self.assertEqual(os.path.realpath(self.stored_path(j)),
                         os.path.join(os.path.realpath(self.data_path("files", str(j["id"]))),
                                      expect))
        self.assertNotIn("/", expect)
        self.assertLessEqual(len(expect.encode()), 200)
        return j

    def test_names_in_the_raw_form(self):
        for name, expect in NAME_CASES:
            with self.subTest(name=name):
                self.check_name(lambda d: self.upload_raw(d, name, expect=None), expect)
        for raw, expect in RAW_BYTE_CASES:
            with self.subTest(name=raw):
                q = "?name=" + urllib.parse.quote(raw, safe="")
                self.check_name(lambda d: self.upload(d, OCTET, q), expect)
        with self.subTest("no name at all"):
            self.check_name(lambda d: self.upload(d, OCTET), "upload")

    def test_names_in_the_multipart_form(self):
        for name, expect in NAME_CASES:
            if "\\" in name:
                continue	# below: a backslash is an escape in a quoted-string
            with self.subTest(name=name):
                self.check_name(lambda d: self.upload_mp(d, name, expect=None), expect)
        # raw bytes in the quoted filename (what a browser sends for a
        # file named so), NUL excepted: that one is a malformed header
        for raw, expect in RAW_BYTE_CASES:
            if b"\x00" in raw or b"\r" in raw:
                continue
            with self.subTest(name=raw):
                self.check_name(lambda d: self.upload_mp(d, raw, expect=None), expect)
        # RFC 5987 filename*: percent-encoded UTF-8, %00 included
        for enc, expect in (("%E8%A7%86%E9%A2%91%202026.mp4", "视频 2026.mp4"),
                            ("..%2F..%2Fetc%2Fpasswd", "passwd"),
                            ("a%00b.txt", "ab.txt"),
                            ("%2E%2E", "upload")):
            with self.subTest(filename_star=enc):
                disp = b"form-data; name=\"file\"; filename=\"fallback.txt\"; " \
                       b"filename*=UTF-8''" + enc.encode()
                self.check_name(lambda d: self.upload(
                    multipart([part("file", d, disposition=disp)], CURL_BOUNDARY),
                    mp_headers(CURL_BOUNDARY)), expect)

    def test_backslashes_in_multipart_file_names(self):
        # curl and RFC 7230 quoted-string: an escaped backslash
        self.check_name(lambda d: self.upload_mp(d, b"..\\\\..\\\\win.ini", expect=None),
                        "win.ini")
        # browsers do not escape backslashes (WHATWG): old Internet
        # Explorer and Edge send the whole Windows path of the file
        self.check_name(lambda d: self.upload_mp(d, b"C:\\Users\\me\\report.pdf",
                                                 expect=None), "report.pdf")
        self.check_name(lambda d: self.upload_mp(d, b"..\\..\\evil.bat", expect=None),
                        "evil.bat")

    def test_long_names_are_cut_to_200_bytes_keeping_the_extension(self):
        cases = [
            ("a" * 296 + ".bin", "a" * 196 + ".bin"),			# 300 bytes
            ("视" * 100 + ".mp4", "视" * 65 + ".mp4"),		# no character cut in two
            ("b" * 280 + "." + "x" * 19, "b" * 200),		# extension over 16 bytes: cut
            ("c" * 200, "c" * 200),
            ("d" * 201, "d" * 200),
            ("e" * 300 + ".tar.gz", "e" * 197 + ".gz"),
            ("../" * 100 + "f" * 300, "f" * 200),
            ("😀" * 75, "😀" * 50),
            ("g" * 1196 + ".txt", "g" * 196 + ".txt"),		# 1 200 bytes
            ("h" * 7000 + ".log", "h" * 196 + ".log"),		# near the 8 KiB of a part's headers
        ]
        for name, expect in cases:
            with self.subTest(name=name[:20] + "... (%d bytes)" % len(name.encode())):
                self.assertLessEqual(len(expect.encode()), 200)
                self.check_name(lambda d: self.upload_raw(d, name, expect=None), expect)
                self.check_name(lambda d: self.upload_mp(d, name, expect=None), expect)

    def test_names_come_back_in_the_download(self):
        for name, expect in (("../../etc/passwd", "passwd"), ("视频 2026.mp4", "视频 2026.mp4")):
            with self.subTest(name=name):
                j = self.upload_raw(b"content", name).data
                r = self.api("GET", "/api/v1/jobs/%d/file" % j["id"])
                cd = r.headers["Content-Disposition"]
                self.assertTrue(cd.startswith('attachment; filename="'), cd)
                star = cd.split("filename*=UTF-8''", 1)[1]
                self.assertEqual(urllib.parse.unquote(star), expect)
                fallback = cd.split('filename="', 1)[1].split('"', 1)[0]
                self.assertTrue(all(0x20 <= ord(c) < 0x7f for c in fallback), cd)


# ---- size: 1 GiB with flat memory ------------------------------------------

class UploadBigTest(UploadCase):
    WORKERS = 1

    def test_one_gib_upload_keeps_runneld_rss_flat(self):
        size = GiB
        block = os.urandom(MiB)
        pid = self.server.pid
        # warm up (first upload, first check), then take the idle RSS
        j = self.upload_raw(os.urandom(8 * MiB), "warm.bin").data
        self.wait(j["id"])
        idle = vm_rss_kb(pid)
        for form in ("raw", "multipart"):
            with self.subTest(form):
                sampler = RssSampler(pid)
                h = hashlib.sha256()
                if form == "raw":
                    u = RawUpload(self.server, {**OCTET, "Content-Length": str(size)},
                                  UPLOADS + "?name=big.bin", timeout=120)
                    tail = b""
                else:
                    head = file_body(b"", "big.bin")
                    head, tail = head[:head.index(b"\r\n\r\n") + 4], head[
                        head.index(b"\r\n\r\n") + 4:]
                    u = RawUpload(self.server, {**mp_headers(CURL_BOUNDARY),
                                                "Transfer-Encoding": "chunked"},
                                  timeout=120)
                    self.assertTrue(u.send(head))
                t0 = time.monotonic()
                sampler.start()
                try:
                    for b in blocks(size, block):
                        h.update(b)
                        self.assertTrue(u.send(b), "answered early")
                    if tail:
                        self.assertTrue(u.send(tail))
                    u.finish()
                    r = u.response(120)
                finally:
                    peak = sampler.stop()
                    u.close()
                took = time.monotonic() - t0
                self.assertIsNotNone(r)
                self.assertEqual(r.status, 201, r.raw)
                self.assertEqual(r.data["file"], {"name": "big.bin", "size": size,
                                                  "sha256": h.hexdigest()})
                self.assertEqual(os.path.getsize(self.stored_path(r.data)), size)
                self.assertGreater(len(sampler.samples), 5)
                self.assertLessEqual(peak - idle, 16 * 1024,
                                     "runneld's RSS went from %d kB idle to %d kB while a "
                                     "1 GiB upload streamed in (%.1fs)" % (idle, peak, took))
                done = self.wait(r.data["id"], 300)
                self.assertEqual(done["state"], "succeeded", done)
                self.assertEqual(self.api("DELETE", "/api/v1/jobs/%d" % r.data["id"]).status,
                                 204)
                self.assertEqual(self.tmp_entries(), [])


# ---- limits ----------------------------------------------------------------

class UploadLimitTest(UploadCase):
    WORKERS = 1
    SERVER_ARGS = RunnelTestCase.SERVER_ARGS + ["--max-upload", "1M", "--max-body", "4K"]
    LIMIT = MiB

    def early(self, hdrs, method="POST", path=UPLOADS + "?name=big.bin"):
        """Sends only the head; the answer must come without the body."""
        before = self.snapshot()
        u = RawUpload(self.server, hdrs, path, method)
        try:
            r = u.response(10)
        finally:
            u.close()
        self.assertIsNotNone(r, "no answer to the head alone")
        self.assertError(r, 413, "too_large", "file")
        self.assertNothingLeft(before)

    def test_announced_length_over_the_limit_is_413_before_the_body(self):
        for what, hdrs, method in (
                ("raw POST", {**OCTET, "Content-Length": str(self.LIMIT + 1)}, "POST"),
                ("raw PUT like curl -T", {"Content-Length": str(self.LIMIT + 1),
                                          "Expect": "100-continue"}, "PUT"),
                ("raw, 1 TiB", {**OCTET, "Content-Length": str(1 << 40)}, "POST"),
                ("multipart, 1 GiB", {**mp_headers(CURL_BOUNDARY),
                                      "Content-Length": str(GiB)}, "POST"),
                ("multipart with Expect", {**mp_headers(CURL_BOUNDARY),
                                           "Content-Length": str(GiB),
                                           "Expect": "100-continue"}, "POST")):
            with self.subTest(what):
                self.early(hdrs, method)

    def test_exactly_at_the_limit_is_accepted(self):
        data = os.urandom(self.LIMIT)
        j = self.assertUploaded(self.upload_raw(data, "max.bin"), data, "max.bin")
        self.assertEqual(j["file"]["size"], self.LIMIT)
        j = self.assertUploaded(self.upload_mp(data, "max.bin"), data, "max.bin")
        # one byte more, announced: refused before or while the body
        # comes, so sent on a socket that may be closed under it
        for form, hdrs, path, body in (
                ("raw", OCTET, UPLOADS + "?name=max.bin", data + b"x"),
                ("multipart", mp_headers(CURL_BOUNDARY), UPLOADS,
                 file_body(data + b"x", "max.bin"))):
            with self.subTest(form):
                before = self.snapshot()
                u = RawUpload(self.server, {**hdrs, "Content-Length": str(len(body))}, path)
                try:
                    for i in range(0, len(body), 65536):
                        if not u.send(body[i:i + 65536]):
                            break
                    r = u.response(10)
                finally:
                    u.close()
                self.assertIsNotNone(r, "the connection ended without a 413")
                self.assertError(r, 413, "too_large", "file")
                self.assertNothingLeft(before)

    def test_job_part_over_max_body_is_413(self):
        job = json.dumps({"command": "true", "env": {"PAD": "x" * 5000}})
        before = self.snapshot()
        r = self.upload(file_body(b"data", "j.txt", job=job), mp_headers(CURL_BOUNDARY))
        self.assertError(r, 413, "too_large", "job")
        self.assertNothingLeft(before)
        # a job part within --max-body is fine
        job = json.dumps({"command": "true", "env": {"PAD": "x" * 3000}})
        self.assertUploaded(self.upload(file_body(b"data", "j.txt", job=job),
                                        mp_headers(CURL_BOUNDARY)), b"data", "j.txt")

    def test_body_passing_the_limit_is_cut_off_early(self):
        block = os.urandom(64 * 1024)
        head = file_body(b"", "big.bin")
        head = head[:head.index(b"\r\n\r\n") + 4]
        for what, hdrs, first in (
                ("raw chunked", {**OCTET, "Transfer-Encoding": "chunked"}, b""),
                ("PUT chunked", {"Transfer-Encoding": "chunked"}, b""),
                ("multipart chunked", {**mp_headers(CURL_BOUNDARY),
                                       "Transfer-Encoding": "chunked"}, head),
                # within the allowance for the other parts: the file
                # bytes tell
                ("multipart, Content-Length", {**mp_headers(CURL_BOUNDARY),
                                               "Content-Length": str(self.LIMIT + 4096)}, head)):
            with self.subTest(what):
                before = self.snapshot()
                method = "PUT" if what.startswith("PUT") else "POST"
                u = RawUpload(self.server, hdrs, UPLOADS + "?name=big.bin"
                              if "multipart" not in what else UPLOADS, method)
                try:
                    if first:
                        self.assertTrue(u.send(first))
                    while u.sent < 64 * self.LIMIT and u.send(block):
                        pass
                    r = u.response(10)
                finally:
                    u.close()
                self.assertLess(u.sent, 16 * self.LIMIT,
                                "runneld kept reading an upload over the limit")
                self.assertIsNotNone(r, "the connection ended without a 413")
                self.assertError(r, 413, "too_large", "file")
                self.assertEqual(r.headers.get("Connection"), "close")
                self.assertNothingLeft(before, what)
        self.assertEqual(self.api("GET", "/healthz").status, 200)


class UploadStorageTest(UploadCase):
    WORKERS = 1
    SERVER_ARGS = RunnelTestCase.SERVER_ARGS + ["--max-upload", "1000T"]

    def test_announced_size_above_free_space_is_503_storage_full(self):
        st = os.statvfs(self.data_path("tmp"))
        free = st.f_bavail * st.f_frsize
        for size in (free + GiB, free):	# both short of the 64 MiB reserve
            with self.subTest(size=size):
                before = self.snapshot()
                u = RawUpload(self.server, {**OCTET, "Content-Length": str(size)},
                              UPLOADS + "?name=huge.bin")
                try:
                    r = u.response(10)
                finally:
                    u.close()
                self.assertIsNotNone(r, "no answer to the head alone")
                self.assertError(r, 503, "storage_full")
                self.assertNothingLeft(before)
        # a file that fits is fine
        self.assertUploaded(self.upload_raw(b"small", "small.txt"), b"small", "small.txt")


class UploadAuthTest(UploadCase):
    WORKERS = 1
    TOKEN = "upload-Token_42"

    def test_uploads_and_downloads_need_the_token(self):
        data = os.urandom(100000)
        for what, body, hdrs, q in (
                ("raw", data, OCTET, "?name=a.bin"),
                ("multipart", file_body(data, "a.bin"), mp_headers(CURL_BOUNDARY), "")):
            for token in (False, "wrong"):
                with self.subTest(what, token=token):
                    before = self.snapshot()
                    r = self.api("POST", UPLOADS + q, raw=body, headers=hdrs, token=token)
                    self.assertError(r, 401, "unauthorized")
                    self.assertNothingLeft(before, what)
        # a big announced body is refused without being read
        u = RawUpload(self.server, {**OCTET, "Content-Length": str(GiB),
                                    "Authorization": "Bearer wrong"}, UPLOADS + "?name=a")
        try:
            r = u.response(10)
        finally:
            u.close()
        self.assertIsNotNone(r, "no answer to the head alone")
        self.assertError(r, 401, "unauthorized")
        j = self.assertUploaded(self.upload_raw(data, "a.bin"), data, "a.bin")
        path = "/api/v1/jobs/%d/file" % j["id"]
        self.assertError(self.api("GET", path, token=False), 401, "unauthorized")
        self.assertEqual(self.api("GET", path).raw, data)


# ---- the worker's check of the stored file ---------------------------------

class UploadCheckTest(UploadCase):
    WORKERS = 1

    def held_upload(self, data, name="c.bin", command="cat", **extra):
        """Uploads while the only worker is held by a gate job: the upload
        job stays queued until the gate opens.  Returns (gate, job)."""
        g = self.gate()
        held = self.submit({"command": g.cmd})
        self.addCleanup(g.release)
        self.server.wait_running(held["id"])
        job = {"command": command} if command else {}
        job.update(extra)
        j = self.upload_mp(data, name, job=job).data
        self.cancel_later(j["id"])
        self.assertEqual(self.job(j["id"])["state"], "queued")
        return g, j

    def check_fails(self, j, g, want_error):
        g.open()
        done = self.wait(j["id"], 60)
        self.assertEqual(done["state"], "failed", done)
        self.assertTrue(done["error"].startswith(want_error), done["error"])
        self.assertIsNone(done["exit_code"], "the command never ran")
        self.assertEqual(done["stdout_bytes"], 0, "the command never ran")
        return done

    def test_content_changed_at_rest_fails_the_check(self):
        data = os.urandom(3 * MiB)
        g, j = self.held_upload(data)
        with open(self.stored_path(j), "r+b") as f:	# same size, one bit
            f.seek(2 * MiB + 5)
            b = f.read(1)
            f.seek(2 * MiB + 5)
            f.write(bytes([b[0] ^ 1]))
        done = self.check_fails(j, g, "file check failed")
        self.assertIn("SHA-256", done["error"])

    def test_retry_after_the_file_is_restored(self):
        data = os.urandom(70000)
        g, j = self.held_upload(data, command="sha256sum")
        with open(self.stored_path(j), "r+b") as f:
            f.write(bytes([data[0] ^ 1]))
        self.check_fails(j, g, "file check failed")
        with open(self.stored_path(j), "r+b") as f:
            f.write(data[:1])
        r = self.api("POST", "/api/v1/jobs/%d/retry" % j["id"])
        self.assertEqual(r.status, 200, r.raw)
        done = self.wait(j["id"])
        self.assertEqual((done["state"], done["attempts"]), ("succeeded", 2), done)
        self.assertEqual(self.output(j["id"]), ("%s  -\n" % sha(data)).encode())

    def test_size_changed_at_rest_fails_the_check(self):
        data = os.urandom(100000)
        for what, change in (("grown", lambda f: f.write(b"more")),
                             ("truncated", lambda f: f.truncate(99999))):
            with self.subTest(what):
                g, j = self.held_upload(data)
                with open(self.stored_path(j), "r+b") as f:
                    f.seek(0, os.SEEK_END)
                    change(f)
                self.check_fails(j, g, "file check failed")

    def test_file_removed_or_replaced_by_a_symlink_fails_the_check(self):
        data = b"the real content\n"
        other = os.path.join(self.tmp, "other-file")
        with open(other, "wb") as f:
            f.write(data)		# same bytes: only the symlink differs
        for what in ("removed", "symlink"):
            with self.subTest(what):
                g, j = self.held_upload(data)
                os.unlink(self.stored_path(j))
                if what == "symlink":
                    os.symlink(other, self.stored_path(j))
                else:
                    self.assertError(self.api("GET", "/api/v1/jobs/%d/file" % j["id"]),
                                     404, "not_found")
                self.check_fails(j, g, "file check failed")

    def test_timeout_during_the_check(self):
        # 64 MiB cannot be read and hashed in 1 ms
        data = os.urandom(64 * MiB)
        g, j = self.held_upload(data, command="touch %s" % shlex.quote(
            os.path.join(self.tmp, "ran")), timeout=0.001)
        done = self.check_fails(j, g, "timeout after")
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "ran")))

    def test_cancel_during_a_long_check(self):
        # The stored file grows (sparse) at rest to 64 GiB: its check
        # would take a minute.  The job is canceled while checking.
        marker = os.path.join(self.tmp, "ran-after-cancel")
        g, j = self.held_upload(b"small", command="touch %s" % shlex.quote(marker))
        with open(self.stored_path(j), "r+b") as f:
            f.truncate(64 * GiB)
        g.open()
        self.server.wait_state(j["id"], "running")
        t0 = time.monotonic()
        r = self.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)
        self.assertEqual(r.status, 200, r.raw)
        done = self.wait(j["id"], 30)
        took = time.monotonic() - t0
        self.assertEqual((done["state"], done["error"]), ("canceled", "canceled"), done)
        self.assertLess(took, scaled(10), "the cancel waited for the check to end")
        self.assertFalse(os.path.exists(marker))
        # and the worker is free again
        n = self.submit({"command": "true"})
        self.assertEqual(self.wait(n["id"])["state"], "succeeded")
        self.assertEqual(self.api("DELETE", "/api/v1/jobs/%d" % j["id"]).status, 204)

    def test_timeout_during_a_long_check(self):
        g, j = self.held_upload(b"small", command="true", timeout=0.5)
        with open(self.stored_path(j), "r+b") as f:
            f.truncate(64 * GiB)
        g.open()
        done = self.wait(j["id"], 30)
        self.assertEqual(done["state"], "failed", done)
        self.assertEqual(done["error"], "timeout after 0.5s")
        took = (parse_ts(done["finished_at"]) - parse_ts(done["started_at"])).total_seconds()
        # (millisecond clocks, truncated: 1 ms of slack)
        self.assertGreaterEqual(took, 0.499)
        self.assertLess(took, scaled(10))
        self.assertEqual(self.api("DELETE", "/api/v1/jobs/%d" % j["id"]).status, 204)


# ---- kill -9 -----------------------------------------------------------------

class UploadCrashTest(UploadCase):
    WORKERS = 1

    def test_kill9_mid_upload_then_restart_leaves_nothing(self):
        s = self.server
        kept = os.urandom(300000)
        good = self.assertUploaded(self.upload_raw(kept, "kept.bin"), kept, "kept.bin")
        self.wait(good["id"])
        cmd = self.submit({"command": "true"})
        self.wait(cmd["id"])
        total = s.total()
        files = self.file_dirs()
        self.assertEqual(files, [str(good["id"])])

        block = os.urandom(MiB)
        streams = []
        for hdrs, path in (({**OCTET, "Content-Length": str(GiB)}, UPLOADS + "?name=k1"),
                           ({**mp_headers(CURL_BOUNDARY), "Transfer-Encoding": "chunked"},
                            UPLOADS)):
            u = RawUpload(s, hdrs, path)
            streams.append(u)
            if "Transfer-Encoding" in hdrs:
                head = file_body(b"", "k2")
                self.assertTrue(u.send(head[:head.index(b"\r\n\r\n") + 4]))
            for _ in range(8):
                self.assertTrue(u.send(block), "answered early")
        try:
            wait_until(lambda: len(self.tmp_entries()) == 2 and all(
                os.path.getsize(self.data_path("tmp", n)) >= MiB
                for n in self.tmp_entries()), 15, "both uploads to stream into DATA/tmp")
            s.kill9()
        finally:
            for u in streams:
                u.close()
        # what a crash at other moments would leave: a file whose job was
        # never committed, a file next to a command job, stray names
        for d, name in ((str(good["id"] + 1000), "orphan.bin"), (str(cmd["id"]), "x"),
                        ("junk", "y"), ("0", "z")):
            os.makedirs(self.data_path("files", d), exist_ok=True)
            with open(self.data_path("files", d, name), "wb") as f:
                f.write(b"left")
        with open(self.data_path("tmp", "upload-leftover"), "wb") as f:
            f.write(b"half")
        self.assertTrue(self.tmp_entries())

        s.start()
        self.assertEqual(self.tmp_entries(), [], "DATA/tmp after the restart")
        self.assertEqual(self.file_dirs(), files, "DATA/files after the restart")
        self.assertEqual(s.total(), total, "an upload cut by kill -9 made a job")
        r = self.api("GET", "/api/v1/jobs?type=upload&limit=1000")
        self.assertEqual([j["id"] for j in r.data["jobs"]], [good["id"]])
        # the upload acknowledged before the crash is whole
        self.assertEqual(self.stored(good["id"]), {"kept.bin": kept})
        self.assertEqual(self.api("GET", "/api/v1/jobs/%d/file" % good["id"]).raw, kept)
        # and uploads go on, with ids after the old ones
        again = self.assertUploaded(self.upload_raw(b"after", "after.txt"), b"after",
                                    "after.txt")
        self.assertGreater(again["id"], cmd["id"])
        self.assertEqual(self.wait(again["id"])["state"], "succeeded")
