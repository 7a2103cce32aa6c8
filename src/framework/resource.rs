//! The `Resource` trait: each resource file implements it and holds only its own logic.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::Diagnostics;
use super::schema::Schema;
use super::value::Value;
use crate::provider::ProviderData;

/// What every resource call can reach: the configured provider and the stop signal.
#[derive(Clone)]
pub struct ResourceContext {
    /// The provider's configuration and its (lazily connected) backends.
    pub provider: Arc<ProviderData>,
    /// Cancelled when Terraform calls StopProvider.
    pub stop: CancellationToken,
}

/// The values Terraform hands to planning.
#[derive(Debug, Clone, Copy)]
pub struct PlanRequest<'a> {
    /// The state before this plan (Null when creating).
    pub prior: &'a Value,
    /// The configuration as written (may hold unknowns).
    pub config: &'a Value,
    /// Terraform's proposal: the configuration merged with prior computed values.
    pub proposed: &'a Value,
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// The Terraform type name, like `datamesh_domain`.
    fn type_name(&self) -> &'static str;

    /// The schema, built once by the provider.
    fn schema(&self) -> Schema;

    /// Checks the configuration alone (no provider configuration yet; values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Adjusts the planned state after the framework applied defaults and kept prior computed
    /// values: derived attributes, governance rules, changes that can't be made in place.
    async fn modify_plan(
        &self,
        _ctx: &ResourceContext,
        _req: PlanRequest<'_>,
        _planned: &mut Value,
        _diags: &mut Diagnostics,
    ) {
    }

    /// Creates the backend objects. Returns the new state; on failure half-way, the state of
    /// what was made (Terraform then keeps it, tainted), or Null if nothing was made.
    async fn create(&self, ctx: &ResourceContext, planned: &Value, diags: &mut Diagnostics) -> Value;

    /// Reads the backend objects. Returns Null when the resource is gone.
    async fn read(&self, ctx: &ResourceContext, state: &Value, diags: &mut Diagnostics) -> Value;

    /// Changes the backend objects in place. Returns the state as it now is.
    async fn update(&self, ctx: &ResourceContext, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value;

    /// Deletes the backend objects.
    async fn delete(&self, ctx: &ResourceContext, state: &Value, diags: &mut Diagnostics);

    /// Turns an import ID into a state holding the identifying attributes; `read` fills the rest.
    fn import(&self, id: &str, diags: &mut Diagnostics) -> Value;
}

/// A data source: reads what exists, changes nothing.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// The Terraform type name, like `datamesh_data_products`.
    fn type_name(&self) -> &'static str;

    /// The schema, built once by the provider.
    fn schema(&self) -> Schema;

    /// Checks the configuration alone (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads: returns the configuration with every computed attribute filled.
    async fn read(&self, ctx: &ResourceContext, config: &Value, diags: &mut Diagnostics) -> Value;
}

/// An ephemeral resource: opened for one Terraform run, never stored in state or plan.
#[async_trait]
pub trait EphemeralResource: Send + Sync {
    /// The Terraform type name, like `datamesh_consumer_credentials`.
    fn type_name(&self) -> &'static str;

    /// The schema, built once by the provider.
    fn schema(&self) -> Schema;

    /// Checks the configuration alone (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Opens it: returns the configuration with every computed attribute filled.
    async fn open(&self, ctx: &ResourceContext, config: &Value, diags: &mut Diagnostics) -> Value;
}
