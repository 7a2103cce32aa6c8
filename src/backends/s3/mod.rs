//! The real `Storage`: Amazon S3 or any S3-compatible endpoint, through `aws-sdk-s3`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter, ObjectIdentifier, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    Transition, TransitionStorageClass, VersioningConfiguration,
};
use aws_sdk_s3::Client;

use super::error::{from_aws, BackendError, ErrorKind};
use super::storage::{Lifecycle, Precondition, Storage, StoredObject};

/// The lifecycle rule this provider owns on product buckets.
const RETENTION_RULE_ID: &str = "datamesh-retention";

/// S3 through the AWS SDK.
pub struct S3Storage {
    client: Client,
    region: String,
    endpoint: String,
}

impl S3Storage {
    /// Wraps a configured client; `endpoint` is only used in error messages.
    pub fn new(client: Client, region: String, endpoint: String) -> Self {
        Self { client, region, endpoint }
    }

    fn err<E>(
        &self,
        op: &'static str,
        e: aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> BackendError
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        from_aws("S3", op, &self.endpoint, e)
    }
}

fn build_err(op: &'static str, e: aws_sdk_s3::error::BuildError) -> BackendError {
    BackendError::new(ErrorKind::Other, "S3", op, format!("cannot build request: {e}"))
}

#[async_trait]
impl Storage for S3Storage {
    async fn create_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        let mut req = self.client.create_bucket().bucket(bucket);
        // us-east-1 is the one region that rejects an explicit location constraint.
        if self.region != "us-east-1" {
            req = req.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                    .build(),
            );
        }
        req.send().await.map(|_| ()).map_err(|e| self.err("CreateBucket", e))
    }

    async fn bucket_exists(&self, bucket: &str) -> Result<bool, BackendError> {
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let e = self.err("HeadBucket", e);
                if e.is(ErrorKind::NotFound) {
                    Ok(false)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn delete_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        match self.client.delete_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = self.err("DeleteBucket", e);
                if e.is(ErrorKind::NotFound) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn set_versioning(&self, bucket: &str, enabled: bool) -> Result<(), BackendError> {
        let status = if enabled { BucketVersioningStatus::Enabled } else { BucketVersioningStatus::Suspended };
        self.client
            .put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("PutBucketVersioning", e))
    }

    async fn versioning(&self, bucket: &str) -> Result<bool, BackendError> {
        let out = self
            .client
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| self.err("GetBucketVersioning", e))?;
        Ok(out.status() == Some(&BucketVersioningStatus::Enabled))
    }

    async fn set_default_encryption(&self, bucket: &str) -> Result<(), BackendError> {
        let by_default = ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| build_err("PutBucketEncryption", e))?;
        let config = ServerSideEncryptionConfiguration::builder()
            .rules(ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build())
            .build()
            .map_err(|e| build_err("PutBucketEncryption", e))?;
        self.client
            .put_bucket_encryption()
            .bucket(bucket)
            .server_side_encryption_configuration(config)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("PutBucketEncryption", e))
    }

    async fn default_encryption(&self, bucket: &str) -> Result<Option<String>, BackendError> {
        match self.client.get_bucket_encryption().bucket(bucket).send().await {
            Ok(out) => Ok(out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .map(|d| d.sse_algorithm().as_str().to_string())),
            Err(e) => {
                let e = self.err("GetBucketEncryption", e);
                if e.is(ErrorKind::NotFound)
                    || e.code.as_deref() == Some("ServerSideEncryptionConfigurationNotFoundError")
                {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn set_lifecycle(&self, bucket: &str, lifecycle: &Lifecycle) -> Result<(), BackendError> {
        const OP: &str = "PutBucketLifecycleConfiguration";
        if lifecycle.is_empty() {
            return self
                .client
                .delete_bucket_lifecycle()
                .bucket(bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.err("DeleteBucketLifecycle", e));
        }
        let days = |d: i64| {
            i32::try_from(d).map_err(|_| BackendError::new(ErrorKind::Other, "S3", OP, format!("{d} days is too long")))
        };
        let mut rule = LifecycleRule::builder()
            .id(RETENTION_RULE_ID)
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build());
        if let Some(d) = lifecycle.expiration_days {
            rule = rule.expiration(LifecycleExpiration::builder().days(days(d)?).build());
        }
        for (after, class) in [
            (lifecycle.infrequent_access_after_days, TransitionStorageClass::StandardIa),
            (lifecycle.archive_after_days, TransitionStorageClass::Glacier),
        ] {
            if let Some(d) = after {
                rule = rule.transitions(Transition::builder().days(days(d)?).storage_class(class).build());
            }
        }
        let rule = rule.build().map_err(|e| build_err(OP, e))?;
        let config = BucketLifecycleConfiguration::builder().rules(rule).build().map_err(|e| build_err(OP, e))?;
        self.client
            .put_bucket_lifecycle_configuration()
            .bucket(bucket)
            .lifecycle_configuration(config)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err(OP, e))
    }

    async fn lifecycle(&self, bucket: &str) -> Result<Lifecycle, BackendError> {
        match self.client.get_bucket_lifecycle_configuration().bucket(bucket).send().await {
            Ok(out) => {
                let enabled = out.rules().iter().filter(|r| r.status() == &ExpirationStatus::Enabled);
                let mut found = Lifecycle::default();
                for r in enabled {
                    found.expiration_days =
                        found.expiration_days.or(r.expiration().and_then(|e| e.days()).map(i64::from));
                    for t in r.transitions() {
                        let days = t.days().map(i64::from);
                        match t.storage_class() {
                            Some(TransitionStorageClass::StandardIa) => {
                                found.infrequent_access_after_days = found.infrequent_access_after_days.or(days)
                            }
                            Some(TransitionStorageClass::Glacier) => {
                                found.archive_after_days = found.archive_after_days.or(days)
                            }
                            _ => {}
                        }
                    }
                }
                Ok(found)
            }
            Err(e) => {
                let e = self.err("GetBucketLifecycleConfiguration", e);
                if e.is(ErrorKind::NotFound) {
                    Ok(Lifecycle::default())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn set_tags(&self, bucket: &str, tags: &BTreeMap<String, String>) -> Result<(), BackendError> {
        if tags.is_empty() {
            return self
                .client
                .delete_bucket_tagging()
                .bucket(bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| self.err("DeleteBucketTagging", e));
        }
        let tag_set = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| build_err("PutBucketTagging", e)))
            .collect::<Result<Vec<_>, _>>()?;
        let tagging =
            Tagging::builder().set_tag_set(Some(tag_set)).build().map_err(|e| build_err("PutBucketTagging", e))?;
        self.client
            .put_bucket_tagging()
            .bucket(bucket)
            .tagging(tagging)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("PutBucketTagging", e))
    }

    async fn tags(&self, bucket: &str) -> Result<BTreeMap<String, String>, BackendError> {
        match self.client.get_bucket_tagging().bucket(bucket).send().await {
            Ok(out) => Ok(out.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()),
            Err(e) => {
                let e = self.err("GetBucketTagging", e);
                if e.is(ErrorKind::NotFound) {
                    Ok(BTreeMap::new())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn is_empty(&self, bucket: &str) -> Result<bool, BackendError> {
        let out = self
            .client
            .list_object_versions()
            .bucket(bucket)
            .max_keys(1)
            .send()
            .await
            .map_err(|e| self.err("ListObjectVersions", e))?;
        Ok(out.versions().is_empty() && out.delete_markers().is_empty())
    }

    async fn empty_bucket(&self, bucket: &str) -> Result<(), BackendError> {
        loop {
            let out = self
                .client
                .list_object_versions()
                .bucket(bucket)
                .max_keys(1000)
                .send()
                .await
                .map_err(|e| self.err("ListObjectVersions", e))?;
            let ids = out
                .versions()
                .iter()
                .map(|v| (v.key(), v.version_id()))
                .chain(out.delete_markers().iter().map(|m| (m.key(), m.version_id())))
                .filter_map(|(key, version)| {
                    ObjectIdentifier::builder()
                        .set_key(key.map(str::to_string))
                        .set_version_id(version.map(str::to_string))
                        .build()
                        .ok()
                })
                .collect::<Vec<_>>();
            if ids.is_empty() {
                return Ok(());
            }
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| build_err("DeleteObjects", e))?;
            let result = self
                .client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| self.err("DeleteObjects", e))?;
            if let Some(first) = result.errors().first() {
                return Err(BackendError::new(
                    ErrorKind::Other,
                    "S3",
                    "DeleteObjects",
                    format!(
                        "cannot delete {}: {}",
                        first.key().unwrap_or("?"),
                        first.message().unwrap_or("unknown error")
                    ),
                )
                .with_code(first.code().unwrap_or("Unknown")));
            }
        }
    }

    async fn get_object(&self, bucket: &str, key: &str) -> Result<Option<StoredObject>, BackendError> {
        let out = match self.client.get_object().bucket(bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = self.err("GetObject", e);
                return if e.is(ErrorKind::NotFound) { Ok(None) } else { Err(e) };
            }
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body =
            out.body.collect().await.map_err(|e| {
                BackendError::new(ErrorKind::Transient, "S3", "GetObject", format!("reading {key}: {e}"))
            })?;
        Ok(Some(StoredObject { body: body.into_bytes().to_vec(), etag }))
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        when: Option<Precondition>,
    ) -> Result<String, BackendError> {
        let mut req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(body));
        req = match when {
            Some(Precondition::IfAbsent) => req.if_none_match("*"),
            Some(Precondition::IfMatch(etag)) => req.if_match(etag),
            None => req,
        };
        let out = req.send().await.map_err(|e| self.err("PutObject", e))?;
        Ok(out.e_tag().unwrap_or_default().to_string())
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> Result<(), BackendError> {
        match self.client.delete_object().bucket(bucket).key(key).send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = self.err("DeleteObject", e);
                if e.is(ErrorKind::NotFound) {
                    Ok(())
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, BackendError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| self.err("ListObjectsV2", e))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            match out.next_continuation_token() {
                Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => return Ok(keys),
            }
        }
    }
}
