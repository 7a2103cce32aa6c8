//! The wire layer: the DynamicValue codec (msgpack and JSON ⇄ [`Value`](crate::framework::Value)),
//! and with the `server` feature the generated tfplugin6 types (kept private), the conversions
//! between them and the framework, and the gRPC service that hands each call to the provider.

#[cfg(feature = "server")]
mod convert;
pub mod dynamic_value;
#[cfg(feature = "server")]
mod server;

#[cfg(feature = "server")]
pub use server::ProviderService;

/// The generated Terraform plugin protocol 6 types.
#[cfg(feature = "server")]
#[allow(unreachable_pub, missing_docs, dead_code, clippy::all, clippy::unwrap_used)]
mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}
