#!/usr/bin/env python3
"""Uploads over loopback, with curl as the client.

(a) One 1 GiB file sent with `curl -T` (PUT, streamed, hashed and written
    by runneld, fdatasync'd before the answer) against `sha256sum` of the
    same file, in the same run (rounds alternate; medians of --rounds).
    Target: the upload at >= 0.5x sha256sum's rate.  runneld's RSS before,
    at its peak (sampled every 50 ms) and after: it must stay flat.
(b) 8 concurrent 100 MiB uploads (8 curl processes at once) against one
    100 MiB upload alone: total rate within 20% of the single rate.
    Meanwhile a `true` job is submitted every 20 ms on its own
    connection; the p99 of its dispatch latency (started_at - created_at,
    runneld's millisecond timestamps) must stay <= 50 ms.  runneld runs
    10 workers here, so that the checks of the 8 upload jobs, which come
    at the end, do not leave the `true` jobs without a worker.

The test files live in a temp dir and are removed; every upload job is
deleted (with its file) once its check is done.

usage: bench/upload.py [--bin DIR] [--rounds 3] [--big-mib 1024] [--mib 100]
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import datetime

from runnel_bench import Server, default_bindir, median, percentile

MiB = 1 << 20


def make_file(path, mib):
    """mib MiB: a random 16 MiB block repeated, each MiB stamped."""
    block = os.urandom(16 * MiB)
    with open(path, "wb") as f:
        for i in range(mib):
            off = (i % 16) * MiB
            f.write(i.to_bytes(8, "little") + block[off + 8:off + MiB])
    # the same bytes are read by every contender: all from the page cache
    subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)


def ms(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1000


class Rss(threading.Thread):
    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv = srv
        self.peak = 0
        self.stop_ev = threading.Event()

    def run(self):
        while not self.stop_ev.is_set():
            self.peak = max(self.peak, self.srv.pid_rss_kb())
            self.stop_ev.wait(0.05)

    def stop(self):
        self.stop_ev.set()
        self.join()
        return self.peak


def curl_upload(port, path, name):
    """Starts `curl -T path`; returns the process (its stdout: the job)."""
    return subprocess.Popen(
        ["curl", "-sS", "--fail-with-body", "-T", path,
         "http://127.0.0.1:%d/api/v1/uploads?name=%s" % (port, name)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish_upload(srv, p, size):
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError("curl failed (%d): %s %s" % (p.returncode, out[:300], err))
    j = json.loads(out)
    assert j["file"]["size"] == size, j
    return j


def settle(srv, jobs):
    """Waits for the upload jobs' checks, then deletes them (and files)."""
    for j in jobs:
        done = srv.wait(j["id"])
        assert done["state"] == "succeeded", done
        status, _ = srv.request("DELETE", "/api/v1/jobs/%d" % j["id"], raw=True)
        assert status == 204, status


def timed_upload(srv, path, size, name):
    t0 = time.monotonic()
    j = finish_upload(srv, curl_upload(srv.port, path, name), size)
    return time.monotonic() - t0, j


def timed_sha256sum(path):
    t0 = time.monotonic()
    subprocess.run(["sha256sum", path], stdout=subprocess.DEVNULL, check=True)
    return time.monotonic() - t0


def timed_openssl(path):
    if not shutil.which("openssl"):
        return None
    t0 = time.monotonic()
    subprocess.run(["openssl", "dgst", "-sha256", path], stdout=subprocess.DEVNULL,
                   check=True)
    return time.monotonic() - t0


class Dispatcher(threading.Thread):
    """Submits a `true` job every 20 ms on its own connection."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.ids = []
        self.rtt = []		# ms, submit request to 201
        self.stop_ev = threading.Event()

    def run(self):
        body = b'{"command": "true"}'
        nxt = time.monotonic()
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            self.conn.request("POST", "/api/v1/jobs", body=body,
                              headers={"Content-Type": "application/json"})
            r = self.conn.getresponse()
            data = r.read()
            assert r.status == 201, data
            self.rtt.append((time.monotonic() - t0) * 1000)
            self.ids.append(json.loads(data)["id"])
            nxt += 0.02
            self.stop_ev.wait(max(0.0, nxt - time.monotonic()))

    def stop(self):
        self.stop_ev.set()
        self.join()
        self.conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--mib", type=int, default=100)
    ap.add_argument("--n", type=int, default=8)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="runnel-bench-upload-")
    srv = None
    try:
        big = os.path.join(tmp, "big.bin")
        make_file(big, a.big_mib)
        big_size = a.big_mib * MiB
        srv = Server(a.bin, workers=10)

        # (a) 1 GiB with curl -T against sha256sum of the same file
        up, sums, ossl = [], [], []
        rss_before = srv.pid_rss_kb()
        rss_peak = 0
        for i in range(a.rounds):
            rss = Rss(srv)
            rss.start()
            took, j = timed_upload(srv, big, big_size, "big-%d.bin" % i)
            rss_peak = max(rss_peak, rss.stop())
            up.append(took)
            settle(srv, [j])
            sums.append(timed_sha256sum(big))
            o = timed_openssl(big)
            if o:
                ossl.append(o)
        rss_after = srv.pid_rss_kb()
        u, s = median(up), median(sums)
        mb = big_size / 1e6
        print("upload %d MiB with curl -T over loopback: %.0f MB/s; sha256sum of the "
              "same file %.0f MB/s: ratio %.2f (target >= 0.5); runneld RSS %.1f MiB "
              "before, %.1f MiB peak, %.1f MiB after" % (
                  a.big_mib, mb / u, mb / s, s / u, rss_before / 1024, rss_peak / 1024,
                  rss_after / 1024))
        print("  rounds upload (s):   ", " ".join("%.2f" % v for v in up))
        print("  rounds sha256sum (s):", " ".join("%.2f" % v for v in sums))
        if ossl:
            print("  for scale: openssl dgst -sha256 of the same file %.0f MB/s "
                  "(the hash runneld uses)" % (mb / median(ossl)))
        os.unlink(big)

        # (b) n concurrent uploads against one alone, with dispatch going on
        small = os.path.join(tmp, "small.bin")
        make_file(small, a.mib)
        size = a.mib * MiB
        single = []
        for i in range(a.rounds):
            took, j = timed_upload(srv, small, size, "one-%d.bin" % i)
            single.append(took)
            settle(srv, [j])
        together, lat, rtt, njobs = [], [], [], 0
        for r in range(a.rounds):
            d = Dispatcher(srv.port)
            d.start()
            # let the dispatcher get going before the uploads start
            while len(d.ids) < 5:
                time.sleep(0.005)
            t0 = time.monotonic()
            procs = [curl_upload(srv.port, small, "c%d-%d.bin" % (r, i))
                     for i in range(a.n)]
            jobs = [finish_upload(srv, p, size) for p in procs]
            together.append(time.monotonic() - t0)
            d.stop()
            settle(srv, jobs)
            for jid in d.ids[5:]:
                j = srv.wait(jid)
                assert j["state"] == "succeeded", j
                lat.append(ms(j["started_at"]) - ms(j["created_at"]))
            njobs += len(d.ids) - 5
            rtt += d.rtt[5:]
        one = size / 1e6 / median(single)
        total = a.n * size / 1e6 / median(together)
        print("%d concurrent %d MiB uploads: %.0f MB/s in total; one upload alone "
              "%.0f MB/s: ratio %.2f (target >= 0.8, within 20%%)" % (
                  a.n, a.mib, total, one, total / one))
        print("  rounds one (s):       ", " ".join("%.2f" % v for v in single))
        print("  rounds %d at once (s): " % a.n, " ".join("%.2f" % v for v in together))
        print("dispatch latency (created_at -> started_at) of %d `true` jobs submitted "
              "every 20 ms during the %d concurrent uploads: p50 %.0f ms, p99 %.0f ms, "
              "max %.0f ms (target p99 <= 50)" % (
                  njobs, a.n, median(lat), percentile(lat, 99), max(lat)))
        print("  %d jobs submitted in %.1f s of uploads (one every 20 ms would be %d); "
              "submit round trip p50 %.0f ms, p99 %.0f ms, max %.0f ms" % (
                  njobs, sum(together), sum(together) / 0.02, median(rtt),
                  percentile(rtt, 99), max(rtt)))
        os.unlink(small)
    finally:
        if srv:
            srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
