"""runneld --import: a single node's SQLite data directory moved into a
cluster (issue 11, item 10; docs/cluster.md, "Moving from one node to a
cluster").

A runneld on SQLite makes jobs of every kind: succeeded with binary output
over a row, failed, retried twice with output of each attempt, canceled,
deleted (its id must never come back), an upload that ran and one that
waits, a key of Idempotency-Key, a queue paused with a concurrency and
jobs waiting in it, a chain of dependencies behind it, a job scheduled
for later, and two jobs running when it is killed.  Then the import into a
fresh PostgreSQL database, and two nodes on it with data directories of
their own (so every byte they serve comes from the database): every job
reads as it did, output and files byte-exact, the settings hold, what
waited runs, the running ones end as a restart ends them, ids go on above
the old ones and the key replays.  Refusals: the source in use, a
database with jobs or with a node on it, a bad URL; each in one line.
"""
import hashlib
import os
import sqlite3
import time
import urllib.parse

import harness_pg
from harness import (MiB, SANITIZER_RE, BASE_ARGS, Gate, RunnelTestCase, epoch,
                     http_request, pid_running, postgresql_only, rfc3339,
                     run_runneld, scaled, wait_until)

NOWHERE = "/nonexistent-runnel-test"


def binary(n, seed):
    """n bytes no text decoder likes: NUL, 0xff, broken UTF-8, all values."""
    out = bytearray(b"\x00\xff\xc3\x28\xed\xa0\x80")
    x = seed
    while len(out) < n:
        x = (x * 1103515245 + 12345) & 0x7fffffff
        out += (x >> 8).to_bytes(3, "little")
    return bytes(out[:n])


def lines_of(out):
    return [l for l in out.splitlines() if l.strip()]


def tree_digest(top, skip=("runnel.lock", "runnel.db-shm")):
    """{relative path: sha256} of every file under top, but skip."""
    out = {}
    for dp, _, names in os.walk(top):
        for n in names:
            if n in skip:
                continue
            p = os.path.join(dp, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, top)] = hashlib.sha256(f.read()).hexdigest()
    return out


@postgresql_only("the import's target is a cluster's PostgreSQL database")
class ImportTest(RunnelTestCase):
    START_SERVER = False
    ARGS = BASE_ARGS + ["--retry-base", "0.05"]

    # -- the single node ------------------------------------------------

    @classmethod
    def upload(cls, node, data, name, **spec):
        q = dict(spec, name=name, sha256=hashlib.sha256(data).hexdigest())
        r = http_request(node.port, "POST", "/api/v1/uploads?" +
                         urllib.parse.urlencode(q), raw=data,
                         headers={"Content-Type": "application/octet-stream"},
                         timeout=60)
        assert r.status == 201, r.data
        return r.data

    @classmethod
    def make_jobs(cls, s):
        """The single node's jobs, by role: {role: id}."""
        ids = {}
        assert s.api("PATCH", "/api/v1/queues/held", body={
            "paused": True, "concurrency": 2}).status == 200
        cls.out = binary(2 * MiB + 4321, 1)		# three rows
        cls.err = binary(5000, 2)
        for name, data in (("out.bin", cls.out), ("err.bin", cls.err)):
            with open(os.path.join(cls.tmp, name), "wb") as f:
                f.write(data)
        ids["ok"] = s.submit({"command": "cat %s; cat %s >&2" % (
            os.path.join(cls.tmp, "out.bin"), os.path.join(cls.tmp, "err.bin")),
            "name": "big output", "env": {"X": "1"}, "priority": 5,
            "limits": {"output_mb": 10}, "timeout": 60})["id"]
        ids["failed"] = s.submit({"command": "echo no; exit 7"})["id"]
        ids["retried"] = s.submit({
            "command": "printf 'try %s\\000' $RUNNEL_ATTEMPT; printf "
            "'e%s\\n' $RUNNEL_ATTEMPT >&2; exit 1", "max_attempts": 2})["id"]
        cls.idem_body = {"command": "echo keyed", "name": "keyed"}
        r = s.api("POST", "/api/v1/jobs", body=cls.idem_body,
                  headers={"Idempotency-Key": "move-me"})
        assert r.status == 201, r.raw
        ids["keyed"] = r.data["id"]
        cls.file = binary(3 * MiB + 77, 3)	# four chunks
        cls.file_sha = hashlib.sha256(cls.file).hexdigest()
        ids["upload"] = cls.upload(s, cls.file, "data.bin",
                                   command='sha256sum "$RUNNEL_FILE"')["id"]
        ids["after_ok"] = s.submit({"command": "echo after",
                                    "after": [ids["ok"]]})["id"]
        for role in ("ok", "failed", "retried", "keyed", "upload", "after_ok"):
            s.wait(ids[role])
        # what waits: in the paused queue, behind it, and for its time
        ids["canceled"] = s.submit({"command": "true", "queue": "held"})["id"]
        assert s.api("POST", "/api/v1/jobs/%d/cancel" % ids["canceled"]).status == 200
        ids["root"] = s.submit({"command": "echo root", "queue": "held"})["id"]
        ids["dep1"] = s.submit({"command": "echo dep1", "after": [ids["root"]]})["id"]
        ids["dep2"] = s.submit({"command": "echo dep2", "after": [ids["dep1"]]})["id"]
        ids["held_upload"] = cls.upload(s, cls.file, "again.bin", queue="held",
                                        command='sha256sum < "$RUNNEL_FILE"')["id"]
        ids["held"] = s.submit({"command": "echo held", "queue": "held"})["id"]
        cls.run_at = time.time() + scaled(10)
        ids["scheduled"] = s.submit({"command": "echo on time",
                                     "run_at": rfc3339(cls.run_at)})["id"]
        # running when it dies: the last attempt, and one with another left
        cls.gates = [Gate(cls.tmp, n) for n in ("last", "again")]
        for role, gate, attempts in (("last", cls.gates[0], 1),
                                     ("again", cls.gates[1], 2)):
            ids[role] = s.submit({"command": "echo attempt $RUNNEL_ATTEMPT; "
                                  "if [ $RUNNEL_ATTEMPT = 1 ]; then %s; fi" %
                                  gate.cmd, "max_attempts": attempts})["id"]
        ids["after_last"] = s.submit({"command": "echo never",
                                      "after": [ids["last"]]})["id"]
        for role in ("last", "again"):
            cls.pids.append(s.wait_running(ids[role])["pid"])
            wait_until(lambda: s.output(ids[role]) == b"attempt 1\n", 10,
                       "the output of %s" % role)
        # the largest id the node gave, gone
        ids["deleted"] = s.submit({"command": "true", "queue": "held"})["id"]
        assert s.api("POST", "/api/v1/jobs/%d/cancel" % ids["deleted"]).status == 200
        assert s.api("DELETE", "/api/v1/jobs/%d" % ids["deleted"]).status in (200, 204)
        return ids

    @classmethod
    def record(cls, s):
        """The node's view of every job, and every attempt's output."""
        cls.views, cls.outputs = {}, {}
        for role, jid in cls.ids.items():
            if role == "deleted":
                continue
            j = s.job(jid)
            cls.views[role] = j
            for a in range(1, j["attempts"] + 1):
                for stream in ("stdout", "stderr"):
                    cls.outputs[(role, a, stream)] = s.output(
                        jid, "?attempt=%d&stream=%s" % (a, stream))

    @classmethod
    def run_import(cls, data, url, *extra):
        rc, out = run_runneld(["--import", data, "--database", url,
                               "--retry-base", "0.2"] + list(extra), timeout=120)
        assert not SANITIZER_RE.search(out), out
        return rc, out

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pids = []
        # database="": SQLite, whatever the suite's backend
        cls.single = cls.new_server("single", workers=2, args=cls.ARGS,
                                    database="")
        cls.single.start()
        cls.ids = cls.make_jobs(cls.single)
        cls.record(cls.single)
        cls.db = harness_pg.create()
        cls.url = harness_pg.url_of(cls.db)
        cls.busy = run_runneld(["--import", cls.single.data, "--database",
                                cls.url, "--log-level", "error"])
        cls.single.kill9()
        for pid in cls.pids:
            wait_until(lambda: not pid_running(pid), 10, "a job to die with runneld")
        cls.before = tree_digest(cls.single.data)
        cls.rc, cls.log = cls.run_import(cls.single.data, cls.url)
        assert cls.rc == 0, cls.log
        cls.after = tree_digest(cls.single.data)
        cls.imported_at = time.time()
        cls.a = cls.new_server("nodeA", workers=2, database=cls.url,
                               args=cls.ARGS + ["--node-id", "a"])
        cls.a.start()
        cls.b = cls.new_server("nodeB", workers=2, database=cls.url,
                               args=cls.ARGS + ["--node-id", "b"])
        cls.b.start()
        # What the nodes say before any test changes anything.
        cls.seen = {n.name: {r: n.job(j) for r, j in cls.ids.items()
                             if r != "deleted"} for n in (cls.a, cls.b)}
        cls.total = cls.a.total()

    @classmethod
    def tearDownClass(cls):
        for g in getattr(cls, "gates", []):
            g.release()
        super().tearDownClass()

    def nodes(self):
        return (self.a, self.b)

    # -- what moved -----------------------------------------------------

    def test_the_import_says_what_it_copied(self):
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            self.single.data, "runnel.db"), uri=True)
        try:
            # (after_ok's record is there only if ok had not finished yet)
            deps = db.execute("SELECT count(*) FROM job_deps").fetchone()[0]
        finally:
            db.close()
        n = len(self.views)
        self.assertIn("import: jobs %d/%d copied" % (n, n), self.log)
        self.assertIn(" jobs=%d queues=1 dependencies=%d keys=1 " % (n, deps),
                      self.log)
        self.assertIn(" uploads=2 blobs=1 blob_bytes=%d next_id=%d\n" % (
            len(self.file), self.ids["deleted"] + 1), self.log)
        out = sum(len(v) for v in self.outputs.values())
        self.assertIn(" output_files=%d " % sum(1 for v in self.outputs.values()
                      if v), self.log)
        self.assertIn(" output_bytes=%d " % out, self.log)
        self.assertIn("import: running=2 retried=1 failed=1 waiting_failed=1",
                      self.log)

    def test_every_job_reads_the_same_on_every_node(self):
        changed = {"last", "again", "after_last", "scheduled"}
        for node in self.nodes():
            for role, before in self.views.items():
                if role in changed:
                    continue
                with self.subTest(node=node.name, job=role):
                    self.assertEqual(self.seen[node.name][role], before)
        # the scheduled job too, unless its time came meanwhile
        if self.seen["nodeA"]["scheduled"]["state"] == "scheduled":
            self.assertEqual(self.seen["nodeA"]["scheduled"],
                             self.views["scheduled"])

    def test_every_attempts_output_is_byte_exact_on_every_node(self):
        self.assertEqual(self.outputs[("ok", 1, "stdout")], self.out)
        self.assertEqual(self.outputs[("retried", 2, "stdout")], b"try 2\x00")
        for node in self.nodes():
            for (role, attempt, stream), data in self.outputs.items():
                with self.subTest(node=node.name, job=role, attempt=attempt,
                                  stream=stream):
                    self.assertEqual(node.output(self.ids[role],
                                     "?attempt=%d&stream=%s" % (attempt, stream)),
                                     data)
        # nothing of it was read from a local file: the nodes have none
        for node in self.nodes():
            for role, attempt, stream in self.outputs:
                self.assertFalse(os.path.exists(os.path.join(
                    node.data, "output", "%d.%d.%s" % (
                        self.ids[role], attempt, stream[3:]))))
        self.assertEqual(self.a.output(self.ids["ok"], "?offset=%d" % (MiB + 9)),
                         self.out[MiB + 9:])

    def test_the_uploaded_file_downloads_whole_from_every_node(self):
        for node in self.nodes():
            r = node.api("GET", "/api/v1/jobs/%d/file" % self.ids["upload"],
                         timeout=60)
            self.assertEqual(r.status, 200, r.raw[:200])
            self.assertEqual(hashlib.sha256(r.raw).hexdigest(), self.file_sha)
            self.assertEqual(r.raw, self.file)
            r = node.api("GET", "/api/v1/jobs/%d/file" % self.ids["upload"],
                         headers={"Range": "bytes=%d-" % (2 * MiB - 3)})
            self.assertEqual((r.status, r.raw), (206, self.file[2 * MiB - 3:]))
        # the same bytes, uploaded twice: one blob
        self.assertEqual(self.a.sql("SELECT count(*), sum(size) FROM blobs"),
                         "1|%d" % len(self.file))

    def test_jobs_that_were_running_end_as_a_restart_ends_them(self):
        last = self.seen["nodeA"]["last"]
        self.assertEqual((last["state"], last["error"], last["attempts"]),
                         ("failed", "server restarted", 1), last)
        self.assertIsNotNone(last["finished_at"])
        waiting = self.seen["nodeA"]["after_last"]
        self.assertEqual((waiting["state"], waiting["error"]),
                         ("failed", "dependency %d failed" % self.ids["last"]),
                         waiting)
        # the one with an attempt left is retried, on a node, and succeeds
        done = self.a.wait(self.ids["again"], 60)
        self.assertEqual((done["state"], done["attempts"], done["error"]),
                         ("succeeded", 2, None), done)
        self.assertEqual(self.a.output(self.ids["again"], "?attempt=1"),
                         b"attempt 1\n")
        self.assertEqual(self.b.output(self.ids["again"], "?attempt=2"),
                         b"attempt 2\n")

    def test_the_scheduled_job_runs_at_its_time(self):
        done = self.a.wait(self.ids["scheduled"], self.run_at - time.time() + 60)
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(done["run_at"], self.views["scheduled"]["run_at"])
        self.assertGreaterEqual(epoch(done["started_at"]), epoch(done["run_at"]))
        self.assertEqual(self.b.output(self.ids["scheduled"]), b"on time\n")

    def test_the_paused_queue_keeps_its_settings_then_its_chain_runs(self):
        for node in self.nodes():
            q = self.queues(node)["held"]
            self.assertEqual((q["paused"], q["concurrency"], q["queued"]),
                             (True, 2, 3), q)
        # paused: a job elsewhere runs, those of held stay put
        self.sentinel(server=self.a)
        for role in ("root", "held", "held_upload"):
            self.assertEqual(self.a.job(self.ids[role])["state"], "queued")
        self.patch_queue("held", {"paused": False}, server=self.b)
        done = {r: self.a.wait(self.ids[r], 60) for r in
                ("root", "dep1", "dep2", "held", "held_upload")}
        for role, j in done.items():
            self.assertEqual(j["state"], "succeeded", (role, j))
        self.assertGreaterEqual(epoch(done["dep1"]["started_at"]),
                                epoch(done["root"]["finished_at"]))
        self.assertGreaterEqual(epoch(done["dep2"]["started_at"]),
                                epoch(done["dep1"]["finished_at"]))
        self.assertEqual(self.b.output(self.ids["dep2"]), b"dep2\n")
        # the upload that waited ran on a node that fetched its blob
        self.assertEqual(self.a.output(self.ids["held_upload"]),
                         ("%s  -\n" % self.file_sha).encode())
        self.assertEqual(self.queues(self.a)["held"]["concurrency"], 2)

    def test_new_jobs_get_ids_above_every_old_one(self):
        for node in self.nodes():
            j = node.submit({"command": "true"})
            self.assertGreater(j["id"], self.ids["deleted"])
            self.assertEqual(node.wait(j["id"])["state"], "succeeded")
        r = self.a.api("GET", "/api/v1/jobs/%d" % self.ids["deleted"])
        self.assertEqual(r.status, 404)

    def test_the_idempotency_key_replays(self):
        for node in self.nodes():
            r = node.api("POST", "/api/v1/jobs", body=self.idem_body,
                         headers={"Idempotency-Key": "move-me"})
            self.assertEqual((r.status, r.data["id"]), (200, self.ids["keyed"]),
                             r.raw)

    def test_counts_hold_every_imported_job(self):
        self.assertEqual(self.total, len(self.views))

    def test_the_source_is_left_as_it_was(self):
        self.assertEqual(self.after, self.before)
        self.assertIn("runnel.db", self.before)

    # -- refusals -------------------------------------------------------

    def assertOneLine(self, rc, out, *expect):
        self.assertEqual(rc, 1, out)
        lines = lines_of(out)
        self.assertEqual(len(lines), 1, out)
        self.assertIn(" error: runneld: import failed: ", lines[0])
        for e in expect:
            self.assertIn(e, lines[0])

    def test_the_import_is_refused_while_the_source_runs(self):
        rc, out = self.busy
        self.assertOneLine(rc, out, "in use by runneld pid %d" % self.single.pid)

    def test_a_second_import_into_the_clusters_database_is_refused(self):
        n = self.a.sql("SELECT count(*) FROM jobs")
        rc, out = self.run_import(self.single.data, self.url, "--log-level",
                                  "error")
        self.assertOneLine(rc, out)
        self.assertRegex(out, "a node runs on the database|holds [0-9]+ job")
        self.assertEqual(self.a.sql("SELECT count(*) FROM jobs"), n)

    def test_a_database_with_jobs_and_no_node_is_refused(self):
        other = harness_pg.url_of(harness_pg.create())
        rc, out = self.run_import(self.single.data, other, "--log-level", "error")
        self.assertEqual(rc, 0, out)
        rc, out = self.run_import(self.single.data, other, "--log-level", "error")
        self.assertOneLine(rc, out, "the database holds %d job(s) already" %
                           len(self.views), "never merges two histories")

    def test_a_database_a_node_runs_on_is_refused(self):
        name = harness_pg.create()
        node = self.new_server("lonely", workers=1, args=self.ARGS,
                               database=harness_pg.url_of(name))
        node.start()
        try:
            rc, out = self.run_import(self.single.data, node.database,
                                      "--log-level", "error")
            self.assertOneLine(rc, out, "a node runs on the database",
                               "stop every node")
            self.assertEqual(node.sql("SELECT count(*) FROM jobs"), "0")
        finally:
            node.stop()

    def test_bad_databases_fail_with_one_line(self):
        for bad, expect in (
                ("postgresql:///runnel?host=%s" % NOWHERE, "database "
                 "postgresql:///runnel?host=%s: " % NOWHERE),
                ("postgresql://localhost:notaport/runnel", "database "),
                ("garbage", "not a PostgreSQL URI")):
            with self.subTest(database=bad):
                rc, out = self.run_import(self.single.data, bad, "--log-level",
                                          "error")
                self.assertOneLine(rc, out, expect)
        rc, out = run_runneld(["--import", self.single.data])
        self.assertOneLine(rc, out, "--database must name")
        rc, out = self.run_import(os.path.join(self.tmp, "nothing-here"),
                                  self.url, "--log-level", "error")
        self.assertOneLine(rc, out, "nothing-here")
