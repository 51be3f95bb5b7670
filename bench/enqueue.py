#!/usr/bin/env python3
"""Durable enqueue: one job per request over 64 keep-alive connections
(wrk), acknowledged with synchronous=FULL semantics, and batch submit of
10 000 jobs per request.  The only worker is held by a `sleep` job so
that the queued jobs do not run meanwhile.  Baselines in the same run:
wrk against GET /healthz (the HTTP stack's ceiling with one store
access per request) and SQLite's own insert rate, one row per
transaction with synchronous=FULL (tests/../bench/sqlite_insert.c).

usage: bench/enqueue.py [--bin DIR] [--seconds 8]
"""
import argparse
import os
import re
import subprocess
import time

from runnel_bench import Server, default_bindir, median

HERE = os.path.dirname(os.path.abspath(__file__))


def wrk(port, path, seconds, script=None):
    cmd = ["wrk", "-t2", "-c64", "-d%ds" % seconds]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + ["http://127.0.0.1:%d%s" % (port, path)],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, int(non2xx.group(1)) if non2xx else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--seconds", type=int, default=8)
    a = ap.parse_args()
    srv = Server(a.bin, workers=1)
    try:
        srv.submit({"command": "sleep 100000"})
        # Batches first, on a fresh store; the client reads the answer
        # (every job object) but does not decode it.
        body = ("[" + ",".join(['{"command":"true"}'] * 10000) + "]").encode()
        rates = []
        for _ in range(7):
            t0 = time.monotonic()
            status, _ = srv.request("POST", "/api/v1/jobs", body, raw=True)
            rates.append(10000 / (time.monotonic() - t0))
            assert status == 201, status
        print("batch submit, 10 000 jobs per request: %.0f jobs/s median of 7 "
              "(target >= 100000)" % median(rates))
        before = srv.request("GET", "/api/v1/stats")[1]["total"]
        rps, bad = wrk(srv.port, "/api/v1/jobs", a.seconds,
                       os.path.join(HERE, "post.lua"))
        after = srv.request("GET", "/api/v1/stats")[1]["total"]
        print("durable enqueue, 1 job per request, 64 connections: %.0f jobs/s "
              "(target >= 20000); %d jobs stored, %d non-2xx" %
              (rps, after - before, bad))
        hz, _ = wrk(srv.port, "/healthz", max(3, a.seconds // 2))
        print("  baseline GET /healthz, 64 connections: %.0f requests/s" % hz)
    finally:
        srv.stop()
    exe = os.path.join(HERE, "..", "build-release", "bench", "sqlite_insert")
    if os.path.exists(exe):
        print("  baseline " + subprocess.run([exe], capture_output=True,
              text=True, check=True).stdout.strip())


if __name__ == "__main__":
    main()
