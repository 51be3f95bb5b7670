"""POST /api/v1/schedules?dry_run=1: the schedule a body would make, stored
nowhere (the dashboard's live preview of the next fire times)."""
from harness import RunnelTestCase, epoch


class SchedulesDryRunTest(RunnelTestCase):
    WORKERS = 1

    def body(self, cron, **more):
        b = {"name": "preview", "cron": cron, "job": {"command": "true"}}
        b.update(more)
        return b

    def schedules(self):
        r = self.api("GET", "/api/v1/schedules")
        self.assertEqual(r.status, 200, r.raw)
        return r.data["schedules"]

    def test_a_dry_run_answers_the_schedule_with_five_next_runs_and_stores_nothing(self):
        before = self.server.total()
        r = self.api("POST", "/api/v1/schedules?dry_run=1", body=self.body("*/5 * * * *"))
        self.assertEqual(r.status, 200, r.raw)
        s = r.data
        self.assertEqual(s["id"], 0)
        self.assertEqual(s["name"], "preview")
        self.assertEqual(s["cron"], "*/5 * * * *")
        self.assertEqual(s["timezone"], "UTC")
        self.assertEqual(s["job"], {"command": "true"})
        self.assertIsNone(s["last_job"])
        self.assertNotIn("Location", r.headers)
        runs = [epoch(t) for t in s["next_runs"]]
        self.assertEqual(len(runs), 5, s)
        for a, b in zip(runs, runs[1:]):
            self.assertEqual(b - a, 300)
        for t in runs:
            self.assertEqual(int(t) % 300, 0)
        self.assertEqual(self.schedules(), [])
        self.assertEqual(self.server.total(), before)

    def test_true_is_a_dry_run_too_and_a_name_may_be_taken(self):
        made = self.api("POST", "/api/v1/schedules", body=self.body("@daily", name="taken"))
        self.assertEqual(made.status, 201, made.raw)
        try:
            r = self.api("POST", "/api/v1/schedules?dry_run=true",
                         body=self.body("0 3 * * *", name="taken", timezone="Europe/Berlin"))
            self.assertEqual(r.status, 200, r.raw)
            self.assertEqual(r.data["id"], 0)
            self.assertEqual(len(r.data["next_runs"]), 5)
            self.assertEqual([s["id"] for s in self.schedules()], [made.data["id"]])
        finally:
            self.api("DELETE", "/api/v1/schedules/%d" % made.data["id"])

    def test_a_paused_dry_run_has_no_next_runs(self):
        r = self.api("POST", "/api/v1/schedules?dry_run=1", body=self.body("@hourly", paused=True))
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(r.data["next_runs"], [])
        self.assertEqual(self.schedules(), [])

    def test_a_bad_cron_is_refused_as_without_dry_run(self):
        for path in ("/api/v1/schedules?dry_run=1", "/api/v1/schedules"):
            r = self.api("POST", path, body=self.body("61 * * * *"))
            self.assertEqual(r.status, 422, r.raw)
            self.assertEqual(r.data["error"]["field"], "cron")
            self.assertIn("position", r.data["error"]["message"])
        r = self.api("POST", "/api/v1/schedules?dry_run=1", body={"cron": "@daily", "job": {"command": "true"}})
        self.assertEqual(r.status, 400, r.raw)
        self.assertEqual(r.data["error"]["field"], "name")
        self.assertEqual(self.schedules(), [])

    def test_a_bad_dry_run_value_is_refused(self):
        r = self.api("POST", "/api/v1/schedules?dry_run=maybe", body=self.body("@daily"))
        self.assertEqual(r.status, 400, r.raw)
        self.assertEqual(r.data["error"]["field"], "dry_run")
        self.assertEqual(self.schedules(), [])

    def test_macros_and_every_preview(self):
        for cron, gap in (("@hourly", 3600), ("@DAILY", 86400), ("@every 90s", 90)):
            r = self.api("POST", "/api/v1/schedules?dry_run=1", body=self.body(cron))
            self.assertEqual(r.status, 200, (cron, r.raw))
            runs = [epoch(t) for t in r.data["next_runs"]]
            self.assertEqual(len(runs), 5, r.data)
            self.assertEqual(runs[2] - runs[1], gap, cron)
        self.assertEqual(self.schedules(), [])
