#!/usr/bin/env python3
"""End to end: N `true` jobs submitted as one batch to runneld with two
workers, timed until all are finished, against `xargs -P2 -n1 sh -c true`
over the same N in the same run (rounds alternate; medians reported).
With --baseline-bin DIR, another build of runneld (an earlier commit) runs
the same rounds too, alternating with this one.

usage: bench/e2e.py [--bin DIR] [--baseline-bin DIR] [--jobs 5000] [--rounds 5]
"""
import argparse
import subprocess
import time

from runnel_bench import Server, default_bindir, median


def runnel_round(srv, n):
    body = ("[" + ",".join(['{"command":"true"}'] * n) + "]").encode()
    t0 = time.monotonic()
    jobs = srv.submit(body)["jobs"]
    # Two workers: the last two jobs are the last to finish.
    for j in jobs[-2:]:
        srv.wait(j["id"])
    elapsed = time.monotonic() - t0
    states = {srv.request("GET", "/api/v1/jobs/%d" % j["id"])[1]["state"]
              for j in (jobs[0], jobs[-1])}
    assert states == {"succeeded"}, states
    return elapsed


def xargs_round(n):
    t0 = time.monotonic()
    subprocess.run("seq %d | xargs -P2 -n1 sh -c true" % n, shell=True, check=True)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--jobs", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline-bin")
    a = ap.parse_args()
    srv = Server(a.bin, workers=2)
    base = Server(a.baseline_bin, workers=2) if a.baseline_bin else None
    try:
        r, x, cpu, b, bcpu = [], [], [], [], []
        for _ in range(a.rounds):
            c0 = srv.cpu_s()
            r.append(runnel_round(srv, a.jobs))
            cpu.append(srv.cpu_s() - c0)
            x.append(xargs_round(a.jobs))
            if base:
                c0 = base.cpu_s()
                b.append(runnel_round(base, a.jobs))
                bcpu.append(base.cpu_s() - c0)
        rm, xm = median(r), median(x)
        print("e2e %d true jobs, 2 workers: runnel %.2f s (%.0f jobs/s), "
              "xargs -P2 %.2f s (%.0f jobs/s): ratio %.2f (target >= 1.0); "
              "runneld CPU %.0f us/job" % (a.jobs, rm, a.jobs / rm, xm, a.jobs / xm,
                                          xm / rm, median(cpu) / a.jobs * 1e6))
        print("  rounds runnel:", " ".join("%.2f" % v for v in r))
        print("  rounds xargs: ", " ".join("%.2f" % v for v in x))
        if base:
            bm = median(b)
            print("  baseline build %s: %.2f s (%.0f jobs/s), runneld CPU %.0f us/job; "
                  "this build / baseline: %.2f" % (a.baseline_bin, bm, a.jobs / bm,
                                                   median(bcpu) / a.jobs * 1e6, bm / rm))
            print("  rounds baseline:", " ".join("%.2f" % v for v in b))
    finally:
        srv.stop()
        if base:
            base.stop()


if __name__ == "__main__":
    main()
