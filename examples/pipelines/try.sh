#!/usr/bin/env bash
# Runs both example pipeline jobs once on a running local stack and checks what they wrote
# (try/try.py says how). The stack needs s3, kafka, flink and spark:
#   STACK_SERVICES=s3,kafka,flink,spark bash scripts/stack-up.sh /tmp/jobs-stack
#   bash examples/pipelines/try.sh /tmp/jobs-stack [flink] [spark]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STACK="${1:?usage: try.sh STACK_DIR [flink] [spark]}"; shift
# shellcheck source=/dev/null
. "$STACK/stack.env"
# shellcheck source=../../scripts/versions.sh
. "$HERE/../../scripts/versions.sh"

# The broker's own kafka-clients; the stack's Kafka has no console tools, hence KafkaTool.java.
libs="$DATAMESH_TOOLS_DIR/kafka-$KAFKA_VERSION/libs"
classes="$(mktemp -d)"
trap 'rm -rf "$classes"' EXIT
javac -nowarn -d "$classes" -cp "$libs/*" "$HERE/try/KafkaTool.java"
export KAFKA_TOOL="java -cp $classes:$libs/* KafkaTool"
"$DATAMESH_TOOLS_DIR/venv/bin/python" "$HERE/try/try.py" "$@"
