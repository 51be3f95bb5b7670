"""A 1 GiB upload, raw and multipart, streams to disk while runneld's
resident memory stays flat."""
import hashlib
import os
import struct
import threading
import time

from harness import GiB, MiB, vm_rss_kb
from harness_uploads import (CURL_BOUNDARY, OCTET, RawUpload, UPLOADS,
                             UploadCase, file_body, mp_headers)


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
