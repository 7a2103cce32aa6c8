#!/usr/bin/env bash
# Starts the local backend stack the acceptance tests and the demo run against, on 127.0.0.1
# and free ports only (parallel stacks and other services must never collide), one service at
# a time in the order of STACK_ALL_SERVICES (scripts/versions.sh). Each service is a file
# scripts/stack/<svc>.sh (install, start, probe); every process logs to DIR/<name>.log, its pid
# is in DIR/<name>.pid and the command that reproduces it in DIR/<name>.cmd. When all are ready
# (a real call worked: a login, a request), DIR/stack.env (source it) exports every endpoint
# and credential under the names the provider reads as defaults, and the CLIs to use (Terraform,
# and the OpenTofu tools.sh builds, which the acceptance tests also run).
# Stop it with scripts/stack-down.sh DIR. A failed start stops whatever it had started.
#
# Usage: scripts/stack-up.sh [DIR]
#   DIR defaults to ${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}
#   env: STACK_SERVICES (e.g. s3,kafka; default all), DATAMESH_TOOLS_DIR,
#        DATAMESH_STACK_TIMEOUT (seconds a service may take to be ready, default 120),
#        TF_ACC_TERRAFORM_PATH (Terraform CLI to advertise instead of the launcher)
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${DATAMESH_TOOLS_DIR:-$HOME/.cache/terraform-provider-datamesh}"
DIR="${1:-${DATAMESH_STACK_DIR:-${TMPDIR:-/tmp}/datamesh-stack}}"
TIMEOUT="${DATAMESH_STACK_TIMEOUT:-120}"
PYTHON="${PYTHON:-python3}"
START=$(date +%s)

# shellcheck source=versions.sh
. "$SCRIPTS/versions.sh"
# shellcheck source=lib/install.sh
. "$SCRIPTS/lib/install.sh"
# shellcheck source=lib/stack.sh
. "$SCRIPTS/lib/stack.sh"

services="$(selected_services)" || exit 1
"$SCRIPTS/tools.sh" $services

PY="$TOOLS/venv/bin/python"
TERRAFORM="${TF_ACC_TERRAFORM_PATH:-$TOOLS/bin/terraform}"
[ -x "$TERRAFORM" ] || say "WARNING: TF_ACC_TERRAFORM_PATH=$TERRAFORM is not an executable file"
TOFU="$TOOLS/bin/tofu"
[ -x "$TOFU" ] || die "no OpenTofu at $TOFU: scripts/tools.sh builds it"

mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)" # absolute: stack.env is sourced from anywhere

for svc in $services; do
    # shellcheck source=/dev/null
    . "$SCRIPTS/stack/$svc.sh"
done

# The example pipeline jobs tools.sh built for Flink and Spark (examples/pipelines): their paths
# are written into stack.env afresh every time, as the sources may have changed since the stack
# started.
pipelines=""
case " $services " in
    *" flink "* | *" spark "*)
        # shellcheck source=lib/pipelines.sh
        . "$SCRIPTS/lib/pipelines.sh"
        pipelines="$(pipelines_dir)"
        [ -f "$pipelines/flink-enrich.jar" ] && [ -f "$pipelines/spark-aggregate.jar" ] ||
            die "no example pipeline jobs in $pipelines (scripts/tools.sh builds them)"
        ;;
esac

write_env() {
    {
        echo "# Written by scripts/stack-up.sh: source it (. $DIR/stack.env). Stop with scripts/stack-down.sh $DIR"
        printf 'export %s=%q\n' DATAMESH_STACK_DIR "$DIR" DATAMESH_STACK_SERVICES "${services// /,}" \
            DATAMESH_TERRAFORM "$TERRAFORM" DATAMESH_TOFU "$TOFU" DATAMESH_TOOLS_DIR "$TOOLS"
        [ -z "$pipelines" ] || printf 'export %s=%q\n' DATAMESH_PIPELINE_FLINK_JAR "$pipelines/flink-enrich.jar" \
            DATAMESH_PIPELINE_SPARK_JAR "$pipelines/spark-aggregate.jar"
        grep -v '^export \(DATAMESH_STACK_DIR\|DATAMESH_STACK_SERVICES\|DATAMESH_TERRAFORM\|DATAMESH_TOFU\|DATAMESH_TOOLS_DIR\|DATAMESH_PIPELINE_FLINK_JAR\|DATAMESH_PIPELINE_SPARK_JAR\)=' \
            "$DIR/stack.env.new"
    } >"$DIR/stack.env.tmp.$$"
    chmod 600 "$DIR/stack.env.tmp.$$" # it holds the admin credentials
    mv -f "$DIR/stack.env.tmp.$$" "$DIR/stack.env"
    rm -f "$DIR/stack.env.new"
}

# Already up with the same services, every one still answering: keep it (tests may hold state
# in it), refresh stack.env.
if [ -f "$DIR/stack.env" ] && (
    # shellcheck disable=SC1091
    . "$DIR/stack.env"
    [ "${DATAMESH_STACK_SERVICES:-}" = "${services// /,}" ] || exit 1
    for svc in $services; do "probe_$svc" >/dev/null 2>&1 || exit 1; done
); then
    grep '^export ' "$DIR/stack.env" >"$DIR/stack.env.new"
    write_env
    say "stack in $DIR is already up ($services); env: $DIR/stack.env"
    exit 0
fi
[ -f "$DIR/stack.env" ] && say "stack in $DIR is not the one asked for, or a service stopped answering: restarting it"

# Anything half-up in DIR (dead or unhealthy service, stale pid files) goes.
"$SCRIPTS/stack-down.sh" "$DIR" >/dev/null 2>&1 || true
rm -f "$DIR/stack.env" "$DIR/stack.env.new"
# From here on a failure must not leave half a stack running.
trap 'rc=$?; if [ "$rc" -ne 0 ]; then "$SCRIPTS/stack-down.sh" "$DIR" >/dev/null 2>&1 || true; fi' EXIT

summary=()
for svc in $services; do
    started=$(date +%s)
    "start_$svc"
    summary+=("$svc $(($(date +%s) - started))s")
done
write_env
say "stack up in $(($(date +%s) - START))s (${summary[*]}); env: $DIR/stack.env"
