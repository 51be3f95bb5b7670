"""Query parameters a route does not take are refused (400
unknown_parameter), on every route of server/api/routes.c; the ones it
takes are not; the dashboard's files take any.  And every JSON answer
ends with a newline."""
import os
import re

from harness import RunnelTestCase

ROUTES_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "server", "api", "routes.c")
ROUTE_RE = re.compile(r'\{HTTP_(\w+),\s*"([^"]+)",\s*\w+,\s*\d,\s*(\w+|"[^"]*")\}')


def route_table():
    """(method, pattern, params) of each route, read from routes.c itself
    so that a route added there is tested here without more ado."""
    with open(ROUTES_C) as f:
        text = f.read()
    macros = {}
    for m in re.finditer(r'#define\s+(\w+)\s+((?:"[^"]*"\s*(?:\\\n\s*)?)+)', text):
        macros[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
    table = []
    for m in ROUTE_RE.finditer(text.replace("\n\t    ", " ")):
        method, pattern, params = m.groups()
        if params == "NULL":
            params = None
        elif params.startswith('"'):
            params = params.strip('"')
        else:
            params = macros[params]
        table.append((method, pattern, params.split() if params is not None else None))
    return table


class ParamsTest(RunnelTestCase):
    def setUp(self):
        super().setUp()
        self.jid = self.run_job({"command": "true"})["id"]

    def path(self, pattern):
        return (pattern.replace("{id}", str(self.jid))
                .replace("{name}", "default"))

    def test_the_table_is_read(self):
        table = route_table()
        self.assertGreaterEqual(len(table), 25, table)
        self.assertIn(("GET", "/api/v1/jobs/{id}", ["wait"]), table)
        self.assertIn(("GET", "*", None), table)

    def test_every_route_refuses_an_unknown_parameter(self):
        for method, pattern, params in route_table():
            if params is None:
                continue
            with self.subTest(method=method, pattern=pattern):
                path = self.path(pattern) + "?zzz_not_a_param=1"
                r = self.api(method, path, body={} if method in
                             ("POST", "PATCH", "PUT") else None)
                self.assertError(r, 400, "unknown_parameter", "zzz_not_a_param")
                self.assertIn("zzz_not_a_param", r.data["error"]["message"])

    def test_an_unknown_parameter_is_named_even_beside_known_ones(self):
        r = self.api("GET", "/api/v1/jobs?limit=5&colour=red&state=failed")
        self.assertError(r, 400, "unknown_parameter", "colour")
        r = self.api("GET", "/api/v1/jobs/%d?wait=0&wiat=1" % self.jid)
        self.assertError(r, 400, "unknown_parameter", "wiat")

    def test_known_parameters_pass(self):
        for path in ("/api/v1/jobs?state=succeeded&queue=default&type=command"
                     "&limit=5&q=true&name=x&exit_code=0"
                     "&created_after=2020-01-01T00:00:00Z",
                     "/api/v1/jobs/%d?wait=0" % self.jid,
                     "/api/v1/jobs/%d/output?stream=stderr&offset=0&follow=0"
                     % self.jid):
            r = self.api("GET", path)
            self.assertEqual(r.status, 200, (path, r.raw[:300]))

    def test_the_dashboard_takes_any_parameter(self):
        r = self.api("GET", "/?v=123")
        self.assertEqual(r.status, 200, r.raw[:200])

    def test_an_unknown_parameter_changes_nothing(self):
        before = self.server.total()
        r = self.api("POST", "/api/v1/jobs?priority=3", body={"command": "true"})
        self.assertError(r, 400, "unknown_parameter", "priority")
        self.assertEqual(self.server.total(), before)

    def test_every_json_answer_ends_with_a_newline(self):
        for method, path in (("GET", "/api/v1/jobs"), ("GET", "/api/v1/stats"),
                             ("GET", "/api/v1/jobs/%d" % self.jid),
                             ("GET", "/api/v1/jobs/999999999"),
                             ("GET", "/api/v1/queues"), ("GET", "/healthz"),
                             ("GET", "/api/v1/jobs?limit=0")):
            with self.subTest(path=path):
                r = self.api(method, path)
                self.assertTrue(r.headers["Content-Type"].startswith(
                    "application/json"), r.headers)
                self.assertTrue(r.raw.endswith(b"}\n"), r.raw[-40:])
                self.assertFalse(r.raw.endswith(b"\n\n"), r.raw[-40:])

    def test_output_is_not_given_a_newline(self):
        jid = self.run_job({"command": "printf abc"})["id"]
        self.assertEqual(self.output(jid), b"abc")

    def test_queue_refusal_says_it_in_words(self):
        r = self.api("POST", "/api/v1/jobs", body={"command": "true",
                                                    "queue": "a b"})
        self.assertError(r, 400, "invalid_field", "queue")
        self.assertEqual(r.data["error"]["message"], "queue must be 1 to 64 "
                         "characters: letters, digits, '_', '.' or '-'")
