//! `datamesh_domain.kafka_quota` on Apache Kafka: the client quota on user `<name>` through its
//! lifecycle (set, changed, drifted and deleted outside Terraform, imported, removed,
//! destroyed), read back through the provider's own backend and, independently, through
//! Apache Kafka's Java Admin client; and the plan-time checks of its values.

use std::process::Command;

use crate::support::{Backends, Tf};
use terraform_provider_datamesh::backends::streaming::Quota;

fn domain(name: &str, quota: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "d" {{
  name  = "{name}"
  owner = "team@example.com"
{quota}
}}
"#
    )
}

fn quota_block(body: &str) -> String {
    format!("  kafka_quota {{\n{body}\n  }}")
}

/// The quota as the provider's own Streaming backend reads it.
fn on_broker(b: &Backends, user: &str) -> Option<Quota> {
    b.block_on(b.streaming().describe_user_quota(user)).expect("DescribeClientQuotas")
}

/// The quota as Apache Kafka's own Admin client reads it (`support/DescribeQuota.java`, run with
/// the stack broker's own jars): `key=value` lines, sorted. Never skipped: without the jars or a
/// JDK the test fails, saying so.
fn on_broker_per_kafka(user: &str) -> Option<Vec<String>> {
    let tools = std::env::var("DATAMESH_TOOLS_DIR").expect("DATAMESH_TOOLS_DIR from stack.env");
    let versions =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/versions.sh"))
            .expect("scripts/versions.sh");
    let version = versions.lines().find_map(|l| l.strip_prefix("KAFKA_VERSION=")).expect("KAFKA_VERSION pinned");
    let libs = std::path::Path::new(&tools).join(format!("kafka-{}/libs", version.trim()));
    assert!(
        libs.is_dir(),
        "{} is missing: the stack installs Apache Kafka's jars there (scripts/tools.sh kafka)",
        libs.display()
    );
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/acceptance/support/DescribeQuota.java");
    let out = Command::new("java")
        .arg("-cp")
        .arg(format!("{}/*", libs.display()))
        .arg(source)
        .arg(user)
        .output()
        .expect("run java (a JDK 17 is a prerequisite of the stack)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "DescribeQuota.java failed:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    let keys = ["producer_byte_rate=", "consumer_byte_rate=", "request_percentage="];
    let mut lines: Vec<String> =
        text.lines().filter(|l| keys.iter().any(|k| l.starts_with(k))).map(str::to_string).collect();
    lines.sort();
    Some(lines)
}

#[test]
fn kafka_quota_lifecycle_update_drift_import_remove_destroy() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let name = format!("{}-quota", tf.prefix);
    let streaming = b.streaming();

    // Create: the quota is on user <name>.
    let first = quota_block("    producer_byte_rate = 1048576\n    consumer_byte_rate = 2097152");
    tf.write(&domain(&name, &first));
    tf.apply();
    let want =
        Quota { producer_byte_rate: Some(1048576.0), consumer_byte_rate: Some(2097152.0), request_percentage: None };
    assert_eq!(on_broker(&b, &name), Some(want));
    if let Some(lines) = on_broker_per_kafka(&name) {
        assert_eq!(lines, vec!["consumer_byte_rate=2097152.0", "producer_byte_rate=1048576.0"]);
    }
    tf.assert_no_changes();
    let state = tf.resource("datamesh_domain.d");
    assert_eq!(state["kafka_quota"]["producer_byte_rate"], 1048576);
    assert!(state["kafka_quota"]["request_percentage"].is_null());

    // Change a value, add one, drop one: an update in place.
    let second = quota_block("    producer_byte_rate = 524288\n    request_percentage = 150");
    tf.write(&domain(&name, &second));
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["update"]);
    tf.apply();
    let want = Quota { producer_byte_rate: Some(524288.0), consumer_byte_rate: None, request_percentage: Some(150.0) };
    assert_eq!(on_broker(&b, &name), Some(want));
    tf.assert_no_changes();

    // Changed outside Terraform: planned back.
    let drifted = Quota { producer_byte_rate: Some(1.0), consumer_byte_rate: Some(5.0), request_percentage: None };
    b.block_on(streaming.set_user_quota(&name, Some(&drifted))).expect("alter the quota outside Terraform");
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["update"]);
    tf.apply();
    assert_eq!(on_broker(&b, &name), Some(want));
    tf.assert_no_changes();

    // Deleted outside Terraform: planned back.
    b.block_on(streaming.set_user_quota(&name, None)).expect("delete the quota outside Terraform");
    assert_eq!(on_broker(&b, &name), None);
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["update"]);
    tf.apply();
    assert_eq!(on_broker(&b, &name), Some(want));

    // Import reads it.
    tf.state_rm("datamesh_domain.d");
    tf.write(&format!("{}\nimport {{\n  to = datamesh_domain.d\n  id = \"{name}\"\n}}\n", domain(&name, &second)));
    let out = tf.apply();
    assert!(out.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{out}");
    assert_eq!(tf.resource("datamesh_domain.d")["kafka_quota"]["request_percentage"], 150);
    tf.write(&domain(&name, &second));
    tf.assert_no_changes();

    // Removing the block removes the quota.
    tf.write(&domain(&name, ""));
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["update"]);
    tf.apply();
    assert_eq!(on_broker(&b, &name), None);
    if let Some(lines) = on_broker_per_kafka(&name) {
        assert!(lines.is_empty(), "{lines:?}");
    }
    tf.assert_no_changes();

    // Destroy removes it too.
    tf.write(&domain(&name, &quota_block("    consumer_byte_rate = 4096")));
    tf.apply();
    assert_eq!(on_broker(&b, &name).and_then(|q| q.consumer_byte_rate), Some(4096.0));
    tf.destroy();
    assert_eq!(on_broker(&b, &name), None);
}

#[test]
fn invalid_quota_values_fail_at_plan_at_their_attribute() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let name = format!("{}-badquota", tf.prefix);
    tf.write(&domain(&name, &quota_block("    producer_byte_rate = -1024\n    request_percentage = 0")));
    let out = tf.plan_fails();
    let flat = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("Invalid producer_byte_rate"), "{out}");
    assert!(flat.contains("a quota must be greater than 0"), "{out}");
    assert!(flat.contains("Set a positive number"), "{out}");
    assert!(flat.contains("producer_byte_rate = -1024"), "the error points at the attribute:\n{out}");
    assert!(flat.contains("Invalid request_percentage"), "{out}");

    tf.write(&domain(&name, &quota_block("    consumer_byte_rate = 10.5")));
    let out = tf.plan_fails();
    assert!(out.contains("whole number"), "{out}");

    tf.write(&domain(&name, &quota_block("")));
    let out = tf.plan_fails();
    assert!(out.contains("Set at least one of producer_byte_rate"), "{out}");
    assert_eq!(on_broker(&b, &name), None, "nothing reached the broker");
}
