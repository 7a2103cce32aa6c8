//! Every validation rule in the design fails at plan time (or at `terraform validate` where the
//! values are known), with a diagnostic at the attribute's path and nothing created.

use crate::support::{Backends, Tf};

/// One rule: the resource HCL, extra provider settings, the summary expected, and the source
/// line Terraform quotes for the attribute the diagnostic points at.
struct Case {
    name: &'static str,
    provider: &'static str,
    body: String,
    summary: &'static str,
    at: &'static str,
}

fn product(attrs: &str) -> String {
    format!("resource \"datamesh_data_product\" \"p\" {{\n  domain = \"sales\"\n  name = \"orders\"\n{attrs}\n}}\n")
}

fn check(cases: Vec<Case>, command: &str) {
    for case in cases {
        let mut tf = Tf::new();
        tf.provider_config(case.provider);
        tf.write(&case.body);
        let out = if command == "validate" { tf.validate_fails() } else { tf.plan_fails() };
        assert!(out.contains(case.summary), "{}: expected {:?} in:\n{out}", case.name, case.summary);
        assert!(out.contains(case.at), "{}: expected the diagnostic at {:?} in:\n{out}", case.name, case.at);
        let b = Backends::for_prefix(&tf.prefix);
        let catalog = format!("{}-catalog", tf.prefix);
        assert!(!b.block_on(b.storage().bucket_exists(&catalog)).unwrap(), "{}: nothing may be created", case.name);
    }
}

#[test]
fn names_and_values_are_checked_by_terraform_validate() {
    check(
        vec![
            Case { name: "domain name", provider: "", body: "resource \"datamesh_domain\" \"d\" {\n  name = \"Sales\"\n  owner = \"x\"\n}\n".into(), summary: "Invalid name", at: "name = \"Sales\"" },
            Case { name: "domain owner", provider: "", body: "resource \"datamesh_domain\" \"d\" {\n  name = \"sales\"\n  owner = \"  \"\n}\n".into(), summary: "Empty owner", at: "owner = \"  \"" },
            Case { name: "domain principal", provider: "", body: "resource \"datamesh_domain\" \"d\" {\n  name = \"sales\"\n  owner = \"x\"\n  kafka_principal = \"User:*\"\n}\n".into(), summary: "Invalid kafka_principal", at: "kafka_principal = \"User:*\"" },
            Case { name: "reserved tag", provider: "", body: "resource \"datamesh_domain\" \"d\" {\n  name = \"sales\"\n  owner = \"x\"\n  tags = { \"datamesh:owner\" = \"me\" }\n}\n".into(), summary: "Reserved tag key", at: "tags = {" },
            Case { name: "product name", provider: "", body: product("  classification = \"public\"").replace("\"orders\"", "\"Orders!\""), summary: "Invalid name", at: "name = \"Orders!\"" },
            Case { name: "schema JSON", provider: "", body: product("  classification = \"public\"\n  schema = \"{not json\""), summary: "Invalid JSON schema", at: "schema = \"{not json\"" },
            Case { name: "stream name", provider: "", body: "resource \"datamesh_stream\" \"s\" {\n  data_product = \"sales/orders\"\n  name = \"Events.v1\"\n}\n".into(), summary: "Invalid name", at: "name = \"Events.v1\"" },
            Case { name: "stream product id", provider: "", body: "resource \"datamesh_stream\" \"s\" {\n  data_product = \"sales\"\n  name = \"events\"\n}\n".into(), summary: "Invalid data_product", at: "data_product = \"sales\"" },
            Case { name: "partitions", provider: "", body: "resource \"datamesh_stream\" \"s\" {\n  data_product = \"sales/orders\"\n  name = \"events\"\n  partitions = 0\n}\n".into(), summary: "Invalid partitions", at: "partitions = 0" },
            Case { name: "cleanup policy", provider: "", body: "resource \"datamesh_stream\" \"s\" {\n  data_product = \"sales/orders\"\n  name = \"events\"\n  cleanup_policy = \"forever\"\n}\n".into(), summary: "Invalid cleanup_policy", at: "cleanup_policy = \"forever\"" },
            Case { name: "dedicated config", provider: "", body: "resource \"datamesh_stream\" \"s\" {\n  data_product = \"sales/orders\"\n  name = \"events\"\n  config = { \"retention.ms\" = \"1\" }\n}\n".into(), summary: "Use the dedicated attribute", at: "config = {" },
            Case { name: "provider prefix", provider: "", body: String::new(), summary: "", at: "" },
        ]
        .into_iter()
        .filter(|c| !c.summary.is_empty())
        .collect(),
        "validate",
    );
}

#[test]
fn governance_rules_fail_the_plan_at_the_attribute() {
    check(
        vec![
            Case { name: "allowed classifications", provider: "", body: product("  classification = \"secret\""), summary: "Classification not allowed", at: "classification = \"secret\"" },
            Case { name: "custom classifications", provider: "  governance {\n    allowed_classifications = [\"open\", \"closed\"]\n  }", body: product("  classification = \"internal\""), summary: "Classification not allowed", at: "classification = \"internal\"" },
            Case { name: "pii minimum", provider: "", body: product("  classification = \"internal\"\n  contains_pii = true"), summary: "Classification too low for personal data", at: "classification = \"internal\"" },
            Case { name: "max retention", provider: "  governance {\n    max_retention_days = 30\n  }", body: product("  classification = \"public\"\n  retention_days = 31"), summary: "Retention too long", at: "retention_days = 31" },
            Case { name: "retention positive", provider: "", body: product("  classification = \"public\"\n  retention_days = 0"), summary: "Invalid retention_days", at: "retention_days = 0" },
            Case { name: "required tags", provider: "  governance {\n    required_tags = [\"cost_center\"]\n  }", body: product("  classification = \"public\"\n  tags = { team = \"a\" }"), summary: "Missing required tags", at: "tags = { team = \"a\" }" },
            Case {
                name: "bucket name too long",
                provider: "",
                body: format!("resource \"datamesh_data_product\" \"p\" {{\n  domain = \"{}\"\n  name = \"{}\"\n  classification = \"public\"\n}}\n", "d".repeat(31), "p".repeat(41)),
                summary: "Bucket name not possible",
                at: "name = \"ppppp",
            },
        ],
        "plan",
    );
}

#[test]
fn governance_applies_to_values_known_only_at_plan_time() {
    // A variable is unknown to `terraform validate` but known to `terraform plan`; a value
    // from another resource's known attribute is checked the same way.
    let mut tf = Tf::new();
    tf.provider_config("  governance {\n    required_tags = [\"cost_center\"]\n  }");
    tf.write(
        r#"variable "classification" {
  default = "secret"
}

resource "terraform_data" "tags" {
  input = { team = "a" }
}

resource "datamesh_data_product" "p" {
  domain         = "sales"
  name           = "orders"
  classification = var.classification
}
"#,
    );
    let out = tf.run(&["validate", "-no-color"]);
    assert!(out.status.success(), "validate cannot know the variable: {}", crate::support::combined(&out));
    let out = tf.plan_fails();
    assert!(out.contains("Classification not allowed"), "{out}");
    assert!(out.contains("classification = var.classification"), "{out}");
    assert!(out.contains("Missing required tags"), "{out}");
}

#[test]
fn an_invalid_provider_configuration_is_reported_at_its_setting() {
    let mut tf = Tf::new();
    tf.provider_config("  governance {\n    pii_min_classification = \"secret\"\n  }");
    // Terraform configures a provider only when something uses it.
    tf.write("resource \"datamesh_domain\" \"d\" {\n  name = \"sales\"\n  owner = \"x\"\n}\n");
    let out = tf.plan_fails();
    assert!(out.contains("Unknown classification"), "{out}");
    assert!(out.contains("pii_min_classification = \"secret\""), "{out}");
}

#[test]
fn hostile_names_and_values_are_rejected_before_anything_is_touched() {
    let domain = |attrs: &str| {
        format!("resource \"datamesh_domain\" \"d\" {{\n  name = \"sales\"\n  owner = \"x\"\n{attrs}\n}}\n")
    };
    let grant = |consumer: &str, product: &str| {
        format!("resource \"datamesh_access_grant\" \"g\" {{\n  consumer_domain = \"{consumer}\"\n  data_product = \"{product}\"\n  purpose = \"p\"\n}}\n")
    };
    check(
        vec![
            Case {
                name: "wildcard domain",
                provider: "",
                body: domain("").replace("\"sales\"", "\"sales*\""),
                summary: "Invalid name",
                at: "name = \"sales*\"",
            },
            Case {
                name: "dot-dot product",
                provider: "",
                body: product("  classification = \"public\"").replace("\"orders\"", "\"..\""),
                summary: "Invalid name",
                at: "name = \"..\"",
            },
            Case {
                name: "slash stream",
                provider: "",
                body: "resource \"datamesh_stream\" \"s\" {\n  data_product = \"sales/orders\"\n  name = \"a/b\"\n}\n"
                    .into(),
                summary: "Invalid name",
                at: "name = \"a/b\"",
            },
            Case {
                name: "path in product id",
                provider: "",
                body: grant("mkt", "sales/../hr"),
                summary: "Invalid data_product",
                at: "data_product = \"sales/../hr\"",
            },
            Case {
                name: "quote in consumer",
                provider: "",
                body: grant("mkt\\\"x", "sales/orders"),
                summary: "Invalid consumer_domain",
                at: "consumer_domain = ",
            },
            Case {
                name: "look-alike principal",
                provider: "",
                body: domain("  kafka_principal = \"User:sаles\""),
                summary: "Invalid kafka_principal",
                at: "kafka_principal = ",
            },
            Case {
                name: "wildcard trust",
                provider: "",
                body: domain("  trusted_principal_arns = [\"arn:aws:iam::*:root\"]"),
                summary: "Invalid principal ARN",
                at: "trusted_principal_arns = ",
            },
            Case {
                name: "wildcard tag",
                provider: "",
                body: domain("  tags = { team = \"a*\" }"),
                summary: "Invalid tag",
                at: "tags = ",
            },
            Case {
                name: "quote in owner",
                provider: "",
                body: domain("").replace("owner = \"x\"", "owner = \"x\\\"y\""),
                summary: "Invalid owner",
                at: "owner = ",
            },
            Case {
                name: "over-long description",
                provider: "",
                body: domain(&format!("  description = \"{}\"", "d".repeat(1025))),
                summary: "description too long",
                at: "description = ",
            },
        ],
        "validate",
    );
}
