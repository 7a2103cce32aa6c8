//! The core lifecycle (domain + data product + stream: create, no-change plan, in-place update,
//! destroy) against every Terraform-compatible CLI this machine has: the harness's CLI
//! (`TF_ACC_TERRAFORM_PATH`, else the pinned launcher), and `terraform` and `tofu` on PATH when
//! installed. A CLI that is not installed is not in the list; the test prints which ran.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{combined, require_stack, terraform_binary, Backends, Tf};

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

/// The distinct CLIs to run: the same file reached twice, or the same version twice, runs once.
fn clis() -> Vec<(PathBuf, String)> {
    let mut candidates = vec![("the harness's CLI", Some(terraform_binary()))];
    candidates.push(("terraform on PATH", on_path("terraform")));
    candidates.push(("tofu on PATH", on_path("tofu")));
    let mut found: Vec<(PathBuf, String)> = Vec::new();
    for (what, cli) in candidates {
        let Some(cli) = cli else {
            eprintln!("CLI versions: {what}: not installed");
            continue;
        };
        let real = std::fs::canonicalize(&cli).unwrap_or_else(|_| cli.clone());
        let version = version_line(&cli);
        if found.iter().any(|(p, v)| std::fs::canonicalize(p).is_ok_and(|r| r == real) || *v == version) {
            eprintln!("CLI versions: {what}: {} ({version}), already in the list", cli.display());
            continue;
        }
        eprintln!("CLI versions: {what}: {} ({version})", cli.display());
        found.push((cli, version));
    }
    found
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
    let clis = clis();
    assert!(!clis.is_empty(), "the harness's CLI always runs");
    // One thread per CLI: they use separate prefixes, and the slowest CLI sets the wall time.
    let failures: Vec<String> = std::thread::scope(|s| {
        let running: Vec<_> =
            clis.iter().map(|(cli, version)| (version, s.spawn(|| lifecycle(cli, version)))).collect();
        running
            .into_iter()
            .filter_map(|(version, handle)| {
                let err = handle.join().err()?;
                let msg = err
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Some(format!("{version}: {msg}"))
            })
            .collect()
    });
    let versions: Vec<&str> = clis.iter().map(|(_, v)| v.as_str()).collect();
    assert!(failures.is_empty(), "the lifecycle failed with:\n{}", failures.join("\n\n"));
    eprintln!("CLI versions: lifecycle passed with {}", versions.join(", "));
}
