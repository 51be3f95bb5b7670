"""Retention: --retain-finished and --retain-max-jobs delete old finished
jobs with their output and files, and nothing else."""
import glob
import os
import urllib.parse

from harness import BASE_ARGS, FINISHED, RunnelTestCase, epoch, scaled, wait_until


class RetentionTest(RunnelTestCase):
    """Each test starts its own runnelds on one data directory: the
    retention timer runs 1 s after a start."""
    START_SERVER = False
    WORKERS = 1

    def start(self, name, data=None, extra=()):
        s = self.new_server(name, data=data, args=BASE_ARGS + list(extra))
        s.start()
        return s

    def finish(self, s, specs):
        jobs = [s.submit(spec) for spec in specs]
        out = []
        for j in jobs:
            d = s.wait(j["id"], 30)
            self.assertIn(d["state"], FINISHED, d)
            out.append(d)
        return out

    def upload(self, s, name):
        r = s.api("POST", "/api/v1/uploads?" + urllib.parse.urlencode(
            {"name": name, "command": "cat"}), raw=b"uploaded bytes\n",
            headers={"Content-Type": "application/octet-stream"})
        self.assertEqual(r.status, 201, r.raw)
        d = s.wait(r.data["id"], 30)
        self.assertEqual(d["state"], "succeeded", d)
        return d

    def files_of(self, s, jid):
        return self.output_files(jid, s) + glob.glob(
            os.path.join(s.data, "files", "%d" % jid))

    def test_retain_finished_removes_old_jobs_and_their_files(self):
        s = self.start("age1")
        noisy = {"command": "echo out; echo err >&2"}
        old = self.finish(s, [noisy, {"command": "echo x; exit 3"}, noisy])
        old.append(self.upload(s, "old.txt"))
        old_retry = s.submit({"command": "echo a $RUNNEL_ATTEMPT; exit 1",
                              "max_attempts": 2})
        old.append(s.wait(old_retry["id"]))
        self.assertEqual(old[-1]["attempts"], 2)
        waiting = s.submit({"command": "true", "delay": 3600})
        self.patch_queue("held", {"paused": True}, server=s)
        held = s.submit({"command": "true", "queue": "held"})
        for d in old:
            self.assertTrue(self.files_of(s, d["id"]), d)
        gap = scaled(4)
        self.wait_for_time(max(epoch(d["finished_at"]) for d in old) + gap)
        new = self.finish(s, [noisy, noisy])
        new.append(self.upload(s, "new.txt"))
        self.assertEqual(s.stop(), 0)
        # old ones are >= gap old; new ones ~ a restart plus 1 s old
        retain = 1 + scaled(2)
        s2 = self.start("age2", s.data, ["--retain-finished", "%g" % retain])
        wait_until(lambda: all(self.job_gone(d["id"], s2) for d in old), 15,
                   "the old finished jobs to be deleted")
        # the files go on a thread, right after the commit that deleted
        # the jobs: waited for, with a deadline
        wait_until(lambda: not any(self.files_of(s2, d["id"]) for d in old), 5,
                   "the files of the deleted jobs to be removed")
        for d in new:
            self.assertEqual(s2.job(d["id"])["state"], d["state"])
            self.assertTrue(self.files_of(s2, d["id"]), d)
        self.assertEqual(s2.output(new[0]["id"]), b"out\n")
        self.assertEqual(s2.job(waiting["id"])["state"], "scheduled")
        self.assertEqual(s2.job(held["id"])["state"], "queued")
        js = self.stats_jobs(s2)
        self.assertEqual(js["succeeded"] + js["failed"] + js["canceled"], len(new), js)
        s2.api("POST", "/api/v1/jobs/%d/cancel" % waiting["id"])
        s2.api("POST", "/api/v1/jobs/%d/cancel" % held["id"])

    def sequential(self, s, n, cmd="echo $RUNNEL_JOB_ID; sleep 0.01"):
        """n jobs finished one after the other (distinct finished_at)."""
        out = []
        for _ in range(n):
            out.append(self.finish(s, [{"command": cmd}])[0])
        for a, b in zip(out, out[1:]):
            self.assertLess(epoch(a["finished_at"]), epoch(b["finished_at"]))
        return out

    def test_retain_max_jobs_keeps_the_newest(self):
        s = self.start("max1")
        done = self.sequential(s, 6)
        waiting = s.submit({"command": "true", "delay": 3600})
        self.assertEqual(s.stop(), 0)
        s2 = self.start("max2", s.data, ["--retain-max-jobs", "3"])
        wait_until(lambda: all(self.job_gone(d["id"], s2) for d in done[:3]), 15,
                   "the 3 oldest finished jobs to be deleted")
        wait_until(lambda: not any(self.files_of(s2, d["id"]) for d in done[:3]), 5,
                   "the files of the deleted jobs to be removed")
        for d in done[3:]:
            self.assertEqual(s2.job(d["id"])["state"], "succeeded",
                             "one of the 3 newest was deleted")
            self.assertTrue(self.files_of(s2, d["id"]))
        self.assertEqual(s2.job(waiting["id"])["state"], "scheduled",
                         "unfinished jobs do not count and stay")
        s2.api("POST", "/api/v1/jobs/%d/cancel" % waiting["id"])

    def test_age_and_count_together_delete_only_what_is_past_them(self):
        s = self.start("both1")
        old = self.sequential(s, 3)
        gap = scaled(4)
        self.wait_for_time(epoch(old[-1]["finished_at"]) + gap)
        new = self.sequential(s, 7)
        self.assertEqual(s.stop(), 0)
        retain = 1 + scaled(2)
        s2 = self.start("both2", s.data, ["--retain-finished", "%g" % retain,
                                          "--retain-max-jobs", "5"])
        # expected: the 3 old ones by age, then the 2 oldest of the 7 new
        # ones by count: 5 remain, the newest
        wait_until(lambda: all(self.job_gone(d["id"], s2) for d in old + new[:2]), 15,
                   "old jobs and the surplus to be deleted")
        kept = [d["id"] for d in new if not self.job_gone(d["id"], s2)]
        self.assertEqual(kept, [d["id"] for d in new[2:]],
                         "--retain-finished %g --retain-max-jobs 5 should keep the "
                         "5 newest finished jobs" % retain)
