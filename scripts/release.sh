#!/usr/bin/env bash
# `make release`: the files a provider release consists of, named the way the Terraform
# Registry (and goreleaser's provider template) name them, in OUT:
#
#   terraform-provider-datamesh_VERSION_OS_ARCH.zip      the binary terraform-provider-datamesh_vVERSION
#   terraform-provider-datamesh_VERSION_manifest.json    {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
#   terraform-provider-datamesh_VERSION_SHA256SUMS       `sha256sum` lines for every zip and the manifest
#   terraform-provider-datamesh_VERSION_SHA256SUMS.sig   its detached binary GPG signature, when a key is given
#
# Usage: scripts/release.sh [--binary PATH] [--platform OS_ARCH] [--out DIR]
#   --binary    package this already-built binary instead of running `cargo build --release`
#               (also DATAMESH_INSTALL_BINARY); the acceptance tests pass their debug build
#   --platform  the platform the binary is for (default: this machine's); run once per platform
#               with cross-compiled binaries and the same OUT: zips for other platforms already
#               in OUT are kept, and SHA256SUMS always covers all of them
#   --out       where the files go (default: <repo>/target/release-artifacts)
# The binary is staged with scripts/install.sh, so version, platform naming and the
# binary-reports-this-version check are the same as for `make install`.
# Zips are deterministic (fixed timestamp and mode): the same binary gives the same checksum.
# `zip` is used when installed (DATAMESH_ZIP_TOOL=zip|python chooses), else Python's zipfile.
# Signing (what the Terraform Registry verifies): DATAMESH_GPG_KEY names the secret key (key ID,
# fingerprint or e-mail) in gpg's keyring (GNUPGHOME as usual); DATAMESH_GPG_PASSPHRASE, when the
# key has one, reaches gpg on a pipe, never on a command line. Without DATAMESH_GPG_KEY the
# release is unsigned and says so; DATAMESH_RELEASE_REQUIRE_SIGNATURE=1 makes that an error.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

say() { echo "release.sh: $*" >&2; }
die() { say "$*"; exit 1; }

install_args=()
out="$root/target/release-artifacts"
while [ "$#" -gt 0 ]; do
    case "$1" in
        --binary|--platform)
            [ "$#" -ge 2 ] || die "$1 needs a value"; install_args+=("$1" "$2"); shift 2 ;;
        --out) [ "$#" -ge 2 ] || die "--out needs a directory"; out="$2"; shift 2 ;;
        -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done

zip_tool="${DATAMESH_ZIP_TOOL:-}"
if [ -z "$zip_tool" ]; then
    if command -v zip >/dev/null 2>&1; then zip_tool=zip; else zip_tool=python; fi
fi
case "$zip_tool" in
    zip) command -v zip >/dev/null 2>&1 || die "DATAMESH_ZIP_TOOL=zip but zip is not installed" ;;
    python) command -v python3 >/dev/null 2>&1 || die "neither zip nor python3 is installed" ;;
    *) die "DATAMESH_ZIP_TOOL must be zip or python, got '$zip_tool'" ;;
esac

if command -v sha256sum >/dev/null 2>&1; then
    sha256() { sha256sum "$@"; }
elif command -v shasum >/dev/null 2>&1; then
    sha256() { shasum -a 256 "$@"; }   # macOS: same two-space output format
else
    die "neither sha256sum nor shasum is installed"
fi

stage="$(mktemp -d "${TMPDIR:-/tmp}/datamesh-release-XXXXXX")"
trap 'rm -rf "$stage"' EXIT
# ${arr[@]+...}: bash 3 (macOS) treats an empty array as unset under `set -u`.
bash scripts/install.sh ${install_args[@]+"${install_args[@]}"} "$stage" >/dev/null

# install.sh made exactly one VERSION/OS_ARCH directory; read both names back from it.
provider_dir="$stage/registry.terraform.io/datamesh/datamesh"
staged=("$provider_dir"/*/*/terraform-provider-datamesh_v*)
[ "${#staged[@]}" -eq 1 ] && [ -f "${staged[0]}" ] || die "unexpected staging layout under $provider_dir"
bin_path="${staged[0]}"
platform_dir="$(dirname "$bin_path")"
platform="$(basename "$platform_dir")"
version="$(basename "$(dirname "$platform_dir")")"
bin_name="$(basename "$bin_path")"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
base="terraform-provider-datamesh_${version}"
zip_name="${base}_${platform}.zip"

# A fixed timestamp (the earliest a zip can hold) and mode keep the archive byte-for-byte
# reproducible; TZ=UTC0 because zip stores local time.
say "packaging $zip_name with $zip_tool"
tmp_zip="$stage/$zip_name"
if [ "$zip_tool" = zip ]; then
    chmod 0755 "$bin_path"
    TZ=UTC0 touch -t 198001010000.00 "$bin_path"
    # -X: no uid/gid or extra timestamps; -j: the binary at the archive's root.
    (cd "$platform_dir" && TZ=UTC0 zip -q -X -j "$tmp_zip" "$bin_name")
else
    python3 - "$bin_path" "$bin_name" "$tmp_zip" <<'PY'
import shutil, sys, zipfile
src, name, dest = sys.argv[1:4]
info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
info.create_system = 3                      # Unix, so unzip honours the mode below
info.external_attr = 0o100755 << 16       # a regular file, rwxr-xr-x
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(dest, "w") as zf, open(src, "rb") as f, zf.open(info, "w") as w:
    shutil.copyfileobj(f, w, 1 << 20)
PY
fi
mv -f "$tmp_zip" "$out/$zip_name"

# The registry reads the protocol versions from this file; ours speaks protocol 6 only.
manifest="${base}_manifest.json"
cat > "$out/$manifest" <<'JSON'
{
  "version": 1,
  "metadata": {
    "protocol_versions": ["6.0"]
  }
}
JSON

# Every zip of this version in OUT (other platforms from earlier runs too) and the manifest,
# sorted like goreleaser's checksum file.
sums="${base}_SHA256SUMS"
(
    cd "$out"
    files=()
    while IFS= read -r f; do files+=("$f"); done < <(
        find . -maxdepth 1 -type f \( -name "${base}_*.zip" -o -name "$manifest" \) -print |
            sed 's|^\./||' | LC_ALL=C sort
    )
    sha256 "${files[@]}" > "$stage/$sums"
)
mv -f "$stage/$sums" "$out/$sums"

# A signature from an earlier run would not match the new SHA256SUMS.
rm -f "$out/$sums.sig"
if [ -n "${DATAMESH_GPG_KEY:-}" ]; then
    command -v gpg >/dev/null 2>&1 || die "DATAMESH_GPG_KEY is set but gpg is not installed"
    say "signing $sums with $DATAMESH_GPG_KEY"
    sign=(gpg --batch --yes --local-user "$DATAMESH_GPG_KEY" --detach-sign --output "$out/$sums.sig")
    if [ -n "${DATAMESH_GPG_PASSPHRASE:-}" ]; then
        printf '%s' "$DATAMESH_GPG_PASSPHRASE" |
            "${sign[@]}" --pinentry-mode loopback --passphrase-fd 0 "$out/$sums" ||
            die "gpg could not sign $sums with $DATAMESH_GPG_KEY"
    else
        "${sign[@]}" "$out/$sums" </dev/null || die "gpg could not sign $sums with $DATAMESH_GPG_KEY"
    fi
    gpg --batch --verify "$out/$sums.sig" "$out/$sums" 2>/dev/null ||
        die "the signature gpg made does not verify against $sums"
elif [ "${DATAMESH_RELEASE_REQUIRE_SIGNATURE:-}" = 1 ]; then
    die "DATAMESH_RELEASE_REQUIRE_SIGNATURE=1 but DATAMESH_GPG_KEY is not set: no key to sign $sums with"
else
    say "$sums is unsigned (set DATAMESH_GPG_KEY to sign it)"
fi

say "wrote $out:"
(cd "$out" && ls -l "${base}"_* >&2)
