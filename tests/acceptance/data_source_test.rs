//! Data sources: look-ups read the catalog and the backends like a refresh does; discovery
//! lists the catalog with filters, and lists 1,000 products fast.

use std::time::Instant;

use futures::stream::{self, StreamExt};
use terraform_provider_datamesh::provider::config::ProviderConfig;
use terraform_provider_datamesh::provider::ProviderData;
use tfplugin::framework::{ResourceContext, Value};

use crate::support::{Backends, Tf};

#[test]
fn look_ups_and_discovery_read_what_resources_made() {
    let tf = Tf::new();
    let p = tf.prefix.clone();
    tf.write(&format!(
        r#"resource "datamesh_domain" "sales" {{
  name  = "{p}-sales"
  owner = "sales@example.com"
}}

resource "datamesh_domain" "mkt" {{
  name  = "{p}-mkt"
  owner = "mkt@example.com"
}}

resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.sales.name
  name           = "orders"
  classification = "internal"
  tags           = {{ tier = "gold" }}
}}

resource "datamesh_data_product" "invoices" {{
  domain         = datamesh_domain.sales.name
  name           = "invoices"
  classification = "confidential"
}}

resource "datamesh_data_product" "leads" {{
  domain         = datamesh_domain.mkt.name
  name           = "leads"
  classification = "internal"
}}

resource "datamesh_stream" "events" {{
  data_product = datamesh_data_product.orders.id
  name         = "events"
  retention_ms = 3600000
}}
"#
    ));
    tf.apply();
    let lookups = format!(
        r#"
data "datamesh_domain" "sales" {{
  name = "{p}-sales"
}}

data "datamesh_data_product" "by_id" {{
  id = "{p}-sales/orders"
}}

data "datamesh_data_product" "by_name" {{
  domain = "{p}-mkt"
  name   = "leads"
}}

data "datamesh_stream" "events" {{
  topic = "{p}-sales.orders.events"
}}

data "datamesh_data_products" "all" {{}}

data "datamesh_data_products" "sales_internal" {{
  domain         = "{p}-sales"
  classification = "internal"
}}

data "datamesh_data_products" "gold" {{
  tag = {{ tier = "gold" }}
}}

output "role" {{ value = data.datamesh_domain.sales.role_arn }}
output "owner" {{ value = data.datamesh_domain.sales.owner }}
output "bucket" {{ value = data.datamesh_data_product.by_id.bucket }}
output "leads_class" {{ value = data.datamesh_data_product.by_name.classification }}
output "retention" {{ value = data.datamesh_stream.events.retention_ms }}
output "all" {{ value = [for d in data.datamesh_data_products.all.data_products : d.id] }}
output "sales_internal" {{ value = [for d in data.datamesh_data_products.sales_internal.data_products : d.id] }}
output "gold" {{ value = [for d in data.datamesh_data_products.gold.data_products : d.id] }}
"#
    );
    let body = std::fs::read_to_string(tf.path().join("main.tf")).unwrap();
    std::fs::write(tf.path().join("main.tf"), format!("{body}{lookups}")).unwrap();
    tf.apply();
    let out = tf.run(&["output", "-json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = |k: &str| json[k]["value"].clone();
    assert_eq!(v("role"), format!("arn:aws:iam::123456789012:role/datamesh/{p}-domain-{p}-sales"));
    assert_eq!(v("owner"), "sales@example.com");
    assert_eq!(v("bucket"), format!("{p}-{p}-sales-orders"));
    assert_eq!(v("leads_class"), "internal");
    assert_eq!(v("retention"), 3600000);
    assert_eq!(
        v("all"),
        serde_json::json!([format!("{p}-mkt/leads"), format!("{p}-sales/invoices"), format!("{p}-sales/orders")])
    );
    assert_eq!(v("sales_internal"), serde_json::json!([format!("{p}-sales/orders")]));
    assert_eq!(v("gold"), serde_json::json!([format!("{p}-sales/orders")]));
    tf.assert_no_changes();

    // A look-up of something that does not exist is an error at the look-up attribute.
    let missing = format!("{body}\ndata \"datamesh_data_product\" \"ghost\" {{\n  id = \"{p}-sales/ghost\"\n}}\n");
    std::fs::write(tf.path().join("main.tf"), missing).unwrap();
    let out = tf.plan_fails();
    assert!(out.contains("data product not found"), "{out}");
    assert!(out.contains("id = \"") && out.contains("/ghost\""), "{out}");
}

#[test]
fn discovery_lists_a_thousand_products() {
    let tf = Tf::new();
    let p = tf.prefix.clone();
    let b = Backends::for_prefix(&p);
    let catalog = b.catalog();
    // Descriptors written straight into the catalog, as 1,000 applies would have left them.
    b.block_on(async {
        stream::iter(0..1000)
            .map(|i| {
                let catalog = catalog.clone();
                let p = p.clone();
                async move {
                    let entry = serde_json::json!({
                        "id": format!("{p}-d{}/product-{i:04}", i % 10), "domain": format!("{p}-d{}", i % 10),
                        "name": format!("product-{i:04}"), "owner": "o",
                        "classification": if i % 2 == 0 { "internal" } else { "public" },
                        "bucket": format!("{p}-b{i}"), "s3_uri": format!("s3://{p}-b{i}/"), "created_at": "2026-11-24T00:00:00Z",
                    });
                    catalog.put(&format!("data-products/{p}-d{}/product-{i:04}.json", i % 10), &entry).await
                }
            })
            .buffer_unordered(32)
            .for_each(|r| async move { r.expect("seed descriptor") })
            .await
    });

    // The provider's own read, timed without Terraform around it.
    let source = terraform_provider_datamesh::data_sources::all()
        .into_iter()
        .find(|d| d.type_name() == "datamesh_data_products")
        .unwrap();
    let mut config =
        ProviderConfig { name_prefix: p.clone(), catalog_bucket: format!("{p}-catalog"), ..Default::default() };
    config.aws.s3_force_path_style = true;
    let ctx = ResourceContext { provider: std::sync::Arc::new(ProviderData::new(config)), stop: Default::default() };
    let query = Value::object([
        ("domain", Value::Null),
        ("classification", Value::Null),
        ("tag", Value::Null),
        ("data_products", Value::Unknown),
    ]);
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let mut diags = Default::default();
        let listed = b.block_on(source.read(&ctx, &query, &mut diags));
        times.push(started.elapsed());
        assert!(diags.0.is_empty(), "{diags:?}");
        assert_eq!(listed.get("data_products").elements().len(), 1000);
    }
    times.sort();
    eprintln!(
        "discovery: 1,000 products listed in {:?} (median of 3; min {:?}, max {:?})",
        times[1], times[0], times[2]
    );

    // And through Terraform, with a filter.
    tf.write(
        "data \"datamesh_data_products\" \"internal\" {\n  classification = \"internal\"\n}\n\
         output \"count\" { value = length(data.datamesh_data_products.internal.data_products) }\n",
    );
    tf.apply();
    let out = tf.run(&["output", "-raw", "count"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "500");
}
