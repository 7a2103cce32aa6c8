#!/usr/bin/env bash
# `make fuzz`: builds the fuzz targets in fuzz/ and runs each in turn, printing executions and
# crashes per target.
#   scripts/fuzz.sh [SECONDS]   each target for SECONDS (default 60)
#   scripts/fuzz.sh --smoke     each target for a few seconds, for `make test` (6 targets: ~40 s)
#   FUZZ_TARGETS="decode_json"  only these targets
#
# Stable Rust is enough: libFuzzer comes from the libfuzzer-sys crate (built with the C++
# compiler) and the coverage instrumentation from stable `-C` flags, the ones `cargo fuzz build
# --sanitizer none` passes; no nightly, no cargo-fuzz. Without a sanitizer, memory errors in
# C code would go unseen, but the targets run safe Rust only: panics, aborts, stack overflows,
# hangs (-timeout) and memory blow-ups (-rss_limit_mb) are what they catch.
#
# The targets: the DynamicValue decoders (decode_msgpack, decode_json), every parser of a
# backend's answers (webhdfs_answers, flink_answers, spark_answers) and the CQL quoting rules
# (cql_quoting). Each asserts properties (round trips, bounded messages, errors naming their
# call), so a crash is a broken property as well as a panic.
#
# Builds go to $FUZZ_TARGET_DIR, by default ${CARGO_TARGET_DIR:-target}/fuzz (`make test` points
# it at the tools cache, outside the repo, so that the cold build, about a minute on 2 cores
# (the targets build the tfplugin framework and codec and crates/backend-wire only, never the
# provider), is reused by later runs and fresh clones). New inputs the fuzzer finds go to the
# corpus there, kept so that runs build on each other (it only grows: delete it to start
# over); the committed seeds in fuzz/corpus/<target>/ (real requests from Terraform, real
# answers of the stack's servers, hostile names) are only read.
# Runs sharing a build dir take turns (a lock there).
# A crash is saved in fuzz/artifacts/<target>/; replay it with
#   <build dir>/<host triple>/release/<target> fuzz/artifacts/<target>/crash-...
# Exits non-zero when any target crashed or ran no inputs, or the build failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=60
case "${1:-}" in
    --smoke) seconds=5 ;;
    "") ;;
    *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS | --smoke]" >&2; exit 2 ;;
    *) seconds=$1 ;;
esac

fail() { echo "fuzz.sh: FAILED: $*" >&2; exit 1; }

root=$PWD
build_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-target}/fuzz}
target_dir=$(mkdir -p "$build_dir" && cd "$build_dir" && pwd)
host=$(rustc -vV | sed -n 's/^host: //p')
targets=${FUZZ_TARGETS:-$(cd fuzz/fuzz_targets && ls -- *.rs | sed 's/\.rs$//')}
[ -n "$targets" ] || fail "no fuzz targets in fuzz/fuzz_targets"

# One run at a time per build dir: the corpus and logs there are shared.
# shellcheck source=lib/lock.sh
. scripts/lib/lock.sh
take_lock "$target_dir/.fuzz.lock" "${FUZZ_LOCK_WAIT_SECONDS:-3600}" "fuzz run using $target_dir" ||
    fail "another fuzz run still holds $target_dir/.fuzz.lock"

# --target keeps these flags off build scripts and proc macros, which must not be instrumented.
coverage="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
coverage+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table"
coverage+=" -Cllvm-args=-sanitizer-coverage-trace-compares"
start=$SECONDS
echo "fuzz.sh: building the fuzz targets in $target_dir (cold: the tfplugin framework and codec and backend-wire, about a minute)"
RUSTFLAGS="${RUSTFLAGS:-} $coverage" cargo build --locked --manifest-path fuzz/Cargo.toml --release \
    --target "$host" --target-dir "$target_dir" --bins ||
    fail "building the fuzz targets (fuzz/Cargo.toml) failed; see the cargo output above"
echo "fuzz targets built in $((SECONDS - start)) s"
for t in $targets; do
    [ -x "$target_dir/$host/release/$t" ] || fail "no fuzz target binary $t (known: fuzz/fuzz_targets/*.rs)"
done

summary=()
failed=0
problems=()
for t in $targets; do
    bin="$target_dir/$host/release/$t"
    work="$target_dir/corpus/$t"
    artifacts="$root/fuzz/artifacts/$t"
    log="$target_dir/logs/$t.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")" "fuzz/corpus/$t"
    before=$(find "$artifacts" -type f | sort)
    echo "== $t: ${seconds}s (log: $log)"
    rc=0
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$work" "fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
    new=$(comm -13 <(printf '%s\n' "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')
    crashes=$(printf '%s' "$new" | grep -c . || true)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    corpus=$(find "$work" -type f | wc -l)
    if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
        failed=1
        crashes=$((crashes > 0 ? crashes : 1))
        echo "   CRASH (exit $rc): ${new:-no input saved, see the log}"
        grep -m 5 -E "panicked at|^==[0-9]+== ERROR|SUMMARY" "$log" | sed 's/^/   /' || true
        problems+=("$t crashed (exit $rc); input: ${new:-none saved}; log: $log; replay: $bin <input>")
    elif [ "${execs:-0}" -eq 0 ]; then
        # A run that executed nothing tested nothing: never let it pass silently.
        failed=1
        echo "   NO EXECUTIONS recorded, see the log"
        problems+=("$t ran no inputs; log: $log")
    fi
    summary+=("$(printf '%-16s %8s %12s %9s %8s %8s' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "$corpus" "$crashes")")
done

printf '\n%-16s %8s %12s %9s %8s %8s\n' target seconds executions exec/s corpus crashes
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo >&2
    for p in "${problems[@]}"; do echo "fuzz.sh: FAILED: $p" >&2; done
fi
exit "$failed"
