//! Cassandra: the keyspaces behind products' Cassandra ports, the domains' roles, and the
//! permissions owners and grants hold on keyspaces. Every name here is a plain name (a keyspace
//! `sales__orders`, a role `sales`); the implementation quotes it ([`crate::cql`]).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;

use super::error::BackendError;
use crate::provider::config::Secret;
pub use backend_wire::cql::Permission;

/// A keyspace as read back from the schema metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyspaceInfo {
    /// The replication strategy's class without its package: `NetworkTopologyStrategy`.
    pub strategy: String,
    /// Datacenter → replication factor (for `SimpleStrategy`, one entry `replication_factor`).
    pub replication: BTreeMap<String, i64>,
    /// How many tables it holds.
    pub tables: usize,
}

/// A role as read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleInfo {
    /// Whether it may log in.
    pub login: bool,
}

/// A Cassandra cluster, as the provider's role sees it.
#[async_trait]
pub trait Database: Send + Sync {
    /// A keyspace; None when it does not exist.
    async fn keyspace(&self, name: &str) -> Result<Option<KeyspaceInfo>, BackendError>;
    /// Creates a keyspace with NetworkTopologyStrategy and these factors; `AlreadyExists` when
    /// it exists.
    async fn create_keyspace(&self, name: &str, replication: &BTreeMap<String, i64>) -> Result<(), BackendError>;
    /// Changes a keyspace's replication to NetworkTopologyStrategy with these factors.
    async fn alter_keyspace(&self, name: &str, replication: &BTreeMap<String, i64>) -> Result<(), BackendError>;
    /// Drops a keyspace and its tables (a missing one is fine).
    async fn drop_keyspace(&self, name: &str) -> Result<(), BackendError>;
    /// A role; None when it does not exist.
    async fn role(&self, name: &str) -> Result<Option<RoleInfo>, BackendError>;
    /// Creates a role, `LOGIN = true` with this password, or `LOGIN = false` without one;
    /// `AlreadyExists` when it exists.
    async fn create_role(&self, name: &str, password: Option<&Secret>) -> Result<(), BackendError>;
    /// Sets a role's password and `LOGIN = true`, or `LOGIN = false` without one.
    async fn alter_role(&self, name: &str, password: Option<&Secret>) -> Result<(), BackendError>;
    /// Drops a role (a missing one is fine).
    async fn drop_role(&self, name: &str) -> Result<(), BackendError>;
    /// Grants a permission on a keyspace to a role.
    async fn grant(&self, permission: Permission, keyspace: &str, role: &str) -> Result<(), BackendError>;
    /// Revokes it (one not held is fine).
    async fn revoke(&self, permission: Permission, keyspace: &str, role: &str) -> Result<(), BackendError>;
    /// The permissions the role holds on the keyspace itself (not inherited), as Cassandra
    /// names them: `SELECT`, `MODIFY`, `CREATE`, `ALTER`, `DROP`, `AUTHORIZE`, and on
    /// Cassandra 5 `UNMASK` and `SELECT_MASKED` (which `ALL PERMISSIONS` includes there). A
    /// keyspace or role that does not exist holds none.
    async fn permissions(&self, role: &str, keyspace: &str) -> Result<BTreeSet<String>, BackendError>;
}
