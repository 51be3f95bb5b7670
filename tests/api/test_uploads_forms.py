"""Upload jobs in both forms: POST /api/v1/uploads as multipart/form-data
(as curl -F and the browsers write it, with the job and sha256 parts) and
raw (POST or PUT, the spec in the query, Content-Length or chunked); empty
files, keep-alive, Idempotency-Key, concurrent uploads.

Multipart bodies are written by hand, byte for byte, the way curl and the
browsers write them; uploads that must be watched while they stream are
written on a raw socket (harness.RawUpload).
"""
import hashlib
import http.client
import json
import os
import threading
import urllib.parse

from harness import MiB, scaled
from harness_uploads import (CURL_BOUNDARY, OCTET, RawUpload, UPLOADS,
                             UploadCase, file_body, mp_headers, multipart,
                             part, sha)


EMPTY_SHA = hashlib.sha256(b"").hexdigest()
CHROME_BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
FIREFOX_BOUNDARY = "---------------------------30142129031596326423459376942"


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
