#!/usr/bin/env python3
"""Retention at scale with real output: a store of N jobs (bench/flat.py's
fill: 9 in 10 finished over 9 days, 1 in 10 queued) in which every job that
has expired under --retain-finished 8 days has a stdout and a stderr file,
as real jobs do.  runneld starts on a copy, and a stream of GET /stats and
POST /jobs (one every ~2 ms) is timed while retention deletes them (the
target: no request waits more than 50 ms).  With --baseline-bin, another
build runs the same rounds, alternating.  Also counts the output files left
after runneld stopped (SIGTERM): none of the deleted jobs' may remain.

usage: bench/retention.py [--bin DIR] [--baseline-bin DIR] [--jobs 1000000]
                          [--rounds 2] [--work DIR]
"""
import argparse
import json
import os
import shutil
import tempfile
import time

import flat
from runnel_bench import default_bindir, median


def prepare(bindir, work, jobs):
    """The filled store with output files, made once per work dir."""
    prepared = os.path.join(work, "filled-output-%d" % jobs)
    meta = os.path.join(prepared, "retention.json")
    if os.path.exists(meta):
        with open(meta) as f:
            return prepared, json.load(f)
    shutil.rmtree(prepared, ignore_errors=True)
    tdata, tid = flat.template(bindir, work)
    now = int(time.time() * 1000)
    done = flat.fill(tdata, tid, jobs, now)
    step = 9 * flat.DAY // done
    # those 8 days old and more, and a margin of younger ones that stay
    out = os.path.join(tdata, "output")
    for p in range(flat.DAY // step + 2000):
        for stream in ("out", "err"):
            with open(os.path.join(out, "%d.1.%s" % (tid + 1 + p, stream)), "w") as f:
                f.write("a line of output of job %d\n" % (tid + 1 + p))
    os.rename(tdata, prepared)
    m = {"now": now, "done": done, "tid": tid}
    with open(meta, "w") as f:
        json.dump(m, f)
    # migrations, if any, here rather than in a timed start
    flat.Runneld(bindir, prepared, ["--retain-finished", str(30 * 86400)]).stop()
    return prepared, m


def one_round(bindir, prepared, m, work):
    data = os.path.join(work, "round")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(prepared, data)
    os.sync()
    step = 9 * flat.DAY // m["done"]
    expired = min((flat.DAY + int(time.time() * 1000) - m["now"]) // step, m["done"])
    r = flat.retention(bindir, data, expired * 99 // 100)
    # jobs deleted whose output is still there after the stop
    names = os.listdir(os.path.join(data, "output"))
    ids = {int(n.split(".")[0]) for n in names if n[0].isdigit()}
    r["left_of_deleted"] = sum(1 for i in ids if i <= m["tid"] + r["deleted"])
    shutil.rmtree(data, ignore_errors=True)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--baseline-bin")
    ap.add_argument("--jobs", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--work")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="runnel-retention-")
    os.makedirs(work, exist_ok=True)
    builds = {"this build": a.bin}
    if a.baseline_bin:
        builds["baseline"] = a.baseline_bin
    res = {k: [] for k in builds}
    try:
        prepared, m = prepare(a.bin, work, a.jobs)
        for _ in range(a.rounds):
            for name, bindir in builds.items():
                r = one_round(bindir, prepared, m, work)
                res[name].append(r)
                print("retention: %s: %s" % (name, json.dumps(
                    {k: r[k] for k in ("deleted", "took_s", "requests", "p99_ms",
                                       "max_ms", "over_50ms", "left_of_deleted")})),
                    flush=True)
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    for name, rs in res.items():
        print("retention: %s: p99 %.1f ms, worst %.1f ms (rounds: %s), over 50 ms: %d, "
              "deleted in %.1f s (median)" % (
                  name, median([r["p99_ms"] for r in rs]), median([r["max_ms"] for r in rs]),
                  ", ".join("%.1f" % r["max_ms"] for r in rs),
                  sum(r["over_50ms"] for r in rs), median([r["took_s"] for r in rs])))


if __name__ == "__main__":
    main()
