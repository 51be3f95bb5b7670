"""GET /api/v1/jobs/{id}/output: byte-exact, stderr, offset, follow."""
import glob
import hashlib
import os
import shlex

from harness import RunnelTestCase, sha256_file, wait_until

TEN_MB = 10 * 1000 * 1000


class OutputTest(RunnelTestCase):
    WORKERS = 2

    def test_ten_megabytes_of_random_bytes_are_byte_exact(self):
        path = os.path.join(self.tmp, "random.bin")
        with open(path, "wb") as f:
            for _ in range(10):
                f.write(os.urandom(TEN_MB // 10))
        want = sha256_file(path)
        j = self.run_job({"command": "cat %s" % shlex.quote(path)}, 120)
        self.assertEqual(j["state"], "succeeded")
        self.assertEqual(j["stdout_bytes"], TEN_MB)
        r = self.api("GET", "/api/v1/jobs/%d/output" % j["id"], timeout=60)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
        self.assertEqual(len(r.raw), TEN_MB)
        self.assertEqual(hashlib.sha256(r.raw).hexdigest(), want)
        # and from an offset
        tail = self.output(j["id"], "?offset=%d" % (TEN_MB - 12345))
        with open(path, "rb") as f:
            f.seek(TEN_MB - 12345)
            self.assertEqual(tail, f.read())

    def test_stdout_and_stderr_are_kept_apart(self):
        j = self.run_job({"command": "printf out-1; printf err-1 >&2; printf out-2"})
        self.assertEqual((j["stdout_bytes"], j["stderr_bytes"]), (10, 5))
        self.assertEqual(self.output(j["id"]), b"out-1out-2")
        self.assertEqual(self.output(j["id"], "?stream=stdout"), b"out-1out-2")
        r = self.api("GET", "/api/v1/jobs/%d/output?stream=stderr" % j["id"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/octet-stream")
        self.assertEqual(r.raw, b"err-1")

    def test_binary_output_without_newline(self):
        j = self.run_job({"command": r"printf '\000\001\377\r\n\000'"})
        self.assertEqual(self.output(j["id"]), b"\x00\x01\xff\r\n\x00")

    def test_offset(self):
        j = self.run_job({"command": "printf 0123456789"})
        for off, want in ((0, b"0123456789"), (3, b"3456789"), (9, b"9"),
                          (10, b""), (11, b""), (1 << 40, b"")):
            with self.subTest(offset=off):
                self.assertEqual(self.output(j["id"], "?offset=%d" % off), want)
        self.assertEqual(self.output(j["id"], "?stream=stderr&offset=2"), b"")
        for bad in ("-1", "abc", "1.5", ""):
            with self.subTest(offset=bad):
                r = self.api("GET", "/api/v1/jobs/%d/output?offset=%s" % (j["id"], bad))
                self.assertError(r, 400, "invalid_field", "offset")

    def test_bad_stream_is_400(self):
        j = self.run_job({"command": "true"})
        for bad in ("both", "STDERR", ""):
            with self.subTest(stream=bad):
                r = self.api("GET", "/api/v1/jobs/%d/output?stream=%s" % (j["id"], bad))
                self.assertError(r, 400, "invalid_field", "stream")

    def test_no_output_is_200_empty_and_makes_no_file(self):
        j = self.run_job({"command": "true"})
        for q in ("", "?stream=stderr", "?follow=1"):
            r = self.api("GET", "/api/v1/jobs/%d/output%s" % (j["id"], q))
            self.assertEqual(r.status, 200, q)
            self.assertEqual(r.raw, b"", q)
        files = glob.glob(os.path.join(self.server.data, "output", "%d.*" % j["id"]))
        self.assertEqual(files, [])

    def test_output_of_unknown_job_is_404(self):
        r = self.api("GET", "/api/v1/jobs/987654321/output")
        self.assertError(r, 404, "not_found")

    def test_output_while_running_without_follow(self):
        g = self.gate()
        j = self.submit({"command": "printf partial; %s; printf ' rest'" % g.cmd})
        try:
            wait_until(lambda: self.output(j["id"]) == b"partial", 15,
                       "the first bytes of a running job")
            self.assertEqual(self.job(j["id"])["state"], "running")
        finally:
            g.open()
        self.wait(j["id"])
        self.assertEqual(self.output(j["id"]), b"partial rest")

    def test_follow_streams_while_the_job_runs(self):
        g = self.gate()
        j = self.submit({"command": "printf 'first\\n'; %s; printf 'second\\n'" % g.cmd})
        s = self.server.stream("/api/v1/jobs/%d/output?follow=1" % j["id"])
        try:
            self.assertEqual(s.status, 200)
            self.assertEqual(s.headers.get("content-type"), "application/octet-stream")
            s.read_until(lambda b: b"first\n" in b, 15)
            self.assertEqual(s.body, b"first\n")
            self.assertFalse(s.done)
            self.assertEqual(self.job(j["id"])["state"], "running",
                             "the first chunk came while the job runs")
            g.open()
            self.assertEqual(s.read_all(30), b"first\nsecond\n")
        finally:
            s.close()
            g.release()
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")

    def test_follow_from_an_offset_and_of_stderr(self):
        g = self.gate()
        j = self.submit({"command": "printf abcdef >&2; %s; printf ghi >&2" % g.cmd})
        s = self.server.stream("/api/v1/jobs/%d/output?follow=1&stream=stderr&offset=2"
                               % j["id"])
        try:
            s.read_until(lambda b: b == b"cdef", 15)
            g.open()
            self.assertEqual(s.read_all(30), b"cdefghi")
        finally:
            s.close()
            g.release()
        self.wait(j["id"])

    def test_follow_of_a_finished_job_sends_everything_and_ends(self):
        j = self.run_job({"command": "seq 1 1000"})
        want = "".join("%d\n" % i for i in range(1, 1001)).encode()
        s = self.server.stream("/api/v1/jobs/%d/output?follow=1" % j["id"])
        try:
            self.assertEqual(s.read_all(15), want)
        finally:
            s.close()

    def test_follow_of_a_job_killed_mid_stream_ends(self):
        j = self.submit({"command": "echo before; sleep 1000"})
        self.cancel_later(j["id"])
        s = self.server.stream("/api/v1/jobs/%d/output?follow=1" % j["id"])
        try:
            s.read_until(lambda b: b == b"before\n", 15)
            r = self.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)
            self.assertEqual(r.data["state"], "canceled")
            self.assertEqual(s.read_all(15), b"before\n")
        finally:
            s.close()
