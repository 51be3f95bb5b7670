#!/usr/bin/env python3
"""Many watchers (issue 15, target 4): N clients on GET /api/v1/events while
`true` jobs are submitted at a steady rate and finish.

Phase 1: every client reads.  For each client: job events delivered vs
expected (the stream's ids must have no gap, and every job's `succeeded`
event must arrive), the delay from the job's finished_at (the server's
wall clock, stamped before the commit; taken to 10 ms) to the
arrival of the event at the client (time of the recv() that completed
it), the spread between the fastest and the slowest client, and
runneld's peak RSS (VmHWM).

Phase 2: the same, with `--stalled` more clients that connect and never
read (small receive buffers): they should be dropped (their connection
closed), runneld's RSS should stay bounded and the readers not slowed.

The clients are spread over --procs processes, each an epoll loop over
non-blocking sockets: bench/ssewatch (C, the default), or Python
(--client py); the submitter is the parent.  Delays include the
clients' own lag: with 2 CPUs shared between runneld, its workers and
the clients, a busy client process stamps late.

usage: bench/watchers.py [--bin DIR] [--clients 1000] [--rate 1000]
                         [--seconds 10] [--workers 4] [--procs 2]
                         [--stalled 50] [--batch 50]
"""
import argparse
import calendar
import collections
import json
import multiprocessing
import os
import re
import resource
import selectors
import signal
import socket
import subprocess
import time

from runnel_bench import Server, default_bindir, percentile

REQUEST = (b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           b"Accept: text/event-stream\r\n\r\n")


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


_ms_cache = {}


# A finished job's time, to 10 ms: the delays are measured to +-5 ms.
FINISHED_AT = re.compile(rb'"finished_at":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d)')


def iso_10ms(b):
    """b'2026-12-07T15:19:03.74' -> epoch seconds of the 10 ms's middle."""
    t = _ms_cache.get(b)
    if t is None:
        s = b.decode()
        t = calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + \
            int(s[20:22]) / 100.0 + 0.005
        _ms_cache[b] = t
    return t


def iso_ms(b):
    """b'2026-12-07T15:19:03.747Z' -> epoch seconds (cached: every client
    sees the same few thousand strings)."""
    t = _ms_cache.get(b)
    if t is None:
        s = b.decode()
        t = calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) + \
            int(s[20:23]) / 1000.0
        _ms_cache[b] = t
    return t


class Client:
    """One SSE connection: de-chunks, splits events, records arrivals."""
    __slots__ = ("sock", "raw", "text", "head", "chunk_left", "last_seq",
                 "first_seq",
                 "events", "gaps", "done", "hist", "eof", "first_at",
                 "last_at")

    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(REQUEST)
        self.sock.setblocking(False)
        self.raw = b""
        self.text = b""
        self.head = False
        self.chunk_left = -1	# -1: a size line is due
        self.first_seq = self.last_seq = None
        self.events = 0		# job/deleted events
        self.done = 0		# succeeded events
        self.hist = {}		# delay ms -> count
        self.eof = False
        self.first_at = None
        self.last_at = None

    def feed(self, data, now):
        self.raw += data
        if not self.head:
            i = self.raw.find(b"\r\n\r\n")
            if i < 0:
                return
            if not self.raw.startswith(b"HTTP/1.1 200"):
                raise RuntimeError("events: %r" % self.raw[:200])
            self.head = True
            self.raw = self.raw[i + 4:]
        raw, out, pos = self.raw, [], 0
        while True:
            if self.chunk_left < 0:
                j = raw.find(b"\r\n", pos)
                if j < 0:
                    break
                self.chunk_left = int(raw[pos:j].split(b";")[0], 16)
                pos = j + 2
                if self.chunk_left == 0:
                    self.eof = True
                    break
            # the chunk's data and its trailing CRLF
            if len(raw) - pos < self.chunk_left + 2:
                break
            out.append(raw[pos:pos + self.chunk_left])
            pos += self.chunk_left + 2
            self.chunk_left = -1
        self.raw = raw[pos:]
        if not out:
            return
        self.text += b"".join(out)
        k = self.text.rfind(b"\n\n")
        if k < 0:
            return
        body, self.text = self.text[:k + 2], self.text[k + 2:]
        # C-level scans only: a client sees ~1 000 events/s, and 1 000
        # clients in Python per event would measure the clients.
        n = body.count(b"id: ")
        if n:
            i = body.find(b"id: ")
            if self.first_seq is None:
                self.first_seq = int(body[i + 4:body.find(b"\n", i)])
            j = body.rfind(b"id: ")
            self.last_seq = int(body[j + 4:body.find(b"\n", j)])
            self.events += n
        found = FINISHED_AT.findall(body)
        if found:
            self.done += len(found)
            hist = self.hist
            for f, k2 in collections.Counter(found).items():
                d = int((now - iso_10ms(f)) * 1000)
                hist[d] = hist.get(d, 0) + k2
            if self.first_at is None:
                self.first_at = now
            self.last_at = now


def client_proc(conn, port, n, rcvbuf_stalled):
    """A process with n reading clients; talks with the parent over conn."""
    raise_nofile(n + 64)
    sel = selectors.DefaultSelector()
    clients = []
    for _ in range(n):
        c = Client(port)
        clients.append(c)
        sel.register(c.sock, selectors.EVENT_READ, c)
    ctl = conn.fileno()
    sel.register(ctl, selectors.EVENT_READ, None)
    expected = None
    deadline = None
    ready_sent = False
    while True:
        if not ready_sent and all(c.head for c in clients):
            conn.send(("ready", None))
            ready_sent = True
        for key, _ in sel.select(0.2):
            c = key.data
            if c is None:
                msg, arg = conn.recv()
                if msg == "expect":
                    expected, wait_s = arg
                    deadline = time.monotonic() + wait_s
                elif msg == "report":
                    conn.send(("report", report(clients)))
                    for c2 in clients:
                        c2.done = 0
                        c2.hist = {}
                        c2.first_at = c2.last_at = None
                    expected = deadline = None
                elif msg == "quit":
                    for c2 in clients:
                        c2.sock.close()
                    return
                continue
            while True:
                try:
                    data = c.sock.recv(262144)
                except BlockingIOError:
                    break
                except ConnectionError:
                    data = b""
                if not data:
                    c.eof = True
                    sel.unregister(c.sock)
                    break
                c.feed(data, time.time())
                if len(data) < 262144:
                    break
        if expected is not None:
            if all(c.done >= expected or c.eof for c in clients) or \
                    time.monotonic() > deadline:
                conn.send(("complete", None))
                expected = None


def report(clients):
    """What ssewatch reports: per client, and one delay histogram."""
    hist = {}
    for c in clients:
        for d, k in c.hist.items():
            hist[d] = hist.get(d, 0) + k
    return {"clients": [
        {"events": c.events, "gaps": (c.last_seq - c.first_seq + 1 -
                                      c.events) if c.events else 0,
         "done": c.done, "delay_sum": sum(d * k for d, k in c.hist.items()),
         "eof": c.eof, "first_at": c.first_at, "last_at": c.last_at}
        for c in clients], "hist": hist}


class CClients:
    """bench/ssewatch (C) behind the interface of a multiprocessing pipe,
    so that the clients cost runneld's CPUs less than Python's do."""

    def __init__(self, exe, port, n):
        self.proc = subprocess.Popen([exe, str(port), str(n)],
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE)
        self.pid = self.proc.pid

    def send(self, msg):
        what, arg = msg
        line = "expect %d %d" % arg if what == "expect" else what
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def recv(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("ssewatch ended: %s" % self.proc.wait())
        if line.startswith(b"{"):
            rep = json.loads(line)
            rep["hist"] = {int(d): k for d, k in rep["hist"].items()}
            return "report", rep
        return line.decode().strip(), None


def vm(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def submit_steady(srv, rate, seconds, batch, stalled_fn=None):
    """Submits `true` jobs at rate/s for seconds; returns (ids, rss samples)."""
    body = json.dumps([{"command": "true"}] * batch).encode()
    ids, rss = [], []
    t0 = time.monotonic()
    n = int(rate * seconds / batch)
    for i in range(n):
        at = t0 + i * batch / rate
        wait = at - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        status, data = srv.request("POST", "/api/v1/jobs", body)
        if status != 201:
            raise RuntimeError("submit: %s %s" % (status, data))
        ids.extend(j["id"] for j in data["jobs"])
        rss.append(vm(srv.proc.pid, "VmRSS"))
    return ids, time.monotonic() - t0, rss


def wait_finished(srv, last_id, timeout=120):
    j = srv.wait(last_id, timeout)
    # jobs finish in about the order they were queued; the last may not
    # be the last to finish: check the count
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st, data = srv.request("GET", "/api/v1/stats")
        if st == 200 and isinstance(data, dict):
            s = data.get("jobs", data)
            if not s.get("queued", 0) and not s.get("running", 0):
                break
        time.sleep(0.05)
    return j


def finish_rate(srv, ids):
    """Jobs finished per second over the run, from the jobs' own times."""
    first = srv.request("GET", "/api/v1/jobs/%d" % ids[0])[1]
    last = srv.request("GET", "/api/v1/jobs/%d" % ids[-1])[1]
    a = iso_ms(first["finished_at"].encode())
    b = iso_ms(last["finished_at"].encode())
    return (len(ids) - 1) / (b - a) if b > a else float("nan")


def phase(srv, pipes, args, name, stalled=(), pids=()):
    hwm0 = vm(srv.proc.pid, "VmHWM")
    cpu0 = srv.cpu_s(), sum(srv.cpu_s(p) for p in pids), time.monotonic()
    ids, took, rss = submit_steady(srv, args.rate, args.seconds, args.batch)
    wait_finished(srv, ids[-1])
    fin_rate = finish_rate(srv, ids)
    wall = time.monotonic() - cpu0[2]
    cpu = ((srv.cpu_s() - cpu0[0]) / wall,
           (sum(srv.cpu_s(p) for p in pids) - cpu0[1]) / wall)
    for p in pipes:
        p.send(("expect", (len(ids), 60)))
    for p in pipes:
        msg, _ = p.recv()
        while msg != "complete":
            msg, _ = p.recv()
    per, hist = [], {}
    for p in pipes:
        p.send(("report", None))
        msg, rep = p.recv()
        per.extend(rep["clients"])
        for d, k in rep["hist"].items():
            hist[d] = hist.get(d, 0) + k
    delays = []
    for d in sorted(hist):
        delays.extend([d] * hist[d])
    means = [c["delay_sum"] / max(1, c["done"]) for c in per]
    lasts = [c["last_at"] for c in per if c["last_at"]]
    short = [c for c in per if c["done"] < len(ids)]
    gaps = sum(c["gaps"] for c in per)
    print("%s: %d clients, %d jobs submitted in %.1f s (%.0f/s), finished at "
          "%.0f/s" % (name, len(per), len(ids), took, len(ids) / took,
                      fin_rate))
    print("  delivered: %d of %d clients got all %d finished events; "
          "%d id gaps; %d streams ended" %
          (len(per) - len(short), len(per), len(ids), gaps,
           sum(1 for c in per if c["eof"])))
    if short:
        print("  short clients: fewest %d of %d" %
              (min(c["done"] for c in short), len(ids)))
    if delays:
        print("  delay finished_at -> arrival: p50 %d ms, p99 %d ms, max %d ms"
              " (%d events)" % (percentile(delays, 50), percentile(delays, 99),
                                delays[-1], len(delays)))
        print("  spread: per-client mean delay %.0f .. %.0f ms; last event "
              "arrived %.0f ms apart (first to last client)" %
              (min(means), max(means), (max(lasts) - min(lasts)) * 1000))
    print("  CPU until the last job finished: runneld %.0f %%, the clients "
          "%.0f %% (of 200 %%)" % (cpu[0] * 100, cpu[1] * 100))
    print("  runneld RSS: peak during submission %.1f MiB, VmHWM %.1f MiB "
          "(%.1f before the phase)" %
          (max(rss) / 1024, vm(srv.proc.pid, "VmHWM") / 1024, hwm0 / 1024))
    if stalled:
        dropped = 0
        for s in stalled:
            # drain what the kernel holds; a closed stream ends in EOF
            try:
                while True:
                    d = s.recv(1 << 20)
                    if not d:
                        dropped += 1
                        break
            except BlockingIOError:
                pass
            except ConnectionError:
                dropped += 1
        st, m = srv.request("GET", "/metrics", raw=True)
        subs = [l for l in m.decode().splitlines()
                if l.startswith("runnel_event_subscribers")]
        print("  stalled clients: %d of %d closed by runneld; %s" %
              (dropped, len(stalled), subs[0] if subs else "?"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=default_bindir())
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--stalled", type=int, default=50)
    ap.add_argument("--client", choices=("c", "py"), default="c",
                    help="the clients: bench/ssewatch (default) or Python")
    ap.add_argument("--bench-bin", default=None,
                    help="where ssewatch is (default: BIN/../bench)")
    ap.add_argument("--perf", metavar="FILE",
                    help="perf record -g runneld during phase 1 into FILE")
    ap.add_argument("--arg", action="append", default=[],
                    help="more runneld arguments")
    args = ap.parse_args()
    if args.bench_bin is None:
        args.bench_bin = os.path.join(os.path.dirname(
            os.path.abspath(args.bin)), "bench")
    raise_nofile(args.clients + args.stalled + 256)
    srv = Server(args.bin, workers=args.workers, args=[
        "--max-client-connections", str(args.clients + args.stalled + 64),
        "--max-connections", str(args.clients + args.stalled + 128),
        "--retain-finished", "0", *args.arg])
    procs, pipes = [], []
    exe = os.path.join(args.bench_bin, "ssewatch")
    if args.client == "c" and not os.access(exe, os.X_OK):
        ap.error("%s: not built (cmake --build); or --client py" % exe)
    try:
        per = [args.clients // args.procs] * args.procs
        per[0] += args.clients - sum(per)
        for n in per:
            if args.client == "c":
                c = CClients(exe, srv.port, n)
                procs.append(c.proc)
                pipes.append(c)
                continue
            a, b = multiprocessing.Pipe()
            p = multiprocessing.Process(target=client_proc,
                                        args=(b, srv.port, n, None))
            p.start()
            procs.append(p)
            pipes.append(a)
        for p in pipes:
            msg, _ = p.recv()
            assert msg == "ready", msg
        print("runneld %s, --workers %d, %d SSE clients in %d processes, "
              "%d jobs/s of `true` for %.0f s" %
              (args.bin, args.workers, args.clients, args.procs, args.rate,
               args.seconds))
        perf = None
        if args.perf:
            perf = subprocess.Popen(["perf", "record", "-g", "-q", "-o",
                                     args.perf, "-p", str(srv.proc.pid)])
        pids = [p.pid for p in procs]
        phase(srv, pipes, args, "phase 1 (all read)", pids=pids)
        if perf:
            perf.send_signal(signal.SIGINT)
            perf.wait(60)
        stalled = []
        for _ in range(args.stalled):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", srv.port))
            s.sendall(REQUEST)
            s.setblocking(False)
            stalled.append(s)
        if stalled:
            phase(srv, pipes, args, "phase 2 (+%d never read)" % len(stalled),
                  stalled, pids)
        for s in stalled:
            s.close()
        for p in pipes:
            p.send(("quit", None))
        for p in procs:
            if isinstance(p, subprocess.Popen):
                p.wait(30)
            else:
                p.join(30)
    finally:
        for p in procs:
            if isinstance(p, subprocess.Popen):
                if p.poll() is None:
                    p.kill()
                    p.wait()
            elif p.is_alive():
                p.terminate()
                p.join()
        srv.stop()


if __name__ == "__main__":
    main()
