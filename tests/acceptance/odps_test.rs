//! `datamesh_odps`: a data product as an Open Data Product Standard v1.1.0 document, read
//! through Terraform from what the apply put in the catalog, checked against the standard
//! (`support::odps`), and every port it lists found on its backend. The input ports of a
//! product written by pipelines are checked in `pipeline_test` (the Spark chain).

use serde_json::Value as Json;

use crate::support::odps::assert_conforms;
use crate::support::{Backends, Tf};

fn hcl(p: &str) -> String {
    format!(
        r#"resource "datamesh_domain" "sales" {{
  name  = "{p}-sales"
  owner = "sales@example.com"
}}

resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.sales.name
  name           = "orders"
  description    = "Every order as placed, \"raw\" <unchanged> & complete."
  classification = "confidential"
  contains_pii   = true
  retention_days = 30
  tags           = {{ cost_center = "cc-7" }}
  force_destroy  = true
  s3 {{}}
  hdfs {{}}
}}

resource "datamesh_stream" "placed" {{
  data_product = datamesh_data_product.orders.id
  name         = "placed"
  partitions   = 2
}}

resource "datamesh_stream" "cancelled" {{
  data_product = datamesh_data_product.orders.id
  name         = "cancelled"
}}

data "datamesh_odps" "orders" {{
  data_product = datamesh_data_product.orders.id
  depends_on   = [datamesh_stream.placed, datamesh_stream.cancelled]
}}

output "odps" {{
  value = data.datamesh_odps.orders.document
}}
"#
    )
}

/// The value of `name` in a list of `{ property, value }` pairs.
fn prop<'a>(list: &'a Json, name: &str) -> &'a Json {
    list.as_array()
        .and_then(|items| items.iter().find(|i| i["property"] == name))
        .map(|i| &i["value"])
        .unwrap_or(&Json::Null)
}

#[test]
fn odps_documents_conform_to_the_standard_and_list_every_port_the_backends_hold() {
    let mut tf = Tf::new();
    let b = Backends::for_prefix(&tf.prefix);
    let p = tf.prefix.clone();
    tf.write(&hcl(&p));
    tf.apply();
    let text = tf.run_ok(&["output", "-raw", "odps"]);
    let doc: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("the document is JSON ({e}): {text}"));
    assert_conforms(&doc);

    let domain = format!("{p}-sales");
    assert_eq!(doc["id"], format!("{domain}/orders"));
    assert_eq!((doc["name"].as_str(), doc["domain"].as_str()), (Some("orders"), Some(domain.as_str())));
    assert_eq!(doc["description"]["purpose"], "Every order as placed, \"raw\" <unchanged> & complete.");
    assert_eq!(doc["team"]["members"][0]["username"], "sales@example.com");
    assert_eq!(doc["tags"], serde_json::json!(["cost_center:cc-7"]));
    assert_eq!(prop(&doc["customProperties"], "classification"), "confidential");
    assert_eq!(prop(&doc["customProperties"], "containsPii"), true);
    assert_eq!(prop(&doc["customProperties"], "retentionDays"), 30);
    assert!(doc.get("inputPorts").is_none(), "no pipeline writes it: {doc:#}");

    // Every output port is on its backend, where the document says.
    let ports = doc["outputPorts"].as_array().expect("outputPorts");
    let names: Vec<&str> = ports.iter().filter_map(|port| port["name"].as_str()).collect();
    let (cancelled, placed) = (format!("{domain}.orders.cancelled"), format!("{domain}.orders.placed"));
    assert_eq!(names, ["s3", "hdfs", cancelled.as_str(), placed.as_str()]);
    let location = |i: usize| prop(&ports[i]["customProperties"], "location").as_str().unwrap_or_default().to_string();
    let bucket = location(0).trim_start_matches("s3://").trim_end_matches('/').to_string();
    assert!(b.block_on(b.storage().bucket_exists(&bucket)).unwrap(), "bucket {bucket} of the s3 port");
    let hdfs_uri = location(1);
    let dir = b.config().hdfs.product_dir(&domain, "orders");
    assert!(hdfs_uri.ends_with(&dir), "the hdfs port {hdfs_uri} is the product directory {dir}");
    assert!(b.block_on(b.hdfs().status(&dir)).unwrap().is_some(), "HDFS directory {dir}");
    for (i, topic) in [(2, &cancelled), (3, &placed)] {
        assert_eq!(location(i), *topic);
        let info = b.block_on(b.streaming().describe_topic(topic)).unwrap().unwrap_or_else(|| panic!("topic {topic}"));
        assert_eq!(prop(&ports[i]["customProperties"], "partitions"), i64::from(info.partitions), "{topic}");
    }
    assert_eq!(prop(&ports[3]["customProperties"], "partitions"), 2, "placed has the partitions it was given");

    // A stream removed is gone from the document.
    tf.write(&hcl(&p).replace(
        "resource \"datamesh_stream\" \"cancelled\" {\n  data_product = datamesh_data_product.orders.id\n  name         = \"cancelled\"\n}\n",
        "",
    ).replace("datamesh_stream.placed, datamesh_stream.cancelled", "datamesh_stream.placed"));
    tf.apply();
    // The data source was read at that plan, before the destroy; the next one reads anew.
    tf.apply();
    let doc: Json = serde_json::from_str(&tf.run_ok(&["output", "-raw", "odps"])).expect("JSON");
    assert_conforms(&doc);
    assert_eq!(doc["outputPorts"].as_array().map(Vec::len), Some(3), "{doc:#}");
    tf.destroy();
}

#[test]
fn odps_of_a_missing_or_malformed_product_fails_at_its_attribute() {
    let tf = Tf::new();
    let p = tf.prefix.clone();
    tf.write(&format!("data \"datamesh_odps\" \"x\" {{\n  data_product = \"{p}-none/orders\"\n}}\n"));
    let out = tf.plan_fails();
    assert!(out.contains("Data product not found") && out.contains("data_product"), "{out}");
    tf.write("data \"datamesh_odps\" \"x\" {\n  data_product = \"Not An ID\"\n}\n");
    let out = tf.validate_fails();
    assert!(out.contains("Invalid data_product"), "{out}");
}
