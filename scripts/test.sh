#!/usr/bin/env bash
# `make test`: unit tests and a fuzz smoke, then acceptance tests against a fresh local stack of our own,
# started here and stopped on exit (even on failure), so runs never share backends.
#   --acceptance-only   skip the unit tests and the fuzz smoke
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

only_acceptance=false
soak=false
[ "${1:-}" = "--acceptance-only" ] && only_acceptance=true
[ "${1:-}" = "--soak" ] && { only_acceptance=true; soak=true; }

# Build first: a fresh machine spends its time here, not with a stack idling.
cargo build --all-targets

if ! $only_acceptance; then
    cargo test --lib --bins
    # The committed registry docs must match the schema, and every example must be valid.
    python3 scripts/docs.py check --provider-dir "${CARGO_TARGET_DIR:-target}/debug"
    # Fuzz smoke (issue 5): each decoder target for a few seconds (`make fuzz` runs longer).
    # Its build (the provider with coverage flags, ~15-40 min cold on 2 cores) lives in the tools cache,
    # outside the repo, so later runs and fresh clones on this machine reuse it.
    fuzz_dir="${FUZZ_TARGET_DIR:-${DATAMESH_TOOLS_DIR:-$HOME/.cache/terraform-provider-datamesh}/fuzz-target}"
    if ! FUZZ_TARGET_DIR="$fuzz_dir" bash scripts/fuzz.sh --smoke; then
        echo "test.sh: FAILED: fuzz smoke (scripts/fuzz.sh --smoke): a decoder target crashed, ran no inputs, or the fuzz build failed; see the fuzz.sh: FAILED lines above" >&2
        exit 1
    fi
fi

stack_dir="$(mktemp -d "${TMPDIR:-/tmp}/datamesh-test-XXXXXX")"
trap 'bash scripts/stack-down.sh "$stack_dir" >/dev/null 2>&1 || true; rm -rf "$stack_dir"' EXIT
bash scripts/stack-up.sh "$stack_dir"
# shellcheck disable=SC1091
. "$stack_dir/stack.env"
echo "Terraform under test: $("${TF_ACC_TERRAFORM_PATH:-$DATAMESH_TERRAFORM}" version | head -n 1)"

if $soak; then
    cargo test --test soak -- --nocapture
else
    cargo test --test acceptance -- --test-threads="${DATAMESH_TEST_THREADS:-4}"
fi
