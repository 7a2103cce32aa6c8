//! The catalog: one JSON object per domain, data product, stream, grant and pipeline in the catalog
//! bucket. Every resource owns its own object, and every write is conditional, so concurrent
//! applies never overwrite each other. Only writes create the bucket: a plan, with a read-only
//! role on a platform whose catalog is still empty, reads "nothing there" and never needs
//! CreateBucket.

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::OnceCell;

use super::error::{BackendError, ErrorKind};
use super::storage::{Precondition, Storage};

/// How often an update re-reads and retries after losing a conditional-write race.
const MAX_CONFLICT_RETRIES: usize = 8;

/// How many entries [`Catalog::get_all`] reads at once.
pub const CONCURRENT_READS: usize = 32;

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
/// The catalog key of a pipeline: its lineage record.
pub fn pipeline_key(domain: &str, pipeline: &str) -> String {
    format!("pipelines/{domain}/{pipeline}.json")
}
/// The catalog key of a grant.
pub fn grant_key(consumer: &str, domain: &str, product: &str) -> String {
    format!("grants/{consumer}/{domain}/{product}.json")
}

impl Catalog {
    /// A catalog in `bucket`, created by the first write if missing.
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

    /// Reads an entry; None when missing (also when the catalog bucket does not exist yet).
    pub async fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, BackendError> {
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

    /// Deletes an entry (a missing one, or a missing catalog bucket, is fine).
    pub async fn delete(&self, key: &str) -> Result<(), BackendError> {
        self.storage.delete_object(&self.bucket, key).await
    }

    /// Every entry under a prefix, read [`CONCURRENT_READS`] at a time, in key order (none
    /// when the catalog bucket does not exist yet). An entry deleted between the listing and
    /// its read is left out; the first entry that cannot be read fails the whole read.
    pub async fn get_all<T: DeserializeOwned>(&self, prefix: &str) -> Result<Vec<T>, BackendError> {
        let mut out = Vec::new();
        for (_, read) in self.read_each::<T>(prefix).await? {
            out.extend(read?);
        }
        Ok(out)
    }

    /// Every entry under a prefix with its key, each read's own outcome kept (`Ok(None)`: deleted
    /// since the listing), read [`CONCURRENT_READS`] at a time, in key order: for a reader that
    /// goes on past an entry it cannot read (the mesh view).
    pub async fn read_each<T: DeserializeOwned>(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, Result<Option<T>, BackendError>)>, BackendError> {
        let mut keys: Vec<String> = self.list(prefix).await?.into_iter().filter(|k| k.ends_with(".json")).collect();
        keys.sort();
        Ok(stream::iter(keys)
            .map(|key| async move {
                let read = self.get::<T>(&key).await;
                (key, read)
            })
            .buffered(CONCURRENT_READS)
            .collect()
            .await)
    }

    /// Every key under a prefix (none when the catalog bucket does not exist yet).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        match self.storage.list_keys(&self.bucket, prefix).await {
            Err(e) if e.is(ErrorKind::NotFound) => Ok(Vec::new()),
            other => other,
        }
    }
}

fn encode<T: Serialize>(key: &str, entry: &T) -> Result<Vec<u8>, BackendError> {
    serde_json::to_vec_pretty(entry).map_err(|e| {
        BackendError::new(ErrorKind::Other, "S3", "PutObject", format!("cannot encode catalog entry {key}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;

    use super::*;
    use crate::backends::storage::{Lifecycle, StoredObject};

    /// Objects in memory, with a concurrent writer that wins the next `races` conditional
    /// writes: each time, it writes its own body just before ours lands.
    #[derive(Default)]
    struct RacingStorage {
        state: Mutex<Racing>,
    }

    #[derive(Default)]
    struct Racing {
        bucket_exists: bool,
        objects: BTreeMap<String, StoredObject>,
        races: usize,
        puts: usize,
        /// The precondition of every put, in order.
        preconditions: Vec<Option<Precondition>>,
        buckets_created: usize,
        version: usize,
    }

    impl RacingStorage {
        fn with(bucket_exists: bool, races: usize) -> Arc<Self> {
            Arc::new(Self { state: Mutex::new(Racing { bucket_exists, races, ..Default::default() }) })
        }
        fn state(&self) -> std::sync::MutexGuard<'_, Racing> {
            self.state.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    fn unused(operation: &'static str) -> BackendError {
        BackendError::new(ErrorKind::Unsupported, "S3", operation, "not used by the catalog")
    }

    fn no_bucket(operation: &'static str) -> BackendError {
        BackendError::new(ErrorKind::NotFound, "S3", operation, "no such bucket").with_code("NoSuchBucket")
    }

    #[async_trait]
    impl Storage for RacingStorage {
        async fn create_bucket(&self, _: &str) -> Result<(), BackendError> {
            let mut s = self.state();
            s.bucket_exists = true;
            s.buckets_created += 1;
            Ok(())
        }
        async fn bucket_exists(&self, _: &str) -> Result<bool, BackendError> {
            Ok(self.state().bucket_exists)
        }
        async fn delete_bucket(&self, _: &str) -> Result<(), BackendError> {
            Err(unused("DeleteBucket"))
        }
        async fn set_versioning(&self, _: &str, _: bool) -> Result<(), BackendError> {
            Ok(())
        }
        async fn versioning(&self, _: &str) -> Result<bool, BackendError> {
            Err(unused("GetBucketVersioning"))
        }
        async fn set_default_encryption(&self, _: &str) -> Result<(), BackendError> {
            Ok(())
        }
        async fn default_encryption(&self, _: &str) -> Result<Option<String>, BackendError> {
            Err(unused("GetBucketEncryption"))
        }
        async fn set_lifecycle(&self, _: &str, _: &Lifecycle) -> Result<(), BackendError> {
            Err(unused("PutBucketLifecycleConfiguration"))
        }
        async fn lifecycle(&self, _: &str) -> Result<Lifecycle, BackendError> {
            Err(unused("GetBucketLifecycleConfiguration"))
        }
        async fn set_tags(&self, _: &str, _: &BTreeMap<String, String>) -> Result<(), BackendError> {
            Err(unused("PutBucketTagging"))
        }
        async fn tags(&self, _: &str) -> Result<BTreeMap<String, String>, BackendError> {
            Err(unused("GetBucketTagging"))
        }
        async fn is_empty(&self, _: &str) -> Result<bool, BackendError> {
            Err(unused("ListObjectVersions"))
        }
        async fn empty_bucket(&self, _: &str) -> Result<(), BackendError> {
            Err(unused("DeleteObjects"))
        }
        async fn get_object(&self, _: &str, key: &str) -> Result<Option<StoredObject>, BackendError> {
            let s = self.state();
            // Like S3: a missing bucket reads as NoSuchBucket, which the S3 backend maps to None.
            Ok(if s.bucket_exists { s.objects.get(key).cloned() } else { None })
        }
        async fn put_object(
            &self,
            _: &str,
            key: &str,
            body: Vec<u8>,
            when: Option<Precondition>,
        ) -> Result<String, BackendError> {
            let mut s = self.state();
            if !s.bucket_exists {
                return Err(no_bucket("PutObject"));
            }
            s.puts += 1;
            s.preconditions.push(when.clone());
            if s.races > 0 {
                s.races -= 1;
                s.version += 1;
                let theirs = StoredObject {
                    body: format!("writer {}", s.version).into_bytes(),
                    etag: format!("e{}", s.version),
                };
                s.objects.insert(key.to_string(), theirs);
            }
            let current = s.objects.get(key).map(|o| o.etag.clone());
            let holds = match &when {
                Some(Precondition::IfAbsent) => current.is_none(),
                Some(Precondition::IfMatch(etag)) => current.as_deref() == Some(etag.as_str()),
                None => true,
            };
            if !holds {
                return Err(BackendError::new(ErrorKind::Conflict, "S3", "PutObject", "precondition failed")
                    .with_code("PreconditionFailed"));
            }
            s.version += 1;
            let etag = format!("e{}", s.version);
            s.objects.insert(key.to_string(), StoredObject { body, etag: etag.clone() });
            Ok(etag)
        }
        async fn delete_object(&self, _: &str, key: &str) -> Result<(), BackendError> {
            self.state().objects.remove(key);
            Ok(())
        }
        async fn list_keys(&self, _: &str, prefix: &str) -> Result<Vec<String>, BackendError> {
            let s = self.state();
            if !s.bucket_exists {
                return Err(no_bucket("ListObjectsV2"));
            }
            Ok(s.objects.keys().filter(|k| k.starts_with(prefix)).cloned().collect())
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        match tokio::runtime::Builder::new_current_thread().build() {
            Ok(rt) => rt.block_on(f),
            Err(e) => panic!("no runtime: {e}"),
        }
    }

    #[test]
    fn a_write_that_loses_a_race_rereads_and_writes_on_the_winners_etag() {
        let storage = RacingStorage::with(true, 2);
        let catalog = Catalog::new(storage.clone(), "c".into());
        let entry = serde_json::json!({"name": "orders"});
        block_on(catalog.put("k.json", &entry)).expect("the third attempt lands");
        let s = storage.state();
        assert_eq!(s.puts, 3, "two lost races, then the write");
        assert_eq!(
            s.preconditions,
            vec![
                Some(Precondition::IfAbsent),
                // Each retry is conditional on what the last winner wrote, never blind.
                Some(Precondition::IfMatch("e1".into())),
                Some(Precondition::IfMatch("e2".into())),
            ]
        );
        let stored: serde_json::Value = serde_json::from_slice(&s.objects["k.json"].body).expect("json");
        assert_eq!(stored, entry);
    }

    #[test]
    fn a_write_that_keeps_losing_gives_up_with_a_conflict() {
        let storage = RacingStorage::with(true, usize::MAX);
        let catalog = Catalog::new(storage.clone(), "c".into());
        let err = block_on(catalog.put("k.json", &serde_json::json!({}))).expect_err("never lands");
        assert!(err.is(ErrorKind::Conflict), "{err:?}");
        assert_eq!(storage.state().puts, MAX_CONFLICT_RETRIES);
    }

    #[test]
    fn reads_of_a_catalog_not_made_yet_find_nothing_and_create_nothing() {
        let storage = RacingStorage::with(false, 0);
        let catalog = Catalog::new(storage.clone(), "c".into());
        assert_eq!(block_on(catalog.get::<serde_json::Value>("k.json")).expect("get"), None);
        assert_eq!(block_on(catalog.list("")).expect("list"), Vec::<String>::new());
        block_on(catalog.delete("k.json")).expect("delete");
        assert_eq!(storage.state().buckets_created, 0, "a plan must never need CreateBucket");
        block_on(catalog.put("k.json", &serde_json::json!({}))).expect("put");
        assert_eq!(storage.state().buckets_created, 1, "the first write creates the catalog bucket");
    }

    #[test]
    fn keys_follow_the_design() {
        assert_eq!(domain_key("sales"), "domains/sales.json");
        assert_eq!(data_product_key("sales", "orders"), "data-products/sales/orders.json");
        assert_eq!(stream_key("sales", "orders", "events"), "streams/sales/orders/events.json");
        assert_eq!(grant_key("mkt", "sales", "orders"), "grants/mkt/sales/orders.json");
    }
}
