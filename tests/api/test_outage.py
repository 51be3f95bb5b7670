"""The database goes away (issue 11, item 6): PostgreSQL stopped and started
under load, and one node cut off from it longer than the node timeout.

Every class runs its own PostgreSQL (tests/pg/pg.sh start into a temp dir:
the suite's shared one must stay up for the others) and its nodes with
--node-timeout 3.  Runs when the suite runs on PostgreSQL (api_pg.outage);
skipped on SQLite.

- Restart: two nodes take a stream of submits, each with an
  Idempotency-Key, while PostgreSQL is stopped for twice the node timeout
  and started again.  Meanwhile writes and reads get a clean 503
  database_unavailable with Retry-After, /healthz and /metrics say so, a
  job that ends during the outage is reported once it is back, and nobody
  is declared dead for it.  After: every acknowledged job ran exactly once
  and succeeded, and both nodes claim again.
- Cut off: node b reaches the database through a proxy the test controls;
  the proxy swallows its traffic (a network black hole) for longer than
  the node timeout.  Node a rescues b's jobs; b's loop is held at most
  once, for the answer deadline; back, b's late ends are refused and its
  processes of rescued attempts ended, so each job ends once in the store.
- A lost answer: the proxy cuts b's connection at the answer to a COMMIT
  that the server did.  The client got 503, yet its job exists: the same
  Idempotency-Key answers 200 with it, and the claim of that turn, never
  started, is put back and runs once.

The figures worth a look (how long writes fail after PostgreSQL is back,
how long b's loop was held) are printed.
"""
import collections
import os
import re
import select
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import harness_pg
from harness import (BASE_ARGS, RunnelTestCase, epoch, pid_running,
                     postgresql_only, scaled, wait_until)

TIMEOUT = 3		# --node-timeout of every node here, seconds
ANSWER_MAX = 12		# core/cluster.c: ANSWER_MAX_MS, the loop's worst wait
PG_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg",
                     "pg.sh")


def say(fmt, *args):
    print("outage: " + fmt % args, flush=True)


class Postgres:
    """A PostgreSQL of the test's own (tests/pg/pg.sh), to stop and start."""

    def __init__(self):
        # Not under the class's temp dir: the server runs as postgres.
        self.dir = tempfile.mkdtemp(prefix="runnel-outage-pg-")
        self.url = None

    def _sh(self, *args):
        p = subprocess.run(["sh", PG_SH] + list(args), capture_output=True,
                           text=True, timeout=scaled(120))
        if p.returncode != 0:
            raise AssertionError("pg.sh %s: %s" % (" ".join(args), p.stderr))
        return p.stdout.strip()

    def start(self):
        self.url = self._sh("start", self.dir)
        return self.url

    def stop(self):
        self._sh("stop", self.dir)

    def createdb(self, name):
        return self._sh("createdb", self.dir, name)

    def socket_dir(self):
        return os.path.join(self.dir, "sock")

    def remove(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


class Proxy:
    """A Unix socket in front of PostgreSQL's: a node given its directory as
    host talks to the server through it.  hang() forwards nothing more, in
    either direction, on old connections or new ones (a network black hole:
    nothing is refused, nothing answers); heal() lets everything through
    again, what was held included.  lose_commit_after(marker): the next
    COMMIT sent after marker on a connection is done by the server, but its
    answer is lost: the connection is cut instead.

    What the server sends is passed on a whole message at a time (type
    byte, length), so that the answer to a COMMIT can be told."""

    def __init__(self, target_dir):
        self.dir = tempfile.mkdtemp(prefix="runnel-outage-proxy-")
        self.target = os.path.join(target_dir, ".s.PGSQL.5432")
        self.held = threading.Event()
        self.closing = False
        self.marker = None
        self.commit_lost = threading.Event()
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(os.path.join(self.dir, ".s.PGSQL.5432"))
        self.lsock.listen(64)
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self):
        while not self.closing:
            r, _, _ = select.select([self.lsock], [], [], 0.1)
            if not r:
                continue
            try:
                c, _ = self.lsock.accept()
                up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                up.connect(self.target)
            except OSError:
                c.close()
                continue
            t = threading.Thread(target=self._pump, args=(c, up), daemon=True)
            self.threads.append(t)
            t.start()

    def _pump(self, a, b):
        """a: the node's end, b: the server's."""
        seen, tail, sbuf = False, b"", b""
        try:
            while not self.closing:
                if self.held.is_set():
                    time.sleep(0.02)
                    continue
                r, _, _ = select.select([a, b], [], [], 0.1)
                if a in r:
                    data = a.recv(65536)
                    if not data:
                        return
                    m = self.marker
                    if m and not seen and m in tail + data:
                        seen = True
                    tail = (tail + data)[-64:]
                    b.sendall(data)
                if b in r:
                    data = b.recv(65536)
                    if not data:
                        return
                    sbuf += data
                    out = bytearray()
                    while len(sbuf) >= 5:
                        n = int.from_bytes(sbuf[1:5], "big")
                        if len(sbuf) < 1 + n:
                            break
                        msg, sbuf = sbuf[:1 + n], sbuf[1 + n:]
                        if seen and msg[:1] == b"C" and msg[5:] == b"COMMIT\0":
                            a.sendall(out)
                            self.marker = None
                            self.commit_lost.set()
                            return
                        out += msg
                    a.sendall(out)
        except OSError:
            pass
        finally:
            a.close()
            b.close()

    def lose_commit_after(self, marker):
        self.commit_lost.clear()
        self.marker = marker

    def hang(self):
        self.held.set()

    def heal(self):
        self.held.clear()

    def close(self):
        self.closing = True
        self.held.clear()
        for t in self.threads:
            t.join(5)
        self.lsock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def psql(url, sql):
    return harness_pg.psql(url, sql)


class OwnDatabase(RunnelTestCase):
    """NODES nodes (named NODE_NAMES) on a database of a PostgreSQL of the
    class's own."""

    START_SERVER = False
    NODE_NAMES = ("n0", "n1")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = Postgres()
        cls.addClassCleanup(cls.pg.remove)
        cls.pg.start()
        cls.url = cls.pg.createdb("outage")
        cls.nodes = [cls.new_server(name, database=cls.node_url(name),
                                    args=BASE_ARGS + [
                                        "--node-id", name, "--node-timeout",
                                        str(TIMEOUT)])
                     for name in cls.NODE_NAMES]
        for s in cls.nodes:
            s.start()
        cls.server = cls.nodes[0]

    @classmethod
    def node_url(cls, name):
        return cls.url

    @classmethod
    def sql(cls, query):
        return psql(cls.url, query)

    def node_of(self, jid):
        return self.sql("SELECT coalesce(node, '') FROM jobs WHERE id = %d" % jid)

    def health(self, s, timeout=5):
        return s.api("GET", "/healthz", token=False, timeout=timeout)

    def db_down(self, r):
        """r is /healthz's (or a write's) answer while the database is away."""
        self.assertError(r, 503, "database_unavailable")
        self.assertEqual(r.headers.get("Retry-After"), "1", r.raw)
        return True

    def metric(self, s, name):
        r = s.api("GET", "/metrics")
        self.assertEqual(r.status, 200, r.raw[:300])
        m = re.search(rb"^%s (\S+)$" % name.encode(), r.raw, re.M)
        self.assertIsNotNone(m, "%s in /metrics" % name)
        return float(m.group(1))

    def run_on(self, s, spec):
        """A job submitted to s while s has an idle worker: s claims it in
        the turn of the submit."""
        wait_until(lambda: any(w["state"] == "idle" for w in s.workers_info()),
                   15, "an idle worker on %s" % s.name)
        j = s.submit(spec)
        wait_until(lambda: self.node_of(j["id"]), 10, "job %d claimed" % j["id"])
        self.assertEqual(self.node_of(j["id"]), s.name)
        return j


class Submitter(threading.Thread):
    """Submits jobs to one node, each with its own Idempotency-Key, until
    told to stop; a key refused with 503 is sent again (the same key) until
    it is acknowledged, as a careful client does."""

    def __init__(self, test, server, cmd):
        super().__init__(daemon=True)
        self.test, self.server, self.cmd = test, server, cmd
        self.acked = {}			# key -> job id
        self.acked_at = []		# monotonic time of each acknowledgment
        self.statuses = collections.Counter()
        self.unclean = []		# answers that are not 201/200/clean 503
        self.done = threading.Event()
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.done.is_set():
                key = "%s-%d-%d" % (self.server.name, os.getpid(), n)
                while True:
                    r = self.server.api("POST", "/api/v1/jobs", headers={
                        "Idempotency-Key": key}, body={
                            "command": self.cmd, "queue": "stream"},
                        timeout=ANSWER_MAX + 10)
                    self.statuses[r.status] += 1
                    if r.status in (200, 201):
                        self.acked[key] = r.data["id"]
                        self.acked_at.append(time.monotonic())
                        break
                    err = r.data.get("error", {}) if isinstance(r.data, dict) else {}
                    if (r.status != 503 or err.get("code") != "database_unavailable"
                            or not err.get("message")
                            or r.headers.get("Retry-After") != "1"):
                        self.unclean.append((r.status, r.raw[:300]))
                        break
                    time.sleep(0.05)	# the client's own back-off
                n += 1
                time.sleep(0.03)	# about 30 jobs a second per node
        except Exception as e:	# reported by the test, not lost in a thread
            self.error = e

    def acks_since(self, t):
        return sum(1 for a in self.acked_at if a >= t)


@postgresql_only("PostgreSQL goes away under the nodes of a cluster")
class RestartTest(OwnDatabase):
    """PostgreSQL stopped for twice the node timeout, then started again,
    under a stream of submits to both nodes."""

    WORKERS = 3

    def test_acknowledged_jobs_run_once_across_a_restart(self):
        out = os.path.join(self.tmp, "ids")
        subs = [Submitter(self, s, 'echo "$RUNNEL_JOB_ID" >> %s' %
                          shlex.quote(out)) for s in self.nodes]
        # Jobs that run across the outage: two on n0 end during it (their
        # ends are kept together), one on n1 after it.
        n0, n1 = self.nodes
        during = [self.gate("during"), self.gate("during")]
        after = self.gate("after")
        across = [self.run_on(s, {"command": g.cmd, "queue": "across"})
                  for s, g in ((n0, during[0]), (n0, during[1]), (n1, after))]
        victim = self.nodes[0].wait(self.nodes[0].submit(
            {"command": "true", "queue": "victim"})["id"])
        for s in subs:
            s.start()
        self.addCleanup(lambda: [s.done.set() for s in subs])
        wait_until(lambda: all(len(s.acked) >= 10 for s in subs), 30,
                   "acknowledged submits on both nodes")

        self.pg.stop()
        stopped = time.monotonic()
        stopped_wall = time.time()
        # Both nodes say so at once: /healthz, /metrics, writes and reads.
        for s in self.nodes:
            wait_until(lambda: self.health(s).status == 503, 10,
                       "%s's /healthz to say 503" % s.name)
            r = self.health(s)
            self.db_down(r)
            self.assertIn("PostgreSQL", r.data["error"]["message"])
            self.assertEqual(self.metric(s, "runnel_database_up"), 0)
            t0 = time.monotonic()
            for method, path in (("GET", "/api/v1/jobs/%d" % across[0]["id"]),
                                 ("GET", "/api/v1/jobs?queue=stream"),
                                 ("GET", "/api/v1/stats"),
                                 ("POST", "/api/v1/jobs/%d/cancel" %
                                  across[2]["id"]),
                                 ("DELETE", "/api/v1/jobs/%d" % victim["id"])):
                self.db_down(s.api(method, path))
            self.db_down(s.api("PATCH", "/api/v1/queues/victim",
                               body={"paused": True}))
            self.db_down(s.api("POST", "/api/v1/uploads?name=f.txt",
                               raw=b"bytes", headers={
                                   "Content-Type": "application/octet-stream"}))
            self.assertLess(time.monotonic() - t0, scaled(2),
                            "answers without the database come at once")
        # Jobs that end now: their ends are kept until it is back.
        for g in during:
            g.open()
        wait_until(lambda: self.metric(n0, "runnel_reports_waiting") >= 2, 10,
                   "the ends of both jobs to be kept")
        wait_until(lambda: all(s.statuses[503] > 0 for s in subs), 10,
                   "submits refused meanwhile")
        # Longer than a node is given to beat: nobody may count as dead.
        wait_until(lambda: time.monotonic() - stopped >= 2 * TIMEOUT,
                   2 * TIMEOUT + 5, "the outage to last twice the node timeout")

        self.pg.start()
        started = time.monotonic()
        back = {}
        for s in self.nodes:
            wait_until(lambda: self.health(s).status == 200, 30,
                       "%s's /healthz to say 200 again" % s.name)
            back[s.name] = time.monotonic() - started
        wait_until(lambda: all(s.acks_since(started) for s in subs), 30,
                   "writes acknowledged again")
        first = {s.server.name: min(a for a in s.acked_at if a >= started) -
                 started for s in subs}
        say("PostgreSQL down %.1fs; after its start, /healthz 200 in %s, "
            "the first write acknowledged in %s", started - stopped,
            ", ".join("%s %.2fs" % kv for kv in sorted(back.items())),
            ", ".join("%s %.2fs" % kv for kv in sorted(first.items())))
        after.open()
        wait_until(lambda: all(s.acks_since(started) >= 20 for s in subs), 60,
                   "more writes after the restart")
        for s in subs:
            s.done.set()
        for s in subs:
            s.join(scaled(ANSWER_MAX + 20))
            self.assertIsNone(s.error)
            self.assertEqual(s.unclean, [], "answers that are not 201, 200 "
                             "or a clean 503 database_unavailable")
            say("%s: %d acknowledged, answers %s", s.server.name,
                len(s.acked), dict(s.statuses))

        # The jobs that ran across: their ends were reported once back.
        ended = [n1.wait(j["id"], 30) for j in across]
        for j in ended:
            self.assertEqual((j["state"], j["attempts"]), ("succeeded", 1), j)
        for j in ended[:2]:
            self.assertLess(epoch(j["finished_at"]), stopped_wall +
                            (started - stopped), "ended during the outage")
        # Every acknowledged job: there, ran exactly once, succeeded.
        acked = {}
        for s in subs:
            acked.update(s.acked)
        ids = sorted(acked.values())
        self.assertEqual(len(set(ids)), len(ids), "one job per key")
        wait_until(lambda: self.sql(
            "SELECT count(*) FROM jobs WHERE queue = 'stream' AND state NOT "
            "IN ('succeeded', 'failed', 'canceled')") == "0", 60,
            "every job finished")
        rows = self.sql("SELECT id, state, attempts, coalesce(error, '') "
                        "FROM jobs WHERE queue = 'stream' ORDER BY id")
        stored = {int(r.split("|")[0]): r.split("|")[1:] for r in rows.split()}
        self.assertEqual(sorted(stored), ids, "the stored jobs are the "
                         "acknowledged ones")
        self.assertEqual([i for i, (st, att, err) in stored.items()
                          if (st, att, err) != ("succeeded", "1", "")], [],
                         "jobs that did not succeed at their first attempt")
        with open(out) as f:
            ran = collections.Counter(int(x) for x in f.read().split())
        self.assertEqual([i for i, c in ran.items() if c > 1], [], "ran twice")
        self.assertEqual(sorted(ran), ids)
        # What was refused did not happen.
        self.assertEqual(self.nodes[1].job(victim["id"])["state"], "succeeded")
        self.assertFalse(self.queue("victim")["paused"])
        # Nobody was declared dead, and both nodes claim again.
        self.assertEqual(self.sql("SELECT count(*) FROM nodes"), "2")
        for s in self.nodes:
            self.assertNotIn(b"is silent for longer", s.log_since_start())
            self.run_on(s, {"command": "true"})
            self.assertEqual(self.metric(s, "runnel_database_up"), 1)
            self.assertEqual(self.metric(s, "runnel_database_outages_total"), 1)


@postgresql_only("PostgreSQL goes away under the nodes of a cluster")
class CutOffTest(OwnDatabase):
    """Node b reaches PostgreSQL through a proxy that turns into a black
    hole for longer than the node timeout; node a does not."""

    NODE_NAMES = ("a", "b")

    @classmethod
    def node_url(cls, name):
        if name == "a":
            return cls.url
        cls.proxy = Proxy(cls.pg.socket_dir())
        cls.addClassCleanup(cls.proxy.close)
        return harness_pg.database_url(
            "postgresql:///x?host=%s&user=postgres" % cls.proxy.dir, "outage")

    def test_a_commit_whose_answer_is_lost(self):
        a, b = self.nodes
        self.run_on(b, {"command": "true"})	# b's workers are up, one idle
        key = "lost-%d" % time.time_ns()
        cmd = "true # %s" % key
        self.proxy.lose_commit_after(cmd.encode())
        r = b.api("POST", "/api/v1/jobs", body={"command": cmd},
                  headers={"Idempotency-Key": key})
        self.assertTrue(self.proxy.commit_lost.is_set(), "the COMMIT's "
                        "answer was lost")
        # The client cannot know: 503, and the job is there all the same,
        # claimed by b in that turn, its RUN never sent.
        self.db_down(r)
        jid = int(self.sql("SELECT id FROM jobs WHERE command = '%s'" % cmd))
        # The same key again: the job of the first request.
        r = wait_until(lambda: (lambda r: r if r.status != 503 else None)(
            b.api("POST", "/api/v1/jobs", body={"command": cmd},
                  headers={"Idempotency-Key": key})), 10, "b to take writes")
        self.assertEqual((r.status, r.data["id"]), (200, jid), r.raw)
        # b puts it back (its claim never started) and it runs once.
        done = a.wait(jid, 30)
        self.assertEqual((done["state"], done["attempts"]), ("succeeded", 1),
                         done)
        self.assertIn(b"job=%d attempt=1: its claim was committed though the "
                      b"commit seemed to fail" % jid, b.log_since_start())
        self.assertEqual(self.sql("SELECT count(*) FROM jobs WHERE command = "
                                  "'%s'" % cmd), "1")

    def test_a_node_cut_off_is_rescued_and_its_late_ends_refused(self):
        a, b = self.nodes
        log = os.path.join(self.tmp, "runs")
        gate = self.gate("late")
        # Attempt 1 of each runs on b: long ends only when killed, late
        # ends once the test opens its gate; attempt 2 ends at once.
        def spec(first, attempts):
            return {"command": 'echo "start $RUNNEL_JOB_ID $RUNNEL_ATTEMPT" '
                    '>> %s; if [ "$RUNNEL_ATTEMPT" = 1 ]; then %s; fi; '
                    'echo "end $RUNNEL_JOB_ID $RUNNEL_ATTEMPT" >> %s' % (
                        shlex.quote(log), first, shlex.quote(log)),
                    "max_attempts": attempts}
        long = self.run_on(b, spec("sleep 60", 2))
        late = self.run_on(b, spec(gate.cmd, 2))
        self.cancel_later(long["id"])
        pid = b.wait_running(long["id"])["pid"]
        self.track_pid(pid)
        b.wait_running(late["id"])

        self.proxy.hang()
        cut = time.monotonic()
        self.addCleanup(self.proxy.heal)
        # a declares b dead after the timeout and runs both jobs again.
        for j in (long, late):
            done = a.wait(j["id"], 30)
            self.assertEqual((done["state"], done["attempts"]),
                             ("succeeded", 2), done)
            self.assertEqual(self.node_of(j["id"]), "a")
        rescued = time.monotonic() - cut
        # Meanwhile b's late job ends: b keeps the end, refused later.
        gate.open()
        # b answers, held once at most for the answer deadline.
        slowest = 0
        t_end = time.monotonic() + scaled(ANSWER_MAX + 15)
        while True:
            t0 = time.monotonic()
            r = self.health(b, timeout=ANSWER_MAX + 10)
            took = time.monotonic() - t0
            slowest = max(slowest, took)
            if r.status == 503 and took < 0.5:
                self.db_down(r)
                break
            self.assertLess(time.monotonic(), t_end, "b's /healthz to "
                            "answer 503 at once")
        self.assertLess(slowest, scaled(ANSWER_MAX + 3))
        say("b cut off: its jobs rescued by a %.1fs after, b's loop held "
            "%.1fs at most", rescued, slowest)

        self.proxy.heal()
        healed = time.monotonic()
        wait_until(lambda: self.health(b).status == 200, 30,
                   "b's /healthz to say 200 again")
        # b learns it was declared dead: the process of its rescued
        # attempt ends, its late end is refused, and it claims again.
        wait_until(lambda: not pid_running(pid), 15,
                   "the process of the rescued attempt to end")
        say("b back %.1fs after the heal", time.monotonic() - healed)
        wait_until(lambda: re.search(rb"job=%d attempt=1 node=b: its end "
                                     rb"\([^)]*\) is refused" % late["id"],
                                     b.log_since_start()), 15,
                   "b to refuse the late end of job %d" % late["id"])
        self.assertIn(b"job=%d attempt=1 was rescued while this node was "
                      b"silent" % long["id"], b.log_since_start())
        for j in (long, late):
            final = a.job(j["id"])
            self.assertEqual((final["state"], final["attempts"],
                              final["exit_code"]), ("succeeded", 2, 0), final)
        with open(log) as f:
            runs = f.read().split("\n")
        self.assertNotIn("end %d 1" % long["id"], runs)
        self.assertIn("end %d 1" % late["id"], runs)	# ran, not counted
        self.assertEqual(runs.count("end %d 2" % late["id"]), 1)
        self.assertEqual(self.sql("SELECT count(*) FROM nodes"), "2")
        self.run_on(b, {"command": "true"})
