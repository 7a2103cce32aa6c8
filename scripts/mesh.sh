#!/usr/bin/env bash
# `make mesh`: draws the demo's mesh (what `make demo` applied from examples/terraform/quickstart,
# on the stack it left running) with `terraform-provider-datamesh mesh --format html` into
# ${CARGO_TARGET_DIR:-target}/mesh/mesh.html, and prints that path. The catalog is found the way
# the provider finds it: stack.env's AWS endpoint and credentials, the quickstart's name_prefix.
#
# Usage: scripts/mesh.sh   (env: DATAMESH_STACK_DIR, the stack `make demo` started)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

stack_dir="${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}"
if [ ! -s "$stack_dir/stack.env" ]; then
    echo "mesh.sh: no stack in $stack_dir (no stack.env): run make demo first (it leaves the stack up), or set DATAMESH_STACK_DIR" >&2
    exit 1
fi
# shellcheck disable=SC1091
. "$stack_dir/stack.env"

# The quickstart's own name_prefix, so its catalog bucket is the one drawn.
prefix="$(sed -n 's/^ *name_prefix *= *"\([a-z0-9-]*\)".*/\1/p' examples/terraform/quickstart/main.tf | head -n 1)"
[ -n "$prefix" ] || { echo "mesh.sh: no name_prefix in examples/terraform/quickstart/main.tf" >&2; exit 1; }

cargo build -q
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
[ -f "$target_dir/demo/terraform.tfstate" ] ||
    echo "mesh.sh: warning: $target_dir/demo has no state: has make demo applied the quickstart on this stack?" >&2
out="$target_dir/mesh/mesh.html"
mkdir -p "$(dirname "$out")"
"$target_dir/debug/terraform-provider-datamesh" mesh --format html --output "$out" \
    --name-prefix "$prefix" --s3-force-path-style --title "make demo: examples/terraform/quickstart"
echo "$out"
