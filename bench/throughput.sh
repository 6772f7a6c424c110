#!/usr/bin/env bash
# Throughput benchmark: Unimatte (started here via ./run.sh) against the peer
# (@imgly/background-removal-node 1.4.5, bench/peer), on the same images, in one run.
#
# Usage: bench/throughput.sh [--skip-peer] [--rounds N] [--warmup K] [--concurrency 1,4,16]
#                            [--images DIR] [--env KEY=VALUE]... [--server-arg ARG]...
#                            [--health-timeout S]
#
#   Starts `./run.sh` (builds and serves; override with UNIMATTE_RUN_CMD) in its own
#   process group with PORT=${PORT:-18080} and the current environment (plus --env
#   pairs, e.g. --env UNIMATTE_MAX_BATCH_SIZE=8, and --server-arg arguments for run.sh,
#   e.g. --server-arg --inference.maxBatchSize=8), waits for GET /health to answer 200
#   with "status":"ready" (default timeout 600 s), runs bench/loadgen.py at each
#   concurrency over the images (default ../shared/testdata/photos; uploads sent as curl
#   sends them, with Expect: 100-continue over 1 MiB), stops the server,
#   then (unless --skip-peer) installs and runs the peer on the same images with the
#   same number of rounds, sequentially, as a shop script would. Prints a summary and
#   the ratio ours/peer images/s per concurrency (peer: warm images/s, first image
#   with its model load excluded). Everything is also written to
#   bench/out/throughput-<timestamp>.txt (server log: ...-server.log beside it).
#   The server is stopped on exit and on Ctrl-C.
set -euo pipefail

usage() {
  echo "usage: bench/throughput.sh [--skip-peer] [--rounds N] [--warmup K] [--concurrency 1,4,16]" >&2
  echo "                           [--images DIR] [--env KEY=VALUE]... [--server-arg ARG]..." >&2
  echo "                           [--health-timeout S]" >&2
  echo "       (env: PORT, default 18080; UNIMATTE_RUN_CMD, default ./run.sh; PYTHON)" >&2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the same 5 photos are sent again and again: without this the result cache would answer them
export UNIMATTE_CACHE_ENABLED="${UNIMATTE_CACHE_ENABLED:-false}"
cd "$ROOT"

SKIP_PEER=0
ROUNDS=2
WARMUP=3
CONC=1,4,16
IMAGES=../shared/testdata/photos
HEALTH_TIMEOUT=600
EXTRA_ENV=()
SERVER_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-peer) SKIP_PEER=1 ;;
    --rounds) ROUNDS=${2:?--rounds needs a value}; shift ;;
    --warmup) WARMUP=${2:?--warmup needs a value}; shift ;;
    --concurrency) CONC=${2:?--concurrency needs a value}; shift ;;
    --images) IMAGES=${2:?--images needs a value}; shift ;;
    --env) EXTRA_ENV+=("${2:?--env needs KEY=VALUE}"); shift ;;
    --server-arg) SERVER_ARGS+=("${2:?--server-arg needs a value}"); shift ;;
    --health-timeout) HEALTH_TIMEOUT=${2:?--health-timeout needs a value}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage; exit 2 ;;
  esac
  shift
done
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 100 ]] || { echo "--rounds must be 1..100" >&2; exit 2; }
[[ $WARMUP =~ ^[0-9]+$ && $WARMUP -le 100 ]] || { echo "--warmup must be 0..100" >&2; exit 2; }
[[ $HEALTH_TIMEOUT =~ ^[0-9]+$ && $HEALTH_TIMEOUT -ge 1 ]] || { echo "--health-timeout must be seconds" >&2; exit 2; }
for kv in ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"}; do
  [[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*=.*$ ]] || { echo "--env wants KEY=VALUE, got: $kv" >&2; exit 2; }
done
[[ -d $IMAGES ]] || { echo "no image folder: $IMAGES (relative to $ROOT)" >&2; exit 1; }

PORT=${PORT:-18080}
[[ $PORT =~ ^[0-9]+$ ]] || { echo "PORT must be a number" >&2; exit 2; }
RUN_CMD=${UNIMATTE_RUN_CMD:-./run.sh}
BASE_URL="http://127.0.0.1:${PORT}"
PY=${PYTHON:-python3}

TS=$(date +%Y%m%d-%H%M%S)
OUT=bench/out
mkdir -p "$OUT"
REPORT="$OUT/throughput-$TS.txt"
SERVER_LOG="$OUT/throughput-$TS-server.log"
OURS_JSON="$OUT/throughput-$TS-ours.jsonl"
PEER_JSON="$OUT/throughput-$TS-peer.json"
PEER_OUT="$OUT/throughput-$TS-peer"

# Everything to the terminal and the report; tee ignores SIGINT so that the cleanup
# messages after a Ctrl-C still get through.
exec 3>&1 4>&2
exec > >(trap '' INT TERM; exec tee -a "$REPORT") 2>&1

SERVER_PID=
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  local pgid=$SERVER_PID
  SERVER_PID=
  if kill -0 -- "-$pgid" 2>/dev/null; then
    echo "== stopping server (process group $pgid)"
    kill -TERM -- "-$pgid" 2>/dev/null || true
    local i
    for ((i = 0; i < 60; i++)); do  # up to 30 s for a graceful stop
      kill -0 -- "-$pgid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 -- "-$pgid" 2>/dev/null; then
      echo "== server still running after 30 s: SIGKILL"
      kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
  fi
  wait "$pgid" 2>/dev/null || true
}
# shellcheck disable=SC2317  # invoked by trap
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  stop_server
  exit "$rc"
}
trap on_exit EXIT
trap 'echo "== interrupted"; exit 130' INT
trap 'echo "== terminated"; exit 143' TERM

# GET /health -> prints "<code> <body>" ("000 <error>" when nothing answers)
health() {
  "$PY" bench/loadgen.py --url "$BASE_URL" --health 2>/dev/null || true
}

echo "== Unimatte throughput benchmark $TS"
echo "   repo $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   images $IMAGES ($(find "$IMAGES" -maxdepth 1 -type f | wc -l) files), concurrency $CONC, rounds $ROUNDS, warmup $WARMUP"
echo "   server: ${EXTRA_ENV[*]+"${EXTRA_ENV[*]} "}PORT=$PORT $RUN_CMD ${SERVER_ARGS[*]+"${SERVER_ARGS[*]}"}"
env | grep '^UNIMATTE_' | sed 's/^/   env /' || true
echo "   report $REPORT"

code=$(health | cut -d' ' -f1)
if [[ $code != 000 ]]; then
  echo "!! something already answers on $BASE_URL (HTTP $code): stop it or set PORT" >&2
  exit 1
fi

echo "== starting server (log: $SERVER_LOG)"
START=$(date +%s)
# setsid: own process group, so that stopping it takes its children (java) too
# shellcheck disable=SC2016  # $@ expands in the inner bash
env PORT="$PORT" ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"} setsid bash -c "$RUN_CMD"' "$@"' run-server \
  ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} >"$SERVER_LOG" 2>&1 </dev/null &
SERVER_PID=$!

ready=0
while (($(date +%s) - START < HEALTH_TIMEOUT)); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "!! server exited before it was ready; last lines of $SERVER_LOG:" >&2
    tail -n 30 "$SERVER_LOG" >&2 || true
    exit 1
  fi
  h=$(health)
  if [[ ${h%% *} == 200 && $h =~ \"status\"[[:space:]]*:[[:space:]]*\"ready\" ]]; then
    ready=1
    break
  fi
  sleep 2
done
if ((ready == 0)); then
  echo "!! /health not ready after ${HEALTH_TIMEOUT}s; last lines of $SERVER_LOG:" >&2
  tail -n 30 "$SERVER_LOG" >&2 || true
  exit 1
fi
echo "== server ready after $(($(date +%s) - START))s: ${h#* }"

echo "== loadgen"
lg_rc=0
"$PY" bench/loadgen.py --url "$BASE_URL" --images "$IMAGES" --concurrency "$CONC" \
  --rounds "$ROUNDS" --warmup "$WARMUP" --timeout 300 --deadline 2400 --max-requests 20000 \
  --json-out "$OURS_JSON" || lg_rc=$?
if ((lg_rc > 128)); then echo "== loadgen killed by signal $((lg_rc - 128))"; exit "$lg_rc"; fi
((lg_rc == 0)) || echo "!! loadgen exit status $lg_rc (failed or truncated requests: see above)"
stop_server

peer_rc=0
if ((SKIP_PEER == 0)); then
  echo "== peer (@imgly/background-removal-node, sequential, $ROUNDS round(s))"
  if ! command -v node >/dev/null; then
    echo "!! node not found: peer skipped"
    peer_rc=1
  else
    bench/peer/setup.sh || peer_rc=$?
    if ((peer_rc == 0)); then
      node bench/peer/peer.mjs "$IMAGES" "$PEER_OUT" --rounds "$ROUNDS" >"$PEER_JSON" || peer_rc=$?
      if ((peer_rc > 128)); then echo "== peer killed by signal $((peer_rc - 128))"; exit "$peer_rc"; fi
      cat "$PEER_JSON"
    fi
    ((peer_rc == 0)) || echo "!! peer failed (status $peer_rc)"
  fi
fi

echo "== summary"
"$PY" - "$OURS_JSON" "$PEER_JSON" <<'EOF'
import json, os, sys
ours = []
if os.path.exists(sys.argv[1]):
    ours = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
peer = None
if os.path.exists(sys.argv[2]):
    for l in open(sys.argv[2]):
        if l.startswith('{'):
            peer = json.loads(l)
pw = peer and (peer.get('warmImagesPerSec') or peer.get('imagesPerSec'))
fmt = '%-12s %10s %10s %10s %10s %8s %12s %10s'
print(fmt % ('concurrency', 'ours img/s', 'p50 ms', 'p95 ms', 'max ms', 'retries',
             'peer img/s', 'ours/peer'))
for s in ours:
    lat = s['latencyMs']
    ratio = '%.2fx' % (s['imagesPerSec'] / pw) if pw and s['imagesPerSec'] else '-'
    print(fmt % (s['concurrency'], s['imagesPerSec'], lat['p50'], lat['p95'], lat['max'],
                 s['retries'], pw if pw else '-', ratio)
          + ('  (TRUNCATED/FAILED)' if s['truncated'] or s['failed'] else ''))
if not ours:
    print('(no results from our server)')
if peer:
    print('peer %s model=%s: %d images, %.3f img/s warm (first image excluded), %.3f img/s '
          'all-in, first image %s ms (includes model load), median %s ms; peer is sequential '
          '(one process, one image at a time), its rate is the same column at every concurrency'
          % (peer['peer'], peer.get('model'), peer['images'], pw or 0, peer['imagesPerSec'] or 0,
             peer['firstImageMs'], peer.get('medianMs')))
EOF
echo "== report: $REPORT"
if ((lg_rc != 0)); then exit 1; fi
exit 0
