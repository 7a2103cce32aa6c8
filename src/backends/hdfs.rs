//! HDFS: the directories behind domains and products' HDFS ports, their quotas and the ACL
//! entries grants own on them. Paths are absolute HDFS paths (`/datamesh/sales/orders`); ACL
//! entries are specs in HDFS's own form (`user:sales:r-x`, `default:user:sales:r-x`), built by
//! `rules::hdfs_acl`.

use async_trait::async_trait;

use super::error::BackendError;
pub use backend_wire::hdfs::{FileStatus, QuotaUsage};

/// An HDFS NameNode, as the provider's superuser sees it.
#[async_trait]
pub trait Hdfs: Send + Sync {
    /// A path's status; None when it does not exist.
    async fn status(&self, path: &str) -> Result<Option<FileStatus>, BackendError>;
    /// Makes a directory and its missing parents with `permission` (octal, `750`); an existing
    /// directory is fine.
    async fn mkdirs(&self, path: &str, permission: &str) -> Result<(), BackendError>;
    /// Sets a path's owner and group.
    async fn set_owner(&self, path: &str, owner: &str, group: &str) -> Result<(), BackendError>;
    /// Sets a path's permission bits (octal, `750`).
    async fn set_permission(&self, path: &str, permission: &str) -> Result<(), BackendError>;
    /// Makes a directory's quotas exactly these: None removes that quota.
    async fn set_quota(&self, path: &str, namespace: Option<i64>, space: Option<i64>) -> Result<(), BackendError>;
    /// A directory's quotas and usage; None when it does not exist.
    async fn quota(&self, path: &str) -> Result<Option<QuotaUsage>, BackendError>;
    /// Whether a directory holds nothing (no file, no subdirectory); a missing path is
    /// `NotFound`, a file is not empty.
    async fn is_empty(&self, path: &str) -> Result<bool, BackendError>;
    /// The directory and every path under it, each with whether it is a directory, parents
    /// before children (depth first, the path itself first, siblings in name order); a file is
    /// a tree of itself, a missing path is `NotFound`.
    async fn tree(&self, path: &str) -> Result<Vec<(String, bool)>, BackendError>;
    /// A path's ACL entries beyond its permission bits (GETACLSTATUS), as specs; None when the
    /// path does not exist. They are listed as the NameNode keeps them: once a path has named
    /// entries, the owning group's own entry (`group::r-x`) is listed too (its permission bits
    /// then show the mask), and a default entry brings the default entries HDFS fills in around
    /// it (like `default:user::rwx`, `default:group::r-x`, `default:mask::r-x`, `default:other::---`).
    async fn acl_entries(&self, path: &str) -> Result<Option<Vec<String>>, BackendError>;
    /// Adds or changes these entries, leaving every other entry alone (MODIFYACLENTRIES).
    async fn modify_acl_entries(&self, path: &str, entries: &[String]) -> Result<(), BackendError>;
    /// Removes these entries (their permissions are ignored and may be left out:
    /// `user:sales:r-x`, `user:sales:` and `user:sales` name the same entry), leaving every other
    /// entry alone (REMOVEACLENTRIES). Entries that are not there are fine.
    async fn remove_acl_entries(&self, path: &str, entries: &[String]) -> Result<(), BackendError>;
    /// Deletes a path; `recursive` also deletes what is under a directory. A missing path is
    /// fine; a non-empty directory without `recursive` is `NotEmpty`.
    async fn delete(&self, path: &str, recursive: bool) -> Result<(), BackendError>;
}
