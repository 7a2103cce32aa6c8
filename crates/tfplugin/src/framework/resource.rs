//! The traits a provider's types implement: `Resource`, `DataSource`, `EphemeralResource` and
//! `ListResource`. Each is generic over `D`, the data the provider hands every call (its
//! configured settings and clients), so the framework never names a provider.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::{Diagnostic, Diagnostics};
use super::schema::Schema;
use super::value::Value;

/// What every call can reach: the configured provider's data and the stop signal.
pub struct ResourceContext<D> {
    /// What the provider made of its configuration ([`Provider::configure`](super::Provider::configure)).
    pub provider: Arc<D>,
    /// Cancelled when Terraform calls StopProvider.
    pub stop: CancellationToken,
}

// By hand: a derive would ask `D: Clone`, but only the `Arc` is cloned.
impl<D> Clone for ResourceContext<D> {
    fn clone(&self) -> Self {
        Self { provider: self.provider.clone(), stop: self.stop.clone() }
    }
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
pub trait Resource<D: Send + Sync + 'static>: Send + Sync {
    /// The Terraform type name, like `example_widget`.
    fn type_name(&self) -> &'static str;

    /// The schema, built once by the provider.
    fn schema(&self) -> Schema;

    /// Checks the configuration alone (no provider configuration yet; values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Adjusts the planned state after the framework applied defaults and kept prior computed
    /// values: derived attributes, governance rules, changes that can't be made in place.
    async fn modify_plan(
        &self,
        _ctx: &ResourceContext<D>,
        _req: PlanRequest<'_>,
        _planned: &mut Value,
        _diags: &mut Diagnostics,
    ) {
    }

    /// Attributes whose planned change replaces the resource beyond those the schema marks
    /// (`Attribute::replace`): rules that depend on other values, like "on this engine every
    /// change is a new run". Called after [`Resource::modify_plan`] for updates only.
    fn replace_paths(&self, _prior: &Value, _planned: &Value) -> Vec<super::diag::AttrPath> {
        Vec::new()
    }

    /// Creates the backend objects. Returns the new state; on failure half-way, the state of
    /// what was made (Terraform then keeps it, tainted), or Null if nothing was made.
    async fn create(&self, ctx: &ResourceContext<D>, planned: &Value, diags: &mut Diagnostics) -> Value;

    /// Reads the backend objects. Returns Null when the resource is gone.
    async fn read(&self, ctx: &ResourceContext<D>, state: &Value, diags: &mut Diagnostics) -> Value;

    /// Changes the backend objects in place. Returns the state as it now is.
    async fn update(&self, ctx: &ResourceContext<D>, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value;

    /// Deletes the backend objects.
    async fn delete(&self, ctx: &ResourceContext<D>, state: &Value, diags: &mut Diagnostics);

    /// Turns an import ID into a state holding the identifying attributes; `read` fills the rest.
    fn import(&self, id: &str, diags: &mut Diagnostics) -> Value;

    /// The resource identity (protocol 6.9): string attributes of the state, with descriptions,
    /// that name the resource for `import { identity = {...} }` and `terraform query`.
    fn identity(&self) -> &'static [(&'static str, &'static str)];

    /// The import ID of an identity (the attributes above, as an object).
    fn import_id(&self, identity: &Value) -> Option<String>;

    /// Takes over the state of another resource type that a `moved { from = ... to = ... }`
    /// block hands to this one (Terraform 1.8 and later), so the object is adopted instead of
    /// replaced. Returns this resource's whole state, as a read would make it; Terraform refreshes
    /// it next. No I/O: Terraform asks while planning. By default every source is refused.
    fn move_state(&self, source: &MoveSource, diags: &mut Diagnostics) -> Value {
        diags.0.push(source.refused(self.type_name(), "It takes the state of no other resource type."));
        Value::Null
    }
}

/// The state of a resource that a `moved` block hands to another resource type, as Terraform
/// stored it: written by the source's provider, under the source's schema.
#[derive(Debug, Clone, PartialEq)]
pub struct MoveSource {
    /// The source's provider, like `registry.terraform.io/acme/widgets`.
    pub provider_address: String,
    /// The source's resource type, like `widgets_widget`.
    pub type_name: String,
    /// The schema version the source's state was written under.
    pub schema_version: i64,
    /// The source's state (a JSON object in the source's schema).
    pub state: serde_json::Value,
    /// The source's private data, opaque (empty when it had none).
    pub private: Vec<u8>,
    /// The source's identity, when it had one.
    pub identity: Option<serde_json::Value>,
    /// The schema version of that identity.
    pub identity_schema_version: i64,
}

impl MoveSource {
    /// The error of a move `target` does not accept: what was moved, from where, why not
    /// (`reason`, a sentence), and the way out.
    pub fn refused(&self, target: &str, reason: &str) -> Diagnostic {
        Diagnostic::error(
            format!("Cannot move {} into {target}", self.type_name),
            format!(
                "{target} does not accept moves from {} of {}. {reason} Remove the moved block, and bring the \
                 object in another way (an import block, or a new resource).",
                self.type_name, self.provider_address,
            ),
        )
    }
}

/// The identity of a state: the identity attributes, or None while any is unknown or null.
pub fn identity_of<D: Send + Sync + 'static>(resource: &dyn Resource<D>, state: &Value) -> Option<Value> {
    let attrs: Vec<(&str, Value)> =
        resource.identity().iter().map(|(name, _)| (*name, state.get(name).clone())).collect();
    attrs.iter().all(|(_, v)| v.as_str().is_some()).then(|| Value::object(attrs))
}

/// The object type of a resource's identity.
pub fn identity_type<D: Send + Sync + 'static>(resource: &dyn Resource<D>) -> super::value::Type {
    super::value::Type::Object(
        resource.identity().iter().map(|(n, _)| (n.to_string(), super::value::Type::String)).collect(),
    )
}

/// One resource found by a list resource (`terraform query`).
#[derive(Debug, Clone)]
pub struct Listed {
    /// Its identity.
    pub identity: Value,
    /// How Terraform shows it.
    pub display_name: String,
    /// Its full state, when asked for.
    pub object: Option<Value>,
}

/// A list resource: finds existing resources of one type, for `terraform query`.
#[async_trait]
pub trait ListResource<D: Send + Sync + 'static>: Send + Sync {
    /// The resource type it lists.
    fn type_name(&self) -> &'static str;

    /// The schema of its `config` block (the filters).
    fn schema(&self) -> Schema;

    /// Checks the `config` block alone (values may be unknown). Diagnostic paths here and in
    /// [`ListResource::list`] are relative to the `config` block (`AttrPath::attr("domain")`).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Lists up to `limit` resources; with `include_object`, each with its full state.
    async fn list(
        &self,
        ctx: &ResourceContext<D>,
        config: &Value,
        include_object: bool,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<Listed>;
}

/// A data source: reads what exists, changes nothing.
#[async_trait]
pub trait DataSource<D: Send + Sync + 'static>: Send + Sync {
    /// The Terraform type name, like `example_widgets`.
    fn type_name(&self) -> &'static str;

    /// The schema, built once by the provider.
    fn schema(&self) -> Schema;

    /// Checks the configuration alone (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Reads: returns the configuration with every computed attribute filled.
    async fn read(&self, ctx: &ResourceContext<D>, config: &Value, diags: &mut Diagnostics) -> Value;
}

/// An ephemeral resource: opened for one Terraform run, never stored in state or plan.
#[async_trait]
pub trait EphemeralResource<D: Send + Sync + 'static>: Send + Sync {
    /// The Terraform type name, like `example_token`.
    fn type_name(&self) -> &'static str;

    /// The schema, built once by the provider.
    fn schema(&self) -> Schema;

    /// Checks the configuration alone (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Opens it: returns the configuration with every computed attribute filled.
    async fn open(&self, ctx: &ResourceContext<D>, config: &Value, diags: &mut Diagnostics) -> Value;
}
