#!/usr/bin/env bash
# `make demo`: build the provider, bring the local stack up (it stays up: `make stack-down`),
# and apply examples/terraform/quickstart in ${CARGO_TARGET_DIR:-target}/demo with the freshly built provider.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

cargo build
# The quickstart needs S3/IAM/STS and Kafka only: the JVM servers for ports and pipelines stay off.
STACK_SERVICES="${STACK_SERVICES:-s3,kafka}" bash scripts/stack-up.sh
stack_dir="${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}"
# shellcheck disable=SC1091
. "$stack_dir/stack.env"
terraform="${TF_ACC_TERRAFORM_PATH:-$DATAMESH_TERRAFORM}"

target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$root/$target_dir" ;; esac
work="$target_dir/demo"
mkdir -p "$work"
cp examples/terraform/quickstart/*.tf "$work/"
# Our own CLI config: the freshly built provider, never the user's home configuration.
cat > "$work/terraform.rc" <<RC
provider_installation {
  dev_overrides {
    "registry.terraform.io/datamesh/datamesh" = "$target_dir/debug"
    "registry.opentofu.org/datamesh/datamesh" = "$target_dir/debug"
  }
  direct {}
}
RC
export TF_CLI_CONFIG_FILE="$work/terraform.rc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cd "$work"
# apply prints the outputs: the role, bucket and topic it made.
"$terraform" apply -auto-approve
echo
# The provider finds the stack through stack.env's variables: the clean-up line sources it too.
echo "The stack keeps running (state in $work). Clean up (from this directory): . $stack_dir/stack.env && (cd $work && TF_CLI_CONFIG_FILE=$work/terraform.rc $terraform destroy) && make stack-down"
