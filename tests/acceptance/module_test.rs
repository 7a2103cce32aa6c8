//! The `data-product` module used as two teams would: the sales and marketing roots of
//! `examples/terraform/domains`, each in its own copy of the examples tree with its own
//! state, applied in the order their comments document. Every plan is read as a reviewer
//! would, from `terraform show -json` of the saved plan.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as Json;

use crate::support::{combined, unique, Backends, Tf};

/// `examples/terraform`, copied whole so that `../../modules/data-product` resolves.
fn examples_tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/terraform")
}

/// A team's root, `domains/<team>`, with its variables set as a pipeline would, initialized.
fn team_root(team: &str, prefix: &str, vars: &[(&str, &str)]) -> Tf {
    let mut tf = Tf::with_tree(&examples_tree(), &format!("domains/{team}"));
    tf.set_prefix(prefix);
    tf.env("TF_VAR_name_prefix", prefix);
    for (name, value) in vars {
        tf.env(&format!("TF_VAR_{name}"), value);
    }
    let out = tf.init();
    assert!(out.contains("in ../../modules/data-product"), "init installs the local module:\n{out}");
    assert!(!out.contains("Installing datamesh/datamesh"), "init must not install an overridden provider:\n{out}");
    tf
}

/// Both teams' roots. A failed test tears down whatever is left: each team's grant sits on
/// the other's role and blocks that domain's destroy, so marketing goes again after sales.
struct Teams {
    sales: Tf,
    marketing: Tf,
}

impl Drop for Teams {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for tf in [&self.marketing, &self.sales, &self.marketing] {
                let _ = tf.run(&["destroy", "-auto-approve", "-no-color"]);
            }
        }
    }
}

/// One planned resource change.
#[derive(Debug, PartialEq)]
struct Change {
    actions: Vec<String>,
    previous_address: Option<String>,
    after: Json,
}

/// Plans into `tfplan` and reads it back: every resource change by address.
fn plan(tf: &Tf) -> BTreeMap<String, Change> {
    tf.run_ok(&["plan", "-out=tfplan", "-no-color"]);
    let out = tf.run_ok(&["show", "-json", "tfplan"]);
    let plan: Json = serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap_or("{}")).expect("plan JSON");
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let actions = c["change"]["actions"].as_array().into_iter().flatten();
            let change = Change {
                actions: actions.filter_map(|a| a.as_str().map(String::from)).collect(),
                previous_address: c["previous_address"].as_str().map(String::from),
                after: c["change"]["after"].clone(),
            };
            (c["address"].as_str().unwrap_or_default().to_string(), change)
        })
        .collect()
}

/// Applies the plan saved by [`plan`], as a pipeline applies what reviewers approved.
fn apply_saved(tf: &Tf) -> String {
    tf.run_ok(&["apply", "-no-color", "tfplan"])
}

/// The root's outputs.
fn outputs(tf: &Tf) -> Json {
    let out = tf.run_ok(&["output", "-json", "-no-color"]);
    // stdout comes first; warnings on stderr may follow the JSON document.
    let start = out.find('{').expect("outputs JSON");
    let json: Json = serde_json::Deserializer::from_str(&out[start..])
        .into_iter()
        .next()
        .expect("outputs JSON")
        .expect("outputs JSON");
    json.as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Every address in the plan, no-ops included.
fn addresses(changes: &BTreeMap<String, Change>) -> Vec<&str> {
    changes.keys().map(String::as_str).collect()
}

/// The addresses the plan would change: everything but no-ops.
fn changed(changes: &BTreeMap<String, Change>) -> Vec<&str> {
    changes.iter().filter(|(_, c)| c.actions != ["no-op"]).map(|(a, _)| a.as_str()).collect()
}

fn assert_all(changes: &BTreeMap<String, Change>, action: &str) {
    for (address, c) in changes {
        assert_eq!(c.actions, vec![action], "{address}: {c:?}");
    }
}

#[test]
fn two_teams_publish_discover_grant_rename_and_tear_down_through_the_module() {
    let prefix = unique('m');
    let b = Backends::for_prefix(&prefix);
    let sales = format!("{prefix}-sales");
    let marketing = format!("{prefix}-marketing");
    let mut teams = Teams {
        sales: team_root("sales", &prefix, &[("domain", &sales)]),
        marketing: team_root("marketing", &prefix, &[("domain", &marketing), ("sales_domain", &sales)]),
    };
    let orders = |key: &str, rest: &str| format!("module.product[\"{key}\"].{rest}");

    // 1. Sales publishes orders and invoices: only creates, exactly these, with the module's
    //    defaults and the root's settings in the planned values.
    let changes = plan(&teams.sales);
    assert_eq!(
        addresses(&changes),
        vec![
            "datamesh_domain.sales",
            "module.product[\"invoices\"].datamesh_data_product.this",
            "module.product[\"invoices\"].datamesh_stream.this[\"invoice-events\"]",
            "module.product[\"orders\"].datamesh_data_product.this",
            "module.product[\"orders\"].datamesh_stream.this[\"order-events\"]",
            "module.product[\"orders\"].datamesh_stream.this[\"order-returns\"]",
        ]
    );
    assert_all(&changes, "create");
    let after = |address: &str| &changes[address].after;
    assert_eq!(after(&orders("orders", "datamesh_data_product.this"))["classification"], "internal");
    assert_eq!(after(&orders("orders", "datamesh_data_product.this"))["tags"]["cost_center"], "sales-42");
    assert_eq!(after(&orders("invoices", "datamesh_data_product.this"))["classification"], "confidential");
    assert_eq!(after(&orders("orders", "datamesh_stream.this[\"order-events\"]"))["retention_ms"], 604800000);
    assert_eq!(after(&orders("orders", "datamesh_stream.this[\"order-returns\"]"))["partitions"], 3, "module default");
    assert_eq!(after(&orders("orders", "datamesh_stream.this[\"order-returns\"]"))["retention_ms"], Json::Null);
    assert_eq!(after(&orders("invoices", "datamesh_stream.this[\"invoice-events\"]"))["partitions"], 6);
    let out = apply_saved(&teams.sales);
    assert!(out.contains("6 added, 0 changed, 0 destroyed"), "{out}");
    teams.sales.assert_no_changes();

    let published = outputs(&teams.sales);
    let orders_bucket = format!("{prefix}-{sales}-orders");
    assert_eq!(published["data_products"]["orders"]["bucket"], orders_bucket.as_str());
    assert_eq!(published["data_products"]["orders"]["id"], format!("{sales}/orders"));
    assert_eq!(published["data_products"]["orders"]["s3_uri"], format!("s3://{orders_bucket}/"));
    assert_eq!(
        published["data_products"]["orders"]["topics"],
        serde_json::json!({
            "order-events": format!("{sales}.orders.order-events"),
            "order-returns": format!("{sales}.orders.order-returns"),
        })
    );
    assert_eq!(published["data_products"]["orders"]["grant_ids"], serde_json::json!({}));
    assert!(b.block_on(b.storage().bucket_exists(&orders_bucket)).unwrap());
    let streaming = b.streaming();
    let topic = b.block_on(streaming.describe_topic(&format!("{sales}.invoices.invoice-events"))).unwrap();
    assert_eq!(topic.expect("invoice-events topic").partitions, 6);

    // 2. Marketing declares its domain and campaigns (granted to sales, which exists now) and
    //    finds sales' orders in the catalog: the look-up is read at plan time, not deferred.
    let changes = plan(&teams.marketing);
    assert_eq!(
        addresses(&changes),
        vec![
            "datamesh_domain.marketing".to_string(),
            format!("module.campaigns.datamesh_access_grant.this[\"{sales}\"]"),
            "module.campaigns.datamesh_data_product.this".to_string(),
            "module.campaigns.datamesh_stream.this[\"clicks\"]".to_string(),
        ]
    );
    assert_all(&changes, "create");
    let grant = &changes[&format!("module.campaigns.datamesh_access_grant.this[\"{sales}\"]")].after;
    assert_eq!(grant["access"], "read", "module default");
    assert_eq!(grant["expires_at"], "2030-01-01T00:00:00Z");
    let out = apply_saved(&teams.marketing);
    assert!(out.contains("4 added, 0 changed, 0 destroyed"), "{out}");
    teams.marketing.assert_no_changes();
    let discovered = outputs(&teams.marketing);
    assert_eq!(discovered["sales_orders_bucket"], published["data_products"]["orders"]["bucket"]);
    assert_eq!(discovered["sales_orders_s3_uri"], published["data_products"]["orders"]["s3_uri"]);
    assert_eq!(
        discovered["campaigns"]["grant_ids"],
        serde_json::json!({ sales.as_str(): format!("{sales}:{marketing}/campaigns") })
    );
    let iam = b.iam();
    let campaigns_policy = format!("datamesh-grant-{marketing}-campaigns");
    let sales_role = format!("{prefix}-domain-{sales}");
    assert!(b.block_on(iam.get_role_policy(&sales_role, &campaigns_policy)).unwrap().is_some());

    // 3. Sales grants orders to marketing, which exists now: the pull request sets
    //    marketing_domain in terraform.tfvars. One create, nothing else.
    let tfvars = teams.sales.workdir().join("terraform.tfvars");
    std::fs::write(&tfvars, format!("marketing_domain = \"{marketing}\"\n")).unwrap();
    let grant_address = orders("orders", &format!("datamesh_access_grant.this[\"{marketing}\"]"));
    let changes = plan(&teams.sales);
    assert_eq!(changed(&changes), vec![grant_address.as_str()]);
    assert_eq!(changes[&grant_address].actions, vec!["create"]);
    assert_eq!(changes[&grant_address].after["purpose"], "Attribute revenue to campaigns");
    apply_saved(&teams.sales);
    teams.sales.assert_no_changes();
    teams.marketing.assert_no_changes();
    let orders_policy = format!("datamesh-grant-{sales}-orders");
    let marketing_role = format!("{prefix}-domain-{marketing}");
    let doc = b.block_on(iam.get_role_policy(&marketing_role, &orders_policy)).unwrap().expect("orders grant policy");
    assert!(doc.contains(&orders_bucket) && doc.contains("s3:GetObject"), "{doc}");
    assert_eq!(
        outputs(&teams.sales)["data_products"]["orders"]["grant_ids"],
        serde_json::json!({ marketing.as_str(): format!("{marketing}:{sales}/orders") })
    );

    // 4. Renaming the module instance key with a moved block keeps every object: no create, no
    //    delete, each of orders' four resources moved with a no-op.
    let main_tf = teams.sales.workdir().join("main.tf");
    let hcl = std::fs::read_to_string(&main_tf).unwrap();
    let renamed = hcl.replacen("    orders = {\n", "    \"sales-orders\" = {\n      name           = \"orders\"\n", 1);
    assert_ne!(hcl, renamed, "the sales root declares its orders product as `orders = {{`");
    std::fs::write(&main_tf, renamed).unwrap();
    std::fs::write(
        teams.sales.workdir().join("moved.tf"),
        "moved {\n  from = module.product[\"orders\"]\n  to   = module.product[\"sales-orders\"]\n}\n",
    )
    .unwrap();
    let changes = plan(&teams.sales);
    assert_all(&changes, "no-op");
    let moved: BTreeMap<&str, &str> = changes
        .iter()
        .filter_map(|(address, c)| c.previous_address.as_deref().map(|from| (address.as_str(), from)))
        .collect();
    let expected: BTreeMap<String, String> = [
        "datamesh_data_product.this".to_string(),
        "datamesh_stream.this[\"order-events\"]".to_string(),
        "datamesh_stream.this[\"order-returns\"]".to_string(),
        format!("datamesh_access_grant.this[\"{marketing}\"]"),
    ]
    .iter()
    .map(|rest| (orders("sales-orders", rest), orders("orders", rest)))
    .collect();
    let expected: BTreeMap<&str, &str> = expected.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(moved, expected);
    let out = apply_saved(&teams.sales);
    assert!(out.contains("0 added, 0 changed, 0 destroyed"), "{out}");
    teams.sales.assert_no_changes();
    teams.marketing.assert_no_changes();
    let renamed = outputs(&teams.sales);
    assert_eq!(renamed["data_products"]["sales-orders"]["bucket"], orders_bucket.as_str());
    assert_eq!(renamed["data_products"]["orders"], Json::Null);

    // 5. Tear down. Out of order first: marketing's domain refuses to go while sales' grant
    //    sits on its role, and says which policy holds it.
    let out = combined(&teams.marketing.run(&["destroy", "-auto-approve", "-no-color"]));
    let folded = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(folded.contains("Domain still in use") && folded.contains(&orders_policy), "{out}");
    assert!(b.block_on(iam.get_role(&marketing_role)).unwrap().is_some());

    // Then in the documented order: sales revokes, marketing destroys, sales destroys.
    std::fs::remove_file(&tfvars).unwrap();
    let changes = plan(&teams.sales);
    let revoke = orders("sales-orders", &format!("datamesh_access_grant.this[\"{marketing}\"]"));
    assert_eq!(changed(&changes), vec![revoke.as_str()]);
    assert_eq!(changes[&revoke].actions, vec!["delete"]);
    apply_saved(&teams.sales);
    assert!(b.block_on(iam.get_role_policy(&marketing_role, &orders_policy)).unwrap().is_none());
    teams.marketing.destroy();
    teams.sales.destroy();
    for role in [&sales_role, &marketing_role] {
        assert!(b.block_on(iam.get_role(role)).unwrap().is_none(), "{role} is gone");
    }
    for product in ["orders", "invoices"] {
        assert!(!b.block_on(b.storage().bucket_exists(&format!("{prefix}-{sales}-{product}"))).unwrap());
    }
    assert!(!b.block_on(b.storage().bucket_exists(&format!("{prefix}-{marketing}-campaigns"))).unwrap());
    let topic = b.block_on(streaming.describe_topic(&format!("{sales}.orders.order-events"))).unwrap();
    assert!(topic.is_none(), "order-events topic is gone");
}
