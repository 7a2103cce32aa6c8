//! The mesh at a glance: `terraform-provider-datamesh mesh --format svg|html|dot` reads the
//! catalog and draws domains, data products with their ports, streams, grants and pipelines,
//! lineage as arrows, grants dashed, classification as colour.
//!
//! [`read`] is the only part that does I/O (the provider's own S3 client and [`Catalog`]);
//! [`model`] groups the records, [`layout`] places them, and [`svg`], [`html`] and [`dot`]
//! render them: pure functions, unit-tested without a server. Every catalog string passes
//! through [`text`] on its way out. [`cli`] parses the flags and runs the rest.
//!
//! [`Catalog`]: crate::backends::Catalog

pub mod cli;
pub mod dot;
pub mod html;
pub mod layout;
pub mod model;
pub mod read;
pub mod svg;
pub mod text;
