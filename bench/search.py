#!/usr/bin/env python3
"""The jobs search at 1 000 000 jobs: GET /api/v1/jobs with q (a rare
match, a common match, a miss), name=, time ranges and exit_code, each
against the plain first page (the baseline) in the same run.  Target:
<= 100 ms each (docs/api.md, "The search window").

A real runneld on SQLite makes the schema and a template row (a command
job that ran), then, stopped, the jobs table is filled straight in SQLite
with --jobs copies (ids in order, created a second apart over the last
days, finished a second later): command "echo item-N", name
"nightly-(N mod 1000)", exit code 3 for one in ten (failed), "needle" in
the command of one in 100 000.  runneld is started again on it and each
request is timed --rounds times (after 3 to warm up) on one keep-alive
connection: p50 and p95 in ms, with the page's size and whether it has a
next.

usage: bench/search.py [--bin DIR] [--jobs 1000000] [--rounds 30]
"""
import argparse
import os
import signal
import sqlite3
import time
import urllib.parse

from runnel_bench import Server, default_bindir, percentile


def filled(bindir, jobs):
    """The data directory of a stopped runneld whose store holds jobs."""
    srv = Server(bindir, workers=1)
    j = srv.submit({"command": "echo template", "name": "template"})
    srv.wait(j["id"])
    template = j["id"]
    srv.conn.close()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(30)
    srv.log.close()
    db = sqlite3.connect(os.path.join(srv.data, "runnel.db"))
    cols = [r[1] for r in db.execute("PRAGMA table_info(jobs)") if r[1] != "id"]
    now_ms = int(time.time() * 1000)
    start = now_ms - jobs * 1000
    expr = {
        "created_at": "%d + n.i * 1000" % start,
        "started_at": "%d + n.i * 1000 + 10" % start,
        "finished_at": "%d + n.i * 1000 + 500" % start,
        "name": "'nightly-' || (n.i % 1000)",
        "command": "CASE WHEN n.i % 100000 = 77 THEN 'echo needle-' || n.i "
                   "ELSE 'echo item-' || n.i END",
        "exit_code": "CASE WHEN n.i % 10 = 3 THEN 3 ELSE 0 END",
        "state": "CASE WHEN n.i % 10 = 3 THEN 'failed' ELSE 'succeeded' END",
        "error": "CASE WHEN n.i % 10 = 3 THEN 'exit status 3' ELSE NULL END",
    }
    t0 = time.monotonic()
    db.execute("WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM n "
               "WHERE i < %d) INSERT INTO jobs (id, %s) SELECT n.i, %s FROM n, "
               "jobs t WHERE t.id = %d" % (
                   template + 1, jobs, ", ".join(cols),
                   ", ".join(expr.get(c, "t." + c) for c in cols), template))
    db.commit()
    db.close()
    print("search: %d jobs written in %.1f s" % (jobs, time.monotonic() - t0))
    return srv, start


def ts(ms):
    t = time.gmtime(ms / 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (ms % 1000)


def timed(srv, path, rounds):
    for _ in range(3):
        srv.request("GET", path)
    took = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        status, data = srv.request("GET", path)
        took.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise RuntimeError("%s: %s %s" % (path, status, data))
    return percentile(took, 50), percentile(took, 95), data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--jobs", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=30)
    a = ap.parse_args()
    first, start = filled(a.bin, a.jobs)
    data = first.data
    mid = start + a.jobs * 500	# the middle of the table's time
    hour = 3600 * 1000
    cases = [
        ("plain first page (baseline)", {}),
        ("q, rare match (1 in 100 000)", {"q": "needle"}),
        ("q, common match (every job)", {"q": "ITEM-"}),
        ("q, miss", {"q": "no-such-text"}),
        ("q, a job id", {"q": "#%d" % (a.jobs // 2)}),
        ("name= (1 000 jobs of 1 000 000)", {"name": "nightly-7"}),
        ("created_after, the last hour", {"created_after": ts(start + a.jobs * 1000 - hour)}),
        ("created range, an hour mid-table", {"created_after": ts(mid),
                                              "created_before": ts(mid + hour)}),
        ("finished_after + finished_before, the last day",
         {"finished_after": ts(start + a.jobs * 1000 - 24 * hour),
          "finished_before": ts(start + a.jobs * 1000 + hour)}),
        ("exit_code=3 (1 in 10)", {"exit_code": 3}),
        ("exit_code=4 (none)", {"exit_code": 4}),
        ("q + state=failed", {"q": "item-", "state": "failed"}),
    ]
    srv = Server.__new__(Server)
    # a runneld on the filled directory (Server makes a directory of its own)
    import subprocess
    import http.client
    srv.dir = first.dir
    srv.data = data
    srv.log = open(os.path.join(first.dir, "runneld2.log"), "w+")
    e = {k: v for k, v in os.environ.items() if not k.startswith("RUNNEL_")}
    t0 = time.monotonic()
    srv.proc = subprocess.Popen(
        [os.path.join(a.bin, "runneld"), "--listen", "127.0.0.1:0", "--data",
         data, "--workers", "1"], stdout=srv.log, stderr=srv.log, env=e)
    srv.port = srv._port()
    srv.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)
    while srv.request("GET", "/healthz")[0] != 200:
        time.sleep(0.05)
    print("search: runneld up on %d jobs in %.1f s" % (a.jobs, time.monotonic() - t0))
    try:
        print("| request | p50 ms | p95 ms | jobs on the page | next |")
        print("|---|---|---|---|---|")
        for what, q in cases:
            path = "/api/v1/jobs?" + urllib.parse.urlencode(dict(q, limit=50))
            p50, p95, d = timed(srv, path, a.rounds)
            print("| %s: `%s` | %.1f | %.1f | %d | %s |" % (
                what, path[len("/api/v1/jobs"):], p50, p95, len(d["jobs"]),
                "yes" if d["next"] else "null"))
        p50, p95, _ = timed(srv, "/api/v1/stats", a.rounds)
        print("| stats (overview fields included): `/api/v1/stats` | %.1f | %.1f | | |"
              % (p50, p95))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
