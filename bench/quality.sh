#!/usr/bin/env bash
# Matte quality on the matting-dev set (8 alphamatting.com images with ground truth).
#
# Usage: bench/quality.sh [--url http://127.0.0.1:8080] [--query 'model=isnet'] [--label NAME]
#        bench/quality.sh [--url U] --set LABEL=QUERY [--set LABEL=QUERY ...] [--ref LABEL]
#        bench/quality.sh --peer [--reuse] [--label NAME]
#
#   Server mode (default): posts every ../shared/testdata/matting-dev/image/GTxx.png to
#   a running Unimatte server (loopback only) as POST /api/v1/matte?output=alpha&<query>,
#   one at a time, saves the mattes to bench/out/quality-<label>/GTxx.png, and scores
#   them with ../shared/tools/matte_eval.py against matting-dev/alpha. A query with its
#   own output= (e.g. output=rgba) is sent as it is: the evaluator scores the alpha channel.
#   --set runs several option sets one after the other (e.g. --set plain='refine=false&colour=false'
#   --set default=), then prints a summary: per image SAD and Grad of every set, the means, and
#   each set's worst per-image ratio to the reference's (--ref, default "peer", read from
#   bench/out/quality-<ref>.csv when it exists; run --peer once to make it).
#   --peer: the mattes come from the peer instead (bench/peer/peer.mjs --alpha; label
#   "peer"); --reuse keeps existing peer mattes when all are there.
#   The table is also written to bench/out/quality-<label>.txt (per image: .csv).
#   The label defaults to the query made file-name safe, or "default".
set -euo pipefail

usage() {
  echo "usage: bench/quality.sh [--url http://127.0.0.1:8080] [--query 'model=isnet'] [--label NAME]" >&2
  echo "       bench/quality.sh [--url U] --set LABEL=QUERY [--set LABEL=QUERY ...] [--ref LABEL]" >&2
  echo "       bench/quality.sh --peer [--reuse] [--label NAME]" >&2
}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

URL=http://127.0.0.1:8080
QUERY=
LABEL=
PEER=0
REUSE=0
SETS=()
REF=peer
while [[ $# -gt 0 ]]; do
  case "$1" in
    --url) URL=${2:?--url needs a value}; shift ;;
    --set) [[ ${2:-} == *=* ]] || { echo "--set needs LABEL=QUERY" >&2; exit 2; }; SETS+=("$2"); shift ;;
    --ref) REF=${2:?--ref needs a value}; shift ;;
    --query) QUERY=${2?--query needs a value}; shift ;;
    --label) LABEL=${2:?--label needs a value}; shift ;;
    --peer) PEER=1 ;;
    --reuse) REUSE=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage; exit 2 ;;
  esac
  shift
done
if ((${#SETS[@]})); then
  ((PEER == 0)) && [[ -z $QUERY && -z $LABEL ]] || { echo "--set cannot be combined with --query, --label or --peer" >&2; exit 2; }
  labels=()
  for s in "${SETS[@]}"; do
    label=${s%%=*}
    [[ $label =~ ^[A-Za-z0-9._-]+$ ]] || { echo "--set $s: label must be letters, digits, . _ -" >&2; exit 2; }
    "${BASH_SOURCE[0]}" --url "$URL" --query "${s#*=}" --label "$label"
    labels+=("$label")
  done
  # matte_eval needs numpy; the summary only reads its CSVs (standard library)
  python3 - "$REF" "${labels[@]}" <<'PY'
import csv, os, sys
ref, labels = sys.argv[1], sys.argv[2:]
def load(label):
    path = 'bench/out/quality-%s.csv' % label
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {r['file']: (float(r['SAD']), float(r['Grad'])) for r in csv.DictReader(f)}
sets = [(l, load(l)) for l in labels]
refd = load(ref) if ref not in labels else dict(sets)[ref]
files = sorted({f for _, d in sets for f in d})
cols = ([ref] if refd else []) + labels
print('== summary: SAD / Grad per image' + (' (worst: highest ratio to %s)' % ref if refd else ''))
print('%-10s' % 'file' + ''.join('%22s' % c for c in cols))
for f in files:
    row = ([refd.get(f)] if refd else []) + [d.get(f) for _, d in sets]
    print('%-10s' % f + ''.join('%22s' % ('%.2f / %.2f' % v if v else '-') for v in row))
def mean(d, k):
    return sum(v[k] for v in d.values()) / len(d)
allsets = ([(ref, refd)] if refd else []) + sets
print('%-10s' % 'MEAN' + ''.join('%22s' % ('%.2f / %.2f' % (mean(d, 0), mean(d, 1))) for _, d in allsets))
if refd:
    def worst(d, k):
        return max(d[f][k] / refd[f][k] for f in d if f in refd and refd[f][k] > 0)
    print('%-10s' % 'worst' + ''.join('%22s' % ('%.2fx / %.2fx' % (worst(d, 0), worst(d, 1))) for _, d in allsets))
PY
  exit 0
fi
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
  # the matte unless the query asks for another output (matte_eval scores an RGBA file's alpha)
  if [[ "&$QUERY" == *"&output="* ]]; then q=$QUERY; else q=output=alpha${QUERY:+&$QUERY}; fi
  echo "== $URL/api/v1/matte?$q: $n_gt images -> $OUT"
  python3 bench/loadgen.py --url "$URL" --images "$DATA/image" --query "$q" --concurrency 1 \
    --rounds 1 --warmup 0 --timeout 300 --deadline 1200 --out-dir "$OUT" | grep -v '^{' || {
    echo "!! some requests failed (see above); scoring what came back" >&2
  }
fi

echo "== matte_eval ($LABEL) vs $DATA/alpha"
"$EVAL_PY" "$EVAL" "$OUT" "$DATA/alpha" --csv "bench/out/quality-$LABEL.csv" \
  | tee "bench/out/quality-$LABEL.txt"
