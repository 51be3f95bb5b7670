#!/usr/bin/env python3
"""Reads under load: a read that comes while a turn's writes are not yet
committed waits for the commit (http/hreq.c).  What that costs a reader:
GET /api/v1/jobs/1 on its own connection every 2 ms while N `true` jobs
run end to end (bench/e2e.py's round, --workers 2), its answer times'
p50 / p99 / max, and the run's time, against another build in the same
run (rounds alternate).

usage: bench/reads.py [--bin DIR] --baseline-bin DIR [--jobs 5000]
                      [--rounds 3] [--arg=--database --arg=URL]
"""
import argparse

from e2e import runnel_round
from runnel_bench import Reader, Server, default_bindir, median, percentile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--baseline-bin", required=True)
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--arg", action="append", default=[],
                    help="more runneld arguments")
    a = ap.parse_args()
    builds = [("this build", Server(a.bin, workers=2, args=a.arg)),
              ("baseline", Server(a.baseline_bin, workers=2, args=a.arg))]
    got = {name: ([], []) for name, _ in builds}
    try:
        for _, s in builds:
            runnel_round(s, 100)
        for _ in range(a.rounds):
            for name, s in builds:
                reader = Reader(s.port, "/api/v1/jobs/1")
                got[name][1].append(runnel_round(s, a.jobs))
                got[name][0].extend(reader.stop())
        for name, _ in builds:
            t, runs = got[name]
            t.sort()
            print("%-10s GET /api/v1/jobs/1 during %d x %d jobs: %d reads, "
                  "p50 %.2f ms, p99 %.2f ms, max %.1f ms; run %.2f s "
                  "(median)" % (name, a.rounds, a.jobs, len(t),
                                percentile(t, 50), percentile(t, 99), t[-1],
                                median(runs)))
    finally:
        for _, s in builds:
            s.stop()


if __name__ == "__main__":
    main()
