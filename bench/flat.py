#!/usr/bin/env python3
"""Flat at 10 000 000 jobs (issue 15, target 3): what runneld costs with a
big jobs table against the same measures with a small one, in one run.

Targets at --jobs (10 000 000 with --jobs 10000000): start-up (process
start to /healthz 200) <= 2 s; GET /api/v1/stats and the first page of
GET /api/v1/jobs <= 5 ms (p99 reported too); claiming no slower than at
--small jobs (<= 1.2x); runneld's RSS <= 48 MiB; retention deleting a
tenth of the table (1 000 000 expired jobs) without any request waiting
more than 50 ms.

The store: a real runneld on SQLite makes the schema and a template row
(a `true` job that ran), then, stopped, the jobs table is filled straight
in SQLite: 9 in 10 jobs finished over the last 9 days (evenly apart, finished a second after their creation; 1 in 20 failed
with exit status 1, 1 in 20 canceled, the rest succeeded) over four
queues, then 1 in 10 queued `true` jobs created in the last hour.  The
queues are paused (a row in queues, as PATCH makes) so that nothing runs
until the claim is measured.  The filled file is kept and copied for each
round (the claim and the retention change it).

Per size:
  1. start-up, RSS, and p50/p99 of stats and listings (--rounds each, on one
     keep-alive connection after 3 to warm up), with --retain-finished 30
     days so that nothing expires;
  2. the claim: the queues unpaused, the time for 2 workers to start and
     finish --claim `true` jobs (the rate against the small table's);
  3. retention: runneld started again with --retain-finished 8 days, so
     that the oldest ninth of the finished jobs (a tenth of the table) has
     expired; while retention deletes them, a steady stream of GET
     /api/v1/stats and POST /api/v1/jobs (to a paused queue) is timed: the
     worst and p99, and how long the deletion took.

usage: bench/flat.py [--bin DIR] [--jobs 1000000] [--small 1000]
                     [--rounds 200] [--claim 3000] [--work DIR]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time

from runnel_bench import Server, default_bindir, percentile

DAY = 24 * 3600 * 1000
QUEUES = ("default", "mail", "reports", "builds")


def template(bindir, workdir):
    """The data directory of a stopped runneld that ran one `true` job."""
    srv = Server(bindir, workers=1)
    j = srv.submit({"command": "true"})
    srv.wait(j["id"])
    srv.conn.close()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(30)
    srv.log.close()
    data = os.path.join(workdir, "template")
    shutil.copytree(srv.data, data)
    shutil.rmtree(srv.dir, ignore_errors=True)
    return data, j["id"]


def fill(data, tid, jobs, now):
    """jobs rows after the template's: 9 in 10 finished, 1 in 10 queued."""
    queued = max(jobs // 10, 1)
    done = jobs - queued
    step = 9 * DAY // max(done, 1)
    db = sqlite3.connect(os.path.join(data, "runnel.db"))
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-1000000")
    cols = [r[1] for r in db.execute("PRAGMA table_info(jobs)") if r[1] != "id"]
    # p: 0 .. jobs-1; the first `done` finished, oldest first.
    fin = "%d + p * %d" % (now - 9 * DAY, step)
    # p % 13 % 4: every queue gets failed and canceled jobs too
    q = "CASE p %% 13 %% 4 %s END" % " ".join(
        "WHEN %d THEN '%s'" % (i, n) for i, n in enumerate(QUEUES))
    finished = {
        "queue": q,
        "state": "CASE WHEN p % 20 = 3 THEN 'failed' WHEN p % 20 = 7 "
                 "THEN 'canceled' ELSE 'succeeded' END",
        "created_at": "%s - 1000" % fin,
        "started_at": "CASE WHEN p %% 20 = 7 THEN NULL ELSE %s - 250 END" % fin,
        "finished_at": fin,
        "exit_code": "CASE WHEN p % 20 = 3 THEN 1 WHEN p % 20 = 7 THEN NULL "
                     "ELSE 0 END",
        "error": "CASE WHEN p % 20 = 3 THEN 'exit status 1' WHEN p % 20 = 7 "
                 "THEN 'canceled' ELSE NULL END",
    }
    waiting = {
        "queue": q, "state": "'queued'", "attempts": "0",
        "created_at": "%d + p" % (now - 3600 * 1000 - done), "started_at": "NULL",
        "finished_at": "NULL", "exit_code": "NULL", "signal": "NULL",
        "error": "NULL", "worker": "NULL", "cpu_ms": "NULL",
        "max_rss_kb": "NULL", "stdout_bytes": "0", "stderr_bytes": "0",
    }
    for lo, hi, expr in ((0, done, finished), (done, jobs, waiting)):
        if hi <= lo:
            continue
        db.execute(
            "WITH RECURSIVE n(p) AS (SELECT %d UNION ALL SELECT p + 1 FROM n "
            "WHERE p < %d) INSERT INTO jobs (id, %s) SELECT %d + p, %s FROM n, "
            "jobs t WHERE t.id = %d" % (
                lo, hi - 1, ", ".join(cols), tid + 1,
                ", ".join(expr.get(c, "t." + c) for c in cols), tid))
        db.commit()
    for name in QUEUES + ("bench",):
        db.execute("INSERT INTO queues (name, paused) VALUES (?, 1) ON "
                   "CONFLICT (name) DO UPDATE SET paused = 1", (name,))
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return done


class Runneld:
    """A runneld on an existing data directory, its start-up timed."""

    def __init__(self, bindir, data, args=()):
        self.dir = data
        # O_APPEND: seeking to read it back must not move where runneld
        # writes (one open file, shared with the child)
        open(os.path.join(data, "runneld.log"), "w").close()
        self.log = open(os.path.join(data, "runneld.log"), "a+")
        e = {k: v for k, v in os.environ.items() if not k.startswith("RUNNEL_")}
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [os.path.join(bindir, "runneld"), "--listen", "127.0.0.1:0",
             "--data", data, "--workers", "2", *args],
            stdout=self.log, stderr=self.log, env=e)
        self.port = self._port()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        while True:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    break
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
            time.sleep(0.002)
        self.startup_s = time.monotonic() - t0

    request = Server.request

    def _port(self):
        # a migration of a big table may come before the listening
        while True:
            self.log.seek(0)
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)",
                          self.log.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError("runneld exited")
            time.sleep(0.002)

    def mem_kb(self):
        out = {}
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                k = line.split(":")[0]
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(line.split()[1])
        return out

    def stop(self):
        self.conn.close()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def timed(srv, method, path, rounds, body=None):
    for _ in range(3):
        srv.request(method, path, body)
    took = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        status, data = srv.request(method, path, body)
        took.append((time.perf_counter() - t0) * 1000)
        if status >= 300:
            raise RuntimeError("%s: %s %s" % (path, status, data))
    return percentile(took, 50), percentile(took, 99)


def finished(srv):
    j = srv.request("GET", "/api/v1/stats")[1]["jobs"]
    return j["succeeded"] + j["failed"] + j["canceled"]


def claim(srv, n):
    """Seconds for the workers to run n queued `true` jobs."""
    base = finished(srv)
    t0 = time.monotonic()
    for q in QUEUES:
        srv.request("PATCH", "/api/v1/queues/" + q, {"paused": False})
    while finished(srv) - base < n:
        time.sleep(0.005)
    took = time.monotonic() - t0
    for q in QUEUES:
        srv.request("PATCH", "/api/v1/queues/" + q, {"paused": True})
    return took


def retention(bindir, data, expired):
    """Start-up, then the stream's latencies while retention deletes."""
    srv = Runneld(bindir, data, ["--retain-finished", str(8 * 86400)])
    before = finished(srv)
    stream = Runneld.__new__(Runneld)
    stream.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)
    took, t0, gone, t_end = [], time.monotonic(), 0, None
    body = {"command": "true", "queue": "bench"}
    i, slow, s0 = 0, [], time.perf_counter()
    while time.monotonic() - t0 < 600:
        i += 1
        s = time.perf_counter()
        if i % 2:
            stream.request("GET", "/api/v1/stats")
        else:
            stream.request("POST", "/api/v1/jobs", body)
        took.append((time.perf_counter() - s) * 1000)
        if took[-1] > 50:
            slow.append((round(s - s0, 3), "stats" if i % 2 else "submit",
                         round(took[-1], 1)))
        time.sleep(0.002)
        if i % 50 == 0:
            gone = before - finished(srv)
            if gone >= expired:
                t_end = time.monotonic() - t0
                break
    stream.conn.close()
    mem = srv.mem_kb()
    srv.stop()
    return {"startup_s": srv.startup_s, "deleted": gone, "took_s": t_end,
            "requests": len(took), "p99_ms": percentile(took, 99),
            "max_ms": max(took), "over_50ms": sum(t > 50 for t in took),
            "slow": slow[:10],
            "mem": mem}


def measure(a, prepared, work, jobs, m):
    data = os.path.join(work, "round")
    shutil.rmtree(data, ignore_errors=True)
    t0 = time.monotonic()
    shutil.copytree(prepared, data)
    # written back now: else the first checkpoint's fdatasync waits for the
    # copy's gigabytes (570 ms), which no runneld meets outside a benchmark
    os.sync()
    print("flat: %d jobs copied in %.1f s" % (jobs, time.monotonic() - t0), flush=True)
    r = {}
    srv = Runneld(a.bin, data, ["--retain-finished", str(30 * 86400)])
    r["startup_s"] = srv.startup_s
    r["mem_start"] = srv.mem_kb()
    for what, path in (("stats", "/api/v1/stats"),
                       ("jobs", "/api/v1/jobs"),
                       ("jobs?state=queued", "/api/v1/jobs?state=queued"),
                       ("jobs?state=failed", "/api/v1/jobs?state=failed"),
                       ("jobs?queue=mail", "/api/v1/jobs?queue=mail")):
        r[what] = timed(srv, "GET", path, a.rounds)
    r["claim_s"] = claim(srv, a.claim)
    r["mem"] = srv.mem_kb()
    srv.stop()
    # finished before now - 8 days: the first ninth, and those since the fill
    step = 9 * DAY // max(m["done"], 1)
    expired = (DAY + int(time.time() * 1000) - m["now"]) // step
    r["retention"] = retention(a.bin, data, min(expired, m["done"]) * 99 // 100)
    shutil.rmtree(data, ignore_errors=True)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--jobs", type=int, default=1000000)
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--claim", type=int, default=3000)
    ap.add_argument("--work", help="where the stores go (kept: a filled "
                    "store is reused when its size matches)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="runnel-flat-")
    os.makedirs(work, exist_ok=True)
    results = {}
    try:
        for jobs in (a.small, a.jobs):
            # the small store holds the claimed jobs on top of its own
            queued_extra = a.claim if jobs == a.small else 0
            prepared = os.path.join(work, "filled-%d" % jobs)
            meta = os.path.join(prepared, "flat.json")
            if not os.path.exists(meta):
                shutil.rmtree(prepared, ignore_errors=True)
                tdata, tid = template(a.bin, work)
                t0 = time.monotonic()
                now = int(time.time() * 1000)
                done = fill(tdata, tid, jobs, now)
                if queued_extra:
                    db = sqlite3.connect(os.path.join(tdata, "runnel.db"))
                    db.execute(
                        "WITH RECURSIVE n(p) AS (SELECT 1 UNION ALL SELECT "
                        "p + 1 FROM n WHERE p < %d) INSERT INTO jobs (type, "
                        "queue, priority, state, command, created_at, "
                        "max_attempts) SELECT 'command', 'default', 0, "
                        "'queued', 'true', %d, 1 FROM n" % (queued_extra, now))
                    db.commit()
                    db.close()
                os.rename(tdata, prepared)
                with open(meta, "w") as f:
                    json.dump({"now": now, "done": done}, f)
                print("flat: %d jobs written in %.1f s" % (
                    jobs, time.monotonic() - t0), flush=True)
            with open(meta) as f:
                m = json.load(f)
            # a store filled by an older runneld gets its migrations here,
            # not in the timed start-up
            srv = Runneld(a.bin, prepared, ["--retain-finished", str(30 * 86400)])
            srv.stop()
            results[jobs] = measure(a, prepared, work, jobs, m)
            print("flat: %d: %s" % (jobs, json.dumps(results[jobs])), flush=True)
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    report(a, results)


def report(a, results):
    s, b = results[a.small], results[a.jobs]
    print("| measure | %d jobs | %d jobs | target |" % (a.small, a.jobs))
    print("|---|---|---|---|")
    print("| start-up to /healthz 200 | %.3f s | %.3f s | <= 2 s |" % (
        s["startup_s"], b["startup_s"]))
    for k in ("stats", "jobs", "jobs?state=queued", "jobs?state=failed",
              "jobs?queue=mail"):
        print("| GET /api/v1/%s p50 / p99 | %.2f / %.2f ms | %.2f / %.2f ms "
              "| <= 5 ms |" % (k, s[k][0], s[k][1], b[k][0], b[k][1]))
    print("| claim: %d `true` jobs by 2 workers | %.2f s (%.0f/s) | %.2f s "
          "(%.0f/s, %.2fx) | <= 1.2x |" % (
              a.claim, s["claim_s"], a.claim / s["claim_s"], b["claim_s"],
              a.claim / b["claim_s"], b["claim_s"] / s["claim_s"]))
    for k in ("mem_start", "mem"):
        print("| runneld VmRSS / VmHWM %s | %.1f / %.1f MiB | %.1f / %.1f MiB "
              "| <= 48 MiB |" % (
                  "after start-up" if k == "mem_start" else
                  "after the requests and the claim",
                  s[k]["VmRSS"] / 1024, s[k]["VmHWM"] / 1024,
                  b[k]["VmRSS"] / 1024, b[k]["VmHWM"] / 1024))
    rs, rb = s["retention"], b["retention"]
    print("| start-up with 1/10 of the jobs expired | %.3f s | %.3f s | <= 2 s |"
          % (rs["startup_s"], rb["startup_s"]))
    print("| retention: jobs deleted, in | %d, %s s | %d, %s s | |" % (
        rs["deleted"], "%.1f" % rs["took_s"] if rs["took_s"] else "-",
        rb["deleted"], "%.1f" % rb["took_s"] if rb["took_s"] else "-"))
    print("| retention: stats + submit meanwhile, p99 / worst / over 50 ms "
          "(%d / %d requests) | %.1f / %.1f ms / %d | %.1f / %.1f ms / %d "
          "| worst <= 50 ms |" % (
              rs["requests"], rb["requests"], rs["p99_ms"], rs["max_ms"],
              rs["over_50ms"], rb["p99_ms"], rb["max_ms"], rb["over_50ms"]))
    print("| runneld VmRSS / VmHWM after retention | %.1f / %.1f MiB | "
          "%.1f / %.1f MiB | <= 48 MiB |" % (
              rs["mem"]["VmRSS"] / 1024, rs["mem"]["VmHWM"] / 1024,
              rb["mem"]["VmRSS"] / 1024, rb["mem"]["VmHWM"] / 1024))


if __name__ == "__main__":
    main()
