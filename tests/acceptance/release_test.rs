//! Release packaging: `scripts/install.sh` fills a filesystem mirror that `terraform init`
//! installs from offline (no `dev_overrides`), and `scripts/release.sh` writes the registry's
//! release files. Both are handed the debug binary these tests were built with (`--binary`):
//! a release build takes many minutes, and what is under test is the packaging.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::{json, Value as Json};

use crate::support::{combined, provider_binary, terraform_binary};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const ADDRESS: &str = "registry.terraform.io/datamesh/datamesh";

fn binary_name() -> String {
    format!("terraform-provider-datamesh_v{VERSION}")
}

/// This machine in Terraform's platform names (Go's GOOS_GOARCH), as install.sh derives it.
fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

/// Runs `scripts/<name>` from the repository with extra environment.
fn script<A: AsRef<OsStr>>(name: &str, args: &[A], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bash")
}

fn script_ok<A: AsRef<OsStr>>(name: &str, args: &[A], env: &[(&str, &str)]) -> String {
    let out = script(name, args, env);
    assert!(out.status.success(), "{name} failed:\n{}", combined(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The hex SHA-256 that coreutils' `sha256sum` prints first (the tests add no hashing crate).
fn first_hash(out: Output) -> String {
    assert!(out.status.success(), "sha256sum failed:\n{}", combined(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let hex = text.split_whitespace().next().unwrap_or_default().to_string();
    assert_eq!(hex.len(), 64, "sha256sum printed {text:?}");
    hex
}

/// SHA-256 (hex) of a file.
fn sha256_file(path: &Path) -> String {
    first_hash(Command::new("sha256sum").arg(path).output().expect("run sha256sum"))
}

/// SHA-256 (hex) of some bytes, fed to `sha256sum` on stdin.
fn sha256_bytes(input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run sha256sum");
    child.stdin.take().expect("stdin").write_all(input).expect("write to sha256sum");
    first_hash(child.wait_with_output().expect("sha256sum output"))
}

/// The `h1:` hash Terraform locks for a provider package holding just `name` with the
/// contents of `binary`: base64 of the SHA-256 over "<sha256 hex>  <file name>\n" lines (Go's
/// dirhash.Hash1). Computed here independently, it proves what Terraform installed is our binary.
fn h1(binary: &Path, name: &str) -> String {
    let summary = format!("{}  {name}\n", sha256_file(binary));
    let hex = sha256_bytes(summary.as_bytes());
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    format!("h1:{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Runs the harness's Terraform in `dir` with `cli_config` and no way out to the network: any
/// attempt to reach a registry goes to a dead proxy, so a success means the mirror was used.
fn terraform(dir: &Path, cli_config: &Path, args: &[&str]) -> Output {
    Command::new(terraform_binary())
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_INPUT", "0")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("TF_LOG")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .expect("run terraform")
}

fn terraform_ok(dir: &Path, cli_config: &Path, args: &[&str]) -> String {
    let out = terraform(dir, cli_config, args);
    let text = combined(&out);
    assert!(out.status.success(), "terraform {} failed:\n{text}", args.join(" "));
    text
}

/// A configuration pinning this provider version, initialised with `cli_config`; returns the
/// working directory after checking the lock file records the version and `expected_h1`.
fn init_pinned(parent: &Path, cli_config: &str, expected_h1: &str) -> PathBuf {
    let work = parent.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let rc = work.join("mirror.tfrc");
    std::fs::write(&rc, cli_config).unwrap();
    std::fs::write(
        work.join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    datamesh = {{ source = \"datamesh/datamesh\", version = \"{VERSION}\" }}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let out = terraform_ok(&work, &rc, &["init", "-no-color"]);
    assert!(out.contains(&format!("Installed datamesh/datamesh v{VERSION}")), "{out}");

    let lock = std::fs::read_to_string(work.join(".terraform.lock.hcl")).expect("lock file written");
    assert!(lock.contains(&format!("provider \"{ADDRESS}\" {{")), "{lock}");
    assert!(lock.contains(&format!("version     = \"{VERSION}\"")), "{lock}");
    let hashes: Vec<&str> = lock.lines().filter_map(|l| l.trim().strip_prefix('"')?.strip_suffix("\",")).collect();
    assert_eq!(hashes, vec![expected_h1], "lock file hashes:\n{lock}");
    let installed = work.join(".terraform/providers").join(ADDRESS).join(VERSION).join(platform()).join(binary_name());
    assert!(installed.exists(), "{} installed", installed.display());
    work
}

fn mirror_config(path: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"{ADDRESS}\"]\n  }}\n  direct {{\n    exclude = [\"{ADDRESS}\"]\n  }}\n}}\n",
        path.display()
    )
}

#[test]
fn install_sh_fills_a_filesystem_mirror_that_terraform_init_uses_offline() {
    let tmp = tempfile::Builder::new().prefix("datamesh-install-").tempdir().unwrap();
    let mirror = tmp.path().join("mirror");
    let bin = provider_binary();
    let printed = script_ok("install.sh", &[OsStr::new("--binary"), bin.as_os_str(), mirror.as_os_str()], &[]);

    // The registry layout Terraform's filesystem mirrors read, with the versioned binary name.
    let installed = mirror.join(ADDRESS).join(VERSION).join(platform()).join(binary_name());
    let meta = std::fs::metadata(&installed).unwrap_or_else(|e| panic!("{}: {e}", installed.display()));
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);
    assert_eq!(sha256_file(&installed), sha256_file(&bin), "the installed copy is the binary given");

    // What install.sh prints is a complete CLI configuration: a mirror, and no dev_overrides.
    assert!(printed.contains(&format!("path    = \"{}\"", mirror.display())), "{printed}");
    assert!(printed.contains(&format!("exclude = [\"{ADDRESS}\"]")), "{printed}");
    assert!(!printed.contains("dev_overrides"), "{printed}");
    let work = init_pinned(tmp.path(), &printed, &h1(&bin, &binary_name()));

    // Terraform starts the installed copy: the schema comes through the mirror.
    let rc = work.join("mirror.tfrc");
    let out = terraform(&work, &rc, &["providers", "schema", "-json"]);
    assert!(out.status.success(), "providers schema failed:\n{}", combined(&out));
    let schema: Json = serde_json::from_slice(&out.stdout).expect("schema JSON");
    let provider = &schema["provider_schemas"][ADDRESS];
    assert!(provider["provider"]["block"].is_object(), "provider schema: {provider}");
    for resource in ["datamesh_domain", "datamesh_data_product", "datamesh_stream"] {
        assert!(provider["resource_schemas"][resource].is_object(), "{resource} in the schema");
    }

    // A second install over the first is fine (upgrading a developer's mirror in place).
    script_ok("install.sh", &[OsStr::new("--binary"), bin.as_os_str(), mirror.as_os_str()], &[]);
    assert_eq!(sha256_file(&installed), sha256_file(&bin));
}

#[test]
fn install_sh_refuses_a_binary_that_reports_another_version() {
    let tmp = tempfile::Builder::new().prefix("datamesh-install-").tempdir().unwrap();
    let stale = tmp.path().join("terraform-provider-datamesh");
    std::fs::write(&stale, "#!/bin/sh\necho 'terraform-provider-datamesh 0.0.0-stale' >&2\n").unwrap();
    std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mirror = tmp.path().join("mirror");

    let out = script("install.sh", &[OsStr::new("--binary"), stale.as_os_str(), mirror.as_os_str()], &[]);
    let text = combined(&out);
    assert!(!out.status.success(), "install.sh accepted a stale binary:\n{text}");
    assert!(text.contains(&format!("expected 'terraform-provider-datamesh {VERSION}'")), "{text}");
    assert!(!mirror.exists(), "nothing is installed");
}

/// Checks one release directory; returns the SHA256SUMS text.
fn check_release(out: &Path, zips: &[String]) -> String {
    let base = format!("terraform-provider-datamesh_{VERSION}");
    let (sums_name, manifest_name) = (format!("{base}_SHA256SUMS"), format!("{base}_manifest.json"));
    let mut expected: BTreeSet<String> = zips.iter().cloned().collect();
    expected.extend([sums_name.clone(), manifest_name.clone()]);
    let present: BTreeSet<String> =
        std::fs::read_dir(out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(present, expected, "exactly the release files in {}", out.display());

    let manifest: Json = serde_json::from_str(&std::fs::read_to_string(out.join(&manifest_name)).unwrap()).unwrap();
    assert_eq!(manifest, json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}}));

    // goreleaser's format: "<sha256>  <name>" for every zip and the manifest, sorted by name.
    let sums = std::fs::read_to_string(out.join(&sums_name)).unwrap();
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (hash, name) = line.split_once("  ").unwrap_or_else(|| panic!("bad SHA256SUMS line {line:?}"));
        assert_eq!(hash, sha256_file(&out.join(name)), "{name} checksum");
        listed.push(name.to_string());
    }
    let mut want: Vec<String> = zips.to_vec();
    want.push(manifest_name);
    want.sort();
    assert_eq!(listed, want, "SHA256SUMS lists every zip and the manifest, sorted:\n{sums}");
    // And the standard tool a user verifies a download with agrees.
    let check = Command::new("sha256sum").args(["--check", "--strict", &sums_name]).current_dir(out).output().unwrap();
    assert!(check.status.success(), "sha256sum --check:\n{}", combined(&check));
    sums
}

/// The entries of a zip (name, Unix mode, SHA-256 of the contents), read with Python's zipfile
/// (Python is a prerequisite of the project; `unzip` may not be installed).
fn zip_entries(zip: &Path) -> Vec<(String, u32, String)> {
    let code = "import hashlib, json, sys, zipfile\n\
                z = zipfile.ZipFile(sys.argv[1])\n\
                print(json.dumps([[i.filename, i.external_attr >> 16, hashlib.sha256(z.read(i)).hexdigest()] for i in z.infolist()]))";
    let out = Command::new("python3").args(["-c", code]).arg(zip).output().expect("run python3");
    assert!(out.status.success(), "reading {}:\n{}", zip.display(), combined(&out));
    serde_json::from_slice(&out.stdout).expect("zip listing")
}

fn assert_zip_holds_binary(zip: &Path, bin: &Path) {
    let entries = zip_entries(zip);
    assert_eq!(entries.len(), 1, "one entry in {}: {entries:?}", zip.display());
    let (name, mode, sha) = &entries[0];
    assert_eq!(name, &binary_name());
    assert_eq!(mode & 0o777, 0o755, "the binary stays executable once unzipped");
    assert_eq!(sha, &sha256_file(bin), "the zip holds the binary given");
}

#[test]
fn release_sh_writes_registry_release_files_that_verify_and_install() {
    let tmp = tempfile::Builder::new().prefix("datamesh-release-").tempdir().unwrap();
    let bin = provider_binary();
    let zip_name = format!("terraform-provider-datamesh_{VERSION}_{}.zip", platform());
    let release = |out: &Path, extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec![OsStr::new("--binary"), bin.as_os_str(), OsStr::new("--out"), out.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        script_ok("release.sh", &args, env);
    };

    // With the default zip tool (zip when installed), then with Python's zipfile.
    let out = tmp.path().join("out");
    release(&out, &[], &[]);
    let sums = check_release(&out, std::slice::from_ref(&zip_name));
    assert!(
        !out.join(format!("terraform-provider-datamesh_{VERSION}_SHA256SUMS.sig")).exists(),
        "no key, no signature"
    );
    assert_zip_holds_binary(&out.join(&zip_name), &bin);
    let out_py = tmp.path().join("out-python");
    release(&out_py, &[], &[("DATAMESH_ZIP_TOOL", "python")]);
    check_release(&out_py, std::slice::from_ref(&zip_name));
    assert_zip_holds_binary(&out_py.join(&zip_name), &bin);

    // Reproducible: packaging the same binary again gives byte-identical files.
    release(&out, &[], &[]);
    assert_eq!(check_release(&out, std::slice::from_ref(&zip_name)), sums, "same checksums on a second run");

    // Terraform installs from the zip itself (a "packed" filesystem mirror) and locks the same
    // h1 hash as for the unpacked install.
    let packed = tmp.path().join("packed");
    std::fs::create_dir_all(packed.join(ADDRESS)).unwrap();
    std::fs::copy(out.join(&zip_name), packed.join(ADDRESS).join(&zip_name)).unwrap();
    init_pinned(tmp.path(), &mirror_config(&packed), &h1(&bin, &binary_name()));

    // Another platform's binary joins the same directory; SHA256SUMS then covers both zips.
    let other = if platform() == "linux_arm64" { "linux_amd64" } else { "linux_arm64" };
    release(&out, &["--platform", other], &[]);
    let other_zip = format!("terraform-provider-datamesh_{VERSION}_{other}.zip");
    let sums = check_release(&out, &[zip_name.clone(), other_zip]);
    assert_eq!(sums.lines().count(), 3, "{sums}");
}

/// Runs gpg on a throwaway keyring.
fn gpg(home: &Path, args: &[&str]) -> Output {
    Command::new("gpg").arg("--homedir").arg(home).arg("--batch").args(args).output().expect("run gpg")
}

#[test]
fn release_sh_signs_the_checksums_with_the_key_from_the_environment() {
    let tmp = tempfile::Builder::new().prefix("datamesh-sign-").tempdir().unwrap();
    // gpg-agent's socket lives in the home: keep its path short.
    let home = tempfile::Builder::new().prefix("gpg-").tempdir_in("/tmp").unwrap();
    std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let user = "release-test@example.com";
    let made = gpg(
        home.path(),
        &[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--quick-gen-key",
            &format!("Release Test <{user}>"),
            "ed25519",
            "sign",
            "1d",
        ],
    );
    assert!(made.status.success(), "gpg could not make a key: {}", combined(&made));

    let out = tmp.path().join("out");
    let bin = provider_binary();
    let args = [OsStr::new("--binary"), bin.as_os_str(), OsStr::new("--out"), out.as_os_str()];
    let home_str = home.path().display().to_string();
    let env = [("GNUPGHOME", home_str.as_str()), ("DATAMESH_GPG_KEY", user)];
    script_ok("release.sh", &args, &env);
    let sums = out.join(format!("terraform-provider-datamesh_{VERSION}_SHA256SUMS"));
    let sig = out.join(format!("terraform-provider-datamesh_{VERSION}_SHA256SUMS.sig"));
    let (sums_s, sig_s) = (sums.display().to_string(), sig.display().to_string());
    let verified = gpg(home.path(), &["--verify", &sig_s, &sums_s]);
    assert!(verified.status.success(), "the signature verifies: {}", combined(&verified));
    assert!(combined(&verified).contains(user), "signed by the key named: {}", combined(&verified));

    // A changed checksum file no longer verifies.
    let mut tampered = std::fs::read(&sums).unwrap();
    tampered.extend_from_slice(b"0000  extra.zip\n");
    std::fs::write(&sums, tampered).unwrap();
    assert!(!gpg(home.path(), &["--verify", &sig_s, &sums_s]).status.success(), "tampering is detected");

    // Asked to sign with a key the keyring lacks: the release fails and leaves no signature.
    let env = [("GNUPGHOME", home_str.as_str()), ("DATAMESH_GPG_KEY", "nobody@example.com")];
    let failed = script("release.sh", &args, &env);
    assert!(!failed.status.success(), "signing with a missing key fails: {}", combined(&failed));
    assert!(!sig.exists(), "no stale signature is left next to the new checksums");
    // A key with a passphrase: it reaches gpg on a pipe and shows nowhere in the output.
    let (pass_user, passphrase) = ("release-pass@example.com", "correct-horse-battery-staple");
    let made = gpg(
        home.path(),
        &[
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            pass_user,
            "ed25519",
            "sign",
            "1d",
        ],
    );
    assert!(made.status.success(), "gpg could not make a key: {}", combined(&made));
    // The agent cached the passphrase when the key was made: forget it, so signing needs it.
    let forget = || Command::new("gpgconf").arg("--homedir").arg(home.path()).args(["--kill", "gpg-agent"]).output();
    let _ = forget();
    let wrong =
        [("GNUPGHOME", home_str.as_str()), ("DATAMESH_GPG_KEY", pass_user), ("DATAMESH_GPG_PASSPHRASE", "wrong")];
    assert!(!script("release.sh", &args, &wrong).status.success(), "a wrong passphrase cannot sign");
    let _ = forget();
    let env =
        [("GNUPGHOME", home_str.as_str()), ("DATAMESH_GPG_KEY", pass_user), ("DATAMESH_GPG_PASSPHRASE", passphrase)];
    let signed = script("release.sh", &args, &env);
    assert!(signed.status.success(), "signing with a passphrase: {}", combined(&signed));
    assert!(!combined(&signed).contains(passphrase), "the passphrase is never printed");
    let verified = gpg(home.path(), &["--verify", &sig_s, &sums_s]);
    assert!(verified.status.success() && combined(&verified).contains(pass_user), "{}", combined(&verified));

    // Required but not given: an error.
    let required = script("release.sh", &args, &[("DATAMESH_RELEASE_REQUIRE_SIGNATURE", "1")]);
    assert!(
        !required.status.success() && combined(&required).contains("DATAMESH_GPG_KEY is not set"),
        "{}",
        combined(&required)
    );
    let _ = forget();
}
