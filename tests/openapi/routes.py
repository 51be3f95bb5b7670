#!/usr/bin/env python3
"""Every route of runneld is in the OpenAPI description, and nothing else.

    routes.py ROUTES.c OPENAPI.json

ROUTES.c is server/api/routes.c, whose table is read as the C has it: one
{HTTP_METHOD, "pattern", handler, streams} per line.  OPENAPI.json is
docs/openapi.yaml as the build converted it.  Each (method, path) of the
table must be an operation of the spec and each operation of the spec a
route; the table's "*" (the dashboard's static files) is the spec's GET /.
HEAD is not listed on either side: every GET route answers it.  Prints each
difference and exits 1 if there is any.
"""
import json
import re
import sys

ROUTE_RE = re.compile(r'\{\s*HTTP_([A-Z]+)\s*,\s*"([^"]*)"\s*,\s*(\w+)')
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def table_routes(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("api_routes[]"):]
    body = body[:body.index("};")]
    routes = set()
    for method, pattern, handler in ROUTE_RE.findall(body):
        routes.add((method, "/" if pattern == "*" else pattern, handler))
    return routes


def spec_operations(path):
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    ops = set()
    for p, item in spec["paths"].items():
        for m in METHODS:
            if m in item:
                ops.add((m.upper(), p))
    return ops


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    routes = table_routes(sys.argv[1])
    ops = spec_operations(sys.argv[2])
    if len(routes) < 10:
        sys.exit("routes.py: only %d routes read from %s: has the table's "
                 "form changed?" % (len(routes), sys.argv[1]))
    have = {(m, p) for m, p, _ in routes}
    bad = 0
    for m, p, handler in sorted(routes):
        if (m, p) not in ops:
            print("not in the spec: %s %s (%s)" % (m, p, handler))
            bad += 1
    for m, p in sorted(ops - have):
        print("in the spec but no route: %s %s" % (m, p))
        bad += 1
    print("openapi.routes: %d routes, %d operations, %d differences" %
          (len(have), len(ops), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
