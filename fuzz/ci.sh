#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, from the committed seeds, with the memory limits
# that make an unbounded allocation a crash. Used by .ci/run; also handy locally.
#
# usage: fuzz/ci.sh [SECONDS_PER_TARGET]       (default 20)
# env:   KT_FUZZ_SKIP="target ..."  targets not run (each must say why in fuzz/README.md)
#        KT_FUZZ_TARGETS="target ..."  run only these
#        KT_FUZZ_JOBS=N                 targets fuzzed at once (default 2: one per core)
# Needs cargo-fuzz (installed here when missing: `cargo install cargo-fuzz --locked`) and a
# stable toolchain (RUSTC_BOOTSTRAP=1 unlocks the sanitizer flags cargo-fuzz passes).
# Builds go to $CARGO_TARGET_DIR/fuzz (default target/fuzz), outside the source tree.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-20}"
export RUSTC_BOOTSTRAP=1
cd "$root"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
fuzz_dir="$target_dir/fuzz"
all_start=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
  start=$(date +%s)
  cargo install -q cargo-fuzz --locked --version 0.13.2
  echo "fuzz: installed cargo-fuzz in $(( $(date +%s) - start )) s"
fi

# The fuzz crate's own tests (the Python-literal decoder against CPython), sharing the
# workspace's target directory and so its compiled dependencies.
CARGO_TARGET_DIR="$target_dir" cargo test -q --manifest-path fuzz/Cargo.toml --lib

start=$(date +%s)
cargo fuzz build -O --target-dir "$fuzz_dir"
echo "fuzz: built the targets in $(( $(date +%s) - start )) s"

targets="${KT_FUZZ_TARGETS:-$(cargo fuzz list)}"
jobs="${KT_FUZZ_JOBS:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One target from a copy of its seeds; writes "ok ..." or "FAILED" to $work/<target>.result.
run_target() {
  local t="$1" corpus="$work/corpus-$1" log="$work/$1.log"
  mkdir -p "$corpus" "$work/artifacts-$t"
  if [ -d "fuzz/seeds/$t" ]; then cp -r "fuzz/seeds/$t/." "$corpus/"; fi
  if cargo fuzz run -O --target-dir "$fuzz_dir" "$t" "$corpus" -- -max_total_time="$secs" \
      -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$work/artifacts-$t/" >"$log" 2>&1; then
    local execs cov
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*' || echo '?')
    echo "ok: $execs executions in ${secs}s, $cov" >"$work/$t.result"
  else
    echo "FAILED" >"$work/$t.result"
  fi
}

# $jobs targets at a time (each libFuzzer process is single-threaded).
run=()
for t in $targets; do
  if [[ " ${KT_FUZZ_SKIP:-} " == *" $t "* ]]; then
    echo "fuzz: $t SKIPPED (KT_FUZZ_SKIP)"
    continue
  fi
  run+=("$t")
  run_target "$t" &
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait

failed=()
for t in "${run[@]}"; do
  result="$(cat "$work/$t.result" 2>/dev/null || echo FAILED)"
  if [[ "$result" == ok* ]]; then
    echo "fuzz: $t $result"
  else
    echo "fuzz: $t FAILED:"
    grep -m 6 -A 4 -E "panicked at|ERROR: |SUMMARY: " "$work/$t.log" || tail -40 "$work/$t.log"
    for a in "$work/artifacts-$t"/*; do
      [ -f "$a" ] && echo "fuzz: $t crash input (base64): $(base64 -w0 "$a")"
    done
    failed+=("$t")
  fi
done
echo "fuzz: done in $(( $(date +%s) - all_start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failing targets: ${failed[*]}"
  exit 1
fi
