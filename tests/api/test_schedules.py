"""Schedules (recurring jobs): create, list, show, change, delete and
trigger them; every refusal of a bad body, changing nothing; the jobs of
ticks ("@every 1s": one per tick, 1000 ms apart, anchored at created_at);
pause and resume, until, a new expression; one job per tick across a
graceful restart and a kill -9.

The overlap and misfire policies are in test_schedules_policies.py.
"""
import time
import zoneinfo

from harness import (BASE_ARGS, POSTGRESQL, allowance, epoch, parse_ts, rfc3339,
                     scaled)
from sched_util import LAST_JOB_KEYS, ScheduleCase, ms

# a template and an expression that will not fire while a test runs
NEVER = "0 0 1 1 *"
JOB = {"command": "true"}
# How far a job's or schedule's times may be from this host's clock: a
# cluster node keeps its database's time (it moves only past 250 ms).
SKEW = 250 if POSTGRESQL else 2


class SchedulesApiTest(ScheduleCase):
    """The resource: its object, CRUD, listing, trigger, refusals."""

    def count(self):
        return len(self.schedules()), self.server.total()

    def test_create_shows_the_schedule_with_its_defaults(self):
        before = self.now_ms()
        sc = self.create({"name": "defaults", "cron": NEVER, "job": JOB})
        after = self.now_ms()
        self.assertIsInstance(sc["id"], int)
        want = {"name": "defaults", "cron": NEVER, "timezone": "UTC",
                "job": JOB, "overlap": "allow", "misfire": "once",
                "paused": False, "until": None, "waiting": None,
                "last_job": None}
        self.assertEqual({k: sc[k] for k in want}, want, sc)
        # a cluster node keeps its database's clock, within a
        # heartbeat's measure of this host's (docs/cluster.md): 250 ms
        self.assertTrue(before - SKEW <= ms(sc["created_at"]) <= after + SKEW,
                        sc)
        runs = [parse_ts(t) for t in sc["next_runs"]]
        self.assertEqual(len(runs), 5, sc)
        for i, t in enumerate(runs):
            self.assertEqual((t.month, t.day, t.hour, t.minute, t.second),
                             (1, 1, 0, 0, 0), sc)
            if i:
                self.assertEqual(t.year, runs[i - 1].year + 1, sc)
        self.assertGreater(runs[0].timestamp(), time.time())
        # GET shows the same
        got = self.sched(sc["id"])
        self.assertEqual(got, sc)

    def test_create_with_every_field(self):
        until = rfc3339(time.time() + 86400 * 400)
        body = {"name": "all-fields", "cron": "30 9 * * 1-5",
                "timezone": "America/New_York",
                "job": {"command": "echo hi", "queue": "sq", "priority": 3,
                        "env": {"A": "b"}, "max_attempts": 2, "delay": 1},
                "overlap": "queue", "misfire": "all", "paused": False,
                "until": until}
        sc = self.create(body)
        for k in ("name", "cron", "timezone", "job", "overlap", "misfire",
                  "paused", "until"):
            self.assertEqual(sc[k], body[k], k)
        # 09:30 in New York on weekdays, DST or not
        ny = zoneinfo.ZoneInfo("America/New_York")
        runs = [parse_ts(t) for t in sc["next_runs"]]
        self.assertEqual(len(runs), 5)
        self.assertEqual(runs, sorted(runs))
        for t in runs:
            local = t.astimezone(ny)
            self.assertEqual((local.hour, local.minute, local.second), (9, 30, 0), t)
            self.assertLess(local.weekday(), 5, t)

    def test_macros_and_every_forms_are_taken(self):
        for i, cron in enumerate(("@hourly", "@daily", "@weekly", "@monthly",
                                  "@yearly", "@every 90s", "@every 5m",
                                  "*/15 0-6 1,15 * *")):
            sc = self.create({"name": "form-%d" % i, "cron": cron, "job": JOB,
                              "paused": True})
            self.assertEqual(sc["cron"], cron)
            self.assertEqual(sc["next_runs"], [], "paused: no next runs")
            sc = self.patch(sc["id"], {"paused": False})
            self.assertEqual(len(sc["next_runs"]), 5, sc)
            if cron == "@every 90s":
                runs = [ms(t) for t in sc["next_runs"]]
                self.assertEqual([b - a for a, b in zip(runs, runs[1:])],
                                 [90000] * 4, sc)

    def test_every_next_runs_are_anchored_at_created_at(self):
        sc = self.create({"name": "anchor", "cron": "@every 5m", "job": JOB})
        c = ms(sc["created_at"])
        self.assertEqual([ms(t) for t in sc["next_runs"]],
                         [c + 300000 * k for k in range(1, 6)], sc)

    def test_list_get_patch_delete(self):
        a = self.create({"name": "crud-a", "cron": NEVER, "job": JOB})
        b = self.create({"name": "crud-b", "cron": "@daily", "job": JOB})
        listed = {s["name"]: s for s in self.schedules()}
        self.assertIn("crud-a", listed)
        self.assertEqual(listed["crud-a"]["id"], a["id"])
        self.assertEqual(listed["crud-b"], self.sched(b["id"]))

        p = self.patch(a["id"], {"name": "crud-a2", "overlap": "skip",
                                 "misfire": "skip",
                                 "job": {"command": "echo changed"}})
        self.assertEqual((p["name"], p["overlap"], p["misfire"], p["job"]),
                         ("crud-a2", "skip", "skip", {"command": "echo changed"}))
        self.assertEqual((p["cron"], p["created_at"]), (a["cron"], a["created_at"]))
        self.assertEqual(self.sched(a["id"]), p)
        # an empty PATCH changes nothing
        self.assertEqual(self.patch(a["id"], {}), p)
        # the name is free again, the new one taken
        c = self.create({"name": "crud-a", "cron": NEVER, "job": JOB})
        self.assertNotEqual(c["id"], a["id"])

        r = self.api("DELETE", "/api/v1/schedules/%d" % a["id"])
        self.assertEqual(r.status, 204, r.raw)
        self.assertError(self.api("GET", "/api/v1/schedules/%d" % a["id"]),
                         404, "not_found")
        self.assertError(self.api("DELETE", "/api/v1/schedules/%d" % a["id"]),
                         404, "not_found")
        self.assertError(self.api("PATCH", "/api/v1/schedules/%d" % a["id"],
                                  body={"paused": True}), 404, "not_found")
        self.assertError(self.api("POST", "/api/v1/schedules/%d/trigger" % a["id"]),
                         404, "not_found")
        self.assertNotIn(a["id"], [s["id"] for s in self.schedules()])

    def test_the_id_of_a_deleted_schedule_is_not_reused(self):
        # The newest schedule deleted, then another made: a reused id would
        # give the new one the old one's jobs (?schedule=) and tick rows.
        for s in self.schedules():
            self.api("DELETE", "/api/v1/schedules/%d" % s["id"])
        old = self.create({"name": "reuse-old", "cron": NEVER, "job": JOB})
        r = self.api("POST", "/api/v1/schedules/%d/trigger" % old["id"])
        self.assertEqual(r.status, 201, r.raw)
        self.wait(r.data["id"])
        self.assertEqual(self.api("DELETE", "/api/v1/schedules/%d" % old["id"]).status, 204)
        new = self.create({"name": "reuse-new", "cron": NEVER, "job": JOB})
        self.assertNotEqual(new["id"], old["id"], "a deleted schedule's id was reused")
        self.assertEqual(self.jobs_of(new["id"]), [], "a new schedule has jobs")
        self.assertIsNone(new["last_job"])

    def test_bad_ids_in_the_path(self):
        for bad in ("abc", "0", "-1", "1x", "99999999999999999999999"):
            self.assertError(self.api("GET", "/api/v1/schedules/" + bad),
                             400, "invalid_field", msg=bad)
        self.assertError(self.api("GET", "/api/v1/schedules/987654"), 404, "not_found")

    def test_a_duplicate_name_is_a_conflict(self):
        a = self.create({"name": "dup", "cron": NEVER, "job": JOB})
        n = self.count()
        self.assertError(self.api("POST", "/api/v1/schedules", body={
            "name": "dup", "cron": "@daily", "job": JOB}), 409, "conflict", "name")
        b = self.create({"name": "dup-2", "cron": NEVER, "job": JOB})
        self.assertError(self.api("PATCH", "/api/v1/schedules/%d" % b["id"],
                                  body={"name": "dup"}), 409, "conflict", "name")
        self.assertEqual(self.sched(b["id"])["name"], "dup-2")
        self.assertEqual(self.sched(a["id"])["name"], "dup")
        self.assertEqual(self.count(), (n[0] + 1, n[1]))

    # -- refusals: each answered with its error, nothing made
    REFUSED = [
        # (body, status, code, field, message part)
        ({"cron": NEVER, "job": JOB}, 400, "invalid_field", "name", None),
        ({"name": "x", "job": JOB}, 400, "invalid_field", "cron", None),
        ({"name": "x", "cron": NEVER}, 400, "invalid_field", "job", None),
        ({"name": "", "cron": NEVER, "job": JOB}, 400, "invalid_field", "name", None),
        ({"name": 5, "cron": NEVER, "job": JOB}, 400, "invalid_field", "name", None),
        ({"name": None, "cron": NEVER, "job": JOB}, 400, "invalid_field", "name", None),
        ({"name": ["x"], "cron": NEVER, "job": JOB}, 400, "invalid_field", "name", None),
        ({"name": "x", "cron": 5, "job": JOB}, 400, "invalid_field", "cron", None),
        ({"name": "x", "cron": NEVER, "job": "true"}, 400, "invalid_field", "job", None),
        ({"name": "x", "cron": NEVER, "job": [JOB]}, 400, "invalid_field", "job", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "timezone": 1}, 400,
         "invalid_field", "timezone", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "overlap": 1}, 400,
         "invalid_field", "overlap", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "misfire": True}, 400,
         "invalid_field", "misfire", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "paused": "yes"}, 400,
         "invalid_field", "paused", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "paused": 1}, 400,
         "invalid_field", "paused", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "until": 1700000000}, 400,
         "invalid_field", "until", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "until": "tomorrow"}, 400,
         "invalid_field", "until", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "color": "red"}, 400,
         "unknown_field", "color", None),
        # bad expressions: 422 naming cron, with the position
        ({"name": "x", "cron": "* * *", "job": JOB}, 422, "invalid_field", "cron",
         "at position"),
        ({"name": "x", "cron": "61 * * * *", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "* * * * * *", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "*/0 * * * *", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "5-1 * * * *", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "* * 31 2 *", "job": JOB}, 422, "invalid_field",
         "cron", None),
        ({"name": "x", "cron": "@fortnightly", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "@every 0s", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "@every 1x", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "@every", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "@every -1s", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "@every 1s1m", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        ({"name": "x", "cron": "@every 99999999999999999999s", "job": JOB}, 422,
         "invalid_field", "cron", "at position"),
        ({"name": "x", "cron": "* * * * \u00e9", "job": JOB}, 422, "invalid_field",
         "cron", "at position"),
        # zones
        ({"name": "x", "cron": NEVER, "job": JOB, "timezone": "Europe/Nowhere"},
         422, "invalid_field", "timezone", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "timezone": "../../etc/passwd"},
         422, "invalid_field", "timezone", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "timezone": "/etc/passwd"},
         422, "invalid_field", "timezone", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "timezone": "Europe/../../../etc/passwd"},
         422, "invalid_field", "timezone", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "timezone": "zoneinfo.zi"},
         422, "invalid_field", "timezone", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "timezone": "Europe"},
         422, "invalid_field", "timezone", None),
        # policies
        ({"name": "x", "cron": NEVER, "job": JOB, "overlap": "sometimes"}, 422,
         "invalid_field", "overlap", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "overlap": "Allow"}, 422,
         "invalid_field", "overlap", None),
        ({"name": "x", "cron": NEVER, "job": JOB, "misfire": "never"}, 422,
         "invalid_field", "misfire", None),
        # templates: 422 naming job.<field>
        ({"name": "x", "cron": NEVER, "job": {}}, 422, None, "job.command", None),
        ({"name": "x", "cron": NEVER, "job": {"command": ""}}, 422, "invalid_field",
         "job.command", None),
        ({"name": "x", "cron": NEVER, "job": {"command": "true", "priority": "high"}},
         422, "invalid_field", "job.priority", None),
        ({"name": "x", "cron": NEVER, "job": {"command": "true", "max_attempts": 0}},
         422, "invalid_field", "job.max_attempts", None),
        ({"name": "x", "cron": NEVER, "job": {"command": "true", "after": [1]}},
         422, "invalid_field", "job.after", None),
        ({"name": "x", "cron": NEVER, "job": {"command": "true",
                                             "run_at": "2030-01-01T00:00:00Z"}},
         422, "invalid_field", "job.run_at", None),
        ({"name": "x", "cron": NEVER, "job": {"command": "true", "cwd": "/nonexistent-dir"}},
         422, "invalid_field", "job.cwd", None),
    ]

    def check_refused(self, r, status, code, field, part, what):
        self.assertError(r, status, code or r.data.get("error", {}).get("code"),
                         field, msg=what)
        if part:
            self.assertIn(part, r.data["error"]["message"], what)

    def test_bad_bodies_are_refused_and_make_nothing(self):
        n = self.count()
        for body, status, code, field, part in self.REFUSED:
            r = self.api("POST", "/api/v1/schedules", body=body)
            self.check_refused(r, status, code, field, part, repr(body))
        self.assertEqual(self.count(), n)

    def test_a_template_with_an_unknown_field_names_it(self):
        n = self.count()
        r = self.api("POST", "/api/v1/schedules", body={
            "name": "x", "cron": NEVER, "job": {"command": "true", "nosuch": 1}})
        self.assertEqual(r.status, 422, r.raw)
        self.assertEqual(r.data["error"].get("field"), "job.nosuch", r.raw)
        self.assertIn(r.data["error"]["code"], ("invalid_field", "unknown_field"), r.raw)
        self.assertEqual(self.count(), n)

    def test_the_cron_error_gives_the_position(self):
        r = self.api("POST", "/api/v1/schedules", body={
            "name": "pos", "cron": "0 25 * * *", "job": JOB})
        self.assertError(r, 422, "invalid_field", "cron")
        self.assertIn("at position 2", r.data["error"]["message"], r.raw)
        self.assertIn("hour: 25 is out of range", r.data["error"]["message"], r.raw)

    def test_hostile_bodies(self):
        n = self.count()
        cases = [
            (b"[]", 400, "invalid_json"),
            (b"\"a schedule\"", 400, "invalid_json"),
            (b"null", 400, "invalid_json"),
            (b"17", 400, "invalid_json"),
            (b"", 400, None),
            (b"{", 400, "invalid_json"),
            (b"{\"name\": \"x\", \"cron\": \"@daily\", \"job\": {\"command\": \"true\"}}x",
             400, "invalid_json"),
            (b"{\"name\": \"x\", \"name\": \"y\", \"cron\": \"@daily\", "
             b"\"job\": {\"command\": \"true\"}}", 400, "invalid_json"),
            (b"{\"name\": \"x\", \"cron\": \"@daily\", \"job\": {\"command\": "
             b"\"true\", \"command\": \"false\"}}", 400, "invalid_json"),
            (b"{\"name\": \"x\\u0000y\", \"cron\": \"@daily\", \"job\": "
             b"{\"command\": \"true\"}}", 400, "invalid_field"),
            (b"{\"name\": \"\xff\xfe\", \"cron\": \"@daily\", \"job\": "
             b"{\"command\": \"true\"}}", 400, "invalid_json"),
        ]
        for raw, status, code in cases:
            r = self.api("POST", "/api/v1/schedules", raw=raw,
                         headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, status, "%r: %r" % (raw, r.raw[:300]))
            if code:
                self.assertError(r, status, code, msg=repr(raw))
        dup = self.api("POST", "/api/v1/schedules", raw=cases[7][0],
                       headers={"Content-Type": "application/json"})
        self.assertEqual(dup.data["error"].get("field"), "name", dup.raw)
        # huge values
        for body, field in (
                ({"name": "n" * 100000, "cron": NEVER, "job": JOB}, "name"),
                ({"name": "n" * 201, "cron": NEVER, "job": JOB}, "name"),
                ({"name": "x", "cron": "*" + " " * 9999, "job": JOB}, "cron"),
                ({"name": "x", "cron": "1," * 5000 + "1 * * * *", "job": JOB}, "cron"),
                ({"name": "x", "cron": NEVER, "job": JOB,
                  "timezone": "A/" * 5000}, "timezone"),
                ({"name": "x", "cron": NEVER,
                  "job": {"command": "x" * 200000}}, "job.command")):
            r = self.api("POST", "/api/v1/schedules", body=body)
            self.assertIn(r.status, (400, 413, 422), "%s: %r" % (field, r.raw[:300]))
            if field:
                self.assertError(r, r.status, "invalid_field", field, msg=field)
        # a name of exactly the most bytes is taken
        sc = self.create({"name": "n" * 200, "cron": NEVER, "job": JOB})
        self.assertEqual(sc["name"], "n" * 200)
        self.assertEqual(self.count(), (n[0] + 1, n[1]))

    def test_bad_patches_change_nothing(self):
        sc = self.create({"name": "patch-me", "cron": NEVER, "job": JOB})
        n = self.count()
        bad = [(b, st, c, f, p) for b, st, c, f, p in self.REFUSED
               if f not in ("name", "cron", "job") or st == 422 or
               b.get(f, 0) is None or "name" in b and b["name"] != "x"]
        for body, status, code, field, part in bad:
            body = {k: v for k, v in body.items()
                    if k != "name" and not (k in ("cron", "job") and
                                            v in (NEVER, JOB))}
            if not body:
                continue
            r = self.api("PATCH", "/api/v1/schedules/%d" % sc["id"], body=body)
            self.check_refused(r, status, code, field, part, "PATCH %r" % body)
        for raw in (b"[]", b"null", b"{\"paused\": true, \"paused\": false}"):
            r = self.api("PATCH", "/api/v1/schedules/%d" % sc["id"], raw=raw,
                         headers={"Content-Type": "application/json"})
            self.assertError(r, 400, "invalid_json", msg=repr(raw))
        self.assertError(self.api("PATCH", "/api/v1/schedules/%d" % sc["id"],
                                  body={"name": ""}), 400, "invalid_field", "name")
        self.assertError(self.api("PATCH", "/api/v1/schedules/%d" % sc["id"],
                                  body={"id": 5}), 400, "unknown_field", "id")
        self.assertError(self.api("PATCH", "/api/v1/schedules/%d" % sc["id"],
                                  body={"next_runs": []}), 400, "unknown_field")
        # a good field with a bad one: none of it is kept
        r = self.api("PATCH", "/api/v1/schedules/%d" % sc["id"],
                     body={"paused": True, "cron": "@every 0s"})
        self.assertError(r, 422, "invalid_field", "cron")
        self.assertEqual(self.sched(sc["id"]), sc)
        self.assertEqual(self.count(), n)

    def test_unknown_methods(self):
        sc = self.create({"name": "methods", "cron": NEVER, "job": JOB})
        for method, path in (("PUT", "/api/v1/schedules"),
                             ("DELETE", "/api/v1/schedules"),
                             ("POST", "/api/v1/schedules/%d" % sc["id"]),
                             ("GET", "/api/v1/schedules/%d/trigger" % sc["id"])):
            r = self.api(method, path)
            self.assertEqual(r.status, 405, "%s %s: %r" % (method, path, r.raw[:200]))

    def test_trigger_makes_a_job_now(self):
        sc = self.create({"name": "trig", "cron": NEVER,
                          "job": {"command": "echo triggered"}})
        before = self.now_ms()
        r = self.api("POST", "/api/v1/schedules/%d/trigger" % sc["id"])
        after = self.now_ms()
        self.assertEqual(r.status, 201, r.raw)
        j = r.data
        self.assertEqual((j["schedule_id"], j["command"]),
                         (sc["id"], "echo triggered"), j)
        self.assertTrue(before - SKEW <= ms(j["scheduled_for"]) <= after + SKEW,
                        j)
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(self.output(j["id"]), b"triggered\n")
        self.assertEqual(done["scheduled_for"], j["scheduled_for"])
        last = self.sched(sc["id"])["last_job"]
        self.assertEqual(set(last), LAST_JOB_KEYS, last)
        self.assertEqual({k: last[k] for k in last},
                         {k: done[k] for k in LAST_JOB_KEYS}, last)
        self.assertEqual([x["id"] for x in self.jobs_of(sc["id"])], [j["id"]])
        # a paused schedule can still be run by hand
        self.patch(sc["id"], {"paused": True})
        r = self.api("POST", "/api/v1/schedules/%d/trigger" % sc["id"])
        self.assertEqual(r.status, 201, r.raw)
        self.assertEqual(self.wait(r.data["id"])["state"], "succeeded")
        self.assertEqual(self.sched(sc["id"])["last_job"]["id"], r.data["id"])

    def test_listing_by_schedule(self):
        a = self.create({"name": "list-a", "cron": NEVER, "job": JOB})
        b = self.create({"name": "list-b", "cron": NEVER, "job": JOB})
        plain = self.submit({"command": "true"})
        self.assertEqual((plain["schedule_id"], plain["scheduled_for"]), (None, None))
        made = {a["id"]: [], b["id"]: []}
        for sid in (a["id"], b["id"], a["id"], a["id"], b["id"]):
            r = self.api("POST", "/api/v1/schedules/%d/trigger" % sid)
            self.assertEqual(r.status, 201, r.raw)
            made[sid].append(r.data["id"])
        for sid, ids in made.items():
            self.assertEqual([j["id"] for j in self.jobs_of(sid)],
                             sorted(ids, reverse=True), "newest first")
        r = self.api("GET", "/api/v1/jobs?schedule=%d&limit=2" % a["id"])
        self.assertEqual([j["id"] for j in r.data["jobs"]],
                         sorted(made[a["id"]], reverse=True)[:2], r.raw)
        self.assertIsNotNone(r.data["next"])
        r = self.api("GET", "/api/v1/jobs?schedule=%d&limit=2&before=%d" % (
            a["id"], r.data["next"]))
        self.assertEqual([j["id"] for j in r.data["jobs"]],
                         [min(made[a["id"]])], r.raw)
        r = self.api("GET", "/api/v1/jobs?schedule=987654")
        self.assertEqual((r.status, r.data["jobs"]), (200, []), r.raw)
        for bad in ("abc", "0", "-3", ""):
            self.assertError(self.api("GET", "/api/v1/jobs?schedule=" + bad),
                             400, "invalid_field", "schedule", msg=bad)
        self.wait_all(made[a["id"]] + made[b["id"]] + [plain["id"]])
        # deleting the schedule keeps its jobs
        self.assertEqual(self.api("DELETE", "/api/v1/schedules/%d" % a["id"]).status, 204)
        self.assertEqual(len(self.jobs_of(a["id"])), 3)
        self.assertEqual(self.job(made[a["id"]][0])["schedule_id"], a["id"])


class SchedulesTickTest(ScheduleCase):
    """Ticks of "@every 1s": their jobs, pause and resume, until, replans."""
    WORKERS = 2

    def test_every_1s_makes_one_job_per_tick(self):
        sc = self.every("tick")
        c = ms(sc["created_at"])
        self.assertEqual([ms(t) for t in sc["next_runs"]],
                         [c + 1000 * k for k in range(1, 6)], sc)
        jobs = self.wait_jobs(sc["id"], 6, 30)
        self.assertEqual(jobs[0]["sf"], c + 1000, "the first tick is created_at + 1s")
        self.assertConsecutive(jobs)
        for j in jobs:
            self.assertEqual(j["command"], "true")
            made = ms(j["created_at"])
            self.assertGreaterEqual(made, j["sf"], "made before its tick: %r" % j)
            self.assertLessEqual(made - j["sf"], 1000 * allowance(1.0),
                                 "made %d ms after its tick" % (made - j["sf"]))
        done = self.wait(jobs[0]["id"])
        self.assertEqual(done["state"], "succeeded", done)
        now = self.sched(sc["id"])
        self.assertIsNotNone(now["last_job"])
        self.assertGreaterEqual(now["last_job"]["id"], jobs[-1]["id"])
        nr = [ms(t) for t in now["next_runs"]]
        self.assertEqual(nr[0] % 1000, c % 1000, "still anchored: %r" % now)
        self.assertEqual([b - a for a, b in zip(nr, nr[1:])], [1000] * 4)
        # deleted: no tick more (another made after it, so that its id is
        # not the newest: see test_the_id_of_a_deleted_schedule_is_not_reused)
        self.create({"name": "tick-after", "cron": NEVER, "job": JOB})
        self.assertEqual(self.api("DELETE", "/api/v1/schedules/%d" % sc["id"]).status, 204)
        n = len(self.jobs_of(sc["id"]))
        self.wait_for_time(time.time() + 2.5, "ticks of a deleted schedule")
        self.assertEqual(len(self.jobs_of(sc["id"])), n)

    def test_a_tick_job_follows_the_template(self):
        sc = self.every("template", {"command": "echo $RUNNEL_JOB_ID; echo err >&2",
                                     "queue": "tmpl", "priority": 7,
                                     "env": {"X": "1"}, "name": "from-schedule"})
        j = self.wait_jobs(sc["id"], 1)[0]
        self.assertEqual((j["queue"], j["priority"], j["env"], j["name"]),
                         ("tmpl", 7, {"X": "1"}, "from-schedule"), j)
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "succeeded", done)
        self.assertEqual(self.output(j["id"]), b"%d\n" % j["id"])
        # a new template is taken at the next tick
        at = self.now_ms()
        self.patch(sc["id"], {"job": {"command": "echo new"}})
        k = self.wait_jobs(sc["id"], 1, pred=lambda x: ms(x["created_at"]) > at + 100)
        newer = [x for x in k if ms(x["created_at"]) > at + 100][0]
        self.assertEqual(newer["command"], "echo new")

    def test_pause_and_resume_do_not_catch_up(self):
        sc = self.every("pause")
        self.wait_jobs(sc["id"], 2)
        p = self.patch(sc["id"], {"paused": True})
        paused_at = self.now_ms()
        self.assertEqual((p["paused"], p["next_runs"]), (True, []), p)
        n = len(self.jobs_of(sc["id"]))
        last = self.ticked(sc["id"])[-1]["sf"]
        self.assertLessEqual(last, paused_at)
        self.wait_for_time(time.time() + 3, "ticks while paused")
        self.assertEqual(len(self.jobs_of(sc["id"])), n, "no tick while paused")
        resume_at = self.now_ms()
        r = self.patch(sc["id"], {"paused": False})
        self.assertFalse(r["paused"])
        nr = [ms(t) for t in r["next_runs"]]
        self.assertEqual(len(nr), 5, r)
        self.assertGreater(nr[0], resume_at, "on from now: %r" % r)
        self.assertLessEqual(nr[0], resume_at + 1000 + 1000 * allowance(1.0), r)
        jobs = self.wait_jobs(sc["id"], n + 2)
        after = jobs[n:]
        self.assertGreater(after[0]["sf"], resume_at, "a tick passed while paused "
                           "was caught up: %r" % after[0])
        self.assertEqual(after[0]["sf"], nr[0])
        self.assertConsecutive(after)
        self.assertNoDuplicateTicks(jobs)

    def test_until_ends_the_ticks(self):
        t0 = time.time()
        until = rfc3339(t0 + 2.5)
        sc = self.every("until", until=until)
        c = ms(sc["created_at"])
        self.assertEqual(sc["until"], until)
        self.assertEqual([ms(t) for t in sc["next_runs"]],
                         [t for t in (c + 1000, c + 2000) if t <= ms(until)], sc)
        self.wait_for_time(epoch(until) + 1.5, "the end of the schedule")
        jobs = self.ticked(sc["id"])
        self.assertEqual([j["sf"] for j in jobs], [c + 1000, c + 2000])
        self.assertEqual(self.sched(sc["id"])["next_runs"], [])

    def test_until_in_the_past_fires_nothing(self):
        sc = self.every("until-past", until="2020-01-01T00:00:00Z")
        self.assertEqual(sc["next_runs"], [], sc)
        other = self.every("until-later")
        self.wait_jobs(other["id"], 2)
        self.assertEqual(self.jobs_of(sc["id"]), [])
        # a PATCH of until into the past stops a running schedule
        p = self.patch(other["id"], {"until": "2020-01-01T00:00:00.000Z"})
        self.assertEqual(p["next_runs"], [], p)
        n = len(self.jobs_of(other["id"]))
        self.wait_for_time(time.time() + 2.5, "ticks after until")
        self.assertEqual(len(self.jobs_of(other["id"])), n)
        # and null lifts it, on from now
        at = self.now_ms()
        p = self.patch(other["id"], {"until": None})
        self.assertEqual((p["until"], len(p["next_runs"])), (None, 5), p)
        self.assertGreater(ms(p["next_runs"][0]), at)
        jobs = self.wait_jobs(other["id"], n + 1)
        self.assertGreater(jobs[n]["sf"], at)

    def test_a_new_expression_replans_from_now(self):
        sc = self.create({"name": "replan", "cron": "@every 1h", "job": JOB})
        at = self.now_ms()
        p = self.patch(sc["id"], {"cron": "@every 1s"})
        nr = [ms(t) for t in p["next_runs"]]
        self.assertGreater(nr[0], at)
        self.assertLessEqual(nr[0], at + 1000 + 1000 * allowance(1.0), p)
        jobs = self.wait_jobs(sc["id"], 3)
        self.assertEqual(jobs[0]["sf"], nr[0])
        self.assertConsecutive(jobs)
        # back to hourly: no job more
        p = self.patch(sc["id"], {"cron": "@every 1h", "timezone": "Asia/Kolkata"})
        n = len(self.jobs_of(sc["id"]))
        self.assertGreater(ms(p["next_runs"][0]), self.now_ms() + 3500 * 1000)
        self.wait_for_time(time.time() + 2.2, "ticks of the old expression")
        self.assertEqual(len(self.jobs_of(sc["id"])), n)

    def test_patches_and_triggers_between_ticks_do_not_refire_a_tick(self):
        # PATCHes that do not replan and triggers, as fast as they come:
        # the ticks go on, each with one job, none fired again
        sc = self.every("hammer")
        end = time.monotonic() + 5
        k = 0
        triggered = set()
        while time.monotonic() < end:
            k += 1
            if k % 10 == 0:
                r = self.api("POST", "/api/v1/schedules/%d/trigger" % sc["id"])
                self.assertEqual(r.status, 201, r.raw[:300])
                triggered.add(r.data["id"])
                continue
            r = self.api("PATCH", "/api/v1/schedules/%d" % sc["id"], body={
                "job": {"command": "true", "name": "p%d" % (k % 2)},
                "misfire": ("once", "all")[k % 2]})
            self.assertEqual(r.status, 200, r.raw[:300])
        self.patch(sc["id"], {"paused": True})
        jobs = [j for j in self.ticked(sc["id"]) if j["id"] not in triggered]
        self.assertGreaterEqual(len(jobs), 4, jobs)
        self.assertEqual(jobs[0]["sf"], ms(sc["created_at"]) + 1000)
        self.assertConsecutive(jobs)

    def test_a_minute_cron_fires_on_the_minute(self):
        # "* * * * *": the next whole minute, in whatever zone
        sc = self.create({"name": "minute", "cron": "* * * * *",
                          "timezone": "Asia/Kathmandu", "job": JOB})
        nr = [ms(t) for t in sc["next_runs"]]
        self.assertEqual([t % 60000 for t in nr], [0] * 5, sc)
        self.assertEqual([b - a for a, b in zip(nr, nr[1:])], [60000] * 4)
        self.assertLessEqual(nr[0] - self.now_ms(), 60000)
        wait = (nr[0] - self.now_ms()) / 1000.0
        j = self.wait_jobs(sc["id"], 1, wait / scaled(1) + 10)[0]
        self.assertEqual(j["sf"], nr[0])


class SchedulesRestartTest(ScheduleCase):
    """One job per tick over a restart (default grace: 60 s, so a short
    downtime misses no tick)."""
    WORKERS = 2
    SERVER_ARGS = BASE_ARGS

    def check_restart(self, stop, name, rounds=1, offset=0.0):
        s = self.server
        sc = self.every(name)
        for i in range(rounds):
            n = len(self.wait_jobs(sc["id"], 2 + 2 * i, 30))
            if offset:
                # somewhere between two ticks
                last = self.ticked(sc["id"])[-1]["sf"] / 1000.0
                self.wait_for_time(last + offset, "a point between ticks")
            stop()
            self.wait_for_time(time.time() + 2.2, "ticks while runneld is down")
            s.start()
            up = self.now_ms()
            jobs = self.wait_jobs(sc["id"], 2, 30,
                                  pred=lambda j: j["sf"] > up)
            self.assertGreater(len(jobs), n)
        jobs = self.ticked(sc["id"])
        self.assertEqual(jobs[0]["sf"], ms(sc["created_at"]) + 1000)
        self.assertConsecutive(jobs)
        self.wait_all([j["id"] for j in jobs])

    def test_one_job_per_tick_over_a_graceful_restart(self):
        self.check_restart(lambda: self.assertEqual(self.server.stop(), 0), "graceful")

    def test_one_job_per_tick_over_a_kill9(self):
        self.check_restart(self.server.kill9, "kill9", offset=0.5)

    def test_one_job_per_tick_over_kill9s_at_any_point(self):
        self.check_restart(self.server.kill9, "kill9-many", rounds=4, offset=0.0)

    def test_schedules_survive_a_restart(self):
        sc = self.create({"name": "kept", "cron": "15 3 * * *",
                          "timezone": "Europe/Paris", "job": {"command": "echo kept"},
                          "overlap": "cancel", "misfire": "skip", "paused": True,
                          "until": "2099-01-01T00:00:00.000Z"})
        self.server.kill9()
        self.server.start()
        got = self.sched(sc["id"])
        self.assertEqual(got, sc)
        got = self.patch(sc["id"], {"paused": False})
        self.assertEqual(len(got["next_runs"]), 5)
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        self.assertEqual(self.sched(sc["id"]), got)
