"""Cluster mode: stored times follow the database's clock (issue 11).

Two nodes on one database, one of them on a host whose clock is an hour
ahead (RUNNEL_TEST_CLOCK_OFFSET_MS stands for that host).  A node aligns
its clock with the database's at every heartbeat, so the times it
stores (created_at, run_at, started_at) agree with the other node's and
a delayed job it accepts runs when it is due, not an hour early or late.
"""
import harness_pg
from harness import (BASE_ARGS, RunnelTestCase, epoch, postgresql_only,
                     wait_until)

HOUR_MS = 3600 * 1000


@postgresql_only("the nodes of a cluster share a PostgreSQL database")
class ClockTest(RunnelTestCase):

    START_SERVER = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = harness_pg.url_of(harness_pg.create())
        args = BASE_ARGS + ["--node-timeout", "3"]
        cls.right = cls.new_server("right", database=cls.url,
                                   args=args + ["--node-id", "right"])
        cls.ahead = cls.new_server(
            "ahead", database=cls.url, args=args + ["--node-id", "ahead"],
            env={"RUNNEL_TEST_CLOCK_OFFSET_MS": str(HOUR_MS)})
        cls.right.start()
        cls.ahead.start()
        cls.server = cls.right

    def db_now(self):
        return float(harness_pg.psql(
            self.url, "SELECT extract(epoch FROM clock_timestamp())"))

    def test_a_node_whose_clock_is_off_stores_the_databases_time(self):
        before = self.db_now()
        j = self.ahead.submit({"command": "true"})
        after = self.db_now()
        created = epoch(j["created_at"])
        self.assertGreaterEqual(created, before - 1)
        self.assertLessEqual(created, after + 1)
        self.assertRegex(self.ahead.log(), rb"clock is \+3[56]\d{5} ms off")

    def test_a_delayed_job_runs_when_due_whichever_node_took_it(self):
        for taker in (self.ahead, self.right):
            j = taker.submit({"command": "true", "delay": 2})
            done = self.right.wait(j["id"], 30)
            self.assertEqual(done["state"], "succeeded")
            waited = epoch(done["started_at"]) - epoch(done["created_at"])
            self.assertGreaterEqual(waited, 1.9, taker.name)
            self.assertLess(waited, 10, taker.name)
            self.assertLess(abs(epoch(done["started_at"]) - self.db_now()), 30)

    def test_run_times_follow_the_databases_clock_on_either_node(self):
        # 8 jobs of half a second on 2 + 2 workers: both nodes run some.
        # A worker reads its host's clock; the node stores its times in
        # the database's, so that started_at never comes after finished_at.
        before = self.db_now()
        ids = [self.right.submit({"command": "sleep 0.5"})["id"] for _ in range(8)]
        done = [self.right.wait(i, 30) for i in ids]
        after = self.db_now()
        for j in done:
            self.assertEqual(j["state"], "succeeded", j)
            started, finished = epoch(j["started_at"]), epoch(j["finished_at"])
            self.assertLessEqual(started, finished, j)
            self.assertGreaterEqual(started, before - 1, j)
            self.assertLessEqual(finished, after + 1, j)
