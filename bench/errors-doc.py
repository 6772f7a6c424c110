#!/usr/bin/env python3
"""Rewrites the code table of docs/errors.md and the Error enum of webroot/openapi.json from
src/main/java/io/unimatte/error/ErrorCode.java (ErrorCodeDocsTest checks that they match)."""
import json
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
src = (root / "src/main/java/io/unimatte/error/ErrorCode.java").read_text()
rows = re.findall(r'^  ([A-Z0-9_]+)\((\d+), (true|false), "([^"]*)"\)[,;]', src, re.M)
if not rows:
    sys.exit("no codes found in ErrorCode.java")

doc = root / "docs/errors.md"
lines = doc.read_text().split("\n")
kept = [l for l in lines if not l.startswith("| `")]
at = kept.index("| --- | --- | --- | --- |") + 1
table = ["| `%s` | %s | %s | %s |" % (n.lower(), st, "yes" if rt == "true" else "no", msg) for n, st, rt, msg in rows]
doc.write_text("\n".join(kept[:at] + table + kept[at:]))

api_file = root / "webroot/openapi.json"
raw = api_file.read_text()
api = json.loads(raw)
error = api["components"]["responses"]["Error"]["content"]["application/json"]["schema"]["properties"]["error"]
error["properties"]["code"]["enum"] = [n.lower() for n, _, _, _ in rows]
api_file.write_text(json.dumps(api, indent=1, ensure_ascii=False) + ("\n" if raw.endswith("\n") else ""))
print("%d codes written" % len(rows))
