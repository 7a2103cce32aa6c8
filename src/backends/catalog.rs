//! The catalog: one JSON object per domain, data product, stream and grant in the catalog
//! bucket. Every resource owns its own object, and every write is conditional, so concurrent
//! applies never overwrite each other.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::OnceCell;

use super::error::{BackendError, ErrorKind};
use super::storage::{Precondition, Storage};

/// How often an update re-reads and retries after losing a conditional-write race.
const MAX_CONFLICT_RETRIES: usize = 8;

/// The catalog in one bucket.
pub struct Catalog {
    storage: Arc<dyn Storage>,
    bucket: String,
    ready: OnceCell<()>,
}

/// The catalog key of a domain.
pub fn domain_key(domain: &str) -> String {
    format!("domains/{domain}.json")
}
/// The catalog key of a data product.
pub fn data_product_key(domain: &str, product: &str) -> String {
    format!("data-products/{domain}/{product}.json")
}
/// The catalog key of a stream.
pub fn stream_key(domain: &str, product: &str, stream: &str) -> String {
    format!("streams/{domain}/{product}/{stream}.json")
}
/// The catalog key of a grant.
pub fn grant_key(consumer: &str, domain: &str, product: &str) -> String {
    format!("grants/{consumer}/{domain}/{product}.json")
}

impl Catalog {
    /// A catalog in `bucket`, created on first use if missing.
    pub fn new(storage: Arc<dyn Storage>, bucket: String) -> Self {
        Self { storage, bucket, ready: OnceCell::new() }
    }

    /// The catalog bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    async fn ensure_bucket(&self) -> Result<(), BackendError> {
        self.ready
            .get_or_try_init(|| async {
                if self.storage.bucket_exists(&self.bucket).await? {
                    return Ok(());
                }
                match self.storage.create_bucket(&self.bucket).await {
                    // Another provider instance created it first: that's the same catalog.
                    Err(e) if e.is(ErrorKind::AlreadyExists) => Ok(()),
                    other => other,
                }?;
                self.storage.set_versioning(&self.bucket, true).await?;
                self.storage.set_default_encryption(&self.bucket).await
            })
            .await
            .map(|_| ())
    }

    /// Reads an entry; None when missing.
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BackendError> {
        self.ensure_bucket().await?;
        let Some(obj) = self.storage.get_object(&self.bucket, key).await? else { return Ok(None) };
        serde_json::from_slice(&obj.body).map(Some).map_err(|e| {
            BackendError::new(
                ErrorKind::Other,
                "S3",
                "GetObject",
                format!("catalog object {key} is not a valid entry: {e}"),
            )
        })
    }

    /// Writes an entry, conditionally on what was just read: `If-None-Match: *` when it is
    /// absent, `If-Match: <etag>` when it exists, so a concurrent writer is detected and the
    /// write retried on fresh data, never blindly overwritten.
    pub async fn put<T: Serialize>(&self, key: &str, entry: &T) -> Result<(), BackendError> {
        self.ensure_bucket().await?;
        let body = encode(key, entry)?;
        let mut last = None;
        for _ in 0..MAX_CONFLICT_RETRIES {
            let when = match self.storage.get_object(&self.bucket, key).await? {
                Some(current) if current.body == body => return Ok(()),
                Some(current) => Precondition::IfMatch(current.etag),
                None => Precondition::IfAbsent,
            };
            match self.storage.put_object(&self.bucket, key, body.clone(), Some(when)).await {
                Err(e) if e.is(ErrorKind::Conflict) => last = Some(e),
                other => return other.map(|_| ()),
            }
        }
        Err(last.unwrap_or_else(|| {
            BackendError::new(ErrorKind::Conflict, "S3", "PutObject", "too many concurrent writers")
        }))
    }

    /// Deletes an entry (a missing one is fine).
    pub async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.ensure_bucket().await?;
        self.storage.delete_object(&self.bucket, key).await
    }

    /// Every key under a prefix.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        self.ensure_bucket().await?;
        self.storage.list_keys(&self.bucket, prefix).await
    }
}

fn encode<T: Serialize>(key: &str, entry: &T) -> Result<Vec<u8>, BackendError> {
    serde_json::to_vec_pretty(entry).map_err(|e| {
        BackendError::new(ErrorKind::Other, "S3", "PutObject", format!("cannot encode catalog entry {key}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_design() {
        assert_eq!(domain_key("sales"), "domains/sales.json");
        assert_eq!(data_product_key("sales", "orders"), "data-products/sales/orders.json");
        assert_eq!(stream_key("sales", "orders", "events"), "streams/sales/orders/events.json");
        assert_eq!(grant_key("mkt", "sales", "orders"), "grants/mkt/sales/orders.json");
    }
}
