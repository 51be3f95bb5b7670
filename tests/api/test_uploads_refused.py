"""Uploads refused before anything is stored: malformed multipart, bad
parameters of the raw form, a wrong Content-Type, no token; each refusal
leaves no job, no file and nothing in DATA/tmp."""
import os

from harness import GiB
from harness_uploads import (CURL_BOUNDARY, OCTET, RawUpload, UPLOADS,
                             UploadCase, file_body, mp_headers, multipart,
                             part)


class UploadRefusedTest(UploadCase):
    WORKERS = 2

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
            ("an unknown parameter", "?name=a&color=red", 400, "unknown_parameter", "color"),
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
