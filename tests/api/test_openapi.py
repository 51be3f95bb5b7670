"""GET /api/v1/openapi.json: the OpenAPI description runneld was built with.

The document's contents are checked by ctest's openapi.routes (against the
route table) and openapi.answers (against every answer of this suite);
here, how it is served: JSON, OpenAPI 3.1, ETag and gzip, HEAD, and the
token like the rest of /api/v1.
"""
import gzip
import http.client
import json

from harness import RunnelTestCase

OPENAPI = "/api/v1/openapi.json"
TOKEN = "openapi-Token_7"


class OpenApiTest(RunnelTestCase):
    WORKERS = 1

    def test_the_description_is_openapi_3_1_json(self):
        r = self.api("GET", OPENAPI)
        self.assertEqual(r.status, 200, r.raw[:300])
        self.assertEqual(r.headers["Content-Type"], "application/json; charset=utf-8")
        doc = r.data
        self.assertIsInstance(doc, dict)
        self.assertRegex(doc["openapi"], r"^3\.1\.\d+$")
        self.assertIn(OPENAPI, doc["paths"])
        self.assertIn("get", doc["paths"]["/api/v1/jobs/{id}"])
        self.assertIn("Job", doc["components"]["schemas"])

    def test_etag_gzip_and_head(self):
        r = self.api("GET", OPENAPI)
        etag = r.headers["ETag"]
        self.assertTrue(etag)
        again = self.api("GET", OPENAPI, headers={"If-None-Match": etag})
        self.assertEqual(again.status, 304)
        self.assertEqual(again.raw, b"")
        z, body = self.plain("GET", {"Accept-Encoding": "gzip"})
        self.assertEqual(z.status, 200)
        self.assertEqual(z.getheader("Content-Encoding"), "gzip")
        self.assertEqual(json.loads(gzip.decompress(body)), r.data)
        h, body = self.plain("HEAD", {})
        self.assertEqual(h.status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(int(h.getheader("Content-Length")), len(r.raw))

    def plain(self, method, headers):
        """(response, body) of OPENAPI: not through the harness, which
        reads a JSON answer's body as JSON."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                          timeout=5)
        try:
            conn.request(method, OPENAPI, headers=headers)
            resp = conn.getresponse()
            return resp, resp.read()
        finally:
            conn.close()

    def test_other_methods_are_405(self):
        r = self.api("POST", OPENAPI, body={})
        self.assertEqual(r.status, 405)
        self.assertEqual(r.data["error"]["code"], "method_not_allowed")
        self.assertEqual(r.headers["Allow"], "GET, HEAD")


class OpenApiTokenTest(RunnelTestCase):
    WORKERS = 1
    TOKEN = TOKEN

    def test_the_description_needs_the_token(self):
        for auth in (False, "wrong"):
            with self.subTest(token=auth):
                r = self.api("GET", OPENAPI, token=auth)
                self.assertEqual(r.status, 401)
                self.assertEqual(r.data["error"]["code"], "unauthorized")
        r = self.api("GET", OPENAPI)
        self.assertEqual(r.status, 200)
        self.assertRegex(r.data["openapi"], r"^3\.1\.\d+$")
