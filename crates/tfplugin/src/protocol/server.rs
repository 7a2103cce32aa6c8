//! The gRPC service Terraform calls: one method per protocol call, each decoding its request,
//! calling the provider or resource, and encoding the answer. Provider failures always travel as
//! diagnostics, never as gRPC errors, and a panic in a handler becomes an error diagnostic.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock, RwLock};

use futures::FutureExt;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::convert::{decode, diagnostics_to_proto, encode, function_to_proto, path_to_proto, schema_to_proto};
use super::tfplugin6 as pb;
use super::tfplugin6::provider_server::{self, ProviderServer};
use crate::framework::plan::{
    fill_defaults, null_write_only, plan_defaults, requires_replace, unknowns_to_null, with_write_only, write_only_set,
};
use crate::framework::provider::Found;
use crate::framework::resource::{identity_of, identity_type, PlanRequest};
use crate::framework::{
    AttrPath, DataSource, Diagnostic, Diagnostics, EphemeralResource, Function, ListResource, Provider, Registry,
    Resource, ResourceContext, Type, Value,
};

/// The tfplugin6 `Provider` service, serving any [`Provider`].
pub struct ProviderService<P: Provider> {
    provider: Arc<P>,
    registry: Registry<P::Data>,
    /// What ConfigureProvider made; None until then.
    data: RwLock<Option<Arc<P::Data>>>,
    stop: CancellationToken,
    schema_response: OnceLock<pb::get_provider_schema::Response>,
}

impl<P: Provider> ProviderService<P> {
    /// Serves `provider`; `stop` is cancelled when Terraform calls StopProvider.
    pub fn new(provider: Arc<P>, stop: CancellationToken) -> Self {
        let registry = Registry::new(provider.as_ref());
        // Stopping cancels in-flight work but not the server: Terraform shuts it down itself.
        Self { provider, registry, data: RwLock::new(None), stop: stop.child_token(), schema_response: OnceLock::new() }
    }

    /// The gRPC server for this service.
    pub(crate) fn into_server(self) -> ProviderServer<Self> {
        ProviderServer::new(self)
    }

    /// The configured data; an unconfigured provider (as in `terraform validate`) gets the
    /// provider's defaults.
    fn data(&self) -> Arc<P::Data> {
        if let Ok(slot) = self.data.read() {
            if let Some(d) = slot.as_ref() {
                return d.clone();
            }
        }
        Arc::new(self.provider.unconfigured())
    }

    fn context(&self) -> ResourceContext<P::Data> {
        ResourceContext { provider: self.data(), stop: self.stop.clone() }
    }

    fn resource(&self, type_name: &str) -> Result<Found<'_, dyn Resource<P::Data>>, Diagnostic> {
        self.registry.resource(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown resource type",
                format!(
                    "This provider has no resource type {type_name:?}. Check the spelling, or upgrade the provider."
                ),
            )
        })
    }

    fn data_source(&self, type_name: &str) -> Result<Found<'_, dyn DataSource<P::Data>>, Diagnostic> {
        self.registry.data_source(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown data source",
                format!("This provider has no data source {type_name:?}. Check the spelling, or upgrade the provider."),
            )
        })
    }

    fn ephemeral(&self, type_name: &str) -> Result<Found<'_, dyn EphemeralResource<P::Data>>, Diagnostic> {
        self.registry.ephemeral_resource(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown ephemeral resource",
                format!("This provider has no ephemeral resource {type_name:?}. Check the spelling, or upgrade the provider."),
            )
        })
    }

    fn list(&self, type_name: &str) -> Result<Found<'_, dyn ListResource<P::Data>>, Diagnostic> {
        self.registry.list_resource(type_name).ok_or_else(|| {
            let listed: Vec<&str> = self.registry.list_resources().map(|(n, _, _)| n).collect();
            Diagnostic::error(
                "Unknown list resource",
                format!("This provider cannot list {type_name:?}. It lists {}.", listed.join(", ")),
            )
        })
    }

    /// Everything a ListResource call streams back, as events.
    async fn list_events(&self, req: &pb::list_resource::Request) -> Vec<pb::list_resource::Event> {
        let mut diags = Diagnostics::new();
        let failed = |diags: &Diagnostics| {
            vec![pb::list_resource::Event { diagnostic: diagnostics_to_proto(diags), ..Default::default() }]
        };
        let (Some((list, schema)), Some((resource, resource_schema))) =
            (diags.ok(self.list(&req.type_name)), self.registry.resource(&req.type_name))
        else {
            return failed(&diags);
        };
        let Some(config) = diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")) else {
            return failed(&diags);
        };
        let limit = usize::try_from(req.limit).unwrap_or(0);
        let ctx = self.context();
        let mut listed = Diagnostics::new();
        let found = tokio::select! {
            found = list.list(&ctx, &config, req.include_resource_object, limit, &mut listed) => found,
            _ = self.stop.cancelled() => Vec::new(),
        };
        diags.extend(within_config(listed));
        if diags.has_errors() {
            return failed(&diags);
        }
        let id_type = identity_type(resource.as_ref());
        found
            .into_iter()
            .map(|item| {
                let mut event_diags = Diagnostics::new();
                let identity = event_diags.ok(encode(&item.identity, &id_type));
                let resource_object = item.object.and_then(|mut object| {
                    fill_defaults(resource_schema, &mut object);
                    event_diags.ok(encode(&object, &resource_schema.ty()))
                });
                pb::list_resource::Event {
                    identity: identity.map(|v| pb::ResourceIdentityData { identity_data: Some(v) }),
                    display_name: item.display_name,
                    resource_object,
                    diagnostic: diagnostics_to_proto(&event_diags),
                }
            })
            .collect()
    }

    fn function_protos(&self) -> HashMap<String, pb::Function> {
        self.registry.functions().iter().map(|f| (f.name.to_string(), function_to_proto(f))).collect()
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: false,
            get_provider_schema_optional: true,
            move_resource_state: false,
            generate_resource_config: false,
        }
    }
}

/// Runs a handler, turning a panic into an error response built by `on_error`.
async fn guarded<T, F>(
    name: &'static str,
    work: F,
    on_error: impl FnOnce(Vec<pb::Diagnostic>) -> T,
) -> Result<Response<T>, Status>
where
    F: Future<Output = T>,
{
    tracing::debug!(rpc = name, "request");
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(out) => Ok(Response::new(out)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(rpc = name, panic = %what, "handler panicked");
            let mut d = Diagnostics::new();
            d.error(
                "The provider hit an internal error",
                format!("{name} failed unexpectedly ({what}). This is a bug in the provider; please report it with the Terraform log."),
            );
            Ok(Response::new(on_error(diagnostics_to_proto(&d))))
        }
    }
}

/// Calls a provider function: decodes the string arguments, runs it, encodes the result.
fn call_function(function: Option<&Function>, req: &pb::call_function::Request) -> pb::call_function::Response {
    let fail = |argument: Option<usize>, text: String| pb::call_function::Response {
        result: None,
        error: Some(pb::FunctionError { text, function_argument: argument.map(|a| a as i64) }),
    };
    let Some(f) = function else {
        return fail(None, format!("This provider has no function {:?}.", req.name));
    };
    let mut args = Vec::with_capacity(req.arguments.len());
    for (i, arg) in req.arguments.iter().enumerate() {
        match decode(Some(arg), &Type::String, "function argument") {
            Ok(Value::String(s)) => args.push(s),
            Ok(_) => return fail(Some(i), "This argument must be a known, non-null string.".into()),
            Err(d) => return fail(Some(i), d.detail),
        }
    }
    match (f.call)(&args) {
        Ok(out) => match encode(&Value::String(out), &Type::String) {
            Ok(result) => pb::call_function::Response { result: Some(result), error: None },
            Err(d) => fail(None, d.detail),
        },
        Err(e) => fail(e.argument, e.text),
    }
}

/// The identity of a state, encoded for Terraform (None while not wholly known).
fn identity_data<D: Send + Sync + 'static>(
    resource: &dyn Resource<D>,
    state: &Value,
) -> Option<pb::ResourceIdentityData> {
    let identity = identity_of(resource, state)?;
    let encoded = encode(&identity, &identity_type(resource)).ok()?;
    Some(pb::ResourceIdentityData { identity_data: Some(encoded) })
}

/// A list resource's diagnostics carry paths into its `config` block; Terraform resolves them
/// from the `list` block, so they gain the `config` step (then Terraform quotes the attribute's
/// line, not the block's header).
fn within_config(mut diags: Diagnostics) -> Diagnostics {
    for path in diags.0.iter_mut().filter_map(|d| d.path.as_mut()) {
        path.0.insert(0, crate::framework::diag::PathStep::Attr("config".into()));
    }
    diags
}

#[tonic::async_trait]
impl<P: Provider> provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        guarded(
            "GetMetadata",
            async {
                pb::get_metadata::Response {
                    server_capabilities: Some(Self::capabilities()),
                    resources: self
                        .registry
                        .resources()
                        .map(|(n, _, _)| pb::get_metadata::ResourceMetadata { type_name: n.to_string() })
                        .collect(),
                    data_sources: self
                        .registry
                        .data_sources()
                        .map(|(n, _, _)| pb::get_metadata::DataSourceMetadata { type_name: n.to_string() })
                        .collect(),
                    ephemeral_resources: self
                        .registry
                        .ephemeral_resources()
                        .map(|(n, _, _)| pb::get_metadata::EphemeralMetadata { type_name: n.to_string() })
                        .collect(),
                    list_resources: self
                        .registry
                        .list_resources()
                        .map(|(n, _, _)| pb::get_metadata::ListResourceMetadata { type_name: n.to_string() })
                        .collect(),
                    functions: self
                        .registry
                        .functions()
                        .iter()
                        .map(|f| pb::get_metadata::FunctionMetadata { name: f.name.to_string() })
                        .collect(),
                    ..Default::default()
                }
            },
            |diagnostics| pb::get_metadata::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        guarded(
            "GetProviderSchema",
            async {
                self.schema_response
                    .get_or_init(|| pb::get_provider_schema::Response {
                        provider: Some(schema_to_proto(self.registry.schema())),
                        resource_schemas: self
                            .registry
                            .resources()
                            .map(|(n, _, s)| (n.to_string(), schema_to_proto(s)))
                            .collect(),
                        data_source_schemas: self
                            .registry
                            .data_sources()
                            .map(|(n, _, s)| (n.to_string(), schema_to_proto(s)))
                            .collect(),
                        ephemeral_resource_schemas: self
                            .registry
                            .ephemeral_resources()
                            .map(|(n, _, s)| (n.to_string(), schema_to_proto(s)))
                            .collect(),
                        list_resource_schemas: self
                            .registry
                            .list_resources()
                            .map(|(n, _, s)| (n.to_string(), schema_to_proto(s)))
                            .collect(),
                        server_capabilities: Some(Self::capabilities()),
                        functions: self.function_protos(),
                        ..Default::default()
                    })
                    .clone()
            },
            |diagnostics| pb::get_provider_schema::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        let identity_schemas = self
            .registry
            .resources()
            .map(|(name, resource, _)| {
                let attributes = resource
                    .identity()
                    .iter()
                    .map(|(attr, description)| pb::resource_identity_schema::IdentityAttribute {
                        name: attr.to_string(),
                        r#type: Type::String.to_json().to_string().into_bytes(),
                        required_for_import: true,
                        optional_for_import: false,
                        description: description.to_string(),
                    })
                    .collect();
                (name.to_string(), pb::ResourceIdentitySchema { version: 0, identity_attributes: attributes })
            })
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response { identity_schemas, diagnostics: vec![] }))
    }

    async fn upgrade_resource_identity(
        &self,
        req: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "UpgradeResourceIdentity",
            async {
                let mut diags = Diagnostics::new();
                let mut upgraded_identity = None;
                if let Some((resource, _)) = diags.ok(self.resource(&req.type_name)) {
                    let ty = identity_type(resource.as_ref());
                    let raw = pb::DynamicValue {
                        msgpack: Vec::new(),
                        json: req.raw_identity.map(|r| r.json).unwrap_or_default(),
                    };
                    if let Some(identity) = diags.ok(decode(Some(&raw), &ty, "stored identity")) {
                        upgraded_identity = diags
                            .ok(encode(&identity, &ty))
                            .map(|v| pb::ResourceIdentityData { identity_data: Some(v) });
                    }
                }
                pb::upgrade_resource_identity::Response { upgraded_identity, diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::upgrade_resource_identity::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(pb::get_functions::Response { functions: self.function_protos(), diagnostics: vec![] }))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let req = req.into_inner();
        guarded("CallFunction", async { call_function(self.registry.function(&req.name), &req) }, |_| {
            pb::call_function::Response {
                result: None,
                error: Some(pb::FunctionError {
                    text: "The function failed unexpectedly; this is a bug in the provider.".into(),
                    function_argument: None,
                }),
            }
        })
        .await
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ValidateProviderConfig",
            async {
                let mut diags = Diagnostics::new();
                if let Some(config) =
                    diags.ok(decode(req.config.as_ref(), &self.registry.schema().ty(), "provider configuration"))
                {
                    self.provider.validate(&config, &mut diags);
                }
                pb::validate_provider_config::Response { diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::validate_provider_config::Response { diagnostics },
        )
        .await
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ConfigureProvider",
            async {
                let mut diags = Diagnostics::new();
                if let Some(config) =
                    diags.ok(decode(req.config.as_ref(), &self.registry.schema().ty(), "provider configuration"))
                {
                    let data = Arc::new(self.provider.configure(&config, self.stop.clone(), &mut diags));
                    if let Ok(mut slot) = self.data.write() {
                        *slot = Some(data);
                    }
                }
                pb::configure_provider::Response { diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::configure_provider::Response { diagnostics },
        )
        .await
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!("StopProvider: cancelling in-flight work");
        self.stop.cancel();
        Ok(Response::new(pb::stop_provider::Response { error: String::new() }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ValidateResourceConfig",
            async {
                let mut diags = Diagnostics::new();
                if let Some((resource, schema)) = diags.ok(self.resource(&req.type_name)) {
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")) {
                        let write_only_ok =
                            req.client_capabilities.as_ref().is_some_and(|c| c.write_only_attributes_allowed);
                        if !write_only_ok {
                            for name in write_only_set(schema, &config) {
                                diags.attr_error(
                                    AttrPath::attr(name),
                                    "Write-only attribute not supported by this Terraform",
                                    format!(
                                        "{name} is write-only: its value must never be stored in state, and this CLI \
                                         does not support write-only attributes (Terraform 1.11 or later does). \
                                         Upgrade the CLI, or remove {name}."
                                    ),
                                );
                            }
                        }
                        resource.validate(&config, &mut diags);
                    }
                }
                pb::validate_resource_config::Response { diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::validate_resource_config::Response { diagnostics },
        )
        .await
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "UpgradeResourceState",
            async {
                let mut diags = Diagnostics::new();
                let mut upgraded = None;
                if let Some((_, schema)) = diags.ok(self.resource(&req.type_name)) {
                    let ty = schema.ty();
                    let json = req.raw_state.map(|r| r.json).unwrap_or_default();
                    let raw = pb::DynamicValue { msgpack: Vec::new(), json };
                    if req.version > schema.version {
                        diags.error(
                            "State from a newer provider",
                            format!(
                                "The state of this {} was written by a newer provider (schema version {}). Upgrade the provider.",
                                req.type_name, req.version
                            ),
                        );
                    } else if let Some(state) = diags.ok(decode(Some(&raw), &ty, "stored state")) {
                        upgraded = diags.ok(encode(&state, &ty));
                    }
                }
                pb::upgrade_resource_state::Response { upgraded_state: upgraded, diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::upgrade_resource_state::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ReadResource",
            async {
                let mut diags = Diagnostics::new();
                let mut new_state = req.current_state.clone();
                let mut new_identity = req.current_identity.clone();
                if let Some((resource, schema)) = diags.ok(self.resource(&req.type_name)) {
                    let ty = schema.ty();
                    if let Some(current) = diags.ok(decode(req.current_state.as_ref(), &ty, "current state")) {
                        // Reads change nothing, so a stop may abandon them at once.
                        let ctx = self.context();
                        let read = resource.read(&ctx, &current, &mut diags);
                        let mut state = tokio::select! {
                            state = read => state,
                            _ = self.stop.cancelled() => Value::Unknown,
                        };
                        if state.is_unknown() {
                            diags.error(
                                "Stopped",
                                "Terraform asked the provider to stop before the refresh finished; state is unchanged.",
                            );
                        }
                        if diags.has_errors() {
                            // Keep what Terraform knew: a failed read must not drop the resource.
                            state = current;
                        }
                        fill_defaults(schema, &mut state);
                        null_write_only(schema, &mut state);
                        new_identity = identity_data(resource.as_ref(), &state);
                        new_state = diags.ok(encode(&state, &ty));
                    }
                }
                pb::read_resource::Response {
                    new_state,
                    diagnostics: diagnostics_to_proto(&diags),
                    private: req.private,
                    new_identity,
                    ..Default::default()
                }
            },
            |diagnostics| pb::read_resource::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "PlanResourceChange",
            async {
                let mut diags = Diagnostics::new();
                let mut resp = pb::plan_resource_change::Response {
                    planned_private: req.prior_private.clone(),
                    ..Default::default()
                };
                let Some((resource, schema)) = diags.ok(self.resource(&req.type_name)) else {
                    resp.diagnostics = diagnostics_to_proto(&diags);
                    return resp;
                };
                let ty = schema.ty();
                let values = (
                    diags.ok(decode(req.prior_state.as_ref(), &ty, "prior state")),
                    diags.ok(decode(req.proposed_new_state.as_ref(), &ty, "proposed state")),
                    diags.ok(decode(req.config.as_ref(), &ty, "configuration")),
                );
                let (Some(prior), Some(proposed), Some(config)) = values else {
                    resp.diagnostics = diagnostics_to_proto(&diags);
                    return resp;
                };
                let planned = if proposed.is_null() {
                    Value::Null
                } else {
                    let mut planned = plan_defaults(schema, &prior, &config, &proposed);
                    let plan_req = PlanRequest { prior: &prior, config: &config, proposed: &proposed };
                    let ctx = self.context();
                    tokio::select! {
                        _ = resource.modify_plan(&ctx, plan_req, &mut planned, &mut diags) => {}
                        _ = self.stop.cancelled() => diags.error("Stopped", "Terraform asked the provider to stop while planning."),
                    }
                    null_write_only(schema, &mut planned);
                    let mut replace = requires_replace(schema, &prior, &planned);
                    if !prior.is_null() {
                        for path in resource.replace_paths(&prior, &planned) {
                            if !replace.contains(&path) {
                                replace.push(path);
                            }
                        }
                    }
                    resp.requires_replace = replace.iter().map(path_to_proto).collect();
                    planned
                };
                resp.planned_identity = identity_data(resource.as_ref(), &planned);
                resp.planned_state = diags.ok(encode(&planned, &ty));
                resp.diagnostics = diagnostics_to_proto(&diags);
                resp
            },
            |diagnostics| pb::plan_resource_change::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ApplyResourceChange",
            async {
                let mut diags = Diagnostics::new();
                let mut resp =
                    pb::apply_resource_change::Response { private: req.planned_private.clone(), ..Default::default() };
                let Some((resource, schema)) = diags.ok(self.resource(&req.type_name)) else {
                    resp.diagnostics = diagnostics_to_proto(&diags);
                    return resp;
                };
                let ty = schema.ty();
                let values = (
                    diags.ok(decode(req.prior_state.as_ref(), &ty, "prior state")),
                    diags.ok(decode(req.planned_state.as_ref(), &ty, "planned state")),
                    diags.ok(decode(req.config.as_ref(), &ty, "configuration")),
                );
                let (Some(prior), Some(mut planned), Some(config)) = values else {
                    resp.new_state = req.prior_state.clone();
                    resp.diagnostics = diagnostics_to_proto(&diags);
                    return resp;
                };
                with_write_only(schema, &config, &mut planned);
                let ctx = self.context();
                let mut new_state = if planned.is_null() {
                    resource.delete(&ctx, &prior, &mut diags).await;
                    // A failed delete leaves the resource in state, as it still exists.
                    if diags.has_errors() {
                        prior
                    } else {
                        Value::Null
                    }
                } else if prior.is_null() {
                    resource.create(&ctx, &planned, &mut diags).await
                } else {
                    resource.update(&ctx, &prior, &planned, &mut diags).await
                };
                unknowns_to_null(&mut new_state);
                null_write_only(schema, &mut new_state);
                resp.new_identity = identity_data(resource.as_ref(), &new_state);
                resp.new_state = diags.ok(encode(&new_state, &ty));
                resp.diagnostics = diagnostics_to_proto(&diags);
                resp
            },
            |diagnostics| pb::apply_resource_change::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ImportResourceState",
            async {
                let mut diags = Diagnostics::new();
                let mut imported = Vec::new();
                if let Some((resource, schema)) = diags.ok(self.resource(&req.type_name)) {
                    // Terraform sends either an import ID or an identity (`import { identity = {...} }`).
                    let id = match req.identity.as_ref().and_then(|i| i.identity_data.as_ref()) {
                        Some(data) if req.id.is_empty() => {
                            let ty = identity_type(resource.as_ref());
                            diags.ok(decode(Some(data), &ty, "identity")).and_then(|identity| {
                                let id = resource.import_id(&identity);
                                if id.is_none() {
                                    diags.error(
                                        "Incomplete identity",
                                        "Set every identity attribute of this resource type.",
                                    );
                                }
                                id
                            })
                        }
                        _ => Some(req.id.clone()),
                    };
                    let state = id.map(|id| resource.import(&id, &mut diags)).unwrap_or(Value::Null);
                    if !diags.has_errors() {
                        let identity = identity_data(resource.as_ref(), &state);
                        if let Some(state) = diags.ok(encode(&state, &schema.ty())) {
                            imported.push(pb::import_resource_state::ImportedResource {
                                type_name: req.type_name.clone(),
                                state: Some(state),
                                identity,
                                ..Default::default()
                            });
                        }
                    }
                }
                pb::import_resource_state::Response {
                    imported_resources: imported,
                    diagnostics: diagnostics_to_proto(&diags),
                    ..Default::default()
                }
            },
            |diagnostics| pb::import_resource_state::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ValidateEphemeralResourceConfig",
            async {
                let mut diags = Diagnostics::new();
                if let Some((eph, schema)) = diags.ok(self.ephemeral(&req.type_name)) {
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")) {
                        eph.validate(&config, &mut diags);
                    }
                }
                pb::validate_ephemeral_resource_config::Response { diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::validate_ephemeral_resource_config::Response { diagnostics },
        )
        .await
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "OpenEphemeralResource",
            async {
                let mut diags = Diagnostics::new();
                let mut result = None;
                if let Some((eph, schema)) = diags.ok(self.ephemeral(&req.type_name)) {
                    let ty = schema.ty();
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &ty, "configuration")) {
                        let ctx = self.context();
                        let mut opened = tokio::select! {
                            v = eph.open(&ctx, &config, &mut diags) => v,
                            _ = self.stop.cancelled() => {
                                diags.error("Stopped", "Terraform asked the provider to stop before the ephemeral resource was opened.");
                                Value::Null
                            }
                        };
                        if !diags.has_errors() {
                            unknowns_to_null(&mut opened);
                            result = diags.ok(encode(&opened, &ty));
                        }
                    }
                }
                pb::open_ephemeral_resource::Response { result, diagnostics: diagnostics_to_proto(&diags), ..Default::default() }
            },
            |diagnostics| pb::open_ephemeral_resource::Response { diagnostics, ..Default::default() },
        )
        .await
    }

    async fn renew_ephemeral_resource(
        &self,
        _: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        // Nothing to renew: the credentials simply expire.
        Ok(Response::new(pb::renew_ephemeral_resource::Response::default()))
    }

    async fn close_ephemeral_resource(
        &self,
        _: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        // STS credentials cannot be revoked one by one; they expire on their own.
        Ok(Response::new(pb::close_ephemeral_resource::Response::default()))
    }

    async fn validate_list_resource_config(
        &self,
        req: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ValidateListResourceConfig",
            async {
                let mut diags = Diagnostics::new();
                if let Some((list, schema)) = diags.ok(self.list(&req.type_name)) {
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")) {
                        let mut found = Diagnostics::new();
                        list.validate(&config, &mut found);
                        diags.extend(within_config(found));
                    }
                }
                pb::validate_list_resource_config::Response { diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::validate_list_resource_config::Response { diagnostics },
        )
        .await
    }

    async fn list_resource(
        &self,
        req: Request<pb::list_resource::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::list_resource::Event>>, Status> {
        let req = req.into_inner();
        let events = match AssertUnwindSafe(self.list_events(&req)).catch_unwind().await {
            Ok(events) => events,
            Err(_) => {
                let mut d = Diagnostics::new();
                d.error(
                    "The provider hit an internal error",
                    "ListResource failed unexpectedly. This is a bug in the provider; please report it.",
                );
                vec![pb::list_resource::Event { diagnostic: diagnostics_to_proto(&d), ..Default::default() }]
            }
        };
        Ok(Response::new(Box::pin(futures::stream::iter(events.into_iter().map(Ok)))))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ValidateDataResourceConfig",
            async {
                let mut diags = Diagnostics::new();
                if let Some((source, schema)) = diags.ok(self.data_source(&req.type_name)) {
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")) {
                        source.validate(&config, &mut diags);
                    }
                }
                pb::validate_data_resource_config::Response { diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::validate_data_resource_config::Response { diagnostics },
        )
        .await
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ReadDataSource",
            async {
                let mut diags = Diagnostics::new();
                let mut state = None;
                if let Some((source, schema)) = diags.ok(self.data_source(&req.type_name)) {
                    let ty = schema.ty();
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &ty, "configuration")) {
                        let ctx = self.context();
                        let mut read = tokio::select! {
                            v = source.read(&ctx, &config, &mut diags) => v,
                            _ = self.stop.cancelled() => {
                                diags.error("Stopped", "Terraform asked the provider to stop before the data source was read.");
                                Value::Null
                            }
                        };
                        if !diags.has_errors() {
                            unknowns_to_null(&mut read);
                            state = diags.ok(encode(&read, &ty));
                        }
                    }
                }
                pb::read_data_source::Response { state, diagnostics: diagnostics_to_proto(&diags), ..Default::default() }
            },
            |diagnostics| pb::read_data_source::Response { diagnostics, ..Default::default() },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::AttrPath;

    #[test]
    fn list_diagnostics_gain_the_config_step_and_others_stay() {
        let mut d = Diagnostics::new();
        d.attr_error(AttrPath::attr("domain"), "Invalid domain", "x");
        d.error("No path", "y");
        let out = within_config(d);
        assert_eq!(out.0[0].path.as_ref().map(ToString::to_string).as_deref(), Some("config.domain"));
        assert!(out.0[1].path.is_none());
    }
}
