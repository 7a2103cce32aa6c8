#!/usr/bin/env bash
# `make test`: unit tests, then acceptance tests against a fresh local stack of our own,
# started here and stopped on exit (even on failure), so runs never share backends.
#   --acceptance-only   skip the unit tests
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
