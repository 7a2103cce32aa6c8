//! The API a provider is written against: values (known, null, unknown), schemas, diagnostics
//! with attribute paths, the `Provider` trait and the traits of what it offers (resources, data
//! sources, ephemeral and list resources, functions, actions), typed state and the generic
//! planning rules.

pub mod action;
pub mod diag;
pub mod function;
pub mod plan;
pub mod provider;
pub mod resource;
pub mod schema;
pub mod typed;
pub mod value;

pub use action::{Action, Progress};
pub use diag::{AttrPath, Diagnostic, Diagnostics, Severity};
pub use function::{Function, FunctionError};
pub use provider::{Provider, Registry};
pub use resource::{DataSource, EphemeralResource, ListResource, Listed, MoveSource, Resource, ResourceContext};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use value::{Type, Value};
