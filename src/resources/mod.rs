//! The managed resources, one file per noun.

use std::sync::Arc;

use crate::framework::Resource;

/// Every resource this provider offers.
pub fn all() -> Vec<Arc<dyn Resource>> {
    vec![]
}
