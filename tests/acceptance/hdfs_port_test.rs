//! A data product's HDFS port, proven by the NameNode itself (`dfs.permissions.enabled`, ACLs
//! on): the owner writes into its product's directory as user `<owner>`; a consumer granted
//! `read` reads as `<consumer>` and cannot write; `read_write` can; a third domain can do
//! neither; a destroyed grant closes the directory again. Drift on the directory (mode, quota,
//! deletion) and on the grant's ACL entries is planned back; import restores the port; a port
//! holding files is not removed without force_destroy. 20 grants applied in parallel onto one
//! directory all hold afterwards.

use crate::support::stores::{product_with_port, HdfsUser};
use crate::support::{Backends, Tf};

/// Three domains, the owner's product with an HDFS port (`port` is the block's body), and
/// optionally a grant to the consumer.
fn hcl(p: &str, port: &str, product_extra: &str, grant: Option<&str>) -> String {
    let mut out = String::new();
    for d in ["own", "con", "out"] {
        out.push_str(&format!(
            "resource \"datamesh_domain\" \"{d}\" {{\n  name  = \"{p}-{d}\"\n  owner = \"{d}@example.com\"\n}}\n\n"
        ));
    }
    out.push_str(&product_with_port("orders", "hdfs", port, product_extra, grant));
    out
}

const TIB: i64 = 1 << 40;

#[test]
fn hdfs_port_owner_writes_a_granted_consumer_reads_and_nobody_else_can() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let (own, con, out) = (format!("{p}-own"), format!("{p}-con"), format!("{p}-out"));
    let hdfs = b.hdfs();
    let dir = b.config().hdfs.product_dir(&own, "orders");
    let file = format!("{dir}/day=1/orders.csv");
    let port = format!("space_quota_bytes = {TIB}\n    namespace_quota = 1000");

    tf.write(&hcl(&p, &port, "", Some("read")));
    tf.apply();
    // The directory as DESIGN.md says: the domain's, 0750, with its quotas.
    let status = b.block_on(hdfs.status(&dir)).unwrap().expect("product directory");
    assert_eq!(
        (status.owner.as_str(), status.group.as_str(), status.permission.as_str()),
        (own.as_str(), own.as_str(), "750")
    );
    let quota = b.block_on(hdfs.quota(&dir)).unwrap().unwrap();
    assert_eq!((quota.space_quota, quota.namespace_quota), (Some(TIB), Some(1000)));
    let product = tf.resource("datamesh_data_product.orders");
    assert_eq!(product["hdfs_path"], dir.as_str());
    assert_eq!(product["hdfs_permission"], format!("0750 {own}:{own}"));
    let domain = tf.resource("datamesh_domain.con");
    assert_eq!(domain["hdfs_home"], b.config().hdfs.domain_dir(&con).as_str());
    let grant = tf.resource("datamesh_access_grant.g");
    let acl: Vec<String> = serde_json::from_value(grant["hdfs_acl"].clone()).unwrap();
    assert_eq!(acl, vec![format!("{dir} user:{con}:r-x"), format!("{dir} default:user:{con}:r-x")]);

    // The owner writes (a subdirectory made by it inherits the grant's default entries).
    let owner = HdfsUser::new(&own);
    owner.put(&file, "id,amount\n1,9.99\n").expect("the owner writes into its product");
    let consumer = HdfsUser::new(&con);
    assert_eq!(consumer.get(&file).expect("a read grant reads"), "id,amount\n1,9.99\n");
    let denied = consumer.put(&format!("{dir}/day=1/forged.csv"), "x").expect_err("a read grant must not write");
    assert!(denied.contains("AccessControlException"), "{denied}");
    let stranger = HdfsUser::new(&out);
    let denied = stranger.get(&file).expect_err("a domain without a grant must not read");
    assert!(denied.contains("AccessControlException"), "{denied}");
    assert!(stranger.put(&format!("{dir}/x.csv"), "x").unwrap_err().contains("AccessControlException"));

    // read_write writes.
    tf.write(&hcl(&p, &port, "", Some("read_write")));
    tf.apply();
    consumer.put(&format!("{dir}/day=1/from-consumer.csv"), "2,1.00\n").expect("read_write writes");
    tf.assert_no_changes();

    // Drift: the mode opened, the quota raised, a grant entry removed — all planned back.
    b.block_on(hdfs.set_permission(&dir, "777")).unwrap();
    b.block_on(hdfs.set_quota(&dir, Some(5), Some(TIB))).unwrap();
    b.block_on(hdfs.remove_acl_entries(&dir, &[format!("user:{con}:rwx")])).unwrap();
    assert_eq!(tf.planned_actions("datamesh_data_product.orders"), vec!["update"]);
    assert_eq!(tf.planned_actions("datamesh_access_grant.g"), vec!["update"]);
    tf.apply();
    tf.assert_no_changes();
    let status = b.block_on(hdfs.status(&dir)).unwrap().unwrap();
    assert_eq!(&status.permission[0..1], "7");
    assert_eq!(&status.permission[2..3], "0", "others are shut out again: {status:?}");
    assert_eq!(b.block_on(hdfs.quota(&dir)).unwrap().unwrap().namespace_quota, Some(1000));
    consumer.put(&format!("{dir}/day=1/again.csv"), "3,1.00\n").expect("the entry is back");

    // A port holding files is not removed without force_destroy; nothing is deleted.
    tf.write(&hcl(&p, &port, "", Some("read_write")).replace(&format!("  hdfs {{\n    {port}\n  }}\n"), ""));
    let refused = tf.apply_fails();
    assert!(refused.contains("force_destroy"), "{refused}");
    assert_eq!(consumer.get(&file).unwrap(), "id,amount\n1,9.99\n", "nothing was deleted");

    // Import restores the port from HDFS.
    tf.write(&hcl(&p, &port, "", Some("read_write")));
    tf.state_rm("datamesh_data_product.orders");
    tf.run_ok(&["import", "datamesh_data_product.orders", &format!("{own}/orders")]);
    assert_eq!(tf.resource("datamesh_data_product.orders")["hdfs_path"], dir.as_str());
    tf.assert_no_changes();

    // The grant destroyed: the consumer is shut out again.
    tf.write(&hcl(&p, &port, "", None));
    tf.apply();
    let denied = consumer.get(&file).expect_err("a destroyed grant must not read");
    assert!(denied.contains("AccessControlException"), "{denied}");
    let entries = b.block_on(hdfs.acl_entries(&b.config().hdfs.domain_dir(&own))).unwrap().unwrap_or_default();
    assert!(!entries.iter().any(|e| e.contains(&con)), "the pass-through entry went with the last grant: {entries:?}");

    // The directory deleted outside Terraform is planned back in place.
    b.block_on(hdfs.delete(&dir, true)).unwrap();
    assert_eq!(tf.planned_actions("datamesh_data_product.orders"), vec!["update"]);
    tf.apply();
    assert!(b.block_on(hdfs.status(&dir)).unwrap().is_some());

    tf.write(&hcl(&p, &port, "force_destroy = true", None));
    tf.apply();
    owner.put(&format!("{dir}/left.csv"), "x").unwrap();
    tf.destroy();
    assert!(b.block_on(hdfs.status(&dir)).unwrap().is_none(), "the product directory is gone");
    assert!(b.block_on(hdfs.status(&b.config().hdfs.domain_dir(&own))).unwrap().is_none(), "and the domain's home");
}

#[test]
fn twenty_grants_applied_in_parallel_onto_one_directory_all_hold() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let mut body = hcl(&p, "", "", None);
    for i in 0..20 {
        body.push_str(&format!(
            r#"
resource "datamesh_domain" "c{i}" {{
  name  = "{p}-c{i}"
  owner = "c{i}@example.com"
}}

resource "datamesh_access_grant" "g{i}" {{
  consumer_domain = datamesh_domain.c{i}.name
  data_product    = datamesh_data_product.orders.id
  purpose         = "parallel"
}}
"#
        ));
    }
    tf.write(&body);
    tf.apply();
    let hdfs = b.hdfs();
    let dir = b.config().hdfs.product_dir(&format!("{p}-own"), "orders");
    let entries = b.block_on(hdfs.acl_entries(&dir)).unwrap().unwrap();
    for i in 0..20 {
        for e in [format!("user:{p}-c{i}:r-x"), format!("default:user:{p}-c{i}:r-x")] {
            assert!(entries.contains(&e), "{e} missing after parallel grants: {entries:?}");
        }
    }
    let owner = HdfsUser::new(&format!("{p}-own"));
    owner.put(&format!("{dir}/f.csv"), "1\n").unwrap();
    for i in [0, 7, 19] {
        HdfsUser::new(&format!("{p}-c{i}")).get(&format!("{dir}/f.csv")).expect("every grant reads");
    }
    tf.assert_no_changes();
    tf.write(&hcl(&p, "", "force_destroy = true", None));
    tf.apply();
    let entries = b.block_on(hdfs.acl_entries(&dir)).unwrap().unwrap();
    assert!(!entries.iter().any(|e| e.contains(&format!("{p}-c"))), "every grant's entries went: {entries:?}");
    tf.destroy();
}

#[test]
fn hdfs_lost_between_the_directory_and_its_quota_leaves_true_state_and_the_next_apply_converges() {
    use crate::support::proxy::Proxy;
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    let own = format!("{p}-own");
    let webhdfs = std::env::var("DATAMESH_HDFS_WEBHDFS_URL").expect("stack.env");
    let proxy = Proxy::to(webhdfs.trim_start_matches("http://"));
    tf.provider_config(&format!("  hdfs {{\n    webhdfs_url = \"{}\"\n    timeout_seconds = 3\n  }}", proxy.url()));
    let port = format!("space_quota_bytes = {TIB}");
    tf.write(&hcl(&p, &port, "", None));
    // The domains first, then the product whose quota call finds HDFS gone.
    tf.run_ok(&[
        "apply",
        "-auto-approve",
        "-target=datamesh_domain.own",
        "-target=datamesh_domain.con",
        "-target=datamesh_domain.out",
    ]);
    let handle = proxy.handle();
    proxy.on_request(b"op=SETQUOTA", move || handle.down());
    let out = tf.apply_fails();
    assert_eq!(proxy.triggers_pending(), 0, "the quota call was made: {:#?}", proxy.requests());
    assert!(out.contains("quotas of HDFS directory") && out.contains("SETQUOTA"), "{out}");

    // State tells the truth: the directory exists and is the product's, without its quota.
    let dir = b.config().hdfs.product_dir(&own, "orders");
    let hdfs = b.hdfs();
    assert!(b.block_on(hdfs.status(&dir)).unwrap().is_some(), "the directory was made");
    let state = tf.resource("datamesh_data_product.orders");
    assert_eq!(state["hdfs_path"], dir.as_str(), "state records the directory: {state}");
    let block = if state["hdfs"].is_array() { &state["hdfs"][0] } else { &state["hdfs"] };
    assert!(block.is_object() && block["space_quota_bytes"].is_null(), "the port, without the quota it lacks: {state}");

    let orphans = crate::support::inventory::orphans_of(&tf, &b);
    assert!(orphans.is_empty(), "objects state does not know about: {orphans:?}");

    proxy.heal();
    tf.apply();
    tf.assert_no_changes();
    assert_eq!(b.block_on(hdfs.quota(&dir)).unwrap().unwrap().space_quota, Some(TIB));
    tf.destroy();
    // Nothing of the test is left under the root.
    let left: Vec<String> = b
        .block_on(hdfs.tree(&b.config().hdfs.root))
        .unwrap()
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.contains(&p))
        .collect();
    assert!(left.is_empty(), "orphans under the HDFS root: {left:?}");
}
