#!/usr/bin/env python3
"""The include graph keeps the architecture's shape (docs/architecture.md).

1. Wings include only downwards: main > api > http > hook > core > pool >
   store > common.  A wing may include its own headers and those of wings below it.
2. No include cycle between modules (a module is name.c with name.h) in
   server/, worker/ and common/: if a.c or a.h includes b.h, then b must not
   reach a.h back, directly or through others.  A header with no .c of its
   name (server.h, core/core_int.h) is not a module: what it includes
   counts for the files that include it.

Prints each offence and exits 1 if there is any.
"""
import os
import re
import sys

TOP = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                      os.path.join(os.path.dirname(__file__), "..", ".."))
RANK = {"api": 6, "http": 5, "hook": 4, "core": 3, "pool": 2, "store": 1}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(folder):
    for dp, _, names in os.walk(os.path.join(TOP, folder)):
        for n in sorted(names):
            if n.endswith((".c", ".h")):
                yield os.path.join(dp, n)


def includes(path):
    with open(path, encoding="utf-8") as f:
        return INCLUDE.findall(f.read())


def wing_offences():
    bad = []
    for path in sources("server"):
        rel = os.path.relpath(path, os.path.join(TOP, "server"))
        wing = rel.split("/")[0] if "/" in rel else None
        mine = RANK.get(wing, 99)	# main.c, config.c: may include any
        for inc in includes(path):
            target = inc.split("/")[0] if "/" in inc else None
            if target in RANK and RANK[target] > mine:
                bad.append(f"server/{rel} includes {inc}: {target}/ is above "
                           f"{wing}/ (main > api > http > hook > core > pool > store > common)")
    return bad


def module_of(folder, path):
    rel = os.path.relpath(path, os.path.join(TOP, folder))
    return folder + "/" + os.path.splitext(rel)[0]


def resolve(folder, inc):
    """The module a quoted include names, or None (a system header)."""
    for base in (folder, "common"):
        if os.path.exists(os.path.join(TOP, base, inc)):
            return base + "/" + os.path.splitext(inc)[0]
    return None


def cycle_offences():
    raw, real = {}, set()
    for folder in ("server", "worker", "common"):
        for path in sources(folder):
            m = module_of(folder, path)
            if path.endswith(".c"):
                real.add(m)
            for inc in includes(path):
                t = resolve(folder, inc)
                if t and t != m:
                    raw.setdefault(m, set()).add(t)

    # A header without a .c of its name (server.h, core_int.h) is no
    # module: what it includes counts for whoever includes it.
    def targets(m, seen):
        out = set()
        for t in raw.get(m, ()):
            if t in real:
                out.add(t)
            elif t not in seen:
                out |= targets(t, seen | {t})
        return out

    edges = {m: targets(m, {m}) - {m} for m in real}
    bad, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if state.get(t) == 1:
                bad.append("include cycle: " + " -> ".join(
                    stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    return bad


def main():
    bad = wing_offences() + cycle_offences()
    for b in bad:
        print(b)
    if not bad:
        print("layers: wings include downwards only; no include cycle")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
