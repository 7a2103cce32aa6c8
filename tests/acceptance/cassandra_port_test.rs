//! A data product's Cassandra port, proven by Cassandra itself (`CassandraAuthorizer`): the
//! owner logs in as its domain's role with its `password_wo` and creates a table and a row in
//! its keyspace; a consumer granted `read` SELECTs the row and cannot INSERT; `read_write` can;
//! a third domain can do neither; a destroyed grant shuts the consumer out again. A dropped
//! keyspace and altered replication are planned back (the change says a repair is needed);
//! import restores the port; a keyspace holding tables is not dropped without force_destroy.
//! Cassandra down before apply fails naming the contact points, with nothing made.

use crate::support::stores::{cql, cql_login, domains_with_passwords, product_with_port};
use crate::support::{Backends, Tf};

fn hcl(p: &str, port: &str, product_extra: &str, grant: Option<&str>) -> String {
    let mut out = domains_with_passwords(p, &["own", "con", "out"]);
    out.push_str(&product_with_port("orders-v1", "cassandra", port, product_extra, grant));
    out
}

fn password(d: &str) -> String {
    format!("pw'{d}; DROP KEYSPACE x; --\"é")
}

#[test]
fn cassandra_port_owner_writes_a_granted_consumer_selects_and_nobody_else_can() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    for d in ["own", "con", "out"] {
        tf.env(&format!("TF_VAR_pw_{d}"), &password(d));
    }
    let (own, con, out) = (format!("{p}-own"), format!("{p}-con"), format!("{p}-out"));
    let keyspace = format!("{}__orders_v1", own.replace('-', "_"));
    let db = b.database();

    tf.write(&hcl(&p, "", "", Some("read")));
    tf.apply();
    assert_eq!(tf.resource("datamesh_data_product.orders")["cassandra_keyspace"], keyspace.as_str());
    assert_eq!(tf.resource("datamesh_domain.own")["cassandra_role"], own.as_str());
    let grant = tf.resource("datamesh_access_grant.g");
    assert_eq!(grant["cassandra_permissions"], serde_json::json!([format!("SELECT ON KEYSPACE {keyspace}")]));
    let info = b.block_on(db.keyspace(&keyspace)).unwrap().expect("keyspace");
    assert_eq!(info.replication.get("datacenter1"), Some(&1));

    // The owner, as its role: a table and a row.
    let owner = b.block_on(cql_login(&own, &password("own"))).expect("the owner logs in with its password_wo");
    b.block_on(cql(&owner, &format!("CREATE TABLE {keyspace}.orders (id int PRIMARY KEY, amount decimal)"))).unwrap();
    b.block_on(cql(&owner, &format!("INSERT INTO {keyspace}.orders (id, amount) VALUES (1, 9.99)"))).unwrap();
    let consumer = b.block_on(cql_login(&con, &password("con"))).expect("the consumer logs in");
    let select = format!("SELECT id FROM {keyspace}.orders");
    let insert = format!("INSERT INTO {keyspace}.orders (id, amount) VALUES (2, 1.00)");
    assert_eq!(b.block_on(cql(&consumer, &select)), Ok(1), "a read grant selects the owner's row");
    let denied = b.block_on(cql(&consumer, &insert)).expect_err("a read grant must not insert");
    assert!(denied.contains("Unauthorized") || denied.contains("has no MODIFY"), "{denied}");
    let stranger = b.block_on(cql_login(&out, &password("out"))).expect("a third domain logs in");
    let denied = b.block_on(cql(&stranger, &select)).expect_err("a domain without a grant must not select");
    assert!(denied.contains("Unauthorized") || denied.contains("has no SELECT"), "{denied}");
    let denied = b.block_on(cql(&stranger, &insert)).expect_err("a domain without a grant must not insert");
    assert!(denied.contains("Unauthorized") || denied.contains("has no MODIFY"), "{denied}");

    // read_write inserts.
    tf.write(&hcl(&p, "", "", Some("read_write")));
    tf.apply();
    assert_eq!(b.block_on(cql(&consumer, &insert)), Ok(0), "read_write inserts");
    tf.assert_no_changes();

    // A permission revoked outside Terraform, and the replication altered: planned back.
    b.block_on(db.revoke(terraform_provider_datamesh::backends::database::Permission::Modify, &keyspace, &con))
        .unwrap();
    let three = std::collections::BTreeMap::from([("datacenter1".to_string(), 2)]);
    b.block_on(db.alter_keyspace(&keyspace, &three)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"]);
    let plan = tf.run_ok(&["plan", "-no-color"]);
    assert!(plan.contains("run a full repair"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(b.block_on(db.keyspace(&keyspace)).unwrap().unwrap().replication.get("datacenter1"), Some(&1));
    assert_eq!(b.block_on(cql(&consumer, &insert)), Ok(0));

    // A keyspace holding a table is not dropped without force_destroy.
    tf.write(&hcl(&p, "", "", Some("read_write")).replace("  cassandra {\n    \n  }\n", ""));
    let refused = tf.apply_fails();
    assert!(refused.contains("force_destroy"), "{refused}");
    assert!(b.block_on(db.keyspace(&keyspace)).unwrap().is_some(), "nothing was dropped");

    // Import restores the port.
    tf.write(&hcl(&p, "", "", Some("read_write")));
    tf.state_rm("datamesh_data_product.orders");
    tf.run_ok(&["import", "datamesh_data_product.orders", &format!("{own}/orders-v1")]);
    assert_eq!(tf.resource("datamesh_data_product.orders")["cassandra_keyspace"], keyspace.as_str());
    tf.assert_no_changes();

    // The grant destroyed: refused again.
    tf.write(&hcl(&p, "", "", None));
    tf.apply();
    let denied = b.block_on(cql(&consumer, &select)).expect_err("a destroyed grant must not select");
    assert!(denied.contains("Unauthorized") || denied.contains("has no SELECT"), "{denied}");

    // A keyspace dropped outside Terraform is planned back in place.
    b.block_on(db.drop_keyspace(&keyspace)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_data_product.orders"), vec!["update"]);
    tf.apply();
    assert!(b.block_on(db.keyspace(&keyspace)).unwrap().is_some());

    tf.write(&hcl(&p, "", "force_destroy = true", None));
    tf.apply();
    b.block_on(cql(&owner, &format!("CREATE TABLE {keyspace}.t (id int PRIMARY KEY)"))).unwrap();
    tf.destroy();
    assert!(b.block_on(db.keyspace(&keyspace)).unwrap().is_none(), "the keyspace is gone");
    assert!(b.block_on(db.role(&own)).unwrap().is_none(), "and the domain's role");
}

#[test]
fn cassandra_down_before_apply_fails_naming_the_contact_points_with_nothing_made() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    tf.env("DATAMESH_CASSANDRA_CONTACT_POINTS", &dead);
    tf.env("TF_VAR_pw_own", "p1");
    tf.env("TF_VAR_pw_con", "p2");
    tf.env("TF_VAR_pw_out", "p3");
    tf.write(&hcl(&p, "", "", None));
    // A short timeout: the provider retries a dead contact point for timeout_seconds.
    let main = std::fs::read_to_string(tf.path().join("main.tf")).unwrap();
    let short = main.replace(
        "    replication = { datacenter1 = 1 }",
        "    replication = { datacenter1 = 1 }\n    timeout_seconds = 5",
    );
    assert_ne!(main, short, "the harness's cassandra block");
    std::fs::write(tf.path().join("main.tf"), short).unwrap();
    let started = std::time::Instant::now();
    let out = tf.apply_fails();
    eprintln!("Cassandra down: the apply failed after {:.1?}", started.elapsed());
    assert!(out.contains(&dead), "the error names the contact point {dead}: {out}");
    let bucket = format!("{p}-{p}-own-orders-v1");
    assert!(!b.block_on(b.storage().bucket_exists(&bucket)).unwrap(), "no bucket was made");
    let orphans = crate::support::inventory::orphans_of(&tf, &b);
    assert!(orphans.is_empty(), "objects state does not know about: {orphans:?}");
    // Cassandra back: the domain made before the failure converges and is destroyed cleanly.
    let real = std::env::var("DATAMESH_CASSANDRA_CONTACT_POINTS").unwrap();
    tf.env("DATAMESH_CASSANDRA_CONTACT_POINTS", &real);
    tf.destroy();
}

#[test]
fn a_cassandra_port_is_checked_at_plan_time() {
    let mut tf = Tf::new();
    let p = tf.prefix.clone();
    tf.env("TF_VAR_pw_own", "p1");
    tf.env("TF_VAR_pw_con", "p2");
    tf.env("TF_VAR_pw_out", "p3");
    tf.write(&hcl(&p, "replication = { datacenter1 = 0 }", "", None));
    let out = tf.plan_fails();
    assert!(out.contains("Invalid replication factor") && out.contains("replication = { datacenter1 = 0 }"), "{out}");
    tf.write(&hcl(&p, "", "", None).replace("orders-v1", "orders--v1"));
    let out = tf.plan_fails();
    assert!(out.contains("Keyspace name not possible") && out.contains("holds \"--\""), "{out}");
    tf.env("DATAMESH_CASSANDRA_CONTACT_POINTS", "");
    tf.write(&hcl(&p, "", "", None));
    let out = tf.plan_fails();
    assert!(out.contains("Cassandra is not configured") && out.contains("contact_points"), "{out}");
}
