"""GET /api/v1/jobs search: q, name, time bounds, exit_code, their
combinations, and the search window's paging (a small window set with
RUNNEL_LIST_WINDOW so that the test stays fast)."""
import urllib.parse

from harness import RunnelTestCase, epoch, rfc3339


def query(**kw):
    return "/api/v1/jobs?" + urllib.parse.urlencode(kw)


class SearchTest(RunnelTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        s = cls.server
        specs = [
            {"name": "Nightly Backup", "command": "true"},
            {"name": "report", "command": "exit 3"},
            {"name": "report", "command": "exit 4", "queue": "other"},
            {"name": "100%_done", "command": "true"},
            {"name": "100xxdone", "command": "true"},
            {"argv": ["echo", "Hello-World"]},
            {"command": "echo needle-in-command"},
            {"name": "report", "command": "exit 3", "queue": "other"},
        ]
        r = s.api("POST", "/api/v1/jobs", body=specs)
        assert r.status == 201, r
        cls.ids = [j["id"] for j in r.data["jobs"]]
        r = s.api("POST", "/api/v1/uploads?name=Quarterly.CSV", raw=b"a,b\n",
                  headers={"Content-Type": "application/octet-stream"})
        assert r.status == 201, r.raw
        cls.upload_id = r.data["id"]
        cls.done = {}
        for jid in cls.ids + [cls.upload_id]:
            cls.done[jid] = s.wait(jid)

    def ids_of(self, path, expect=200):
        r = self.api("GET", path)
        self.assertEqual(r.status, expect, r.raw[:300])
        return [j["id"] for j in r.data["jobs"]]

    def test_q_matches_the_name_case_insensitively(self):
        self.assertEqual(self.ids_of(query(q="nightly BACK")), [self.ids[0]])

    def test_q_matches_the_command(self):
        self.assertEqual(self.ids_of(query(q="NEEDLE-in")), [self.ids[6]])

    def test_q_matches_argv_joined_with_spaces(self):
        self.assertEqual(self.ids_of(query(q="echo hello-w")), [self.ids[5]])

    def test_q_matches_an_uploads_file_name(self):
        self.assertEqual(self.ids_of(query(q="quarterly.csv")), [self.upload_id])

    def test_q_takes_percent_and_underscore_literally(self):
        self.assertEqual(self.ids_of(query(q="0%_d")), [self.ids[3]])
        self.assertEqual(self.ids_of(query(q="_")), [self.ids[3]])

    def test_q_a_number_is_also_that_job(self):
        jid = self.ids[1]
        for q in (str(jid), "#%d" % jid):
            with self.subTest(q=q):
                self.assertIn(jid, self.ids_of(query(q=q)))

    def test_q_a_number_of_no_job_matches_text_only(self):
        self.assertEqual(self.ids_of(query(q="987654321")), [])

    def test_q_misses(self):
        self.assertEqual(self.ids_of(query(q="no such thing anywhere")), [])

    def test_name_is_exact(self):
        reports = [self.ids[7], self.ids[2], self.ids[1]]
        self.assertEqual(self.ids_of(query(name="report")), reports)
        self.assertEqual(self.ids_of(query(name="repor")), [])
        self.assertEqual(self.ids_of(query(name="REPORT")), [])

    def test_exit_code(self):
        self.assertEqual(self.ids_of(query(exit_code=3)), [self.ids[7], self.ids[1]])
        self.assertEqual(self.ids_of(query(exit_code=4)), [self.ids[2]])
        zero = self.ids_of(query(exit_code=0))
        self.assertIn(self.ids[0], zero)
        self.assertNotIn(self.ids[1], zero)
        for bad in ("256", "-1", "x", "3.0", ""):
            with self.subTest(bad=bad):
                r = self.api("GET", "/api/v1/jobs?exit_code=" + bad)
                self.assertError(r, 400, "invalid_field", "exit_code")

    def test_filters_combine_with_and(self):
        self.assertEqual(self.ids_of(query(name="report", exit_code=3,
                                           queue="other")), [self.ids[7]])
        self.assertEqual(self.ids_of(query(q="report", state="failed",
                                           queue="default")), [self.ids[1]])
        self.assertEqual(self.ids_of(query(q="report", state="succeeded")), [])
        self.assertEqual(self.ids_of(query(q="csv", type="upload")),
                         [self.upload_id])
        self.assertEqual(self.ids_of(query(q="csv", type="command")), [])

    def test_name_pages_with_before_and_next(self):
        r = self.api("GET", query(name="report", limit=2))
        self.assertEqual([j["id"] for j in r.data["jobs"]], [self.ids[7], self.ids[2]])
        self.assertEqual(r.data["next"], self.ids[2])
        r = self.api("GET", query(name="report", limit=2, before=r.data["next"]))
        self.assertEqual([j["id"] for j in r.data["jobs"]], [self.ids[1]])
        self.assertIsNone(r.data["next"])

    def test_created_bounds(self):
        a = self.submit({"command": "true", "name": "timed"})
        self.wait_for_time(epoch(a["created_at"]) + 0.005)
        b = self.submit({"command": "true", "name": "timed"})
        t = a["created_at"]
        self.assertEqual(self.ids_of(query(name="timed", created_after=t)),
                         [b["id"], a["id"]])
        self.assertEqual(self.ids_of(query(name="timed", created_before=t)), [])
        self.assertEqual(self.ids_of(query(name="timed",
                                           created_before=b["created_at"])),
                         [a["id"]])
        self.assertEqual(self.ids_of(query(name="timed",
                                           created_after=b["created_at"])),
                         [b["id"]])
        # the same instant with an offset
        sec = epoch(b["created_at"])
        import datetime
        d = datetime.datetime.fromtimestamp(sec, datetime.timezone(
            datetime.timedelta(hours=2)))
        shifted = d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+02:00" % (
            d.microsecond // 1000)
        self.assertEqual(self.ids_of(query(name="timed", created_after=shifted)),
                         [b["id"]])

    def test_finished_bounds(self):
        j = self.run_job({"command": "true", "name": "fin"})
        fin = epoch(j["finished_at"])
        self.assertEqual(self.ids_of(query(name="fin", finished_after=j["finished_at"])),
                         [j["id"]])
        self.assertEqual(self.ids_of(query(name="fin", finished_before=j["finished_at"])),
                         [])
        self.assertEqual(self.ids_of(query(name="fin",
                                           finished_before=rfc3339(fin + 1))),
                         [j["id"]])
        self.assertEqual(self.ids_of(query(q="fin", finished_after=rfc3339(fin + 1))),
                         [])

    def test_a_malformed_time_names_its_parameter(self):
        for key in ("created_after", "created_before", "finished_after",
                    "finished_before"):
            for bad in ("yesterday", "2026-13-01T00:00:00Z", "1700000000", ""):
                with self.subTest(key=key, bad=bad):
                    r = self.api("GET", "/api/v1/jobs?%s=%s" % (
                        key, urllib.parse.quote(bad)))
                    self.assertError(r, 400, "invalid_field", key)
                    self.assertIn(key, r.data["error"]["message"])

    def test_q_pages_without_gaps_or_repeats(self):
        every = self.ids_of(query(q="e"))
        self.assertGreater(len(every), 4)
        seen, before = [], None
        while True:
            kw = {"q": "e", "limit": 2}
            if before:
                kw["before"] = before
            r = self.api("GET", query(**kw))
            self.assertLessEqual(len(r.data["jobs"]), 2)
            seen += [j["id"] for j in r.data["jobs"]]
            before = r.data["next"]
            if before is None:
                break
        self.assertEqual(seen, every)
        self.assertEqual(seen, sorted(seen, reverse=True))

    def test_a_numbers_job_leads_the_first_page_only(self):
        # q = the id of a job whose text does not hold that number
        jid = self.ids[0]
        q = str(jid)
        first = self.ids_of(query(q=q, limit=1))
        self.assertEqual(first, [jid])
        r = self.api("GET", query(q=q, before=jid + 1))
        self.assertNotIn(jid, [j["id"] for j in r.data["jobs"]])


class SearchWindowTest(RunnelTestCase):
    SERVER_ENV = {"RUNNEL_LIST_WINDOW": "10"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        specs = []
        for i in range(35):
            hit = i in (0, 1, 2, 34)
            specs.append({"command": "true", "name": "hit" if hit else "miss%d" % i})
        r = cls.server.api("POST", "/api/v1/jobs", body=specs)
        assert r.status == 201, r
        cls.ids = [j["id"] for j in r.data["jobs"]]
        cls.hits = [cls.ids[i] for i in (34, 2, 1, 0)]

    def test_a_page_examines_at_most_the_window(self):
        r = self.api("GET", query(q="HIT"))
        self.assertEqual(r.status, 200, r.raw)
        page = [j["id"] for j in r.data["jobs"]]
        # only the newest hit lies in the newest 10 ids; the page says
        # where to go on although it is not full
        self.assertEqual(page, [self.hits[0]])
        self.assertIsNotNone(r.data["next"])
        self.assertGreaterEqual(r.data["next"], self.ids[-1] - 10 + 1)

    def test_following_next_finds_every_match_once(self):
        seen, before, pages = [], None, 0
        while True:
            path = query(q="hit") + ("&before=%d" % before if before else "")
            r = self.api("GET", path)
            got = [j["id"] for j in r.data["jobs"]]
            if before:
                self.assertTrue(all(before - 10 <= i < before for i in got),
                                (before, got))
            seen += got
            pages += 1
            before = r.data["next"]
            if before is None:
                break
            self.assertLess(pages, 20)
        self.assertEqual(seen, self.hits)
        self.assertGreaterEqual(pages, 4)

    def test_time_and_exit_filters_are_windowed_too(self):
        r = self.api("GET", query(created_after="2000-01-01T00:00:00Z", limit=50))
        self.assertLessEqual(len(r.data["jobs"]), 10)
        self.assertIsNotNone(r.data["next"])

    def test_name_alone_is_not_windowed(self):
        r = self.api("GET", query(name="hit"))
        self.assertEqual([j["id"] for j in r.data["jobs"]], self.hits)
        self.assertIsNone(r.data["next"])

    def test_a_number_reaches_below_the_window_on_the_first_page(self):
        jid = self.ids[5]
        r = self.api("GET", query(q=str(jid)))
        self.assertIn(jid, [j["id"] for j in r.data["jobs"]])
