//! A Terraform/OpenTofu provider that turns cloud storage, Kafka and IAM into a self-serve data
//! platform for a data mesh: domains, data products, streams and access grants, named, tagged
//! and governed to one standard and checked at plan time.
//!
//! It is written against the [`tfplugin`] framework (the plugin protocol, the value codec and the
//! resource traits, which know nothing of data meshes). Data flows one way: Terraform →
//! `tfplugin` → [`provider`] (configuration, the data every call gets) → [`resources`],
//! [`data_sources`], [`ephemeral`], [`list_resources`], [`functions`] → [`backends`] (storage,
//! IAM, streaming, catalog) → SDKs. The pure rules the resources apply are [`naming`],
//! [`governance`], [`policy`], [`acl`] and [`cql`], unit-tested without a server. [`mesh`] is the
//! binary's one command besides serving: it draws the catalog's mesh as SVG, HTML or DOT.

pub mod acl;
pub mod actions;
pub mod backends;
pub use backend_wire::cql;
pub mod data_sources;
pub mod ephemeral;
pub mod functions;
pub mod governance;
pub mod hdfs_acl;
pub mod lineage;
pub mod list_resources;
pub mod mesh;
pub mod naming;
pub mod policy;
pub mod provider;
pub mod resources;
