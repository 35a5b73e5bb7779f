#!/usr/bin/env python3
"""Validate kinkctl -j outputs against etc/kinkctl.schema.json.

usage: json_schema.py SCHEMA [--lines] FILE...
Each FILE holds one JSON document, or with --lines one per line (monitor).
Prints one line per invalid document and exits 1 if any; 2 when a file is
empty or not JSON, so a missing output never passes.
"""
import json
import sys

import jsonschema


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    val = jsonschema.Draft202012Validator(schema)
    lines = False
    bad = 0
    for path in argv[2:]:
        if path == "--lines":
            lines = True
            continue
        with open(path) as f:
            text = f.read()
        docs = [l for l in text.splitlines() if l.strip()] if lines else [text]
        if not docs or not docs[0].strip():
            print("%s: empty" % path)
            return 2
        for i, d in enumerate(docs):
            try:
                doc = json.loads(d)
            except ValueError as e:
                print("%s:%d: not JSON: %s" % (path, i + 1, e))
                return 2
            errs = list(val.iter_errors(doc))
            if errs:
                bad += 1
                best = jsonschema.exceptions.best_match(errs)
                print("%s:%d: %s at %s" % (path, i + 1, best.message,
                      "/".join(str(p) for p in best.absolute_path)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
