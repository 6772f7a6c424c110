#!/usr/bin/env bash
# Cache benchmark: how fast a repeated request is answered from the result cache.
# Usage: bench/cache.sh [--rounds N]
#   Starts ./run.sh (PORT default 18090) with the cache on, sends astronaut.png once (a miss:
#   the model runs), then N more times (hits) at concurrency 1, and prints the latency
#   percentiles of the hits. Report: bench/out/cache-<timestamp>.txt. Loopback only.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ROUNDS=50
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    *) echo "usage: bench/cache.sh [--rounds N]" >&2; exit 2 ;;
  esac
done
PORT="${PORT:-18090}"
URL="http://127.0.0.1:$PORT"
STAMP=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/out
OUT="bench/out/cache-$STAMP.txt"
IMGDIR=$(mktemp -d)
cp ../shared/testdata/photos/astronaut.png "$IMGDIR/"
PY=$(command -v python3)

UNIMATTE_CACHE_ENABLED=true PORT="$PORT" setsid ./run.sh > "bench/out/cache-$STAMP-server.log" 2>&1 &
SERVER=$!
cleanup() { kill -TERM -- "-$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$IMGDIR"; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 300); do
  if "$PY" bench/loadgen.py --url "$URL" --health >/dev/null 2>&1; then break; fi
  sleep 2
done
"$PY" bench/loadgen.py --url "$URL" --health
{
  echo "== cache benchmark $STAMP: 1 miss (warm-up), then $ROUNDS identical requests"
  "$PY" bench/loadgen.py --url "$URL" --images "$IMGDIR" --concurrency 1 --warmup 1 --rounds "$ROUNDS"
} | tee "$OUT"
