//! The small resource framework every resource is written against: values, schemas,
//! diagnostics with attribute paths, the `Resource` trait and the generic planning rules.

pub mod diag;
pub mod function;
pub mod plan;
pub mod resource;
pub mod schema;
pub mod typed;
pub mod value;

pub use diag::{AttrPath, Diagnostic, Diagnostics, Severity};
pub use resource::{DataSource, EphemeralResource, ListResource, Listed, Resource, ResourceContext};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use value::{Type, Value};
