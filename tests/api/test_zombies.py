"""Many jobs of every ending leave no zombie and nothing in scratch directories."""
import os

from harness import RunnelTestCase, proc_state, wait_until, zombies_of

KINDS = [
    ({"command": "true"}, "succeeded"),
    ({"argv": ["true"]}, "succeeded"),
    ({"command": "exit 1"}, "failed"),
    ({"command": "kill -9 $$"}, "failed"),
    ({"command": "sleep 0 & true"}, "succeeded"),		# child outlives nobody
    ({"command": "sleep 30 & echo left"}, "succeeded"),		# child left running
    ({"command": "(sleep 30 &) ; true"}, "succeeded"),		# orphaned grandchild
    ({"command": "sh -c 'sleep 30 & exit 0' & wait"}, "succeeded"),
    ({"command": "echo x >&2; exit 2"}, "failed"),
    ({"argv": ["/nonexistent/xyzzy"]}, "failed"),
]


class ZombieTest(RunnelTestCase):
    WORKERS = 2

    def test_no_zombies_after_500_jobs(self):
        specs = [KINDS[i % len(KINDS)][0] for i in range(500)]
        r = self.api("POST", "/api/v1/jobs", body=specs)
        self.assertEqual(r.status, 201, r.raw[:200])
        ids = [j["id"] for j in r.data["jobs"]]
        for i, jid in enumerate(ids):
            done = self.wait(jid, 60)
            self.assertEqual(done["state"], KINDS[i % len(KINDS)][1], done)

        runneld = self.server.pid
        workers = self.server.worker_pids()
        self.assertEqual(len(workers), 2)

        def no_zombies():
            found = {p: zombies_of(p) for p in [runneld] + workers}
            return all(not z for z in found.values()) or None
        wait_until(no_zombies, 5, "no zombie children of runneld %d or its workers %s" %
                   (runneld, workers))
        # the workers that ran all this are the original ones, alive
        for p in workers:
            self.assertNotIn(proc_state(p), (None, "Z"))
        # each worker keeps one scratch directory, holding nothing between
        # jobs but its empty spare: every job's own directory went after it
        scratch = os.path.join(self.server.data, "scratch")
        if os.path.isdir(scratch):
            for d in os.listdir(scratch):
                self.assertRegex(d, r"^w\d+$", "unexpected entry in scratch/")
                w = os.path.join(scratch, d)
                wait_until(lambda: set(os.listdir(w)) <= {".next"}, 10,
                           "scratch/%s to hold no job's directory" % d)
                if os.path.isdir(os.path.join(w, ".next")):
                    self.assertEqual(os.listdir(os.path.join(w, ".next")), [])
