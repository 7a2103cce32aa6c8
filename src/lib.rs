//! A Terraform/OpenTofu provider that turns cloud storage, Kafka and IAM into a self-serve data
//! platform for a data mesh: domains, data products, streams and access grants, named, tagged
//! and governed to one standard and checked at plan time.
//!
//! Data flows one way: Terraform → [`plugin`] (handshake, TLS, gRPC) → [`protocol`] (wire
//! conversion) → [`framework`] (values, schemas, diagnostics, the resource trait) →
//! [`resources`] → [`backends`] (storage, IAM, streaming, catalog) → SDKs.

pub mod acl;
pub mod backends;
pub mod data_sources;
pub mod ephemeral;
pub mod framework;
pub mod functions;
pub mod governance;
pub mod list_resources;
pub mod naming;
pub mod plugin;
pub mod policy;
pub mod protocol;
pub mod provider;
pub mod resources;
