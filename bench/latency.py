#!/usr/bin/env python3
"""Dispatch latency on an idle server: one `true` job at a time, the time
from its acknowledgement (created_at) to its process start (started_at,
as the worker reports it).  Both are runneld's millisecond timestamps, so
the figures are whole milliseconds.  Also the client's round trip of
submit + ?wait= for each job.

usage: bench/latency.py [--bin DIR] [--jobs 1000]
"""
import argparse
import time
from datetime import datetime

from runnel_bench import Server, default_bindir, median, percentile


def ms(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--jobs", type=int, default=1000)
    a = ap.parse_args()
    srv = Server(a.bin, workers=2)
    try:
        lat, rtt = [], []
        for _ in range(a.jobs):
            t0 = time.monotonic()
            j = srv.submit({"command": "true"})
            j = srv.wait(j["id"])
            rtt.append((time.monotonic() - t0) * 1000)
            lat.append(ms(j["started_at"]) - ms(j["created_at"]))
        print("dispatch latency (created_at -> started_at), %d jobs on an idle "
              "server: p50 %.0f ms, p99 %.0f ms, max %.0f ms (targets p50 <= 2, "
              "p99 <= 10)" % (a.jobs, median(lat), percentile(lat, 99), max(lat)))
        print("  client round trip submit + wait for a `true` job: p50 %.2f ms, "
              "p99 %.2f ms" % (median(rtt), percentile(rtt, 99)))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
