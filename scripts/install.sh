#!/usr/bin/env bash
# `make install`: put the provider into a Terraform/OpenTofu *filesystem mirror*, the layout
# `terraform init` reads without any registry, so domain teams (and CI) can pin
# `source = "datamesh/datamesh"` with a real version and get a lock file, unlike dev_overrides:
#
#   DIR/registry.terraform.io/datamesh/datamesh/VERSION/OS_ARCH/terraform-provider-datamesh_vVERSION
#
# Usage: scripts/install.sh [--binary PATH] [--platform OS_ARCH] [DIR]
#   DIR         the mirror root (default: ${DATAMESH_MIRROR_DIR:-<repo>/target/mirror}); kept
#               inside the repo by default so an install never touches the user's ~/.terraform.d
#   --binary    install this already-built binary instead of running `cargo build --release`
#               (also DATAMESH_INSTALL_BINARY); the acceptance tests pass their debug build
#   --platform  the Terraform platform the binary is for (default: this machine's, from uname),
#               for binaries cross-compiled elsewhere
# VERSION comes from Cargo.toml, and the binary must report that same version (a stale binary
# under a new version's directory would be locked by checksum and hard to notice later).
# Stdout gets the CLI configuration to use; progress goes to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

say() { echo "install.sh: $*" >&2; }
die() { say "$*"; exit 1; }

binary="${DATAMESH_INSTALL_BINARY:-}"
platform=""
dir="${DATAMESH_MIRROR_DIR:-$root/target/mirror}"
while [ "$#" -gt 0 ]; do
    case "$1" in
        --binary) [ "$#" -ge 2 ] || die "--binary needs a path"; binary="$2"; shift 2 ;;
        --platform) [ "$#" -ge 2 ] || die "--platform needs OS_ARCH"; platform="$2"; shift 2 ;;
        -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) dir="$1"; shift ;;
    esac
done

# The package version is the first `version = "..."` inside [package]; dependencies' versions
# live in other tables, so stop looking once [package] ends.
version="$(awk '
    /^\[/ { in_package = ($0 == "[package]") ; next }
    in_package && /^version[[:space:]]*=/ { gsub(/.*=[[:space:]]*"|".*/, ""); print; exit }
' Cargo.toml)"
[ -n "$version" ] || die "no version in the [package] table of Cargo.toml"

# Terraform names platforms after Go's GOOS_GOARCH, not uname's spelling.
host_platform() {
    local os arch
    case "$(uname -s)" in
        Linux) os=linux ;;
        Darwin) os=darwin ;;
        FreeBSD) os=freebsd ;;
        OpenBSD) os=openbsd ;;
        *) os="unknown-$(uname -s)" ;;
    esac
    case "$(uname -m)" in
        x86_64|amd64) arch=amd64 ;;
        aarch64|arm64) arch=arm64 ;;
        i386|i686) arch=386 ;;
        armv6l|armv7l) arch=arm ;;
        *) arch="unknown-$(uname -m)" ;;
    esac
    echo "${os}_${arch}"
}
host="$(host_platform)"
[ -n "$platform" ] || platform="$host"
case "$platform" in
    unknown-*|*_unknown-*) die "cannot name this platform ($(uname -s) $(uname -m)) in Terraform's terms; pass --platform OS_ARCH" ;;
    [a-z]*_[a-z0-9]*) ;;
    *) die "--platform must look like linux_amd64, got '$platform'" ;;
esac

if [ -z "$binary" ]; then
    # --locked: a release is built from the committed Cargo.lock, never a freshly resolved one.
    say "building the release binary (cargo build --release; several minutes on a small machine)"
    "${CARGO:-cargo}" build --release --locked >&2
    binary="${CARGO_TARGET_DIR:-$root/target}/release/terraform-provider-datamesh"
fi
[ -f "$binary" ] && [ -x "$binary" ] || die "no executable provider binary at $binary"

# The binary prints its version on stderr; only check it when it can run here (a binary
# cross-compiled for another platform cannot).
expected="terraform-provider-datamesh $version"
if [ "$platform" = "$host" ]; then
    reported="$("$binary" --version 2>&1 | head -n 1 || true)"
    [ "$reported" = "$expected" ] ||
        die "$binary reports '$reported', expected '$expected': rebuild it, or bump Cargo.toml"
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
target_dir="$dir/registry.terraform.io/datamesh/datamesh/$version/$platform"
mkdir -p "$target_dir"
# Copy then rename, so a Terraform reading the mirror meanwhile never sees half a binary.
tmp="$target_dir/.terraform-provider-datamesh.tmp.$$"
trap 'rm -f "$tmp"' EXIT
cp "$binary" "$tmp"
chmod 0755 "$tmp"
mv -f "$tmp" "$target_dir/terraform-provider-datamesh_v$version"
say "installed terraform-provider-datamesh $version ($platform) into $target_dir"

# Stdout is a complete CLI configuration file (comments and all), so it can be redirected into
# one: scripts/install.sh > mirror.tfrc; export TF_CLI_CONFIG_FILE=$PWD/mirror.tfrc
cat <<EOF
# CLI configuration for the datamesh provider $version from the filesystem mirror $dir
# (TF_CLI_CONFIG_FILE=/path/to/this/file, or ~/.terraformrc; ~/.tofurc for OpenTofu).
# Configurations then pin it with:
#   terraform {
#     required_providers {
#       datamesh = { source = "registry.terraform.io/datamesh/datamesh", version = "$version" }
#     }
#   }
# (Terraform reads source = "datamesh/datamesh" as the same address; OpenTofu expands short
# sources to registry.opentofu.org, so spell the hostname out for OpenTofu.)
provider_installation {
  filesystem_mirror {
    path    = "$dir"
    include = ["registry.terraform.io/datamesh/datamesh"]
  }
  direct {
    exclude = ["registry.terraform.io/datamesh/datamesh"]
  }
}
EOF
