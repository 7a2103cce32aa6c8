//! `datamesh_domain` through its whole lifecycle.

use std::collections::BTreeMap;

use crate::support::{Backends, Tf};

fn domain_hcl(name: &str, owner: &str, tags: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "d" {{
  name        = "{name}"
  owner       = "{owner}"
  description = "Orders and invoices"
  tags        = {tags}
}}
"#
    )
}

#[test]
fn domain_lifecycle_create_update_drift_import_replace_destroy() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let name = format!("{}-sales", tf.prefix);
    let role = format!("{}-domain-{name}", tf.prefix);

    // Create, and a plan right after shows no changes.
    tf.write(&domain_hcl(&name, "sales@example.com", r#"{ team = "sales" }"#));
    tf.apply();
    tf.assert_no_changes();
    let state = tf.resource("datamesh_domain.d");
    assert_eq!(state["id"], name.as_str());
    assert_eq!(state["role_name"], role.as_str());
    assert_eq!(state["kafka_principal"], format!("User:{name}"));
    assert_eq!(state["trusted_principal_arns"][0], "arn:aws:iam::123456789012:root");
    let iam = b.iam();
    let r = b.block_on(iam.get_role(&role)).unwrap().expect("role exists");
    assert_eq!(r.tags["datamesh:domain"], name);
    assert_eq!(r.tags["datamesh:owner"], "sales@example.com");
    assert_eq!(r.tags["team"], "sales");
    assert!(b.catalog_has(&format!("domains/{name}.json")));

    // Update in place: owner and tags.
    tf.write(&domain_hcl(&name, "revenue@example.com", r#"{ team = "revenue" }"#));
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    let r = b.block_on(iam.get_role(&role)).unwrap().unwrap();
    assert_eq!(r.tags["datamesh:owner"], "revenue@example.com");
    assert_eq!(r.tags["team"], "revenue");

    // Drift: a tag removed outside Terraform is planned back.
    let mut tags = r.tags.clone();
    tags.remove("team");
    b.block_on(iam.set_role_tags(&role, &tags)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["update"]);
    tf.apply();
    let r = b.block_on(iam.get_role(&role)).unwrap().unwrap();
    assert_eq!(r.tags["team"], "revenue");

    // Drift: a trust policy edited outside Terraform is planned back.
    b.block_on(iam.update_trust_policy(
        &role,
        &terraform_provider_datamesh::policy::trust_policy(&["arn:aws:iam::999999999999:root".into()]),
    ))
    .unwrap();
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();

    // Import with an import block: no diff afterwards.
    tf.state_rm("datamesh_domain.d");
    tf.write(&format!(
        "{}\nimport {{\n  to = datamesh_domain.d\n  id = \"{name}\"\n}}\n",
        domain_hcl(&name, "revenue@example.com", r#"{ team = "revenue" }"#)
    ));
    let out = tf.apply();
    assert!(out.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{out}");
    tf.assert_no_changes();

    // Drift: the role deleted outside Terraform disappears from state and is planned for creation.
    b.block_on(iam.delete_role(&role)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["create"]);
    tf.apply();
    tf.assert_no_changes();

    // A new name replaces the domain.
    let renamed = format!("{}-revenue", tf.prefix);
    tf.write(&domain_hcl(&renamed, "revenue@example.com", r#"{ team = "revenue" }"#));
    assert_eq!(tf.planned_actions("datamesh_domain.d"), vec!["delete", "create"]);
    tf.apply();
    assert!(b.block_on(iam.get_role(&role)).unwrap().is_none(), "old role is gone");
    assert!(!b.catalog_has(&format!("domains/{name}.json")), "old catalog entry is gone");

    // Destroy leaves nothing behind.
    tf.destroy();
    let new_role = format!("{}-domain-{renamed}", tf.prefix);
    assert!(b.block_on(iam.get_role(&new_role)).unwrap().is_none());
    assert!(!b.catalog_has(&format!("domains/{renamed}.json")));
}

#[test]
fn creating_a_domain_whose_role_exists_is_an_error_suggesting_import() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let name = format!("{}-taken", tf.prefix);
    let role = format!("{}-domain-{name}", tf.prefix);
    let iam = b.iam();
    b.block_on(iam.create_role(
        &role,
        "/datamesh/",
        &terraform_provider_datamesh::policy::trust_policy(&[]),
        &BTreeMap::new(),
    ))
    .unwrap();
    tf.write(&domain_hcl(&name, "x@example.com", "{}"));
    let out = tf.apply_fails();
    assert!(out.contains("already exists"), "{out}");
    assert!(out.contains("terraform import"), "{out}");
    let r = b.block_on(iam.get_role(&role)).unwrap().unwrap();
    assert!(!r.tags.contains_key("datamesh:owner"), "the existing role was not adopted or changed");
    b.block_on(iam.delete_role(&role)).unwrap();
}
