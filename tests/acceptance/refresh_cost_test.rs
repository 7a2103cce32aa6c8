//! What a `terraform plan` (with refresh) costs each backend, per object refreshed: 20 data
//! products of one domain (10 with an HDFS port, 10 with a Cassandra port, all with their S3
//! bucket) and a grant of each to a second domain. WebHDFS, S3 and IAM are reached through
//! counting proxies (the request lines the servers received); CQL statements are counted from
//! the provider's own debug log (the driver's wire protocol is binary). Each backend's count
//! per object is printed (the README's refresh rows) and bounded: a change that makes a
//! refresh call a backend more often per object fails here.

use std::collections::BTreeMap;

use crate::support::proxy::Proxy;
use crate::support::{combined, Tf};

const PRODUCTS: usize = 20;

fn hcl(p: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "own" {{
  name  = "{p}-own"
  owner = "own@example.com"
}}

resource "datamesh_domain" "con" {{
  name  = "{p}-con"
  owner = "con@example.com"
}}

resource "datamesh_data_product" "p" {{
  count          = {PRODUCTS}
  domain         = datamesh_domain.own.name
  name           = "product-${{count.index}}"
  classification = "internal"
  dynamic "hdfs" {{
    for_each = count.index % 2 == 0 ? [1] : []
    content {{}}
  }}
  dynamic "cassandra" {{
    for_each = count.index % 2 == 1 ? [1] : []
    content {{}}
  }}
}}

resource "datamesh_access_grant" "g" {{
  count           = {PRODUCTS}
  consumer_domain = datamesh_domain.con.name
  data_product    = datamesh_data_product.p[count.index].id
  purpose         = "refresh cost"
}}
"#
    )
}

/// The requests `proxy` forwarded since `from`, counted by what they ask: WebHDFS by `op=`,
/// S3 by method and sub-resource (`GET ?versioning`), IAM by method (its action is in the body).
fn by_kind(proxy: &Proxy, from: usize) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for line in &proxy.requests()[from..] {
        let mut words = line.split(' ');
        let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or_default());
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let kind = match query.split('&').find_map(|kv| kv.strip_prefix("op=")) {
            Some(op) => op.to_string(),
            None => {
                let sub = query.split('&').next().filter(|s| !s.is_empty()).map(|s| s.split('=').next().unwrap_or(s));
                format!("{method} {}", sub.map(|s| format!("?{s}")).unwrap_or_else(|| "object".into()))
            }
        };
        *kinds.entry(kind).or_insert(0) += 1;
    }
    kinds
}

/// The CQL statements the provider logged (at debug) in `log`, counted by their first words.
fn cql_by_kind(log: &str) -> BTreeMap<String, usize> {
    let mut kinds = BTreeMap::new();
    for line in log.lines().filter(|l| l.contains("CQL") && l.contains("statement")) {
        let statement = line.split("statement=").nth(1).unwrap_or_default().trim_start_matches(['"', '\'']);
        let kind: Vec<&str> = statement.split_whitespace().take(4).collect();
        *kinds.entry(kind.join(" ")).or_insert(0) += 1;
    }
    kinds
}

fn total(kinds: &BTreeMap<String, usize>) -> usize {
    kinds.values().sum()
}

#[test]
fn a_refresh_costs_each_backend_a_bounded_number_of_calls_per_object() {
    let mut tf = Tf::new();
    let moto = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL from stack.env");
    let webhdfs = std::env::var("DATAMESH_HDFS_WEBHDFS_URL").expect("stack.env");
    let (s3, iam, hdfs) = (Proxy::to(&moto), Proxy::to(&moto), Proxy::to(webhdfs.trim_start_matches("http://")));
    tf.aws_config(&format!("    s3_endpoint         = \"{}\"\n    iam_endpoint        = \"{}\"", s3.url(), iam.url()));
    tf.provider_config(&format!("  hdfs {{\n    webhdfs_url = \"{}\"\n  }}", hdfs.url()));
    tf.write(&hcl(&tf.prefix));
    tf.apply();
    tf.assert_no_changes();

    let (s3_from, iam_from, hdfs_from) = (s3.requests().len(), iam.requests().len(), hdfs.requests().len());
    let out = tf.run_with_env(&["plan", "-detailed-exitcode", "-no-color"], &[("TF_LOG_PROVIDER", "debug")]);
    let log = combined(&out);
    assert_eq!(out.status.code(), Some(0), "the plan has nothing to do:\n{}", &log[log.len().saturating_sub(3000)..]);
    let (s3_calls, iam_calls, hdfs_calls, cql) =
        (by_kind(&s3, s3_from), by_kind(&iam, iam_from), by_kind(&hdfs, hdfs_from), cql_by_kind(&log));
    let objects = 2 + 2 * PRODUCTS;
    let hdfs_products = PRODUCTS / 2;
    let per = |n: usize, of: usize| n as f64 / of as f64;
    eprintln!(
        "refresh of 2 domains, {PRODUCTS} products ({hdfs_products} HDFS, {} Cassandra ports) and {PRODUCTS} grants:\n  \
         S3 {} ({:.2} per object) {s3_calls:?}\n  IAM {} ({:.2} per object) {iam_calls:?}\n  \
         WebHDFS {} ({:.2} per HDFS product) {hdfs_calls:?}\n  CQL {} ({:.2} per Cassandra product) {cql:?}",
        PRODUCTS - hdfs_products,
        total(&s3_calls),
        per(total(&s3_calls), objects),
        total(&iam_calls),
        per(total(&iam_calls), objects),
        total(&hdfs_calls),
        per(total(&hdfs_calls), hdfs_products),
        total(&cql),
        per(total(&cql), PRODUCTS - hdfs_products),
    );
    // What each object's refresh may cost (measured 2026-12-02: 222 / 22 / 32 / 32).
    let (domains, grants, cassandra_products) = (2, PRODUCTS, PRODUCTS - hdfs_products);
    // S3: a product's bucket (HEAD, versioning, encryption, lifecycle, tags) and its catalog
    // entry with its domain's; a grant's record, its consumer's entry (twice) and its product's.
    let s3_bound = 5 * PRODUCTS + 2 * PRODUCTS + 4 * grants + domains;
    // IAM: a domain's role and policies; the inline policies of products and grants role by
    // role for the first 16 reads, then one account listing (GetAccountAuthorizationDetails)
    // for all the others (45 calls without the listing, 22 with it).
    let iam_bound = 3 * domains + 16 + 1;
    // WebHDFS: a product directory's status, quota and (granted: a mask) ACL; a domain's home.
    let hdfs_bound = 3 * hdfs_products + domains;
    // CQL: a keyspace's replication and tables, a grant's permissions, a domain's role.
    let cql_bound = 2 * cassandra_products + cassandra_products + domains;
    for (backend, calls, bound) in [
        ("S3", total(&s3_calls), s3_bound),
        ("IAM", total(&iam_calls), iam_bound),
        ("WebHDFS", total(&hdfs_calls), hdfs_bound),
        ("CQL", total(&cql), cql_bound),
    ] {
        assert!(calls > 0, "the refresh read {backend}");
        assert!(calls <= bound, "the refresh made {calls} {backend} calls, more than the {bound} its objects need");
    }
    assert_eq!(hdfs_calls.get("GETFILESTATUS"), Some(&(hdfs_products + domains)), "one status per directory");
    tf.destroy();
}
