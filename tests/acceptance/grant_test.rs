//! `datamesh_access_grant` through its lifecycle (its IAM policy and its Kafka ACLs on Apache
//! Kafka, drift and import included), its governance rules, and many grants at once.

use crate::support::{combined, Backends, Tf};
use terraform_provider_datamesh::acl::{self, AclBinding};

/// The grant's bindings as the broker reports them (described through the admin API).
fn acls_on_broker(b: &Backends, bindings: &[AclBinding]) -> Vec<String> {
    let mut found: Vec<String> = b
        .block_on(b.streaming().describe_acls(bindings))
        .expect("DescribeAcls")
        .iter()
        .map(ToString::to_string)
        .collect();
    found.sort();
    found
}

/// Asserts that the broker comes to hold exactly `want` of `bindings` within 15 s: its authorizer
/// applies ACL changes from the metadata log a moment after the admin call returned.
fn assert_acls(b: &Backends, bindings: &[AclBinding], want: Vec<String>, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut have = acls_on_broker(b, bindings);
    while have != want && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(500));
        have = acls_on_broker(b, bindings);
    }
    assert_eq!(have, want, "{what}");
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn base(prefix: &str, consumers: usize) -> String {
    let mut hcl = format!(
        r#"resource "datamesh_domain" "sales" {{
  name  = "{prefix}-sales"
  owner = "sales@example.com"
}}

resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
}}
"#
    );
    for i in 0..consumers {
        hcl.push_str(&format!(
            "\nresource \"datamesh_domain\" \"c{i}\" {{\n  name  = \"{prefix}-c{i}\"\n  owner = \"team{i}@example.com\"\n}}\n"
        ));
    }
    hcl
}

fn grant(name: &str, consumer: &str, extra: &str) -> String {
    format!(
        r#"
resource "datamesh_access_grant" "{name}" {{
  consumer_domain = {consumer}
  data_product    = datamesh_data_product.orders.id
  purpose         = "Weekly revenue report"
{extra}
}}
"#
    )
}

#[test]
fn grant_lifecycle_update_drift_import_destroy() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let role = format!("{p}-domain-{p}-c0");
    let policy_name = format!("datamesh-grant-{p}-sales-orders");
    let key = format!("grants/{p}-c0/{p}-sales/orders.json");
    let iam = b.iam();
    let with_grant = |extra: &str| format!("{}{}", base(&p, 1), grant("g", "datamesh_domain.c0.name", extra));

    tf.write(&with_grant(""));
    tf.apply();
    tf.assert_no_changes();
    let state = tf.resource("datamesh_access_grant.g");
    assert_eq!(state["id"], format!("{p}-c0:{p}-sales/orders"));
    assert_eq!(state["policy_name"], policy_name.as_str());
    assert_eq!(state["access"], "read");
    let (consumer, principal) = (format!("{p}-c0"), format!("User:{p}-c0"));
    let read_acls = acl::grant_bindings(&consumer, &principal, &format!("{p}-sales"), "orders", false);
    let rw_acls = acl::grant_bindings(&consumer, &principal, &format!("{p}-sales"), "orders", true);
    let shown = |b: &[AclBinding]| sorted(b.iter().map(ToString::to_string).collect());
    let in_state = |tf: &Tf| {
        sorted(
            tf.resource("datamesh_access_grant.g")["kafka_acls"]
                .as_array()
                .expect("kafka_acls")
                .iter()
                .map(|v| v.as_str().expect("a binding").to_string())
                .collect(),
        )
    };
    assert_eq!(in_state(&tf), shown(&read_acls), "kafka_acls lists what the grant owns");
    assert_acls(&b, &rw_acls, shown(&read_acls), "the broker holds exactly the read bindings");
    let doc = b.block_on(iam.get_role_policy(&role, &policy_name)).unwrap().expect("grant policy");
    assert!(doc.contains("s3:GetObject") && !doc.contains("s3:PutObject"), "{doc}");
    assert!(b.catalog_has(&key));

    // Access and expiry change in place; the expiry becomes an IAM condition.
    tf.write(&with_grant("  access = \"read_write\"\n  expires_at = \"2099-01-01T00:00:00Z\"\n"));
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    let doc = b.block_on(iam.get_role_policy(&role, &policy_name)).unwrap().unwrap();
    assert!(doc.contains("s3:PutObject"), "{doc}");
    assert!(doc.contains("DateLessThan") && doc.contains("2099-01-01T00:00:00Z"), "{doc}");
    assert_acls(&b, &rw_acls, shown(&rw_acls), "read_write adds WRITE on the broker");
    assert_eq!(in_state(&tf), shown(&rw_acls));

    // An ACL deleted outside Terraform (through the admin API) is planned back.
    let write = rw_acls.iter().find(|a| a.operation == acl::AclOperation::Write).expect("a WRITE binding").clone();
    b.block_on(b.streaming().delete_acls(std::slice::from_ref(&write))).expect("DeleteAcls");
    assert_acls(&b, &rw_acls, shown(&read_acls), "the WRITE binding is gone from the broker");
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"], "a lost ACL is drift");
    tf.apply();
    tf.assert_no_changes();
    assert_acls(&b, &rw_acls, shown(&rw_acls), "the ACL is back");
    let v2 = with_grant("  access = \"read_write\"\n  expires_at = \"2099-01-01T00:00:00Z\"\n");

    // Drift: an edited policy is planned back in place; a deleted one is created again.
    let widened = terraform_provider_datamesh::policy::grant_policy(&format!("{p}-{p}-sales-orders"), true, None);
    b.block_on(iam.put_role_policy(&role, &policy_name, &widened)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    assert!(b.block_on(iam.get_role_policy(&role, &policy_name)).unwrap().unwrap().contains("2099-01-01"));
    b.block_on(iam.delete_role_policy(&role, &policy_name)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["create"]);
    tf.apply();
    tf.assert_no_changes();

    // Import with an import block: no diff afterwards.
    tf.state_rm("datamesh_access_grant.g");
    tf.write(&format!("{v2}\nimport {{\n  to = datamesh_access_grant.g\n  id = \"{p}-c0:{p}-sales/orders\"\n}}\n"));
    let out = tf.apply();
    assert!(out.contains("1 imported, 0 added, 0 changed, 0 destroyed"), "{out}");
    tf.assert_no_changes();
    assert_eq!(in_state(&tf), shown(&rw_acls), "import reads the grant's ACLs from the broker");

    // Creating a grant whose policy exists is an error that suggests import.
    tf.state_rm("datamesh_access_grant.g");
    tf.write(&v2);
    let out = tf.apply_fails();
    assert!(out.contains("Grant already exists") && out.contains("terraform import"), "{out}");

    // Destroying the grant alone removes its topic bindings; the consumer keeps READ on its own
    // groups (the domain's binding, which the grant only relies on).
    tf.write(&format!("{v2}\nimport {{\n  to = datamesh_access_grant.g\n  id = \"{p}-c0:{p}-sales/orders\"\n}}\n"));
    tf.apply();
    tf.write(&base(&p, 1));
    tf.apply();
    let group =
        acl::domain_bindings(&consumer, &principal).into_iter().filter(|a| a.resource == acl::AclResource::Group);
    let group: Vec<AclBinding> = group.collect();
    assert_acls(&b, &rw_acls, shown(&group), "only the domain's own group binding is left");

    // Destroy leaves nothing behind in IAM, the catalog or the broker.
    tf.destroy();
    assert!(b.block_on(iam.get_role(&role)).unwrap().is_none());
    assert!(!b.catalog_has(&key));
    assert_acls(&b, &rw_acls, Vec::<String>::new(), "no ACL is left");
}

#[test]
fn grant_governance_fails_the_plan_at_the_attribute() {
    // A domain granted its own product.
    let tf = Tf::new();
    let p = tf.prefix.clone();
    tf.write(&format!("{}{}", base(&p, 0), grant("g", "datamesh_domain.sales.name", "")));
    let out = tf.plan_fails();
    assert!(out.contains("A domain cannot be granted its own product"), "{out}");
    assert!(out.contains("consumer_domain = datamesh_domain.sales.name"), "{out}");

    // An expiry in the past.
    let tf = Tf::new();
    let p = tf.prefix.clone();
    tf.write(&format!(
        "{}{}",
        base(&p, 1),
        grant("g", "datamesh_domain.c0.name", "  expires_at = \"2020-01-01T00:00:00Z\"\n")
    ));
    let out = tf.plan_fails();
    assert!(out.contains("Expiry in the past"), "{out}");
    assert!(out.contains("expires_at = \"2020-01-01T00:00:00Z\""), "{out}");

    // Grants on the most sensitive products need an expiry: at plan time once the product is
    // in the catalog, and at apply time (before anything is made) when it is created alongside.
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let restricted = base(&p, 1).replace("classification = \"internal\"", "classification = \"restricted\"");
    tf.write(&format!("{restricted}{}", grant("g", "datamesh_domain.c0.name", "")));
    let out = tf.apply_fails();
    assert!(out.contains("Grant needs an expiry"), "{out}");
    let policy = format!("datamesh-grant-{p}-sales-orders");
    let role = format!("{p}-domain-{p}-c0");
    assert!(b.block_on(b.iam().get_role_policy(&role, &policy)).unwrap().is_none(), "no grant was made");
    let out = tf.plan_fails();
    assert!(out.contains("Grant needs an expiry"), "{out}");
    assert!(out.contains("in resource \"datamesh_access_grant\" \"g\""), "{out}");
    tf.write(&format!(
        "{restricted}{}",
        grant("g", "datamesh_domain.c0.name", "  expires_at = \"2099-01-01T00:00:00Z\"\n")
    ));
    tf.apply();
}

#[test]
fn fifty_grants_from_fifty_domains_onto_one_product_all_land_in_parallel() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let mut hcl = base(&p, 50);
    for i in 0..50 {
        hcl.push_str(&grant(&format!("g{i}"), &format!("datamesh_domain.c{i}.name"), ""));
    }
    tf.write(&hcl);
    let out = tf.run(&["apply", "-auto-approve", "-no-color", "-parallelism=50"]);
    assert!(out.status.success(), "{}", combined(&out));
    let iam = b.iam();
    let policy = format!("datamesh-grant-{p}-sales-orders");
    let mut policies = 0;
    for i in 0..50 {
        if b.block_on(iam.get_role_policy(&format!("{p}-domain-{p}-c{i}"), &policy)).unwrap().is_some() {
            policies += 1;
        }
    }
    let records = b.block_on(b.catalog().list("grants/")).unwrap().len();
    eprintln!("concurrency: 50 grants at -parallelism=50 -> {policies} inline policies, {records} catalog records");
    assert_eq!(policies, 50);
    assert_eq!(records, 50);
    tf.assert_no_changes();
}

#[test]
fn two_working_directories_granting_the_same_product_at_once_both_land() {
    // One directory owns the product; two others, with their own state, grant it concurrently.
    let owner = Tf::new();
    let p = owner.prefix.clone();
    owner.write(&base(&p, 0));
    owner.apply();
    let b = Backends::for_prefix(&p);
    let team = |t: &str| {
        let mut tf = Tf::new();
        tf.set_prefix(&p);
        let mut hcl = String::new();
        for i in 0..10 {
            hcl.push_str(&format!(
                "resource \"datamesh_domain\" \"c{i}\" {{\n  name  = \"{p}-{t}{i}\"\n  owner = \"x\"\n}}\n\
                 resource \"datamesh_access_grant\" \"g{i}\" {{\n  consumer_domain = datamesh_domain.c{i}.name\n  data_product = \"{p}-sales/orders\"\n  purpose = \"team {t}\"\n}}\n"
            ));
        }
        tf.write(&hcl);
        tf
    };
    let (a, z) = (team("a"), team("z"));
    std::thread::scope(|s| {
        let ha = s.spawn(|| a.run(&["apply", "-auto-approve", "-no-color", "-parallelism=20"]));
        let hz = s.spawn(|| z.run(&["apply", "-auto-approve", "-no-color", "-parallelism=20"]));
        for out in [ha.join().unwrap(), hz.join().unwrap()] {
            assert!(out.status.success(), "{}", combined(&out));
        }
    });
    let records = b.block_on(b.catalog().list("grants/")).unwrap();
    eprintln!("concurrency: two directories x 10 grants -> {} catalog records", records.len());
    assert_eq!(records.len(), 20);
    a.assert_no_changes();
    z.assert_no_changes();
}

#[test]
fn an_expired_grant_loses_its_kafka_acls_at_the_next_plan_which_says_why() {
    let tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (consumer, principal) = (format!("{p}-c0"), format!("User:{p}-c0"));
    let bindings = acl::grant_bindings(&consumer, &principal, &format!("{p}-sales"), "orders", false);
    let topic_bindings: Vec<String> =
        sorted(bindings.iter().filter(|a| a.resource == acl::AclResource::Topic).map(ToString::to_string).collect());
    // An expiry a little ahead: in the future at plan time, past soon after apply.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(45)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let hcl =
        format!("{}{}", base(&p, 1), grant("g", "datamesh_domain.c0.name", &format!("  expires_at = \"{at}\"\n")));
    tf.write(&hcl);
    tf.apply();
    let on_broker = acls_on_broker(&b, &bindings);
    assert!(topic_bindings.iter().all(|t| on_broker.contains(t)), "the grant's ACLs are on the broker: {on_broker:?}");

    // Kafka has no expiring ACLs: once expires_at has passed, the next plan removes them and says so.
    let wait = (chrono::DateTime::parse_from_rfc3339(&at).expect("RFC 3339").with_timezone(&chrono::Utc)
        - chrono::Utc::now())
    .to_std()
    .unwrap_or_default();
    std::thread::sleep(wait + std::time::Duration::from_secs(2));
    let plan = tf.run_ok(&["plan", "-no-color"]);
    assert!(plan.contains("Grant expired: its Kafka ACLs are removed"), "the plan says why:\n{plan}");
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"], "{plan}");
    let out = tf.apply();
    let state = tf.resource("datamesh_access_grant.g");
    assert!(state["kafka_acls"].as_array().is_some_and(Vec::is_empty), "state: {state}\n{out}");
    // The broker's authorizer applies a deletion from its metadata log: give it a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut left = acls_on_broker(&b, &bindings);
    while topic_bindings.iter().any(|t| left.contains(t)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(500));
        left = acls_on_broker(&b, &bindings);
    }
    assert!(topic_bindings.iter().all(|t| !left.contains(t)), "the topic ACLs are gone: {left:?}\n{out}");
    tf.assert_no_changes();
}
