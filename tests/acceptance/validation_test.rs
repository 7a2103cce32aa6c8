//! Every validation rule in the design fails at plan time (or at `terraform validate` where the
//! values are known), with a diagnostic at the attribute's path; `terraform apply` fails with the
//! same diagnostic, and the backends hold nothing under the test's name prefix afterwards.

use crate::support::inventory::{stack_broker, Inventory};
use crate::support::{combined, Backends, Tf};

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
        let tf = Tf::new();
        let prefix = tf.prefix.clone();
        check_case(tf, &prefix, &case, command);
    }
}

/// `command` (`validate` or `plan`) fails with the case's diagnostic at its attribute, so does
/// `terraform apply`, and nothing exists under `prefix` afterwards.
fn check_case(mut tf: Tf, prefix: &str, case: &Case, command: &str) {
    tf.provider_config(case.provider);
    tf.write(&case.body);
    let expect_diagnostic = |what: &str, out: &str| {
        assert!(out.contains(case.summary), "{}: expected {:?} from {what} in:\n{out}", case.name, case.summary);
        assert!(
            out.contains(case.at),
            "{}: expected the diagnostic at {:?} from {what} in:\n{out}",
            case.name,
            case.at
        );
    };
    let out = if command == "validate" { tf.validate_fails() } else { tf.plan_fails() };
    expect_diagnostic(command, &out);
    expect_diagnostic("apply", &tf.apply_fails());
    assert_nothing_under(prefix, case.name);
}

/// The backends hold nothing under `prefix`: no bucket (the catalog's neither), role, policy,
/// catalog key or topic.
fn assert_nothing_under(prefix: &str, what: &str) {
    let b = Backends::for_prefix(prefix);
    let found = Inventory::scan(&b, prefix, &stack_broker());
    assert_eq!(
        found,
        Inventory::default(),
        "{what}: nothing may be created, but there is:\n{}",
        found.diff(&Inventory::default())
    );
    let catalog = format!("{prefix}-catalog");
    assert!(
        !b.block_on(b.storage().bucket_exists(&catalog)).unwrap(),
        "{what}: nothing may be created, not even {catalog}"
    );
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
        ],
        "validate",
    );

    // The provider's own settings: a name_prefix over 15 characters. It starts with the test's
    // prefix, so whatever got past the check would be found under that.
    let mut tf = Tf::new();
    let prefix = tf.prefix.clone();
    tf.set_prefix(&format!("{prefix}-too-long"));
    let body = format!("resource \"datamesh_domain\" \"d\" {{\n  name = \"{prefix}-sales\"\n  owner = \"x\"\n}}\n");
    let case =
        Case { name: "provider prefix", provider: "", body, summary: "Invalid name_prefix", at: "name_prefix = " };
    check_case(tf, &prefix, &case, "validate");
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

/// A domain, terraform_data `tags` = `{ team = "a" }` (no `cost_center`) and `class` = `"secret"`
/// (not an allowed classification), and a product of the domain whose tags and classification
/// come from the attribute `attr` of those (`input`: known at plan; `output`: known only once
/// they are created). A real domain, so that a product that got past the rules would be made.
fn governed_from_another_resource(prefix: &str, attr: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "d" {{
  name  = "{prefix}-sales"
  owner = "sales@example.com"
}}

resource "terraform_data" "tags" {{
  input = {{ team = "a" }}
}}

resource "terraform_data" "class" {{
  input = "secret"
}}

resource "datamesh_data_product" "p" {{
  domain         = datamesh_domain.d.name
  name           = "orders"
  classification = terraform_data.class.{attr}
  tags           = terraform_data.tags.{attr}
}}
"#
    )
}

const REQUIRE_COST_CENTER: &str = "  governance {\n    required_tags = [\"cost_center\"]\n  }";

#[test]
fn governance_applies_to_values_known_only_at_plan_time() {
    // A variable, and an attribute of another resource that its plan already knows
    // (terraform_data's `input`), are unknown to `terraform validate` but known to `terraform
    // plan`: the plan fails at the attribute, and so the apply makes nothing.
    let mut tf = Tf::new();
    let prefix = tf.prefix.clone();
    tf.provider_config(REQUIRE_COST_CENTER);
    tf.write(&format!(
        r#"variable "classification" {{
  default = "secret"
}}

resource "datamesh_data_product" "v" {{
  domain         = datamesh_domain.d.name
  name           = "refunds"
  classification = var.classification
  tags           = {{ cost_center = "42" }}
}}

{}"#,
        governed_from_another_resource(&prefix, "input")
    ));
    let out = tf.run(&["validate", "-no-color"]);
    assert!(out.status.success(), "validate cannot know the variable or the other resource: {}", combined(&out));
    for (what, out) in [("plan", tf.plan_fails()), ("apply", tf.apply_fails())] {
        for (summary, at) in [
            ("Classification not allowed", "classification = var.classification"),
            ("Classification not allowed", "classification = terraform_data.class.input"),
            ("Missing required tags", "tags           = terraform_data.tags.input"),
        ] {
            assert!(out.contains(summary) && out.contains(at), "{what}: expected {summary:?} at {at:?} in:\n{out}");
        }
        assert_eq!(out.matches("Classification not allowed").count(), 2, "{what}: once for each product:\n{out}");
    }
    assert!(tf.resource("datamesh_domain.d").is_null(), "a failed plan applies nothing");
    assert_nothing_under(&prefix, "a plan that failed its governance");
}

#[test]
fn governance_applies_to_values_known_only_after_apply() {
    // terraform_data's `output` is unknown until it is created: the plan cannot check the
    // product, but Terraform plans it again during the apply, with the values known, and the
    // rules hold there: the apply fails at the attributes and the product is never created.
    let mut tf = Tf::new();
    let prefix = tf.prefix.clone();
    tf.provider_config(REQUIRE_COST_CENTER);
    let config = governed_from_another_resource(&prefix, "output");
    tf.write(&config);
    let actions = tf.planned_actions("datamesh_data_product.p");
    assert_eq!(actions, vec!["create"], "the plan cannot know the values yet");
    let out = tf.apply_fails();
    for (summary, at) in [
        ("Classification not allowed", "classification = terraform_data.class.output"),
        ("Missing required tags", "tags           = terraform_data.tags.output"),
    ] {
        assert!(out.contains(summary) && out.contains(at), "apply: expected {summary:?} at {at:?} in:\n{out}");
    }
    let state: serde_json::Value = serde_json::from_str(
        tf.run_ok(&["show", "-json", "-no-color"]).lines().find(|l| l.starts_with('{')).unwrap_or("{}"),
    )
    .expect("state JSON");
    let resources = state["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default();
    let addresses: Vec<&str> = resources.iter().filter_map(|r| r["address"].as_str()).collect();
    assert!(addresses.contains(&"datamesh_domain.d"), "the domain was created: {addresses:?}");
    assert!(!addresses.contains(&"datamesh_data_product.p"), "the product was not: {addresses:?}");
    // The domain's role and catalog entry exist, as state says; nothing of the product does.
    let b = Backends::for_prefix(&prefix);
    let (have, want) = (Inventory::scan(&b, &prefix, &stack_broker()), Inventory::from_state(&prefix, &resources));
    assert_eq!(have, want, "backends (left) differ from state (right):\n{}", have.diff(&want));
    assert!(have.buckets.is_empty() && have.policies.is_empty(), "nothing of the product: {have:?}");
    assert_eq!(have.roles.len(), 1, "the domain's role, as a check that the scan sees what exists: {have:?}");
    // `terraform destroy` plans the configuration too: without the product, it can.
    tf.write(config.split("resource \"datamesh_data_product\"").next().unwrap_or_default());
    tf.destroy();
    let left = Inventory::scan(&b, &prefix, &stack_broker());
    assert_eq!(left, Inventory::default(), "destroy leaves nothing:\n{}", left.diff(&Inventory::default()));
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

/// A rule tightened after a product was made (here `max_retention_days`) also stops
/// `terraform destroy`: its plan of the configuration runs the same checks (Terraform's
/// behaviour, hashicorp/terraform#33908). The way out the diagnostic names works: destroy
/// without the refresh plan.
#[test]
fn a_rule_broken_after_apply_stops_destroy_and_destroy_without_refresh_gets_out() {
    let mut tf = Tf::new();
    let prefix = tf.prefix.clone();
    let body = format!(
        "resource \"datamesh_domain\" \"d\" {{\n  name = \"{prefix}-sales\"\n  owner = \"x\"\n}}\n\n\
         resource \"datamesh_data_product\" \"p\" {{\n  domain = datamesh_domain.d.name\n  name = \"orders\"\n  \
         classification = \"public\"\n  retention_days = 60\n  force_destroy = true\n}}\n"
    );
    tf.write(&body);
    tf.apply();
    tf.provider_config("  governance {\n    max_retention_days = 30\n  }");
    tf.write(&body);
    let out = tf.run(&["destroy", "-auto-approve", "-no-color"]);
    let text = crate::support::combined(&out);
    assert!(!out.status.success(), "the broken rule stops a plain destroy:\n{text}");
    assert!(text.contains("Retention too long"), "{text}");
    // Terraform wraps diagnostic details: compare with the line breaks taken out.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("terraform destroy -refresh=false"), "the diagnostic names the way out:\n{text}");
    let out = tf.run(&["destroy", "-auto-approve", "-no-color", "-refresh=false"]);
    let text = crate::support::combined(&out);
    assert!(out.status.success(), "destroy without the refresh plan gets out:\n{text}");
    tf.destroyed();
    let b = Backends::for_prefix(&prefix);
    let left = Inventory::scan(&b, &prefix, &stack_broker());
    assert_eq!(left, Inventory::default(), "nothing is left:\n{}", left.diff(&Inventory::default()));
}
