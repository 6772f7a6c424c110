#!/usr/bin/env bash
# Installs the tuned-runtime peer (onnxruntime-node + sharp) into bench/peer/tuned/node_modules.
# Usage: bench/peer/tuned/setup.sh [--force]   (idempotent)
set -euo pipefail
force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ $force -eq 0 && -d node_modules/onnxruntime-node && -d node_modules/sharp ]]; then
  echo "tuned peer: already installed ($(pwd)/node_modules)" >&2
  exit 0
fi
command -v npm >/dev/null || { echo "tuned peer: npm not found (Node.js 18+ needed)" >&2; exit 1; }
# --ignore-scripts: onnxruntime-node's install script fetches GPU binaries from outside the npm
# registry (the CPU build ships in the package); sharp's prebuilt @img/sharp-* packages need none.
npm install --no-audit --no-fund --ignore-scripts
node -e "require('sharp'); require('onnxruntime-node')" \
  || { echo "tuned peer: install incomplete (sharp/onnxruntime-node failed to load)" >&2; exit 1; }
echo "tuned peer: installed ($(pwd)/node_modules)" >&2
