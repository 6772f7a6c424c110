#!/usr/bin/env bash
# Checks the pom's choice of TensorFlow native library per platform: resolves the dependency tree
# as Maven would on each machine (os.name/os.arch simulated by .ci/MavenAs.java) and checks the
# classifier picked, and that a machine TF Java publishes nothing for stops with the clear message.
# Only POMs are read (dependency:tree collects, it does not download the 100+ MB native jars), so
# the simulated runs are offline; the first run, on this machine as it is, fetches any plugin missing.
# MVN_OFFLINE=1 makes that first run offline too.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
offline=""
if [ "${MVN_OFFLINE:-0}" = 1 ]; then offline="-o"; fi
failures=0
tree_goals="validate dependency:tree -Dincludes=org.tensorflow:tensorflow-core-native -DoutputType=text"

# This machine as it is: also brings the enforcer and dependency plugins into the local repository.
# shellcheck disable=SC2086 # tree_goals is a list of words
mvn -B -q $offline $tree_goals "-DoutputFile=$tmp/here.txt"
echo "this machine: $(grep -o 'tensorflow-core-native:jar:[^:]*:' "$tmp/here.txt" | tail -n 1)"

maven_home=$(mvn -B -v | sed -n 's/^Maven home: //p')
cp="$maven_home/boot/*:$maven_home/lib/*"
javac -cp "$cp" -d "$tmp/classes" .ci/MavenAs.java

# as_machine OS_NAME OS_ARCH LOG MAVEN_ARGS...: Maven as on that machine, output in LOG
as_machine() {
  name=$1 arch=$2 log=$3
  shift 3
  java -cp "$tmp/classes:$cp" MavenAs "$name" "$arch" -B -o "$@" >"$log" 2>&1
}

# expect OS_NAME OS_ARCH CLASSIFIER [MAVEN_ARGS...]
expect() {
  name=$1 arch=$2 want=$3
  shift 3
  out="$tmp/tree-$want.txt"
  # shellcheck disable=SC2086
  if as_machine "$name" "$arch" "$tmp/log" $tree_goals "-DoutputFile=$out" "$@" \
      && grep -q "tensorflow-core-native:jar:$want:" "$out"; then
    echo "ok   $name / $arch${*:+ $*} -> $want"
  else
    echo "FAIL $name / $arch${*:+ $*}: wanted classifier $want" >&2
    tail -n 20 "$tmp/log" >&2
    failures=$((failures + 1))
  fi
}

# refused OS_NAME OS_ARCH [MAVEN_ARGS...]
refused() {
  name=$1 arch=$2
  shift 2
  message="publishes no native library for this machine (os.name=$name, os.arch=$arch"
  # shellcheck disable=SC2086
  if as_machine "$name" "$arch" "$tmp/log" $tree_goals "-DoutputFile=$tmp/refused.txt" "$@"; then
    echo "FAIL $name / $arch${*:+ $*}: the build went on" >&2
    failures=$((failures + 1))
  elif grep -qF "$message" "$tmp/log"; then
    echo "ok   $name / $arch${*:+ $*} -> refused: $(grep -o 'TensorFlow Java [^(]*' "$tmp/log" | head -n 1)"
  else
    echo "FAIL $name / $arch${*:+ $*}: refused without the message" >&2
    tail -n 20 "$tmp/log" >&2
    failures=$((failures + 1))
  fi
}

expect "Linux" amd64 linux-x86_64
expect "Linux" amd64 linux-x86_64-gpu -Pgpu
expect "Linux" aarch64 linux-arm64
expect "Mac OS X" aarch64 macosx-arm64
expect "Windows 11" amd64 windows-x86_64
refused "Mac OS X" x86_64
refused "Windows 11" aarch64
refused "FreeBSD" amd64
refused "Mac OS X" aarch64 -Pgpu

if [ "$failures" -gt 0 ]; then
  echo "platforms: $failures check(s) failed" >&2
  exit 1
fi
echo "platforms: all checks passed"
