#!/usr/bin/env python3
"""Connection exhaustion: how fast a new client (from 127.0.0.2) is answered
while one address (127.0.0.1) holds 4 000 connections that send header lines
slowly, or 4 200 that sit idle, against runneld with its default limits; the
same client on a quiet server is the baseline, in the same run.

usage: bench/conns.py [--bin DIR] [--slow 4000] [--idle 4200] [--probes 50]
"""
import argparse
import http.client
import resource
import select
import socket
import time

from runnel_bench import Server, default_bindir, median


def probe(port, timeout=5.0):
    """Seconds for GET /healthz on a fresh connection from 127.0.0.2, or None."""
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                       source_address=("127.0.0.2", 0))
        c.request("GET", "/healthz")
        r = c.getresponse()
        r.read()
        c.close()
        return time.monotonic() - t0 if r.status == 200 else None
    except OSError:
        return None


def probes(port, n):
    got = [probe(port) for _ in range(n)]
    ok = sorted(x for x in got if x is not None)
    return ok, n - len(ok)


def attack(port, n, first):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.bind(("127.0.0.1", 0))
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    if first:
        for s in socks:
            p = select.poll()
            p.register(s, select.POLLOUT)
            p.poll(5000)
            try:
                s.send(first)
            except OSError:
                pass
    return socks


def closed(socks):
    p = select.poll()
    for s in socks:
        p.register(s, select.POLLIN)
    return len(p.poll(0))


def report(name, ok, failed):
    if not ok:
        print("  %-34s no answer to any of %d probes" % (name, failed))
        return
    print("  %-34s p50 %.1f ms, max %.1f ms, %d of %d unanswered" % (
        name, median(ok) * 1000, ok[-1] * 1000, failed, len(ok) + failed))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--slow", type=int, default=4000)
    ap.add_argument("--idle", type=int, default=4200)
    ap.add_argument("--probes", type=int, default=50)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    srv = Server(a.bin, workers=2)
    try:
        print("connections: a new client's GET /healthz from 127.0.0.2")
        report("quiet server (baseline):", *probes(srv.port, a.probes))
        for label, n, first in (("%d slow header senders" % a.slow, a.slow,
                                 b"POST /api/v1/jobs HTTP/1.1\r\n"),
                                ("%d idle connections" % a.idle, a.idle, b"")):
            t0 = time.monotonic()
            socks = attack(srv.port, n, first)
            time.sleep(1)	# let the server take them all in
            refused = closed(socks)
            rss = srv.pid_rss_kb()
            report("with %s:" % label, *probes(srv.port, a.probes))
            print("    %d of %d refused at once; runneld RSS %.1f MiB" %
                  (refused, n, rss / 1024))
            if first:
                for s in socks:
                    try:
                        s.send(b"X-Slow: 1\r\n")
                    except OSError:
                        pass
            deadline = time.monotonic() + 30
            while closed(socks) < n and time.monotonic() < deadline:
                time.sleep(0.1)
            print("    all %d closed by runneld %.1f s after they opened" %
                  (n, time.monotonic() - t0) if closed(socks) == n else
                  "    %d still open after 30 s" % (n - closed(socks)))
            for s in socks:
                s.close()
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
