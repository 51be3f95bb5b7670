#!/usr/bin/env python3
"""End to end: N `true` jobs submitted as one batch to runneld with two
workers, timed until all are finished, against, in the same run (rounds
alternate; medians reported):
  - `xargs -P2 -n1 sh -c true` over the same N;
  - bench/spawnloop (built beside runneld's build, in ../bench): a bare C
    loop that posix_spawns `/bin/sh -c true` with 2 in flight ("sh loop"),
    and the same loop exec'ing `/bin/true` ("exec loop");
  - N `true #` jobs: the same command, but one that needs the shell (a
    comment), so it runs through /bin/sh -c as every job once did.
`true` alone takes the direct path (worker/direct.c).  With --baseline-bin
DIR, another build of runneld (an earlier commit) runs the same rounds
too, alternating with this one.

usage: bench/e2e.py [--bin DIR] [--baseline-bin DIR] [--jobs 5000] [--rounds 5]
"""
import os
import argparse
import subprocess
import time

from runnel_bench import Server, default_bindir, median


def runnel_round(srv, n, command="true"):
    body = ("[" + ",".join(['{"command":"%s"}' % command] * n) + "]").encode()
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


def spawnloop_round(bindir, n, mode):
    exe = os.path.join(os.path.dirname(os.path.abspath(bindir)), "bench", "spawnloop")
    out = subprocess.run([exe, str(n), "2", mode], check=True,
                         stdout=subprocess.PIPE).stdout
    return float(out)


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
        shl, exl, rsh = [], [], []
        for _ in range(a.rounds):
            c0 = srv.cpu_s()
            r.append(runnel_round(srv, a.jobs))
            cpu.append(srv.cpu_s() - c0)
            x.append(xargs_round(a.jobs))
            shl.append(spawnloop_round(a.bin, a.jobs, "sh"))
            exl.append(spawnloop_round(a.bin, a.jobs, "exec"))
            rsh.append(runnel_round(srv, a.jobs, "true #"))
            if base:
                c0 = base.cpu_s()
                b.append(runnel_round(base, a.jobs))
                bcpu.append(base.cpu_s() - c0)
        rm, xm = median(r), median(x)
        print("e2e %d true jobs, 2 workers: runnel %.2f s (%.0f jobs/s), "
              "xargs -P2 %.2f s (%.0f jobs/s): ratio %.2f (target >= 1.0); "
              "runneld CPU %.0f us/job" % (a.jobs, rm, a.jobs / rm, xm, a.jobs / xm,
                                          xm / rm, median(cpu) / a.jobs * 1e6))
        sm, em, rshm = median(shl), median(exl), median(rsh)
        print("  sh loop %.2f s (%.0f/s): runnel %.2fx (target >= 1.15); exec loop "
              "%.2f s (%.0f/s): runnel %.2fx (target >= 0.9); `true #` jobs "
              "(through the shell) %.2f s: %.2fx the sh loop (target >= 0.97)" %
              (sm, a.jobs / sm, sm / rm, em, a.jobs / em, em / rm, rshm, sm / rshm))
        print("  rounds runnel:", " ".join("%.2f" % v for v in r))
        print("  rounds xargs: ", " ".join("%.2f" % v for v in x))
        print("  rounds sh loop:", " ".join("%.2f" % v for v in shl))
        print("  rounds exec loop:", " ".join("%.2f" % v for v in exl))
        print("  rounds `true #`:", " ".join("%.2f" % v for v in rsh))
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
