#!/usr/bin/env bash
# `make test`: unit tests, the registry docs check and a fuzz smoke, then acceptance tests against
# a fresh local stack of our own, started here and stopped on exit (even on failure), so runs
# never share backends. Prints the wall time of each stage at the end (and on failure).
#   --acceptance-only   skip the unit tests, the docs check and the fuzz smoke
#   --soak              the load test (tests/soak) instead of the acceptance tests
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

only_acceptance=false
soak=false
[ "${1:-}" = "--acceptance-only" ] && only_acceptance=true
[ "${1:-}" = "--soak" ] && { only_acceptance=true; soak=true; }

stages=()
stage_start=$SECONDS
run_start=$SECONDS
# stage NAME: closes the stage that ran since the last call, under NAME.
stage() {
    stages+=("$(printf '%-28s %5d s' "$1" $((SECONDS - stage_start)))")
    stage_start=$SECONDS
}
# report RC: the table, headed by how the run ended.
report() {
    local rc=$1
    [ "${#stages[@]}" -gt 0 ] || return 0
    echo
    echo "test.sh: wall time by stage ($([ "$rc" -eq 0 ] && echo passed || echo "FAILED, exit $rc"))"
    printf '  %s\n' "${stages[@]}"
    printf '  %-28s %5d s\n' total $((SECONDS - run_start))
}

stack_dir=""
cleanup() {
    local rc=$?
    if [ -n "$stack_dir" ]; then
        bash scripts/stack-down.sh "$stack_dir" >/dev/null 2>&1 || echo "test.sh: WARNING: stack-down.sh $stack_dir reported a survivor" >&2
        rm -rf "$stack_dir"
    fi
    # The failed stage's time is what ran since the last stage closed.
    [ "$rc" -eq 0 ] || stage "(failed here)"
    report "$rc"
    exit "$rc"
}
trap cleanup EXIT

# Everything the later stages run (moto, the Terraform CLI, the broker) first: the docs check
# needs Terraform, and a fresh machine's tools cache is empty.
bash scripts/tools.sh
stage "tools (install or check)"

# Build first: a fresh machine spends its time here, not with a stack idling.
cargo build --workspace --all-targets
stage "cargo build --workspace"

if ! $only_acceptance; then
    # Every crate's unit tests, and the doc examples (the framework's one-resource provider,
    # backend-wire's overview).
    cargo test --workspace --lib --bins
    cargo test -p tfplugin -p backend-wire --doc
    stage "unit tests"
    # The committed registry docs must match the schema, and every example must be valid.
    python3 scripts/docs.py check --provider-dir "${CARGO_TARGET_DIR:-target}/debug"
    stage "registry docs check"
    # Fuzz smoke (issue 5): each fuzz target (the decoders, the backends' answer parsers, the
    # CQL quoting) for a few seconds (`make fuzz` runs longer).
    # Its build lives in the tools cache, outside the repo, so later runs and fresh clones on
    # this machine reuse it.
    fuzz_dir="${FUZZ_TARGET_DIR:-${DATAMESH_TOOLS_DIR:-$HOME/.cache/terraform-provider-datamesh}/fuzz-target}"
    if ! FUZZ_TARGET_DIR="$fuzz_dir" bash scripts/fuzz.sh --smoke; then
        echo "test.sh: FAILED: fuzz smoke (scripts/fuzz.sh --smoke); the fuzz.sh: FAILED lines above say which part" >&2
        exit 1
    fi
    stage "fuzz smoke (build + run)"
fi

# The soak runs 20 Flink pipelines at once: a TaskManager with room for them.
if $soak; then export DATAMESH_FLINK_SLOTS="${DATAMESH_FLINK_SLOTS:-24}" DATAMESH_FLINK_TM_MEMORY="${DATAMESH_FLINK_TM_MEMORY:-4g}"; fi
stack_dir="$(mktemp -d "${TMPDIR:-/tmp}/datamesh-test-XXXXXX")"
bash scripts/stack-up.sh "$stack_dir"
stage "stack up"
# shellcheck disable=SC1091
. "$stack_dir/stack.env"
# An empty CLI configuration: the environment may point TF_CLI_CONFIG_FILE at a missing file.
echo "Terraform under test: $(TF_CLI_CONFIG_FILE=/dev/null "${TF_ACC_TERRAFORM_PATH:-$DATAMESH_TERRAFORM}" version | head -n 1)"
echo "OpenTofu under test: $(TF_CLI_CONFIG_FILE=/dev/null "$DATAMESH_TOFU" version | head -n 1)"

if $soak; then
    cargo test --test soak -- --nocapture
    stage "soak test"
else
    cargo test --test acceptance -- --test-threads="${DATAMESH_TEST_THREADS:-4}"
    stage "acceptance tests"
fi
