//! The managed resources, one file per noun.

pub mod access_grant;
mod common;
pub mod data_product;
pub mod domain;
mod parts;
pub mod pipeline;
pub mod stream;

use std::sync::Arc;

use tfplugin::framework::Resource;

use crate::provider::ProviderData;

/// Every resource this provider offers.
pub fn all() -> Vec<Arc<dyn Resource<ProviderData>>> {
    vec![
        Arc::new(domain::Domain),
        Arc::new(data_product::DataProduct),
        Arc::new(stream::Stream),
        Arc::new(access_grant::AccessGrant),
        Arc::new(pipeline::Pipeline),
    ]
}
