"""Upload jobs run and read back: the command gets the file (path, name,
stdin), retries and delays, the download with Range, delete, the type
filter of the list, the file object in GET and in events."""
import os
import shlex
import time
import urllib.parse

from harness import FINISHED, MiB, parse_ts
from harness_uploads import UploadCase, sha


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
