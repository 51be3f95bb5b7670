"""Upload size limits: --max-upload announced or passed while the body
streams (413 before or while it comes), the job part against --max-body,
and a size above the free space (503 storage_full)."""
import json
import os

from harness import GiB, MiB, RunnelTestCase
from harness_uploads import (CURL_BOUNDARY, OCTET, RawUpload, UPLOADS,
                             UploadCase, file_body, mp_headers)


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
