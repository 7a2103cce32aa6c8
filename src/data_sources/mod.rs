//! Data sources: look-ups and discovery, read from the catalog and the backends.

mod data_products;
mod lookups;
mod odps;
mod pipelines;

use std::sync::Arc;

use tfplugin::framework::DataSource;

use crate::provider::ProviderData;

/// Every data source this provider offers.
pub fn all() -> Vec<Arc<dyn DataSource<ProviderData>>> {
    vec![
        Arc::new(lookups::DomainLookup),
        Arc::new(lookups::DataProductLookup),
        Arc::new(lookups::StreamLookup),
        Arc::new(data_products::DataProducts),
        Arc::new(pipelines::PipelineLookup),
        Arc::new(pipelines::Lineage),
        Arc::new(odps::Odps),
    ]
}
