#!/usr/bin/env python3
"""Runs runnel's black-box API tests against the real runneld.

    tests/api/run.py --bin build/bin [--module NAME]... [-k SUBSTRING] [-j N]
                     [--scale F] [--keep] [-v] [--database-url URL]

Every test_*.py module here holds unittest TestCase classes; each class
starts its own runneld (harness.RunnelTestCase), so classes run in
parallel, each in its own Python process (-j, default: the number of
CPUs).  --module runs only that module (test_deps or deps; it may be
given more than once; ctest runs each module so, as api.<name>).  -k
keeps the tests whose id (module.Class.test_name) contains SUBSTRING.
--scale multiplies every deadline (a sanitizer build is slower).
--keep keeps every temp dir (logs, data dirs); a class with a failure
always keeps its own.  --database-url URL (default: $RUNNEL_TEST_PG_URL)
runs the suite on PostgreSQL: URL is a maintenance database (a URI or
key=value string, e.g. what tests/pg/pg.sh start prints), and every
runneld gets a fresh database of its own there (harness_pg.py); without
it, or with it empty, runneld uses SQLite.  Exit status: 0 when
everything passed.
"""
import argparse
import concurrent.futures
import importlib
import inspect
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import unittest

import harness_pg

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
RESULT_MARK = "@@runnel-api-result@@ "
CLASS_TIMEOUT = 600
CHILDREN = set()	# running class processes (each its own process group)


def module_names():
    """The test modules here, sorted: test_*.py without .py."""
    return sorted(f[:-3] for f in os.listdir(HERE)
                  if f.startswith("test_") and f.endswith(".py"))


def discover(substring, modules=None):
    """[(module name, class name, [test names])] selected by substring,
    in the given modules (default: all)."""
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    found = []
    for modname in modules or module_names():
        mod = importlib.import_module(modname)
        for cname, cls in inspect.getmembers(mod, inspect.isclass):
            if cls.__module__ != modname or not issubclass(cls, unittest.TestCase):
                continue
            names = [n for n in loader.getTestCaseNames(cls)
                     if not substring or substring in "%s.%s.%s" % (modname, cname, n)]
            if names:
                found.append((modname, cname, names))
    return found


# ---- child: one class in this process ------------------------------------

class CollectingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.records = []
        self._t0 = {}

    def startTest(self, test):
        self._t0[test.id()] = time.monotonic()
        super().startTest(test)

    def _rec(self, test, outcome, detail=""):
        t0 = self._t0.get(getattr(test, "test_case", test).id(), time.monotonic())
        self.records.append({"id": test.id(), "outcome": outcome,
                             "detail": detail,
                             "seconds": round(time.monotonic() - t0, 2)})

    def addSuccess(self, test):
        super().addSuccess(test)
        self._rec(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._rec(test, "FAIL", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._rec(test, "ERROR", self._exc_info_to_string(err, test))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._rec(subtest, "FAIL" if failed else "ERROR",
                      self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._rec(test, "skip", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._rec(test, "xfail", self._exc_info_to_string(err, test))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._rec(test, "FAIL", "unexpected success")


def run_child(modname, cname, names):
    sys.path.insert(0, HERE)
    mod = importlib.import_module(modname)
    cls = getattr(mod, cname)
    suite = unittest.TestSuite(cls(n) for n in names)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2,
                                     resultclass=CollectingResult)
    result = runner.run(suite)
    # setUpClass/tearDownClass errors are "tests" named after the class
    seen = {r["id"] for r in result.records}
    for test, err in result.errors + result.failures:
        tid = getattr(test, "id", lambda: str(test))()
        if tid not in seen:
            result.records.append({"id": "%s.%s.%s" % (modname, cname, str(test)),
                                   "outcome": "ERROR", "detail": err, "seconds": 0})
    sys.stdout.write(RESULT_MARK + json.dumps(result.records) + "\n")
    sys.stdout.flush()
    return 0 if result.wasSuccessful() else 1


# ---- parent ----------------------------------------------------------------

def sanitized(path):
    """True when the binary was built with ASan or UBSan."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle" in data


def run_class(args, modname, cname, names):
    cmd = [sys.executable, os.path.abspath(__file__), "--bin", args.bin,
           "--child", "%s.%s" % (modname, cname), "--tests", ",".join(names)]
    env = dict(os.environ)
    env["RUNNEL_API_TEST_BIN"] = os.path.abspath(args.bin)
    env["RUNNEL_API_TEST_SCALE"] = str(args.scale)
    env["RUNNEL_API_TEST_KEEP"] = "1" if args.keep else ""
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["RUNNEL_API_TEST_PG_URL"] = args.database_url
    # names the file its answers are recorded in (harness.record_exchange)
    env["RUNNEL_API_RECORD_NAME"] = "%s.%s" % (modname, cname)
    t0 = time.monotonic()
    # Its own process group: a class that hangs is killed with its runnelds.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, start_new_session=True, text=True)
    CHILDREN.add(p)
    try:
        out, err = p.communicate(timeout=CLASS_TIMEOUT * args.scale)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        timed_out = True
    finally:
        CHILDREN.discard(p)
    if timed_out and args.database_url and not args.keep:
        # killed before its class cleanup could drop its databases
        try:
            harness_pg.drop_left_by(args.database_url, p.pid)
        except (AssertionError, subprocess.TimeoutExpired) as e:
            err += "\nrun.py: %s" % e
    records = None
    for line in out.splitlines():
        if line.startswith(RESULT_MARK):
            records = json.loads(line[len(RESULT_MARK):])
    if records is None:
        records = [{"id": "%s.%s" % (modname, cname), "outcome": "ERROR",
                    "detail": "the class %s (exit %s); no result" % (
                        "timed out" if timed_out else "crashed", p.returncode),
                    "seconds": 0}]
    extra = "\n".join(l for l in out.splitlines() if not l.startswith(RESULT_MARK))
    return {"name": "%s.%s" % (modname, cname), "records": records,
            "seconds": time.monotonic() - t0, "log": err + extra,
            "rc": p.returncode}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True,
                    help="directory holding runneld and runnel-worker")
    ap.add_argument("--module", dest="modules", action="append", default=[],
                    metavar="NAME", help="run only this module (test_deps or "
                    "deps); may be given more than once")
    ap.add_argument("-k", dest="substring", default="",
                    help="run only tests whose id contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=os.cpu_count() or 2,
                    help="classes run in parallel (default: CPUs)")
    ap.add_argument("--scale", type=float, default=None,
                    help="multiply every deadline (default: 3 for a sanitizer "
                    "build, else 1)")
    ap.add_argument("--keep", action="store_true", help="keep all temp dirs")
    ap.add_argument("--database-url", metavar="URL",
                    default=os.environ.get("RUNNEL_TEST_PG_URL", ""),
                    help="run on PostgreSQL: the maintenance database of a "
                    "server where each runneld gets a fresh database "
                    "(default: $RUNNEL_TEST_PG_URL; empty: SQLite)")
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="print every test and each class's log")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--tests", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        modname, cname = args.child.split(".")
        return run_child(modname, cname, args.tests.split(","))

    for name in ("runneld", "runnel-worker"):
        if not os.access(os.path.join(args.bin, name), os.X_OK):
            print("run.py: %s/%s is missing or not executable" % (args.bin, name))
            return 2
    if args.scale is None:
        args.scale = 3.0 if sanitized(os.path.join(args.bin, "runneld")) else 1.0
    if args.database_url:
        why = harness_pg.check_server(args.database_url)
        if why:
            print("run.py: --database-url: %s" % why)
            return 2
    known = module_names()
    modules = []
    for m in args.modules:
        name = m if m.startswith("test_") else "test_" + m
        if name.endswith(".py"):
            name = name[:-3]
        if name not in known:
            print("run.py: no module %s here (%s)" % (
                name, ", ".join(k[5:] for k in known)))
            return 2
        if name not in modules:
            modules.append(name)
    try:
        classes = discover(args.substring, modules)
    except Exception:
        traceback.print_exc()
        return 2
    if not classes:
        print("run.py: no test matches %r" % args.substring)
        return 2
    # Longest classes first keeps the pool busy.
    ntests = sum(len(c[2]) for c in classes)
    print("runnel API tests: %d tests in %d classes, -j %d, --scale %g, bin %s, %s" %
          (ntests, len(classes), args.jobs, args.scale, os.path.abspath(args.bin),
           "postgresql at %s" % harness_pg.masked(args.database_url)
           if args.database_url else "sqlite"))
    t0 = time.monotonic()
    results = []
    ex = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs))
    try:
        futs = [ex.submit(run_class, args, *c) for c in classes]
        for fut in concurrent.futures.as_completed(futs):
            res = fut.result()
            results.append(res)
            bad = [r for r in res["records"] if r["outcome"] in ("FAIL", "ERROR")]
            print("%-4s %s (%d results, %.1fs)" % ("FAIL" if bad else "ok",
                  res["name"], len(res["records"]), res["seconds"]), flush=True)
            for r in res["records"]:
                if args.verbose or r["outcome"] in ("FAIL", "ERROR"):
                    print("    %-5s %s (%.1fs)" % (r["outcome"], r["id"], r["seconds"]))
            if args.verbose:
                print(res["log"])
            elif bad:
                for line in res["log"].splitlines():
                    if line.startswith("runnel-api: kept"):
                        print("    " + line)	# logs and data dirs
    except KeyboardInterrupt:
        # The classes run in their own process groups: take them (and
        # their runnelds) down with us.
        for f in futs:
            f.cancel()
        for p in list(CHILDREN):
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        print("\ninterrupted")
        return 130
    finally:
        ex.shutdown(wait=True, cancel_futures=True)

    counts = {}
    failed = []
    for res in results:
        for r in res["records"]:
            counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
            if r["outcome"] in ("FAIL", "ERROR"):
                failed.append((res, r))
    if failed:
        print("\n" + "=" * 70 + "\nFailures\n" + "=" * 70)
        for res, r in failed:
            print("\n--- %s: %s" % (r["outcome"], r["id"]))
            print(r["detail"].rstrip())
    skipped = {}
    for res in results:
        for r in res["records"]:
            if r["outcome"] == "skip":
                skipped.setdefault(r["detail"], []).append(r["id"])
    if skipped and (args.verbose or args.database_url):
        print("\nSkipped:")
        for why, ids in sorted(skipped.items()):
            print("  %s\n    %s" % (why, "\n    ".join(sorted(ids))))
    print("\n%s in %.1fs: %s" % (
        "FAILED" if failed else "OK", time.monotonic() - t0,
        ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items()))))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
