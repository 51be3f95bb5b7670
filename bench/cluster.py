#!/usr/bin/env python3
"""Cluster mode on PostgreSQL (issue 11), each figure with its baseline in
the same run, the two alternating round by round:

  scale     `sleep 0.2` jobs, one batch submitted to the first node: 1 node
            x 4 workers against 3 nodes x 4 workers on the same PostgreSQL
            (target >= 2.7x the jobs per second)
  enqueue   single-job POSTs over 64 keep-alive connections (wrk, post.lua)
            to one PostgreSQL node, synchronous_commit=on, against the
            SQLite node (target >= 10 000 jobs/s)
  e2e       5 000 `true` jobs as one batch, --workers 2: one PostgreSQL
            node against the SQLite node (target >= 0.8x)
  bulk      one POST of 10 000 jobs (a paused queue) to a PostgreSQL node,
            and the worst /healthz answer meanwhile (the loop's stall),
            against the SQLite node
  claim     the cluster claim path of store/pg_claim.c at 1 000 and at
            1 000 000 queued (build-release/bench/cluster_claim; target
            <= 1.5x)
  dispatch  an idle cluster: submitted on node A (its worker busy), run
            on node B, created_at -> started_at (target p50 <= 5 ms);
            baseline: submitted on B itself

Without --pg-url a private PostgreSQL is started in a temporary directory
(tests/pg/pg.sh: fsync and synchronous_commit as PostgreSQL ships them)
and stopped at the end.  Every measurement gets a fresh database.

With --baseline-bin DIR the PostgreSQL node of another build (an earlier
commit) runs the same rounds too, for a change's before and after.

usage: bench/cluster.py [--bin DIR] [--baseline-bin DIR] [--pg-url URL]
                        [--rounds N] [WHAT ...]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime

from e2e import runnel_round
from enqueue import wrk
from runnel_bench import Reader, Server, default_bindir, median, percentile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PG_SH = os.path.join(TOP, "tests", "pg", "pg.sh")


def say(fmt, *args):
    print(fmt % args, flush=True)


def paired(xs, ys):
    """Median and range of x / y round by round (the two ran in turn:
    steadier on a busy machine than a ratio of medians)."""
    r = [x / y for x, y in zip(xs, ys)]
    return "%.2f (%.2f-%.2f)" % (median(r), min(r), max(r))


def spread(xs, fmt="%.0f"):
    """median (min-max) of xs."""
    return (fmt + " (" + fmt + "-" + fmt + ")") % (median(xs), min(xs), max(xs))


class Postgres:
    """The maintenance database at url, or a private server of our own."""

    def __init__(self, url=None, keep=False):
        self.dir = None
        self.keep = keep
        if url is None:
            self.dir = tempfile.mkdtemp(prefix="runnel-bench-pg-")
            url = subprocess.run(["sh", PG_SH, "start", self.dir],
                                 capture_output=True, text=True,
                                 check=True).stdout.strip()
        self.url = url
        self.made = []

    def psql(self, sql, url=None):
        env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
        return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v",
                               "ON_ERROR_STOP=1", "-d", url or self.url,
                               "-c", sql], capture_output=True, text=True,
                              check=True, env=env).stdout.strip()

    def url_of(self, name):
        u = urllib.parse.urlsplit(self.url)
        return "%s://%s/%s%s" % (u.scheme, u.netloc, name,
                                 "?" + u.query if u.query else "")

    def createdb(self, name):
        name = "runnel_bench_" + name
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        self.psql('CREATE DATABASE "%s"' % name)
        self.made.append(name)
        return self.url_of(name)

    def backends_cpu_s(self, url):
        """CPU seconds of the server processes serving database url."""
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        pids = self.psql("SELECT pid FROM pg_stat_activity WHERE datname = '%s'"
                         % name).split()
        total = 0.0
        for p in pids:
            try:
                with open("/proc/%s/stat" % p) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except OSError:
                pass	# not on this machine, or gone
        return total

    def stop(self):
        for name in [] if self.keep else self.made:
            try:
                self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
            except subprocess.CalledProcessError:
                pass
        if self.dir:
            subprocess.run(["sh", PG_SH, "stop", self.dir], check=False)
            shutil.rmtree(self.dir, ignore_errors=True)


def node(bindir, url, name, workers, args=()):
    return Server(bindir, workers=workers,
                  args=["--database", url, "--node-id", name, *args])


def ms(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000


def batch_round(first, n, command):
    """n jobs as one batch to first; seconds until every one finished."""
    body = ("[" + ",".join(['{"command":"%s"}' % command] * n) + "]").encode()
    t0 = time.monotonic()
    jobs = first.submit(body)["jobs"]
    for j in jobs:
        j = first.wait(j["id"])
        assert j["state"] == "succeeded", j
    return time.monotonic() - t0


def scale(a, pg):
    url1, url3 = pg.createdb("scale1"), pg.createdb("scale3")
    one = [node(a.bin, url1, "a", 4)]
    three = [node(a.bin, url3, n, 4) for n in ("a", "b", "c")]
    try:
        batch_round(one[0], 8, "true")
        batch_round(three[0], 24, "true")
        r1, r3 = [], []
        for _ in range(a.rounds):
            r1.append(a.scale_jobs / batch_round(one[0], a.scale_jobs, "sleep 0.2"))
            r3.append(a.scale_jobs / batch_round(three[0], a.scale_jobs, "sleep 0.2"))
        by_node = pg.psql("SELECT string_agg(node || ' ' || n, ', ' ORDER BY node) "
                          "FROM (SELECT node, count(*) n FROM jobs GROUP BY node) x",
                          url3)
        say("scale-out, %d `sleep 0.2` jobs in one batch: 3 nodes x 4 workers "
            "%s jobs/s, 1 node x 4 workers %s jobs/s (ideal 20): ratio by "
            "round %s (target >= 2.7)", a.scale_jobs, spread(r3, "%.1f"),
            spread(r1, "%.1f"), paired(r3, r1))
        say("  jobs run by node over all rounds: %s", by_node)
    finally:
        for s in one + three:
            s.stop()


def enqueue(a, pg):
    url = pg.createdb("enqueue")
    pgn = node(a.bin, url, "a", 1)
    lite = Server(a.bin, workers=1)
    base = node(a.baseline_bin, pg.createdb("enqueue_base"), "a", 1) \
        if a.baseline_bin else None
    try:
        for s in (pgn, lite, base):
            if s:
                s.submit({"command": "sleep 100000"})
        sync = pg.psql("SHOW synchronous_commit", url)
        p, q, b, bad = [], [], [], 0
        for _ in range(a.rounds):
            for s, into in ((pgn, p), (lite, q), (base, b)):
                if s:
                    rps, nb = wrk(s.port, "/api/v1/jobs", a.seconds,
                                  os.path.join(HERE, "post.lua"))
                    into.append(rps)
                    bad += nb
        stored = int(pg.psql("SELECT count(*) FROM jobs", url)) - 1
        say("durable enqueue, 1 job per request, 64 connections, %d s x %d: "
            "PostgreSQL node %s jobs/s (synchronous_commit=%s; target >= "
            "10000), SQLite node %s jobs/s: ratio by round %s; %d non-2xx; "
            "%d jobs in PostgreSQL", a.seconds, a.rounds, spread(p), sync,
            spread(q), paired(p, q), bad, stored)
        if base:
            say("  baseline build %s, PostgreSQL node: %s jobs/s; this build "
                "/ baseline by round: %s", a.baseline_bin, spread(b),
                paired(p, b))
    finally:
        for s in (pgn, lite, base):
            if s:
                s.stop()


def e2e(a, pg):
    url = pg.createdb("e2e")
    pgn = node(a.bin, url, "a", 2)
    lite = Server(a.bin, workers=2)
    burl = pg.createdb("e2e_base") if a.baseline_bin else None
    base = node(a.baseline_bin, burl, "a", 2) if burl else None
    try:
        for s in (pgn, lite, base):
            if s:
                runnel_round(s, 100)
        p, q, b, pcpu, bcpu, qcpu, xcpu = [], [], [], [], [], [], []
        for _ in range(a.rounds):
            c0, b0 = pgn.cpu_s(), pg.backends_cpu_s(url)
            p.append(runnel_round(pgn, a.jobs))
            pcpu.append(pgn.cpu_s() - c0)
            bcpu.append(pg.backends_cpu_s(url) - b0)
            c0 = lite.cpu_s()
            q.append(runnel_round(lite, a.jobs))
            qcpu.append(lite.cpu_s() - c0)
            if base:
                c0, b0 = base.cpu_s(), pg.backends_cpu_s(burl)
                b.append(runnel_round(base, a.jobs))
                xcpu.append(base.cpu_s() - c0 + pg.backends_cpu_s(burl) - b0)
        say("end to end, %d `true` jobs, 2 workers: PostgreSQL node %.2f s "
            "(%.0f jobs/s), SQLite node %.2f s (%.0f jobs/s): ratio by round "
            "%s (target >= 0.8); CPU per job: runneld %.0f us "
            "and its PostgreSQL backends %.0f us, SQLite runneld %.0f us",
            a.jobs, median(p), a.jobs / median(p), median(q),
            a.jobs / median(q), paired(q, p),
            median(pcpu) / a.jobs * 1e6, median(bcpu) / a.jobs * 1e6,
            median(qcpu) / a.jobs * 1e6)
        say("  rounds PostgreSQL: %s", " ".join("%.2f" % v for v in p))
        say("  rounds SQLite:     %s", " ".join("%.2f" % v for v in q))
        if base:
            say("  baseline build %s, PostgreSQL node: %.2f s, runneld + "
                "backends CPU %.0f us/job (this build %.0f); this build / "
                "baseline by round: %s", a.baseline_bin, median(b),
                median(xcpu) / a.jobs * 1e6,
                (median(pcpu) + median(bcpu)) / a.jobs * 1e6, paired(b, p))
            say("  rounds baseline:   %s", " ".join("%.2f" % v for v in b))
    finally:
        for s in (pgn, lite, base):
            if s:
                s.stop()


def bulk(a, pg):
    n = 10000
    body = ("[" + ",".join(['{"command":"true","queue":"b"}'] * n) +
            "]").encode()
    pgn = node(a.bin, pg.createdb("bulk"), "a", 1)
    lite = Server(a.bin, workers=1)
    base = node(a.baseline_bin, pg.createdb("bulk_base"), "a", 1) \
        if a.baseline_bin else None
    servers = [s for s in (pgn, lite, base) if s]
    times = {s: [] for s in servers}
    stalls = {s: [] for s in servers}
    try:
        for s in servers:
            s.request("PATCH", "/api/v1/queues/b", {"paused": True})
        for _ in range(a.rounds):
            for s in servers:
                probe = Reader(s.port)
                t0 = time.monotonic()
                assert len(s.submit(body)["jobs"]) == n
                times[s].append(time.monotonic() - t0)
                stalls[s].append(max(probe.stop()) / 1000)
        say("bulk, one POST of %d jobs, %d rounds: PostgreSQL node %s s "
            "(worst /healthz meanwhile %s s), SQLite node %s s (%s s)", n,
            a.rounds, spread(times[pgn], "%.3f"), spread(stalls[pgn], "%.3f"),
            spread(times[lite], "%.3f"), spread(stalls[lite], "%.3f"))
        if base:
            say("  baseline build %s, PostgreSQL node: %s s (worst /healthz "
                "%s s); this build / baseline by round: %s", a.baseline_bin,
                spread(times[base], "%.3f"), spread(stalls[base], "%.3f"),
                paired(times[pgn], times[base]))
    finally:
        for s in servers:
            s.stop()


def claim(a, pg):
    builds = [("", a.bin)] + ([("baseline build: ", a.baseline_bin)]
                              if a.baseline_bin else [])
    for levels in (1, 7):
        for label, bindir in builds:
            exe = os.path.join(os.path.dirname(bindir), "bench", "cluster_claim")
            if not os.path.exists(exe):
                say("claim: %s not built: skipped", exe)
                continue
            urls = [pg.createdb("claim_%d_%d" % (levels, d))
                    for d in (1000, a.depth)]
            out = subprocess.run([exe, "--levels", str(levels), urls[0],
                                  "1000", urls[1], str(a.depth)],
                                 capture_output=True, text=True, check=True)
            vac = pg.psql("SELECT coalesce(autoanalyze_count, 0) || ' "
                          "autoanalyze, ' || coalesce(autovacuum_count, 0) || "
                          "' autovacuum' FROM pg_stat_user_tables WHERE "
                          "relname = 'jobs'", urls[1])
            med = [float(m) for m in re.findall(r"claim \(round \+ next\) "
                                                  r"median ([\d.]+) us", out.stdout)]
            say("%s%s\n  %sdepth %d / 1000: %.2f (target <= 1.5); %s; on the "
                "deep table meanwhile: %s", label,
                out.stdout.strip().replace("\n", "\n" + label), label,
                a.depth, med[1] / med[0] if len(med) == 2 else 0,
                out.stderr.strip().replace("\n", "; "), vac)


def idle_cluster(a, pg, bindir, name):
    """Node a (one worker, busy) and node b (two, idle) on a database."""
    url = pg.createdb(name)
    na = node(bindir, url, "a", 1)
    # A alone claims its blocker at once; then B joins, idle.
    na.submit({"command": "sleep 100000"})
    try:
        nb = node(bindir, url, "b", 2)
    except Exception:
        na.stop()
        raise
    deadline = time.monotonic() + 10
    while pg.psql("SELECT count(*) FROM nodes", url) != "2":
        if time.monotonic() > deadline:
            raise RuntimeError("node b did not join")
        time.sleep(0.05)
    for s in (na, nb):
        for _ in range(20):
            s.wait(s.submit({"command": "true"})["id"])
    return url, na, nb


def dispatch(a, pg):
    clusters = []
    try:
        clusters.append(idle_cluster(a, pg, a.bin, "dispatch"))
        if a.baseline_bin:
            clusters.append(idle_cluster(a, pg, a.baseline_bin,
                                         "dispatch_base"))
        lat = [([], [], []) for _ in clusters]
        for i in range(a.dispatch_jobs):
            for (url, na, nb), (cross, same, rtt) in zip(clusters, lat):
                for s, into in ((na, cross), (nb, same)):
                    t0 = time.monotonic()
                    j = s.submit({"command": "true"})
                    j = s.wait(j["id"])
                    if s is na:
                        rtt.append((time.monotonic() - t0) * 1000)
                    into.append(ms(j["started_at"]) - ms(j["created_at"]))
        for k, ((url, na, nb), (cross, same, rtt)) in enumerate(zip(clusters, lat)):
            where = pg.psql("SELECT string_agg(node || ' ' || n, ', ' ORDER BY "
                            "node) FROM (SELECT node, count(*) n FROM jobs "
                            "GROUP BY node) x", url)
            say("%sdispatch on an idle cluster, %d jobs submitted on A, run on "
                "B: created_at -> started_at p50 %.0f ms, p99 %.0f ms, max %.0f "
                "ms (target p50 <= 5); submitted on B itself: p50 %.0f ms, p99 "
                "%.0f ms; client round trip submit on A + wait: p50 %.2f ms, "
                "p99 %.2f ms; jobs by node: %s",
                "baseline build: " if k else "", a.dispatch_jobs,
                median(cross), percentile(cross, 99), max(cross), median(same),
                percentile(same, 99), median(rtt), percentile(rtt, 99), where)
    finally:
        for url, na, nb in clusters:
            na.stop()
            nb.stop()


WHAT = {"scale": scale, "enqueue": enqueue, "e2e": e2e, "bulk": bulk,
        "claim": claim,
        "dispatch": dispatch}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--pg-url", help="a maintenance database (default: a "
                    "private PostgreSQL, started and stopped here)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline-bin", help="another build whose PostgreSQL "
                    "node runs the same rounds (enqueue, e2e, claim, dispatch)")
    ap.add_argument("--seconds", type=int, default=5, help="of each wrk run")
    ap.add_argument("--jobs", type=int, default=5000, help="e2e jobs")
    ap.add_argument("--scale-jobs", type=int, default=240)
    ap.add_argument("--dispatch-jobs", type=int, default=500)
    ap.add_argument("--depth", type=int, default=1000000)
    ap.add_argument("--keep", action="store_true", help="keep the databases "
                    "(runnel_bench_*; with --pg-url) for a look afterwards")
    ap.add_argument("what", nargs="*", help=" ".join(WHAT) + " (default: all)")
    a = ap.parse_args()
    for w in a.what:
        if w not in WHAT:
            ap.error("unknown benchmark %s (%s)" % (w, " ".join(WHAT)))
    a.bin = os.path.abspath(a.bin)
    if a.baseline_bin:
        a.baseline_bin = os.path.abspath(a.baseline_bin)
    pg = Postgres(a.pg_url, a.keep and a.pg_url is not None)
    try:
        say("# cluster mode: PostgreSQL %s", pg.psql("SHOW server_version"))
        for w in a.what or list(WHAT):
            WHAT[w](a, pg)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
