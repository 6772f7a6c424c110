#!/usr/bin/env bash
# Bounded load test (loopback only, stops by itself): CLIENTS concurrent clients mixing single
# uploads, 2-image batch jobs and 2-image WebSocket submissions against a server with a small
# queue (4) that overflows; checks that every image gets exactly one outcome, that refused
# uploads got 503 + Retry-After, that no request got a 500, and that the heap returns near its
# starting level. Runs io.unimatte.service.LoadTest (the suite runs it at 16 clients / 200 images).
# Usage: bench/load.sh [CLIENTS] [IMAGES] [MAX_SECONDS]     (defaults 16 1000 600)
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${1:-16}"
IMAGES="${2:-1000}"
SECONDS_MAX="${3:-600}"
mkdir -p bench/out
OUT="bench/out/load-$(date +%Y%m%d-%H%M%S).txt"
mvn -q -B test -Dtest=LoadTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dunimatte.load.clients="$CLIENTS" -Dunimatte.load.images="$IMAGES" -Dunimatte.load.seconds="$SECONDS_MAX" 2>&1 \
  | grep -E 'load outcomes|heap before|Tests run|FAIL|ERROR' | tee "$OUT"
echo "report: $OUT"
