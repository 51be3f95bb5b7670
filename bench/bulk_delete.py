#!/usr/bin/env python3
"""A bulk delete of 10 000 finished jobs that have output (a stdout and a
stderr file each), by filter, while another connection times GET
/api/v1/stats every ~2 ms: how long the delete's answer takes, and the
worst stats request meanwhile.  With --baseline-bin, another build runs
the same rounds, alternating.

usage: bench/bulk_delete.py [--bin DIR] [--baseline-bin DIR] [--jobs 10000]
                            [--rounds 2]
"""
import argparse
import http.client
import json
import threading
import time

from runnel_bench import Server, default_bindir, median


def one_round(bindir, n):
    srv = Server(bindir, workers=2)
    try:
        spec = {"command": "echo out; echo err >&2", "queue": "bulk"}
        for i in range(0, n, 1000):
            srv.submit(json.dumps([spec] * min(1000, n - i)).encode())
        last = srv.request("GET", "/api/v1/jobs?limit=1")[1]["jobs"][0]["id"]
        srv.wait(last)
        while srv.request("GET", "/api/v1/stats")[1]["jobs"].get("succeeded", 0) < n:
            time.sleep(0.05)
        took, stop = [], threading.Event()

        def stream():
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)
            while not stop.is_set():
                t = time.perf_counter()
                c.request("GET", "/api/v1/stats")
                c.getresponse().read()
                took.append((time.perf_counter() - t) * 1000)
                time.sleep(0.002)
            c.close()

        th = threading.Thread(target=stream)
        th.start()
        time.sleep(0.2)
        t0 = time.perf_counter()
        st, d = srv.request("POST", "/api/v1/jobs/bulk",
                            {"action": "delete", "filter": {"queue": "bulk"}})
        answer_ms = (time.perf_counter() - t0) * 1000
        time.sleep(0.5)
        stop.set()
        th.join()
        assert st == 200 and d["done"] == n, (st, d.get("done"))
        return {"answer_ms": answer_ms, "worst_ms": max(took), "requests": len(took)}
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--baseline-bin")
    ap.add_argument("--jobs", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    builds = {"this build": a.bin}
    if a.baseline_bin:
        builds["baseline"] = a.baseline_bin
    res = {k: [] for k in builds}
    for _ in range(a.rounds):
        for name, bindir in builds.items():
            r = one_round(bindir, a.jobs)
            res[name].append(r)
            print("bulk_delete: %s: %s" % (name, json.dumps(r)), flush=True)
    for name, rs in res.items():
        print("bulk_delete: %s: %d jobs deleted, answer %.0f ms, worst stats request "
              "meanwhile %.1f ms (medians of %d)" % (
                  name, a.jobs, median([r["answer_ms"] for r in rs]),
                  median([r["worst_ms"] for r in rs]), len(rs)))


if __name__ == "__main__":
    main()
