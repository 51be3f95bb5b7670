"""A full disk, as a careless operator makes one: runneld's data directory
on a small tmpfs that the test fills to the last page.  Refused jobs never
run, reads tell the truth, cancels and deletes work (deletes free space),
/healthz and /metrics say so, output that cannot be stored fails its job,
and runneld goes on by itself once there is room again.

The tmpfs is mounted by the test, so these run as root only (CI does);
elsewhere they are skipped with the reason."""
import errno
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import POSTGRESQL, RunnelTestCase, wait_until

TMPFS_MB = 48


def fill(path, chunk=1 << 20):
    """Writes path until the disk is full (to the last 4 KiB page)."""
    with open(path, "ab", buffering=0) as f:
        for size in (chunk, 4096):
            buf = b"\0" * size
            while True:
                try:
                    f.write(buf)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


class DiskFullCase(RunnelTestCase):
    """Each class gets its own tmpfs and its own runneld on it."""
    START_SERVER = False
    WORKERS = 2

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("needs root to mount a small tmpfs")
        super().setUpClass()
        cls.mnt = tempfile.mkdtemp(prefix="runnel-tmpfs-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm" % TMPFS_MB,
                            "tmpfs", cls.mnt], capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(cls.mnt)
            raise unittest.SkipTest("cannot mount a tmpfs here: %s" % r.stderr.strip())
        cls.addClassCleanup(cls._unmount)
        cls.filler = os.path.join(cls.mnt, "operator-filler")
        cls.server = cls.new_server(data=os.path.join(cls.mnt, "data"))
        cls.server.start()

    @classmethod
    def _unmount(cls):
        for s in cls.servers:
            if s.running():
                s.proc.kill()
                s.proc.wait()
        subprocess.run(["umount", "-l", cls.mnt])
        shutil.rmtree(cls.mnt, ignore_errors=True)

    def make_room(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def health(self):
        return self.api("GET", "/healthz")

    def metric(self, name):
        m = re.search(r"(?m)^%s (\S+)$" % name, self.api("GET", "/metrics").raw.decode())
        return float(m.group(1)) if m else None

    def wait_full(self):
        wait_until(lambda: self.health().status == 503, 10, "/healthz to say the disk is full")
        self.assertError(self.health(), 503, "storage_full")
        self.assertEqual(self.metric("runnel_storage_full"), 1)

    def wait_room(self):
        wait_until(lambda: self.health().status == 200, 15, "/healthz to say ok again")
        self.assertEqual(self.metric("runnel_storage_full"), 0)


class RefusedJobsTest(DiskFullCase):
    def test_jobs_refused_for_a_full_disk_never_run(self):
        witness = os.path.join(self.tmp, "witness")
        open(witness, "w").close()
        fill(self.filler)
        if POSTGRESQL:
            # The database is not on this disk: no write of a submission
            # meets the full disk, runneld sees it in its look at the free
            # space (at most 0.25 s old); on SQLite the first commit does.
            self.wait_full()
        answers = []
        for i in range(20):
            r = self.api("POST", "/api/v1/jobs",
                         body={"command": "echo %d >> %s" % (i, witness)})
            answers.append(r)
            if r.status != 201:
                self.assertError(r, 503, "storage_full")
        accepted = [r.data["id"] for r in answers if r.status == 201]
        self.assertLess(len(accepted), 20, "no submission was refused")
        # room again: what was acknowledged runs, what was refused never does
        self.make_room()
        for jid in accepted:
            self.assertEqual(self.wait(jid)["state"], "succeeded")
        # a job taken now runs after anything that started before it
        def taken():
            r = self.api("POST", "/api/v1/jobs", body={"command": "true"})
            return r.data if r.status == 201 else None
        barrier = wait_until(taken, 15, "runneld to take jobs again")
        self.assertEqual(self.wait(barrier["id"])["state"], "succeeded")
        with open(witness) as f:
            ran = sorted(int(x) for x in f.read().split())
        self.assertEqual(ran, sorted(i for i, r in enumerate(answers) if r.status == 201),
                         "a job refused with 503 ran")
        self.wait_room()

    def test_uploads_and_retries_are_refused_too(self):
        failed = self.submit({"command": "exit 1"})
        self.assertEqual(self.wait(failed["id"])["state"], "failed")
        fill(self.filler)
        try:
            self.wait_full()
            r = self.api("PUT", "/api/v1/uploads?name=a.txt", raw=b"hello",
                         headers={"Content-Type": "application/octet-stream"})
            self.assertError(r, 503, "storage_full")
            r = self.api("POST", "/api/v1/jobs/%d/retry" % failed["id"])
            self.assertError(r, 503, "storage_full")
            self.assertEqual(self.job(failed["id"])["state"], "failed")
        finally:
            self.make_room()
        self.wait_room()


class WhileFullTest(DiskFullCase):
    WORKERS = 3

    def test_running_jobs_finish_and_reads_cancels_and_deletes_work(self):
        big = self.submit({"command": "head -c 4000000 /dev/zero"})
        self.assertEqual(self.wait(big["id"])["stdout_bytes"], 4000000)
        gate_a, gate_b = self.gate(), self.gate()
        a = self.submit({"command": gate_a.cmd})
        b = self.submit({"command": gate_b.cmd + "; echo lost"})
        c = self.submit({"command": "sleep 1000"})
        for x in (a, b, c):
            self.server.wait_running(x["id"])
        queued = self.submit({"command": "echo waits"})
        fill(self.filler)
        try:
            self.wait_full()
            # a running job ends: its end is stored and read back at once
            gate_a.open()
            done = self.wait(a["id"], 15)
            self.assertEqual((done["state"], done["exit_code"]), ("succeeded", 0))
            # output is not stored while the disk is full: its job fails
            gate_b.open()
            done = self.wait(b["id"], 15)
            self.assertEqual((done["state"], done["exit_code"], done["error"]),
                             ("failed", 0, "output not stored: no space left on device"))
            self.assertEqual((done["stdout_bytes"], self.output(b["id"])), (0, b""))
            # cancel works on a running job; a finished one is a conflict
            r = self.api("POST", "/api/v1/jobs/%d/cancel" % c["id"], timeout=30)
            self.assertEqual((r.status, r.data["state"]), (200, "canceled"), r.data)
            self.assertError(self.cancel(a["id"]), 409, "conflict")
            # nothing new starts while the disk is full
            self.assertEqual(self.job(queued["id"])["state"], "queued")
            # a delete frees space: the job's 4 MB of output go
            before = free_bytes(self.mnt)
            r = self.api("DELETE", "/api/v1/jobs/%d" % big["id"])
            self.assertEqual(r.status, 204, r.raw)
            self.assertGreater(free_bytes(self.mnt) - before, 3000000)
            self.assertEqual(self.api("GET", "/api/v1/jobs/%d" % big["id"]).status, 404)
        finally:
            self.make_room()
        self.wait_room()
        self.assertEqual(self.wait(queued["id"])["state"], "succeeded")

    def test_an_end_that_cannot_be_stored_is_still_read_as_it_is(self):
        gate = self.gate()
        a = self.submit({"command": gate.cmd + "; exit 4"})
        self.server.wait_running(a["id"])
        fill(self.filler)
        try:
            self.wait_full()
            # the operator fills what the reserve gave back, too
            fill(self.filler, 4096)
            gate.open()

            def ended():
                j = self.job(a["id"])
                return j if j["state"] != "running" else None
            j = wait_until(ended, 15, "the job to read as ended")
            self.assertEqual((j["state"], j["exit_code"], j["error"]),
                             ("failed", 4, "exit status 4"))
            self.assertError(self.cancel(a["id"]), 409, "conflict")
        finally:
            self.make_room()
        self.wait_room()
        # stored once there was room: the same, and counted
        wait_until(lambda: self.server.stats()["jobs"]["running"] == 0, 10,
                   "the job's end to be stored")
        j = self.job(a["id"])
        self.assertEqual((j["state"], j["exit_code"]), ("failed", 4))
        self.assertEqual(self.server.stats()["jobs"]["failed"], 1)


class OutputFullTest(DiskFullCase):
    WORKERS = 1

    def test_output_that_cannot_be_stored_fails_the_job_and_is_logged_once(self):
        want = 200 * 1000 * 1000
        j = self.submit({"command": "head -c %d /dev/zero" % want})
        done = self.wait(j["id"], 120)
        self.assertEqual(done["state"], "failed", done)
        self.assertEqual(done["error"], "output not stored: no space left on device")
        self.assertEqual(done["exit_code"], 0)
        self.assertLess(done["stdout_bytes"], want)
        self.assertEqual(len(self.output(j["id"])), done["stdout_bytes"])
        log = self.server.log().decode(errors="replace")
        lines = [l for l in log.splitlines() if " warn: " in l and
                 "job=%d" % j["id"] in l and "not stored" in l]
        self.assertEqual(len(lines), 1, "\n".join(lines[:5]))
        # deleting it gives the space back; runneld takes jobs again
        self.assertEqual(self.api("DELETE", "/api/v1/jobs/%d" % j["id"]).status, 204)
        self.wait_room()
        k = self.submit({"command": "echo ok"})
        self.assertEqual(self.wait(k["id"])["state"], "succeeded")
