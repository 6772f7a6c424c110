#!/usr/bin/env bash
# Matte quality on the matting-dev set (8 alphamatting.com images with ground truth).
#
# Usage: bench/quality.sh [--url http://127.0.0.1:8080] [--query 'model=isnet'] [--label NAME]
#        bench/quality.sh --peer [--reuse] [--label NAME]
#
#   Server mode (default): posts every ../shared/testdata/matting-dev/image/GTxx.png to
#   a running Unimatte server (loopback only) as POST /api/v1/matte?output=alpha&<query>,
#   one at a time, saves the mattes to bench/out/quality-<label>/GTxx.png, and scores
#   them with ../shared/tools/matte_eval.py against matting-dev/alpha.
#   --peer: the mattes come from the peer instead (bench/peer/peer.mjs --alpha; label
#   "peer"); --reuse keeps existing peer mattes when all are there.
#   The table is also written to bench/out/quality-<label>.txt (per image: .csv).
#   The label defaults to the query made file-name safe, or "default".
set -euo pipefail

usage() {
  echo "usage: bench/quality.sh [--url http://127.0.0.1:8080] [--query 'model=isnet'] [--label NAME]" >&2
  echo "       bench/quality.sh --peer [--reuse] [--label NAME]" >&2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

URL=http://127.0.0.1:8080
QUERY=
LABEL=
PEER=0
REUSE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --url) URL=${2:?--url needs a value}; shift ;;
    --query) QUERY=${2?--query needs a value}; shift ;;
    --label) LABEL=${2:?--label needs a value}; shift ;;
    --peer) PEER=1 ;;
    --reuse) REUSE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage; exit 2 ;;
  esac
  shift
done
QUERY=${QUERY#[?&]}
if [[ -z $LABEL ]]; then
  if ((PEER)); then LABEL=peer
  elif [[ -n $QUERY ]]; then LABEL=$(printf '%s' "$QUERY" | tr -c 'A-Za-z0-9._-' '_')
  else LABEL=default
  fi
fi
[[ $LABEL =~ ^[A-Za-z0-9._-]+$ ]] || { echo "--label: letters, digits, . _ - only" >&2; exit 2; }

DATA=../shared/testdata/matting-dev
EVAL=../shared/tools/matte_eval.py
[[ -d $DATA/image && -d $DATA/alpha ]] || { echo "no $DATA (relative to $ROOT)" >&2; exit 1; }
[[ -f $EVAL ]] || { echo "no $EVAL" >&2; exit 1; }

# matte_eval needs numpy and Pillow: take the first python3 that has both.
EVAL_PY=
for py in "${PYTHON:-python3}" python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null && "$py" -c 'import numpy, PIL' 2>/dev/null; then
    EVAL_PY=$py
    break
  fi
done
[[ -n $EVAL_PY ]] || {
  echo "matte_eval.py needs python3 with numpy and Pillow: apt-get install -y python3-numpy python3-pil" >&2
  exit 1
}

OUT=bench/out/quality-$LABEL
mkdir -p "$OUT"
n_gt=$(find "$DATA/image" -maxdepth 1 -name '*.png' | wc -l)

if ((PEER)); then
  have=$(find "$OUT" -maxdepth 1 -name '*.png' | wc -l)
  if ((REUSE && have >= n_gt)); then
    echo "== reusing $have peer mattes in $OUT"
  else
    command -v node >/dev/null || { echo "node not found (the peer runs on Node.js)" >&2; exit 1; }
    find "$OUT" -maxdepth 1 -type f -delete
    bench/peer/setup.sh
    echo "== peer: $n_gt images -> $OUT (alpha mattes)"
    node bench/peer/peer.mjs "$DATA/image" "$OUT" --alpha
  fi
else
  # loadgen refuses non-loopback URLs before sending anything
  h=$(python3 bench/loadgen.py --url "$URL" --health 2>&1) || {
    echo "!! $URL/health: ${h:-no answer}" >&2
    echo "   start the server first (./run.sh) or pass --url (loopback only)" >&2
    exit 1
  }
  find "$OUT" -maxdepth 1 -type f -delete
  q=output=alpha${QUERY:+&$QUERY}
  echo "== $URL/api/v1/matte?$q: $n_gt images -> $OUT"
  python3 bench/loadgen.py --url "$URL" --images "$DATA/image" --query "$q" --concurrency 1 \
    --rounds 1 --warmup 0 --timeout 300 --deadline 1200 --out-dir "$OUT" | grep -v '^{' || {
    echo "!! some requests failed (see above); scoring what came back" >&2
  }
fi

echo "== matte_eval ($LABEL) vs $DATA/alpha"
"$EVAL_PY" "$EVAL" "$OUT" "$DATA/alpha" --csv "bench/out/quality-$LABEL.csv" \
  | tee "bench/out/quality-$LABEL.txt"
