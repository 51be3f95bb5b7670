#!/usr/bin/env python3
"""Output capture: a job writing 1 GiB to stdout, captured by runneld into
its output file, against the same command redirected to a file, in the
same run (medians of 3).  Target: capture at >= 0.5x the redirect's rate.

usage: bench/output.py [--bin DIR] [--mib 1024]
"""
import argparse
import os
import subprocess
import tempfile
import time

from runnel_bench import Server, default_bindir, median


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--mib", type=int, default=1024)
    a = ap.parse_args()
    cmd = "head -c %d /dev/zero" % (a.mib << 20)
    srv = Server(a.bin, workers=1)
    try:
        runnel, direct = [], []
        for _ in range(3):
            t0 = time.monotonic()
            j = srv.submit({"command": cmd})
            j = srv.wait(j["id"])
            runnel.append(time.monotonic() - t0)
            assert j["state"] == "succeeded" and j["stdout_bytes"] == a.mib << 20, j
            srv.request("DELETE", "/api/v1/jobs/%d" % j["id"])
            with tempfile.NamedTemporaryFile(dir=srv.dir) as f:
                t0 = time.monotonic()
                subprocess.run(cmd + " > " + f.name, shell=True, check=True)
                direct.append(time.monotonic() - t0)
        r, d = median(runnel), median(direct)
        mib = a.mib
        print("output: %d MiB to stdout captured at %.0f MiB/s; the same "
              "command redirected to a file %.0f MiB/s: ratio %.2f (target "
              ">= 0.5)" % (mib, mib / r, mib / d, d / r))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
