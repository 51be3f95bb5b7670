#!/usr/bin/env python3
"""Flow control at depth (issue 6, Speed):

(a) 100 000 scheduled jobs (delay 3600), none due: runneld's own CPU time
    (utime + stime from /proc/<pid>/stat) over a 10 s window, as % of a
    core.  Target: under 1%.
(b) 100 000 `true` jobs due at the same instant (one run_at a little
    ahead, 2 workers): the time from run_at until all have started and
    finished, against the same 100 000 submitted as plain queued jobs
    (into a paused queue, released at once: the pool's full rate with
    nothing scheduled).  Claim cost flat: the start rate of each tenth of
    the jobs (from their started_at), slowest tenth / fastest tenth.  A
    probe times GET /healthz meanwhile: how long the loop was held.
(c) A `concurrency: 1` queue with 100 000 jobs waiting behind its one
    running job (a `sleep`): 2 000 `true` jobs of another queue, timed
    from submit until all finished, against the same on a server with no
    blocked queue (both with 2 workers free for them; rounds alternate,
    medians).  Target: within 1.5x.

usage: bench/flow.py [--bin DIR] [--jobs 100000] [--other 2000] [--rounds 3]
                     [--window 10] [--only abc]
"""
import argparse
import datetime
import http.client
import json
import threading
import time

from runnel_bench import Server, default_bindir, median

BATCH = 10000


def epoch(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def rfc3339(t):
    d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (d.microsecond // 1000)


def submit_many(srv, spec, n):
    """n copies of spec in batches of BATCH; returns the ids in order."""
    item = json.dumps(spec, separators=(",", ":"))
    ids = []
    left = n
    while left:
        k = min(BATCH, left)
        body = ("[" + ",".join([item] * k) + "]").encode()
        status, data = srv.request("POST", "/api/v1/jobs", body)
        if status != 201:
            raise RuntimeError("batch submit: %s %s" % (status, str(data)[:300]))
        ids.extend(j["id"] for j in data["jobs"])
        left -= k
    return ids


def job(srv, jid):
    status, data = srv.request("GET", "/api/v1/jobs/%d" % jid)
    if status != 200:
        raise RuntimeError("GET job %d: %s" % (jid, status))
    return data


def patch(srv, queue, body):
    status, data = srv.request("PATCH", "/api/v1/queues/" + queue, body)
    if status != 200:
        raise RuntimeError("PATCH %s: %s %s" % (queue, status, data))
    return data


def wait_done(srv, jid):
    while True:
        j = srv.wait(jid, 300)
        if j["state"] in ("succeeded", "failed", "canceled"):
            return j


def wait_all_finished(srv, ids, workers=2):
    """Waits for the last jobs (the pool takes them in id order)."""
    last = [wait_done(srv, j) for j in ids[-workers:]]
    for j in last:
        if j["state"] != "succeeded":
            raise RuntimeError("job %d: %s" % (j["id"], j["state"]))
    return last


def tenths(srv, ids):
    """started_at of the jobs at each tenth of ids: per-tenth start rates."""
    n = len(ids)
    idx = [min(n - 1, k * n // 10) for k in range(11)]
    starts = [epoch(job(srv, ids[i])["started_at"]) for i in idx]
    rates = []
    for k in range(10):
        span = starts[k + 1] - starts[k]
        rates.append((idx[k + 1] - idx[k]) / span if span > 0 else float("inf"))
    return rates


# ---- (a) ------------------------------------------------------------------

def idle_cpu(a):
    srv = Server(a.bin, workers=2)
    try:
        t0 = time.monotonic()
        submit_many(srv, {"command": "true", "delay": 3600}, a.jobs)
        took = time.monotonic() - t0
        stats = srv.request("GET", "/api/v1/stats")[1]
        time.sleep(1)		# let the last commit's after-work settle
        c0, w0 = srv.cpu_s(), time.monotonic()
        time.sleep(a.window)
        c1, w1 = srv.cpu_s(), time.monotonic()
        pct = (c1 - c0) / (w1 - w0) * 100
        print("flow (a) %d scheduled jobs (delay 3600), none due: runneld CPU "
              "%.2f%% of a core over %.0f s (target < 1%%); %d scheduled, "
              "submitted in %.1f s, RSS %.1f MiB" %
              (a.jobs, pct, w1 - w0, stats["jobs"]["scheduled"], took,
               srv.pid_rss_kb() / 1024))
    finally:
        srv.stop()


# ---- (b) ------------------------------------------------------------------

class Probe(threading.Thread):
    """GET /healthz every 10 ms from `start` (epoch) for `seconds`: the
    longest answer is how long the loop was held."""

    def __init__(self, port, start, seconds):
        super().__init__(daemon=True)
        self.port, self.start_at, self.seconds = port, start, seconds
        self.worst, self.when = 0.0, 0.0

    def run(self):
        while time.time() < self.start_at:
            time.sleep(0.005)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        end = time.time() + self.seconds
        while time.time() < end:
            t0 = time.time()
            c.request("GET", "/healthz")
            c.getresponse().read()
            took = time.time() - t0
            if took > self.worst:
                self.worst, self.when = took, t0 - self.start_at
            time.sleep(0.01)
        c.close()


def due_round(a):
    srv = Server(a.bin, workers=2)
    try:
        run_at = time.time() + a.lead
        spec = {"command": "true", "run_at": rfc3339(run_at)}
        run_at = epoch(spec["run_at"])
        ids = submit_many(srv, spec, a.jobs)
        if time.time() >= run_at:
            print("  warning: submitting took past run_at; raise --lead")
        probe = Probe(srv.port, run_at - 0.5, 20)
        probe.start()
        last = wait_all_finished(srv, ids)
        probe.join()
        first = job(srv, ids[0])
        all_started = epoch(job(srv, ids[-1])["started_at"]) - run_at
        all_done = max(epoch(j["finished_at"]) for j in last) - run_at
        rates = tenths(srv, ids)
        return {"first_late": epoch(first["started_at"]) - run_at,
                "started": all_started, "done": all_done, "rates": rates,
                "stall": probe.worst}
    finally:
        srv.stop()


def queued_round(a):
    srv = Server(a.bin, workers=2)
    try:
        patch(srv, "plain", {"paused": True})
        ids = submit_many(srv, {"command": "true", "queue": "plain"}, a.jobs)
        t0 = time.time()
        probe = Probe(srv.port, t0 - 0.5, 20)	# the same load as the due round
        probe.start()
        patch(srv, "plain", {"paused": False})
        last = wait_all_finished(srv, ids)
        probe.join()
        first = job(srv, ids[0])
        all_started = epoch(job(srv, ids[-1])["started_at"]) - t0
        all_done = max(epoch(j["finished_at"]) for j in last) - t0
        rates = tenths(srv, ids)
        return {"first_late": epoch(first["started_at"]) - t0,
                "started": all_started, "done": all_done, "rates": rates,
                "stall": probe.worst}
    finally:
        srv.stop()


def due_at_once(a):
    due = due_round(a)
    plain = queued_round(a)
    n = a.jobs

    def flat(r):
        return min(r["rates"]) / max(r["rates"])
    print("flow (b) %d jobs due at one instant, 2 workers: all started %.1f s "
          "after run_at (%.0f jobs/s), all finished %.1f s, first started %.0f ms "
          "late; the same as plain queued jobs: all started %.1f s (%.0f jobs/s): "
          "ratio %.2f (target ~1.0, the pool's full rate); claim cost flat: "
          "slowest/fastest tenth %.2f due, %.2f queued (1.0 = flat)" %
          (n, due["started"], n / due["started"], due["done"],
           due["first_late"] * 1000, plain["started"], n / plain["started"],
           due["started"] / plain["started"], flat(due), flat(plain)))
    print("  runneld held its loop up to %.0f ms around run_at (longest GET "
          "/healthz from 0.5 s before, over 20 s); %.0f ms around the release of "
          "the plain queued jobs" % (due["stall"] * 1000, plain["stall"] * 1000))
    print("  per-tenth start rates, due:    " +
          " ".join("%.0f" % r for r in due["rates"]))
    print("  per-tenth start rates, queued: " +
          " ".join("%.0f" % r for r in plain["rates"]))


# ---- (c) ------------------------------------------------------------------

def other_round(srv, n, queue="other"):
    body = ("[" + ",".join(['{"command":"true","queue":"%s"}' % queue] * n) +
            "]").encode()
    t0 = time.monotonic()
    status, data = srv.request("POST", "/api/v1/jobs", body)
    if status != 201:
        raise RuntimeError("submit: %s" % status)
    ids = [j["id"] for j in data["jobs"]]
    wait_all_finished(srv, ids)
    elapsed = time.monotonic() - t0
    lat = [epoch(job(srv, i)["started_at"]) - epoch(job(srv, i)["created_at"])
           for i in ids[:50:10]]
    return elapsed, median(lat)


def blocked_queue(a):
    # 2 workers free for the other queue on both: the blocked server has a
    # third, held by the blocked queue's sleep
    free = Server(a.bin, workers=2)
    blocked = Server(a.bin, workers=3)
    try:
        patch(blocked, "blocked", {"concurrency": 1})
        sleeper = blocked.submit({"command": "sleep 100000", "queue": "blocked",
                                  "priority": -1000000})
        deadline = time.monotonic() + 30
        while job(blocked, sleeper["id"])["state"] != "running":
            if time.monotonic() > deadline:
                raise RuntimeError("the sleep job did not start")
            time.sleep(0.01)
        # higher priority than the other queue's jobs: first in line, if
        # the dispatcher did not skip a full queue
        submit_many(blocked, {"command": "true", "queue": "blocked",
                              "priority": -1000}, a.jobs)
        q = {x["name"]: x for x in blocked.request("GET", "/api/v1/queues")[1]["queues"]}
        assert q["blocked"]["queued"] == a.jobs and q["blocked"]["running"] == 1, q
        other_round(free, 200)
        other_round(blocked, 200)		# warm-up
        tf, tb, lf, lb = [], [], [], []
        for _ in range(a.rounds):
            e, l = other_round(free, a.other)
            tf.append(e)
            lf.append(l)
            e, l = other_round(blocked, a.other)
            tb.append(e)
            lb.append(l)
        q = {x["name"]: x for x in blocked.request("GET", "/api/v1/queues")[1]["queues"]}
        assert q["blocked"]["queued"] == a.jobs and q["blocked"]["running"] == 1, q
        mf, mb = median(tf), median(tb)
        print("flow (c) %d true jobs of another queue, 2 free workers: %.2f s "
              "(%.0f jobs/s) with %d jobs waiting behind a concurrency-1 queue, "
              "%.2f s (%.0f jobs/s) without: ratio %.2f (target <= 1.5); first "
              "jobs' claim latency %.1f ms vs %.1f ms" %
              (a.other, mb, a.other / mb, a.jobs, mf, a.other / mf, mb / mf,
               median(lb) * 1000, median(lf) * 1000))
        print("  rounds blocked:", " ".join("%.2f" % v for v in tb))
        print("  rounds free:   ", " ".join("%.2f" % v for v in tf))
    finally:
        free.stop()
        blocked.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--other", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--window", type=float, default=10)
    ap.add_argument("--lead", type=float, default=15,
                    help="(b): run_at this many seconds after the first submit")
    ap.add_argument("--only", default="abc")
    a = ap.parse_args()
    if "a" in a.only:
        idle_cpu(a)
    if "b" in a.only:
        due_at_once(a)
    if "c" in a.only:
        blocked_queue(a)


if __name__ == "__main__":
    main()
