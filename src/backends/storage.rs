//! Object storage: the buckets behind data products, and the objects of the catalog.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::error::BackendError;

/// When a write may go ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Only if the key does not exist yet (`If-None-Match: *`).
    IfAbsent,
    /// Only if the object still has this ETag (`If-Match`).
    IfMatch(String),
}

/// A stored object and its ETag.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// The object's bytes.
    pub body: Vec<u8>,
    /// Its ETag, for a later conditional write.
    pub etag: String,
}

/// The lifecycle rule the provider owns on a bucket: when objects expire and when they move
/// to cheaper storage classes; every field in days after an object's creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// Objects expire (`retention_days`).
    pub expiration_days: Option<i64>,
    /// Objects move to `STANDARD_IA`.
    pub infrequent_access_after_days: Option<i64>,
    /// Objects move to `GLACIER`.
    pub archive_after_days: Option<i64>,
}

impl Lifecycle {
    /// Whether it has nothing to do (no rule at all).
    pub fn is_empty(&self) -> bool {
        *self == Lifecycle::default()
    }
}

/// S3-compatible object storage.
#[async_trait]
pub trait Storage: Send + Sync {
    /// Creates a bucket; `AlreadyExists` when it exists (ours or anyone's).
    async fn create_bucket(&self, bucket: &str) -> Result<(), BackendError>;
    /// Whether the bucket exists.
    async fn bucket_exists(&self, bucket: &str) -> Result<bool, BackendError>;
    /// Deletes an empty bucket; `NotEmpty` if it still holds objects.
    async fn delete_bucket(&self, bucket: &str) -> Result<(), BackendError>;
    /// Turns versioning on (Enabled) or off (Suspended).
    async fn set_versioning(&self, bucket: &str, enabled: bool) -> Result<(), BackendError>;
    /// Whether versioning is Enabled.
    async fn versioning(&self, bucket: &str) -> Result<bool, BackendError>;
    /// Sets default encryption to SSE-S3 (`AES256`).
    async fn set_default_encryption(&self, bucket: &str) -> Result<(), BackendError>;
    /// The default encryption algorithm, if any.
    async fn default_encryption(&self, bucket: &str) -> Result<Option<String>, BackendError>;
    /// Makes the provider's lifecycle rule exactly `lifecycle` (an empty one removes it).
    async fn set_lifecycle(&self, bucket: &str, lifecycle: &Lifecycle) -> Result<(), BackendError>;
    /// The provider's lifecycle rule as read back (empty when the bucket has none).
    async fn lifecycle(&self, bucket: &str) -> Result<Lifecycle, BackendError>;
    /// Sets (Some) or removes (None) the expiration alone, without transitions.
    async fn set_expiration(&self, bucket: &str, days: Option<i64>) -> Result<(), BackendError> {
        self.set_lifecycle(bucket, &Lifecycle { expiration_days: days, ..Default::default() }).await
    }
    /// The expiration's days, if the bucket has one.
    async fn expiration(&self, bucket: &str) -> Result<Option<i64>, BackendError> {
        Ok(self.lifecycle(bucket).await?.expiration_days)
    }
    /// Replaces the bucket's tags.
    async fn set_tags(&self, bucket: &str, tags: &BTreeMap<String, String>) -> Result<(), BackendError>;
    /// The bucket's tags.
    async fn tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, BackendError>;
    /// Whether the bucket holds no object versions or delete markers.
    async fn is_empty(&self, bucket: &str) -> Result<bool, BackendError>;
    /// Deletes every object version and delete marker.
    async fn empty_bucket(&self, bucket: &str) -> Result<(), BackendError>;
    /// Reads an object; None when it does not exist.
    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, BackendError>;
    /// Writes an object under a precondition; `Conflict` when the precondition fails. Returns the new ETag.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        when: Option<Precondition>,
    ) -> Result<String, BackendError>;
    /// Deletes an object (a missing object is fine).
    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackendError>;
    /// Every key under a prefix (paginated).
    async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, BackendError>;
}
