//! `datamesh_domain`, `datamesh_data_product` and `datamesh_stream` data sources: the same
//! attributes as the resources, read through the resources' own `read`, so a look-up and a
//! refresh can never disagree.

use async_trait::async_trait;

use crate::naming;
use crate::provider::{Context, ProviderData};
use crate::resources::data_product::DataProduct;
use crate::resources::domain::Domain;
use crate::resources::stream::Stream;
use tfplugin::framework::{AttrPath, Attribute, DataSource, Diagnostics, Resource, Schema, Type, Value};

/// Reads through `resource` from a state holding only the identifying attributes.
pub(super) async fn read_through(
    resource: &dyn Resource<ProviderData>,
    ctx: &Context,
    id: &str,
    what: &str,
    at: AttrPath,
    diags: &mut Diagnostics,
) -> Value {
    let mut lookup = Diagnostics::new();
    let state = resource.import(id, &mut lookup);
    if lookup.has_errors() {
        diags.attr_error(at, format!("Invalid {what}"), lookup.0.first().map(|d| d.detail.clone()).unwrap_or_default());
        return Value::Null;
    }
    let mut found = resource.read(ctx, &state, diags).await;
    // A data source has neither the resource's write-only attributes nor its nested blocks
    // (`Schema::for_data_source` keeps the other attributes only).
    if let Value::Object(attrs) = &mut found {
        let schema = resource.schema();
        for a in schema.block.attributes.iter().filter(|a| a.write_only) {
            attrs.remove(&a.name);
        }
        for b in &schema.block.blocks {
            attrs.remove(&b.name);
        }
    }
    if found.is_null() && !diags.has_errors() {
        diags.attr_error(
            at,
            format!("{what} not found"),
            format!("There is no {what} {id:?}. Check the name, or create it first."),
        );
    }
    found
}

/// `data "datamesh_domain"`: a domain by name.
pub(super) struct DomainLookup;

#[async_trait]
impl DataSource<ProviderData> for DomainLookup {
    fn type_name(&self) -> &'static str {
        "datamesh_domain"
    }

    fn schema(&self) -> Schema {
        Schema::for_data_source(
            &Domain.schema(),
            "Looks up a domain by name: its owner, Kafka principal, IAM role and tags.",
            &[Attribute::required("name", Type::String, "The domain's name.")],
        )
    }

    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        let name = config.get("name").as_str().unwrap_or_default().to_string();
        read_through(&Domain, ctx, &name, "domain", AttrPath::attr("name"), diags).await
    }
}

/// `data "datamesh_data_product"`: a data product by `id`, or by `domain` and `name`.
pub(super) struct DataProductLookup;

#[async_trait]
impl DataSource<ProviderData> for DataProductLookup {
    fn type_name(&self) -> &'static str {
        "datamesh_data_product"
    }

    fn schema(&self) -> Schema {
        Schema::for_data_source(
            &DataProduct.schema(),
            "Looks up a data product by `id`, or by `domain` and `name`: its bucket, output port, classification and descriptor.",
            &[
                Attribute::optional_computed("id", Type::String, "The product's ID, `<domain>/<name>`. Set this, or `domain` and `name`."),
                Attribute::optional_computed("domain", Type::String, "The owning domain (with `name`)."),
                Attribute::optional_computed("name", Type::String, "The product's name (with `domain`)."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let (id, domain, name) = (config.get("id"), config.get("domain"), config.get("name"));
        if [id, domain, name].iter().any(|v| v.is_unknown()) {
            return;
        }
        if id.is_null() == (domain.is_null() || name.is_null()) && !(id.is_null() && domain.is_null() && name.is_null())
        {
            diags.attr_error(AttrPath::attr("id"), "Ambiguous look-up", "Set either id, or domain and name, not both.");
        } else if id.is_null() && (domain.is_null() || name.is_null()) {
            diags.attr_error(
                AttrPath::attr("id"),
                "Missing look-up",
                "Set id (\"<domain>/<name>\"), or both domain and name.",
            );
        }
    }

    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        let id = match config.get("id").as_str() {
            Some(id) => id.to_string(),
            None => naming::data_product_id(
                config.get("domain").as_str().unwrap_or_default(),
                config.get("name").as_str().unwrap_or_default(),
            ),
        };
        read_through(&DataProduct, ctx, &id, "data product", AttrPath::attr("id"), diags).await
    }
}

/// `data "datamesh_stream"`: a stream by topic.
pub(super) struct StreamLookup;

#[async_trait]
impl DataSource<ProviderData> for StreamLookup {
    fn type_name(&self) -> &'static str {
        "datamesh_stream"
    }

    fn schema(&self) -> Schema {
        Schema::for_data_source(
            &Stream.schema(),
            "Looks up a stream by its topic: partitions, replication and the configs set on it.",
            &[Attribute::required("topic", Type::String, "The topic, `<domain>.<product>.<stream>`.")],
        )
    }

    async fn read(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        let topic = config.get("topic").as_str().unwrap_or_default().to_string();
        read_through(&Stream, ctx, &topic, "stream", AttrPath::attr("topic"), diags).await
    }
}
