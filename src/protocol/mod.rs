//! The wire layer: generated tfplugin6 types (kept private), conversions between them and the
//! framework, and the gRPC service that hands each call to the provider.

mod convert;
pub mod dynamic_value;
mod server;

pub use server::ProviderService;

/// The generated Terraform plugin protocol 6 types.
#[allow(unreachable_pub, missing_docs, dead_code, clippy::all, clippy::unwrap_used)]
mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}
