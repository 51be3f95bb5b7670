"""Webhooks: a job's, a queue's and a schedule template's hooks POSTed when
jobs finish, signed when a secret is set, retried with back-off, durable
across a runneld kill -9; --webhook-allow at submit and at connect time;
the bad specs; GET /api/v1/jobs/{id}/deliveries.

Every class that receives runs an HTTP server of its own on 127.0.0.1
(Receiver): it records each request and answers each path with the codes a
test programmed (200 once they run out).  Each test uses paths of its own,
so the tests of a class do not see each other's deliveries.
"""
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import threading
import time

import harness_pg
from harness import (BASE_ARGS, RunnelTestCase, epoch, postgresql_only,
                     proc_environ, run_runneld, scaled, wait_until)

SECRET = "s3cret-for-the-webhook-tests"


# ---- the receiving end -----------------------------------------------------

class Receiver:
    """An HTTP server on 127.0.0.1 in a thread that records every request.

    program(path, codes): the answers to the next requests to path, in
    order (a code, or (code, body bytes)); 200 once they run out.
    hold(path): its answers wait until the test sets the event.
    """

    def __init__(self, port=0):
        self.lock = threading.Lock()
        self.requests = []	# {path, headers (lower-case keys), body, at}
        self.codes = {}
        self.holds = {}		# path: threading.Event its answers wait for
        self.conns = set()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"	# keep-alive, as receivers do

            def setup(self):
                super().setup()
                with rec.lock:
                    rec.conns.add(self.connection)

            def finish(self):
                with rec.lock:
                    rec.conns.discard(self.connection)
                super().finish()

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with rec.lock:
                    if not rec.up:	# stopping: no answer
                        self.close_connection = True
                        return
                    rec.requests.append({
                        "path": self.path, "body": body, "at": time.monotonic(),
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "header_names": [k.lower() for k in self.headers.keys()]})
                    seq = rec.codes.get(self.path)
                    code = seq.pop(0) if seq else 200
                    out = None
                    if isinstance(code, tuple):
                        code, out = code
                    hold = rec.holds.get(self.path)
                if hold is not None:
                    hold.wait(scaled(30))
                if out is None:
                    out = b"answer %d" % code
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()
        self.up = True

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def program(self, path, codes):
        with self.lock:
            self.codes[path] = list(codes)

    def hold(self, path):
        """Answers to path wait until the returned event is set."""
        ev = threading.Event()
        with self.lock:
            self.holds[path] = ev
        return ev

    def stop(self):
        """Down: no listener, and the kept-alive connections cut too."""
        if self.up:
            with self.lock:
                self.up = False
                for ev in self.holds.values():
                    ev.set()
            self.httpd.shutdown()
            self.httpd.server_close()
            with self.lock:
                conns = list(self.conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def got(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def wait(self, path, n=1, timeout=20):
        """The requests to path once there are at least n."""
        return wait_until(lambda: (lambda rs: rs if len(rs) >= n else None)(
            self.got(path)), timeout, "%d request(s) to %s" % (n, path))

    def for_job(self, path, jid):
        return [r for r in self.got(path) if json.loads(r["body"])["id"] == jid]

    def wait_job(self, path, jid, n=1, timeout=20):
        return wait_until(lambda: (lambda rs: rs if len(rs) >= n else None)(
            self.for_job(path, jid)), timeout,
            "%d request(s) for job %d to %s" % (n, jid, path))


def signature(secret, ts, body):
    return "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body,
                                hashlib.sha256).hexdigest()


class HookCase(RunnelTestCase):
    """A runneld that may reach the class's Receiver (127.0.0.1)."""
    SERVER_ARGS = BASE_ARGS + ["--webhook-allow", "127.0.0.1",
                               "--webhook-retry-base", "0.2"]
    SERVER_ENV = {"RUNNEL_WEBHOOK_SECRET": SECRET}

    @classmethod
    def setUpClass(cls):
        cls.rx = Receiver()
        try:
            super().setUpClass()
        except BaseException:
            cls.rx.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.rx.stop()

    def path(self, what=""):
        return "/%s%s" % (self.id().rsplit(".", 1)[-1], what)

    def hook(self, path, on=None):
        h = {"url": self.rx.url(path)}
        if on is not None:
            h["on"] = on
        return h

    def deliveries(self, jid, server=None):
        r = (server or self.server).api("GET", "/api/v1/jobs/%d/deliveries" % jid)
        self.assertEqual(r.status, 200, r.raw)
        return r.data["deliveries"]

    def wait_delivery(self, jid, pred, timeout=20, what="a delivery"):
        """The job's deliveries once pred(deliveries) is true."""
        return wait_until(lambda: (lambda ds: ds if pred(ds) else None)(
            self.deliveries(jid)), timeout, "%s of job %d" % (what, jid))

    def assertSigned(self, req):
        h = req["headers"]
        self.assertIn("x-runnel-signature", h, h)
        self.assertTrue(hmac.compare_digest(
            h["x-runnel-signature"],
            signature(SECRET, h["x-runnel-timestamp"], req["body"])),
            "signature %r does not verify" % h["x-runnel-signature"])

    def assertHeaders(self, req, event):
        h = req["headers"]
        self.assertTrue(h.get("content-type", "").startswith("application/json"), h)
        self.assertEqual(h.get("user-agent"), "runnel-webhook/1", h)
        self.assertEqual(h.get("x-runnel-event"), event, h)
        self.assertRegex(h.get("x-runnel-delivery", ""), r"^\S+$", h)
        self.assertRegex(h.get("x-runnel-timestamp", ""), r"^\d+$", h)
        self.assertLessEqual(abs(int(h["x-runnel-timestamp"]) - time.time()),
                             scaled(30), h)


# ---- deliveries with a secret --------------------------------------------

class WebhookTest(HookCase):
    WORKERS = 2

    def test_signed_post_of_the_finished_job(self):
        p = self.path()
        j = self.submit({"command": "echo hi", "webhooks": [self.hook(p)]})
        self.assertEqual(j["webhooks"], [{"url": self.rx.url(p)}], j)
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "succeeded", done)
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.succeeded")
        self.assertSigned(req)
        body = json.loads(req["body"])
        self.assertEqual(body, self.job(j["id"]),
                         "the body is the job object as it is now")
        self.assertEqual(body["state"], "succeeded")
        self.assertEqual(body["exit_code"], 0)
        self.assertIsNotNone(body["finished_at"])
        self.assertEqual(body["stdout_bytes"], 3)
        # a tampered body or another secret does not verify
        h = req["headers"]
        self.assertFalse(hmac.compare_digest(
            h["x-runnel-signature"],
            signature(SECRET, h["x-runnel-timestamp"], req["body"] + b" ")))
        self.assertFalse(hmac.compare_digest(
            h["x-runnel-signature"],
            signature(SECRET + "x", h["x-runnel-timestamp"], req["body"])))
        ds = self.wait_delivery(j["id"], lambda ds: ds and
                                ds[0]["state"] == "delivered")
        self.assertEqual(len(ds), 1, ds)
        d = ds[0]
        self.assertEqual(str(d["id"]), h["x-runnel-delivery"], d)
        self.assertEqual(d["url"], self.rx.url(p))
        self.assertEqual(d["event"], "job.succeeded")
        self.assertEqual(d["attempt"], 1)
        self.assertEqual(d["tries"], 1)
        self.assertEqual(d["last_status"], 200)
        self.assertIsNone(d["next_try_at"], d)
        self.assertEqual(len(d["answers"]), 1, d)
        a = d["answers"][0]
        self.assertEqual((a["try"], a["status"]), (1, 200), a)
        self.assertEqual(a["response"], "answer 200", a)
        self.assertGreaterEqual(epoch(a["at"]), epoch(d["created_at"]))
        self.assertGreaterEqual(epoch(d["created_at"]), epoch(done["finished_at"]))

    def test_failed_job_delivers_job_failed(self):
        p = self.path()
        j = self.submit({"command": "exit 3", "webhooks": [self.hook(p)]})
        self.assertEqual(self.wait(j["id"])["state"], "failed")
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.failed")
        self.assertSigned(req)
        body = json.loads(req["body"])
        self.assertEqual((body["id"], body["state"], body["exit_code"]),
                         (j["id"], "failed", 3), body)

    def test_nothing_sent_for_an_event_not_in_on(self):
        p = self.path()
        a = self.submit({"command": "true",
                         "webhooks": [self.hook(p, ["failed", "canceled"])]})
        self.assertEqual(self.wait(a["id"])["state"], "succeeded")
        # a later control job's delivery to the same receiver arrives
        b = self.submit({"command": "exit 1",
                         "webhooks": [self.hook(p, ["failed"])]})
        self.assertEqual(self.wait(b["id"])["state"], "failed")
        self.rx.wait_job(p, b["id"])
        self.assertEqual(self.rx.for_job(p, a["id"]), [],
                         "nothing for a succeeded job hooked on failed/canceled")
        self.assertEqual(self.deliveries(a["id"]), [])
        self.assertEqual(len(self.rx.got(p)), 1, self.rx.got(p))

    def test_several_hooks_each_get_their_events(self):
        p1, p2, p3 = self.path("-1"), self.path("-2"), self.path("-3")
        j = self.submit({"command": "exit 2", "webhooks": [
            self.hook(p1), self.hook(p2, ["failed"]), self.hook(p3, ["succeeded"])]})
        self.assertEqual(self.wait(j["id"])["state"], "failed")
        r1, r2 = self.rx.wait(p1)[0], self.rx.wait(p2)[0]
        ds = self.wait_delivery(j["id"], lambda ds: len(ds) == 2 and all(
            d["state"] == "delivered" for d in ds), what="2 delivered")
        self.assertEqual(sorted(d["url"] for d in ds),
                         sorted([self.rx.url(p1), self.rx.url(p2)]))
        self.assertNotEqual(r1["headers"]["x-runnel-delivery"],
                            r2["headers"]["x-runnel-delivery"])
        self.assertEqual(self.rx.got(p3), [])

    def test_retried_after_500_twice_with_the_same_delivery_id(self):
        p = self.path()
        self.rx.program(p, [500, 500, 200])
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(j["id"])
        rs = self.rx.wait(p, 3)
        ids = {r["headers"]["x-runnel-delivery"] for r in rs}
        self.assertEqual(len(ids), 1, "one delivery id on every try: %r" % ids)
        for r in rs:
            self.assertHeaders(r, "job.succeeded")
            self.assertSigned(r)
            self.assertEqual(json.loads(r["body"])["id"], j["id"])
        # back-off from --webhook-retry-base 0.2, doubling, jitter +-25%
        self.assertGreaterEqual(rs[1]["at"] - rs[0]["at"], 0.2 * 0.75 - 0.01)
        self.assertGreaterEqual(rs[2]["at"] - rs[1]["at"], 0.4 * 0.75 - 0.01)
        ds = self.wait_delivery(j["id"], lambda ds: ds and
                                ds[0]["state"] == "delivered")
        d = ds[0]
        self.assertEqual(str(d["id"]), ids.pop())
        self.assertEqual(d["tries"], 3, d)
        self.assertEqual(d["last_status"], 200, d)
        self.assertEqual([(a["try"], a["status"]) for a in d["answers"]],
                         [(1, 500), (2, 500), (3, 200)], d)
        self.assertIn("500", d["answers"][0]["error"] or "", d)
        self.assertEqual(d["answers"][0]["response"], "answer 500", d)
        self.assertIsNone(d["answers"][2]["error"], d)
        # no further try once delivered
        self.sentinel_delivery()
        self.assertEqual(len(self.rx.got(p)), 3)

    def sentinel_delivery(self):
        """A later job's delivery has arrived: the sender went round."""
        p = self.path("-sentinel-%d" % time.monotonic_ns())
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.rx.wait_job(p, j["id"])

    def test_pending_delivery_shows_its_next_try(self):
        p = self.path()
        self.rx.program(p, [503, 200])
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(j["id"])
        self.rx.wait(p, 2)
        d = self.wait_delivery(j["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")[0]
        self.assertEqual(d["answers"][0]["status"], 503)
        # the second try came no sooner than base * 0.75 after the first
        a0, a1 = epoch(d["answers"][0]["at"]), epoch(d["answers"][1]["at"])
        self.assertGreaterEqual(a1 - a0, 0.2 * 0.75 - 0.002, d)

    def test_canceled_job_delivers_job_canceled(self):
        p = self.path()
        j = self.submit({"command": "sleep 30", "webhooks": [self.hook(p)]})
        self.cancel_later(j["id"])
        self.server.wait_running(j["id"])
        r = self.cancel(j["id"])
        self.assertEqual(r.status, 200, r.raw)
        done = self.wait(j["id"])
        self.assertEqual(done["state"], "canceled")
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.canceled")
        self.assertSigned(req)
        body = json.loads(req["body"])
        self.assertEqual((body["id"], body["state"]), (j["id"], "canceled"))

    def test_canceled_queued_job_delivers_job_canceled(self):
        p = self.path()
        j = self.submit({"command": "true", "delay": 3600,
                         "webhooks": [self.hook(p, ["canceled"])]})
        self.assertEqual(self.cancel(j["id"]).status, 200)
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.canceled")
        self.assertEqual(json.loads(req["body"])["state"], "canceled")

    def test_queue_webhooks(self):
        p, own = self.path("-queue"), self.path("-own")
        q = "hookq"
        self.patch_queue(q, {"webhooks": [self.hook(p, ["succeeded", "failed"])]})
        self.assertEqual(self.queue(q)["webhooks"],
                         [{"url": self.rx.url(p), "on": ["succeeded", "failed"]}])
        a = self.submit({"command": "true", "queue": q})
        b = self.submit({"command": "exit 4", "queue": q,
                         "webhooks": [self.hook(own)]})
        self.wait_all([a["id"], b["id"]])
        ra = self.rx.wait_job(p, a["id"])[0]
        self.assertHeaders(ra, "job.succeeded")
        self.assertSigned(ra)
        rb = self.rx.wait_job(p, b["id"])[0]
        self.assertHeaders(rb, "job.failed")
        self.assertHeaders(self.rx.wait_job(own, b["id"])[0], "job.failed")
        self.assertEqual(len(self.wait_delivery(b["id"], lambda ds: len(ds) == 2)), 2)
        # a job of another queue gets none of them
        c = self.submit({"command": "true", "queue": "other-q",
                         "webhooks": [self.hook(own)]})
        self.rx.wait_job(own, c["id"])
        self.assertEqual(self.rx.for_job(p, c["id"]), [])
        # a canceled job of the queue: not in the queue hook's "on"
        d = self.submit({"command": "true", "queue": q, "delay": 3600,
                         "webhooks": [self.hook(own)]})
        self.cancel(d["id"])
        self.rx.wait_job(own, d["id"])
        self.assertEqual(self.rx.for_job(p, d["id"]), [])
        # null removes them
        self.patch_queue(q, {"webhooks": None})
        self.assertIsNone(self.queue(q)["webhooks"])
        e = self.submit({"command": "true", "queue": q,
                         "webhooks": [self.hook(own)]})
        self.rx.wait_job(own, e["id"])
        self.assertEqual(self.rx.for_job(p, e["id"]), [])
        self.assertEqual(len(self.deliveries(e["id"])), 1)

    def test_queue_webhooks_refused_by_the_policy(self):
        q = "hookq-refused"
        for url in ("http://10.1.2.3/", "http://localhost/"):
            r = self.api("PATCH", "/api/v1/queues/" + q,
                         body={"webhooks": [{"url": self.rx.url("/ok")}, {"url": url}]})
            self.assertError(r, 422, "invalid_field", "webhooks[1].url", url)
        r = self.api("PATCH", "/api/v1/queues/" + q,
                     body={"webhooks": [{"url": "http://x/", "nope": 1}]})
        self.assertError(r, 400, "unknown_field")
        r = self.api("PATCH", "/api/v1/queues/" + q, body={"webhooks": "http://x/"})
        self.assertError(r, 400, "invalid_field", "webhooks")
        qq = self.queue(q)
        self.assertTrue(qq is None or qq["webhooks"] is None, qq)

    def test_schedule_template_webhooks(self):
        p = self.path()
        r = self.api("POST", "/api/v1/schedules", body={
            "name": "hooked", "cron": "@every 1s",
            "job": {"command": "true", "queue": "sched-hooks",
                    "webhooks": [self.hook(p, ["succeeded"])]}})
        self.assertEqual(r.status, 201, r.raw)
        sid = r.data["id"]
        try:
            req = self.rx.wait(p, 1, 30)[0]
        finally:
            self.api("DELETE", "/api/v1/schedules/%d" % sid)
        self.assertHeaders(req, "job.succeeded")
        self.assertSigned(req)
        body = json.loads(req["body"])
        self.assertEqual(body["schedule_id"], sid, body)
        self.assertEqual(body["state"], "succeeded")
        self.assertEqual(body["webhooks"], [self.hook(p, ["succeeded"])])
        self.assertEqual(self.deliveries(body["id"])[0]["url"], self.rx.url(p))

    def test_schedule_template_refused_by_the_policy(self):
        before = self.api("GET", "/api/v1/schedules").data
        for url in ("http://10.1.2.3/", "http://169.254.169.254/"):
            r = self.api("POST", "/api/v1/schedules", body={
                "name": "refused", "cron": "@every 1s",
                "job": {"command": "true", "webhooks": [{"url": url}]}})
            self.assertError(r, 422, "invalid_field", "job.webhooks[0].url", url)
        self.assertEqual(self.api("GET", "/api/v1/schedules").data, before)

    def test_schedule_template_bad_webhooks(self):
        before = self.api("GET", "/api/v1/schedules").data
        for hooks, code, field in (
                ("http://127.0.0.1/", "invalid_field", "job.webhooks"),
                ([{"url": "http://127.0.0.1/", "x": 1}], "unknown_field", None),
                ([{"url": "ftp://127.0.0.1/"}], "invalid_field",
                 "job.webhooks[0].url"),
                ([{"url": "http://127.0.0.1/", "on": []}], "invalid_field",
                 "job.webhooks[0].on")):
            r = self.api("POST", "/api/v1/schedules", body={
                "name": "bad-hooks", "cron": "@every 1h",
                "job": {"command": "true", "webhooks": hooks}})
            # a template's errors are the schedule's: 422, named job.*
            self.assertError(r, 422, code, field, repr(hooks))
        self.assertEqual(self.api("GET", "/api/v1/schedules").data, before)

    def test_job_born_failed_by_its_failed_dependency(self):
        p = self.path()
        a = self.submit({"command": "exit 1"})
        self.assertEqual(self.wait(a["id"])["state"], "failed")
        b = self.submit({"command": "true", "after": [a["id"]],
                         "webhooks": [self.hook(p, ["failed"])]})
        self.assertEqual(b["state"], "failed", b)
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.failed")
        self.assertSigned(req)
        body = json.loads(req["body"])
        self.assertEqual((body["id"], body["state"]), (b["id"], "failed"))
        self.assertEqual(body, self.job(b["id"]))

    def test_dependent_failed_by_the_cascade(self):
        p = self.path()
        g = self.gate()
        a = self.submit({"command": g.cmd + "; exit 1"})
        try:
            b = self.submit({"command": "true", "after": [a["id"]],
                             "webhooks": [self.hook(p)]})
            self.assertIn(b["state"], ("queued", "scheduled"), b)
        finally:
            g.release()
        g.open()
        self.assertEqual(self.wait(b["id"])["state"], "failed")
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.failed")
        self.assertEqual(json.loads(req["body"])["id"], b["id"])

    def test_each_finished_attempt_of_a_retried_job(self):
        """A job retried by hand finishes twice: each finish is told."""
        p = self.path()
        j = self.submit({"command": "exit 5", "webhooks": [self.hook(p)]})
        self.assertEqual(self.wait(j["id"])["state"], "failed")
        self.rx.wait(p, 1)
        r = self.api("POST", "/api/v1/jobs/%d/retry" % j["id"])
        self.assertIn(r.status, (200, 201), r.raw)
        self.wait_state_after_retry(j["id"])
        rs = self.rx.wait(p, 2)
        self.assertEqual(len({r["headers"]["x-runnel-delivery"] for r in rs}), 2)
        ds = self.wait_delivery(j["id"], lambda ds: len(ds) == 2)
        self.assertEqual([d["attempt"] for d in ds], [1, 2], ds)

    def wait_state_after_retry(self, jid):
        wait_until(lambda: self.job(jid)["attempts"] == 2 and
                   self.job(jid)["state"] == "failed", 20, "the retry to fail")

    def test_policy_refusals_at_submit(self):
        total = self.server.total()
        port = self.rx.port
        refused = [
            "http://10.1.2.3/",
            "http://192.168.0.1/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://127.0.0.1@10.0.0.1/",
            "http://127.0.0.1:%d@10.0.0.1/" % port,
            "http://user:pw@192.168.1.1:%d/" % port,
            "http://10.0.0.1#@127.0.0.1/",
            "http://127.0.0.2:%d/" % port,
            "http://[::1]:%d/" % port,
            "http://[::ffff:10.0.0.1]/",
            "http://0.0.0.0:%d/" % port,
            "http://localhost:%d/" % port,
            "http://example.com/",
            "https://10.0.0.1/",
        ]
        for url in refused:
            r = self.api("POST", "/api/v1/jobs",
                         body={"command": "true", "webhooks": [{"url": url}]})
            self.assertIn(r.status, (400, 422), "%s: %r" % (url, r.raw))
            self.assertError(r, r.status, "invalid_field", "webhooks[0].url", url)
            if r.status == 400:
                # only a malformed URL may be a 400
                self.assertNotIn(url, ("http://10.1.2.3/", "http://localhost:%d/" % port))
        # a refused one among allowed ones, second hook
        r = self.api("POST", "/api/v1/jobs", body={"command": "true", "webhooks": [
            {"url": self.rx.url("/x")}, {"url": "http://192.168.0.1/"}]})
        self.assertError(r, 422, "invalid_field", "webhooks[1].url")
        # in a batch: the job's index leads
        r = self.api("POST", "/api/v1/jobs", body=[
            {"command": "true"}, {"command": "true"},
            {"command": "true", "webhooks": [{"url": "http://10.1.2.3/"}]}])
        self.assertError(r, 422, "invalid_field", "[2].webhooks[0].url")
        self.assertEqual(self.server.total(), total, "a refused submit stores nothing")

    def test_not_http_is_refused_at_submit(self):
        total = self.server.total()
        for url in ("ftp://127.0.0.1/", "file:///etc/passwd",
                    "gopher://127.0.0.1/", "127.0.0.1:%d/" % self.rx.port,
                    "http:/127.0.0.1/", "http://", "http:///x"):
            r = self.api("POST", "/api/v1/jobs",
                         body={"command": "true", "webhooks": [{"url": url}]})
            self.assertIn(r.status, (400, 422), "%s: %r" % (url, r.raw))
            self.assertError(r, r.status, "invalid_field", "webhooks[0].url", url)
        self.assertEqual(self.server.total(), total)

    def test_bad_specs(self):
        total = self.server.total()
        ok = self.rx.url("/never")
        cases = [
            ("http://127.0.0.1/", 400, "invalid_field", "webhooks"),
            ({"url": ok}, 400, "invalid_field", "webhooks"),
            ([ok], 400, "invalid_field", "webhooks[0]"),
            ([{"url": ok}, 7], 400, "invalid_field", "webhooks[1]"),
            ([{"url": ok, "secret": "x"}], 400, "unknown_field", None),
            ([{"url": ok, "On": ["failed"]}], 400, "unknown_field", None),
            ([{}], 400, "invalid_field", "webhooks[0].url"),
            ([{"on": ["failed"]}], 400, "invalid_field", "webhooks[0].url"),
            ([{"url": 5}], 400, "invalid_field", "webhooks[0].url"),
            ([{"url": None}], 400, "invalid_field", "webhooks[0].url"),
            ([{"url": ""}], 400, "invalid_field", "webhooks[0].url"),
            ([{"url": ok + "/" + "a" * 2048}], 400, "invalid_field",
             "webhooks[0].url"),
            ([{"url": ok, "on": []}], 400, "invalid_field", "webhooks[0].on"),
            ([{"url": ok, "on": "failed"}], 400, "invalid_field", "webhooks[0].on"),
            ([{"url": ok, "on": ["running"]}], 400, "invalid_field",
             "webhooks[0].on"),
            ([{"url": ok, "on": ["queued"]}], 400, "invalid_field",
             "webhooks[0].on"),
            ([{"url": ok, "on": ["failed", "bogus"]}], 400, "invalid_field",
             "webhooks[0].on"),
            ([{"url": ok, "on": [None]}], 400, "invalid_field", "webhooks[0].on"),
            ([{"url": ok, "on": ["FAILED"]}], 400, "invalid_field",
             "webhooks[0].on"),
            ([{"url": ok}] * 11, 400, "invalid_field", "webhooks"),
        ]
        for hooks, status, code, field in cases:
            r = self.api("POST", "/api/v1/jobs",
                         body={"command": "true", "webhooks": hooks})
            self.assertError(r, status, code, field, "webhooks %r" % (hooks,))
        r = self.api("POST", "/api/v1/jobs", body=[
            {"command": "true"}, {"command": "true"},
            {"command": "true", "webhooks": [{"url": ok, "on": []}]}])
        self.assertError(r, 400, "invalid_field", "[2].webhooks[0].on")
        self.assertEqual(self.server.total(), total)

    def test_limits_that_pass(self):
        p = self.path()
        base = self.rx.url(p)
        long_url = base + "?" + "a" * (2048 - len(base) - 1)
        self.assertEqual(len(long_url), 2048)
        j = self.submit({"command": "true",
                         "webhooks": [{"url": long_url, "on": ["failed"]}] * 9 +
                         [{"url": long_url}]})
        self.assertEqual(len(j["webhooks"]), 10)
        self.assertEqual(self.wait(j["id"])["state"], "succeeded")
        # the one for succeeded goes out, to the whole URL
        path = long_url[len(base) - len(p):]
        req = self.rx.wait(path)[0]
        self.assertEqual(len(self.rx.got(path)), 1)
        self.assertEqual(len(self.wait_delivery(j["id"], lambda ds: ds and
                             ds[0]["state"] == "delivered")), 1)
        j = self.submit({"command": "true", "webhooks": None})
        self.assertIsNone(j["webhooks"])
        j = self.submit({"command": "true", "webhooks": []})
        self.assertIn(j["webhooks"], (None, []))
        self.assertEqual(self.deliveries(j["id"]), [])

    def test_deliveries_of_a_missing_job_is_404(self):
        r = self.api("GET", "/api/v1/jobs/987654321/deliveries")
        self.assertError(r, 404, "not_found")
        r = self.api("GET", "/api/v1/jobs/abc/deliveries")
        self.assertIn(r.status, (400, 404), r.raw)
        r = self.api("POST", "/api/v1/jobs/1/deliveries")
        self.assertEqual(r.status, 405, r.raw)
        j = self.run_job({"command": "true"})
        self.assertEqual(self.deliveries(j["id"]), [])

    def test_deleted_job_takes_its_pending_delivery(self):
        p = self.path()
        self.rx.program(p, [500] * 1000)
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(j["id"])
        self.rx.wait(p, 2)
        r = self.api("DELETE", "/api/v1/jobs/%d" % j["id"])
        self.assertIn(r.status, (200, 204), r.raw)
        r = self.api("GET", "/api/v1/jobs/%d/deliveries" % j["id"])
        self.assertError(r, 404, "not_found")
        n = len(self.rx.got(p))
        # a try may have been in flight; after it, and a later delivery, none
        self.sentinel_delivery()
        time_n = len(self.rx.got(p))
        self.assertLessEqual(time_n, n + 1)
        self.sentinel_delivery()
        self.sentinel_delivery()
        self.assertEqual(len(self.rx.got(p)), time_n,
                         "tries go on for a deleted job")
        self.rx.program(p, [])

    def test_delivery_ids_are_never_reused(self):
        """X-Runnel-Delivery is what a receiver deduplicates on: a delivery
        of a deleted job must not hand its id to a later one."""
        p = self.path()
        a = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(a["id"])
        ra = self.rx.wait_job(p, a["id"])[0]
        self.wait_delivery(a["id"], lambda ds: ds and ds[0]["state"] == "delivered")
        r = self.api("DELETE", "/api/v1/jobs/%d" % a["id"])
        self.assertIn(r.status, (200, 204), r.raw)
        b = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(b["id"])
        rb = self.rx.wait_job(p, b["id"])[0]
        self.assertNotEqual(rb["headers"]["x-runnel-delivery"],
                            ra["headers"]["x-runnel-delivery"],
                            "the delivery id of deleted job %d was given to "
                            "job %d's delivery" % (a["id"], b["id"]))

    def test_answer_of_a_deleted_jobs_try_does_not_settle_another_delivery(self):
        """A try in flight when its job is deleted: its answer, when it
        comes, must not be stored on another job's delivery."""
        pa, pb = self.path("-a"), self.path("-b")
        release = self.rx.hold(pa)
        self.rx.program(pb, [500] * 1000)
        try:
            a = self.submit({"command": "true", "webhooks": [self.hook(pa)]})
            self.wait(a["id"])
            self.rx.wait(pa)		# A's try is in flight, held
            r = self.api("DELETE", "/api/v1/jobs/%d" % a["id"])
            self.assertIn(r.status, (200, 204), r.raw)
            b = self.submit({"command": "true", "webhooks": [self.hook(pb)]})
            self.wait(b["id"])
            self.rx.wait_job(pb, b["id"])
            self.wait_delivery(b["id"], lambda ds: ds and ds[0]["tries"] >= 1 and
                               ds[0]["last_status"] == 500, what="a 500")
        finally:
            release.set()
        # A's held try gets its 200 now; then B's next tries still come
        n = len(self.rx.got(pb))
        self.rx.wait(pb, n + 2)
        d = self.deliveries(b["id"])[0]
        self.rx.program(pb, [])
        self.assertEqual(d["state"], "pending",
                         "job %d's delivery was settled by another's answer: %r"
                         % (b["id"], d))
        self.assertTrue(all(x["status"] == 500 for x in d["answers"]), d)
        # storing the late answer did not fail the turn's transaction (on
        # PostgreSQL a foreign key error undid everything else in it)
        bad = [l for l in self.server.log_since_start().decode(
            errors="replace").splitlines()
            if "commit failed" in l or "could not be stored" in l]
        self.assertEqual(bad, [], "runneld's log")

    def test_any_2xx_delivers_3xx_is_not_followed(self):
        p, q = self.path("-204"), self.path("-302")
        self.rx.program(p, [(204, b"")])
        self.rx.program(q, [302, 200])
        a = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        b = self.submit({"command": "true", "webhooks": [self.hook(q)]})
        self.wait_all([a["id"], b["id"]])
        d = self.wait_delivery(a["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")[0]
        self.assertEqual((d["tries"], d["last_status"]), (1, 204), d)
        d = self.wait_delivery(b["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")[0]
        self.assertEqual([x["status"] for x in d["answers"]], [302, 200], d)
        self.assertEqual(len(self.rx.got(q)), 2)

    def test_response_kept_as_printable_first_bytes(self):
        p = self.path()
        self.rx.program(p, [(500, b"oops\x00\x01\xff\n" + b"x" * 5000), 200])
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(j["id"])
        d = self.wait_delivery(j["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")[0]
        resp = d["answers"][0]["response"]
        self.assertTrue(resp.startswith("oops???\n"), resp[:20])
        self.assertLessEqual(len(resp), 1024)
        self.assertGreaterEqual(len(resp), 100)

    def test_timed_out_and_worker_killed_jobs_deliver_job_failed(self):
        p = self.path()
        j = self.submit({"command": "sleep 30", "timeout": 0.3,
                         "webhooks": [self.hook(p)]})
        self.cancel_later(j["id"])
        self.assertEqual(self.wait(j["id"])["state"], "failed")
        self.assertHeaders(self.rx.wait_job(p, j["id"])[0], "job.failed")
        k = self.submit({"command": "sleep 30", "webhooks": [self.hook(p)]})
        self.cancel_later(k["id"])
        w = self.server.wait_running(k["id"])["worker"]
        pid = [x["pid"] for x in self.server.workers_info() if x["id"] == w][0]
        os.kill(pid, signal.SIGKILL)
        self.assertEqual(self.wait(k["id"])["state"], "failed")
        r = self.rx.wait_job(p, k["id"])[0]
        self.assertHeaders(r, "job.failed")
        self.assertSigned(r)

    def test_automatic_retries_deliver_once_at_the_end(self):
        """A failed attempt that will be retried has not finished the job:
        one job.failed, for the last attempt."""
        p = self.path()
        j = self.submit({"command": "exit 1", "max_attempts": 3,
                         "webhooks": [self.hook(p)]})
        done = self.wait(j["id"], 60)
        self.assertEqual((done["state"], done["attempts"]), ("failed", 3), done)
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.failed")
        self.assertEqual(json.loads(req["body"])["attempts"], 3)
        self.sentinel_delivery()
        ds = self.deliveries(j["id"])
        self.assertEqual([(d["event"], d["attempt"]) for d in ds],
                         [("job.failed", 3)], ds)
        self.assertEqual(len(self.rx.got(p)), 1)

    def test_batch_jobs_each_deliver(self):
        p = self.path()
        jobs = self.batch([{"command": "exit %d" % i, "webhooks": [self.hook(p)]}
                           for i in range(3)])
        self.wait_all([x["id"] for x in jobs])
        for i, x in enumerate(jobs):
            r = self.rx.wait_job(p, x["id"])[0]
            self.assertHeaders(r, "job.succeeded" if i == 0 else "job.failed")
            self.assertSigned(r)

    def test_schedule_patch_refused_by_the_policy(self):
        r = self.api("POST", "/api/v1/schedules", body={
            "name": "patched", "cron": "@every 1h", "job": {"command": "true"}})
        self.assertEqual(r.status, 201, r.raw)
        sid = r.data["id"]
        self.addCleanup(self.api, "DELETE", "/api/v1/schedules/%d" % sid)
        r = self.api("PATCH", "/api/v1/schedules/%d" % sid, body={
            "job": {"command": "true", "webhooks": [{"url": "http://10.9.8.7/"}]}})
        self.assertError(r, 422, "invalid_field", "job.webhooks[0].url")
        r = self.api("GET", "/api/v1/schedules/%d" % sid)
        self.assertNotIn("10.9.8.7", r.raw.decode(), r.raw)
        r = self.api("PATCH", "/api/v1/schedules/%d" % sid, body={
            "job": {"command": "true", "webhooks": [self.hook("/ok")]}})
        self.assertEqual(r.status, 200, r.raw)

    def test_hanging_receiver_times_out_and_is_tried_again(self):
        p = self.path()
        release = self.rx.hold(p)
        try:
            j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
            self.wait(j["id"])
            t0 = time.monotonic()
            d = self.wait_delivery(j["id"], lambda ds: ds and ds[0]["tries"] >= 1
                                   and ds[0]["last_error"], 30, "a timeout")[0]
            self.assertGreaterEqual(time.monotonic() - t0, 5, "gave up early")
            self.assertIsNone(d["answers"][0]["status"], d)
            self.assertIn("timed out", d["answers"][0]["error"], d)
        finally:
            with self.rx.lock:
                del self.rx.holds[p]
            release.set()
        d = self.wait_delivery(j["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered", 30)[0]
        self.assertEqual(d["last_status"], 200, d)

    def test_more_deliveries_than_may_be_in_flight_at_once(self):
        """64 POSTs at once at most: the rest wait for a free slot."""
        p = self.path()
        release = self.rx.hold(p)
        try:
            jobs = self.batch([{"command": "true", "queue": "many-hooks",
                                "webhooks": [self.hook(p)]} for _ in range(80)])
            self.rx.wait(p, 64)
        finally:
            with self.rx.lock:
                del self.rx.holds[p]
            release.set()
        rs = self.rx.wait(p, 80, 30)
        got = {json.loads(r["body"])["id"] for r in rs}
        self.assertEqual(got, {x["id"] for x in jobs})
        for x in jobs:
            self.wait_delivery(x["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")

    def test_the_secret_stays_out_of_jobs_workers_and_the_log(self):
        j = self.run_job({"command": "env; cat /proc/$PPID/environ; "
                          "cat /proc/%d/environ" % self.server.pid})
        self.assertNotIn(SECRET.encode(), self.output(j["id"]))
        for pid in [self.server.pid] + self.server.worker_pids():
            env = proc_environ(pid)
            self.assertIsNotNone(env, pid)
            self.assertNotIn(SECRET.encode(), env, pid)
        self.assertNotIn(SECRET.encode(), self.server.log())

    def test_queues_without_hooks_show_null(self):
        self.submit({"command": "true", "queue": "plain-q"})
        self.assertIsNone(self.queue("plain-q")["webhooks"])


# ---- no secret: no signature ---------------------------------------------

class NoSecretTest(HookCase):
    SERVER_ENV = {}
    WORKERS = 1

    def test_no_signature_header_without_a_secret(self):
        p = self.path()
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(j["id"])
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.succeeded")
        self.assertNotIn("x-runnel-signature", req["header_names"], req["headers"])
        self.assertEqual(json.loads(req["body"])["id"], j["id"])


class SecretFileTest(HookCase):
    SERVER_ENV = {}
    WORKERS = 1

    @classmethod
    def setUpClass(cls):
        import tempfile, os
        fd, cls.secret_path = tempfile.mkstemp(prefix="runnel-hook-secret-")
        os.write(fd, SECRET.encode() + b"\n")
        os.close(fd)
        cls.SERVER_ARGS = HookCase.SERVER_ARGS + ["--webhook-secret-file",
                                                  cls.secret_path]
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        import os
        try:
            super().tearDownClass()
        finally:
            os.unlink(cls.secret_path)

    def test_signed_with_the_secret_of_the_file(self):
        p = self.path()
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(j["id"])
        req = self.rx.wait(p)[0]
        self.assertSigned(req)


# ---- the connect-time check ----------------------------------------------

class ConnectRefusalTest(HookCase):
    """*.localhost passes at submit; the loopback addresses it leads to do
    not at connect time (a "*.domain" entry never reaches one)."""
    SERVER_ARGS = BASE_ARGS + ["--webhook-allow", "*.localhost",
                               "--webhook-retry-base", "0.2"]
    WORKERS = 1

    def test_name_leading_to_loopback_is_refused_at_connect(self):
        p = self.path()
        url = "http://hook.localhost:%d%s" % (self.rx.port, p)
        j = self.submit({"command": "true", "webhooks": [{"url": url}]})
        self.wait(j["id"])
        ds = self.wait_delivery(j["id"], lambda ds: ds and ds[0]["tries"] >= 2,
                                what="2 tries")
        d = ds[0]
        self.assertEqual(d["state"], "pending", d)
        self.assertIsNone(d["last_status"], d)
        for a in d["answers"]:
            self.assertIsNone(a["status"], a)
            self.assertIn("not allowed", a["error"] or "", a)
            self.assertRegex(a["error"], r"address (127\.0\.0\.1|::1) is loopback", a)
        self.assertEqual(self.rx.got(), [], "the receiver got nothing")
        self.api("DELETE", "/api/v1/jobs/%d" % j["id"])

    def test_names_and_addresses_outside_the_list_refused_at_submit(self):
        total = self.server.total()
        for url in ("http://localhost:%d/" % self.rx.port,
                    "http://127.0.0.1:%d/" % self.rx.port,
                    "http://notlocalhost/", "http://example.com/"):
            r = self.api("POST", "/api/v1/jobs",
                         body={"command": "true", "webhooks": [{"url": url}]})
            self.assertError(r, 422, "invalid_field", "webhooks[0].url", url)
        self.assertEqual(self.server.total(), total)


class NamedEntryTest(HookCase):
    """An exact host-name entry lets that name reach whatever it resolves
    to, loopback included; the address itself is still not listed."""
    SERVER_ARGS = BASE_ARGS + ["--webhook-allow", "LocalHost.",
                               "--webhook-retry-base", "0.2"]
    WORKERS = 1

    def test_listed_name_reaches_loopback(self):
        p = self.path()
        j = self.submit({"command": "true", "webhooks": [
            {"url": "http://localhost:%d%s" % (self.rx.port, p)}]})
        self.wait(j["id"])
        req = self.rx.wait(p)[0]
        self.assertHeaders(req, "job.succeeded")
        self.assertSigned(req)

    def test_the_address_itself_is_not_listed(self):
        total = self.server.total()
        for url in ("http://127.0.0.1:%d/" % self.rx.port,
                    "http://[::1]:%d/" % self.rx.port,
                    "http://sub.localhost:%d/" % self.rx.port):
            r = self.api("POST", "/api/v1/jobs",
                         body={"command": "true", "webhooks": [{"url": url}]})
            self.assertError(r, 422, "invalid_field", "webhooks[0].url", url)
        self.assertEqual(self.server.total(), total)


class WebhookOptionsTest(RunnelTestCase):
    """Bad --webhook-* options stop runneld at start-up, saying which."""
    START_SERVER = False

    def refused(self, args, words):
        data = os.path.join(self.tmp, "data-%d" % time.monotonic_ns())
        rc, out = run_runneld(["--listen", "127.0.0.1:0", "--data", data,
                               "--workers", "1"] + args)
        self.assertIn(rc, (1, 2), "%r: %s" % (args, out))	# 2: usage
        for w in words:
            self.assertIn(w, out, args)
        self.assertNotIn("listening", out)

    def test_bad_allow_entries(self):
        for entry in ("10.0.0.1/33", "10.0.0.1/8", "*.", "*", "a b",
                      "http://x/", "[10.0.0.1]", "1.2.3.4/-1", "x/24"):
            self.refused(["--webhook-allow", entry], ["--webhook-allow"])
        self.refused(["--webhook-allow", "ok.example,", ], ["--webhook-allow"])

    def test_bad_retry_base_and_secret_file(self):
        for v in ("0", "-1", "x", ""):
            self.refused(["--webhook-retry-base", v], ["webhook-retry-base"])
        self.refused(["--webhook-secret-file",
                      os.path.join(self.tmp, "no-such-secret")], ["secret"])


class NoListPolicyTest(HookCase):
    """Without --webhook-allow: every public address, no special one."""
    SERVER_ARGS = BASE_ARGS + ["--webhook-retry-base", "0.2"]
    WORKERS = 1

    def test_special_addresses_refused_public_ones_taken(self):
        total = self.server.total()
        for url in ("http://127.0.0.1/", "http://127.1/", "http://10.1.2.3/",
                    "http://172.16.0.1/", "http://192.168.0.1/",
                    "http://169.254.169.254/", "http://100.64.0.1/",
                    "http://0.0.0.0/", "http://224.0.0.1/",
                    "http://[::1]/", "http://[fd00::1]/", "http://[fe80::1]/",
                    "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/",
                    "http://2130706433/", "http://0x7f000001/",
                    "http://0177.0.0.1/", "http://example.com@127.0.0.1/"):
            r = self.api("POST", "/api/v1/jobs",
                         body={"command": "true", "webhooks": [{"url": url}]})
            self.assertIn(r.status, (400, 422), "%s: %r" % (url, r.raw))
            self.assertError(r, r.status, "invalid_field", "webhooks[0].url", url)
        self.assertEqual(self.server.total(), total)
        # public ones pass (hooked on a state this job never reaches)
        for url in ("http://203.0.113.7/", "https://hooks.example.com/x",
                    "http://93.184.216.34:8080/"):
            j = self.submit({"command": "true",
                             "webhooks": [{"url": url, "on": ["canceled"]}]})
            self.assertEqual(self.wait(j["id"])["state"], "succeeded")
            self.assertEqual(self.deliveries(j["id"]), [])


# ---- durable across a kill -9 ----------------------------------------------

class KillTest(HookCase):
    WORKERS = 1

    def test_pending_delivery_survives_kill9_while_the_receiver_is_down(self):
        s = self.server
        p = self.path()
        self.rx.program(p, [500])
        j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
        self.wait(j["id"])
        first = self.rx.wait(p)[0]
        did = first["headers"]["x-runnel-delivery"]
        port = self.rx.port
        self.rx.stop()		# the receiver is down: tries get no answer

        # Kill while no try is in flight: after a try's outcome is stored
        # (as many answers as tries) and its next one is at least 2 s
        # away.  A try in flight shows its 30 s lease as next_try_at.
        def between_tries():
            d = self.deliveries(j["id"])[0]
            if d["tries"] < 2 or d["state"] != "pending" or \
                    len(d["answers"]) != d["tries"]:
                return None
            left = epoch(d["next_try_at"]) - time.time()
            return d if 2 < left < 20 else None
        d = wait_until(between_tries, 30, "a gap between tries")
        self.assertIsNotNone(d["last_error"], d)
        self.assertIsNone(d["last_status"], d)
        s.kill9()
        tries_before = d["tries"]

        type(self).rx = Receiver(port)
        s.start()
        req = self.rx.wait(p, 1, 30)[0]
        self.assertEqual(req["headers"]["x-runnel-delivery"], did)
        self.assertHeaders(req, "job.succeeded")
        self.assertSigned(req)
        self.assertEqual(json.loads(req["body"])["id"], j["id"])
        d = self.wait_delivery(j["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")[0]
        self.assertGreaterEqual(d["tries"], tries_before + 1, d)
        self.assertEqual(d["answers"][0]["status"], 500, d)
        self.assertEqual(d["answers"][-1]["status"], 200, d)
        self.assertEqual(len(d["answers"]), d["tries"], d)

    def test_queue_webhooks_survive_a_restart(self):
        s = self.server
        p = self.path()
        self.patch_queue("kept-hooks", {"webhooks": [self.hook(p, ["failed"])]})
        self.assertEqual(s.stop(), 0)
        s.start()
        self.assertEqual(self.queue("kept-hooks")["webhooks"],
                         [self.hook(p, ["failed"])])
        j = self.submit({"command": "exit 9", "queue": "kept-hooks"})
        self.wait(j["id"])
        self.assertHeaders(self.rx.wait_job(p, j["id"])[0], "job.failed")

    def test_sigterm_while_a_try_hangs_exits_cleanly(self):
        s = self.server
        p = self.path()
        release = self.rx.hold(p)
        try:
            j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
            self.wait(j["id"])
            self.rx.wait(p)		# in flight, held
            t0 = time.monotonic()
            self.assertEqual(s.stop(), 0)
            self.assertLess(time.monotonic() - t0, scaled(8),
                            "SIGTERM waited for the webhook")
        finally:
            with self.rx.lock:
                del self.rx.holds[p]
            release.set()
        s.start()
        d = self.deliveries(j["id"])[0]
        self.assertEqual(d["state"], "pending", d)

    def test_delivery_recorded_at_finish_survives_kill9_before_any_try(self):
        """The finishing transaction holds the delivery: kill -9 with the
        receiver down, before the first answer, and it still goes out."""
        s = self.server
        p = self.path()
        port = self.rx.port
        self.rx.stop()
        try:
            j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
            self.wait(j["id"])
            self.assertEqual(len(self.deliveries(j["id"])), 1)
        finally:
            s.kill9()
            type(self).rx = Receiver(port)
        s.start()
        # may wait out a lease taken just before the kill
        req = self.rx.wait(p, 1, 90)[0]
        self.assertEqual(json.loads(req["body"])["id"], j["id"])
        d = self.wait_delivery(j["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")[0]
        self.assertEqual(d["answers"][-1]["status"], 200)


class RetentionTest(HookCase):
    """--retain-max-jobs deletes old finished jobs: a job whose delivery is
    still pending must not take it along (at least once, for a day)."""
    SERVER_ARGS = HookCase.SERVER_ARGS + ["--retain-max-jobs", "2"]
    WORKERS = 1

    def test_pending_delivery_outlives_retention(self):
        p = self.path()
        self.rx.program(p, [500, 500])
        release = self.rx.hold(p)
        try:
            j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
            self.wait(j["id"])
            self.rx.wait(p)
            # newer finished jobs push it past --retain-max-jobs
            newer = [self.run_job({"command": "true"}) for _ in range(4)]
            # retention has run: the oldest of those is gone
            wait_until(lambda: self.job_gone(newer[0]["id"]), 30,
                       "retention to delete job %d" % newer[0]["id"])
        finally:
            with self.rx.lock:
                del self.rx.holds[p]
            release.set()
        try:
            rs = self.rx.wait(p, 3, 30)
        except AssertionError as e:
            self.fail("job %d's pending delivery was never tried again after "
                      "retention deleted the job (job gone: %s; %s)" %
                      (j["id"], self.job_gone(j["id"]), e))
        self.assertEqual(json.loads(rs[-1]["body"])["id"], j["id"])


@postgresql_only("runneld --import moves SQLite's deliveries into PostgreSQL")
class ImportTest(HookCase):
    """A single node's deliveries moved into a cluster by --import: the
    delivered ones are not sent again, the pending one goes out with its
    id, and a job the import ends (it was running) is told of."""
    START_SERVER = False
    WORKERS = 1

    def test_deliveries_move_with_the_import(self):
        single = self.new_server("single", database="")
        single.start()
        pa, pb, pc = self.path("-a"), self.path("-b"), self.path("-c")
        self.rx.program(pb, [500] * 1000)
        a = single.submit({"command": "true", "webhooks": [self.hook(pa)]})
        single.wait(a["id"])
        ra = self.rx.wait(pa)[0]
        b = single.submit({"command": "exit 2", "webhooks": [self.hook(pb)]})
        single.wait(b["id"])
        rb = self.rx.wait(pb)[0]
        c = single.submit({"command": "sleep 30", "webhooks": [self.hook(pc)]})
        single.wait_running(c["id"])
        self.track_pid(single.job(c["id"])["pid"])

        def between_tries():
            ds = self.deliveries(b["id"], single)
            da = self.deliveries(a["id"], single)
            # every try answered: a try in flight shows its 30 s lease
            if not da or da[0]["state"] != "delivered" or \
                    ds[0]["tries"] < 2 or \
                    len(ds[0]["answers"]) != ds[0]["tries"]:
                return None
            left = epoch(ds[0]["next_try_at"]) - time.time()
            return ds if 2 < left < 20 else None
        wait_until(between_tries, 30, "a gap between job %d's tries" % b["id"])
        single.kill9()
        n_a = len(self.rx.got(pa))

        db = harness_pg.create()
        url = harness_pg.url_of(db)
        rc, out = run_runneld(["--import", single.data, "--database", url],
                              timeout=120)
        self.assertEqual(rc, 0, out)
        self.rx.program(pb, [])
        node = self.new_server("node", database=url, args=self.SERVER_ARGS +
                               ["--node-id", "n1"])
        node.start()
        r = self.rx.wait_job(pb, b["id"], len(self.rx.for_job(pb, b["id"])) + 1, 30)[-1]
        self.assertEqual(r["headers"]["x-runnel-delivery"],
                         rb["headers"]["x-runnel-delivery"])
        self.assertSigned(r)
        rc_ = self.rx.wait_job(pc, c["id"], 1, 30)[0]
        self.assertHeaders(rc_, "job.failed")
        self.assertNotIn(rc_["headers"]["x-runnel-delivery"],
                         (ra["headers"]["x-runnel-delivery"],
                          rb["headers"]["x-runnel-delivery"]))
        d = self.deliveries(b["id"], node)[0]
        self.assertEqual(d["state"], "delivered", d)
        self.assertEqual(d["answers"][0]["status"], 500, d)
        d = self.deliveries(a["id"], node)[0]
        self.assertEqual((d["state"], d["tries"]), ("delivered", 1), d)
        # a later job's delivery: A's was not sent again meanwhile
        pd = self.path("-d")
        j = node.submit({"command": "true", "webhooks": [self.hook(pd)]})
        node.wait(j["id"])
        rd = self.rx.wait_job(pd, j["id"])[0]
        self.assertEqual(len(self.rx.got(pa)), n_a, "delivered again")
        self.assertGreater(int(rd["headers"]["x-runnel-delivery"]),
                           int(rc_["headers"]["x-runnel-delivery"]))


class LeaseTest(HookCase):
    """runneld killed during a try: the delivery is sent again once the
    try's 30 s lease has run out, with the same delivery id."""
    WORKERS = 1

    def test_killed_mid_try_sent_again_after_the_lease(self):
        s = self.server
        p = self.path()
        release = self.rx.hold(p)
        try:
            j = self.submit({"command": "true", "webhooks": [self.hook(p)]})
            self.wait(j["id"])
            first = self.rx.wait(p)[0]
            d = self.deliveries(j["id"])[0]
            self.assertEqual((d["state"], d["tries"]), ("pending", 1), d)
            s.kill9()
        finally:
            with self.rx.lock:
                del self.rx.holds[p]
            release.set()
        s.start()
        again = self.rx.wait(p, 2, 90)[1]
        self.assertEqual(again["headers"]["x-runnel-delivery"],
                         first["headers"]["x-runnel-delivery"])
        self.assertGreaterEqual(again["at"] - first["at"], 30 - 1,
                                "sent again before the lease ran out")
        self.assertSigned(again)
        d = self.wait_delivery(j["id"], lambda ds: ds and
                               ds[0]["state"] == "delivered")[0]
        self.assertEqual(d["last_status"], 200, d)
