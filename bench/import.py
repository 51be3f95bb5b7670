#!/usr/bin/env python3
"""runneld --import: how long a data directory of many jobs takes to move
into PostgreSQL (docs/cluster.md, "Moving from one node to a cluster").

A real runneld on SQLite makes the template rows (a command job that ran
and wrote output, an upload job that ran), then the jobs table is filled
with copies of the command job up to --jobs (ids in order, created_at
spread), each with an output file of its first attempt (--with-output of
them, "line N" plus a tail: 16 to 80 bytes, like an `echo`), and a
fresh PostgreSQL database takes them with `runneld --import`.  Prints the
wall time of each phase (from the import's log) and jobs per second.

usage: bench/import.py --database-url URL [--bin DIR] [--jobs 1000000]
                       [--with-output 1.0] [--keep]
URL names a maintenance database (tests/pg/pg.sh start DIR prints one);
the benchmark makes a database of its own there and drops it after.
"""
import argparse
import datetime
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time

from runnel_bench import Server, default_bindir

TS = re.compile(r"^(\S+) runneld\[\d+\] \w+: (.*)$")


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


def make_source(bindir, jobs, with_output):
    srv = Server(bindir, workers=1)
    j = srv.submit({"command": "echo template", "name": "bench"})
    srv.wait(j["id"])
    template = j["id"]
    # stopped, its directory kept (Server.stop removes it)
    srv.conn.close()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(30)
    srv.log.close()
    data = srv.data
    db = sqlite3.connect(os.path.join(data, "runnel.db"))
    cols = [r[1] for r in db.execute("PRAGMA table_info(jobs)") if r[1] != "id"]
    t0 = time.monotonic()
    # ids template+1 ... jobs: copies of the template, created a ms apart
    db.execute("WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM n "
               "WHERE i < %d) INSERT INTO jobs (id, %s) SELECT n.i, %s FROM n, "
               "jobs t WHERE t.id = %d" % (
                   template + 1, jobs, ", ".join(cols), ", ".join(
                       "t.created_at + n.i" if c == "created_at" else
                       "'job ' || n.i" if c == "name" else "t." + c
                       for c in cols), template))
    db.commit()
    db.close()
    rows_s = time.monotonic() - t0
    t0 = time.monotonic()
    out = os.path.join(data, "output")
    every = int(1 / with_output) if with_output > 0 else 0
    nfiles = nbytes = 0
    for i in range(template + 1, jobs + 1):
        if every and i % every == 0:
            data_ = b"line %d%s\n" % (i, b"." * (i % 64))
            with open(os.path.join(out, "%d.1.out" % i), "wb") as f:
                f.write(data_)
            nfiles += 1
            nbytes += len(data_)
    files_s = time.monotonic() - t0
    print("source: %d jobs (%.1f s), %d output files of %d bytes (%.1f s) in %s"
          % (jobs, rows_s, nfiles, nbytes, files_s, data))
    return srv


def phases(log):
    """(seconds from the first line, message) of each line of the log."""
    out, t0 = [], None
    for line in log.splitlines():
        m = TS.match(line)
        if not m:
            continue
        t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
        t0 = t0 or t
        out.append(((t - t0).total_seconds(), m.group(2)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--jobs", type=int, default=1000000)
    ap.add_argument("--with-output", type=float, default=1.0)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    srv = make_source(a.bin, a.jobs, a.with_output)
    name = "runnel_bench_import_%d" % os.getpid()
    psql(a.database_url, 'CREATE DATABASE "%s"' % name)
    try:
        t0 = time.monotonic()
        p = subprocess.run([os.path.join(a.bin, "runneld"), "--import",
                            srv.data, "--database", db_url(a.database_url, name)],
                           capture_output=True, text=True)
        took = time.monotonic() - t0
        if p.returncode != 0:
            raise SystemExit("import failed:\n" + p.stderr)
        for t, msg in phases(p.stderr):
            if "copied" in msg or "is in the database" in msg:
                print("  %6.1f s  %s" % (t, msg[:160]))
        size = psql(db_url(a.database_url, name), "SELECT pg_size_pretty("
                    "pg_database_size(current_database()))")
        print("import: %d jobs in %.1f s: %.0f jobs/s; database %s" % (
            a.jobs, took, a.jobs / took, size))
    finally:
        psql(a.database_url, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        if not a.keep:
            shutil.rmtree(srv.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
