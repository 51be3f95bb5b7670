"""Uploads that end before their body: a client that goes away (FIN or RST,
every form) and a runneld killed (-9) mid-upload leave no job and no file."""
import os

from harness import GiB, MiB, wait_until
from harness_uploads import (CURL_BOUNDARY, OCTET, RawUpload, UPLOADS,
                             UploadCase, file_body, mp_headers)


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
