#!/usr/bin/env bash
# Command-line tool against the server, on the same photos, in one run (issue 19).
#
# Usage: bench/cli.sh [--copies K] [--images DIR] [--rounds N] [--model NAME]
#
#   Makes a folder of K copies (default 4) of each photo of DIR (default ../shared/testdata/photos,
#   else src/test/resources/photos), then per round (default 2), alternating so that the machine's
#   drift hits both alike:
#     embedded  ./unimatte cut IN OUT       (the model in the tool's process)
#     job       the server's jobs API: every image in one POST /api/v1/jobs, until the job is done
#   and once at the end:
#     client    ./unimatte cut IN OUT --server URL   (jobs + WebSocket + downloads)
#   Images/s count from the first image to the last (model load and JVM start excluded: the tool's
#   summary line, the job's createdAt..finishedAt); the tool's whole wall time is printed beside it.
#   CPU-ms per image (the process's CPU time over the images: the tool's event=cut_done line, the
#   server's /proc/PID/stat around the job) tells the cost even when others load the machine.
#   The result cache is off everywhere (the copies would be cache hits). Both load the same single
#   model (default isnet) with config.json's defaults otherwise. Report: bench/out/cli-<timestamp>.txt.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
COPIES=4
ROUNDS=2
MODEL=isnet
IMAGES=../shared/testdata/photos
[[ -d $IMAGES ]] || IMAGES=src/test/resources/photos
while [[ $# -gt 0 ]]; do
  case "$1" in
    --copies) COPIES=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --images) IMAGES=${2:?}; shift ;;
    --model) MODEL=${2:?}; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $COPIES =~ ^[0-9]+$ && $COPIES -ge 1 ]] || { echo "--copies must be a positive number" >&2; exit 2; }
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 ]] || { echo "--rounds must be a positive number" >&2; exit 2; }

PORT=${PORT:-18081}
BASE_URL="http://127.0.0.1:$PORT"
PY=${PYTHON:-python3}
TS=$(date +%Y%m%d-%H%M%S)
OUT=bench/out/cli-$TS
REPORT=bench/out/cli-$TS.txt
mkdir -p "$OUT/in"
exec > >(trap '' INT TERM; exec tee -a "$REPORT") 2>&1

for f in "$IMAGES"/*; do
  case "${f,,}" in *.jpg|*.jpeg|*.png|*.webp|*.bmp|*.tif|*.tiff) ;; *) continue ;; esac
  for ((i = 1; i <= COPIES; i++)); do cp "$f" "$OUT/in/${i}_$(basename "$f")"; done
done
N=$(find "$OUT/in" -type f | wc -l)
COMMON=(--cache.enabled=false)

./unimatte help >/dev/null # builds if needed
echo "== CLI vs server $TS: $N images ($COPIES copies of $IMAGES), model $MODEL, $ROUNDS round(s)"
echo "   repo $(git rev-parse --short HEAD 2>/dev/null || echo '?') on $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"

SERVER_PID=
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap stop_server EXIT

# "<img/s> <wall s> <cpu ms per image>" of one embedded run, from the tool's summary and
# event=cut_done lines (--verbose)
embedded() {
  local dir=$OUT/embedded-$1 t0 t1 line done
  t0=$(date +%s.%N)
  ./unimatte cut "$OUT/in" "$dir" --model "$MODEL" --verbose "${COMMON[@]}" 2>"$dir.log" || true
  t1=$(date +%s.%N)
  line=$(grep ' done, ' "$dir.log" | tail -1)
  done=$(grep -o 'event=cut_done images=[0-9]* wallMs=[0-9]* cpuMs=[0-9]*' "$dir.log" | tail -1)
  echo "$(sed -E 's/.*\(([0-9.]+) img\/s.*/\1/' <<<"$line") $(echo "$t1 - $t0" | bc)" \
    "$(sed -E 's/.*images=([0-9]+).*cpuMs=([0-9]+)/\2 \/ \1/' <<<"$done" | bc)"
}

# CPU time of the server process so far, in ms (utime + stime of /proc/PID/stat)
server_cpu_ms() {
  awk -v tck="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / tck) }' "/proc/$SERVER_PID/stat"
}

# the server as run.sh starts it (the wrapper sets the same for the tool)
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-1}"
start_server() {
  java ${JAVA_OPTS:--Xmx8g -XX:+UseG1GC} -jar target/unimatte.jar --server.port="$PORT" --server.host=127.0.0.1 \
    --models.default="$MODEL" "--models.serve=[\"$MODEL\"]" --jobs.outputsDir="$OUT/server-outputs" \
    "${COMMON[@]}" >"$OUT/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do
    curl -sf "$BASE_URL/health" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$OUT/server.log"; exit 1; }
    sleep 1
  done
  echo "!! server not ready" >&2
  exit 1
}

# img/s of one job holding every image: createdAt .. finishedAt, as the server recorded them
job() {
  "$PY" - "$BASE_URL" "$OUT/in" <<'EOF'
import json, os, sys, time, urllib.request, uuid
base, folder = sys.argv[1], sys.argv[2]
boundary = uuid.uuid4().hex
body = b''
names = sorted(os.listdir(folder))
for n in names:
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="{n}"\r\n'
             'Content-Type: application/octet-stream\r\n\r\n').encode() + open(os.path.join(folder, n), 'rb').read() + b'\r\n'
body += f'--{boundary}--\r\n'.encode()
req = urllib.request.Request(base + '/api/v1/jobs', data=body,
                             headers={'Content-Type': 'multipart/form-data; boundary=' + boundary})
job = json.load(urllib.request.urlopen(req))
while True:
    j = json.load(urllib.request.urlopen(base + '/api/v1/jobs/' + job['id']))
    if j.get('finishedAt'):
        break
    time.sleep(0.2)
secs = (j['finishedAt'] - j['createdAt']) / 1000
print(f"{len(names) / secs:.3f} {secs:.1f} done={j['done']} failed={j['failed']}")
urllib.request.urlopen(urllib.request.Request(base + '/api/v1/jobs/' + job['id'], method='DELETE'))
EOF
}

for ((r = 1; r <= ROUNDS; r++)); do
  read -r e_ips e_wall e_cpu <<<"$(embedded "$r")"
  printf 'round %d embedded:   %s img/s, %s CPU-ms/img (whole run with JVM start and model load: %.0f s; load %s)\n' \
    "$r" "$e_ips" "$e_cpu" "$e_wall" "$(cut -d' ' -f1 /proc/loadavg)"
  start_server
  c0=$(server_cpu_ms)
  read -r j_ips j_secs j_rest <<<"$(job)"
  j_cpu=$(( ($(server_cpu_ms) - c0) / N ))
  echo "round $r server job: $j_ips img/s, $j_cpu CPU-ms/img (${j_secs} s, $j_rest; load $(cut -d' ' -f1 /proc/loadavg))"
  if ((r == ROUNDS)); then
    rm -rf "$OUT/client"
    ./unimatte cut "$OUT/in" "$OUT/client" --server "$BASE_URL" 2>"$OUT/client.log" || true
    echo "client mode on that server: $(grep ' done, ' "$OUT/client.log" | tail -1)"
  fi
  stop_server
done
echo "report: $REPORT"
