"""Hostile and malformed requests: each is refused with its JSON error and
changes nothing (the job count in /api/v1/stats stays the same)."""
import json
import select
import socket
import struct
import time

from harness import RunnelTestCase, scaled, vm_rss_kb

LIMIT = 1 << 20		# --max-body default

# (spec, error code, field) — field None: not checked here
BAD_SPECS = [
    ({"command": "x", "priority": "high"}, "invalid_field", "priority"),
    ({"command": "x", "priority": 1.5}, "invalid_field", "priority"),
    ({"command": "x", "priority": 2000000}, "invalid_field", "priority"),
    ({"command": "x", "priority": 1000001}, "invalid_field", "priority"),
    ({"command": "x", "priority": -1000001}, "invalid_field", "priority"),
    ({"command": "x", "priority": True}, "invalid_field", "priority"),
    ({"command": "x", "priority": "1"}, "invalid_field", "priority"),
    ({"command": "x", "priority": [1]}, "invalid_field", "priority"),
    ({"command": "x", "priority": 1e300}, "invalid_field", "priority"),
    ({"command": "x", "queue": "bad queue"}, "invalid_field", "queue"),
    ({"command": "x", "queue": ""}, "invalid_field", "queue"),
    ({"command": "x", "queue": "q" * 65}, "invalid_field", "queue"),
    ({"command": "x", "queue": 5}, "invalid_field", "queue"),
    ({"command": "x", "queue": "a/b"}, "invalid_field", "queue"),
    ({"command": "x", "queue": "caf\u00e9"}, "invalid_field", "queue"),
    ({"command": ""}, "invalid_field", "command"),
    ({"command": "   "}, "invalid_field", "command"),
    ({"command": " \t\r\n "}, "invalid_field", "command"),
    ({"command": 5}, "invalid_field", "command"),
    ({"command": ["ls"]}, "invalid_field", "command"),
    ({"command": {"$gt": ""}}, "invalid_field", "command"),
    ({"command": "x" * 131072}, "invalid_field", "command"),
    ({}, "invalid_field", "command"),
    ({"name": "no command"}, "invalid_field", "command"),
    ({"argv": []}, "invalid_field", "argv"),
    ({"argv": [1]}, "invalid_field", "argv"),
    ({"argv": "ls"}, "invalid_field", "argv"),
    ({"argv": [""]}, "invalid_field", "argv"),
    ({"argv": [None]}, "invalid_field", "argv"),
    ({"argv": ["ls", 2]}, "invalid_field", "argv"),
    ({"argv": ["ls", ["-l"]]}, "invalid_field", "argv"),
    ({"argv": {"0": "ls"}}, "invalid_field", "argv"),
    ({"argv": ["x" * 131072]}, "invalid_field", "argv"),
    ({"command": "x", "env": {"A=B": "x"}}, "invalid_field", "env"),
    ({"command": "x", "env": {"A": 1}}, "invalid_field", "env"),
    ({"command": "x", "env": {"1A": "x"}}, "invalid_field", "env"),
    ({"command": "x", "env": {"": "x"}}, "invalid_field", "env"),
    ({"command": "x", "env": {"A-B": "x"}}, "invalid_field", "env"),
    ({"command": "x", "env": {"A B": "x"}}, "invalid_field", "env"),
    ({"command": "x", "env": {"A": None}}, "invalid_field", "env"),
    ({"command": "x", "env": {"A": {"B": {"C": {"D": []}}}}}, "invalid_field", "env"),
    ({"command": "x", "env": "A=B"}, "invalid_field", "env"),
    ({"command": "x", "env": ["A=B"]}, "invalid_field", "env"),
    ({"command": "x", "cwd": "relative/path"}, "invalid_field", "cwd"),
    ({"command": "x", "cwd": "./"}, "invalid_field", "cwd"),
    ({"command": "x", "cwd": ""}, "invalid_field", "cwd"),
    ({"command": "x", "cwd": "/nonexistent/dir/xyzzy"}, "invalid_field", "cwd"),
    ({"command": "x", "cwd": 5}, "invalid_field", "cwd"),
    ({"command": "x", "timeout": 0}, "invalid_field", "timeout"),
    ({"command": "x", "timeout": -1}, "invalid_field", "timeout"),
    ({"command": "x", "timeout": "x"}, "invalid_field", "timeout"),
    ({"command": "x", "timeout": "10"}, "invalid_field", "timeout"),
    ({"command": "x", "timeout": True}, "invalid_field", "timeout"),
    ({"command": "x", "timeout": 1e300}, "invalid_field", "timeout"),
    ({"command": "x", "timeout": {}}, "invalid_field", "timeout"),
    ({"command": "x", "name": 5}, "invalid_field", "name"),
    ({"command": "x", "name": "n" * 201}, "invalid_field", "name"),
    ({"command": "x", "stdin": 5}, "invalid_field", "stdin"),
    ({"command": "x", "stdin": ["a"]}, "invalid_field", "stdin"),
    ({"command": "x", "max_attempts": 0}, "invalid_field", "max_attempts"),
    ({"command": "x", "max_attempts": 101}, "invalid_field", "max_attempts"),
    ({"command": "x", "max_attempts": "x"}, "invalid_field", "max_attempts"),
    ({"command": "x", "max_attempts": 1.5}, "invalid_field", "max_attempts"),
    # flow control fields out of range
    ({"command": "x", "delay": -1}, "invalid_field", "delay"),
    ({"command": "x", "delay": 1, "run_at": "2030-01-01T00:00:00.000Z"}, "invalid_field", "run_at"),
    ({"command": "x", "run_at": "soon"}, "invalid_field", "run_at"),
    ({"command": "x", "after": "1"}, "invalid_field", "after"),
    ({"command": "x", "limits": {"memory_mb": 0}}, "invalid_field", "limits.memory_mb"),
    ({"command": "x", "limits": {"gpus": 1}}, "unknown_field", "limits.gpus"),
    # unknown fields
    ({"command": "x", "bogus": 1}, "unknown_field", "bogus"),
    ({"command": "x", "Command": "y"}, "unknown_field", "Command"),
    ({"command": "x", "id": 5}, "unknown_field", "id"),
    ({"command": "x", "state": "succeeded"}, "unknown_field", "state"),
    ({"command": "x", "type": "upload"}, "unknown_field", "type"),
]

# bodies that are not (acceptable) JSON
BAD_JSON = [
    b'{"command": "x"',
    b'{"command": "x",}',
    b'{"command": "x" "priority": 1}',
    b"{command: 'x'}",
    b"{'command': 'x'}",
    b"",
    b"   ",
    b"nul",
    b'{"command": "x"} trailing',
    b'{"command": "x"}{"command": "y"}',
    b'{"command": "x", "priority": 01}',
    b'{"command": "x", "priority": 1.}',
    b'{"command": "a\tb"}',		# control characters must be escaped
    b'{"command": "a\nb"}',
    b'{"command": "x", "priority": NaN}',
    b'{"command": "x", "priority": Infinity}',
    b'{"command": "x", "priority": 0x10}',
    b'{"command": "a", "command": "b"}',
    b'{"command": "a", "env": {"A": "1", "A": "2"}}',
    b'{"command": "a\x00b"}',
    b'{"command": "a"}\x00',
    b'{"command": "\xff"}',
    b'{"command": "\xc3"}',
    b'{"command": "\xc0\xaf"}',
    b'{"command": "\xe0\x80\xaf"}',
    b'{"command": "\xed\xa0\x80"}',
    b'{"command": "\xf4\x90\x80\x80"}',
    b'{"name": "\xfe", "command": "x"}',
    b"[" * 100000,
    b'{"a":' * 50000,
    b'[{"command": "x"},]',
]

BAD_IDS = ["abc", "0", "-1", "99999999999999999999999", "9223372036854775808",
           "18446744073709551616", "1.5", "+1", "0x1", "1e3", "%201", "1%20",
           "01a", "1" * 200]

ID_ROUTES = [("GET", "/api/v1/jobs/%s"), ("DELETE", "/api/v1/jobs/%s"),
             ("POST", "/api/v1/jobs/%s/cancel"), ("POST", "/api/v1/jobs/%s/retry"),
             ("GET", "/api/v1/jobs/%s/output")]


def read_response(sock, timeout=10):
    """Reads one HTTP response (head and a Content-Length body) from sock."""
    end = time.monotonic() + scaled(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, end - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            break
        buf += data
    head, _, body = buf.partition(b"\r\n\r\n")
    if not head:
        return None, {}, b""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        sock.settimeout(max(0.01, end - time.monotonic()))
        data = sock.recv(65536)
        if not data:
            break
        body += data
    return status, headers, body


class BadInputTest(RunnelTestCase):
    WORKERS = 1

    def counts(self):
        s = self.server.stats()
        return s["total"], s.get("submitted_total")

    def refused(self, status, code, field=None, method="POST", path="/api/v1/jobs",
                fields=None, **kw):
        before = self.counts()
        r = self.api(method, path, **kw)
        self.assertError(r, status, code, field)
        if fields is not None:
            self.assertIn(r.data["error"].get("field"), fields)
        self.assertEqual(self.counts(), before, "a refused request changed the job count")
        return r

    def test_bad_specs(self):
        for spec, code, field in BAD_SPECS:
            with self.subTest(spec=repr(spec)[:100]):
                self.refused(400, code, field, body=spec)

    def test_bad_specs_in_a_batch_name_the_item(self):
        for spec, code, field in BAD_SPECS[::5]:
            with self.subTest(spec=repr(spec)[:100]):
                batch = [{"command": "true"}] * 3 + [spec] + [{"command": "true"}]
                self.refused(400, code, "[3]." + field, body=batch)

    def test_command_and_argv_together(self):
        self.refused(400, "invalid_field", fields=("command", "argv"),
                     body={"command": "ls", "argv": ["ls"]})

    def test_json_that_is_not_a_spec(self):
        for raw in (b"42", b'"str"', b"true", b"null", b"[[{\"command\": \"x\"}]]", b"[1]"):
            with self.subTest(body=raw):
                before = self.counts()
                r = self.api("POST", "/api/v1/jobs", raw=raw,
                             headers={"Content-Type": "application/json"})
                self.assertEqual(r.status, 400, r.raw)
                self.assertIn(r.data["error"]["code"], ("invalid_field", "invalid_json"))
                self.assertEqual(self.counts(), before)

    def test_malformed_json(self):
        for raw in BAD_JSON:
            with self.subTest(body=raw[:60]):
                self.refused(400, "invalid_json", raw=raw,
                             headers={"Content-Type": "application/json"})

    def test_bad_idempotency_keys_are_refused(self):
        for key in ("a" * 201, "has space", "tab\there", "caf\u00e9"):
            with self.subTest(key=key[:20]):
                self.refused(400, "invalid_field", "Idempotency-Key",
                             body={"command": "true"},
                             headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")})

    def test_wrong_content_type_is_415(self):
        for ctype in ("text/plain", "application/x-www-form-urlencoded",
                      "multipart/form-data; boundary=xyz", "application/jsonx",
                      "application/json-patch+json", "text/json", "application/xml"):
            with self.subTest(content_type=ctype):
                self.refused(415, "unsupported_media_type", raw=b'{"command": "true"}',
                             headers={"Content-Type": ctype})

    def test_bad_ids_are_400(self):
        for method, template in ID_ROUTES:
            for bad in BAD_IDS:
                with self.subTest(method=method, path=template % bad[:30]):
                    self.refused(400, "invalid_field", "id", method=method,
                                 path=template % bad)

    def test_unknown_ids_are_404(self):
        for method, template in ID_ROUTES:
            for jid in ("987654321", "9223372036854775807"):
                with self.subTest(method=method, path=template % jid):
                    self.refused(404, "not_found", method=method, path=template % jid)

    # -- bodies over --max-body ------------------------------------------------

    def test_body_over_the_limit_is_413(self):
        body = b'{"command": "true"}' + b" " * (LIMIT + 1 - 19)
        self.assertEqual(len(body), LIMIT + 1)
        before = self.counts()
        s = self.server.raw_socket()
        try:
            s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass	# refused before the body was read: fine
            status, headers, data = read_response(s)
        finally:
            s.close()
        self.assertEqual(status, 413, data)
        self.assertIn(b'"too_large"', data)
        self.assertEqual(self.counts(), before)

    def test_announced_length_over_the_limit_is_refused_before_the_body(self):
        before = self.counts()
        s = self.server.raw_socket()
        try:
            s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Content-Length: 1073741824\r\n\r\n")
            # not one byte of the body: the answer must come anyway
            status, headers, data = read_response(s)
        finally:
            s.close()
        self.assertEqual(status, 413, data)
        self.assertIn(b'"too_large"', data)
        self.assertEqual(self.counts(), before)

    def test_chunked_body_over_the_limit_is_cut_off(self):
        before = self.counts()
        rss0 = vm_rss_kb(self.server.pid)
        s = self.server.raw_socket()
        status = data = None
        sent = 0
        chunk = b"[" + b" " * 65535
        try:
            s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Type: application/json\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            while sent < 64 * LIMIT:
                readable, _, _ = select.select([s], [], [], 0)
                if readable:
                    break
                try:
                    s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(chunk)
            try:
                status, headers, data = read_response(s)
            except ConnectionResetError:
                status = "connection reset without an answer"
        finally:
            s.close()
        self.assertLess(sent, 16 * LIMIT, "runneld kept reading a body over the limit")
        self.assertEqual(status, 413, data)
        self.assertLess(vm_rss_kb(self.server.pid) - rss0, 16 * 1024,
                        "runneld's memory grew with the refused body")
        self.assertEqual(self.counts(), before)

    # -- dropped connections ---------------------------------------------------

    def test_dropped_connections_leave_the_server_healthy(self):
        before = self.counts()
        for i in range(20):
            s = self.server.raw_socket()
            if i % 4 == 0:	# mid-headers
                s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
            elif i % 4 == 1:	# mid-body
                s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                          b'{"command"')
            elif i % 4 == 2:	# mid-body, with a reset instead of a FIN
                s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Length: 1000\r\n\r\n0123456789")
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:		# a chunked body that stops
                s.sendall(b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n10\r\n{\"command\": \"tr")
            s.close()
        r = self.api("GET", "/healthz")
        self.assertEqual((r.status, r.data), (200, {"status": "ok"}))
        self.assertEqual(self.counts(), before)
        # still serving, on a fresh connection
        r = self.api("GET", "/api/v1/jobs?limit=1")
        self.assertEqual(r.status, 200)

    def test_garbage_request_lines(self):
        for junk in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n",
                     b"GET /api/v1/jobs HTTP/9.9\r\n\r\n",
                     b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"):
            with self.subTest(request=junk[:40]):
                s = self.server.raw_socket()
                try:
                    s.sendall(junk)
                    try:
                        status, _, _ = read_response(s)
                    except (ConnectionResetError, socket.timeout):
                        status = None
                finally:
                    s.close()
                if status is not None:
                    self.assertGreaterEqual(status, 400)
        r = self.api("GET", "/healthz")
        self.assertEqual(r.status, 200)

    def test_a_body_exactly_at_the_limit_is_accepted(self):
        body = b'{"command": "true"}' + b" " * (LIMIT - 19)
        self.assertEqual(len(body), LIMIT)
        r = self.api("POST", "/api/v1/jobs", raw=body,
                     headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r.raw[:300])
        self.assertEqual(self.wait(r.data["id"])["state"], "succeeded")


class MaxBodyTest(RunnelTestCase):
    WORKERS = 1
    SERVER_ARGS = RunnelTestCase.SERVER_ARGS + ["--max-body", "2048"]

    def test_max_body_flag_sets_the_limit(self):
        before = self.server.total()
        small = {"command": "true", "name": "n" * 150}
        r = self.api("POST", "/api/v1/jobs", body=[small] * 20)	# ~3.6 KB
        self.assertError(r, 413, "too_large")
        self.assertEqual(self.server.total(), before)
        r = self.api("POST", "/api/v1/jobs", body=[small] * 8)	# ~1.5 KB
        self.assertEqual(r.status, 201, r.raw)
        for j in r.data["jobs"]:
            self.wait(j["id"])


class WordsAndBytesTest(RunnelTestCase):
    """Errors that echo a client's bytes stay valid JSON; refusals name the
    field in words."""
    WORKERS = 1

    def test_invalid_utf8_from_the_url_is_escaped_in_the_error(self):
        for path, status in (("/%c0%ae%ff/x", 404), ("/api/v1/jobs/%ff%fe", 400),
                             ("/api/v1/%ed%a0%80", 404)):
            with self.subTest(path=path):
                r = self.api("GET", path)
                self.assertEqual(r.status, status, r.raw)
                text = r.raw.decode("utf-8")		# strict: raises if not UTF-8
                self.assertIn("\ufffd", json.loads(text)["error"]["message"])

    def test_query_values_must_be_utf8(self):
        before = self.server.total()
        r = self.api("PUT", "/api/v1/uploads?name=a.txt&command=%ff", raw=b"x",
                     headers={"Content-Type": "application/octet-stream"})
        self.assertError(r, 400, "invalid_field")
        r.raw.decode("utf-8")
        self.assertEqual(self.server.total(), before)

    def test_a_nul_in_a_field_names_the_field(self):
        before = self.server.total()
        for body, field in (
                ('{"command": "true", "env": {"A\\u0000B": "x"}}', "env"),
                ('{"command": "true", "env": {"A": "x\\u0000y"}}', "env"),
                ('{"command": "echo a\\u0000b"}', "command"),
                ('{"argv": ["echo", "\\u0000"]}', "argv"),
                ('{"command": "true", "name": "\\u0000"}', "name"),
                ('[{"command": "true"}, {"command": "true", "env": {"K\\u0000": "v"}}]',
                 "[1].env")):
            with self.subTest(body=body):
                r = self.api("POST", "/api/v1/jobs", raw=body,
                             headers={"Content-Type": "application/json"})
                self.assertError(r, 400, "invalid_field", field)
                self.assertIn("NUL", r.data["error"]["message"])
        r = self.api("POST", "/api/v1/jobs", raw='{"comm\\u0000and": "true"}',
                     headers={"Content-Type": "application/json"})
        self.assertError(r, 400, "invalid_field")
        self.assertEqual(self.server.total(), before)

    def test_messages_speak_words_not_patterns(self):
        for spec, field in (({"command": "true", "env": {"A=B": "x"}}, "env"),
                            ({"command": "true", "queue": "no spaces"}, "queue")):
            with self.subTest(field=field):
                r = self.api("POST", "/api/v1/jobs", body=spec)
                self.assertError(r, 400, "invalid_field", field)
                msg = r.data["error"]["message"]
                self.assertNotRegex(msg, r"[\[\]{}*]", msg)
                self.assertRegex(msg, r"letters", msg)
        r = self.api("GET", "/api/v1/jobs?queue=a%20b")
        self.assertError(r, 400, "invalid_field", "queue")
        self.assertNotRegex(r.data["error"]["message"], r"[\[\]{}]")
        r = self.api("PATCH", "/api/v1/queues/a%20b", body={"paused": True})
        self.assertError(r, 400, "invalid_field", "name")
        self.assertNotRegex(r.data["error"]["message"], r"[\[\]{}]")
