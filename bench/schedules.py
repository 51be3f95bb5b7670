#!/usr/bin/env python3
"""Schedules at scale: 10 000 schedules loaded, runneld's CPU while idle
and the lag of a due tick.

  idle     runneld's CPU (utime + stime of /proc/<pid>/stat) and its
           context switches over an idle window, first with no schedule
           (the baseline, same run), then with --schedules loaded, none
           due during the run (yearly cron expressions in various zones,
           long @every periods).  Target: idle schedules cost no CPU.
  list     GET /api/v1/schedules with them all (next_runs for each).
  lag      --every schedules "@every 1s" and --minutely "* * * * *" added
           among them fire for --ticks seconds (extended to take in one
           minute boundary when --minutely > 0); for each job made,
           created_at - scheduled_for and started_at - scheduled_for,
           both runneld's millisecond timestamps from the job object
           (GET /api/v1/jobs?schedule=ID).  Target: p99 <= 50 ms.

Schedules are created over --conns keep-alive connections at once.  With
--pg (a private PostgreSQL from tests/pg/pg.sh) or --pg-url URL the node
stores in PostgreSQL instead of SQLite (a single-node cluster, which polls
every second: its idle floor is not zero); the CPU of its PostgreSQL
backends is counted beside runneld's, and the idle window with the
schedules is measured again once autovacuum has analyzed the table.

usage: bench/schedules.py [--bin DIR] [--schedules 10000] [--every 50]
                          [--minutely 100] [--idle 20] [--ticks 30]
                          [--conns 8] [--pg | --pg-url URL]
"""
import argparse
import glob
import http.client
import json
import os
import queue
import threading
import time
from datetime import datetime, timezone

from runnel_bench import Server, default_bindir, median, percentile

# Zones for the schedules that do not fire: a spread of offsets, with and
# without daylight saving, a half-hour and a quarter-hour one.
ZONES = ["UTC", "Europe/London", "Europe/Paris", "Europe/Berlin",
         "America/New_York", "America/Chicago", "America/Los_Angeles",
         "America/Sao_Paulo", "Asia/Tokyo", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Sydney", "Australia/Adelaide", "Pacific/Auckland",
         "Africa/Johannesburg", "Asia/Shanghai"]


def ms(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp() * 1000


def quiet_cron(i):
    """A cron expression that does not fire for weeks from now (runs happen
    in early December): yearly on 1 January, or in the first days of a
    summer month, or a long @every (anchored at creation)."""
    k = i % 10
    if k < 7:
        return "%d %d 1 1 *" % (i % 60, (i // 60) % 24)
    if k < 9:
        return "%d %d %d 7 *" % (i % 60, (i // 7) % 24, 1 + i % 5)
    return "@every %dd" % (30 + i % 300)


def task_switches(pid):
    """Voluntary + involuntary context switches over every thread of pid."""
    total = 0
    for path in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches",
                                        "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def idle(srv, seconds, backends):
    """CPU seconds and context switches of runneld, and CPU seconds of its
    PostgreSQL backends (backends(): 0 on SQLite), over seconds of quiet."""
    c0, s0, b0 = srv.cpu_s(), task_switches(srv.proc.pid), backends()
    t0 = time.monotonic()
    time.sleep(seconds)
    wall = time.monotonic() - t0
    return (srv.cpu_s() - c0, task_switches(srv.proc.pid) - s0, wall,
            backends() - b0)


def create_all(port, bodies, conns):
    """POSTs every body to /api/v1/schedules over conns keep-alive
    connections; returns the schedules made, in the order of bodies."""
    work = queue.Queue()
    for i, b in enumerate(bodies):
        work.put((i, json.dumps(b).encode()))
    out = [None] * len(bodies)
    errors = []

    def run():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            try:
                i, body = work.get_nowait()
            except queue.Empty:
                break
            c.request("POST", "/api/v1/schedules", body=body,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            if r.status != 201:
                errors.append("%d %s" % (r.status, data[:200]))
                continue
            out[i] = json.loads(data)
        c.close()

    ts = [threading.Thread(target=run) for _ in range(conns)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise RuntimeError("%d schedules refused, first: %s"
                           % (len(errors), errors[0]))
    return out


def jobs_of(srv, sid):
    jobs, before = [], None
    while True:
        path = "/api/v1/jobs?schedule=%d&limit=1000" % sid
        if before:
            path += "&before=%d" % before
        status, data = srv.request("GET", path)
        if status != 200:
            raise RuntimeError("list: %s %s" % (status, data))
        jobs += data["jobs"]
        before = data["next"]
        if not before:
            return jobs


def spread(xs):
    return "p50 %.0f, p95 %.0f, p99 %.0f, max %.0f ms" % (
        median(xs), percentile(xs, 95), percentile(xs, 99), max(xs))


def per_min(cpu, wall):
    return "%.3f CPU s/min (%.3f%%)" % (cpu * 60 / wall, cpu / wall * 100)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--schedules", type=int, default=10000)
    ap.add_argument("--every", type=int, default=50)
    ap.add_argument("--minutely", type=int, default=100)
    ap.add_argument("--idle", type=float, default=20)
    ap.add_argument("--ticks", type=float, default=30)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pg", action="store_true",
                    help="a private PostgreSQL (tests/pg/pg.sh)")
    ap.add_argument("--pg-url", help="a PostgreSQL maintenance database")
    a = ap.parse_args()

    pg = None
    if a.pg or a.pg_url:
        from cluster import Postgres, node
        pg = Postgres(a.pg_url)
        url = pg.createdb("schedules")
        srv = node(a.bin, url, "a", a.workers)
        store = "PostgreSQL"

        def backends():
            return pg.backends_cpu_s(url)
    else:
        def backends():
            return 0.0

        srv = Server(a.bin, workers=a.workers)
        store = "SQLite"
    try:
        time.sleep(1)
        base_cpu, base_sw, base_wall, base_pg = idle(srv, a.idle, backends)
        base_rss = srv.pid_rss_kb()

        bodies = [{"name": "quiet-%05d" % i, "cron": quiet_cron(i),
                   "timezone": ZONES[i % len(ZONES)],
                   "job": {"command": "true"}}
                  for i in range(a.schedules)]
        t0 = time.monotonic()
        create_all(srv.port, bodies, a.conns)
        made_s = time.monotonic() - t0

        lst = []
        for _ in range(3):
            t0 = time.monotonic()
            status, data = srv.request("GET", "/api/v1/schedules", raw=True)
            lst.append((time.monotonic() - t0) * 1000)
            assert status == 200, status
        listed = len(json.loads(data)["schedules"])
        size = len(data)

        time.sleep(1)
        full_cpu, full_sw, full_wall, full_pg = idle(srv, a.idle, backends)
        full_rss = srv.pid_rss_kb()
        jobs_before = srv.request("GET", "/api/v1/stats")[1]["total"]

        print("schedules (%s, --workers %d): %d created over %d connections "
              "in %.1f s (%.0f/s)" % (store, a.workers, a.schedules, a.conns,
                                      made_s, a.schedules / made_s))
        pgs = lambda cpu, wall: ("; its PostgreSQL backends %s"
                                 % per_min(cpu, wall)) if pg else ""
        print("  idle %.0f s, 0 schedules: %s, %d context switches, "
              "RSS %.1f MiB%s" % (base_wall, per_min(base_cpu, base_wall),
                                  base_sw, base_rss / 1024,
                                  pgs(base_pg, base_wall)))
        print("  idle %.0f s, %d schedules (none due): %s, %d context "
              "switches, RSS %.1f MiB%s; ratio %s; jobs made meanwhile %d"
              % (full_wall, a.schedules, per_min(full_cpu, full_wall),
                 full_sw, full_rss / 1024, pgs(full_pg, full_wall),
                 "%.2fx" % ((full_cpu + full_pg) / (base_cpu + base_pg))
                 if base_cpu + base_pg else
                 "n/a (baseline under one 10 ms clock tick)", jobs_before))
        if pg:
            # PostgreSQL re-plans runneld's prepared statements on schedules
            # once autovacuum has analyzed the table: idle again after that.
            q = ("SELECT autoanalyze_count + analyze_count FROM "
                 "pg_stat_user_tables WHERE relname = 'schedules'")
            t0 = time.monotonic()
            while pg.psql(q, url) == "0" and time.monotonic() - t0 < 180:
                time.sleep(1)
            waited = time.monotonic() - t0
            time.sleep(1)
            an_cpu, an_sw, an_wall, an_pg = idle(srv, a.idle, backends)
            print("  idle %.0f s, %d schedules, after autovacuum analyzed "
                  "them (%.0f s more): %s, %d context switches%s; ratio %s"
                  % (an_wall, a.schedules, waited, per_min(an_cpu, an_wall),
                     an_sw, pgs(an_pg, an_wall),
                     "%.2fx" % ((an_cpu + an_pg) / (base_cpu + base_pg))
                     if base_cpu + base_pg else "n/a"))
        srv.conn.close()
        print("  GET /api/v1/schedules with %d: %.0f ms median (%s), "
              "%.1f MiB" % (listed, median(lst),
                            ", ".join("%.0f" % x for x in lst),
                            size / 1048576))

        # Due ticks among the quiet ones.
        ticking = [{"name": "every-%03d" % i, "cron": "@every 1s",
                    "job": {"command": "true"}} for i in range(a.every)]
        ticking += [{"name": "minutely-%03d" % i, "cron": "* * * * *",
                     "timezone": ZONES[i % len(ZONES)],
                     "job": {"command": "true"}} for i in range(a.minutely)]
        c0, t0, b0 = srv.cpu_s(), time.monotonic(), backends()
        scheds = create_all(srv.port, ticking, a.conns)
        window = a.ticks
        if a.minutely:
            # Past the next minute boundary (of the slowest-made) by 5 s.
            to_min = 60 - time.time() % 60
            window = max(window, to_min + 5)
        time.sleep(window)
        # runneld closes a keep-alive connection idle for 60 s: a new one.
        srv.conn.close()
        paused = {}
        for s in scheds:
            srv.request("PATCH", "/api/v1/schedules/%d" % s["id"],
                        {"paused": True})
            paused[s["id"]] = time.time() * 1000
        tick_wall = time.monotonic() - t0
        tick_cpu = srv.cpu_s() - c0
        tick_pg = backends() - b0
        time.sleep(3)	# the last jobs start

        made, started = {"every": [], "minutely": []}, {"every": [],
                                                         "minutely": []}
        counts = {"every": 0, "minutely": 0}
        unstarted = gaps = dups = 0
        expect_every = 0
        for s in scheds:
            kind = s["name"].split("-")[0]
            js = jobs_of(srv, s["id"])
            if kind == "every":
                # Ticks at created_at + k s, up to the pause (+- 1 for the
                # PATCH in flight); each one once, none skipped.
                expect_every += int((paused[s["id"]] - ms(s["created_at"]))
                                    // 1000)
                fors = sorted(ms(j["scheduled_for"]) for j in js)
                gaps += sum(1 for x, y in zip(fors, fors[1:]) if y - x > 1000)
                dups += len(fors) - len(set(fors))
            for j in js:
                assert j["schedule_id"] == s["id"], j
                counts[kind] += 1
                due = ms(j["scheduled_for"])
                made[kind].append(ms(j["created_at"]) - due)
                if j["started_at"]:
                    started[kind].append(ms(j["started_at"]) - due)
                else:
                    unstarted += 1
        print("  ticks over %.0f s (runneld %s while ticking%s):"
              % (tick_wall, per_min(tick_cpu, tick_wall),
                 pgs(tick_pg, tick_wall)))
        for kind, label, expect in (
                ("every", '%d x "@every 1s"' % a.every,
                 "%d from creation to pause; %d gaps, %d twice"
                 % (expect_every, gaps, dups)),
                ("minutely", '%d x "* * * * *"' % a.minutely,
                 "%d" % a.minutely)):
            if not made[kind]:
                if a.__dict__[kind]:
                    print("    %s: no jobs made (expected %s)" % (label, expect))
                continue
            print("    %s: %d jobs (expected %s)" % (label, counts[kind],
                                                      expect))
            print("      created_at - scheduled_for: %s (target p99 <= 50)"
                  % spread(made[kind]))
            if started[kind]:
                print("      started_at - scheduled_for: %s"
                      % spread(started[kind]))
        allm = made["every"] + made["minutely"]
        alls = started["every"] + started["minutely"]
        if allm:
            print("    all %d: created_at - scheduled_for %s; started_at - "
                  "scheduled_for %s; %d not started"
                  % (len(allm), spread(allm), spread(alls) if alls else "-",
                     unstarted))
    finally:
        srv.stop()
        if pg:
            pg.stop()


if __name__ == "__main__":
    main()
