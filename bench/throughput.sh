#!/usr/bin/env bash
# Throughput benchmark: Unimatte (started here via ./run.sh) against the peer
# (@imgly/background-removal-node 1.4.5, bench/peer), on the same images, in one run.
#
# Usage: bench/throughput.sh [--skip-peer] [--peer imgly,tuned] [--size small|12mp|48mp]
#                            [--rounds N] [--warmup K] [--concurrency 1,4,16]
#                            [--images DIR] [--env KEY=VALUE]... [--server-arg ARG]...
#                            [--health-timeout S]
#
#   --size 12mp (or 48mp): the images are first made camera-sized (4000x3000, 8000x6000) from
#   the --images photos, with sensor-like noise so that PNG compression is realistic
#   (io.unimatte.imaging.bench.RealSizePhotos, kept in bench/out/photos-<size>-<name of DIR>/).
#   --peer: which peers run after the server, in that order: imgly (bench/peer,
#   @imgly/background-removal-node) and/or tuned (bench/peer/tuned: the same ISNet ONNX file on
#   onnxruntime-node with all cores + sharp). Default: imgly for small photos, tuned,imgly for
#   camera sizes.
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
  echo "usage: bench/throughput.sh [--skip-peer] [--peer imgly,tuned] [--size small|12mp|48mp]" >&2
  echo "                           [--rounds N] [--warmup K] [--concurrency 1,4,16]" >&2
  echo "                           [--images DIR] [--env KEY=VALUE]... [--server-arg ARG]..." >&2
  echo "                           [--health-timeout S]" >&2
  echo "       (env: PORT, default 18080; UNIMATTE_RUN_CMD, default ./run.sh; PYTHON)" >&2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the same 5 photos are sent again and again: without this the result cache would answer them
export UNIMATTE_CACHE_ENABLED="${UNIMATTE_CACHE_ENABLED:-false}"
cd "$ROOT"

SKIP_PEER=0
PEERS=
SIZE=small
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
    --peer) PEERS=${2:?--peer needs imgly, tuned or both}; shift ;;
    --size) SIZE=${2:?--size needs small, 12mp or 48mp}; shift ;;
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
case "$SIZE" in
  small) DIMS= ;;
  12mp) DIMS="4000 3000" ;;
  48mp) DIMS="8000 6000" ;;
  *) echo "--size must be small, 12mp or 48mp" >&2; exit 2 ;;
esac
if [[ -z $PEERS ]]; then
  if [[ -z $DIMS ]]; then PEERS=imgly; else PEERS=tuned,imgly; fi
fi
for p in ${PEERS//,/ }; do
  [[ $p == imgly || $p == tuned ]] || { echo "--peer: unknown peer $p (imgly, tuned)" >&2; exit 2; }
done

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
echo "   images $IMAGES ($(find "$IMAGES" -maxdepth 1 -type f | wc -l) files, size $SIZE), concurrency $CONC, rounds $ROUNDS, warmup $WARMUP, peers ${PEERS//,/ }"
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

if [[ -n $DIMS ]]; then
  SRC_IMAGES=$IMAGES
  IMAGES="$OUT/photos-$SIZE-$(basename "$SRC_IMAGES")"
  echo "== camera-sized photos ($SIZE) from $SRC_IMAGES in $IMAGES"
  # the server's build compiled the test classes too; target/lib holds the runtime classpath
  java -Xmx4g -cp "target/classes:target/test-classes:target/lib/*" io.unimatte.imaging.bench.RealSizePhotos \
    "$IMAGES" $DIMS "$SRC_IMAGES" || { echo "!! could not make the $SIZE photos" >&2; exit 1; }
fi

# the server's CPU time during the load: on a machine shared with other work, CPU seconds per image
# move much less than images per second do
JAVA_PID=$(pgrep -g "$SERVER_PID" -x java 2>/dev/null | head -n 1 || true)
cpu_ticks() { if [[ -n $JAVA_PID && -r /proc/$JAVA_PID/stat ]]; then awk '{ print $14 + $15 }' "/proc/$JAVA_PID/stat"; fi; }
CPU0=$(cpu_ticks)
echo "== loadgen"
lg_rc=0
"$PY" bench/loadgen.py --url "$BASE_URL" --images "$IMAGES" --concurrency "$CONC" \
  --rounds "$ROUNDS" --warmup "$WARMUP" --timeout 300 --deadline 2400 --max-requests 20000 \
  --json-out "$OURS_JSON" || lg_rc=$?
if ((lg_rc > 128)); then echo "== loadgen killed by signal $((lg_rc - 128))"; exit "$lg_rc"; fi
((lg_rc == 0)) || echo "!! loadgen exit status $lg_rc (failed or truncated requests: see above)"
CPU1=$(cpu_ticks)
if [[ -n $CPU0 && -n $CPU1 && -f $OURS_JSON ]]; then
  "$PY" - "$OURS_JSON" "$CPU0" "$CPU1" "$(getconf CLK_TCK)" "$WARMUP" <<'EOF'
import json, sys
images = sum(json.loads(l)['images'] for l in open(sys.argv[1]) if l.startswith('{')) + int(sys.argv[5])
cpu = (int(sys.argv[3]) - int(sys.argv[2])) / int(sys.argv[4])
print('== server CPU: %.1f s for %d requests (warm-up included): %.2f CPU s per image' % (cpu, images, cpu / max(1, images)))
EOF
fi
stop_server

peer_rc=0
PEER_FILES=()
if ((SKIP_PEER == 0)); then
  if ! command -v node >/dev/null; then
    echo "!! node not found: peers skipped"
    peer_rc=1
  else
    for p in ${PEERS//,/ }; do
      rc=0
      if [[ $p == imgly ]]; then
        echo "== peer imgly (@imgly/background-removal-node, sequential, $ROUNDS round(s))"
        json=$PEER_JSON
        bench/peer/setup.sh || rc=$?
        ((rc != 0)) || node bench/peer/peer.mjs "$IMAGES" "$PEER_OUT" --rounds "$ROUNDS" >"$json" || rc=$?
      else
        echo "== peer tuned (onnxruntime-node, all cores, + sharp; sequential, $ROUNDS round(s))"
        json=${PEER_JSON%.json}-tuned.json
        bench/peer/tuned/setup.sh || rc=$?
        ((rc != 0)) || node bench/peer/tuned/tuned.mjs "$IMAGES" "$PEER_OUT-tuned" --rounds "$ROUNDS" >"$json" || rc=$?
      fi
      if ((rc > 128)); then echo "== peer killed by signal $((rc - 128))"; exit "$rc"; fi
      if ((rc == 0)); then
        cat "$json"
        PEER_FILES+=("$json")
      else
        echo "!! peer $p failed (status $rc)"
        peer_rc=$rc
      fi
    done
  fi
fi

echo "== summary"
"$PY" - "$OURS_JSON" ${PEER_FILES[@]+"${PEER_FILES[@]}"} <<'EOF'
import json, os, sys
ours = []
if os.path.exists(sys.argv[1]):
    ours = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
peers = []
for f in sys.argv[2:]:
    if os.path.exists(f):
        for l in open(f):
            if l.startswith('{'):
                peers.append(json.loads(l))
def rate(p):
    return p.get('warmImagesPerSec') or p.get('imagesPerSec')
names = ['tuned' if 'onnxruntime-node' in p['peer'] else 'imgly' for p in peers]
head = ['concurrency', 'ours img/s', 'p50 ms', 'p95 ms', 'max ms', 'retries']
for n in names:
    head += ['%s img/s' % n, 'ours/%s' % n]
fmt = '%-12s %10s %10s %10s %10s %8s' + ' %12s %11s' * len(names)
print(fmt % tuple(head))
for s in ours:
    lat = s['latencyMs']
    row = [s['concurrency'], s['imagesPerSec'], lat['p50'], lat['p95'], lat['max'], s['retries']]
    for p in peers:
        pw = rate(p)
        row += [pw if pw else '-', '%.2fx' % (s['imagesPerSec'] / pw) if pw and s['imagesPerSec'] else '-']
    print(fmt % tuple(row) + ('  (TRUNCATED/FAILED)' if s['truncated'] or s['failed'] else ''))
    if s.get('timingMedianMs'):
        print('%12s median X-Timing ms: %s' % ('', ' '.join('%s=%s' % kv for kv in s['timingMedianMs'].items())))
if not ours:
    print('(no results from our server)')
for n, p in zip(names, peers):
    print('peer %s (%s, model=%s): %d images, %.3f img/s warm (first image excluded), %.3f img/s '
          'all-in, first image %s ms (includes model load), median %s ms; sequential (one process, one '
          'image at a time), its rate is the same column at every concurrency'
          % (n, p['peer'], p.get('model'), p['images'], rate(p) or 0, p['imagesPerSec'] or 0,
             p['firstImageMs'], p.get('medianMs')))
EOF
echo "== report: $REPORT"
if ((lg_rc != 0)); then exit 1; fi
exit 0
