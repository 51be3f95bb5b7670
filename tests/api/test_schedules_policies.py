"""Schedules' policies: overlap (allow, skip, queue, cancel) with a job
that outlasts its period ("sleep 3" on "@every 1s"), and misfire (skip,
once, all) over a downtime of runneld of ~4 s with --misfire-grace 1.

The schedule resource itself is in test_schedules.py.
"""
import time

import harness_pg
from harness import (BASE_ARGS, allowance, postgresql_only, sqlite_only,
                     wait_until)
from sched_util import ScheduleCase, ms

SLEEP = {"command": "exec sleep 3"}


def overlaps(a, b):
    """Whether jobs a and b (a made first) ran at one time."""
    if a["started_at"] is None or b["started_at"] is None:
        return False
    end = ms(a["finished_at"]) if a["finished_at"] else float("inf")
    return ms(b["started_at"]) < end


class OverlapTest(ScheduleCase):
    WORKERS = 4

    def finished_jobs(self, sid, n, timeout=40):
        """The first n jobs of sid once all n are finished."""
        jobs = self.wait_jobs(sid, n, timeout)[:n]
        done = self.wait_all([j["id"] for j in jobs], timeout)
        return [dict(done[j["id"]], sf=j["sf"]) for j in jobs]

    def test_allow_makes_a_job_per_tick_while_the_last_runs(self):
        sc = self.every("allow", SLEEP, overlap="allow")
        jobs = self.wait_jobs(sc["id"], 4, 30)
        self.assertConsecutive(jobs)
        self.assertEqual(jobs[0]["sf"], ms(sc["created_at"]) + 1000)
        done = self.finished_jobs(sc["id"], 3)
        for j in done:
            self.assertEqual(j["state"], "succeeded", j)
        self.assertTrue(overlaps(done[0], done[1]), "allow: the second tick's job "
                        "waited for the first: %r" % done[:2])

    def test_skip_drops_ticks_while_the_last_job_runs(self):
        sc = self.every("skip", SLEEP, overlap="skip")
        done = self.finished_jobs(sc["id"], 3)
        self.assertNoDuplicateTicks(done)
        for a, b in zip(done, done[1:]):
            self.assertEqual(a["state"], "succeeded", a)
            self.assertGreaterEqual(ms(b["created_at"]), ms(a["finished_at"]),
                                    "skip: a job made while the last ran: %r %r" % (a, b))
            self.assertGreaterEqual(b["sf"] - a["sf"], 3000, (a, b))
            self.assertEqual((b["sf"] - a["sf"]) % 1000, 0, "a tick's time")
            # the first tick after the last job ended, not a later one
            self.assertLess(b["sf"] - 1000, ms(a["finished_at"]) + 1, (a, b))
        self.assertIsNone(self.sched(sc["id"])["waiting"])

    def test_queue_owes_one_run_and_makes_it_when_the_last_ends(self):
        sc = self.every("queue", SLEEP, overlap="queue")
        first = self.wait_jobs(sc["id"], 1)[0]
        owed = wait_until(lambda: self.sched(sc["id"])["waiting"], 10,
                          "a tick owed while the first job runs")
        self.assertEqual(ms(owed), first["sf"] + 1000,
                         "the first tick while it runs is owed")
        cur = self.sched(sc["id"])
        self.assertEqual(cur["last_job"]["id"], first["id"], cur)
        self.assertEqual(len(self.jobs_of(sc["id"])), 1, "queue: a job made "
                         "while the last runs")
        done = self.finished_jobs(sc["id"], 3)
        self.assertEqual(done[1]["sf"], first["sf"] + 1000, done[1])
        self.assertNoDuplicateTicks(done)
        for a, b in zip(done, done[1:]):
            self.assertEqual(a["state"], "succeeded", a)
            self.assertFalse(overlaps(a, b), "queue: ran at once: %r %r" % (a, b))
            made, ended = ms(b["created_at"]), ms(a["finished_at"])
            self.assertGreaterEqual(made, ended, (a, b))
            self.assertLessEqual(made - ended, 1000 * allowance(0.3),
                                 "the owed run made %d ms after the last "
                                 "ended" % (made - ended))
            # a tick owed while a ran: not one after it ended
            self.assertGreater(b["sf"], a["sf"])
            self.assertLessEqual(b["sf"], ended, (a, b))

    def test_a_run_owed_before_a_kill9_is_made_once_after_it(self):
        s = self.server
        sc = self.every("queue-kill9", {"command": "exec sleep 30"}, overlap="queue")
        first = self.wait_jobs(sc["id"], 1)[0]
        running = s.wait_running(first["id"])
        self.track_pid(running["pid"])
        owed = ms(wait_until(lambda: self.sched(sc["id"])["waiting"], 10,
                             "a tick owed"))
        s.kill9()
        s.start()
        # the running job ends with the restart; the owed run is made then
        self.assertEqual(s.wait(first["id"])["state"], "failed")
        jobs = self.wait_jobs(sc["id"], 2, 20)
        self.assertEqual(jobs[1]["sf"], owed, jobs[1])
        self.cancel_later(jobs[1]["id"])
        wait_until(lambda: self.sched(sc["id"])["waiting"], 10, "the next tick owed")
        self.patch(sc["id"], {"paused": True})
        jobs = self.ticked(sc["id"])
        self.assertEqual([j["sf"] for j in jobs], [first["sf"], owed], jobs)

    def test_cancel_cancels_the_running_job_for_the_new_one(self):
        sc = self.every("cancel", SLEEP, overlap="cancel")
        jobs = self.wait_jobs(sc["id"], 4, 30)
        self.assertConsecutive(jobs)
        done = [self.wait(j["id"], 30) for j in jobs[:3]]
        for a, b in zip(done, done[1:]):
            self.assertEqual(a["state"], "canceled", "cancel: the last job "
                             "was not canceled by the next tick: %r" % a)
            self.assertLessEqual(ms(a["finished_at"]), ms(b["created_at"]) +
                                 1000 * allowance(2.0), (a, b))

    def test_a_tick_for_a_finished_job_makes_a_job_under_every_policy(self):
        # "true" ends well before the next tick: no policy drops a tick
        for policy in ("skip", "queue", "cancel"):
            sc = self.every("quick-" + policy, overlap=policy)
            jobs = self.wait_jobs(sc["id"], 4, 30)
            self.assertConsecutive(jobs)
            self.patch(sc["id"], {"paused": True})
            for j in self.wait_all([j["id"] for j in jobs]).values():
                self.assertEqual(j["state"], "succeeded", j)


class MisfireTest(ScheduleCase):
    """runneld stopped for ~4 s; --misfire-grace 1: the ticks of the
    downtime are missed, those within 1 s of the first pass are not."""
    WORKERS = 2
    SERVER_ARGS = BASE_ARGS + ["--misfire-grace", "1"]

    def downtime(self, policy, stop=None):
        """(jobs before the stop, jobs after, restart time in ms)."""
        s = self.server
        sc = self.every("misfire-%s-%s" % (policy, "kill9" if stop else "stop"),
                        misfire=policy)
        self.wait_jobs(sc["id"], 2, 20)
        (stop or (lambda: self.assertEqual(s.stop(), 0)))()
        stopped = self.now_ms()
        self.wait_for_time(time.time() + 4, "ticks while runneld is down")
        started = self.now_ms()
        s.start()
        up = self.now_ms()
        jobs = self.wait_jobs(sc["id"], 3, 20, pred=lambda j: j["sf"] > up)
        before = [j for j in jobs if ms(j["created_at"]) <= stopped]
        self.assertGreaterEqual(len(before), 2)
        self.assertEqual(jobs[:len(before)], before)
        self.assertConsecutive(before)
        return before, jobs[len(before):], started

    def test_all_makes_a_job_for_every_missed_tick(self):
        before, after, started = self.downtime("all")
        self.assertConsecutive(before + after)
        self.assertGreaterEqual(after[0]["sf"] - before[-1]["sf"], 1000)
        missed = [j for j in after if j["sf"] < started - 1000]
        self.assertGreaterEqual(len(missed), 2, "the downtime's ticks: %r" % [
            j["scheduled_for"] for j in after])

    def test_all_over_a_kill9(self):
        before, after, started = self.downtime("all", self.server.kill9)
        self.assertConsecutive(before + after)

    def test_once_makes_one_job_for_the_missed_ticks(self):
        before, after, started = self.downtime("once")
        gap = after[0]["sf"] - before[-1]["sf"]
        self.assertGreaterEqual(gap, 4000, "once: more than one job for the "
                                "missed ticks, or one for an early one: %r" % [
                                    j["scheduled_for"] for j in before + after])
        # the latest tick due: the one before it was within the downtime
        self.assertGreaterEqual(after[0]["sf"], started - 1000, after[0])
        self.assertConsecutive(after)

    def test_skip_makes_no_job_for_missed_ticks(self):
        before, after, started = self.downtime("skip")
        late = [j["scheduled_for"] for j in after if j["sf"] < started - 1000]
        self.assertEqual(late, [], "skip: jobs for ticks missed by more than "
                         "the grace (restart at %d)" % started)
        self.assertConsecutive(after)
        self.assertGreaterEqual(after[0]["sf"] - before[-1]["sf"], 4000)

    def test_ticks_within_the_grace_are_not_missed(self):
        # a stop shorter than the grace (1 s) misses nothing, whatever
        # the policy
        s = self.server
        sc = self.every("misfire-brief", misfire="skip")
        self.wait_jobs(sc["id"], 2, 20)
        last = self.ticked(sc["id"])[-1]["sf"] / 1000.0
        # stopped just after a tick, started before the next one is 1 s late
        self.assertEqual(s.stop(), 0)
        s.start()
        if time.time() < last + 1.9:
            up = self.now_ms()
            jobs = self.wait_jobs(sc["id"], 2, 20, pred=lambda j: j["sf"] > up)
            self.assertConsecutive(jobs)
        else:
            self.skipTest("runneld took too long to restart for this check")


@sqlite_only("a cluster node keeps its database's clock: moving its own "
             "clock on does not make the database's ticks late")
class LongDowntimeTest(ScheduleCase):
    """runneld back after two days (its clock moved on by
    RUNNEL_TEST_CLOCK_OFFSET_MS): 172 800 ticks of "@every 1s" were missed,
    more than runneld walks one by one; "all" makes jobs for the latest 100
    of them, "once" one for the latest."""
    WORKERS = 2
    SERVER_ARGS = BASE_ARGS + ["--misfire-grace", "1"]
    DOWN_MS = 2 * 86400 * 1000

    def back_after_two_days(self, policy):
        s = self.server
        sc = self.every("down-" + policy, misfire=policy)
        self.wait_jobs(sc["id"], 2, 20)
        self.assertEqual(s.stop(), 0)
        # two days on from wherever its clock is now (a test before may
        # have moved it already)
        key = "RUNNEL_TEST_CLOCK_OFFSET_MS"
        s.env[key] = str(int(s.env.get(key, "0")) + self.DOWN_MS)
        s.start()

        def split():
            # the jobs before the stop, and those after the gap
            js = self.ticked(sc["id"])
            cut = [i for i in range(1, len(js))
                   if js[i]["sf"] - js[i - 1]["sf"] > self.DOWN_MS / 2]
            return (js[:cut[0]], js[cut[0]:]) if cut else None
        before, after = wait_until(split, 20, "jobs after the two days")
        # the catch-up is one pass: the ticks due when its first job was made
        made = ms(after[0]["created_at"])
        return before, [j for j in after if j["sf"] <= made], made

    def test_all_makes_the_latest_100_of_two_days_of_ticks(self):
        before, caught, made = self.back_after_two_days("all")
        self.assertEqual(len(caught), 100, [j["scheduled_for"] for j in caught])
        self.assertConsecutive(caught)
        self.assertLessEqual(made - caught[-1]["sf"], 1000 + 1000, caught[-1])
        self.assertGreater(caught[0]["sf"] - before[-1]["sf"],
                           self.DOWN_MS - 200 * 1000)

    def test_once_makes_one_job_for_the_latest_tick_of_two_days(self):
        before, caught, made = self.back_after_two_days("once")
        self.assertEqual(len(caught), 1, [j["scheduled_for"] for j in caught])
        self.assertLessEqual(made - caught[0]["sf"], 1000 + 1000, caught[0])
        self.assertGreaterEqual(caught[0]["sf"] - before[-1]["sf"],
                                self.DOWN_MS - 1000)


@postgresql_only("nodes sharing one database")
class ClusterScheduleTest(ScheduleCase):
    """Three nodes on one database: only the leader fires, a tick once;
    the leader killed, the next one goes on with no tick lost or doubled
    (a takeover of seconds is within the default grace of 60 s)."""
    START_SERVER = False
    NODES = 3
    TIMEOUT = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = harness_pg.url_of(harness_pg.create())
        cls.nodes = [cls.new_server(
            "n%d" % i, database=cls.url,
            args=BASE_ARGS + ["--node-id", "n%d" % i, "--node-timeout",
                              str(cls.TIMEOUT)]) for i in range(cls.NODES)]
        for s in cls.nodes:
            s.start()
        cls.server = cls.nodes[0]

    def leader(self):
        """The node leading now, once there is one."""
        name = wait_until(lambda: harness_pg.psql(
            self.url, "SELECT coalesce((SELECT node FROM leader WHERE "
            "expires_at > now()), '')"), self.TIMEOUT + 10, "a leader")
        return self.nodes[int(name[1:])]

    def test_one_job_per_tick_across_nodes_and_a_leader_kill9(self):
        lead = self.leader()
        others = [n for n in self.nodes if n is not lead]
        # made and watched through a node that is not the leader
        type(self).server = others[0]
        sc = self.every("cluster")
        self.wait_jobs(sc["id"], 4, 30)
        lead.kill9()
        killed = self.now_ms()
        new = wait_until(lambda: (lambda n: n if n is not lead else None)(
            self.leader()), self.TIMEOUT + 10, "another leader")
        self.assertIn(new, others)
        jobs = self.wait_jobs(sc["id"], 3, 30, pred=lambda j: j["sf"] > killed +
                              1000 * (self.TIMEOUT + 1))
        self.assertEqual(jobs[0]["sf"], ms(sc["created_at"]) + 1000)
        self.assertConsecutive(jobs)
        for j in jobs:
            self.assertEqual(j["schedule_id"], sc["id"])
        lead.start()
        jobs = self.wait_jobs(sc["id"], len(jobs) + 3, 30)
        self.assertConsecutive(jobs)
        self.patch(sc["id"], {"paused": True})

    def test_patches_on_another_node_do_not_make_a_tick_fire_twice(self):
        # A PATCH that does not replan (here: the template) must leave the
        # leader's bookkeeping (next tick, last job) as the leader wrote it.
        lead = self.leader()
        other = [n for n in self.nodes if n is not lead][0]
        type(self).server = other
        sc = self.every("cluster-patch")
        end = time.monotonic() + 8
        k = 0
        while time.monotonic() < end:
            k += 1
            r = other.api("PATCH", "/api/v1/schedules/%d" % sc["id"],
                          body={"job": {"command": "true", "name": "p%d" % (k % 2)}})
            self.assertEqual(r.status, 200, r.raw[:300])
        self.patch(sc["id"], {"paused": True})
        jobs = self.ticked(sc["id"])
        self.assertGreaterEqual(len(jobs), 5)
        self.assertConsecutive(jobs)
