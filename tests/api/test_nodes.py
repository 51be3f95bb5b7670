"""What the API tells of a cluster's nodes (issue 11, item 9).

The job's `node`, the nodes and their worker slots in /api/v1/workers, and
the node and queue figures of /metrics, on a cluster of two nodes (the
helpers of test_cluster.py: PostgreSQL only); on SQLite, that none of it
shows.  A node that stops beating is seen dead, then gone, then back.
"""
import re
import signal
import socket

from harness import (FINISHED, RunnelTestCase, parse_ts, postgresql_only,
                     sqlite_only, wait_until)
from test_cluster import TIMEOUT, Cluster

NODE_KEYS = {"id", "host", "pid", "listen", "workers", "running", "alive",
             "leader", "self", "started_at", "beat_at", "beat_age_seconds",
             "timeout_seconds", "slots"}
SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def exposition(testcase, text):
    """/metrics text as {"name{labels}": value}; fails unless every
    family's samples follow its one TYPE line, together."""
    samples, typed, done = {}, {}, set()
    current = None
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            testcase.assertNotIn(name, typed, "a second TYPE line for " + name)
            typed[name] = kind
            if current:
                done.add(current)
            current = name
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        testcase.assertIsNotNone(m, "not a sample line: %r" % line)
        name = m.group(1)
        family = re.sub(r"_(bucket|sum|count)$", "", name) \
            if typed.get(re.sub(r"_(bucket|sum|count)$", "", name)) == "histogram" else name
        testcase.assertEqual(family, current, "%s: apart from its family (or "
                             "before its TYPE line)" % line)
        testcase.assertNotIn(family, done)
        samples[name + (m.group(2) or "")] = float(m.group(3))
    return samples


class Nodes(Cluster):
    NODES = 2

    def metrics(self, s):
        r = s.api("GET", "/metrics")
        self.assertEqual(r.status, 200)
        return exposition(self, r.raw.decode())

    def workers(self, s):
        r = s.api("GET", "/api/v1/workers")
        self.assertEqual(r.status, 200, r.raw)
        return r.data

    def node_row(self, s, name):
        return next((n for n in self.workers(s)["nodes"] if n["id"] == name), None)


@postgresql_only("the nodes of a cluster share a PostgreSQL database")
class NodesTest(Nodes):

    def test_a_job_names_the_node_of_its_attempt(self):
        a, b = self.nodes
        ev = self.open_events(server=a)
        gate = self.gate()
        j = self.run_on(b, {"command": gate.cmd})
        here = b.wait_running(j["id"])
        self.assertEqual(here["node"], "n1")
        # Another node knows the node and its worker, not the pid.
        there = a.job(j["id"])
        self.assertEqual((there["state"], there["node"], there["worker"],
                          there["pid"]), ("running", "n1", here["worker"], None))
        listed = [x for x in a.api("GET", "/api/v1/jobs?limit=10").data["jobs"]
                  if x["id"] == j["id"]]
        self.assertEqual((listed[0]["node"], listed[0]["pid"]), ("n1", None))
        gate.open()
        for s in self.nodes:
            done = s.wait(j["id"])
            self.assertEqual((done["state"], done["node"], done["worker"],
                              done["pid"]), ("succeeded", "n1", None, None))
        # The events of another node's job carry its node once claimed.
        seen = [(e["state"], e["node"]) for e in self.job_events(ev, j["id"])]
        self.assertEqual(seen[-1], ("succeeded", "n1"), seen)
        for state, node in seen:
            self.assertEqual(node, None if state == "queued" else "n1", seen)

    def test_never_claimed_no_node_a_manual_retry_clears_it(self):
        a, b = self.nodes
        self.patch_queue("later", {"paused": True}, server=a)
        waiting = b.submit({"command": "true", "queue": "later"})
        self.assertIsNone(a.job(waiting["id"])["node"])
        failed = a.wait(self.run_on(a, {"command": "exit 3",
                                        "queue": "again"})["id"])
        self.assertEqual((failed["state"], failed["node"]), ("failed", "n0"))
        self.patch_queue("again", {"paused": True}, server=b)
        r = b.api("POST", "/api/v1/jobs/%d/retry" % failed["id"])
        self.assertEqual((r.status, r.data["state"], r.data["node"]),
                         (200, "queued", None), r.raw)
        for s in self.nodes:
            self.assertIsNone(s.job(failed["id"])["node"])
        self.assertEqual(self.node_of(failed["id"]), "")
        self.patch_queue("again", {"paused": False}, server=a)
        again = b.wait(failed["id"])
        self.assertEqual((again["state"], again["attempts"]), ("failed", 2))
        self.assertIn(again["node"], ("n0", "n1"))
        self.assertEqual(again["node"], self.node_of(failed["id"]))
        self.cancel(waiting["id"])

    def test_workers_lists_every_node_with_its_slots(self):
        a, b = self.nodes
        gate = self.gate()
        j = self.run_on(b, {"command": gate.cmd})
        worker = b.wait_running(j["id"])["worker"]
        leader = wait_until(lambda: self.sql(
            "SELECT node FROM leader WHERE expires_at > now()"), 10, "a leader")
        for s in self.nodes:
            w = self.workers(s)
            self.assertEqual(w["node"], s.name)
            self.assertEqual(len(w["workers"]), self.WORKERS)
            self.assertEqual([n["id"] for n in w["nodes"]], ["n0", "n1"])
            for n in w["nodes"]:
                me = self.node(n["id"])
                self.assertEqual(set(n), NODE_KEYS)
                self.assertEqual((n["host"], n["pid"], n["workers"]),
                                 (socket.gethostname(), me.pid, self.WORKERS))
                self.assertIsNone(n["listen"], "they listen on port 0")
                self.assertEqual((n["alive"], n["self"], n["leader"]),
                                 (True, n["id"] == s.name, n["id"] == leader))
                self.assertLessEqual(parse_ts(n["started_at"]), parse_ts(n["beat_at"]))
                self.assertLess(n["beat_age_seconds"], TIMEOUT)
                self.assertGreaterEqual(n["beat_age_seconds"], 0)
                self.assertEqual(n["timeout_seconds"], TIMEOUT)
                busy = {worker: j["id"]} if n["id"] == "n1" else {}
                self.assertEqual(n["running"], len(busy))
                self.assertEqual(n["slots"], [
                    {"id": i, "state": "busy" if i in busy else "idle",
                     "job": busy.get(i)} for i in range(1, self.WORKERS + 1)])
        gate.open()
        self.assertEqual(a.wait(j["id"])["state"], "succeeded")
        self.assertEqual(self.node_row(a, "n1")["slots"][worker - 1],
                         {"id": worker, "state": "idle", "job": None})

    def test_metrics_have_every_node_and_the_cluster_queues(self):
        a, b = self.nodes
        gate = self.gate()
        j = self.run_on(b, {"command": gate.cmd})
        b.wait_running(j["id"])
        self.patch_queue("depth", {"paused": True}, server=a)
        for i in range(5):
            self.nodes[i % 2].submit({"command": "true", "queue": "depth"})
        b.submit({"command": "true", "queue": "depth", "delay": 3600})
        want = {
            'runnel_cluster_node_up{node="n0"}': 1,
            'runnel_cluster_node_up{node="n1"}': 1,
            'runnel_cluster_node_running{node="n0"}': 0,
            'runnel_cluster_node_running{node="n1"}': 1,
            'runnel_cluster_node_workers{node="n0",state="busy"}': 0,
            'runnel_cluster_node_workers{node="n0",state="idle"}': self.WORKERS,
            'runnel_cluster_node_workers{node="n1",state="busy"}': 1,
            'runnel_cluster_node_workers{node="n1",state="idle"}': self.WORKERS - 1,
            'runnel_queue_depth{queue="depth"}': 5,
            'runnel_queue_jobs{queue="depth",state="scheduled"}': 1,
            'runnel_queue_jobs{queue="depth",state="queued"}': 5,
            'runnel_queue_jobs{queue="depth",state="running"}': 0,
            'runnel_queue_jobs{queue="default",state="running"}': 1,
        }
        leaders = 0
        for s in self.nodes:
            # (the cluster's counts are at most 0.25 s old)
            m = wait_until(lambda: (lambda m: m if all(
                m.get(k) == v for k, v in want.items()) else None)(
                    self.metrics(s)), 5, "%s's figures" % s.name)
            self.assertEqual(m['runnel_node_info{node="%s"}' % s.name], 1)
            for n in ("n0", "n1"):
                age = m['runnel_cluster_node_beat_age_seconds{node="%s"}' % n]
                self.assertTrue(0 <= age < TIMEOUT, age)
            leaders += m["runnel_cluster_leader"]
        self.assertEqual(leaders, 1)
        gate.open()
        self.assertEqual(a.wait(j["id"])["state"], "succeeded")
        wait_until(lambda: self.metrics(a).get(
            'runnel_cluster_node_workers{node="n1",state="busy"}') == 0, 5,
            "n1's worker idle again in n0's figures")


@postgresql_only("the nodes of a cluster share a PostgreSQL database")
class NodeDeathTest(Nodes):
    """n0 leads and looks around every 10 s only: n1, silent for longer
    than its 3 s, shows dead until n0's next look removes it."""

    @classmethod
    def node_args(cls, i):
        return ["--node-timeout", "30", "--poll-interval", "10"] if i == 0 else []

    def test_a_silent_node_shows_dead_then_goes_then_comes_back(self):
        a, b = self.nodes
        self.assertTrue(self.node_row(a, "n0")["leader"])
        lost = self.run_on(b, {"command": "sleep 60"})["id"]
        b.wait_running(lost)
        # Right after n0's look (its heartbeat moved), n1 stops: dead 3 s
        # later, removed at n0's next look, 10 s after this one.
        was = self.sql("SELECT beat_at FROM nodes WHERE id = 'n0'")
        wait_until(lambda: self.sql("SELECT beat_at FROM nodes WHERE id = "
                                    "'n0'") != was, 25, "n0 to beat")
        b.send_signal(signal.SIGSTOP)
        self.addCleanup(lambda: b.proc.send_signal(signal.SIGCONT))
        dead = wait_until(lambda: (lambda n: n if n and not n["alive"] else None)(
            self.node_row(a, "n1")), TIMEOUT + 2, "n1 dead in /workers")
        self.assertGreaterEqual(dead["beat_age_seconds"], TIMEOUT)
        self.assertEqual([x["job"] for x in dead["slots"] if x["job"]], [lost])
        m = self.metrics(a)
        self.assertEqual(m['runnel_cluster_node_up{node="n1"}'], 0)
        self.assertEqual(m['runnel_cluster_node_up{node="n0"}'], 1)
        self.assertGreaterEqual(
            m['runnel_cluster_node_beat_age_seconds{node="n1"}'], TIMEOUT)
        # Removed: its job rescued; neither /workers nor /metrics has it.
        wait_until(lambda: self.node_row(a, "n1") is None, 15, "n1 removed")
        self.assertNotIn('runnel_cluster_node_up{node="n1"}', self.metrics(a))
        j = wait_until(lambda: (lambda j: j if j["state"] in FINISHED else None)(
            a.job(lost)), 5, "n1's job rescued")
        self.assertEqual((j["state"], j["error"], j["node"]),
                         ("failed", "node lost", "n1"))
        # Back, n1 finds itself removed and joins again.
        b.send_signal(signal.SIGCONT)
        back = wait_until(lambda: (lambda n: n if n and n["alive"] else None)(
            self.node_row(a, "n1")), 10, "n1 back")
        self.assertEqual(back["slots"], [{"id": i, "state": "idle", "job": None}
                                         for i in range(1, self.WORKERS + 1)])


@sqlite_only("a single SQLite node has no nodes")
class SingleNodeTest(RunnelTestCase):

    def test_nothing_of_a_cluster_shows(self):
        j = self.run_job({"command": "true"})
        self.assertIsNone(j["node"])
        r = self.api("GET", "/api/v1/workers")
        self.assertEqual(set(r.data), {"workers"})
        m = exposition(self, self.api("GET", "/metrics").raw.decode())
        self.assertEqual([k for k in m if "cluster" in k or "node" in k], [])
        self.assertEqual(m['runnel_queue_jobs{queue="default",state="queued"}'], 0)
        self.assertEqual(m['runnel_queue_jobs{queue="default",state="running"}'], 0)
