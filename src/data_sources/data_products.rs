//! `datamesh_data_products`: discovery. Lists the catalog's descriptors (paginated
//! ListObjectsV2), reads them concurrently with a bound, and filters them.

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::backends::catalog::data_product_key;
use crate::provider::{Context, ProviderData};
use crate::resources::data_product::ProductEntry;
use tfplugin::framework::typed::to_value;
use tfplugin::framework::{Attribute, Block, DataSource, Diagnostics, Schema, Type, Value};

/// The `datamesh_data_products` data source.
pub(super) struct DataProducts;

fn product_type() -> Type {
    Type::object([
        ("id", Type::String),
        ("domain", Type::String),
        ("name", Type::String),
        ("description", Type::String),
        ("owner", Type::String),
        ("classification", Type::String),
        ("contains_pii", Type::Bool),
        ("retention_days", Type::Number),
        ("versioning", Type::Bool),
        ("schema", Type::String),
        ("tags", Type::map(Type::String)),
        ("bucket", Type::String),
        ("s3_uri", Type::String),
        ("hdfs_path", Type::String),
        ("hdfs_uri", Type::String),
        ("cassandra_keyspace", Type::String),
        ("ports", Type::list(Type::object([("kind", Type::String), ("location", Type::String)]))),
        ("created_at", Type::String),
    ])
}

/// Whether a descriptor passes the filters.
fn matches(e: &ProductEntry, classification: Option<&str>, tags: &BTreeMap<String, String>) -> bool {
    classification.is_none_or(|c| e.classification == c) && tags.iter().all(|(k, v)| e.tags.get(k) == Some(v))
}

#[async_trait]
impl DataSource<ProviderData> for DataProducts {
    fn type_name(&self) -> &'static str {
        "datamesh_data_products"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "Discovers data products in the catalog, optionally filtered by domain, classification and tags.",
            vec![
                Attribute::optional("domain", Type::String, "Only products of this domain."),
                Attribute::optional("classification", Type::String, "Only products with this classification."),
                Attribute::optional("tag", Type::map(Type::String), "Only products carrying all of these tags (in their `tags`)."),
                Attribute::computed(
                    "data_products",
                    Type::list(product_type()),
                    "The matching products, sorted by ID: `id`, `domain`, `name`, `description`, `owner`, `classification`, `contains_pii`, `retention_days`, `versioning`, `schema`, `tags`, `bucket`, `s3_uri`, `hdfs_path`, `hdfs_uri`, `cassandra_keyspace`, `ports` (each `kind`: `s3`, `hdfs` or `cassandra`, and `location`), `created_at`.",
                ),
            ],
        ))
    }

    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        let Some(catalog) = diags.ok(ctx.provider.catalog().await) else { return Value::Null };
        let prefix = match config.get("domain").as_str() {
            Some(domain) => data_product_key(domain, "").trim_end_matches(".json").to_string(),
            None => "data-products/".to_string(),
        };
        let classification = config.get("classification").as_str().map(str::to_string);
        let tags: BTreeMap<String, String> = match config.get("tag") {
            Value::Map(m) => m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect(),
            _ => BTreeMap::new(),
        };
        let mut entries: Vec<ProductEntry> = match catalog.get_all::<ProductEntry>(&prefix).await {
            Ok(found) => found.into_iter().filter(|e| matches(e, classification.as_deref(), &tags)).collect(),
            Err(e) => {
                diags.0.push(e.diagnostic("the catalog"));
                return Value::Null;
            }
        };
        entries.sort_by(|a, b| a.id.cmp(&b.id));
        // Entries written before ports were listed still show their one (S3) port.
        for e in &mut entries {
            e.port_list = e.ports();
        }
        let items = entries.iter().map(|e| to_value(e, &product_type())).collect::<Result<Vec<_>, _>>();
        let mut out = config.clone();
        match items {
            Ok(items) => out.set("data_products", Value::List(items)),
            Err(d) => diags.0.push(d),
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(classification: &str, tags: &[(&str, &str)]) -> ProductEntry {
        serde_json::from_value(serde_json::json!({
            "id": "sales/orders", "domain": "sales", "name": "orders", "owner": "o",
            "classification": classification, "bucket": "b", "s3_uri": "s3://b/", "created_at": "t",
            "tags": tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        }))
        .unwrap()
    }

    #[test]
    fn entries_written_before_ports_existed_list_their_bucket_as_the_one_port() {
        let old = entry("internal", &[]);
        assert_eq!(old.ports().len(), 1);
        assert_eq!((old.ports()[0].kind.as_str(), old.ports()[0].location.as_str()), ("s3", "s3://b/"));
        let v = to_value(&ProductEntry { port_list: old.ports(), ..old }, &product_type()).unwrap();
        assert_eq!(v.get("ports").elements()[0].get("kind").as_str(), Some("s3"));
        assert!(v.get("hdfs_path").is_null());
    }

    #[test]
    fn filters_need_every_tag_and_the_classification() {
        let e = entry("internal", &[("team", "a"), ("tier", "gold")]);
        assert!(matches(&e, None, &BTreeMap::new()));
        assert!(matches(&e, Some("internal"), &BTreeMap::from([("team".into(), "a".into())])));
        assert!(!matches(&e, Some("public"), &BTreeMap::new()));
        assert!(!matches(&e, None, &BTreeMap::from([("team".into(), "b".into())])));
        assert!(!matches(&e, None, &BTreeMap::from([("owner".into(), "a".into())])));
    }

    #[test]
    fn descriptors_become_objects_of_the_declared_type() {
        let v = to_value(&entry("internal", &[]), &product_type()).unwrap();
        assert_eq!(v.get("classification").as_str(), Some("internal"));
        assert!(v.get("retention_days").is_null());
    }
}
