//! OpenTofu (the pinned one, `DATAMESH_TOFU`) beyond what the shared scenarios run with it (the
//! core lifecycle with import blocks and `moved` in cli_versions_test, functions, ephemeral
//! credentials): write-only passwords, proven by Kafka logins; and what OpenTofu 1.12 lacks,
//! measured: actions and list resources (`terraform query`) are absent from the schema it reads,
//! and an `action` block, `-invoke` and `tofu query` fail with its own messages.

use serde_json::Value as Json;

use crate::kafka_access_test::{apply_keeping_secrets, hcl, login};
use crate::support::{combined, tofu_binary, unique, Tf};

#[test]
fn opentofu_sets_write_only_passwords_that_kafka_accepts_and_never_stores() {
    let mut tf = Tf::tofu();
    let p = tf.prefix.clone();
    let (sales, ops) = (format!("{p}-sales"), format!("{p}-ops"));
    let (sales_pw, ops_pw) = (unique('s'), unique('o'));
    tf.env("TF_VAR_pw_sales", &sales_pw);
    tf.env("TF_VAR_pw_ops", &ops_pw);

    tf.write(&hcl(&p, &[("sales", 1), ("ops", 1)], None));
    apply_keeping_secrets(&tf, &[&sales_pw, &ops_pw]);
    tf.assert_no_changes();
    login(&sales, &sales_pw).unwrap_or_else(|e| panic!("{sales} logs in with the password OpenTofu sent: {e}"));
    login(&ops, &ops_pw).unwrap_or_else(|e| panic!("{ops} logs in: {e}"));
    let refused = login(&sales, "not-the-password").expect_err("a wrong password is refused");
    assert!(refused.contains("SaslAuthenticate error"), "{refused}");

    // A new password_wo_version rolls the password: the old one stops working.
    let new_pw = unique('n');
    tf.env("TF_VAR_pw_sales", &new_pw);
    tf.write(&hcl(&p, &[("sales", 2), ("ops", 1)], None));
    assert_eq!(tf.planned_actions("datamesh_domain.sales"), vec!["update"], "the version change is a plan");
    tf.apply();
    login(&sales, &new_pw).expect("the new password works");
    assert!(login(&sales, &sales_pw).is_err(), "the old password is refused");

    tf.destroy();
    assert!(login(&sales, &new_pw).is_err(), "{sales}'s credential was deleted with the domain");
}

/// `providers schema -json` of the provider in `tf`, the provider's own entry.
fn schema_seen_by(tf: &Tf) -> Json {
    let out = tf.run_ok(&["providers", "schema", "-json"]);
    let json: Json = serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap_or("{}"))
        .unwrap_or_else(|e| panic!("{} providers schema -json: {e}\n{out}", tf.cli().display()));
    let providers = json["provider_schemas"].as_object().cloned().unwrap_or_default();
    let ours = providers.iter().find(|(source, _)| source.ends_with("/datamesh/datamesh"));
    ours.map(|(_, schema)| schema.clone()).unwrap_or_else(|| panic!("no datamesh provider in:\n{out}"))
}

/// The names of one kind of thing in a provider schema (`resource_schemas`, `functions`, ...).
fn names(schema: &Json, kind: &str) -> Vec<String> {
    schema[kind].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn opentofu_reads_no_actions_or_list_resources_and_refuses_them_with_its_own_messages() {
    let (terraform, tofu) = (Tf::new(), Tf::tofu());
    terraform.write("");
    tofu.write("");
    let (with_terraform, with_tofu) = (schema_seen_by(&terraform), schema_seen_by(&tofu));

    // Both read the same resources, data sources, ephemeral resources, functions and identities.
    for kind in [
        "resource_schemas",
        "data_source_schemas",
        "ephemeral_resource_schemas",
        "functions",
        "resource_identity_schemas",
    ] {
        assert!(!names(&with_terraform, kind).is_empty(), "Terraform reads {kind}");
        assert_eq!(names(&with_tofu, kind), names(&with_terraform, kind), "OpenTofu reads the same {kind}");
    }
    // Terraform reads the action and the list resources; OpenTofu 1.12 has neither in its schema.
    assert_eq!(names(&with_terraform, "action_schemas"), vec!["datamesh_run_pipeline"]);
    assert_eq!(names(&with_terraform, "list_resource_schemas"), vec!["datamesh_data_product", "datamesh_stream"]);
    let kinds: Vec<&String> = with_tofu.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    for kind in ["action_schemas", "list_resource_schemas"] {
        assert!(with_tofu.get(kind).is_none(), "OpenTofu reads no {kind}; it read {kinds:?}");
    }

    // A configuration without them plans as usual, a list block in a .tfquery.hcl file beside it
    // is not read at all.
    tofu.write(&format!(
        "resource \"datamesh_domain\" \"d\" {{\n  name  = \"{}-sales\"\n  owner = \"sales@example.com\"\n}}\n",
        tofu.prefix
    ));
    tofu.write_file(
        "discover.tfquery.hcl",
        "list \"datamesh_data_product\" \"all\" {\n  provider = datamesh\n  config {\n    domain = \"sales\"\n  }\n}\n",
    );
    let plan = tofu.run_ok(&["plan", "-no-color"]);
    assert!(plan.contains("Plan: 1 to add, 0 to change, 0 to destroy."), "{plan}");

    // What it lacks fails at once, in OpenTofu's own words.
    let query = tofu.run(&["query", "-no-color"]);
    assert!(!query.status.success(), "tofu query fails:\n{}", combined(&query));
    assert!(combined(&query).contains(r#"OpenTofu has no command named "query"."#), "{}", combined(&query));
    let invoke = tofu.run(&["apply", "-auto-approve", "-no-color", "-invoke=action.datamesh_run_pipeline.rerun"]);
    assert!(!invoke.status.success(), "apply -invoke fails:\n{}", combined(&invoke));
    assert!(combined(&invoke).contains("flag provided but not defined: -invoke"), "{}", combined(&invoke));
    tofu.write_file(
        "action.tf",
        "action \"datamesh_run_pipeline\" \"rerun\" {\n  config {\n    pipeline = \"sales/daily\"\n  }\n}\n",
    );
    let out = tofu.plan_fails();
    assert!(out.contains("Unsupported block type"), "{out}");
    assert!(out.contains(r#"Blocks of type "action" are not expected here."#), "{out}");
    assert_eq!(tofu.cli(), tofu_binary().as_path(), "all of this ran with the pinned OpenTofu");
}
