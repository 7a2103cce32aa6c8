//! The core lifecycle (domain + data product + stream: create, no-change plan, in-place update,
//! import blocks, a `moved` rename, destroy) against every Terraform-compatible CLI this machine
//! has. Two are required: the pinned Terraform and the pinned OpenTofu (`DATAMESH_TOFU`) that
//! `scripts/tools.sh` puts in the tools cache; without either, or at another version, the test
//! fails. The harness's CLI (`TF_ACC_TERRAFORM_PATH`) and `terraform` and `tofu` on PATH run as
//! extras when they are installed; the test prints which CLIs it ran and which it did not, and why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{combined, require_stack, tofu_binary, Backends, Tf};

/// An executable called `name` in a PATH directory, like the shell would find it.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// The first line of `<cli> version`, e.g. "Terraform v1.11.4" or "OpenTofu v1.10.0", run with
/// an empty CLI configuration of our own (never the home one) and no version check upstream.
fn version_line(cli: &Path) -> String {
    let rc = tempfile::NamedTempFile::new().expect("temp CLI config");
    let out = Command::new(cli)
        .arg("version")
        .env("TF_CLI_CONFIG_FILE", rc.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .output()
        .unwrap_or_else(|e| panic!("run {} version: {e}", cli.display()));
    assert!(out.status.success(), "{} version failed:\n{}", cli.display(), combined(&out));
    String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().trim().to_string()
}

/// A version the project pins in `scripts/versions.sh`, by its key (`TERRAFORM_VERSION`, ...).
fn pinned_version(key: &str) -> String {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/versions.sh");
    let script = std::fs::read_to_string(&tools).unwrap_or_else(|e| panic!("read {}: {e}", tools.display()));
    let line = script.lines().find_map(|l| l.strip_prefix(&format!("{key}=")));
    line.unwrap_or_else(|| panic!("{} pins no {key}", tools.display())).trim().to_string()
}

/// A required CLI at `path`, which must be there and report `want` as its version.
fn required(what: &'static str, path: PathBuf, want: String) -> Cli {
    assert!(path.is_file(), "{what} {} is missing: run scripts/tools.sh (make stack-up)", path.display());
    let version = version_line(&path);
    assert_eq!(version, want, "{} is not {what}", path.display());
    Cli { what, path, version }
}

/// The pinned Terraform in the tools cache.
fn pinned_terraform() -> Cli {
    let tools = std::env::var("DATAMESH_TOOLS_DIR").expect("DATAMESH_TOOLS_DIR from stack.env");
    let want = format!("Terraform v{}", pinned_version("TERRAFORM_VERSION"));
    required("the pinned Terraform (required)", PathBuf::from(tools).join("bin/terraform"), want)
}

/// The pinned OpenTofu, as stack.env names it (`DATAMESH_TOFU`).
fn pinned_tofu() -> Cli {
    let want = format!("OpenTofu v{}", pinned_version("OPENTOFU_VERSION"));
    required("the pinned OpenTofu (required)", tofu_binary(), want)
}

/// One CLI the test runs.
struct Cli {
    /// Where it was found, and whether it is required.
    what: &'static str,
    path: PathBuf,
    /// The first line of `<cli> version`.
    version: String,
}

/// The CLIs to run, the required ones first, and a line for each candidate that is not run.
/// The same file reached twice runs once.
fn clis() -> (Vec<Cli>, Vec<String>) {
    let mut run = vec![pinned_terraform(), pinned_tofu()];
    let mut not_run = Vec::new();
    let harness = std::env::var_os("TF_ACC_TERRAFORM_PATH").filter(|p| !p.is_empty()).map(PathBuf::from);
    let extras = [
        ("the harness's CLI, TF_ACC_TERRAFORM_PATH (extra)", harness, "not set"),
        ("terraform on PATH (extra)", on_path("terraform"), "not installed"),
        ("tofu on PATH (extra)", on_path("tofu"), "not installed"),
    ];
    for (what, path, missing) in extras {
        let Some(path) = path else {
            not_run.push(format!("{what}: {missing}"));
            continue;
        };
        let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if let Some(same) = run.iter().find(|c| std::fs::canonicalize(&c.path).is_ok_and(|r| r == real)) {
            not_run.push(format!("{what}: {} is the same file as {}, run once", path.display(), same.what));
            continue;
        }
        let version = version_line(&path);
        run.push(Cli { what, path, version });
    }
    (run, not_run)
}

fn hcl(domain: &str, description: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "d" {{
  name        = "{domain}"
  owner       = "sales@example.com"
  description = "{description}"
}}

resource "datamesh_data_product" "p" {{
  domain         = datamesh_domain.d.name
  name           = "orders"
  classification = "internal"
  description    = "{description}"
}}

resource "datamesh_stream" "s" {{
  data_product = datamesh_data_product.p.id
  name         = "order-events"
}}
"#
    )
}

/// Import blocks for the three resources of [`hcl`]: the domain and the stream by ID, the
/// product by its identity (`import { identity = {...} }`) when `by_identity`, else by ID.
fn imports(domain: &str, topic: &str, by_identity: bool) -> String {
    let product = if by_identity {
        format!("identity = {{ domain = \"{domain}\", name = \"orders\" }}")
    } else {
        format!("id = \"{domain}/orders\"")
    };
    format!(
        r#"
import {{
  to = datamesh_domain.d
  id = "{domain}"
}}

import {{
  to = datamesh_data_product.p
  {product}
}}

import {{
  to = datamesh_stream.s
  id = "{topic}"
}}
"#
    )
}

/// Whether a CLI of `version` ("Terraform v1.15.5", "OpenTofu v1.12.6") takes `identity` in
/// import blocks: both since 1.12.
fn has_identity_imports(version: &str) -> bool {
    let number = version.split_once(" v").map_or("", |(_, n)| n);
    let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (1, 12)
}

/// [`hcl`] with the stream at `datamesh_stream.events`, moved there from `datamesh_stream.s`.
fn moved(domain: &str, description: &str) -> String {
    let renamed =
        hcl(domain, description).replace(r#"resource "datamesh_stream" "s""#, r#"resource "datamesh_stream" "events""#);
    format!("{renamed}\nmoved {{\n  from = datamesh_stream.s\n  to   = datamesh_stream.events\n}}\n")
}

/// The lifecycle with one CLI, checking the backends after each step.
fn lifecycle(cli: &Path, version: &str) {
    let mut tf = Tf::new().with_cli(cli);
    let out = tf.run(&["version"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().next(), Some(version), "this directory runs {version}");
    let b = Backends::for_prefix(&tf.prefix);
    let domain = format!("{}-cli", tf.prefix);
    let role = format!("{}-domain-{domain}", tf.prefix);
    let bucket = format!("{}-{domain}-orders", tf.prefix);
    let topic = format!("{domain}.orders.order-events");
    let (iam, storage, kafka) = (b.iam(), b.storage(), b.streaming());

    tf.write(&hcl(&domain, "Orders"));
    tf.apply();
    tf.assert_no_changes();
    assert!(b.block_on(iam.get_role(&role)).unwrap().is_some(), "role {role} created");
    assert!(b.block_on(storage.bucket_exists(&bucket)).unwrap(), "bucket {bucket} created");
    assert!(b.block_on(kafka.describe_topic(&topic)).unwrap().is_some(), "topic {topic} created");

    // A description is an in-place update of the domain and the product; the stream stays.
    tf.write(&hcl(&domain, "Orders and refunds"));
    let plan = tf.plan_json();
    let change = |address: &str| -> serde_json::Value {
        let changes = plan["resource_changes"].as_array().into_iter().flatten();
        changes.clone().find(|c| c["address"] == address).cloned().unwrap_or_default()
    };
    let actions = |address: &str| -> Vec<String> {
        serde_json::from_value(change(address)["change"]["actions"].clone()).unwrap_or_default()
    };
    assert_eq!(actions("datamesh_domain.d"), vec!["update"]);
    assert_eq!(actions("datamesh_data_product.p"), vec!["update"]);
    assert_eq!(actions("datamesh_stream.s"), vec!["no-op"]);
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(tf.resource("datamesh_domain.d")["description"], "Orders and refunds");
    assert_eq!(tf.resource("datamesh_data_product.p")["description"], "Orders and refunds");

    // Forgotten, then adopted again by import blocks, read back from the backends: no diff.
    for address in ["datamesh_domain.d", "datamesh_data_product.p", "datamesh_stream.s"] {
        tf.state_rm(address);
    }
    let with_imports =
        |by_identity| format!("{}{}", hcl(&domain, "Orders and refunds"), imports(&domain, &topic, by_identity));
    tf.write(&with_imports(true));
    if !has_identity_imports(version) {
        // An older CLI says it has no identity in import blocks, and imports by ID.
        let out = tf.plan_fails();
        assert!(out.contains(r#"An argument named "identity" is not expected here."#), "{version}:\n{out}");
        tf.write(&with_imports(false));
    }
    let out = tf.apply();
    assert!(out.contains("3 imported, 0 added, 0 changed, 0 destroyed"), "{out}");
    tf.assert_no_changes();
    assert_eq!(tf.resource("datamesh_domain.d")["role_name"], role.as_str());
    assert_eq!(tf.resource("datamesh_data_product.p")["bucket"], bucket.as_str());
    assert_eq!(tf.resource("datamesh_stream.s")["topic"], topic.as_str());

    // A `moved` block renames the stream's address: the plan moves it and changes nothing.
    tf.write(&moved(&domain, "Orders and refunds"));
    let plan = tf.plan_json();
    let events =
        plan["resource_changes"].as_array().into_iter().flatten().find(|c| c["address"] == "datamesh_stream.events");
    let events = events.unwrap_or_else(|| panic!("the plan has datamesh_stream.events:\n{plan:#}"));
    assert_eq!(events["previous_address"], "datamesh_stream.s", "moved from the old address:\n{events:#}");
    assert_eq!(events["change"]["actions"], serde_json::json!(["no-op"]), "nothing replaced:\n{events:#}");
    let out = tf.apply();
    assert!(out.contains("0 added, 0 changed, 0 destroyed"), "{out}");
    tf.assert_no_changes();
    assert_eq!(tf.resource("datamesh_stream.events")["topic"], topic.as_str());
    assert!(b.block_on(kafka.describe_topic(&topic)).unwrap().is_some(), "topic {topic} kept");

    tf.destroy();
    assert!(b.block_on(iam.get_role(&role)).unwrap().is_none(), "role {role} deleted");
    assert!(!b.block_on(storage.bucket_exists(&bucket)).unwrap(), "bucket {bucket} deleted");
    assert!(b.block_on(kafka.describe_topic(&topic)).unwrap().is_none(), "topic {topic} deleted");
}

#[test]
fn core_lifecycle_works_with_every_cli_on_this_machine() {
    require_stack();
    let (clis, not_run) = clis();
    for cli in &clis {
        eprintln!("CLI versions: running {}: {} ({})", cli.what, cli.path.display(), cli.version);
    }
    for line in &not_run {
        eprintln!("CLI versions: not running {line}");
    }
    // One thread per CLI: they use separate prefixes, and the slowest CLI sets the wall time.
    let results: Vec<(&Cli, Result<(), String>)> = std::thread::scope(|s| {
        let running: Vec<_> = clis.iter().map(|cli| (cli, s.spawn(|| lifecycle(&cli.path, &cli.version)))).collect();
        running
            .into_iter()
            .map(|(cli, handle)| {
                let outcome = handle.join().map_err(|err| {
                    err.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                });
                (cli, outcome)
            })
            .collect()
    });
    let line = |cli: &Cli, verdict: &str| format!("{} ({}, {}): {verdict}", cli.version, cli.what, cli.path.display());
    let passed: Vec<String> = results.iter().filter(|(_, r)| r.is_ok()).map(|(cli, _)| line(cli, "passed")).collect();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(cli, r)| r.as_ref().err().map(|msg| line(cli, &format!("FAILED\n{msg}"))))
        .collect();
    eprintln!(
        "CLI versions: the lifecycle passed with {} of the {} CLI(s) run:\n  {}",
        passed.len(),
        results.len(),
        passed.join("\n  ")
    );
    assert!(failed.is_empty(), "the lifecycle failed with:\n{}", failed.join("\n\n"));
    let required_passed = results.iter().filter(|(cli, r)| cli.what.contains("required") && r.is_ok()).count();
    assert_eq!(required_passed, 2, "the pinned Terraform and the pinned OpenTofu both ran and passed");
}
