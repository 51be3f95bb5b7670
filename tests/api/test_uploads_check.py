"""The file an upload job holds is what was sent: the sha256 the client
gives is checked on arrival, and the worker checks the stored file (size
and SHA-256) before a job runs, within the job's timeout and cancel."""
import os
import shlex
import time

from harness import GiB, MiB, POSTGRESQL, parse_ts, scaled
from harness_uploads import (CURL_BOUNDARY, OCTET, UploadCase, file_body,
                             mp_headers, sha)


class UploadChecksumTest(UploadCase):
    WORKERS = 2

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
                elif POSTGRESQL:
                    # Cluster mode: the database holds the file too; it is
                    # served from there, fetched back and checked.
                    r = self.api("GET", "/api/v1/jobs/%d/file" % j["id"])
                    self.assertEqual((r.status, r.raw), (200, data))
                    g.open()
                    self.assertEqual(self.wait(j["id"])["state"], "succeeded")
                    continue
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
