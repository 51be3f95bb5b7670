"""HTTP as an attacker speaks it: smuggling attempts (Content-Length with
Transfer-Encoding, two lengths, unknown codings, pipelined heads), binary
and malformed request lines, slow and idle connections by the thousand;
cross-site requests from web pages, with the headers that keep the
dashboard from being framed or sniffed; and answers to HEAD, streamed ones
included, that leave nothing on a kept connection but the next answer."""
import os
import re
import resource
import select
import socket
import time

from harness import RunnelTestCase, exchange, run_runneld, scaled, wait_until


def readable(socks):
    """The sockets of socks with something to read (or closed), now."""
    p = select.poll()
    by_fd = {}
    for s in socks:
        p.register(s, select.POLLIN)
        by_fd[s.fileno()] = s
    return [by_fd[fd] for fd, ev in p.poll(0)]


def responses(raw):
    """The (status, headers, body) of each Content-Length response in raw."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:n]))
        raw = rest[n:]
    return out


class SmugglingTest(RunnelTestCase):
    WORKERS = 1

    def counts(self):
        return self.server.total()

    def refused_and_closed(self, data, status, code=None):
        before = self.counts()
        raw, closed = exchange(self.server.port, data)
        got = responses(raw)
        self.assertTrue(got, "no answer at all to %r" % data[:80])
        self.assertEqual(got[-1][0], status, raw[:400])
        if code:
            self.assertIn(b'"code":"%s"' % code.encode(), got[-1][2])
        self.assertEqual(got[-1][1].get("connection"), "close", raw[:400])
        self.assertTrue(closed, "the connection stayed open after %d" % status)
        self.assertEqual(raw.count(b"HTTP/1.1 %d" % status), 1,
                         "the status line came more than once: %r" % raw[:400])
        self.assertEqual(self.counts(), before, "a refused request made a job")
        return got

    def job_body(self, marker):
        return ('{"command": "echo %s"}' % marker).encode()

    def test_length_and_chunked_together_are_refused_and_nothing_hidden_runs(self):
        hidden = (b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 27\r\n\r\n" +
                  self.job_body("smuggled"))
        for first in (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                      b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"):
            with self.subTest(first=first):
                self.refused_and_closed(
                    b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\n" + first + b"\r\n"
                    b"0\r\n\r\n" + hidden, 400, "bad_request")

    def test_two_lengths_are_refused(self):
        for lengths in ((2, 30), (2, 2)):
            with self.subTest(lengths=lengths):
                self.refused_and_closed(
                    b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\n"
                    b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n{}" % lengths,
                    400, "bad_request")

    def test_unknown_transfer_codings_are_answered(self):
        for te, status in ((b"xchunked", 400), (b"chunked, identity", 400),
                           (b"identity", 400), (b"gzip, chunked", 501)):
            with self.subTest(te=te):
                self.refused_and_closed(
                    b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nTransfer-Encoding: " + te +
                    b"\r\n\r\n0\r\n\r\n", status)

    def test_bad_lengths_get_one_answer(self):
        for cl in (b"-1", b"+5", b"5, 5", b"0x10", b"1e3", b""):
            with self.subTest(cl=cl):
                self.refused_and_closed(
                    b"GET /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Length: " + cl + b"\r\n\r\n", 400, "bad_request")

    def test_binary_and_malformed_request_lines_are_answered(self):
        cases = [
            (b"\x01\x02\x03 / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400),
            (bytes.fromhex("160301020001000001fc0303") + os.urandom(40), 400),
            (b"\x00" * 64, 400),
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505),
            (b"GET / HTTP/1.1\r\n\r\n", 400),		# no Host
            (b"GET / HTTP/1.1\nHost: 127.0.0.1\n\n", 400),	# bare LF
            (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\r\n b\r\n\r\n", 400),
            (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
            (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X: " + b"v" * 17000 +
             b"\r\n\r\n", 431),
        ]
        for data, status in cases:
            with self.subTest(data=data[:24]):
                t0 = time.monotonic()
                self.refused_and_closed(data, status)
                # at once, not after the header deadline
                self.assertLess(time.monotonic() - t0, scaled(2))
        self.assertEqual(self.api("GET", "/healthz").status, 200)

    def test_a_smuggled_request_after_a_good_one_is_refused_on_its_own(self):
        before = self.counts()
        raw, closed = exchange(
            self.server.port,
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            b"POST /api/v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 27\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + self.job_body("smuggled"))
        got = responses(raw)
        self.assertEqual([g[0] for g in got], [200, 400], raw[:600])
        self.assertTrue(closed)
        self.assertEqual(self.counts(), before)

    def test_keep_alive_still_serves_many_good_requests(self):
        s = self.server.raw_socket()
        try:
            req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            s.sendall(req * 50)
            raw = b""
            while raw.count(b"HTTP/1.1 200") < 50:
                chunk = s.recv(65536)
                self.assertTrue(chunk, "closed after %d answers" %
                                raw.count(b"HTTP/1.1 200"))
                raw += chunk
        finally:
            s.close()


class HeadTest(RunnelTestCase):
    """An answer to HEAD has no body.  libmicrohttpd (0.9.75) follows the
    head of a chunked one with a last chunk: runneld closes those
    connections, so that no client reads it as its next answer."""
    WORKERS = 1

    def head_then_get(self, path):
        raw, closed = exchange(
            self.server.port,
            b"HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            % path.encode(),
            timeout=3)
        head, sep, rest = raw.partition(b"\r\n\r\n")
        self.assertTrue(sep and head.startswith(b"HTTP/1.1 200"), raw[:300])
        if re.search(rb"\r\nconnection: *close\r", head + b"\r", re.I):
            self.assertTrue(closed, "HEAD %s: Connection: close, left open" % path)
        else:
            self.assertTrue(rest.startswith(b"HTTP/1.1 200"), "HEAD %s: after "
                            "its head came %r, not the next answer" % (path, rest[:80]))
        return head

    def test_streamed_answers_to_head_leave_nothing_behind(self):
        gate = self.gate()
        self.addCleanup(gate.release)
        j = self.submit({"command": "echo hi; " + gate.cmd})
        self.server.wait_running(j["id"])
        for path in ("/api/v1/jobs/%d/output?follow=1" % j["id"],
                     "/api/v1/jobs/%d/output?stream=stderr&follow=1" % j["id"],
                     "/api/v1/events", "/api/v1/jobs/%d/output" % j["id"],
                     "/api/v1/jobs/%d" % j["id"], "/"):
            self.head_then_get(path)
        gate.open()
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")


class ConnectionLimitTest(RunnelTestCase):
    """Thousands of slow or idle connections from one address do not keep
    other clients out; heads that do not arrive in time are cut off."""
    WORKERS = 1
    SERVER_ARGS = RunnelTestCase.SERVER_ARGS + [
        "--max-client-connections", "64", "--max-connections", "256",
        # long enough for 4 000 connections to be opened on a busy machine
        # before the first admitted ones are cut off
        "--header-timeout", str(int(scaled(4)))]

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))
        super().setUpClass()

    def open_many(self, n, source="127.0.0.1", first=b""):
        socks = []
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.bind((source, 0))
            try:
                s.connect(("127.0.0.1", self.server.port))
            except BlockingIOError:
                pass
            socks.append(s)
        if first:
            for s in socks:
                p = select.poll()
                p.register(s, select.POLLOUT)
                p.poll(scaled(10) * 1000)
                try:
                    s.send(first)
                except OSError:
                    pass
        return socks

    def close_all(self, socks):
        for s in socks:
            s.close()

    def answer_of(self, s, timeout=10):
        """What the server sent on s before closing it (b"" if nothing)."""
        s.setblocking(True)
        s.settimeout(scaled(timeout))
        out = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return out
                out += chunk
        except (socket.timeout, ConnectionResetError):
            return out

    def healthz_from(self, source):
        t0 = time.monotonic()
        raw, _ = exchange(self.server.port, b"GET /healthz HTTP/1.1\r\n"
                          b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n",
                          source=source)
        return responses(raw), time.monotonic() - t0

    def test_slow_headers_from_one_address_do_not_keep_others_out(self):
        slow = self.open_many(4000, first=b"POST /api/v1/jobs HTTP/1.1\r\n")
        try:
            # the ones over the per-address limit are told so at once
            wait_until(lambda: len(readable(slow)) >= 4000 - 64, 30,
                       "refusals of the connections over the limit")
            # the last one opened: the first ones may be admitted ones
            # already cut off at the header deadline
            over = readable(slow)
            got = responses(self.answer_of(over[-1]))
            self.assertEqual(got[0][0], 503)
            self.assertIn(b"too_many_connections", got[0][2])
            # keep sending header lines, slowly, on the rest
            for s in slow:
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
            # another client is answered at once
            got, took = self.healthz_from("127.0.0.2")
            self.assertEqual(got[0][0], 200)
            self.assertLess(took, scaled(1.5))
            # the slow ones that were let in are cut at the header deadline
            gone = set(readable(slow))
            admitted = [s for s in slow if s not in gone]
            self.assertLessEqual(len(admitted), 64)
            self.assertGreater(len(admitted), 0)
            t0 = time.monotonic()
            got = responses(self.answer_of(admitted[0], 10))
            self.assertEqual(got[0][0], 408, got)
            self.assertLess(time.monotonic() - t0, scaled(6))
        finally:
            self.close_all(slow)
        # and the address is welcome again
        got, _ = self.healthz_from("127.0.0.1")
        self.assertEqual(got[0][0], 200)

    def test_idle_connections_from_many_addresses_expire(self):
        idle = []
        try:
            for i in range(10, 15):
                idle += self.open_many(60, source="127.0.0.%d" % i)
            # 300 idle connections against a total of 256: a newcomer may be
            # refused while they sit, but gets in once their heads are late
            def answered():
                got, _ = self.healthz_from("127.0.0.3")
                return got and got[0][0] == 200
            wait_until(answered, 10, "a new client to be answered")
            got = responses(self.answer_of(idle[0], 10))
            self.assertIn(got[0][0] if got else None, (408, 503), got)
        finally:
            self.close_all(idle)
        m = self.api("GET", "/metrics").raw.decode()
        self.assertRegex(m, r"(?m)^runnel_http_connections \d+$")


class CrossSiteTest(RunnelTestCase):
    """Requests as a browser sends them from another site's page."""
    WORKERS = 1

    def own(self):
        return "http://127.0.0.1:%d" % self.server.port

    def refused(self, method, path, headers, **kw):
        before = self.server.total()
        r = self.api(method, path, headers=headers, **kw)
        self.assertError(r, 403, "cross_origin")
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
        self.assertEqual(self.server.total(), before)
        return r

    def test_state_changing_requests_from_other_sites_are_refused(self):
        spec = {"command": "touch %s/pwned" % self.tmp}
        for headers in ({"Origin": "http://evil.example"},
                        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
                        {"Origin": "null"},
                        {"Sec-Fetch-Site": "cross-site"},
                        {"Sec-Fetch-Site": "same-site", "Origin": "http://a.127.0.0.1.nip.io"},
                        {"Origin": "http://127.0.0.1:1"},
                        {"Origin": "https://127.0.0.1:%d" % self.server.port,
                         "Sec-Fetch-Site": "cross-site"}):
            with self.subTest(headers=headers):
                self.refused("POST", "/api/v1/jobs", headers, body=spec)
        # a JSON body with no Content-Type (what a page sends without a
        # preflight), and a form upload
        self.refused("POST", "/api/v1/jobs", {"Origin": "http://evil.example",
                                              "Content-Type": None},
                     raw=b'{"command": "touch /tmp/x"}')
        boundary = "----evil"
        body = ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n"
                "x\r\n--%s\r\nContent-Disposition: form-data; name=\"job\"\r\n\r\n"
                "{\"command\": \"touch /tmp/x\"}\r\n--%s--\r\n" % (boundary, boundary, boundary))
        self.refused("POST", "/api/v1/uploads", {
            "Origin": "http://evil.example",
            "Content-Type": "multipart/form-data; boundary=" + boundary}, raw=body)
        self.assertEqual(os.listdir(os.path.join(self.server.data, "tmp")), [])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "pwned")))
        j = self.submit({"command": "sleep 100"})
        self.cancel_later(j["id"])
        self.refused("POST", "/api/v1/jobs/%d/cancel" % j["id"], {"Origin": "http://evil.example"})
        self.refused("DELETE", "/api/v1/jobs/%d" % j["id"], {"Sec-Fetch-Site": "cross-site"})
        self.refused("PATCH", "/api/v1/queues/q", {"Origin": "http://evil.example"},
                     body={"paused": True})

    def test_own_pages_and_scripts_without_an_origin_go_on(self):
        for headers in ({}, {"Origin": self.own(), "Sec-Fetch-Site": "same-origin"},
                        {"Origin": self.own().upper().replace("HTTP://", "http://")},
                        {"Sec-Fetch-Site": "none"}):
            with self.subTest(headers=headers):
                r = self.api("POST", "/api/v1/jobs", body={"command": "true"},
                             headers=headers)
                self.assertEqual(r.status, 201, r.raw)

    def test_reads_from_other_sites_get_no_cors_permission(self):
        r = self.api("GET", "/api/v1/jobs", headers={"Origin": "http://evil.example",
                                                     "Sec-Fetch-Site": "cross-site"})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))
        r = self.api("OPTIONS", "/api/v1/jobs", headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
        self.assertError(r, 403, "cross_origin")

    def test_a_dns_name_pointed_at_loopback_is_refused(self):
        for host in ("evil.example:%d" % self.server.port, "evil.example"):
            with self.subTest(host=host):
                for method, path in (("GET", "/api/v1/jobs"), ("GET", "/"),
                                     ("POST", "/api/v1/jobs")):
                    r = self.api(method, path, headers={"Host": host},
                                 body={"command": "true"} if method == "POST" else None)
                    self.assertError(r, 403, "forbidden")
        for host in ("localhost:%d" % self.server.port, "127.0.0.1", "[::1]:80",
                     "LOCALHOST", "runnel.localhost"):
            with self.subTest(host=host):
                self.assertEqual(self.api("GET", "/healthz", headers={"Host": host}).status, 200)

    def test_pages_cannot_be_framed_or_sniffed(self):
        for path in ("/", "/index.html", "/icon.svg"):
            with self.subTest(path=path):
                r = self.api("GET", path)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers.get("X-Frame-Options"), "DENY")
                self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff")
                csp = r.headers.get("Content-Security-Policy") or ""
                self.assertIn("frame-ancestors 'none'", csp)
                self.assertIn("default-src 'self'", csp)
                self.assertNotIn("unsafe", csp)
        for path in ("/js/app.js", "/app.css", "/nope", "/api/v1/stats", "/healthz",
                     "/metrics", "/api/v1/jobs/0"):
            with self.subTest(path=path):
                self.assertEqual(self.api("GET", path).headers.get("X-Content-Type-Options"),
                                 "nosniff")


class AllowOriginTest(RunnelTestCase):
    WORKERS = 1
    TOKEN = "t0ken-for-allow-origin"
    SERVER_ARGS = RunnelTestCase.SERVER_ARGS + [
        "--allow-origin", "https://ops.example.com, http://other.example:8443"]

    def test_an_allowed_origin_may_change_things_and_gets_cors_answers(self):
        for origin in ("https://ops.example.com", "https://OPS.example.com:443",
                       "http://other.example:8443"):
            with self.subTest(origin=origin):
                r = self.api("POST", "/api/v1/jobs", body={"command": "true"},
                             headers={"Origin": origin, "Sec-Fetch-Site": "cross-site"})
                self.assertEqual(r.status, 201, r.raw)
                self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), origin)
                self.assertEqual(r.headers.get("Vary"), "Origin")
        r = self.api("OPTIONS", "/api/v1/jobs", token=False, headers={
            "Origin": "https://ops.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(r.status, 204, r.raw)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"),
                         "https://ops.example.com")
        self.assertIn("POST", r.headers.get("Access-Control-Allow-Methods"))
        self.assertIn("Authorization", r.headers.get("Access-Control-Allow-Headers"))
        # the token is still needed; other origins are still refused
        r = self.api("POST", "/api/v1/jobs", body={"command": "true"}, token=False,
                     headers={"Origin": "https://ops.example.com"})
        self.assertError(r, 401, "unauthorized")
        r = self.api("POST", "/api/v1/jobs", body={"command": "true"},
                     headers={"Origin": "https://ops.example.com.evil.example"})
        self.assertError(r, 403, "cross_origin")

    def test_bad_allowed_origins_are_refused_at_start(self):
        for bad in ("ops.example.com", "https://ops.example.com/path", "ftp://x", "https://",
                    "https://a:"):
            with self.subTest(bad=bad):
                rc, out = run_runneld(["--listen", "127.0.0.1:0", "--data",
                                       os.path.join(self.tmp, "never"), "--allow-origin", bad])
                self.assertEqual(rc, 2, out)
                self.assertIn("--allow-origin", out)
