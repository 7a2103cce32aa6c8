//! Actions (Terraform >= 1.14): operations run on demand, outside the resource lifecycle.

mod run_pipeline;

use std::sync::Arc;

use tfplugin::framework::Action;

use crate::provider::ProviderData;

/// Every action this provider offers.
pub fn all() -> Vec<Arc<dyn Action<ProviderData>>> {
    vec![Arc::new(run_pipeline::RunPipeline)]
}
