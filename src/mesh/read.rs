//! Reads every record of the catalog into [`Entries`], through the provider's own S3 client and
//! [`Catalog`] (built from the same `aws` settings, so credentials come from the standard AWS
//! chain exactly as for the provider). A record that cannot be read or parsed is skipped with a
//! warning: one odd object must not hide the rest of the mesh.

use serde::de::DeserializeOwned;

use super::model::Entries;
use crate::backends::{BackendError, Catalog};
use crate::provider::config::ProviderConfig;
use crate::provider::ProviderData;

/// The catalog of a provider configuration (only its `catalog_bucket` and `aws` settings count).
pub async fn connect(config: ProviderConfig) -> Result<std::sync::Arc<Catalog>, String> {
    let data = ProviderData::new(config);
    data.catalog().await.map_err(|d| format!("{}: {}", d.summary, d.detail))
}

/// Every record under each kind's prefix; the warnings name what was skipped.
pub async fn entries(catalog: &Catalog) -> Result<(Entries, Vec<String>), BackendError> {
    let mut warnings = Vec::new();
    let entries = Entries {
        domains: all(catalog, "domains/", &mut warnings).await?,
        products: all(catalog, "data-products/", &mut warnings).await?,
        streams: all(catalog, "streams/", &mut warnings).await?,
        grants: all(catalog, "grants/", &mut warnings).await?,
        pipelines: all(catalog, "pipelines/", &mut warnings).await?,
    };
    Ok((entries, warnings))
}

async fn all<T: DeserializeOwned>(
    catalog: &Catalog,
    prefix: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<T>, BackendError> {
    let read = catalog.read_each::<T>(prefix).await?;
    let mut out = Vec::with_capacity(read.len());
    for (key, got) in read {
        match got {
            Ok(Some(entry)) => out.push(entry),
            // Deleted between the listing and the read.
            Ok(None) => {}
            Err(e) => warnings.push(format!("skipped {key}: {e}")),
        }
    }
    Ok(out)
}
