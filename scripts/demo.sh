#!/usr/bin/env bash
# `make demo`: build the provider, bring the local stack up (it stays up: `make stack-down`),
# apply examples/terraform/quickstart in ${CARGO_TARGET_DIR:-target}/demo with the freshly built
# provider, then show records moving: sales' order events in, marketing's pipeline (a Flink job
# logged in to Kafka as marketing, reading through its grant) writing them, attributed, into
# marketing's own stream.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

cargo build
# The quickstart needs S3/IAM/STS, Kafka and Flink (its pipeline; the stack's tools step builds
# the example jobs): Cassandra, HDFS and Spark stay off.
STACK_SERVICES="${STACK_SERVICES:-s3,kafka,flink}" bash scripts/stack-up.sh
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
# The pipeline's inputs: the example job, where it finds Kafka, and marketing's password (made
# up once per demo directory; write-only, so Terraform never stores it).
[ -s "$work/.marketing-password" ] || python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$work/.marketing-password"
export TF_VAR_marketing_password="$(cat "$work/.marketing-password")"
export TF_VAR_enrich_jar="$DATAMESH_PIPELINE_FLINK_JAR" TF_VAR_kafka_bootstrap_servers="$DATAMESH_KAFKA_BOOTSTRAP_SERVERS"
export TF_VAR_kafka_security_protocol="$DATAMESH_KAFKA_SECURITY_PROTOCOL"
cd "$work"
# apply prints the outputs: the roles, bucket, topics and the pipeline's job it made.
"$terraform" apply -auto-approve
echo

# Records moving: three orders into sales' stream, and what marketing's pipeline made of them.
# shellcheck source=versions.sh
. "$root/scripts/versions.sh"
kafka_libs="$DATAMESH_TOOLS_DIR/kafka-$KAFKA_VERSION/libs"
classes="$work/kafka-tool"
mkdir -p "$classes"
javac -nowarn -d "$classes" -cp "$kafka_libs/*" "$root/examples/pipelines/try/KafkaTool.java"
kafka_tool() { java -cp "$classes:$kafka_libs/*" KafkaTool "$@"; }
orders_topic="$("$terraform" output -raw order_events_topic)"
campaign_topic="$("$terraform" output -raw campaign_orders_topic)"
echo "Producing three orders into $orders_topic (sales' stream):"
printf 'alice,order-1001 42.50\nbob,order-1002 17.00\nalice,order-1003 99.90\n' | tee /dev/stderr | kafka_tool produce "$orders_topic"
echo
echo "What marketing's pipeline wrote into $campaign_topic (customer, their running order count, the order, the campaign):"
kafka_tool consume "$campaign_topic" 3 | cut -f2
echo
# The provider finds the stack through stack.env's variables: the clean-up line sources it too.
# Destroy needs the same variables: a small script in the demo directory sets them.
cat >"$work/destroy.sh" <<SH
#!/usr/bin/env bash
# Destroys what make demo applied (the stack keeps running: make stack-down stops it).
set -euo pipefail
. "$stack_dir/stack.env"
cd "$work"
export TF_CLI_CONFIG_FILE="$work/terraform.rc" TF_VAR_marketing_password="\$(cat "$work/.marketing-password")"
export TF_VAR_enrich_jar="$TF_VAR_enrich_jar" TF_VAR_kafka_bootstrap_servers="$TF_VAR_kafka_bootstrap_servers" TF_VAR_kafka_security_protocol="$TF_VAR_kafka_security_protocol"
"$terraform" destroy "\$@"
SH
chmod +x "$work/destroy.sh"
echo "The stack keeps running (state in $work). Clean up: bash $work/destroy.sh && make stack-down"
