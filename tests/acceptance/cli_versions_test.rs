//! The core lifecycle (domain + data product + stream: create, no-change plan, in-place update,
//! destroy) against every Terraform-compatible CLI this machine has. One is required: the
//! pinned Terraform that `scripts/tools.sh` installs in the tools cache; without it, or at
//! another version, the test fails. The harness's CLI (`TF_ACC_TERRAFORM_PATH`) and
//! `terraform` and `tofu` on PATH run as extras when they are installed; the test prints which
//! CLIs it ran and which it did not, and why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{combined, require_stack, Backends, Tf};

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

/// The Terraform version the project pins (`TERRAFORM_VERSION=` in `scripts/versions.sh`).
fn pinned_version() -> String {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/versions.sh");
    let script = std::fs::read_to_string(&tools).unwrap_or_else(|e| panic!("read {}: {e}", tools.display()));
    let line = script.lines().find_map(|l| l.strip_prefix("TERRAFORM_VERSION="));
    line.unwrap_or_else(|| panic!("{} pins no TERRAFORM_VERSION", tools.display())).trim().to_string()
}

/// The pinned Terraform in the tools cache, which must be there at the pinned version.
fn pinned_terraform() -> Cli {
    let tools = std::env::var("DATAMESH_TOOLS_DIR").expect("DATAMESH_TOOLS_DIR from stack.env");
    let path = PathBuf::from(tools).join("bin/terraform");
    assert!(path.is_file(), "the pinned Terraform {} is missing: run scripts/tools.sh (make stack-up)", path.display());
    let version = version_line(&path);
    let want = format!("Terraform v{}", pinned_version());
    assert_eq!(version, want, "{} is not the Terraform scripts/tools.sh pins", path.display());
    Cli { what: "the pinned Terraform (required)", path, version }
}

/// One CLI the test runs.
struct Cli {
    /// Where it was found, and whether it is required.
    what: &'static str,
    path: PathBuf,
    /// The first line of `<cli> version`.
    version: String,
}

/// The CLIs to run, the required one first, and a line for each candidate that is not run.
/// The same file reached twice runs once.
fn clis() -> (Vec<Cli>, Vec<String>) {
    let mut run = vec![pinned_terraform()];
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
    let actions = |address: &str| -> Vec<String> {
        plan["resource_changes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["address"] == address)
            .map(|c| serde_json::from_value(c["change"]["actions"].clone()).expect("actions"))
            .unwrap_or_default()
    };
    assert_eq!(actions("datamesh_domain.d"), vec!["update"]);
    assert_eq!(actions("datamesh_data_product.p"), vec!["update"]);
    assert_eq!(actions("datamesh_stream.s"), vec!["no-op"]);
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(tf.resource("datamesh_domain.d")["description"], "Orders and refunds");
    assert_eq!(tf.resource("datamesh_data_product.p")["description"], "Orders and refunds");

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
    assert!(
        results.first().is_some_and(|(cli, r)| cli.what.contains("required") && r.is_ok()),
        "the pinned Terraform ran"
    );
}
