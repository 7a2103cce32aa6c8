//! `datamesh_odps`: a data product as an Open Data Product Standard v1.1.0 document, assembled
//! at read time from the catalog: the product's descriptor, its streams' entries and the
//! pipeline records that write it. The document is built by a pure function, [`document`], so
//! what it says is unit-tested without a server.

use crate::backends::Diagnose;
use async_trait::async_trait;
use serde_json::{json, Map, Value as Json};

use super::pipelines::{pipeline_records, validate_data_product};
use crate::backends::catalog::data_product_key;
use crate::naming;
use crate::provider::{Context, ProviderData};
use crate::resources::data_product::ProductEntry;
use crate::resources::pipeline::PipelineEntry;
use crate::resources::stream::StreamEntry;
use tfplugin::framework::{AttrPath, Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

/// The version of the standard the documents follow.
pub(super) const ODPS_API_VERSION: &str = "v1.1.0";

/// `data "datamesh_odps"`.
pub(super) struct Odps;

#[async_trait]
impl DataSource<ProviderData> for Odps {
    fn type_name(&self) -> &'static str {
        "datamesh_odps"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "A data product as an Open Data Product Standard (ODPS) v1.1.0 document, for catalogs and marketplaces that read the standard: one output port per storage port and per stream, input ports from the pipelines that write the product, the classification and PII flag as custom properties. Assembled at read time from the catalog.",
            vec![
                Attribute::required("data_product", Type::String, "The product's ID, `<domain>/<product>`."),
                Attribute::computed(
                    "document",
                    Type::String,
                    "The ODPS document as JSON (`jsondecode()` it, or write it to a file with `local_file`).",
                ),
            ],
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_data_product(config, diags);
    }

    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        let id = config.get("data_product").as_str().unwrap_or_default().to_string();
        let Ok((domain, name)) = naming::parse_data_product_id(&id) else { return Value::Null };
        let Some(catalog) = diags.ok(ctx.provider.catalog().await) else { return Value::Null };
        let product = match catalog.get::<ProductEntry>(&data_product_key(&domain, &name)).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                diags.attr_error(
                    AttrPath::attr("data_product"),
                    "Data product not found",
                    format!("The catalog has no data product {id:?}. Check the ID, or create the product first (a `depends_on` on it orders the read after its creation)."),
                );
                return Value::Null;
            }
            Err(e) => {
                diags.0.push(e.diagnostic("the catalog's data product descriptor"));
                return Value::Null;
            }
        };
        let streams = match catalog.get_all::<StreamEntry>(&format!("streams/{domain}/{name}/")).await {
            Ok(s) => s,
            Err(e) => {
                diags.0.push(e.diagnostic("the catalog's stream entries"));
                return Value::Null;
            }
        };
        let Some(pipelines) = diags.ok(pipeline_records(&catalog).await) else { return Value::Null };
        let mut out = config.clone();
        match serde_json::to_string(&document(&product, &streams, &pipelines)) {
            Ok(text) => out.set("document", Value::string(text)),
            Err(e) => diags.error("Cannot encode the ODPS document", e.to_string()),
        }
        out
    }
}

/// `{ "property": .., "value": .. }`, the standard's key/value pair.
fn property(name: &str, value: Json) -> Json {
    json!({ "property": name, "value": value })
}

/// The product as an ODPS v1.1.0 document. Streams and pipelines may be any of the catalog's:
/// only the product's own streams and the pipelines that write it count.
pub(super) fn document(product: &ProductEntry, streams: &[StreamEntry], pipelines: &[PipelineEntry]) -> Json {
    let mut doc = Map::new();
    doc.insert("apiVersion".into(), json!(ODPS_API_VERSION));
    doc.insert("kind".into(), json!("DataProduct"));
    doc.insert("id".into(), json!(product.id));
    doc.insert("name".into(), json!(product.name));
    doc.insert("domain".into(), json!(product.domain));
    // A product in the catalog exists and serves its ports.
    doc.insert("status".into(), json!("active"));
    if let Some(text) = product.description.as_deref().filter(|d| !d.is_empty()) {
        doc.insert("description".into(), json!({ "purpose": text }));
    }
    doc.insert(
        "team".into(),
        json!({ "name": product.domain, "members": [{ "username": product.owner, "role": "owner" }] }),
    );
    if !product.tags.is_empty() {
        doc.insert("tags".into(), json!(product.tags.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>()));
    }
    let inputs = input_ports(&product.id, pipelines);
    if !inputs.is_empty() {
        doc.insert("inputPorts".into(), Json::Array(inputs));
    }
    doc.insert("outputPorts".into(), Json::Array(output_ports(product, streams)));
    let mut custom = vec![
        property("classification", json!(product.classification)),
        property("containsPii", json!(product.contains_pii)),
    ];
    if let Some(days) = product.retention_days {
        custom.push(property("retentionDays", json!(days)));
    }
    doc.insert("customProperties".into(), Json::Array(custom));
    if !product.created_at.is_empty() {
        doc.insert("productCreatedTs".into(), json!(product.created_at));
    }
    Json::Object(doc)
}

/// One port per storage port (named by its kind) and per stream (named by its topic, which
/// never collides with a kind), storage first.
fn output_ports(product: &ProductEntry, streams: &[StreamEntry]) -> Vec<Json> {
    let storage = product.ports().into_iter().map(|p| {
        json!({
            "name": p.kind,
            "type": p.kind,
            "description": format!("The product's {} port.", port_label(&p.kind)),
            "customProperties": [property("location", json!(p.location))],
        })
    });
    let mut own: Vec<&StreamEntry> = streams.iter().filter(|s| s.data_product == product.id).collect();
    own.sort_by(|a, b| a.topic.cmp(&b.topic));
    let topics = own.into_iter().map(|s| {
        json!({
            "name": s.topic,
            "type": "kafka",
            "description": format!("The product's stream {}.", s.name),
            "customProperties": [
                property("location", json!(s.topic)),
                property("partitions", json!(s.partitions)),
                property("replicationFactor", json!(s.replication_factor)),
            ],
        })
    });
    storage.chain(topics).collect()
}

fn port_label(kind: &str) -> &str {
    match kind {
        "s3" => "S3",
        "hdfs" => "HDFS",
        "cassandra" => "Cassandra",
        other => other,
    }
}

/// One port per product a pipeline that writes `product` reads, with that pipeline: in
/// pipeline, then product order.
fn input_ports(product: &str, pipelines: &[PipelineEntry]) -> Vec<Json> {
    let mut writers: Vec<&PipelineEntry> =
        pipelines.iter().filter(|p| p.outputs.iter().any(|o| o == product)).collect();
    writers.sort_by(|a, b| a.id.cmp(&b.id));
    writers
        .into_iter()
        .flat_map(|p| {
            let mut reads = p.reads.clone();
            reads.sort();
            reads.dedup();
            reads.into_iter().map(move |from| {
                json!({
                    "name": from,
                    "customProperties": [
                        property("pipeline", json!(p.id)),
                        property("engine", json!(p.engine)),
                    ],
                })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn product() -> ProductEntry {
        serde_json::from_value(json!({
            "id": "sales/orders",
            "domain": "sales",
            "name": "orders",
            "description": "Every order, as placed.",
            "owner": "sales@example.com",
            "classification": "confidential",
            "contains_pii": true,
            "retention_days": 30,
            "tags": { "cost_center": "cc-1", "tier": "gold" },
            "ports": [
                { "kind": "s3", "location": "s3://acme-sales-orders/" },
                { "kind": "hdfs", "location": "hdfs://nn:8020/datamesh/sales/orders" }
            ],
            "created_at": "2026-12-02T10:00:00Z"
        }))
        .expect("a product entry")
    }

    fn stream(product: &str, name: &str) -> StreamEntry {
        let (d, p) = product.split_once('/').expect("an ID");
        StreamEntry {
            topic: format!("{d}.{p}.{name}"),
            data_product: product.into(),
            name: name.into(),
            partitions: 3,
            replication_factor: 1,
            configs: BTreeMap::new(),
            created_at: None,
        }
    }

    fn pipeline(id: &str, reads: &[&str], outputs: &[&str]) -> PipelineEntry {
        PipelineEntry {
            id: id.into(),
            engine: "spark".into(),
            reads: reads.iter().map(|s| s.to_string()).collect(),
            outputs: outputs.iter().map(|s| s.to_string()).collect(),
            ..PipelineEntry::default()
        }
    }

    #[test]
    fn the_document_carries_the_fundamentals_team_tags_and_our_properties() {
        let doc = document(&product(), &[], &[]);
        assert_eq!(doc["apiVersion"], "v1.1.0");
        assert_eq!(doc["kind"], "DataProduct");
        assert_eq!(doc["id"], "sales/orders");
        assert_eq!(doc["name"], "orders");
        assert_eq!(doc["domain"], "sales");
        assert_eq!(doc["status"], "active");
        assert_eq!(doc["description"], json!({ "purpose": "Every order, as placed." }));
        assert_eq!(doc["team"]["members"][0], json!({ "username": "sales@example.com", "role": "owner" }));
        assert_eq!(doc["tags"], json!(["cost_center:cc-1", "tier:gold"]));
        assert_eq!(
            doc["customProperties"],
            json!([
                { "property": "classification", "value": "confidential" },
                { "property": "containsPii", "value": true },
                { "property": "retentionDays", "value": 30 }
            ])
        );
        assert_eq!(doc["productCreatedTs"], "2026-12-02T10:00:00Z");
        assert!(doc.get("inputPorts").is_none(), "no pipeline writes it: {doc}");
    }

    #[test]
    fn one_output_port_per_storage_port_then_per_own_stream() {
        let streams =
            [stream("sales/orders", "placed"), stream("sales/other", "x"), stream("sales/orders", "cancelled")];
        let doc = document(&product(), &streams, &[]);
        let names: Vec<&str> =
            doc["outputPorts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["s3", "hdfs", "sales.orders.cancelled", "sales.orders.placed"]);
        assert_eq!(doc["outputPorts"][0]["customProperties"][0]["value"], "s3://acme-sales-orders/");
        assert_eq!(doc["outputPorts"][3]["type"], "kafka");
        assert_eq!(doc["outputPorts"][3]["customProperties"][1], json!({ "property": "partitions", "value": 3 }));
    }

    #[test]
    fn input_ports_come_from_the_pipelines_that_write_the_product() {
        let pipelines = [
            pipeline("sales/b", &["crm/raw", "crm/raw"], &["sales/orders"]),
            pipeline("sales/a", &["web/clicks", "crm/raw"], &["sales/orders", "sales/other"]),
            pipeline("sales/c", &["sales/orders"], &["sales/summary"]),
        ];
        let doc = document(&product(), &[], &pipelines);
        let ports: Vec<(String, String)> = doc["inputPorts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap().into(), p["customProperties"][0]["value"].as_str().unwrap().into()))
            .collect();
        let want = [("crm/raw", "sales/a"), ("web/clicks", "sales/a"), ("crm/raw", "sales/b")];
        assert_eq!(ports, want.map(|(a, b)| (a.to_string(), b.to_string())));
    }

    #[test]
    fn an_entry_from_before_ports_lists_its_bucket_and_optional_fields_are_left_out() {
        let mut p = product();
        p.port_list = Vec::new();
        p.s3_uri = Some("s3://old/".into());
        p.description = None;
        p.tags.clear();
        p.retention_days = None;
        let doc = document(&p, &[], &[]);
        assert_eq!(doc["outputPorts"][0]["customProperties"][0]["value"], "s3://old/");
        for absent in ["description", "tags"] {
            assert!(doc.get(absent).is_none(), "{absent} in {doc}");
        }
        assert_eq!(doc["customProperties"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn user_text_stays_a_json_string() {
        let mut p = product();
        p.description = Some("\"quoted\" </script> \\ \u{e9}".into());
        let text = serde_json::to_string(&document(&p, &[], &[])).unwrap();
        let back: Json = serde_json::from_str(&text).unwrap();
        assert_eq!(back["description"]["purpose"], "\"quoted\" </script> \\ \u{e9}");
    }
}
