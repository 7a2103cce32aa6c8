//! A framework for Terraform and OpenTofu providers in Rust, speaking plugin protocol 6.10.
//!
//! A provider implements [`framework::Provider`]: the schema of its provider block, how a
//! configuration becomes the data every call receives ([`framework::Provider::Data`]), and the
//! [`Resource`](framework::Resource)s, [`DataSource`](framework::DataSource)s,
//! [`EphemeralResource`](framework::EphemeralResource)s, [`ListResource`](framework::ListResource)s,
//! [`Function`](framework::Function)s and [`Action`](framework::Action)s it offers (an action
//! reports [`Progress`](framework::Progress) while Terraform waits, streamed as it happens; a
//! resource may take over the state a `moved` block hands it from another resource type, described
//! by a [`MoveSource`](framework::MoveSource)). The framework does the rest, in three layers that each import only the one below:
//!
//! - [`plugin`]: how Terraform starts a plugin and talks to it: the go-plugin handshake on
//!   stdout, AutoMTLS, the health, controller and stdio services, debug mode
//!   (`TF_REATTACH_PROVIDERS`), hclog JSON logs on stderr.
//! - [`protocol`]: the tfplugin6 gRPC service (the generated types stay private), one handler per
//!   call, each decoding its request, calling the provider and encoding the answer (ListResource
//!   and InvokeAction stream theirs); failures always travel as diagnostics at attribute paths,
//!   and a panicking handler becomes an error diagnostic. The DynamicValue codec ([`protocol::dynamic_value`]) turns msgpack and JSON into
//!   [`framework::Value`]s and back.
//! - [`framework`]: [`Value`](framework::Value) (known, null or unknown), [`Schema`](framework::Schema),
//!   [`Diagnostics`](framework::Diagnostics) with paths, typed state through serde, and the
//!   generic planning rules (defaults, prior computed values, replacement).
//!
//! Without the default `server` feature the crate is the framework and the codec alone: no
//! protobuf, TLS or gRPC to build (the fuzz targets of the codec use it so).
//!
//! # A provider with one resource and one action
//!
//! ```
//! use std::sync::Arc;
//!
//! use tfplugin::framework::{
//!     Action, Attribute, Block, Diagnostics, Progress, Provider, Registry, Resource, ResourceContext, Schema, Type,
//!     Value,
//! };
//! use tokio_util::sync::CancellationToken;
//!
//! /// What every call sees: here, only a greeting from the provider block.
//! struct Settings {
//!     greeting: String,
//! }
//!
//! struct Example;
//!
//! impl Provider for Example {
//!     type Data = Settings;
//!
//!     fn schema(&self) -> Schema {
//!         Schema::new(Block::new(
//!             "An example provider.",
//!             vec![Attribute::optional("greeting", Type::String, "How notes start.")],
//!         ))
//!     }
//!
//!     fn configure(&self, config: &Value, _stop: CancellationToken, _diags: &mut Diagnostics) -> Settings {
//!         Settings { greeting: config.get("greeting").as_str().unwrap_or("hello").to_string() }
//!     }
//!
//!     fn unconfigured(&self) -> Settings {
//!         Settings { greeting: "hello".into() }
//!     }
//!
//!     fn resources(&self) -> Vec<Arc<dyn Resource<Settings>>> {
//!         vec![Arc::new(Note)]
//!     }
//!
//!     fn actions(&self) -> Vec<Arc<dyn Action<Settings>>> {
//!         vec![Arc::new(Greet)]
//!     }
//! }
//!
//! /// `example_greet`: run with `terraform apply -invoke=action.example_greet.NAME`.
//! struct Greet;
//!
//! #[async_trait::async_trait]
//! impl Action<Settings> for Greet {
//!     fn type_name(&self) -> &'static str {
//!         "example_greet"
//!     }
//!     fn schema(&self) -> Schema {
//!         Schema::new(Block::new("Greets someone.", vec![Attribute::required("who", Type::String, "Whom.")]))
//!     }
//!     async fn invoke(
//!         &self,
//!         ctx: &ResourceContext<Settings>,
//!         config: &Value,
//!         progress: &Progress,
//!         _: &mut Diagnostics,
//!     ) {
//!         let who = config.get("who").as_str().unwrap_or_default();
//!         progress.report(format!("{}, {who}", ctx.provider.greeting));
//!     }
//! }
//!
//! /// `example_note`: a text kept in state only.
//! struct Note;
//!
//! #[async_trait::async_trait]
//! impl Resource<Settings> for Note {
//!     fn type_name(&self) -> &'static str {
//!         "example_note"
//!     }
//!     fn schema(&self) -> Schema {
//!         Schema::new(Block::new(
//!             "A note.",
//!             vec![
//!                 Attribute::required("name", Type::String, "Its name."),
//!                 Attribute::computed("text", Type::String, "The greeting and the name."),
//!             ],
//!         ))
//!     }
//!     async fn create(&self, ctx: &ResourceContext<Settings>, planned: &Value, _: &mut Diagnostics) -> Value {
//!         let mut state = planned.clone();
//!         let name = planned.get("name").as_str().unwrap_or_default();
//!         state.set("text", Value::string(format!("{}, {name}", ctx.provider.greeting)));
//!         state
//!     }
//!     async fn read(&self, _: &ResourceContext<Settings>, state: &Value, _: &mut Diagnostics) -> Value {
//!         state.clone()
//!     }
//!     async fn update(&self, _: &ResourceContext<Settings>, _: &Value, planned: &Value, _: &mut Diagnostics) -> Value {
//!         planned.clone()
//!     }
//!     async fn delete(&self, _: &ResourceContext<Settings>, _: &Value, _: &mut Diagnostics) {}
//!     fn import(&self, id: &str, _: &mut Diagnostics) -> Value {
//!         Value::object([("name", Value::string(id))])
//!     }
//!     fn identity(&self) -> &'static [(&'static str, &'static str)] {
//!         &[("name", "The note's name.")]
//!     }
//!     fn import_id(&self, identity: &Value) -> Option<String> {
//!         identity.get("name").as_str().map(str::to_string)
//!     }
//! }
//!
//! // What the server will offer Terraform, each schema built once:
//! let registry = Registry::new(&Example);
//! let names: Vec<&str> = registry.resources().map(|(name, _, _)| name).collect();
//! assert_eq!(names, ["example_note"]);
//! assert!(registry.action("example_greet").is_some());
//!
//! // The binary's `main` is one call: it serves until Terraform stops the plugin. Started by
//! // hand (without the cookie Terraform sets), it says what it is and returns 1.
//! let options = tfplugin::plugin::Options {
//!     name: "terraform-provider-example",
//!     address: "registry.terraform.io/acme/example",
//! };
//! let code = tfplugin::plugin::run(Example, options, tfplugin::plugin::Mode::Managed);
//! assert_eq!(code, std::process::ExitCode::from(1));
//! ```

pub mod framework;
#[cfg(feature = "server")]
pub mod plugin;
pub mod protocol;
