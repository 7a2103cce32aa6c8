//! The gRPC service Terraform calls: one method per protocol call, each decoding its request,
//! calling the provider or resource, and encoding the answer. Provider failures always travel as
//! diagnostics, never as gRPC errors, and a panic in a handler becomes an error diagnostic.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock, RwLock};

use futures::{FutureExt, StreamExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::convert::{
    decode, diagnostics_to_proto, encode, function_to_proto, move_source_from_proto, path_to_proto, schema_to_proto,
};
use super::tfplugin6 as pb;
use super::tfplugin6::provider_server::{self, ProviderServer};
use crate::framework::plan::{
    fill_defaults, null_write_only, plan_defaults, requires_replace, unknowns_to_null, with_write_only, write_only_set,
};
use crate::framework::provider::Found;
use crate::framework::resource::{identity_of, identity_type, PlanRequest};
use crate::framework::{
    Action, AttrPath, DataSource, Diagnostic, Diagnostics, EphemeralResource, Function, ListResource, Progress,
    Provider, Registry, Resource, ResourceContext, Type, Value,
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

    fn action(&self, type_name: &str) -> Result<Found<'_, dyn Action<P::Data>>, Diagnostic> {
        self.registry.action(type_name).ok_or_else(|| {
            Diagnostic::error(
                "Unknown action type",
                format!("This provider has no action type {type_name:?}. Check the spelling, or upgrade the provider."),
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
            move_resource_state: true,
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
        Err(panic) => Ok(Response::new(on_error(diagnostics_to_proto(&panicked(name, panic))))),
    }
}

/// The error diagnostic of a call that panicked, logged with the panic's message.
fn panicked(name: &'static str, panic: Box<dyn Any + Send>) -> Diagnostics {
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
    d
}

/// The event that ends an InvokeAction stream.
fn completed(diags: &Diagnostics) -> pb::invoke_action::Event {
    let completed = pb::invoke_action::event::Completed { diagnostics: diagnostics_to_proto(diags) };
    pb::invoke_action::Event { r#type: Some(pb::invoke_action::event::Type::Completed(completed)) }
}

/// Runs one invocation to its end: the action's reports go out as Progress events while it
/// works, then exactly one Completed event carries its diagnostics (a panic becomes an error
/// there). Nothing the action reports after it returned is sent.
async fn run_action<D: Send + Sync + 'static>(
    action: Arc<dyn Action<D>>,
    ctx: ResourceContext<D>,
    config: Value,
    events: mpsc::UnboundedSender<pb::invoke_action::Event>,
) {
    let (progress, mut reports) = Progress::channel();
    let work = AssertUnwindSafe(async move {
        let mut diags = Diagnostics::new();
        action.invoke(&ctx, &config, &progress, &mut diags).await;
        diags
    })
    .catch_unwind();
    tokio::pin!(work);
    // A send fails only when Terraform went away; the action runs to its end all the same.
    let forward = |message: String| {
        let progress = pb::invoke_action::event::Progress { message };
        let _ =
            events.send(pb::invoke_action::Event { r#type: Some(pb::invoke_action::event::Type::Progress(progress)) });
    };
    let outcome = loop {
        tokio::select! {
            biased;
            Some(message) = reports.recv() => forward(message),
            outcome = &mut work => break outcome,
        }
    };
    // Reports made just before the action returned are still queued, and come before the end.
    while let Ok(message) = reports.try_recv() {
        forward(message);
    }
    let diags = outcome.unwrap_or_else(|panic| panicked("InvokeAction", panic));
    let _ = events.send(completed(&diags));
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
                    actions: self
                        .registry
                        .actions()
                        .map(|(n, _, _)| pb::get_metadata::ActionMetadata { type_name: n.to_string() })
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
                        action_schemas: self
                            .registry
                            .actions()
                            .map(|(n, _, s)| (n.to_string(), pb::ActionSchema { schema: Some(schema_to_proto(s)) }))
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

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "MoveResourceState",
            async {
                let mut diags = Diagnostics::new();
                let mut resp = pb::move_resource_state::Response::default();
                let found = diags.ok(self.resource(&req.target_type_name));
                if let (Some((resource, schema)), Some(source)) = (found, diags.ok(move_source_from_proto(&req))) {
                    let mut state = resource.move_state(&source, &mut diags);
                    if !diags.has_errors() && state.is_null() {
                        diags.error(
                            "The provider hit an internal error",
                            format!("{} accepted the move but made no state. This is a bug in the provider; please report it.", req.target_type_name),
                        );
                    }
                    if !diags.has_errors() {
                        // What a read would hand Terraform: wholly known, defaults filled. The
                        // source's private data is its own provider's, so none is carried over.
                        unknowns_to_null(&mut state);
                        fill_defaults(schema, &mut state);
                        null_write_only(schema, &mut state);
                        resp.target_identity = identity_data(resource.as_ref(), &state);
                        resp.target_state = diags.ok(encode(&state, &schema.ty()));
                    }
                }
                resp.diagnostics = diagnostics_to_proto(&diags);
                resp
            },
            |diagnostics| pb::move_resource_state::Response { diagnostics, ..Default::default() },
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

    async fn validate_action_config(
        &self,
        req: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "ValidateActionConfig",
            async {
                let mut diags = Diagnostics::new();
                if let Some((action, schema)) = diags.ok(self.action(&req.type_name)) {
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")) {
                        action.validate(&config, &mut diags);
                    }
                }
                pb::validate_action_config::Response { diagnostics: diagnostics_to_proto(&diags) }
            },
            |diagnostics| pb::validate_action_config::Response { diagnostics },
        )
        .await
    }

    async fn plan_action(
        &self,
        req: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let req = req.into_inner();
        guarded(
            "PlanAction",
            async {
                let mut diags = Diagnostics::new();
                if let Some((action, schema)) = diags.ok(self.action(&req.action_type)) {
                    if let Some(config) = diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")) {
                        let ctx = self.context();
                        tokio::select! {
                            _ = action.plan(&ctx, &config, &mut diags) => {}
                            _ = self.stop.cancelled() => diags.error("Stopped", "Terraform asked the provider to stop while planning the action."),
                        }
                    }
                }
                // Never deferred: an action whose configuration is not yet known is Terraform's
                // to postpone, and nothing here waits on another round.
                pb::plan_action::Response { diagnostics: diagnostics_to_proto(&diags), deferred: None }
            },
            |diagnostics| pb::plan_action::Response { diagnostics, deferred: None },
        )
        .await
    }

    async fn invoke_action(
        &self,
        req: Request<pb::invoke_action::Request>,
    ) -> Result<Response<tonic::codegen::BoxStream<pb::invoke_action::Event>>, Status> {
        let req = req.into_inner();
        tracing::debug!(rpc = "InvokeAction", action = %req.action_type, "request");
        let (events, stream) = mpsc::unbounded_channel();
        let mut diags = Diagnostics::new();
        let prepared = diags.ok(self.action(&req.action_type)).and_then(|(action, schema)| {
            diags.ok(decode(req.config.as_ref(), &schema.ty(), "configuration")).map(|config| (action.clone(), config))
        });
        match prepared {
            // Its own task, so the stream can carry progress while the action works; a stream
            // dropped by Terraform does not cut the action off half-way.
            Some((action, config)) => drop(tokio::spawn(run_action(action, self.context(), config, events))),
            None => {
                let _ = events.send(completed(&diags));
            }
        }
        Ok(Response::new(Box::pin(UnboundedReceiverStream::new(stream).map(Ok))))
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

    /// Actions through the service, the way Terraform calls them.
    mod actions {
        use std::time::Duration;

        use tokio::sync::Notify;

        use super::super::provider_server::Provider as _;
        use super::*;
        use crate::framework::{Attribute, Block, Schema};

        /// What the test provider's block sets: a target no action may aim at.
        struct Data {
            forbidden: String,
        }

        struct TestProvider {
            gate: Arc<Notify>,
        }

        impl Provider for TestProvider {
            type Data = Data;
            fn schema(&self) -> Schema {
                Schema::new(Block::new("", vec![Attribute::optional("forbidden", Type::String, "")]))
            }
            fn configure(&self, config: &Value, _: CancellationToken, _: &mut Diagnostics) -> Data {
                Data { forbidden: config.get("forbidden").as_str().unwrap_or_default().to_string() }
            }
            fn unconfigured(&self) -> Data {
                Data { forbidden: String::new() }
            }
            fn resources(&self) -> Vec<Arc<dyn Resource<Data>>> {
                Vec::new()
            }
            fn actions(&self) -> Vec<Arc<dyn Action<Data>>> {
                vec![Arc::new(Stepper), Arc::new(Boom), Arc::new(UntilStopped), Arc::new(Gated(self.gate.clone()))]
            }
        }

        fn target_schema() -> Schema {
            Schema::new(Block::new(
                "",
                vec![Attribute::required("target", Type::String, ""), Attribute::optional("steps", Type::Number, "")],
            ))
        }

        /// `test_notify`: reports `steps` progress lines, then warns once.
        struct Stepper;

        #[async_trait::async_trait]
        impl Action<Data> for Stepper {
            fn type_name(&self) -> &'static str {
                "test_notify"
            }
            fn schema(&self) -> Schema {
                target_schema()
            }
            fn validate(&self, config: &Value, diags: &mut Diagnostics) {
                if config.get("target").as_str() == Some("") {
                    diags.attr_error(AttrPath::attr("target"), "Empty target", "Name a target.");
                }
            }
            async fn plan(&self, ctx: &ResourceContext<Data>, config: &Value, diags: &mut Diagnostics) {
                if config.get("target").as_str() == Some(ctx.provider.forbidden.as_str()) {
                    diags.attr_error(AttrPath::attr("target"), "Forbidden target", "The provider forbids it.");
                }
            }
            async fn invoke(
                &self,
                _: &ResourceContext<Data>,
                config: &Value,
                progress: &Progress,
                diags: &mut Diagnostics,
            ) {
                let steps = config.get("steps").as_i64().unwrap_or(0);
                for i in 1..=steps {
                    progress.report(format!("step {i} of {steps}"));
                    tokio::task::yield_now().await;
                }
                diags.warning("Notified", "All steps ran.");
            }
        }

        /// `test_boom`: reports once, then panics.
        struct Boom;

        #[async_trait::async_trait]
        impl Action<Data> for Boom {
            fn type_name(&self) -> &'static str {
                "test_boom"
            }
            fn schema(&self) -> Schema {
                target_schema()
            }
            async fn invoke(&self, _: &ResourceContext<Data>, _: &Value, progress: &Progress, _: &mut Diagnostics) {
                progress.report("about to fail");
                panic!("the action broke");
            }
        }

        /// `test_until_stopped`: works until StopProvider, then says what it left undone.
        struct UntilStopped;

        #[async_trait::async_trait]
        impl Action<Data> for UntilStopped {
            fn type_name(&self) -> &'static str {
                "test_until_stopped"
            }
            fn schema(&self) -> Schema {
                target_schema()
            }
            async fn invoke(
                &self,
                ctx: &ResourceContext<Data>,
                _: &Value,
                progress: &Progress,
                diags: &mut Diagnostics,
            ) {
                progress.report("working");
                ctx.stop.cancelled().await;
                diags.error("Stopped", "The last step did not run.");
            }
        }

        /// `test_gated`: reports, waits for the test to open the gate, reports again.
        struct Gated(Arc<Notify>);

        #[async_trait::async_trait]
        impl Action<Data> for Gated {
            fn type_name(&self) -> &'static str {
                "test_gated"
            }
            fn schema(&self) -> Schema {
                target_schema()
            }
            async fn invoke(&self, _: &ResourceContext<Data>, _: &Value, progress: &Progress, _: &mut Diagnostics) {
                progress.report("waiting");
                self.0.notified().await;
                progress.report("released");
            }
        }

        fn service() -> (ProviderService<TestProvider>, Arc<Notify>) {
            let gate = Arc::new(Notify::new());
            (ProviderService::new(Arc::new(TestProvider { gate: gate.clone() }), CancellationToken::new()), gate)
        }

        fn config(target: Value, steps: Value) -> Option<pb::DynamicValue> {
            encode(&Value::object([("target", target), ("steps", steps)]), &target_schema().ty()).ok()
        }

        /// A truncated msgpack array where an object belongs.
        fn garbage() -> Option<pb::DynamicValue> {
            Some(pb::DynamicValue { msgpack: vec![0x92, 0x01], json: vec![] })
        }

        /// Each diagnostic as `severity summary @path`.
        fn shown(diags: &[pb::Diagnostic]) -> Vec<String> {
            use pb::attribute_path::step::Selector;
            diags
                .iter()
                .map(|d| {
                    let path: Vec<String> = d
                        .attribute
                        .iter()
                        .flat_map(|p| &p.steps)
                        .filter_map(|s| match &s.selector {
                            Some(Selector::AttributeName(a)) => Some(a.clone()),
                            _ => None,
                        })
                        .collect();
                    let severity =
                        if d.severity == pb::diagnostic::Severity::Error as i32 { "error" } else { "warning" };
                    format!("{severity} {} @{}", d.summary, path.join("."))
                })
                .collect()
        }

        /// An InvokeAction stream's events, as `progress: ...` and `completed: [...]`.
        async fn invoke(
            svc: &ProviderService<TestProvider>,
            action: &str,
            config: Option<pb::DynamicValue>,
        ) -> Vec<String> {
            let req = pb::invoke_action::Request { action_type: action.into(), config, client_capabilities: None };
            let Ok(stream) = svc.invoke_action(Request::new(req)).await else {
                panic!("InvokeAction answered a gRPC error")
            };
            let events = tokio::time::timeout(Duration::from_secs(10), stream.into_inner().collect::<Vec<_>>()).await;
            events.unwrap().into_iter().map(|e| describe(e.unwrap())).collect()
        }

        fn describe(event: pb::invoke_action::Event) -> String {
            match event.r#type {
                Some(pb::invoke_action::event::Type::Progress(p)) => format!("progress: {}", p.message),
                Some(pb::invoke_action::event::Type::Completed(c)) => format!("completed: {:?}", shown(&c.diagnostics)),
                None => "empty event".into(),
            }
        }

        async fn validate(
            svc: &ProviderService<TestProvider>,
            action: &str,
            config: Option<pb::DynamicValue>,
        ) -> Vec<String> {
            let req = pb::validate_action_config::Request { type_name: action.into(), config };
            shown(&svc.validate_action_config(Request::new(req)).await.unwrap().into_inner().diagnostics)
        }

        async fn plan(
            svc: &ProviderService<TestProvider>,
            action: &str,
            config: Option<pb::DynamicValue>,
        ) -> pb::plan_action::Response {
            let req = pb::plan_action::Request { action_type: action.into(), config, client_capabilities: None };
            svc.plan_action(Request::new(req)).await.unwrap().into_inner()
        }

        #[tokio::test]
        async fn metadata_and_schema_list_every_action() {
            let (svc, _) = service();
            let meta = svc.get_metadata(Request::new(pb::get_metadata::Request {})).await.unwrap().into_inner();
            let names: Vec<&str> = meta.actions.iter().map(|a| a.type_name.as_str()).collect();
            assert_eq!(names, ["test_boom", "test_gated", "test_notify", "test_until_stopped"]);

            let schema = svc.get_provider_schema(Request::new(pb::get_provider_schema::Request {})).await.unwrap();
            let schemas = schema.into_inner().action_schemas;
            assert_eq!(schemas.len(), 4);
            let block = schemas["test_notify"].schema.as_ref().and_then(|s| s.block.as_ref()).unwrap();
            let attrs: Vec<&str> = block.attributes.iter().map(|a| a.name.as_str()).collect();
            assert_eq!(attrs, ["target", "steps"]);
            assert!(block.attributes[0].required);
        }

        #[tokio::test]
        async fn validate_puts_errors_at_their_attribute_and_accepts_unknowns() {
            let (svc, _) = service();
            let empty = validate(&svc, "test_notify", config(Value::string(""), Value::Null)).await;
            assert_eq!(empty, ["error Empty target @target"]);
            assert!(validate(&svc, "test_notify", config(Value::Unknown, Value::Unknown)).await.is_empty());
        }

        #[tokio::test]
        async fn validate_reports_an_unknown_action_type_and_undecodable_config() {
            let (svc, _) = service();
            assert_eq!(
                validate(&svc, "test_nope", config(Value::string("x"), Value::Null)).await,
                ["error Unknown action type @"]
            );
            let bad = validate(&svc, "test_notify", garbage()).await;
            assert_eq!(bad, ["error Cannot decode a value from Terraform @"]);
        }

        #[tokio::test]
        async fn plan_checks_against_the_configured_provider_and_never_defers() {
            let (svc, _) = service();
            let provider_config =
                encode(&Value::object([("forbidden", Value::string("prod"))]), &svc.registry.schema().ty()).ok();
            let req = pb::configure_provider::Request { config: provider_config, ..Default::default() };
            assert!(svc.configure_provider(Request::new(req)).await.unwrap().into_inner().diagnostics.is_empty());

            let forbidden = plan(&svc, "test_notify", config(Value::string("prod"), Value::Null)).await;
            assert_eq!(shown(&forbidden.diagnostics), ["error Forbidden target @target"]);
            assert!(forbidden.deferred.is_none());
            let fine = plan(&svc, "test_notify", config(Value::Unknown, Value::Null)).await;
            assert!(fine.diagnostics.is_empty() && fine.deferred.is_none());
            let unknown = plan(&svc, "test_nope", config(Value::string("x"), Value::Null)).await;
            assert_eq!(shown(&unknown.diagnostics), ["error Unknown action type @"]);
        }

        #[tokio::test]
        async fn invoke_streams_each_report_then_one_completed() {
            let (svc, _) = service();
            let events = invoke(&svc, "test_notify", config(Value::string("x"), Value::Number(3.0))).await;
            assert_eq!(
                events,
                [
                    "progress: step 1 of 3",
                    "progress: step 2 of 3",
                    "progress: step 3 of 3",
                    r#"completed: ["warning Notified @"]"#,
                ]
            );
            let silent = invoke(&svc, "test_notify", config(Value::string("x"), Value::Null)).await;
            assert_eq!(silent, [r#"completed: ["warning Notified @"]"#]);
        }

        #[tokio::test]
        async fn progress_reaches_terraform_while_the_action_still_works() {
            let (svc, gate) = service();
            let req = pb::invoke_action::Request {
                action_type: "test_gated".into(),
                config: config(Value::string("x"), Value::Null),
                client_capabilities: None,
            };
            let mut stream = svc.invoke_action(Request::new(req)).await.unwrap().into_inner();
            // The action waits for the gate, opened only once its first report arrived.
            let first = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap();
            assert_eq!(describe(first.unwrap().unwrap()), "progress: waiting");
            gate.notify_one();
            let rest: Vec<String> = stream.map(|e| describe(e.unwrap())).collect().await;
            assert_eq!(rest, ["progress: released", "completed: []"]);
        }

        #[tokio::test]
        async fn a_panicking_action_completes_with_an_error_and_the_server_goes_on() {
            let (svc, _) = service();
            let events = invoke(&svc, "test_boom", config(Value::string("x"), Value::Null)).await;
            assert_eq!(
                events,
                ["progress: about to fail", r#"completed: ["error The provider hit an internal error @"]"#]
            );
            let again = invoke(&svc, "test_notify", config(Value::string("x"), Value::Number(1.0))).await;
            assert_eq!(again.len(), 2);
        }

        #[tokio::test]
        async fn invoke_of_an_unknown_type_or_bad_config_is_one_completed_with_the_error() {
            let (svc, _) = service();
            let unknown = invoke(&svc, "test_nope", config(Value::string("x"), Value::Null)).await;
            assert_eq!(unknown, [r#"completed: ["error Unknown action type @"]"#]);
            let bad = invoke(&svc, "test_notify", garbage()).await;
            assert_eq!(bad, [r#"completed: ["error Cannot decode a value from Terraform @"]"#]);
        }

        #[tokio::test]
        async fn stop_provider_reaches_a_running_action() {
            let (svc, _) = service();
            let req = pb::invoke_action::Request {
                action_type: "test_until_stopped".into(),
                config: config(Value::string("x"), Value::Null),
                client_capabilities: None,
            };
            let mut stream = svc.invoke_action(Request::new(req)).await.unwrap().into_inner();
            let first = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.unwrap();
            assert_eq!(describe(first.unwrap().unwrap()), "progress: working");
            svc.stop_provider(Request::new(pb::stop_provider::Request {})).await.unwrap();
            let rest =
                tokio::time::timeout(Duration::from_secs(10), stream.map(|e| describe(e.unwrap())).collect::<Vec<_>>())
                    .await;
            assert_eq!(rest.unwrap(), [r#"completed: ["error Stopped @"]"#]);
        }
    }

    /// MoveResourceState through the service, the way Terraform calls it for a `moved` block.
    mod moves {
        use super::super::provider_server::Provider as _;
        use super::*;
        use crate::framework::{Attribute, Block, MoveSource, Schema};

        struct TestProvider;

        impl Provider for TestProvider {
            type Data = ();
            fn schema(&self) -> Schema {
                Schema::new(Block::new("", vec![]))
            }
            fn configure(&self, _: &Value, _: CancellationToken, _: &mut Diagnostics) {}
            fn unconfigured(&self) {}
            fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
                vec![Arc::new(Thing), Arc::new(Plain)]
            }
        }

        fn thing_schema() -> Schema {
            Schema::new(Block::new(
                "",
                vec![
                    Attribute::required("name", Type::String, ""),
                    Attribute::optional("size", Type::Number, "").default(Value::Number(3.0)),
                    Attribute::computed("note", Type::String, ""),
                ],
            ))
        }

        /// `test_thing` takes over `old_thing` of acme/old.
        struct Thing;

        #[async_trait::async_trait]
        impl Resource<()> for Thing {
            fn type_name(&self) -> &'static str {
                "test_thing"
            }
            fn schema(&self) -> Schema {
                thing_schema()
            }
            async fn create(&self, _: &ResourceContext<()>, planned: &Value, _: &mut Diagnostics) -> Value {
                planned.clone()
            }
            async fn read(&self, _: &ResourceContext<()>, state: &Value, _: &mut Diagnostics) -> Value {
                state.clone()
            }
            async fn update(&self, _: &ResourceContext<()>, _: &Value, planned: &Value, _: &mut Diagnostics) -> Value {
                planned.clone()
            }
            async fn delete(&self, _: &ResourceContext<()>, _: &Value, _: &mut Diagnostics) {}
            fn import(&self, id: &str, _: &mut Diagnostics) -> Value {
                Value::object([("name", Value::string(id))])
            }
            fn identity(&self) -> &'static [(&'static str, &'static str)] {
                &[("name", "")]
            }
            fn import_id(&self, identity: &Value) -> Option<String> {
                identity.get("name").as_str().map(str::to_string)
            }
            fn move_state(&self, source: &MoveSource, diags: &mut Diagnostics) -> Value {
                if source.type_name != "old_thing" {
                    diags.0.push(source.refused("test_thing", "It takes old_thing only."));
                    return Value::Null;
                }
                // Unknown in a moved state would be a bug; the service makes it null.
                let name = source.state["title"].as_str().unwrap_or_default();
                Value::object([("name", Value::string(name)), ("note", Value::Unknown)])
            }
        }

        /// A resource that leaves moves to the trait's default (only that is called here).
        struct Plain;

        #[async_trait::async_trait]
        impl Resource<()> for Plain {
            fn type_name(&self) -> &'static str {
                "test_plain"
            }
            fn schema(&self) -> Schema {
                thing_schema()
            }
            async fn create(&self, _: &ResourceContext<()>, _: &Value, _: &mut Diagnostics) -> Value {
                Value::Null
            }
            async fn read(&self, _: &ResourceContext<()>, _: &Value, _: &mut Diagnostics) -> Value {
                Value::Null
            }
            async fn update(&self, _: &ResourceContext<()>, _: &Value, _: &Value, _: &mut Diagnostics) -> Value {
                Value::Null
            }
            async fn delete(&self, _: &ResourceContext<()>, _: &Value, _: &mut Diagnostics) {}
            fn import(&self, _: &str, _: &mut Diagnostics) -> Value {
                Value::Null
            }
            fn identity(&self) -> &'static [(&'static str, &'static str)] {
                &[]
            }
            fn import_id(&self, _: &Value) -> Option<String> {
                None
            }
        }

        fn service() -> ProviderService<TestProvider> {
            ProviderService::new(Arc::new(TestProvider), CancellationToken::new())
        }

        fn request(source_type: &str, target: &str, state: &str) -> pb::move_resource_state::Request {
            pb::move_resource_state::Request {
                source_provider_address: "registry.terraform.io/acme/old".into(),
                source_type_name: source_type.into(),
                source_schema_version: 0,
                source_state: Some(pb::RawState { json: state.as_bytes().to_vec(), flatmap: Default::default() }),
                target_type_name: target.into(),
                source_private: b"theirs".to_vec(),
                ..Default::default()
            }
        }

        async fn moved(
            svc: &ProviderService<TestProvider>,
            req: pb::move_resource_state::Request,
        ) -> pb::move_resource_state::Response {
            svc.move_resource_state(Request::new(req)).await.unwrap().into_inner()
        }

        #[tokio::test]
        async fn the_server_announces_moves() {
            let meta = service().get_metadata(Request::new(pb::get_metadata::Request {})).await.unwrap().into_inner();
            assert!(meta.server_capabilities.is_some_and(|c| c.move_resource_state));
        }

        #[tokio::test]
        async fn an_accepted_move_answers_a_whole_state_with_identity_and_no_private() {
            let svc = service();
            let resp = moved(&svc, request("old_thing", "test_thing", r#"{"title":"w-1"}"#)).await;
            assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
            let ty = thing_schema().ty();
            let state = decode(resp.target_state.as_ref(), &ty, "state").unwrap();
            let want =
                Value::object([("name", Value::string("w-1")), ("size", Value::Number(3.0)), ("note", Value::Null)]);
            assert_eq!(state, want);
            let identity = resp.target_identity.and_then(|i| i.identity_data).expect("identity");
            let id_ty = Type::Object([("name".to_string(), Type::String)].into());
            assert_eq!(
                decode(Some(&identity), &id_ty, "identity").unwrap(),
                Value::object([("name", Value::string("w-1"))])
            );
            assert!(resp.target_private.is_empty(), "the source's private data is not ours");
        }

        #[tokio::test]
        async fn a_refused_source_is_an_error_naming_it_and_no_state() {
            let svc = service();
            let resp = moved(&svc, request("other_thing", "test_thing", "{}")).await;
            assert!(resp.target_state.is_none());
            assert_eq!(resp.diagnostics.len(), 1);
            assert_eq!(resp.diagnostics[0].summary, "Cannot move other_thing into test_thing");
            assert!(resp.diagnostics[0].detail.contains("other_thing of registry.terraform.io/acme/old"));
        }

        #[tokio::test]
        async fn by_default_a_resource_refuses_every_move() {
            let resp = moved(&service(), request("old_thing", "test_plain", "{}")).await;
            assert!(resp.target_state.is_none());
            let d = &resp.diagnostics[0];
            assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
            assert_eq!(d.summary, "Cannot move old_thing into test_plain");
            assert!(d.detail.contains("does not accept moves from old_thing"), "{}", d.detail);
            assert!(d.detail.contains("Remove the moved block"), "{}", d.detail);
        }

        #[tokio::test]
        async fn an_unknown_target_or_unreadable_state_is_an_error() {
            let svc = service();
            let unknown = moved(&svc, request("old_thing", "test_nope", "{}")).await;
            assert_eq!(unknown.diagnostics[0].summary, "Unknown resource type");
            let bad = moved(&svc, request("old_thing", "test_thing", "{\"title\"")).await;
            assert_eq!(bad.diagnostics[0].summary, "Cannot read the moved state");
            assert!(bad.target_state.is_none());
        }
    }

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
