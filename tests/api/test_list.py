"""GET /api/v1/jobs: filters, limit, keyset paging with before/next."""
from harness import Gate, RunnelTestCase


class ListTest(RunnelTestCase):
    WORKERS = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        # Both workers held by gates so that some jobs can be canceled
        # while queued.
        gates = [Gate(cls.tmp, "g1"), Gate(cls.tmp, "g2")]
        held = [s.submit({"command": g.cmd, "queue": "gates"}) for g in gates]
        for j in held:
            s.wait_running(j["id"])
        specs = []
        for i in range(60):
            if i % 3 == 0:
                specs.append({"command": "exit 1", "queue": "qb", "name": "f%d" % i})
            elif i % 6 == 1:
                specs.append({"command": "true", "queue": "qa", "name": "c%d" % i})
            else:
                specs.append({"command": "true", "queue": "qa", "name": "s%d" % i})
        r = s.api("POST", "/api/v1/jobs", body=specs)
        assert r.status == 201, r
        jobs = r.data["jobs"]
        for j in jobs:
            if j["name"].startswith("c"):
                c = s.api("POST", "/api/v1/jobs/%d/cancel" % j["id"])
                assert c.status == 200 and c.data["state"] == "canceled", c
        for g in gates:
            g.open()
        cls.ids = sorted([j["id"] for j in held] + [j["id"] for j in jobs], reverse=True)
        cls.state_of = {}
        cls.queue_of = {}
        for jid in cls.ids:
            done = s.wait(jid)
            cls.state_of[jid] = done["state"]
            cls.queue_of[jid] = done["queue"]
        expect = {"succeeded": 32, "failed": 20, "canceled": 10}
        got = {k: sum(1 for v in cls.state_of.values() if v == k) for k in expect}
        assert got == expect, got

    def list(self, query=""):
        r = self.api("GET", "/api/v1/jobs" + query)
        self.assertEqual(r.status, 200, r.raw)
        self.assertEqual(set(r.data), {"jobs", "next"})
        return r.data

    def walk(self, query, limit):
        """Every id over all pages, checking order and the cursor."""
        sep = "&" if query else "?"
        seen = []
        cursor = None
        for _ in range(1000):
            q = query + sep + "limit=%d" % limit
            if cursor is not None:
                q += "&before=%d" % cursor
            page = self.list(q)
            ids = [j["id"] for j in page["jobs"]]
            self.assertLessEqual(len(ids), limit)
            if page["next"] is not None:
                self.assertEqual(len(ids), limit, "a page with a next is full")
                self.assertEqual(page["next"], ids[-1], "next is the last id of the page")
            seen += ids
            if page["next"] is None:
                break
            cursor = page["next"]
        self.assertEqual(seen, sorted(seen, reverse=True), "newest first")
        self.assertEqual(len(seen), len(set(seen)), "no id twice")
        return seen

    def test_default_list_is_newest_first_50(self):
        page = self.list()
        ids = [j["id"] for j in page["jobs"]]
        self.assertEqual(ids, self.ids[:50])
        self.assertEqual(page["next"], ids[-1])
        for j in page["jobs"]:
            self.assertJobShape(j)

    def test_walking_all_pages_misses_nothing(self):
        for limit in (1, 7, 31, 62, 1000):
            with self.subTest(limit=limit):
                self.assertEqual(self.walk("", limit), self.ids)

    def test_state_filter(self):
        for states in ("succeeded", "failed", "canceled", "failed,canceled",
                       "succeeded,failed,canceled", "queued,running"):
            with self.subTest(state=states):
                want = [i for i in self.ids if self.state_of[i] in states.split(",")]
                got = self.walk("?state=" + states, 4)
                self.assertEqual(got, want)
                page = self.list("?state=" + states + "&limit=1000")
                for j in page["jobs"]:
                    self.assertIn(j["state"], states.split(","))

    def test_queue_filter(self):
        for q in ("qa", "qb", "gates", "nosuchqueue"):
            with self.subTest(queue=q):
                want = [i for i in self.ids if self.queue_of[i] == q]
                self.assertEqual(self.walk("?queue=" + q, 6), want)
        want = [i for i in self.ids if self.queue_of[i] == "qa" and
                self.state_of[i] == "canceled"]
        self.assertEqual(len(want), 10)
        self.assertEqual(self.walk("?queue=qa&state=canceled", 3), want)

    def test_type_filter(self):
        self.assertEqual(self.walk("?type=command", 25), self.ids)
        page = self.list("?type=upload")
        self.assertEqual(page, {"jobs": [], "next": None})
        self.assertEqual(self.walk("?type=command,upload&state=failed", 9),
                         [i for i in self.ids if self.state_of[i] == "failed"])

    def test_before_is_exclusive(self):
        pivot = self.ids[10]
        page = self.list("?before=%d&limit=1000" % pivot)
        self.assertEqual([j["id"] for j in page["jobs"]], self.ids[11:])
        self.assertIsNone(page["next"])
        page = self.list("?before=%d" % (self.ids[-1]))
        self.assertEqual(page, {"jobs": [], "next": None})
        page = self.list("?before=9223372036854775807&limit=2")
        self.assertEqual([j["id"] for j in page["jobs"]], self.ids[:2])

    def test_last_full_page_has_no_next(self):
        n = len(self.ids)
        page = self.list("?limit=%d" % n)
        self.assertEqual(len(page["jobs"]), n)
        self.assertIsNone(page["next"])

    def test_bad_parameters_are_400_naming_the_parameter(self):
        cases = [("limit", "0"), ("limit", "1001"), ("limit", "abc"), ("limit", "-5"),
                 ("limit", "1.5"), ("limit", ""), ("before", "-1"), ("before", "abc"),
                 ("before", "1.5"), ("before", "99999999999999999999999"),
                 ("state", "bogus"), ("state", "succeeded,bogus"), ("state", ""),
                 ("type", "bogus"), ("queue", "bad%20queue"), ("queue", "a/b"),
                 ("queue", "x" * 65)]
        for key, value in cases:
            with self.subTest(key=key, value=value):
                r = self.api("GET", "/api/v1/jobs?%s=%s" % (key, value))
                self.assertError(r, 400, "invalid_field", key)

    def test_a_bad_parameter_after_many_others_is_still_refused(self):
        # Not silently dropped however many parameters come before it.
        filler = "&".join("x%d=1" % i for i in range(16))
        for key, value in (("limit", "0"), ("before", "-1"), ("state", "bogus")):
            with self.subTest(key=key):
                r = self.api("GET", "/api/v1/jobs?%s&%s=%s" % (filler, key, value))
                self.assertEqual(r.status, 400, r.raw[:200])


class EmptyListTest(RunnelTestCase):
    WORKERS = 1

    def test_lists_of_nothing(self):
        for q in ("", "?state=queued", "?type=upload", "?queue=default",
                  "?before=1", "?limit=1000"):
            with self.subTest(query=q):
                r = self.api("GET", "/api/v1/jobs" + q)
                self.assertEqual(r.status, 200, r.raw)
                self.assertEqual(r.data, {"jobs": [], "next": None})
        self.assertEqual(self.server.total(), 0)
