#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer) and runs each for SECONDS (default 60) on its seed
# corpus: the malformed inputs of tests/corpus/ and the shipped configs, models
# and recipes. A crash is written to WORK/crash-* and fails the run; add it to
# tests/corpus/ with its expected line once fixed.
#   tests/fuzz/run.sh [SECONDS] [WORK]      a long run: tests/fuzz/run.sh 3600
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SECONDS_PER_TARGET="${1:-60}"
WORK="${2:-$(mktemp -d /tmp/bitcycle-fuzz.XXXXXX)}"
mkdir -p "$WORK"
CXX="${CXX_FUZZ:-clang++}"
FLAGS=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -I"$ROOT" -DBITCYCLE_SOURCE_DIR="\"$ROOT\"")
SOURCES=("$ROOT"/sim/config/{config_tree,error,quantity,params,format}.cpp "$ROOT"/sim/trace/trace.cpp)
LIBS=(-lyaml-cpp)
for target in fuzz_trace fuzz_config; do
  if [ ! -x "$WORK/$target" ] ||
    [ -n "$(find "$ROOT/sim/config" "$ROOT/sim/trace" "$ROOT/tests/fuzz" -newer "$WORK/$target")" ]; then
    echo "fuzz: building $target" >&2
    "$CXX" "${FLAGS[@]}" "$ROOT/tests/fuzz/$target.cpp" "${SOURCES[@]}" "${LIBS[@]}" -o "$WORK/$target"
  fi
done
seeds() {  # a fresh copy: libFuzzer adds what it finds to the corpus directory
  local dir="$WORK/seeds-$1"
  rm -rf "$dir" && mkdir -p "$dir"
  shift
  for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | tr / _)"; done
  echo "$dir"
}
status=0
trace_seeds=$(seeds trace "$ROOT"/tests/corpus/trace_*.json)
config_seeds=$(seeds config "$ROOT"/tests/corpus/*.yaml "$ROOT"/configs/hw/*.yaml \
  "$ROOT"/workloads/models/*.yaml "$ROOT"/workloads/quant/*.yaml)
# Leak checks fork at exit, which hangs under a full rss limit: memory is bounded
# by -rss_limit_mb instead.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
for t in trace config; do
  seeds_dir=$trace_seeds
  [ $t = config ] && seeds_dir=$config_seeds
  (cd "$WORK" && ./fuzz_$t -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -rss_limit_mb=2048 \
    -artifact_prefix="$WORK/$t-" "$seeds_dir") || status=1
done
[ $status -eq 0 ] && echo "fuzz: no crash in ${SECONDS_PER_TARGET}s per target (work dir $WORK)" >&2
exit $status
