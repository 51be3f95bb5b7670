"""GET /api/v1/events: the Server-Sent Events stream of job changes."""
from harness import RunnelTestCase


class EventsTest(RunnelTestCase):
    WORKERS = 2

    def open_events(self):
        ev = self.server.events()
        self.addCleanup(ev.close)
        self.assertEqual(ev.status, 200)
        self.assertTrue(ev.headers.get("content-type", "").startswith("text/event-stream"),
                        ev.headers)
        first = ev.next(10)
        self.assertEqual(first["retry"], "2000", first)
        self.assertTrue(first["comments"] or ev.next(10)["comments"],
                        "a comment follows the retry line")
        return ev

    def states_of(self, ev, jid, until, timeout=15):
        """The states the stream reports for job jid, up to a state in until."""
        states, seqs = [], []
        while True:
            e = ev.next_job_event(lambda e: e["event"] == "job" and
                                  e["json"]["id"] == jid, timeout)
            self.assertIsNotNone(e["id"], "every event has an id")
            seqs.append(int(e["id"]))
            self.assertJobShape(e["json"])
            states.append(e["json"]["state"])
            if e["json"]["state"] in until:
                return states, seqs, e["json"]

    def test_lifecycle_of_a_job(self):
        ev = self.open_events()
        self.idle()
        j = self.submit({"command": "echo hi"})
        states, seqs, last = self.states_of(ev, j["id"], ("succeeded", "failed"))
        self.assertEqual(states, ["queued", "running", "succeeded"])
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        self.assertEqual(last["exit_code"], 0)
        self.assertEqual(last["stdout_bytes"], 3)

    def test_failed_job(self):
        ev = self.open_events()
        self.idle()
        j = self.submit({"command": "exit 4"})
        states, _, last = self.states_of(ev, j["id"], ("succeeded", "failed"))
        self.assertEqual(states, ["queued", "running", "failed"])
        self.assertEqual(last["error"], "exit status 4")

    def test_cancel_and_delete(self):
        ev = self.open_events()
        self.idle()
        j = self.submit({"command": "sleep 1000"})
        self.cancel_later(j["id"])
        states, _, _ = self.states_of(ev, j["id"], ("running",))
        self.assertEqual(states, ["queued", "running"])
        r = self.api("POST", "/api/v1/jobs/%d/cancel" % j["id"], timeout=30)
        self.assertEqual(r.status, 200)
        states, _, last = self.states_of(ev, j["id"], ("canceled",))
        self.assertEqual(states, ["canceled"])
        self.assertEqual(last["error"], "canceled")
        r = self.api("DELETE", "/api/v1/jobs/%d" % j["id"])
        self.assertEqual(r.status, 204)
        e = ev.next_job_event(lambda e: e["event"] == "deleted", 15)
        self.assertEqual(e["json"], {"id": j["id"]})
        self.assertIsNotNone(e["id"])

    def test_every_job_of_a_batch_is_announced(self):
        ev = self.open_events()
        r = self.api("POST", "/api/v1/jobs", body=[{"command": "true"}] * 5)
        ids = [j["id"] for j in r.data["jobs"]]
        finished = set()
        while finished != set(ids):
            e = ev.next_job_event(lambda e: e["event"] == "job" and
                                  e["json"]["id"] in ids and
                                  e["json"]["state"] == "succeeded", 15)
            finished.add(e["json"]["id"])

    def test_two_subscribers_see_the_same_events(self):
        a, b = self.open_events(), self.open_events()
        j = self.submit({"command": "true"})
        sa, qa, _ = self.states_of(a, j["id"], ("succeeded",))
        sb, qb, _ = self.states_of(b, j["id"], ("succeeded",))
        self.assertEqual(sa, sb)
        self.assertEqual(qa, qb)
