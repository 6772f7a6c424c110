#!/usr/bin/env bash
# Installs the benchmark peer (@imgly/background-removal-node 1.4.5) into bench/peer/node_modules.
# Usage: bench/peer/setup.sh [--force]   (idempotent: does nothing when already installed)
set -euo pipefail
usage() { echo "usage: $0 [--force]" >&2; }
force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  -h|--help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac
cd "$(dirname "${BASH_SOURCE[0]}")"
marker=node_modules/@imgly/background-removal-node/dist/resources.json
if [[ $force -eq 0 && -f $marker && -d node_modules/onnxruntime-node && -d node_modules/sharp ]]; then
  echo "peer: already installed ($(pwd)/node_modules)" >&2
  exit 0
fi
command -v npm >/dev/null || { echo "peer: npm not found (Node.js 18+ needed)" >&2; exit 1; }
# --ignore-scripts: onnxruntime-node 1.17's postinstall downloads CUDA binaries from
# outside the npm registry (fails offline; the CPU binaries are already in the package),
# and sharp 0.33's install script only checks for its prebuilt @img/sharp-* packages.
# The lock file is git-ignored and never committed.
npm install --no-audit --no-fund --ignore-scripts
node -e "require('sharp'); require('onnxruntime-node'); require('@imgly/background-removal-node')" \
  || { echo "peer: install incomplete (sharp/onnxruntime-node failed to load)" >&2; exit 1; }
echo "peer: installed ($(pwd)/node_modules)" >&2
