//! List resources for `terraform query` (protocol 6.10): what exists in the catalog, with each
//! resource's identity, and its full state when Terraform asks (so `-generate-config-out`
//! writes configuration that imports with no diff).

use crate::backends::Diagnose;
use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::{self, StreamExt};

use crate::backends::catalog::Catalog;
use crate::naming;
use crate::provider::{Context, ProviderData};
use crate::resources::data_product::DataProduct;
use crate::resources::stream::Stream;
use tfplugin::framework::resource::identity_of;
use tfplugin::framework::{
    AttrPath, Attribute, Block, Diagnostics, ListResource, Listed, Resource, Schema, Type, Value,
};

/// How many resources are read back at once when Terraform wants their state.
const CONCURRENT_READS: usize = 16;

/// Every list resource this provider offers.
pub fn all() -> Vec<Arc<dyn ListResource<ProviderData>>> {
    vec![Arc::new(DataProductList), Arc::new(StreamList)]
}

fn config_schema(what: &str) -> Schema {
    Schema::new(Block::new(
        &format!("Lists the {what} in the catalog."),
        vec![Attribute::optional("domain", Type::String, &format!("Only the {what} of this domain."))],
    ))
}

/// Checks the `domain` filter, which becomes part of a catalog prefix; false when it is invalid.
fn check_filter(config: &Value, diags: &mut Diagnostics) -> bool {
    let Some(domain) = config.get("domain").as_str() else { return true };
    match naming::check_domain(domain) {
        Ok(()) => true,
        Err(msg) => {
            diags.attr_error(AttrPath::attr("domain"), "Invalid domain", msg);
            false
        }
    }
}

/// Catalog keys under `prefix` (and the domain's folder when filtered), at most `limit`.
async fn keys(
    ctx: &Context,
    folder: &str,
    config: &Value,
    limit: usize,
    diags: &mut Diagnostics,
) -> (Option<Arc<Catalog>>, Vec<String>) {
    // Terraform validated the filter, unless it was unknown then: never list a prefix built
    // from an unchecked name.
    if !check_filter(config, diags) {
        return (None, Vec::new());
    }
    let Some(catalog) = diags.ok(ctx.provider.catalog().await) else { return (None, Vec::new()) };
    let prefix = match config.get("domain").as_str() {
        Some(domain) => format!("{folder}/{domain}/"),
        None => format!("{folder}/"),
    };
    match catalog.list(&prefix).await {
        Ok(mut keys) => {
            keys.retain(|k| k.ends_with(".json"));
            keys.sort();
            if limit > 0 {
                keys.truncate(limit);
            }
            (Some(catalog), keys)
        }
        Err(e) => {
            diags.0.push(e.diagnostic("the catalog"));
            (None, Vec::new())
        }
    }
}

/// Turns import IDs into listed resources, reading each back through the resource when asked.
async fn listed(
    ctx: &Context,
    resource: &dyn Resource<ProviderData>,
    ids: Vec<String>,
    include_object: bool,
) -> Vec<Listed> {
    let found = stream::iter(ids)
        .map(|id| async move {
            let mut diags = Diagnostics::new();
            let stub = resource.import(&id, &mut diags);
            if diags.has_errors() {
                return None;
            }
            let object = if include_object {
                let state = resource.read(ctx, &stub, &mut diags).await;
                // Gone from the backend (or unreadable): not something to import.
                if state.is_null() || diags.has_errors() {
                    return None;
                }
                Some(state)
            } else {
                None
            };
            let identity = identity_of(resource, object.as_ref().unwrap_or(&stub))?;
            Some(Listed { identity, display_name: id, object })
        })
        .buffered(CONCURRENT_READS)
        .collect::<Vec<_>>()
        .await;
    found.into_iter().flatten().collect()
}

/// `list "datamesh_data_product"`.
struct DataProductList;

#[async_trait]
impl ListResource<ProviderData> for DataProductList {
    fn type_name(&self) -> &'static str {
        "datamesh_data_product"
    }

    fn schema(&self) -> Schema {
        config_schema("data products")
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        check_filter(config, diags);
    }

    async fn list(
        &self,
        ctx: &Context,
        config: &Value,
        include_object: bool,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<Listed> {
        let (_, keys) = keys(ctx, "data-products", config, limit, diags).await;
        // data-products/<domain>/<product>.json
        let ids = keys
            .iter()
            .filter_map(|k| k.strip_prefix("data-products/")?.strip_suffix(".json").map(str::to_string))
            .filter(|id| naming::parse_data_product_id(id).is_ok())
            .collect();
        listed(ctx, &DataProduct, ids, include_object).await
    }
}

/// `list "datamesh_stream"`.
struct StreamList;

#[async_trait]
impl ListResource<ProviderData> for StreamList {
    fn type_name(&self) -> &'static str {
        "datamesh_stream"
    }

    fn schema(&self) -> Schema {
        config_schema("streams")
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        check_filter(config, diags);
    }

    async fn list(
        &self,
        ctx: &Context,
        config: &Value,
        include_object: bool,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<Listed> {
        let (_, keys) = keys(ctx, "streams", config, limit, diags).await;
        // streams/<domain>/<product>/<stream>.json
        let topics = keys
            .iter()
            .filter_map(|k| {
                let path = k.strip_prefix("streams/")?.strip_suffix(".json")?;
                let parts: Vec<&str> = path.split('/').collect();
                let [domain, product, stream] = parts.as_slice() else { return None };
                Some(naming::topic_name(domain, product, stream))
            })
            .filter(|t| naming::parse_topic(t).is_ok())
            .collect();
        listed(ctx, &Stream, topics, include_object).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_filter_is_checked_at_its_path() {
        for list in all() {
            let mut diags = Diagnostics::new();
            list.validate(&Value::object([("domain", Value::string("../sales"))]), &mut diags);
            assert!(diags.has_errors(), "{}: a hostile domain is rejected", list.type_name());
            assert_eq!(diags.0[0].path.as_ref().map(|p| p.to_string()).as_deref(), Some("domain"));
            let mut diags = Diagnostics::new();
            list.validate(&Value::object([("domain", Value::string("sales"))]), &mut diags);
            list.validate(&Value::object([("domain", Value::Null)]), &mut diags);
            assert!(diags.is_empty(), "{}: a valid or absent filter passes: {:?}", list.type_name(), diags.0);
        }
    }
}
