//! Ephemeral resources: values that live for one Terraform run and are never written to
//! state or plan files.

mod consumer_credentials;

use std::sync::Arc;

use tfplugin::framework::EphemeralResource;

use crate::provider::ProviderData;

/// Every ephemeral resource this provider offers.
pub fn all() -> Vec<Arc<dyn EphemeralResource<ProviderData>>> {
    vec![Arc::new(consumer_credentials::ConsumerCredentials)]
}
