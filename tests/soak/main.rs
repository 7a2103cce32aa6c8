//! Load: 1,000 streams, 200 data products (60 with an HDFS port, 40 with a Cassandra port),
//! 1,000 grants and 20 Flink pipelines in one configuration — apply, plan (no changes) and
//! destroy, at the default parallelism and at `-parallelism=50` (`SOAK_PARALLELISM=default`
//! or `=50` runs one of them), with wall times and the provider's peak RSS. After apply the
//! backends hold what was asked (roles, buckets, topics, directories, keyspaces, every Kafka
//! ACL binding of the domains and grants, 20 jobs `RUNNING` on Flink); after each destroy the
//! backends are scanned, and nothing under the test's name prefix may be left (no ACL binding,
//! no job still running). Run with `make soak` (the whole local stack, its Flink TaskManager
//! with 24 slots; the provider and the checks log in as the admins from stack.env).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../acceptance/support/mod.rs"]
mod support;

use std::collections::BTreeSet;
use std::time::Instant;

use support::inventory::{stack_broker, Inventory};
use support::{combined, Backends, Tf};
use terraform_provider_datamesh::acl::{self, AclBinding};
use terraform_provider_datamesh::naming::default_principal;

const DOMAINS: usize = 20;
const PRODUCTS_PER_DOMAIN: usize = 10;
const GRANTS_PER_PRODUCT: usize = 5;

/// 20 domains × 10 products (200), 5 streams each (1,000), each product granted to the next
/// 5 domains (1,000 grants); products 0, 2 and 4 of each domain have an HDFS port, 1 and 3 a
/// Cassandra port; each domain runs one Flink pipeline from the product 0 of the domain before
/// it (granted to it) into its own product 1.
const PIPELINES: usize = 20;

/// The Kafka ACL bindings [`configuration`]'s domains and grants own: each domain's own, and
/// each grant's for its consumer (whose group binding is the consumer domain's own one, so the
/// set holds it once).
fn expected_acls(p: &str) -> Vec<AclBinding> {
    let domain = |d: usize| format!("{p}-d{d}");
    let mut all = BTreeSet::new();
    for d in 0..DOMAINS {
        all.extend(acl::domain_bindings(&domain(d), &default_principal(&domain(d))));
        for product in 0..PRODUCTS_PER_DOMAIN {
            for k in 1..=GRANTS_PER_PRODUCT {
                let consumer = domain((d + k) % DOMAINS);
                all.extend(acl::grant_bindings(
                    &consumer,
                    &default_principal(&consumer),
                    &domain(d),
                    &format!("product-{product}"),
                    false,
                ));
            }
        }
    }
    all.into_iter().collect()
}

/// Which of `wanted` the broker holds (DescribeAcls as the stack's admin, a few hundred
/// bindings per call so each stays well inside the checker's timeout).
fn acls_on_broker(b: &Backends, wanted: &[AclBinding]) -> BTreeSet<AclBinding> {
    let streaming = b.streaming();
    wanted.chunks(250).flat_map(|chunk| b.block_on(streaming.describe_acls(chunk)).expect("DescribeAcls")).collect()
}

/// Up to 10 of `bindings`, one a line, for a failure message.
fn some(bindings: impl IntoIterator<Item = AclBinding>) -> String {
    bindings.into_iter().take(10).map(|b| format!("  {b}\n")).collect()
}

fn configuration(p: &str) -> String {
    let bootstrap = std::env::var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS").expect("stack.env");
    let protocol = std::env::var("DATAMESH_KAFKA_SECURITY_PROTOCOL").expect("stack.env");
    let mechanism = std::env::var("DATAMESH_KAFKA_SASL_MECHANISM").expect("stack.env");
    let jar = std::env::var("DATAMESH_PIPELINE_FLINK_JAR").expect("stack.env: the example Flink job");
    format!(
        r#"locals {{
  domains  = [for d in range(20) : "{p}-d${{d}}"]
  products = {{ for pair in setproduct(range(20), range(10)) : "${{pair[0]}}-${{pair[1]}}" => {{ domain = pair[0], product = pair[1] }} }}
  streams  = {{ for t in setproduct(keys(local.products), range(5)) : "${{t[0]}}-${{t[1]}}" => {{ product = t[0], n = t[1] }} }}
  grants   = {{ for t in setproduct(keys(local.products), range(1, 6)) : "${{t[0]}}-${{t[1]}}" => {{ product = t[0], consumer = (local.products[t[0]].domain + t[1]) % 20 }} }}
}}

variable "pw" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "datamesh_domain" "d" {{
  count               = 20
  name                = local.domains[count.index]
  owner               = "team-${{count.index}}@example.com"
  password_wo         = var.pw
  password_wo_version = 1
}}

resource "datamesh_data_product" "p" {{
  for_each       = local.products
  domain         = datamesh_domain.d[each.value.domain].name
  name           = "product-${{each.value.product}}"
  classification = "internal"
  dynamic "hdfs" {{
    for_each = contains([0, 2, 4], each.value.product) ? [1] : []
    content {{}}
  }}
  dynamic "cassandra" {{
    for_each = contains([1, 3], each.value.product) ? [1] : []
    content {{}}
  }}
}}

resource "datamesh_stream" "s" {{
  for_each     = local.streams
  data_product = datamesh_data_product.p[each.value.product].id
  name         = "stream-${{each.value.n}}"
  partitions   = 1
}}

resource "datamesh_access_grant" "g" {{
  for_each        = local.grants
  consumer_domain = datamesh_domain.d[each.value.consumer].name
  data_product    = datamesh_data_product.p[each.value.product].id
  purpose         = "load test"
}}

# Domain d reads product 0 of domain d-1 (granted to it as that product's first grant) and
# writes its own product 1.
resource "datamesh_pipeline" "f" {{
  count       = {PIPELINES}
  domain      = datamesh_domain.d[count.index].name
  name        = "relay"
  engine      = "flink"
  inputs      = [datamesh_access_grant.g["${{(count.index + 19) % 20}}-0-1"].id]
  outputs     = [datamesh_data_product.p["${{count.index}}-1"].id]
  artifact    = "{jar}"
  entry_class = "datamesh.examples.StreamEnrich"
  args        = ["--input", datamesh_stream.s["${{(count.index + 19) % 20}}-0-0"].topic, "--output", datamesh_stream.s["${{count.index}}-1-0"].topic, "--group", "${{datamesh_domain.d[count.index].name}}.relay"]
  config = {{
    "datamesh.kafka.bootstrap.servers" = "{bootstrap}"
    "datamesh.kafka.security.protocol" = "{protocol}"
    "datamesh.kafka.sasl.mechanism"    = "{mechanism}"
    "datamesh.kafka.username"          = datamesh_domain.d[count.index].name
  }}
  secret_config_wo         = {{ "datamesh.kafka.password" = var.pw }}
  secret_config_wo_version = 1
}}
"#
    )
}

/// The Flink jobs running now whose name holds `p` (the provider names a job after its
/// pipeline's ID), from the JobManager's own listing.
fn running_jobs(p: &str) -> usize {
    let rest = std::env::var("DATAMESH_FLINK_REST_URL").expect("stack.env");
    let overview: serde_json::Value = reqwest::blocking::get(format!("{rest}/jobs/overview"))
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.json())
        .expect("GET /jobs/overview");
    overview["jobs"]
        .as_array()
        .map(|jobs| {
            jobs.iter().filter(|j| j["state"] == "RUNNING" && j["name"].as_str().is_some_and(|n| n.contains(p))).count()
        })
        .unwrap_or_default()
}

/// Runs Terraform, returning wall seconds and the provider's peak RSS (MiB): the largest
/// `peak_rss_kib` the provider processes logged as they stopped. A command whose log has no
/// such figure, or a figure of 0 (what the provider logs when it cannot read its own), fails.
fn timed(tf: &Tf, args: &[&str]) -> (f64, f64) {
    let started = Instant::now();
    let out = tf.run(args);
    let secs = started.elapsed().as_secs_f64();
    let text = combined(&out);
    let mut cut = text.len().saturating_sub(5000);
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    let tail = &text[cut..];
    assert!(out.status.success(), "terraform {} failed:\n{tail}", args.join(" "));
    let figures: Vec<u64> = text
        .lines()
        .filter_map(|l| l.split("peak_rss_kib").nth(1))
        .filter_map(|rest| {
            rest.trim_start_matches(['"', ':', '=']).split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        })
        .collect();
    assert!(
        !figures.is_empty() && !figures.contains(&0),
        "terraform {}: no peak RSS figure from the provider (peak_rss_kib in its log, TF_LOG_PROVIDER=info): {figures:?}\n{tail}",
        args.join(" ")
    );
    let peak = figures.into_iter().max().unwrap_or_default();
    (secs, peak as f64 / 1024.0)
}

#[test]
fn thousands_of_resources_apply_plan_and_destroy() {
    let runs: Vec<Option<u32>> = match std::env::var("SOAK_PARALLELISM").ok().as_deref() {
        None | Some("") => vec![None, Some(50)],
        Some("default") => vec![None],
        Some(n) => vec![Some(n.parse().expect("SOAK_PARALLELISM: default or a number"))],
    };
    for parallelism in runs {
        let mut tf = Tf::new();
        tf.env("TF_LOG_PROVIDER", "info");
        tf.env("TF_VAR_pw", &format!("soak'{};pw", tf.prefix));
        tf.write(&configuration(&tf.prefix));
        let par = parallelism.map(|n| format!("-parallelism={n}"));
        let with =
            |base: &[&'static str]| -> Vec<String> { base.iter().map(|s| s.to_string()).chain(par.clone()).collect() };
        let run = |args: Vec<String>| timed(&tf, &args.iter().map(String::as_str).collect::<Vec<_>>());
        let b = Backends::for_prefix(&tf.prefix);
        let acls = expected_acls(&tf.prefix);
        assert!(acls_on_broker(&b, &acls).is_empty(), "a fresh prefix has no ACLs on the broker");
        let (apply_s, apply_mb) = run(with(&["apply", "-auto-approve", "-no-color"]));
        // The scan sees what was made (so that an empty scan after destroy means something).
        let made = Inventory::scan(&b, &tf.prefix, &stack_broker());
        assert_eq!(
            (made.roles.len(), made.buckets.len(), made.topics.len()),
            (20, 200, 1000),
            "the backends hold the domains' roles, the products' buckets and the streams' topics"
        );
        assert_eq!(
            (made.hdfs_dirs.len(), made.cassandra_roles.len(), made.keyspaces.len()),
            (20 + 60, 20, 40),
            "HDFS holds the domains' homes and 60 product directories; Cassandra the domains' roles and 40 keyspaces"
        );
        assert_eq!(running_jobs(&tf.prefix), PIPELINES, "Flink runs every pipeline's job");
        let held = acls_on_broker(&b, &acls);
        assert_eq!(
            held.len(),
            acls.len(),
            "the broker holds every ACL binding of the domains and grants; missing, for example:\n{}",
            some(acls.iter().filter(|a| !held.contains(*a)).cloned())
        );
        let (plan_s, plan_mb) = run(with(&["plan", "-detailed-exitcode", "-no-color"]));
        let (destroy_s, destroy_mb) = run(with(&["destroy", "-auto-approve", "-no-color"]));
        tf.destroyed();
        assert_eq!(running_jobs(&tf.prefix), 0, "destroy stopped every pipeline's job");
        let left = Inventory::scan(&b, &tf.prefix, &stack_broker());
        assert_eq!(left, Inventory::default(), "destroy left orphans:\n{}", left.diff(&Inventory::default()));
        let left_acls = acls_on_broker(&b, &acls);
        assert!(
            left_acls.is_empty(),
            "destroy left {} ACL bindings, for example:\n{}",
            left_acls.len(),
            some(left_acls.clone())
        );
        eprintln!(
            "soak (parallelism {}): 2,240 resources (100 products with HDFS or Cassandra ports, {PIPELINES} Flink pipelines), {} ACL bindings — apply {apply_s:.1}s (peak RSS {apply_mb:.1} MiB), plan {plan_s:.1}s ({plan_mb:.1} MiB), destroy {destroy_s:.1}s ({destroy_mb:.1} MiB)",
            parallelism.map(|n| n.to_string()).unwrap_or_else(|| "default 10".into()),
            acls.len()
        );
    }
}
