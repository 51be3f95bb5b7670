#!/usr/bin/env python3
"""Durable enqueue against beanstalkd (issue 15, target 2), in one run,
rounds alternating:
  - runnel: one job per POST over 64 keep-alive connections (wrk and
    post.lua, as bench/enqueue.py), --durability full (each 201 after the
    fsync of its commit), the only worker held so that nothing runs;
  - beanstalkd (Debian's), with a binlog and its default fsync policy
    (at most one fsync every 50 ms), 8 connections each putting one job
    and waiting for its INSERTED (bench/beanput.c).
Then the check that nothing acknowledged is lost: runneld is killed with
SIGKILL in the middle of a wrk run, started again on the same data, and
the jobs it holds are counted against the 201s wrk received.

usage: bench/beanstalk.py [--bin DIR] [--seconds 5] [--rounds 3]
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from runnel_bench import Server, default_bindir, median

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wrk_post(port, seconds):
    out = subprocess.run(
        ["wrk", "-t2", "-c64", "-d%ds" % seconds, "-s",
         os.path.join(HERE, "post.lua"), "http://127.0.0.1:%d/api/v1/jobs" % port],
        capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    done = int(re.search(r"(\d+) requests in", out).group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, done - (int(m.group(1)) if m else 0)


def runnel_round(bindir, seconds):
    srv = Server(bindir, workers=1, args=["--durability", "full"])
    try:
        srv.submit({"command": "sleep 100000"})
        rps, ok = wrk_post(srv.port, seconds)
        total = srv.request("GET", "/api/v1/stats")[1]["total"]
        assert total >= ok + 1, (total, ok)
        return rps
    finally:
        srv.stop()


def beanstalkd_round(beanput, seconds):
    d = tempfile.mkdtemp(prefix="runnel-bench-beanstalkd-")
    port = free_port()
    p = subprocess.Popen(["beanstalkd", "-l", "127.0.0.1", "-p", str(port),
                          "-b", d], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("beanstalkd did not listen")
                time.sleep(0.01)
        out = subprocess.run([beanput, str(port), "8", str(seconds)],
                             capture_output=True, text=True, check=True).stdout
        return float(out.split()[0])
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(d, ignore_errors=True)


def kill9_check(bindir, seconds):
    """201s received before a SIGKILL against the jobs found after it."""
    srv = Server(bindir, workers=1, args=["--durability", "full"])
    data = srv.data
    srv.submit({"command": "sleep 100000"})
    killer = threading.Timer(seconds / 2.0, lambda: srv.proc.send_signal(signal.SIGKILL))
    killer.start()
    try:
        _, acked = wrk_post(srv.port, seconds)
    finally:
        killer.join()
        srv.proc.wait()
    again = Server(bindir, workers=1, args=["--data", data])
    try:
        stored = again.request("GET", "/api/v1/stats")[1]["total"] - 1
    finally:
        again.stop()
        srv.stop()
    return acked, stored


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    beanput = os.path.join(os.path.dirname(os.path.abspath(a.bin)), "bench", "beanput")
    if shutil.which("beanstalkd") is None or shutil.which("wrk") is None:
        print("beanstalk: needs beanstalkd and wrk (apt-get install beanstalkd wrk): skipped")
        return
    ours, theirs = [], []
    for _ in range(a.rounds):
        theirs.append(beanstalkd_round(beanput, a.seconds))
        ours.append(runnel_round(a.bin, a.seconds))
    r, b = median(ours), median(theirs)
    print("durable enqueue, 1 job per request: runnel %.0f jobs/s (64 connections, "
          "fsync per commit), beanstalkd %.0f puts/s (8 connections, binlog, "
          "default fsync): %.2fx (target >= 1.0)" % (r, b, r / b))
    print("  rounds runnel:     " + " ".join("%.0f" % x for x in ours))
    print("  rounds beanstalkd: " + " ".join("%.0f" % x for x in theirs))
    acked, stored = kill9_check(a.bin, 4)
    print("  kill -9 during the load: %d jobs acknowledged (201), %d found after "
          "the restart: %s" % (acked, stored, "none lost" if stored >= acked
                               else "LOST %d" % (acked - stored)))
    if stored < acked:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
