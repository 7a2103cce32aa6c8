#!/usr/bin/env bash
# Starts processes of a running local stack again after they were stopped (by
# `scripts/stack-down.sh DIR NAME`), each from its DIR/NAME.cmd, as stack-up.sh started it:
# the fault tests restart a server under the provider this way (a Flink JobManager, say).
# Returns once each process runs; the caller waits for it to answer.
#
# Usage: scripts/stack-respawn.sh DIR NAME...   (NAME as in DIR/NAME.pid, e.g. flink-jobmanager)
set -euo pipefail

SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS="${DATAMESH_TOOLS_DIR:-$HOME/.cache/terraform-provider-datamesh}"
# lib/stack.sh runs its helpers with the tools venv's python.
# shellcheck disable=SC2034
PY="$TOOLS/venv/bin/python"
[ "$#" -ge 2 ] || { echo "usage: scripts/stack-respawn.sh DIR NAME..." >&2; exit 2; }
DIR="$(cd "$1" && pwd)"
shift

# shellcheck source=lib/stack.sh
. "$SCRIPTS/lib/stack.sh"
for name in "$@"; do
    respawn "$name"
    alive "$name" || { explain_failure "$name"; die "$name did not start again"; }
    echo "stack-respawn.sh: started $name again (pid $(cat "$DIR/$name.pid"))" >&2
done
