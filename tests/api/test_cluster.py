"""Cluster mode (issue 11): runneld nodes sharing one PostgreSQL database.

Runs when the suite runs on PostgreSQL (run.py --database-url, ctest's
api_pg.cluster); skipped on SQLite.  Every class starts its nodes on one
fresh database of its own, with --node-timeout 3 so that a dead node shows
within seconds.  What a node cannot show through the API (which node ran
a job, who leads) is read from the database with psql.  The numbers worth
a look (spread over nodes, wake-up latency, rescue and takeover times)
are printed.
"""
import collections
import os
import shlex
import signal
import statistics
import threading
import time

import harness_pg
from harness import (BASE_ARGS, FINISHED, RunnelTestCase, epoch, pid_running,
                     postgresql_only, scaled, wait_until)

TIMEOUT = 3	# --node-timeout of every node here, seconds


def say(fmt, *args):
    print("cluster: " + fmt % args, flush=True)


class Cluster(RunnelTestCase):
    """NODES nodes, n0 ... on one database; a test that stops one starts
    it again (setUp does, if it did not)."""

    START_SERVER = False
    NODES = 3
    NODE_ARGS = []

    @classmethod
    def node_args(cls, i):
        """Node i's arguments after the common ones (last wins)."""
        return cls.NODE_ARGS

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = harness_pg.url_of(harness_pg.create())
        cls.nodes = [cls.new_server(
            "n%d" % i, database=cls.url,
            args=BASE_ARGS + ["--node-id", "n%d" % i, "--node-timeout",
                              str(TIMEOUT)] + cls.node_args(i))
            for i in range(cls.NODES)]
        for s in cls.nodes:
            s.start()
        cls.server = cls.nodes[0]
        wait_until(lambda: cls.sql("SELECT count(*) FROM nodes") ==
                   str(cls.NODES), 10, "every node's row")

    @classmethod
    def sql(cls, query):
        return harness_pg.psql(cls.url, query)

    def setUp(self):
        super().setUp()
        for s in self.nodes:
            if not s.running():
                s.start()
        wait_until(lambda: self.sql("SELECT count(*) FROM nodes") ==
                   str(self.NODES), 10, "every node's row")

    def node_of(self, jid):
        """The node that runs (or ran) job jid's attempt."""
        return self.sql("SELECT coalesce(node, '') FROM jobs WHERE id = %d" % jid)

    def node(self, name):
        return self.nodes[int(name[1:])]

    def finished(self, jid, server=None):
        j = (server or self.server).job(jid)
        return j if j["state"] in FINISHED else None

    def run_on(self, s, spec):
        """A job submitted to s while s has an idle worker: s claims it in
        the turn of the submit, before anyone else can see it."""
        j = s.submit(spec)
        wait_until(lambda: self.node_of(j["id"]), 10, "job %d claimed" % j["id"])
        self.assertEqual(self.node_of(j["id"]), s.name)
        return j


@postgresql_only("the nodes of a cluster share a PostgreSQL database")
class ClusterTest(Cluster):

    def test_every_job_runs_once_over_three_nodes(self):
        out = os.path.join(self.tmp, "ids")
        cmd = 'echo "$RUNNEL_JOB_ID" >> %s' % shlex.quote(out)
        n, per = 2100, 150
        ids = []
        t0 = time.monotonic()
        for k in range(0, n, per):
            jobs = self.batch([{"command": cmd, "queue": "once"}] * per,
                              server=self.nodes[(k // per) % self.NODES])
            ids += [j["id"] for j in jobs]
        wait_until(lambda: self.sql(
            "SELECT count(*) FROM jobs WHERE queue = 'once' AND state IN "
            "('succeeded', 'failed', 'canceled')") == str(n), 180,
            "every job finished")
        took = time.monotonic() - t0
        states = self.sql("SELECT state || ' ' || count(*) FROM jobs "
                          "WHERE queue = 'once' GROUP BY state")
        self.assertEqual(states, "succeeded %d" % n)
        self.assertEqual(self.sql("SELECT count(*) FROM jobs WHERE "
                                  "queue = 'once' AND attempts <> 1"), "0")
        spread = dict(line.split("|") for line in self.sql(
            "SELECT node, count(*) FROM jobs WHERE queue = 'once' "
            "GROUP BY node ORDER BY node").split())
        say("%d jobs in %.1fs (%.0f/s), by node: %s", n, took, n / took, spread)
        self.assertEqual(sorted(spread), ["n0", "n1", "n2"])
        with open(out) as f:
            seen = collections.Counter(int(x) for x in f.read().split())
        twice = [i for i, c in seen.items() if c > 1]
        self.assertEqual(twice, [], "ran more than once")
        self.assertEqual(sorted(seen), sorted(ids))
        # Every node tells the cluster's counts, not its own.
        for s in self.nodes:
            wait_until(lambda: s.stats()["jobs"]["succeeded"] >= n, 5,
                       "%s's stats to count every node's jobs" % s.name)
        # The counts the nodes kept turn by turn are the table's.
        self.assertEqual(self.sql(
            "SELECT state || ' ' || sum(n) FROM job_counts WHERE queue = "
            "'once' GROUP BY state HAVING sum(n) <> 0"), "succeeded %d" % n)

    def test_concurrency_holds_across_nodes(self):
        self.patch_queue("duo", {"concurrency": 2}, server=self.nodes[1])
        log = os.path.join(self.tmp, "duo.log")
        cmd = ('echo "start $RUNNEL_JOB_ID $(date +%%s.%%N)" >> %s; sleep 0.3; '
               'echo "end $RUNNEL_JOB_ID $(date +%%s.%%N)" >> %s') % (
                   shlex.quote(log), shlex.quote(log))
        ids = [self.nodes[i % self.NODES].submit(
            {"command": cmd, "queue": "duo"})["id"] for i in range(12)]
        for i in ids:
            self.assertEqual(self.nodes[0].wait(i, 60)["state"], "succeeded")
        marks = []
        with open(log) as f:
            for line in f:
                what, _, t = line.split()
                marks.append((float(t), 1 if what == "start" else -1))
        running = peak = 0
        for _, d in sorted(marks, key=lambda m: (m[0], m[1])):
            running += d
            peak = max(peak, running)
        nodes = {self.node_of(i) for i in ids}
        say("queue duo (concurrency 2): at most %d at once, on nodes %s",
            peak, sorted(nodes))
        self.assertLessEqual(peak, 2)
        self.assertEqual(peak, 2, "the limit was never reached: a slow test?")
        self.assertGreater(len(nodes), 1)

    def test_pause_on_one_node_stops_claims_on_all(self):
        self.patch_queue("held", {"paused": True}, server=self.nodes[2])
        ids = [self.nodes[i % self.NODES].submit(
            {"command": "true", "queue": "held"})["id"] for i in range(6)]
        # Every node goes round its dispatcher after those were stored:
        # its tick beats and looks for work in one turn.
        t = self.sql("SELECT now()")
        wait_until(lambda: self.sql(
            "SELECT count(*) FROM nodes WHERE beat_at > '%s'" % t) ==
            str(self.NODES), 10, "every node to tick")
        for s in self.nodes:
            self.sentinel(server=s)
        for i in ids:
            self.assertEqual(self.nodes[0].job(i)["state"], "queued")
        for s in self.nodes:
            wait_until(lambda: self.queue("held", server=s)["paused"], 5,
                       "%s to show the queue paused" % s.name)
        self.patch_queue("held", {"paused": False}, server=self.nodes[0])
        for i in ids:
            self.assertEqual(self.nodes[1].wait(i, 30)["state"], "succeeded")

    def test_cancel_on_one_node_ends_a_job_running_on_another(self):
        b, a = self.nodes[1], self.nodes[0]
        j = self.run_on(b, {"command": "sleep 60"})
        pid = b.wait_running(j["id"])["pid"]
        t0 = time.monotonic()
        r = a.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)
        took = time.monotonic() - t0
        say("cancel on n0 of a job on n1 answered in %.0f ms", took * 1000)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.data["state"], "canceled")
        self.assertEqual(r.data["error"], "canceled")
        self.assertLess(took, scaled(5))
        wait_until(lambda: not pid_running(pid), 5, "the job's process gone")
        self.assertEqual(b.job(j["id"])["state"], "canceled")

    def test_cancel_of_a_job_whose_node_is_stopped(self):
        c = self.nodes[2]
        j = self.run_on(c, {"command": "sleep 60", "max_attempts": 3})
        pid = c.wait_running(j["id"])["pid"]
        c.send_signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            r = self.nodes[0].api("POST", "/api/v1/jobs/%d/cancel" % j["id"],
                                  timeout=30)
            took = time.monotonic() - t0
        finally:
            c.send_signal(signal.SIGCONT)
        say("cancel of a job on a stopped node: answered %.1fs after, by its "
            "rescue", took)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual((r.data["state"], r.data["attempts"]), ("canceled", 1))
        # Back, n2 ends the process of an attempt no longer its own.
        wait_until(lambda: not pid_running(pid), 10, "the job's process gone")

    def test_events_and_waits_of_other_nodes(self):
        ev = self.open_events(server=self.nodes[0])
        j = self.run_on(self.nodes[1], {"command": "true"})
        states = [e["state"] for e in self.job_events(ev, j["id"])]
        self.assertEqual(states[-1], "succeeded", states)
        # ?wait= on one node for a job that ends on another.
        gate = self.gate()
        j = self.run_on(self.nodes[2], {"command": gate.cmd})
        got = {}

        def wait():
            got["job"] = self.nodes[0].wait(j["id"], 30)
            got["at"] = time.monotonic()
        w = threading.Thread(target=wait)
        w.start()
        gate.open()
        opened = time.monotonic()
        w.join(scaled(40))
        self.assertEqual(got["job"]["state"], "succeeded")
        say("?wait= on n0 for a job that ended on n2: answered %.0f ms after "
            "its gate opened", (got["at"] - opened) * 1000)

    def test_one_idempotency_key_on_three_nodes_makes_one_job(self):
        key = "race-%d" % time.time_ns()
        cmd = "true # %s" % key
        go = threading.Barrier(self.NODES)
        answers = []

        def post(s):
            go.wait()
            answers.append(s.api("POST", "/api/v1/jobs", body={"command": cmd},
                                 headers={"Idempotency-Key": key}))
        threads = [threading.Thread(target=post, args=(s,)) for s in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(scaled(30))
        self.assertEqual(sorted(r.status for r in answers), [200, 200, 201],
                         [r.raw[:200] for r in answers])
        self.assertEqual(len({r.data["id"] for r in answers}), 1)
        self.assertEqual(self.sql("SELECT count(*) FROM jobs WHERE command = "
                                  "'%s'" % cmd), "1")

    def test_delays_and_dependencies_made_on_other_nodes(self):
        # A delayed job whose node leaves: another node's timer runs it.
        n0 = self.nodes[0]
        j = n0.submit({"command": "true", "delay": 1.5})
        self.assertEqual(n0.stop(), 0)
        done = self.nodes[1].wait(j["id"], 15)
        late = epoch(done["started_at"]) - epoch(j["run_at"])
        say("a delayed job of a node that left started %.0f ms after its "
            "run_at, on %s", late * 1000, self.node_of(j["id"]))
        self.assertEqual(done["state"], "succeeded")
        self.assertGreaterEqual(late, 0)
        self.assertLess(late, scaled(TIMEOUT))
        n0.start()
        # A dependency that ends on one node releases a job of another.
        gate = self.gate()
        first = self.run_on(self.nodes[1], {"command": gate.cmd})
        then = self.nodes[2].submit({"command": "true",
                                     "after": [first["id"]]})
        self.assertEqual(then["state"], "scheduled")
        gate.open()
        self.assertEqual(self.nodes[0].wait(then["id"], 15)["state"],
                         "succeeded")

    def test_a_dependent_stored_as_its_dependency_ends_elsewhere_runs(self):
        # One node stores the end of a job while another stores a job
        # that waits for it: whichever commits first, the dependent is
        # released (it used to stay scheduled for ever now and then).
        self.patch_queue("gated", {"concurrency": 2})
        pairs = []
        for k in range(150):
            a = self.nodes[k % 3].submit({"command": "true",
                                          "queue": "gated"})["id"]
            b = self.nodes[(k + 1) % 3].submit({"command": "true",
                                                "after": [a]})["id"]
            pairs.append((a, b))
        for a, b in pairs:
            self.assertEqual(self.nodes[2].wait(b, 30)["state"], "succeeded",
                             (a, b))

    def test_a_node_stopped_under_load_leaves_each_job_run_once(self):
        # SIGTERM while its workers end jobs and claim the next: a job it
        # claimed with an end and can no longer start goes back, its
        # attempt not counted, and the other nodes run the rest.
        n0 = self.nodes[0]
        jobs = n0.submit([{"command": "true"}] * 1500)["jobs"]
        wait_until(lambda: int(self.sql(
            "SELECT count(*) FROM jobs WHERE node = 'n0' AND state = "
            "'succeeded' AND id >= %d" % jobs[0]["id"])) >= 100, 30,
            "n0 at work")
        self.assertEqual(n0.stop(), 0)
        for j in jobs:
            self.assertEqual(self.nodes[1].wait(j["id"], 60)["state"],
                             "succeeded", j["id"])
        self.assertEqual(self.sql(
            "SELECT count(*) FROM jobs WHERE id BETWEEN %d AND %d AND "
            "attempts <> 1" % (jobs[0]["id"], jobs[-1]["id"])), "0")

    def test_workers_and_metrics_show_every_node(self):
        def one_leader():
            r = self.nodes[0].api("GET", "/api/v1/workers")
            return sum(n["leader"] for n in r.data["nodes"]) == 1
        wait_until(one_leader, 10, "one leader")
        for s in self.nodes:
            r = s.api("GET", "/api/v1/workers")
            self.assertEqual(r.status, 200, r.raw)
            self.assertEqual(r.data["node"], s.name)
            self.assertEqual(len(r.data["workers"]), self.WORKERS)
            nodes = {n["id"]: n for n in r.data["nodes"]}
            self.assertEqual(sorted(nodes), ["n0", "n1", "n2"])
            for n in nodes.values():
                self.assertTrue(n["alive"], n)
                self.assertEqual(n["self"], n["id"] == s.name)
                self.assertLess(n["beat_age_seconds"], TIMEOUT)
        m = self.nodes[1].api("GET", "/metrics").raw.decode()
        self.assertIn('runnel_node_info{node="n1"} 1', m)
        for n in ("n0", "n1", "n2"):
            self.assertIn('runnel_cluster_node_up{node="%s"} 1' % n, m)

    def test_killed_node_jobs_rescued_the_others_untouched(self):
        c = self.nodes[2]
        gates = [self.gate(), self.gate()]
        alive = [self.run_on(self.nodes[i], {"command": gates[i].cmd,
                                             "max_attempts": 3})["id"]
                 for i in (0, 1)]
        again = self.run_on(c, {"command": 'if [ "$RUNNEL_ATTEMPT" = 1 ]; then '
                                'sleep 60; fi', "max_attempts": 2})["id"]
        lost = self.run_on(c, {"command": "sleep 60"})["id"]
        c.kill9()
        t0 = time.monotonic()
        j = wait_until(lambda: self.finished(lost), TIMEOUT + 5,
                       "the dead node's job failed")
        took = time.monotonic() - t0
        self.assertEqual((j["state"], j["error"]), ("failed", "node lost"))
        j = self.nodes[0].wait(again, TIMEOUT + 10)
        say("kill -9 of n2: its jobs rescued %.1fs after (--node-timeout %d); "
            "the retried one ran again on %s", took, TIMEOUT,
            self.node_of(again))
        self.assertEqual((j["state"], j["attempts"]), ("succeeded", 2))
        self.assertIn(self.node_of(again), ("n0", "n1"))
        for g in gates:
            g.open()
        for i in alive:
            j = self.nodes[0].wait(i, 10)
            self.assertEqual((j["state"], j["attempts"]), ("succeeded", 1))

    def test_leader_killed_another_node_does_the_chores(self):
        name = wait_until(lambda: self.sql(
            "SELECT node FROM leader WHERE expires_at > now()"), 10, "a leader")
        leader = self.node(name)
        j = self.run_on(leader, {"command": "sleep 60"})["id"]
        leader.kill9()
        t0 = time.monotonic()
        other = self.nodes[(int(name[1:]) + 1) % self.NODES]
        new = wait_until(lambda: (lambda n: n if n not in ("", name) else None)(
            self.sql("SELECT coalesce((SELECT node FROM leader WHERE "
                     "expires_at > now()), '')")), TIMEOUT + 5, "a new leader")
        elected = time.monotonic() - t0
        # Its chore: the dead leader's job, rescued.
        done = wait_until(lambda: self.finished(j, other), TIMEOUT + 5,
                          "the dead leader's job rescued")
        say("kill -9 of the leader %s: %s leads %.1fs after, its job rescued "
            "%.1fs after", name, new, elected, time.monotonic() - t0)
        self.assertEqual((done["state"], done["error"]), ("failed", "node lost"))

    def test_late_end_of_a_rescued_attempt_is_refused(self):
        c = self.nodes[2]
        jid = self.run_on(c, {"command": 'if [ "$RUNNEL_ATTEMPT" = 1 ]; then '
                              'sleep 1; exit 3; fi; echo second',
                              "max_attempts": 2})["id"]
        c.send_signal(signal.SIGSTOP)
        try:
            # Rescued, and run again elsewhere, while n2 sleeps; its own
            # attempt ends meanwhile (its worker is not stopped).
            j = self.nodes[0].wait(jid, TIMEOUT + 10)
        finally:
            c.send_signal(signal.SIGCONT)
        self.assertEqual((j["state"], j["attempts"], j["exit_code"]),
                         ("succeeded", 2, 0), j)
        self.assertIn(self.node_of(jid), ("n0", "n1"))
        wait_until(lambda: b"is refused" in c.log_since_start(), 10,
                   "n2 to refuse its late end of attempt 1")
        wait_until(lambda: self.sql("SELECT count(*) FROM nodes WHERE "
                                    "id = 'n2'") == "1", 10, "n2 to join again")
        self.assertEqual(self.nodes[1].job(jid)["exit_code"], 0)
        # (Output lives on the node that ran the attempt until issue 11's
        # item 7 moves it into the database.)
        ran = self.node(self.node_of(jid))
        self.assertEqual(ran.output(jid), b"second\n")


@postgresql_only("the nodes of a cluster share a PostgreSQL database")
class ClusterWakeTest(Cluster):
    """Two nodes whose tick is 10 s: what happens sooner is a notification."""

    NODES = 2
    NODE_ARGS = ["--node-timeout", "30", "--poll-interval", "10"]

    def test_submit_on_a_busy_node_starts_on_an_idle_one(self):
        a = self.nodes[0]
        gates = [self.gate() for _ in range(self.WORKERS)]
        for g in gates:
            self.run_on(a, {"command": g.cmd})
        self.addCleanup(lambda: [g.release() for g in gates])
        lat = []
        for _ in range(20):
            j = a.submit({"command": "true"})
            j = a.wait(j["id"], 15)
            self.assertEqual(j["state"], "succeeded")
            self.assertEqual(self.node_of(j["id"]), "n1")
            lat.append(epoch(j["started_at"]) - epoch(j["created_at"]))
        say("submitted on busy n0, started on idle n1: p50 %.1f ms, max %.1f ms",
            statistics.median(lat) * 1000, max(lat) * 1000)
        self.assertLess(max(lat), scaled(5), "no faster than the 10 s poll")


@postgresql_only("the nodes of a cluster share a PostgreSQL database")
class ClusterNotifyOffTest(Cluster):
    """--notify off: nothing listens; polling (every 0.2 s here) does it all."""

    NODES = 2
    NODE_ARGS = ["--notify", "off", "--poll-interval", "0.2"]

    def test_polling_alone_dispatches_cancels_and_answers_waits(self):
        a, b = self.nodes
        gates = [self.gate() for _ in range(self.WORKERS)]
        for g in gates:
            self.run_on(a, {"command": g.cmd})
        self.addCleanup(lambda: [g.release() for g in gates])
        j = a.submit({"command": "sleep 60"})
        wait_until(lambda: self.node_of(j["id"]) == "n1", 5,
                   "the job claimed by n1's poll")
        pid = b.wait_running(j["id"])["pid"]
        r = a.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)
        self.assertEqual((r.status, r.data["state"]), (200, "canceled"), r.raw)
        wait_until(lambda: not pid_running(pid), 5, "the job's process gone")


@postgresql_only("the nodes of a cluster share a PostgreSQL database")
class ClusterMaxQueuedTest(Cluster):
    """--max-queued 5 on both nodes: the jobs waiting anywhere count."""

    NODES = 2
    NODE_ARGS = ["--max-queued", "5"]

    def test_max_queued_counts_every_nodes_jobs(self):
        self.patch_queue("full", {"paused": True}, server=self.nodes[0])
        for i in range(5):
            self.nodes[i % 2].submit({"command": "true", "queue": "full"})
        for s in self.nodes:
            r = s.api("POST", "/api/v1/jobs", body={"command": "true",
                                                    "queue": "full"})
            self.assertEqual(r.status, 429, r.raw)
            self.assertIn("Retry-After", r.headers)
        self.patch_queue("full", {"paused": False}, server=self.nodes[1])
        wait_until(lambda: self.nodes[0].stats()["jobs"]["queued"] == 0, 15,
                   "the queue to drain")
        self.nodes[1].submit({"command": "true", "queue": "full"})
