#!/usr/bin/env python3
"""The jobs search at 1 000 000 jobs: GET /api/v1/jobs with q (a rare
match, a common match, a miss), name=, time ranges and exit_code, each
against the plain first page (the baseline) in the same run.  Target:
<= 100 ms each (docs/api.md, "The search window").

A real runneld on SQLite makes the schema and a template row (a command
job that ran), then, stopped, the jobs table is filled straight in SQLite
with --jobs copies (ids in order, created half a second apart over the
last days, all within the default 7 days' retention so that runneld has
nothing to delete meanwhile; each finished 250 ms after): command "echo item-N", name
"nightly-(N mod 1000)", exit code 3 for one in ten (failed), "needle" in
the command of one in 100 000.  runneld is started again on it and each
request is timed --rounds times (after 3 to warm up) on one keep-alive
connection: p50 and p95 in ms, with the page's size and whether it has a
next.

With --database-url URL (a maintenance database: tests/pg/pg.sh start
DIR prints one) the same on PostgreSQL: a database of its own, filled
with INSERT ... SELECT FROM generate_series, then ANALYZE, dropped after.

usage: bench/search.py [--bin DIR] [--jobs 1000000] [--rounds 30]
                       [--database-url URL]
"""
import argparse
import http.client
import os
import shutil
import signal
import sqlite3
import subprocess
import time
import urllib.parse

from runnel_bench import Server, default_bindir, percentile


def columns_expr(cols, start):
    """The INSERT ... SELECT's expressions, n.i being the job's id."""
    expr = {
        "created_at": "%d + n.i * 500" % start,
        "started_at": "%d + n.i * 500 + 10" % start,
        "finished_at": "%d + n.i * 500 + 250" % start,
        "name": "'nightly-' || (n.i % 1000)",
        "command": "CASE WHEN n.i % 100000 = 77 THEN 'echo needle-' || n.i "
                   "ELSE 'echo item-' || n.i END",
        "exit_code": "CASE WHEN n.i % 10 = 3 THEN 3 ELSE 0 END",
        "state": "CASE WHEN n.i % 10 = 3 THEN 'failed' ELSE 'succeeded' END",
        "error": "CASE WHEN n.i % 10 = 3 THEN 'exit status 3' ELSE NULL END",
    }
    return ", ".join(expr.get(c, "t." + c) for c in cols)


def psql(url, sql):
    exe = shutil.which("psql") or sorted(
        p for p in (os.path.join("/usr/lib/postgresql", v, "bin/psql")
                    for v in os.listdir("/usr/lib/postgresql"))
        if os.path.exists(p))[-1]
    return subprocess.run([exe, "-X", "-q", "-A", "-t", "-d", url, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def db_url(url, name):
    head, _, rest = url.partition("://")
    netloc, _, tail = rest.partition("/")
    query = tail.partition("?")[2]
    return "%s://%s/%s%s" % (head, netloc, name, "?" + query if query else "")


def template_run(bindir, args):
    """A stopped runneld (its directory kept) that ran one job; its id."""
    srv = Server(bindir, workers=1, args=args)
    j = srv.submit({"command": "echo template", "name": "template"})
    srv.wait(j["id"])
    srv.conn.close()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(30)
    srv.log.close()
    return srv, j["id"]


def filled(bindir, jobs, database=None):
    """The stopped runneld of a store that holds jobs, and the first's
    created_at."""
    srv, template = template_run(bindir, ["--database", database] if database else [])
    start = int(time.time() * 1000) - jobs * 500
    t0 = time.monotonic()
    if database:
        cols = psql(database, "SELECT string_agg(column_name, ',' ORDER BY "
                    "ordinal_position) FROM information_schema.columns WHERE "
                    "table_name = 'jobs' AND column_name <> 'id'").split(",")
        psql(database, "INSERT INTO jobs (id, %s) SELECT n.i, %s FROM "
             "generate_series(%d, %d) AS n(i), jobs t WHERE t.id = %d" % (
                 ", ".join(cols), columns_expr(cols, start), template + 1,
                 jobs, template))
        psql(database, "SELECT setval(pg_get_serial_sequence('jobs', 'id'), "
             "max(id)) FROM jobs")
        psql(database, "ANALYZE jobs")
    else:
        db = sqlite3.connect(os.path.join(srv.data, "runnel.db"))
        cols = [r[1] for r in db.execute("PRAGMA table_info(jobs)") if r[1] != "id"]
        db.execute("WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 "
                   "FROM n WHERE i < %d) INSERT INTO jobs (id, %s) SELECT n.i, "
                   "%s FROM n, jobs t WHERE t.id = %d" % (
                       template + 1, jobs, ", ".join(cols),
                       columns_expr(cols, start), template))
        db.commit()
        db.close()
    print("search: %d jobs written in %.1f s (%s)" % (
        jobs, time.monotonic() - t0, "postgresql" if database else "sqlite"))
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
    ap.add_argument("--database-url")
    a = ap.parse_args()
    database = None
    if a.database_url:
        name = "runnel_bench_search_%d" % os.getpid()
        psql(a.database_url, 'CREATE DATABASE "%s"' % name)
        database = db_url(a.database_url, name)
    try:
        run(a, database)
    finally:
        if database:
            psql(a.database_url, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def run(a, database):
    first, start = filled(a.bin, a.jobs, database)
    data = first.data
    end = start + a.jobs * 500
    mid = start + a.jobs * 250	# the middle of the table's time
    hour = 3600 * 1000
    cases = [
        ("plain first page (baseline)", {}),
        ("q, rare match (1 in 100 000)", {"q": "needle"}),
        ("q, common match (every job)", {"q": "ITEM-"}),
        ("q, miss", {"q": "no-such-text"}),
        ("q, a job id", {"q": "#%d" % (a.jobs // 2)}),
        ("name= (1 000 jobs of 1 000 000)", {"name": "nightly-7"}),
        ("created_after, the last hour", {"created_after": ts(end - hour)}),
        ("created range, an hour mid-table", {"created_after": ts(mid),
                                              "created_before": ts(mid + hour)}),
        ("finished_after + finished_before, the last day",
         {"finished_after": ts(end - 24 * hour),
          "finished_before": ts(end + hour)}),
        ("exit_code=3 (1 in 10)", {"exit_code": 3}),
        ("exit_code=4 (none)", {"exit_code": 4}),
        ("q + state=failed", {"q": "item-", "state": "failed"}),
        ("plain first page again (baseline)", {}),
    ]
    srv = Server.__new__(Server)
    # a runneld on the filled directory (Server makes a directory of its own)
    srv.dir = first.dir
    srv.data = data
    srv.log = open(os.path.join(first.dir, "runneld2.log"), "w+")
    e = {k: v for k, v in os.environ.items() if not k.startswith("RUNNEL_")}
    t0 = time.monotonic()
    srv.proc = subprocess.Popen(
        [os.path.join(a.bin, "runneld"), "--listen", "127.0.0.1:0", "--data",
         data, "--workers", "1"] + (["--database", database] if database else []),
        stdout=srv.log, stderr=srv.log, env=e)
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
