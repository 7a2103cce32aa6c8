//! Data sources: look-ups and discovery, read from the catalog and the backends.

mod data_products;
mod lookups;

use std::sync::Arc;

use crate::framework::DataSource;

/// Every data source this provider offers.
pub fn all() -> Vec<Arc<dyn DataSource>> {
    vec![
        Arc::new(lookups::DomainLookup),
        Arc::new(lookups::DataProductLookup),
        Arc::new(lookups::StreamLookup),
        Arc::new(data_products::DataProducts),
    ]
}
