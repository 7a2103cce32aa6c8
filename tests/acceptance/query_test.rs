//! `terraform query` finds data products and streams in the catalog; `-generate-config-out`
//! writes configuration (with identity-based import blocks) that imports with no diff. Also:
//! plans read well for reviewers.

use crate::support::Tf;

fn owned(p: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "sales" {{
  name  = "{p}-sales"
  owner = "sales@example.com"
}}

resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
  retention_days = 30
  tags           = {{ team = "sales" }}
}}

resource "datamesh_stream" "events" {{
  data_product = datamesh_data_product.orders.id
  name         = "events"
  retention_ms = 3600000
}}
"#
    )
}

#[test]
fn query_lists_what_exists_and_generated_config_imports_with_no_diff() {
    let owner = Tf::new();
    let p = owner.prefix.clone();
    owner.write(&owned(&p));
    owner.apply();

    // Another team's directory, same platform (prefix), no state: discover and adopt.
    let mut finder = Tf::new();
    finder.set_prefix(&p);
    finder.write("");
    finder.write_file(
        "discover.tfquery.hcl",
        &format!(
            r#"list "datamesh_data_product" "sales" {{
  provider         = datamesh
  include_resource = true
  config {{
    domain = "{p}-sales"
  }}
}}

list "datamesh_stream" "sales" {{
  provider         = datamesh
  include_resource = true
  config {{
    domain = "{p}-sales"
  }}
}}
"#
        ),
    );
    let out = finder.run(&["query", "-no-color"]);
    let text = crate::support::combined(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains(&format!("domain={p}-sales,name=orders")), "{text}");
    assert!(text.contains(&format!("topic={p}-sales.orders.events")), "{text}");

    let out = finder.run(&["query", "-no-color", "-generate-config-out=generated.tf"]);
    assert!(out.status.success(), "{}", crate::support::combined(&out));
    let generated = std::fs::read_to_string(finder.path().join("generated.tf")).unwrap();
    assert!(generated.contains("identity = {"), "imports by identity:\n{generated}");
    std::fs::remove_file(finder.path().join("discover.tfquery.hcl")).unwrap();

    let out = finder.apply();
    assert!(out.contains("2 imported, 0 added, 0 changed, 0 destroyed"), "{out}");
    finder.assert_no_changes();
    // The adopted resources are the owner's too: leave their destruction to the owner.
    finder.state_rm("datamesh_data_product.sales_0");
    finder.state_rm("datamesh_stream.sales_0");
}

#[test]
fn an_in_place_description_change_plans_one_update_with_nothing_unknown() {
    let tf = Tf::new();
    let p = tf.prefix.clone();
    tf.write(&owned(&p));
    tf.apply();
    tf.write(
        &owned(&p).replace("retention_days = 30", "retention_days = 30\n  description    = \"Orders, one per line\""),
    );
    let plan = tf.plan_json();
    let changes: Vec<&serde_json::Value> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"]["actions"] != serde_json::json!(["no-op"]))
        .collect();
    assert_eq!(changes.len(), 1, "exactly one change: {changes:#?}");
    assert_eq!(changes[0]["address"], "datamesh_data_product.orders");
    assert_eq!(changes[0]["change"]["actions"], serde_json::json!(["update"]));
    let unknown = &changes[0]["change"]["after_unknown"];
    let any_unknown = unknown
        .as_object()
        .map(|m| m.values().any(|v| v != &serde_json::json!(false) && !v.is_object() && !v.is_array()))
        .unwrap_or(false);
    assert!(!any_unknown, "no computed attribute is unknown on an update: {unknown}");
    assert_eq!(changes[0]["change"]["after"]["tags_all"]["team"], "sales", "tags_all shows the merged tags");
}

/// Regression: the domain filter's check moved from the protocol server into the list
/// resources; a hostile filter must still fail at its path before any catalog prefix is listed.
#[test]
fn a_query_with_an_invalid_domain_filter_fails_at_the_filter() {
    let tf = Tf::new();
    tf.write("");
    tf.write_file(
        "bad.tfquery.hcl",
        r#"list "datamesh_stream" "bad" {
  provider = datamesh
  config {
    domain = "../sales"
  }
}
"#,
    );
    let out = tf.run(&["query", "-no-color"]);
    let text = crate::support::combined(&out);
    assert!(!out.status.success(), "an invalid filter must fail the query:\n{text}");
    assert!(text.contains("Invalid domain"), "{text}");
    assert!(text.contains("domain = \"../sales\""), "the diagnostic points at the filter:\n{text}");
}
