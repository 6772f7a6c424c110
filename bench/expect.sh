#!/usr/bin/env bash
# What curl users get: `curl -F image=@PHOTO` end to end (curl sends `Expect: 100-continue` for bodies
# over 1 MiB and waits up to 1 s for the server's 100 Continue) against the same request with
# `-H 'Expect:'` (body sent at once), interleaved, on a running server; prints each run and the medians.
#
# Usage: bench/expect.sh [--url http://127.0.0.1:8080] [--runs 5] [--query Q] [--status S] PHOTO
#   PHOTO: e.g. a 12-MP JPEG; Q: extra query string (e.g. model=rvm); S: the expected status (200;
#   e.g. --query model=none --status 400 times the upload alone: the body is read and parsed, then
#   refused without inference). Loopback servers only.
set -euo pipefail

URL=http://127.0.0.1:8080
RUNS=5
QUERY=
STATUS=200
while [[ $# -gt 1 ]]; do
  case "$1" in
    --url) URL=${2:?}; shift ;;
    --runs) RUNS=${2:?}; shift ;;
    --query) QUERY=${2:?}; shift ;;
    --status) STATUS=${2:?}; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
PHOTO=${1:?usage: bench/expect.sh [--url U] [--runs N] [--query Q] [--status S] PHOTO}
[[ -f $PHOTO ]] || { echo "no such file: $PHOTO" >&2; exit 1; }
[[ $URL =~ ^http://(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?$ ]] || { echo "loopback URL only: $URL" >&2; exit 2; }
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 50 ]] || { echo "--runs must be 1..50" >&2; exit 2; }
TARGET="$URL/api/v1/matte${QUERY:+?$QUERY}"
FORMAT='%{http_code} %{time_total} %{time_starttransfer}\n'

echo "== $(basename "$PHOTO") ($(stat -c %s "$PHOTO") bytes) -> $TARGET, $RUNS runs each, interleaved"
with=()
without=()
for ((i = 1; i <= RUNS; i++)); do
  read -r code t _ < <(curl -s -o /dev/null -w "$FORMAT" -F "image=@$PHOTO" "$TARGET")
  [[ $code == "$STATUS" ]] || { echo "!! HTTP $code (curl default)" >&2; exit 1; }
  with+=("$t")
  read -r code2 t2 _ < <(curl -s -o /dev/null -w "$FORMAT" -H 'Expect:' -F "image=@$PHOTO" "$TARGET")
  [[ $code2 == "$STATUS" ]] || { echo "!! HTTP $code2 (-H 'Expect:')" >&2; exit 1; }
  without+=("$t2")
  printf 'run %d: curl default %.3f s, -H "Expect:" %.3f s\n' "$i" "$t" "$t2"
done
python3 - "${with[*]}" "${without[*]}" <<'EOF'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
ma, mb = statistics.median(a), statistics.median(b)
print('median: curl default (Expect: 100-continue) %.3f s, -H "Expect:" %.3f s, ratio %.3f (%+.1f %%)'
      % (ma, mb, ma / mb, (ma / mb - 1) * 100))
EOF
