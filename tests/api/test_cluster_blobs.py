"""Cluster mode: output and uploaded files from any node (issue 11, item 7).

Two runneld processes on one PostgreSQL database, each with a data
directory of its own (no shared filesystem).  Node A keeps its one worker
busy behind a gate for the whole class, so that every job runs on node B
(B learns of a job queued on A when something wakes its own dispatch);
A then reads what only the database can give it: output written on B,
followed live, of every attempt; the file of an upload A accepted, run and
verified on B; Range downloads on B of a file only A holds.  Deleting a
job takes its rows out of the database.
"""
import hashlib
import os
import urllib.parse

from harness import (MiB, RunnelTestCase, Gate, Stream, BASE_ARGS,
                     postgresql_only, wait_until, http_request)


def binary(n, seed):
    """n bytes no text decoder likes: NUL, 0xff, broken UTF-8, all values."""
    out = bytearray(b"\x00\xff\xc3\x28\xed\xa0\x80")
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out += (x >> 8).to_bytes(3, "little")
    return bytes(out[:n])


@postgresql_only("output and files shared by nodes through the database")
class ClusterBlobsTest(RunnelTestCase):
    START_SERVER = False
    ARGS = BASE_ARGS + ["--retry-base", "0.05"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.new_server("nodeA", workers=1,
                               args=cls.ARGS + ["--node-id", "a"])
        cls.a.start()
        cls.b = cls.new_server("nodeB", workers=2,
                               args=cls.ARGS + ["--node-id", "b"],
                               database=cls.a.database)
        cls.b.start()
        # A's only worker stays busy: nothing runs on A.
        cls.busy = Gate(cls.tmp, "busy")
        j = cls.a.submit({"command": cls.busy.cmd})
        cls.a.wait_running(j["id"])
        cls.busy_id = j["id"]
        cls.data = os.path.join(cls.tmp, "data")
        os.mkdir(cls.data)

    @classmethod
    def tearDownClass(cls):
        cls.busy.release()
        super().tearDownClass()

    def write(self, name, data):
        path = os.path.join(self.data, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def ran_on_b(self, jid, attempt=1):
        """True when B (and not A) holds the attempt's local output file."""
        out = "output/%d.%d.out" % (jid, attempt)
        return (os.path.exists(os.path.join(self.b.data, out)) and
                not os.path.exists(os.path.join(self.a.data, out)))

    def upload(self, node, data, name, **spec):
        q = dict(spec, name=name, sha256=hashlib.sha256(data).hexdigest())
        r = http_request(node.port, "POST", "/api/v1/uploads?" +
                         urllib.parse.urlencode(q), raw=data,
                         headers={"Content-Type": "application/octet-stream"},
                         timeout=60)
        self.assertEqual(r.status, 201, r.data)
        return r.data

    def wake_b(self):
        """B's dispatch looks at the database's queue when it has a job of
        its own to start: one that runs after whatever waits there."""
        return self.b.submit({"command": "true", "priority": 1000000})

    # -- output -------------------------------------------------------------

    def test_output_written_on_b_reads_byte_exact_on_a(self):
        out = binary(3 * MiB + 12345, 1)	# over a row and a flush
        err = binary(70000, 2)
        pout, perr = self.write("out.bin", out), self.write("err.bin", err)
        j = self.b.submit({"command": "cat %s; cat %s >&2" % (pout, perr)})
        done = self.b.wait(j["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertTrue(self.ran_on_b(j["id"]))
        self.assertEqual(self.a.output(j["id"]), out)
        self.assertEqual(self.a.output(j["id"], "?stream=stderr"), err)
        self.assertEqual(self.a.output(j["id"], "?offset=%d" % (MiB + 5)),
                         out[MiB + 5:])
        self.assertEqual(self.a.output(j["id"], "?attempt=1&stream=stderr"
                                       "&offset=69999"), err[69999:])
        self.assertEqual(self.a.output(j["id"], "?offset=%d" % len(out)), b"")
        # B serves its local file: the same bytes.
        self.assertEqual(self.b.output(j["id"]), out)

    def test_follow_on_a_of_a_job_running_on_b(self):
        gate = Gate(self.tmp, "follow")
        tail = binary(300000, 3)
        ptail = self.write("tail.bin", tail)
        j = self.b.submit({"command": "printf 'first\\n'; %s; cat %s; "
                           "printf '\\000last'" % (gate.cmd, ptail)})
        self.b.wait_running(j["id"])
        s = Stream(self.a.port, "/api/v1/jobs/%d/output?follow=1" % j["id"])
        try:
            self.assertEqual(s.status, 200)
            # Live: the first line comes while the job still waits.
            s.read_until(lambda b: b"first\n" in b)
            self.assertEqual(self.a.job(j["id"])["state"], "running")
            gate.open()
            body = s.read_all()
        finally:
            s.close()
        self.assertEqual(body, b"first\n" + tail + b"\x00last")
        self.assertEqual(self.b.wait(j["id"])["state"], "succeeded")

    def test_follow_from_an_offset_ends_with_the_job(self):
        j = self.b.submit({"command": "printf 'abcdefgh'"})
        self.b.wait(j["id"])
        s = Stream(self.a.port, "/api/v1/jobs/%d/output?follow=1&offset=3" %
                   j["id"])
        try:
            self.assertEqual(s.read_all(), b"defgh")
        finally:
            s.close()

    def test_every_attempt_of_a_retried_job_reads_on_a(self):
        j = self.b.submit({"command": "printf 'try %s\\000' $RUNNEL_ATTEMPT; "
                           "printf 'e%s' $RUNNEL_ATTEMPT >&2; "
                           "[ $RUNNEL_ATTEMPT -ge 3 ]", "max_attempts": 3})
        done = self.b.wait(j["id"])
        self.assertEqual((done["state"], done["attempts"]), ("succeeded", 3))
        for n in (1, 2, 3):
            self.assertTrue(self.ran_on_b(j["id"], n))
            self.assertEqual(self.a.output(j["id"], "?attempt=%d" % n),
                             b"try %d\x00" % n)
            self.assertEqual(self.a.output(j["id"], "?attempt=%d&stream=stderr"
                                           % n), b"e%d" % n)
        self.assertEqual(self.a.output(j["id"]), b"try 3\x00")

    # -- files ----------------------------------------------------------------

    def test_upload_to_a_runs_verified_on_b(self):
        data = binary(2 * MiB + 777, 4)
        up = self.upload(self.a, data, "bin.dat", priority=-5,
                         command='sha256sum "$RUNNEL_FILE"; wc -c <&0')
        jid = up["id"]
        # Acknowledged means in the database already.
        self.assertEqual(self.a.sql("SELECT size FROM blobs WHERE sha256 = "
                                    "'%s'" % up["file"]["sha256"]).strip(),
                         str(len(data)))
        self.wake_b()
        done = self.b.wait(jid)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertTrue(self.ran_on_b(jid))
        sha = hashlib.sha256(data).hexdigest()
        out = self.a.output(jid)
        self.assertIn(sha.encode(), out)
        self.assertIn(b"%d" % len(data), out)
        # B fetched the file into its own data directory.
        with open(os.path.join(self.b.data, "files", str(jid), "bin.dat"),
                  "rb") as f:
            self.assertEqual(f.read(), data)

    def test_range_download_on_b_of_an_upload_accepted_by_a(self):
        data = binary(MiB + 4096, 5)
        # Scheduled far ahead: it never runs, so only A holds the file.
        up = self.upload(self.a, data, "r\u00e9sum\u00e9.bin", delay=3600)
        url = "/api/v1/jobs/%d/file" % up["id"]
        self.assertFalse(os.path.exists(os.path.join(self.b.data, "files",
                                                     str(up["id"]))))
        r = self.b.api("GET", url)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.raw, data)
        self.assertEqual(r.headers.get("content-length"), str(len(data)))
        self.assertIn("attachment", r.headers.get("content-disposition"))
        for rng, lo, hi in (("bytes=10-19", 10, 19),
                            ("bytes=%d-%d" % (MiB - 5, MiB + 5), MiB - 5, MiB + 5),
                            ("bytes=-7", len(data) - 7, len(data) - 1),
                            ("bytes=%d-" % (len(data) - 3), len(data) - 3,
                             len(data) - 1)):
            r = self.b.api("GET", url, headers={"Range": rng})
            self.assertEqual(r.status, 206, rng)
            self.assertEqual(r.raw, data[lo:hi + 1], rng)
            self.assertEqual(r.headers.get("content-range"),
                             "bytes %d-%d/%d" % (lo, hi, len(data)))
        r = self.b.api("GET", url, headers={"Range": "bytes=%d-" % len(data)})
        self.assertEqual(r.status, 416)
        # A serves its own copy: the same bytes.
        self.assertEqual(self.a.api("GET", url, headers={
            "Range": "bytes=10-19"}).raw, data[10:20])

    def test_deleting_a_job_removes_its_rows(self):
        data = binary(MiB + 1, 6)
        up = self.upload(self.a, data, "gone.bin", priority=-5,
                         command='printf x; head -c 1000 "$RUNNEL_FILE"')
        jid = up["id"]
        self.wake_b()
        self.assertEqual(self.b.wait(jid)["state"], "succeeded")
        sha = up["file"]["sha256"]

        def rows():
            return self.a.sql(
                "SELECT (SELECT count(*) FROM job_output WHERE job_id = %d), "
                "(SELECT count(*) FROM blob_chunks WHERE sha256 = '%s')"
                % (jid, sha)).strip()
        self.assertEqual(rows(), "1|2")
        r = self.a.api("DELETE", "/api/v1/jobs/%d" % jid)
        self.assertEqual(r.status, 204, r.data)
        wait_until(lambda: rows() == "0|0", 10, "the job's rows to go")
        self.assertEqual(self.b.api("GET", "/api/v1/jobs/%d/file" % jid).status,
                         404)

    def test_same_file_twice_is_stored_once_and_kept_while_a_job_has_it(self):
        data = binary(5000, 7)
        sha = hashlib.sha256(data).hexdigest()
        one = self.upload(self.a, data, "one", delay=3600)
        two = self.upload(self.b, data, "two", delay=3600)
        self.assertEqual(self.a.sql("SELECT count(*) FROM blob_chunks WHERE "
                                    "sha256 = '%s'" % sha).strip(), "1")
        self.assertEqual(self.a.api("POST", "/api/v1/jobs/%d/cancel" %
                                    one["id"]).status, 200)
        self.assertEqual(self.a.api("DELETE", "/api/v1/jobs/%d" %
                                    one["id"]).status, 204)
        # The other job still carries it: readable on both nodes.
        for node in (self.a, self.b):
            r = node.api("GET", "/api/v1/jobs/%d/file" % two["id"])
            self.assertEqual(r.raw, data)
