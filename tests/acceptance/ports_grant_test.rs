//! What holds across the HDFS and Cassandra parts of domains and grants: a domain's role and
//! home directory are drift-checked and imported; a port added to a product later shows on its
//! grants' next plan and then opens to the consumer; an expired grant's HDFS entries and
//! Cassandra permissions go at the next plan, which says why.

use crate::support::stores::{cql, cql_login, domains_with_passwords, HdfsUser};
use crate::support::{Backends, Tf};

fn domains(p: &str) -> String {
    domains_with_passwords(p, &["own", "con"])
}

fn product(ports: &str) -> String {
    format!(
        r#"resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.own.name
  name           = "orders"
  classification = "internal"
  force_destroy  = true
{ports}
}}
"#
    )
}

fn grant(extra: &str) -> String {
    format!(
        r#"
resource "datamesh_access_grant" "g" {{
  consumer_domain = datamesh_domain.con.name
  data_product    = datamesh_data_product.orders.id
  purpose         = "reporting"
{extra}
}}
"#
    )
}

fn with_passwords(tf: &mut Tf) {
    tf.env("TF_VAR_pw_own", "owner-secret-1");
    tf.env("TF_VAR_pw_con", "consumer-secret-1");
}

const BOTH: &str = "  hdfs {}\n  cassandra {}\n";

#[test]
fn a_domains_role_and_home_are_planned_back_and_imported() {
    let mut tf = Tf::new();
    with_passwords(&mut tf);
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let own = format!("{p}-own");
    let home = b.config().hdfs.domain_dir(&own);
    tf.write(&domains(&p));
    tf.apply();
    let (db, hdfs) = (b.database(), b.hdfs());
    assert!(b.block_on(db.role(&own)).unwrap().is_some_and(|r| r.login), "the role logs in with password_wo");
    b.block_on(cql_login(&own, "owner-secret-1")).expect("login as the domain's role");
    let status = b.block_on(hdfs.status(&home)).unwrap().expect("home");
    assert_eq!((status.owner.as_str(), status.permission.as_str()), (own.as_str(), "750"));

    b.block_on(db.drop_role(&own)).unwrap();
    b.block_on(hdfs.delete(&home, false)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_domain.own"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    b.block_on(cql_login(&own, "owner-secret-1")).expect("the role is back, with the domain's password");
    assert!(b.block_on(hdfs.status(&home)).unwrap().is_some(), "the home is back");

    b.block_on(hdfs.set_permission(&home, "777")).unwrap();
    assert_eq!(tf.planned_actions("datamesh_domain.own"), vec!["update"]);
    tf.apply();
    assert_eq!(b.block_on(hdfs.status(&home)).unwrap().unwrap().permission, "750");

    // A new password_wo_version rolls the role's password (Cassandra allows one change per 5 s).
    tf.env("TF_VAR_pw_own", "owner-secret-2");
    tf.write(&domains(&p).replace("password_wo_version = 1", "password_wo_version = 2"));
    tf.apply();
    b.block_on(cql_login(&own, "owner-secret-2")).expect("the new password logs in");
    assert!(b.block_on(cql_login(&own, "owner-secret-1")).is_err(), "the old password is refused");

    tf.state_rm("datamesh_domain.own");
    tf.run_ok(&["import", "datamesh_domain.own", &own]);
    let state = tf.resource("datamesh_domain.own");
    assert_eq!(
        (state["cassandra_role"].as_str(), state["hdfs_home"].as_str()),
        (Some(own.as_str()), Some(home.as_str()))
    );
    tf.destroy();
    assert!(b.block_on(db.role(&own)).unwrap().is_none(), "the role went with the domain");
    assert!(b.block_on(hdfs.status(&home)).unwrap().is_none(), "and the home");
}

#[test]
fn a_port_added_later_shows_on_the_grants_next_plan_and_then_opens() {
    let mut tf = Tf::new();
    with_passwords(&mut tf);
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (own, con) = (format!("{p}-own"), format!("{p}-con"));
    tf.write(&format!("{}{}{}", domains(&p), product(""), grant("")));
    tf.apply();
    let g = tf.resource("datamesh_access_grant.g");
    assert_eq!(
        (g["hdfs_acl"].clone(), g["cassandra_permissions"].clone()),
        (serde_json::json!([]), serde_json::json!([]))
    );

    tf.write(&format!("{}{}{}", domains(&p), product(BOTH), grant("")));
    tf.apply();
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"], "the new ports show on the grant");
    tf.apply();
    tf.assert_no_changes();
    let dir = b.config().hdfs.product_dir(&own, "orders");
    HdfsUser::new(&own).put(&format!("{dir}/f.csv"), "1\n").unwrap();
    assert_eq!(HdfsUser::new(&con).get(&format!("{dir}/f.csv")).unwrap(), "1\n");
    let keyspace = format!("{}__orders", own.replace('-', "_"));
    let owner = b.block_on(cql_login(&own, "owner-secret-1")).unwrap();
    b.block_on(cql(&owner, &format!("CREATE TABLE {keyspace}.t (id int PRIMARY KEY)"))).unwrap();
    let consumer = b.block_on(cql_login(&con, "consumer-secret-1")).unwrap();
    assert_eq!(b.block_on(cql(&consumer, &format!("SELECT id FROM {keyspace}.t"))), Ok(0));

    // The data sources show the ports.
    let lookups = r#"
data "datamesh_data_product" "orders" {
  domain = datamesh_data_product.orders.domain
  name   = datamesh_data_product.orders.name
}

data "datamesh_data_products" "own" {
  domain     = datamesh_data_product.orders.domain
  depends_on = [datamesh_data_product.orders]
}

output "looked_up" {
  value = [data.datamesh_data_product.orders.hdfs_path, data.datamesh_data_product.orders.cassandra_keyspace]
}

output "ports" {
  value = data.datamesh_data_products.own.data_products[0].ports
}
"#;
    tf.write(&format!("{}{}{}{lookups}", domains(&p), product(BOTH), grant("")));
    tf.apply();
    let outputs: serde_json::Value = serde_json::from_str(&tf.run_ok(&["output", "-json"])).unwrap();
    assert_eq!(outputs["looked_up"]["value"], serde_json::json!([dir, keyspace]));
    let kinds: Vec<&str> =
        outputs["ports"]["value"].as_array().unwrap().iter().filter_map(|p| p["kind"].as_str()).collect();
    assert_eq!(kinds, vec!["s3", "hdfs", "cassandra"]);

    // Ports removed in place (force_destroy): the directory and the keyspace go, the bucket
    // stays.
    tf.write(&format!("{}{}{}", domains(&p), product(""), grant("")));
    assert_eq!(tf.planned_actions("datamesh_data_product.orders"), vec!["update"]);
    tf.apply();
    assert!(b.block_on(b.hdfs().status(&dir)).unwrap().is_none(), "the directory went with its port");
    assert!(b.block_on(b.database().keyspace(&keyspace)).unwrap().is_none(), "the keyspace went with its port");
    let bucket = format!("{p}-{own}-orders");
    assert!(b.block_on(b.storage().bucket_exists(&bucket)).unwrap(), "the bucket stays");
    // Their entries went with them: the grant's refresh finds none, and nothing is left to do.
    tf.assert_no_changes();
    tf.run_ok(&["apply", "-refresh-only", "-auto-approve"]);
    let g = tf.resource("datamesh_access_grant.g");
    assert_eq!(
        (g["hdfs_acl"].clone(), g["cassandra_permissions"].clone()),
        (serde_json::json!([]), serde_json::json!([]))
    );
    // The grant goes: so does its pass-through entry on the owner's home (no orphan entry).
    tf.write(&format!("{}{}", domains(&p), product("")));
    tf.apply();
    let home = b.config().hdfs.domain_dir(&own);
    let entries = b.block_on(b.hdfs().acl_entries(&home)).unwrap().unwrap_or_default();
    assert!(!entries.iter().any(|e| e.contains(&con)), "no entry of {con} left on {home}: {entries:?}");
    tf.destroy();
}

#[test]
fn an_expired_grant_loses_its_hdfs_entries_and_cassandra_permissions_at_the_next_plan() {
    let mut tf = Tf::new();
    with_passwords(&mut tf);
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (own, con) = (format!("{p}-own"), format!("{p}-con"));
    let at = (chrono::Utc::now() + chrono::Duration::seconds(45)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
    tf.write(&format!("{}{}{}", domains(&p), product(BOTH), grant(&format!("  expires_at = \"{at}\""))));
    tf.apply();
    let dir = b.config().hdfs.product_dir(&own, "orders");
    HdfsUser::new(&own).put(&format!("{dir}/f.csv"), "1\n").unwrap();
    assert!(HdfsUser::new(&con).get(&format!("{dir}/f.csv")).is_ok(), "readable before expiry");

    let wait = (chrono::DateTime::parse_from_rfc3339(&at).unwrap().with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    std::thread::sleep(wait + std::time::Duration::from_secs(2));
    let plan = tf.run_ok(&["plan", "-no-color"]);
    assert!(plan.contains("Grant expired: its HDFS ACL entries are removed"), "{plan}");
    assert!(plan.contains("Grant expired: its Cassandra permissions are removed"), "{plan}");
    tf.apply();
    tf.assert_no_changes();
    let denied = HdfsUser::new(&con).get(&format!("{dir}/f.csv")).expect_err("expired: no read");
    assert!(denied.contains("AccessControlException"), "{denied}");
    let keyspace = format!("{}__orders", own.replace('-', "_"));
    let held = b.block_on(b.database().permissions(&con, &keyspace)).unwrap();
    assert!(held.is_empty(), "no permission left: {held:?}");
    tf.destroy();
}
