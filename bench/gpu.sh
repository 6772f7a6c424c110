#!/usr/bin/env bash
# GPU benchmark, one prepared script: builds the `gpu` profile, imports ISNet if missing, and
# prints ISNet's throughput at batch sizes 1, 2, 4, 8, 16 (fp32, then fp16 mixed precision).
# Needs an NVIDIA GPU with CUDA 12 + cuDNN 9 libraries on the library path, Maven and npm
# (or an already imported models/isnet). Budget: under 8 minutes on one H100.
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_CPP_MIN_LOG_LEVEL=2
RUNS=${RUNS:-6}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

mvn -q -B -Pgpu -DskipTests package
mvn -q -B -Pgpu dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/cp-gpu.txt
CP="target/classes:target/test-classes:$(cat target/cp-gpu.txt)"
java -cp "$CP" io.unimatte.modelimport.ImportCli --models-dir models

for precision in fp32 fp16; do
  for b in 1 2 4 8 16; do
    # one JVM per setting: a fresh session, first run reported apart from the median
    timeout 120 java -Xmx16g -Dunimatte.device=gpu -cp "$CP" io.unimatte.inference.bench.InferenceBench \
      tf "$RUNS" "$b" 8 2 off "$precision" 2>&1 | grep RESULT \
      | sed "s/^/precision=$precision /" || echo "precision=$precision batch=$b failed"
  done
done
echo "images/s = 1000 / median per-image ms"
