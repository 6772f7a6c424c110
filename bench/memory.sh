#!/usr/bin/env bash
# Memory benchmark (issue 21): the server's resident memory at ready, during and after a fixed load.
#
# Usage: bench/memory.sh [--label L] [--models isnet,rvm] [--batch-sizes 1,4] [--idle S]
#                        [--env KEY=VALUE]... [--server-arg ARG]... [--health-timeout S]
#
#   For each model and batch size: starts `./run.sh` (override with UNIMATTE_RUN_CMD) on PORT
#   (default 18180) with the current environment plus the --env pairs, --server-arg arguments and
#   --inference.maxBatchSize=B --inference.cpuMaxBatchSize=B (no batch sizes given: the
#   configuration's), waits for /health ready,
#   then records
#     ready   RSS, Java heap used/committed, direct buffers, JVM native memory (NMT) and the rest;
#     small   8 different small photos sent at once to that model (batches form);
#     large   then 4 different 12-MP JPEGs at once;
#     +30s, +Ss  the same after 30 s and S s (default 60) of idleness,
#   and the peak: the kernel's high-water mark of RSS (VmHWM, reset at ready) and the highest heap
#   seen by a 0.5 s sampler. Stops the server. A summary table ends the report,
#   bench/out/memory-<timestamp>.txt (JSON lines: .jsonl beside it, server logs: -server-*.log).
#
#   Linux only (reads /proc). NMT: the JVM runs with -XX:NativeMemoryTracking=summary (through
#   JDK_JAVA_OPTIONS, so run.sh's own options stay) and `jcmd` reads it; "other" is RSS minus what NMT
#   accounts for: TensorFlow, oneDNN and the C allocator's arenas. The 12-MP JPEGs are made once from
#   the test photos with ImageMagick's `convert` (Debian package imagemagick).
set -euo pipefail

usage() {
  echo "usage: bench/memory.sh [--label L] [--models isnet,rvm] [--batch-sizes 1,4] [--idle S]" >&2
  echo "                       [--env KEY=VALUE]... [--server-arg ARG]... [--health-timeout S]" >&2
  echo "       (env: PORT, default 18180; UNIMATTE_RUN_CMD, default ./run.sh)" >&2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

LABEL=default
MODELS=isnet
BATCHES=""
IDLE=60
HEALTH_TIMEOUT=900
EXTRA_ENV=()
SERVER_ARGS=()
SMALL_COUNT=8
LARGE_COUNT=4
LARGE_SIZE=4000x3000
SAMPLE_SECONDS=0.5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --label) LABEL=${2:?--label needs a value}; shift ;;
    --models) MODELS=${2:?--models needs a value}; shift ;;
    --batch-sizes) BATCHES=${2:?--batch-sizes needs a value}; shift ;;
    --idle) IDLE=${2:?--idle needs a value}; shift ;;
    --env) EXTRA_ENV+=("${2:?--env needs KEY=VALUE}"); shift ;;
    --server-arg) SERVER_ARGS+=("${2:?--server-arg needs a value}"); shift ;;
    --health-timeout) HEALTH_TIMEOUT=${2:?--health-timeout needs a value}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage; exit 2 ;;
  esac
  shift
done
[[ $IDLE =~ ^[0-9]+$ && $IDLE -ge 30 ]] || { echo "--idle must be 30 s or more" >&2; exit 2; }
[[ $LABEL =~ ^[A-Za-z0-9._-]+$ ]] || { echo "--label: letters, digits, . _ - only" >&2; exit 2; }
for kv in ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"}; do
  [[ $kv =~ ^[A-Za-z_][A-Za-z0-9_]*=.*$ ]] || { echo "--env wants KEY=VALUE, got: $kv" >&2; exit 2; }
done
[[ -r /proc/self/status ]] || { echo "bench/memory.sh reads /proc: Linux only" >&2; exit 1; }
for tool in curl jcmd convert; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/memory.sh needs '$tool'" >&2; exit 1; }
done

PORT=${PORT:-18180}
RUN_CMD=${UNIMATTE_RUN_CMD:-./run.sh}
BASE_URL="http://127.0.0.1:${PORT}"
TS=$(date +%Y%m%d-%H%M%S)
OUT=bench/out
mkdir -p "$OUT"
REPORT="$OUT/memory-$TS-$LABEL.txt"
JSONL="$OUT/memory-$TS-$LABEL.jsonl"
WORK=$(mktemp -d)

exec > >(trap '' INT TERM; exec tee -a "$REPORT") 2>&1

# --- images: 8 different small photos, 4 different 12-MP JPEGs (made once) ---------------------
IMAGES="$OUT/memory-images"
prepare_images() {
  local src=src/test/resources/photos shared=../shared/testdata/photos f n=0
  mkdir -p "$IMAGES/small" "$IMAGES/large"
  local originals=()
  for f in "$src"/*.png "$src"/*.jpg "$shared"/*.png "$shared"/*.jpg; do
    [[ -f $f ]] || continue
    case " ${originals[*]+"${originals[*]}"} " in *"/$(basename "$f") "*) continue ;; esac
    originals+=("$f")
  done
  ((${#originals[@]} >= 2)) || { echo "!! fewer than 2 test photos found" >&2; exit 1; }
  # small: the photos as they are, then mirrored, until there are 8 different ones
  if (($(find "$IMAGES/small" -type f | wc -l) < SMALL_COUNT)); then
    for f in "${originals[@]}"; do
      ((n < SMALL_COUNT)) || break
      cp "$f" "$IMAGES/small/$n-$(basename "$f")"; n=$((n + 1))
    done
    for f in "${originals[@]}"; do
      ((n < SMALL_COUNT)) || break
      convert "$f" -flop "$IMAGES/small/$n-flop-$(basename "${f%.*}").png"; n=$((n + 1))
    done
  fi
  n=0
  if (($(find "$IMAGES/large" -type f | wc -l) < LARGE_COUNT)); then
    for f in "${originals[@]}"; do
      ((n < LARGE_COUNT)) || break
      convert "$f" -resize "${LARGE_SIZE}!" -quality 90 "$IMAGES/large/$n-$(basename "${f%.*}").jpg"
      n=$((n + 1))
    done
  fi
}

# --- server -----------------------------------------------------------------------------------
SERVER_PID=
JAVA_PID=
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  local pgid=$SERVER_PID i
  SERVER_PID=
  if kill -0 -- "-$pgid" 2>/dev/null; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for ((i = 0; i < 60; i++)); do
      kill -0 -- "-$pgid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
  wait "$pgid" 2>/dev/null || true
}
SAMPLER_PID=
# shellcheck disable=SC2317  # invoked by trap
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -z $SAMPLER_PID ]] || kill "$SAMPLER_PID" 2>/dev/null || true
  stop_server
  rm -rf "$WORK"
  exit "$rc"
}
trap on_exit EXIT
trap 'echo "== interrupted"; exit 130' INT
trap 'echo "== terminated"; exit 143' TERM

health_code() { curl -s -o "$WORK/health.json" -w '%{http_code}' --max-time 5 "$BASE_URL/health" 2>/dev/null || true; }

start_server() { # start_server LOG ARGS...
  local log=$1 start h
  shift
  start=$(date +%s)
  # shellcheck disable=SC2016  # $@ expands in the inner bash
  env PORT="$PORT" JDK_JAVA_OPTIONS="-XX:NativeMemoryTracking=summary ${JDK_JAVA_OPTIONS:-}" \
    ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"} setsid bash -c "$RUN_CMD"' "$@"' run-server "$@" >"$log" 2>&1 </dev/null &
  SERVER_PID=$!
  while (($(date +%s) - start < HEALTH_TIMEOUT)); do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "!! server exited; last lines of $log:"; tail -n 30 "$log"; exit 1; }
    h=$(health_code)
    if [[ $h == 200 ]] && grep -q '"status" *: *"ready"' "$WORK/health.json"; then
      JAVA_PID=$(pgrep -g "$SERVER_PID" -x java | head -n 1)
      [[ -n $JAVA_PID ]] || { echo "!! no java process in group $SERVER_PID"; exit 1; }
      echo "   ready after $(($(date +%s) - start)) s (java pid $JAVA_PID)"
      return 0
    fi
    sleep 2
  done
  echo "!! not ready after ${HEALTH_TIMEOUT}s; last lines of $log:"
  tail -n 30 "$log"
  exit 1
}

# --- measurements -----------------------------------------------------------------------------
status_kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$JAVA_PID/status"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# heap used, heap committed, direct buffers (bytes) from /metrics
jvm_metrics() {
  curl -s --max-time 10 "$BASE_URL/metrics" | awk '
    /^jvm_memory_used_bytes\{/ && /area="heap"/ { used += $NF }
    /^jvm_memory_committed_bytes\{/ && /area="heap"/ { committed += $NF }
    /^jvm_buffer_memory_used_bytes\{/ && /id="direct"/ { direct += $NF }
    END { printf "%.0f %.0f %.0f\n", used, committed, direct }'
}

# NMT committed total and Java heap committed (KB)
nmt_kb() {
  jcmd "$JAVA_PID" VM.native_memory summary 2>/dev/null | awk '
    /^Total: / { if (match($0, /committed=[0-9]+KB/)) total = substr($0, RSTART + 10, RLENGTH - 12) }
    /Java Heap \(/ { if (match($0, /committed=[0-9]+KB/)) heap = substr($0, RSTART + 10, RLENGTH - 12) }
    END { printf "%d %d\n", total, heap }'
}

# snapshot PHASE: one line for the report, one JSON object for the .jsonl
snapshot() {
  local phase=$1 rss hwm used committed direct nmt nmt_heap
  rss=$(status_kb VmRSS); hwm=$(status_kb VmHWM)
  read -r used committed direct < <(jvm_metrics)
  read -r nmt nmt_heap < <(nmt_kb)
  printf '   %-6s RSS %5s MB (high-water %5s) | heap %4s/%4s MB | direct %3s MB | NMT %4s MB (heap %4s, rest %3s) | other %5s MB\n' \
    "$phase" "$((rss / 1024))" "$((hwm / 1024))" "$(mb "$used")" "$(mb "$committed")" "$(mb "$direct")" \
    "$((nmt / 1024))" "$((nmt_heap / 1024))" "$(((nmt - nmt_heap) / 1024))" "$(((rss - nmt) / 1024))"
  printf '{"label":"%s","model":"%s","batch":"%s","phase":"%s","rssKb":%s,"hwmKb":%s,"heapUsed":%s,"heapCommitted":%s,"direct":%s,"nmtKb":%s,"nmtHeapKb":%s}\n' \
    "$LABEL" "$MODEL" "$BATCH" "$phase" "$rss" "$hwm" "$used" "$committed" "$direct" "$nmt" "$nmt_heap" >>"$JSONL"
  LAST_MB=$((rss / 1024))
}

# every SAMPLE_SECONDS: RSS (KB) and heap used (bytes), into FILE
sampler() {
  local file=$1 heap
  while kill -0 "$JAVA_PID" 2>/dev/null; do
    heap=$(jvm_metrics | cut -d' ' -f1)
    echo "$(status_kb VmRSS) $heap" >>"$file"
    sleep "$SAMPLE_SECONDS"
  done
}

# burst DIR: every file of DIR at once to the model; prints "ok/total seconds"
burst() {
  local dir=$1 f start
  : >"$WORK/codes"
  start=$(date +%s.%N)
  for f in "$dir"/*; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 900 -F "image=@$f" \
      "$BASE_URL/api/v1/matte?model=$MODEL" >>"$WORK/codes" 2>/dev/null &
  done
  wait # burst runs in $(...): its children are the requests alone
  printf '%s/%s 200, %s s' "$(grep -c '^200$' "$WORK/codes" || true)" "$(wc -l <"$WORK/codes" | tr -d ' ')" \
    "$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')"
  echo "   statuses: $(sort "$WORK/codes" | uniq -c | tr -s ' ' | tr '\n' ',')" >>"$WORK/burst.log"
}

SUMMARY=()
LAST_MB=0
run_one() {
  local log="$OUT/memory-$TS-$LABEL-server-$MODEL-b$BATCH.log" small large heap_peak args=()
  args=(${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"})
  [[ $BATCH == config ]] || args+=("--inference.maxBatchSize=$BATCH" "--inference.cpuMaxBatchSize=$BATCH")
  echo "== $LABEL: model $MODEL, batch size $BATCH (server log $log)"
  start_server "$log" ${args[@]+"${args[@]}"}
  sleep 5
  snapshot ready
  local ready_mb=$LAST_MB
  echo 5 >"/proc/$JAVA_PID/clear_refs" 2>/dev/null || echo "   (cannot reset VmHWM: the peak includes start-up)"
  : >"$WORK/samples"
  sampler "$WORK/samples" &
  SAMPLER_PID=$!
  small=$(burst "$IMAGES/small")
  snapshot small
  echo "   small photos: $small"
  large=$(burst "$IMAGES/large")
  snapshot large
  echo "   12-MP photos: $large"
  kill "$SAMPLER_PID" 2>/dev/null || true
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=
  heap_peak=$(awk '$2 > m { m = $2 } END { printf "%.0f", m / 1048576 }' "$WORK/samples")
  local peak=$(($(status_kb VmHWM) / 1024))
  echo "   peak   RSS $peak MB (high-water since ready), heap used up to $heap_peak MB (sampled)"
  sleep 30
  snapshot +30s
  local after30=$LAST_MB
  sleep $((IDLE - 30))
  snapshot "+${IDLE}s"
  SUMMARY+=("$(printf '%-14s %-6s %-6s %8s %8s %8s %8s %10s  %s | %s' "$LABEL" "$MODEL" "$BATCH" \
    "$ready_mb" "$peak" "$after30" "$LAST_MB" "$heap_peak" "$small" "$large")")
  stop_server
  JAVA_PID=
}

echo "== Unimatte memory benchmark $TS ($LABEL)"
echo "   repo $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   server: ${EXTRA_ENV[*]+"${EXTRA_ENV[*]} "}PORT=$PORT $RUN_CMD ${SERVER_ARGS[*]+"${SERVER_ARGS[*]}"}"
[[ $(health_code) == 000 || -z $(health_code) ]] || { echo "!! something already answers on $BASE_URL: stop it or set PORT" >&2; exit 1; }
prepare_images

IFS=, read -r -a model_list <<<"$MODELS"
if [[ -n $BATCHES ]]; then IFS=, read -r -a batch_list <<<"$BATCHES"; else batch_list=(config); fi
for MODEL in "${model_list[@]}"; do
  for BATCH in "${batch_list[@]}"; do
    run_one
  done
done

echo "== summary (MB; RSS of the java process)"
printf '%-14s %-6s %-6s %8s %8s %8s %8s %10s  %s\n' label model batch ready peak +30s "+${IDLE}s" heap-peak "small | 12-MP"
printf '%s\n' "${SUMMARY[@]}"
echo "== report: $REPORT"
