//! `datamesh_data_product` through its whole lifecycle, with drift in every property the
//! provider manages.

use crate::support::{Backends, Tf};
use terraform_provider_datamesh::backends::storage::Lifecycle;

struct Names {
    domain: String,
    bucket: String,
    role: String,
}

fn names(tf: &Tf) -> Names {
    let domain = format!("{}-sales", tf.prefix);
    Names { bucket: format!("{}-{domain}-orders", tf.prefix), role: format!("{}-domain-{domain}", tf.prefix), domain }
}

fn hcl(domain: &str, product: &str, extra: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "d" {{
  name  = "{domain}"
  owner = "sales@example.com"
}}

resource "datamesh_data_product" "p" {{
  domain         = datamesh_domain.d.name
  name           = "{product}"
  classification = "internal"
{extra}
}}
"#
    )
}

const V1: &str = r#"  description    = "All orders"
  retention_days = 30
  schema         = jsonencode({ type = "object", properties = { id = { type = "string" } } })
  tags           = { cost_center = "42" }
"#;

#[test]
fn data_product_lifecycle_create_update_drift_import_destroy() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let n = names(&tf);
    let (storage, iam) = (b.storage(), b.iam());

    tf.write(&hcl(&n.domain, "orders", V1));
    tf.apply();
    tf.assert_no_changes();
    let state = tf.resource("datamesh_data_product.p");
    assert_eq!(state["id"], format!("{}/orders", n.domain));
    assert_eq!(state["bucket"], n.bucket.as_str());
    assert_eq!(state["s3_uri"], format!("s3://{}/", n.bucket));
    assert_eq!(state["owner"], "sales@example.com", "owner defaults to the domain's owner");
    assert_eq!(state["manifest_key"], format!("data-products/{}/orders.json", n.domain));
    assert!(b.block_on(storage.versioning(&n.bucket)).unwrap());
    assert_eq!(b.block_on(storage.default_encryption(&n.bucket)).unwrap().as_deref(), Some("AES256"));
    assert_eq!(b.block_on(storage.expiration(&n.bucket)).unwrap(), Some(30));
    let tags = b.block_on(storage.tags(&n.bucket)).unwrap();
    assert_eq!(tags["datamesh:classification"], "internal");
    assert_eq!(tags["datamesh:data-product"], "orders");
    assert_eq!(tags["cost_center"], "42");
    let policy = b.block_on(iam.get_role_policy(&n.role, "datamesh-owner-orders")).unwrap().expect("owner policy");
    assert!(policy.contains(&format!("arn:aws:s3:::{}/*", n.bucket)));
    assert!(b.catalog_has(&format!("data-products/{}/orders.json", n.domain)));

    // Reformatting the schema JSON is not a change.
    tf.write(&hcl(
        &n.domain,
        "orders",
        &V1.replace(
            r#"jsonencode({ type = "object", properties = { id = { type = "string" } } })"#,
            r#""{ \"properties\": { \"id\": { \"type\": \"string\" } },  \"type\": \"object\" }""#,
        ),
    ));
    tf.assert_no_changes();

    // In-place updates.
    let v2 = r#"  description    = "Orders, deduplicated"
  retention_days = 90
  versioning     = false
  contains_pii   = true
  classification_note = null
  tags           = { cost_center = "43" }
"#
    .replace("  classification_note = null\n", "");
    tf.write(
        &hcl(&n.domain, "orders", &v2).replace("classification = \"internal\"", "classification = \"confidential\""),
    );
    assert_eq!(tf.planned_actions("datamesh_data_product.p"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    assert!(!b.block_on(storage.versioning(&n.bucket)).unwrap(), "versioning suspended");
    assert_eq!(b.block_on(storage.expiration(&n.bucket)).unwrap(), Some(90));
    let tags = b.block_on(storage.tags(&n.bucket)).unwrap();
    assert_eq!(tags["datamesh:classification"], "confidential");
    assert_eq!(tags["datamesh:contains-pii"], "true");
    assert_eq!(tags["cost_center"], "43");
    tf.write(&hcl(&n.domain, "orders", V1));
    tf.apply();
    tf.assert_no_changes();

    // Drift, one property at a time: each is planned back and applied.
    type Drift<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let drifts: Vec<Drift> = vec![
        ("versioning suspended", Box::new(|| b.block_on(storage.set_versioning(&n.bucket, false)).unwrap())),
        ("lifecycle rule changed", Box::new(|| b.block_on(storage.set_expiration(&n.bucket, Some(7))).unwrap())),
        ("lifecycle rule removed", Box::new(|| b.block_on(storage.set_expiration(&n.bucket, None)).unwrap())),
        (
            "tag removed",
            Box::new(|| {
                let mut t = b.block_on(storage.tags(&n.bucket)).unwrap();
                t.remove("cost_center");
                b.block_on(storage.set_tags(&n.bucket, &t)).unwrap()
            }),
        ),
        (
            "owner policy deleted",
            Box::new(|| b.block_on(iam.delete_role_policy(&n.role, "datamesh-owner-orders")).unwrap()),
        ),
        (
            "owner policy edited",
            Box::new(|| {
                b.block_on(iam.put_role_policy(
                    &n.role,
                    "datamesh-owner-orders",
                    &terraform_provider_datamesh::policy::owner_policy("someone-else"),
                ))
                .unwrap()
            }),
        ),
        (
            "catalog descriptor deleted",
            Box::new(|| {
                let c = b.catalog();
                b.block_on(c.delete(&format!("data-products/{}/orders.json", n.domain))).unwrap()
            }),
        ),
    ];
    for (what, drift) in drifts {
        drift();
        assert_eq!(tf.planned_actions("datamesh_data_product.p"), vec!["update"], "drift: {what}");
        tf.apply();
        tf.assert_no_changes();
    }
    assert!(b.block_on(storage.versioning(&n.bucket)).unwrap());
    assert_eq!(b.block_on(storage.expiration(&n.bucket)).unwrap(), Some(30));
    assert!(b.block_on(iam.get_role_policy(&n.role, "datamesh-owner-orders")).unwrap().unwrap().contains(&n.bucket));

    // Import with an import block: no diff afterwards.
    tf.state_rm("datamesh_data_product.p");
    tf.write(&format!(
        "{}\nimport {{\n  to = datamesh_data_product.p\n  id = \"{}/orders\"\n}}\n",
        hcl(&n.domain, "orders", V1),
        n.domain
    ));
    let out = tf.apply();
    assert!(out.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{out}");
    tf.assert_no_changes();
    tf.write(&hcl(&n.domain, "orders", V1));

    // Without force_destroy, a product holding data is not destroyed, and nothing is lost.
    b.block_on(storage.put_object(&n.bucket, "2026/orders.parquet", b"data".to_vec(), None)).unwrap();
    let out = tf.run(&["destroy", "-auto-approve", "-no-color", "-target=datamesh_data_product.p"]);
    let text = crate::support::combined(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("not empty"), "{text}");
    assert!(text.contains("force_destroy"), "{text}");
    assert!(b.block_on(storage.bucket_exists(&n.bucket)).unwrap());
    assert!(b.block_on(iam.get_role_policy(&n.role, "datamesh-owner-orders")).unwrap().is_some());
    assert!(b.catalog_has(&format!("data-products/{}/orders.json", n.domain)));

    // With force_destroy, every object version goes, then the rest.
    tf.write(&hcl(&n.domain, "orders", &format!("{V1}  force_destroy = true\n")));
    tf.apply();
    b.block_on(storage.put_object(&n.bucket, "2026/orders.parquet", b"v2".to_vec(), None)).unwrap();
    tf.destroy();
    assert!(!b.block_on(storage.bucket_exists(&n.bucket)).unwrap());
    assert!(b.block_on(iam.get_role(&n.role)).unwrap().is_none());
    assert!(!b.catalog_has(&format!("data-products/{}/orders.json", n.domain)));
}

#[test]
fn a_deleted_bucket_is_planned_for_creation_and_a_new_name_replaces() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let n = names(&tf);
    let storage = b.storage();
    tf.write(&hcl(&n.domain, "orders", ""));
    tf.apply();

    b.block_on(storage.delete_bucket(&n.bucket)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_data_product.p"), vec!["create"]);
    tf.apply();
    tf.assert_no_changes();
    assert!(b.block_on(storage.bucket_exists(&n.bucket)).unwrap());

    tf.write(&hcl(&n.domain, "invoices", ""));
    assert_eq!(tf.planned_actions("datamesh_data_product.p"), vec!["delete", "create"]);
    tf.apply();
    assert!(!b.block_on(storage.bucket_exists(&n.bucket)).unwrap());
    assert!(b.block_on(storage.bucket_exists(&format!("{}-{}-invoices", tf.prefix, n.domain))).unwrap());
}

#[test]
fn a_product_of_a_missing_domain_fails_with_nothing_created() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let domain = format!("{}-ghost", tf.prefix);
    tf.write(&format!(
        r#"resource "datamesh_data_product" "p" {{
  domain         = "{domain}"
  name           = "orders"
  classification = "public"
}}
"#
    ));
    let out = tf.apply_fails();
    assert!(out.contains("Domain not found"), "{out}");
    assert!(out.contains("datamesh_domain"), "{out}");
    assert!(!b.block_on(b.storage().bucket_exists(&format!("{}-{domain}-orders", tf.prefix))).unwrap());
}

#[test]
fn s3_cost_tiers_become_lifecycle_transitions_drift_is_planned_back_and_bad_tiers_fail_the_plan() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let n = names(&tf);
    let storage = b.storage();
    let tiers =
        "  retention_days = 365\n  s3 {\n    infrequent_access_after_days = 30\n    archive_after_days = 90\n  }\n";
    tf.write(&hcl(&n.domain, "orders", tiers));
    tf.apply();
    let want =
        Lifecycle { expiration_days: Some(365), infrequent_access_after_days: Some(30), archive_after_days: Some(90) };
    assert_eq!(b.block_on(storage.lifecycle(&n.bucket)).unwrap(), want);
    tf.assert_no_changes();

    // A transition removed outside Terraform is planned back.
    b.block_on(storage.set_lifecycle(&n.bucket, &Lifecycle { archive_after_days: None, ..want })).unwrap();
    assert_eq!(tf.planned_actions("datamesh_data_product.p"), vec!["update"]);
    tf.apply();
    assert_eq!(b.block_on(storage.lifecycle(&n.bucket)).unwrap(), want);

    // Tiers out of order fail the plan at their path; nothing changes.
    for (bad, says) in [
        (
            "  retention_days = 365\n  s3 {\n    infrequent_access_after_days = 10\n  }\n",
            "Too early for infrequent access",
        ),
        (
            "  retention_days = 365\n  s3 {\n    infrequent_access_after_days = 60\n    archive_after_days = 60\n  }\n",
            "Archive before infrequent access",
        ),
        ("  retention_days = 60\n  s3 {\n    archive_after_days = 90\n  }\n", "Transition after expiry"),
    ] {
        tf.write(&hcl(&n.domain, "orders", bad));
        let out = tf.plan_fails();
        assert!(out.contains(says), "{says}: {out}");
    }
    assert_eq!(b.block_on(storage.lifecycle(&n.bucket)).unwrap(), want);
    tf.write(&hcl(&n.domain, "orders", tiers));
    tf.destroy();
}
