#!/usr/bin/env python3
"""The runnel client's costs against an idle runneld.

  roundtrip  `runnel run -- true`, one at a time: the wall time from
             starting the client to its exit (submit, follow both streams
             until the job ends, read its status).  Target: p50 <= 10 ms.
  add        1 000 `runnel add -- true` in a shell loop against 1 000
             `curl -s -X POST ... /api/v1/jobs` in a shell loop, in the
             same run, rounds alternating; the jobs go to a paused queue so
             that only submitting is measured.  Target: runnel >= 0.9x
             curl's jobs per second.

usage: bench/cli.py [--bin DIR] [--runs 300] [--adds 1000] [--rounds 3]
"""
import argparse
import os
import shutil
import subprocess
import time

from runnel_bench import Server, default_bindir, median, percentile


def shell_loop(cmd, n, env):
    """Seconds for n runs of cmd in a sh loop (its output to /dev/null)."""
    script = 'i=0; while [ $i -lt %d ]; do %s >/dev/null || exit 1; i=$((i+1)); done' % (n, cmd)
    t0 = time.monotonic()
    subprocess.run(["sh", "-c", script], env=env, check=True)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--adds", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    runnel = os.path.join(a.bin, "runnel")
    curl = shutil.which("curl")
    srv = Server(a.bin, workers=2)
    url = "http://127.0.0.1:%d" % srv.port
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNNEL_")}
    env.update({"RUNNEL_URL": url, "HOME": srv.dir})
    try:
        # round trip, after a few to warm the page cache
        times = []
        for i in range(a.runs + 10):
            t0 = time.monotonic()
            subprocess.run([runnel, "run", "--", "true"], env=env, check=True)
            if i >= 10:
                times.append((time.monotonic() - t0) * 1000)
        print("roundtrip  runnel run -- true: p50 %.2f ms  p95 %.2f ms  "
              "(%d runs, target p50 <= 10 ms)" %
              (median(times), percentile(times, 95), len(times)))

        srv.request("PATCH", "/api/v1/queues/bench", {"paused": True})
        add = "%s add -q bench -- true" % runnel
        post = ("%s -sS -f -X POST -H 'Content-Type: application/json' "
                "-d '{\"command\":\"true\",\"queue\":\"bench\"}' %s/api/v1/jobs"
                % (curl, url))
        r_times, c_times = [], []
        for _ in range(a.rounds):
            c_times.append(shell_loop(post, a.adds, env))
            r_times.append(shell_loop(add, a.adds, env))
        r, c = median(r_times), median(c_times)
        print("add        %d x runnel add: %.2f s (%.0f/s)   %d x curl: %.2f s "
              "(%.0f/s)   runnel/curl %.2fx  (median of %d rounds, target >= "
              "0.9x)" % (a.adds, r, a.adds / r, a.adds, c, a.adds / c, c / r,
                         a.rounds))
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
