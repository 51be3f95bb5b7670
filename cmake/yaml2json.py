#!/usr/bin/env python3
"""Converts docs/openapi.yaml to the JSON runneld serves (build time).

    yaml2json.py IN.yaml OUT.json

YAML 1.1 reads some plain words as booleans (`on`, `no`) and dates as
dates: a key that is not a string, or a value JSON cannot hold, fails the
build rather than changing the document's meaning.
"""
import json
import os
import sys

import yaml


def check(node, where="$"):
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                sys.exit("%s: key %r at %s is not a string (quote it)" %
                         (sys.argv[1], k, where))
            check(v, "%s.%s" % (where, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            check(v, "%s[%d]" % (where, i))
    elif not (node is None or isinstance(node, (str, int, float, bool))):
        sys.exit("%s: value at %s is a %s, not JSON (quote it)" %
                 (sys.argv[1], where, type(node).__name__))


def main():
    src, dst = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    check(doc)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    with open(dst + ".tmp", "w", encoding="utf-8") as f:
        f.write(text + "\n")
    os.replace(dst + ".tmp", dst)


if __name__ == "__main__":
    main()
