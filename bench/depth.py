#!/usr/bin/env python3
"""Memory at depth: runneld's RSS idle, then with 1 000 000 queued jobs
(submitted in batches of 10 000 while its only worker is held by a
`sleep` job), and a worker's RSS.  Targets: runneld <= 64 MiB with a
million queued, a worker <= 4 MiB.  The claim latency against depth is
measured by build-release/bench/claim (the same store code).

usage: bench/depth.py [--bin DIR] [--jobs 1000000]
"""
import argparse
import os
import subprocess
import time

from runnel_bench import Server, default_bindir

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--jobs", type=int, default=1000000)
    a = ap.parse_args()
    srv = Server(a.bin, workers=1)
    try:
        idle = srv.pid_rss_kb()
        srv.submit({"command": "sleep 100000"})
        body = ("[" + ",".join(['{"command":"true"}'] * 10000) + "]").encode()
        t0 = time.monotonic()
        for _ in range(a.jobs // 10000):
            srv.submit(body)
        took = time.monotonic() - t0
        stats = srv.request("GET", "/api/v1/stats")[1]
        full = srv.pid_rss_kb()
        worker = srv.workers()[0]["pid"]
        wrss = srv.pid_rss_kb(worker)
        t0 = time.monotonic()
        srv.request("GET", "/api/v1/jobs?state=queued&limit=50")
        lst = (time.monotonic() - t0) * 1000
        print("depth: runneld RSS %.1f MiB idle, %.1f MiB with %d queued "
              "(target <= 64 MiB); worker RSS %.1f MiB (target <= 4 MiB); "
              "%d jobs submitted in %.1f s; first page of queued jobs in %.1f ms"
              % (idle / 1024, full / 1024, stats["jobs"]["queued"], wrss / 1024,
                 a.jobs, took, lst))
    finally:
        srv.stop()
    exe = os.path.join(HERE, "..", "build-release", "bench", "claim")
    if os.path.exists(exe):
        print(subprocess.run([exe], capture_output=True, text=True,
                             check=True).stdout.rstrip())


if __name__ == "__main__":
    main()
