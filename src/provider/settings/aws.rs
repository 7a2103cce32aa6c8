//! `aws { ... }`: where and how to reach S3, IAM and STS.

use std::time::Duration;

use super::{timeout, validate_timeout, Reader, MAX_TIMEOUT_SECONDS};
use crate::provider::config::Secret;
use tfplugin::framework::{Attribute, Block, Diagnostics, Type, Value};

/// `aws { ... }`.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    /// Region; default from the environment, then us-east-1.
    pub region: Option<String>,
    /// S3 endpoint override.
    pub s3_endpoint: Option<String>,
    /// IAM (and STS) endpoint override.
    pub iam_endpoint: Option<String>,
    /// Path-style bucket addressing.
    pub s3_force_path_style: bool,
    /// Static access key.
    pub access_key: Option<String>,
    /// Static secret key.
    pub secret_key: Option<Secret>,
    /// Shared-config profile.
    pub profile: Option<String>,
    /// The timeout of one attempt of an S3, IAM or STS call.
    pub timeout: Duration,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: None,
            s3_endpoint: None,
            iam_endpoint: None,
            s3_force_path_style: false,
            access_key: None,
            secret_key: None,
            profile: None,
            timeout: Duration::from_secs(30),
        }
    }
}

impl AwsSettings {
    /// The block's schema.
    pub fn block() -> Block {
        Block::new(
        "Where and how to reach S3, IAM and STS. Every setting falls back to the standard AWS environment and shared configuration.",
        vec![
            Attribute::optional("region", Type::String, "AWS region. Default: `AWS_REGION` / `AWS_DEFAULT_REGION`, then the shared config, then `us-east-1`."),
            Attribute::optional("s3_endpoint", Type::String, "S3 endpoint URL. Default: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, or AWS."),
            Attribute::optional("iam_endpoint", Type::String, "IAM endpoint URL, also used for STS. Default: `AWS_ENDPOINT_URL_IAM`, `AWS_ENDPOINT_URL`, or AWS."),
            Attribute::optional("s3_force_path_style", Type::Bool, "Address buckets as `endpoint/bucket` instead of `bucket.endpoint` (needed by most local S3 servers). Default `false`."),
            Attribute::optional("access_key", Type::String, "Static AWS access key ID. Default: the standard AWS credential chain.").sensitive(),
            Attribute::optional("secret_key", Type::String, "Static AWS secret access key.").sensitive(),
            Attribute::optional("profile", Type::String, "Named profile from the shared AWS config."),
            Attribute::optional("timeout_seconds", Type::Number, "Timeout of one attempt of an S3, IAM or STS call (each call makes up to 8), 1 to 300 seconds. Default `30`."),
        ],
    )
    }

    /// The settings from the block (null when absent).
    pub(crate) fn parse(r: &mut Reader, aws: &Value) -> Self {
        Self {
            region: r.string(aws, "aws", "region"),
            s3_endpoint: r.string(aws, "aws", "s3_endpoint"),
            iam_endpoint: r.string(aws, "aws", "iam_endpoint"),
            s3_force_path_style: r.bool(aws, "aws", "s3_force_path_style").unwrap_or(false),
            access_key: r.string(aws, "aws", "access_key"),
            secret_key: r.string(aws, "aws", "secret_key").map(Secret),
            profile: r.string(aws, "aws", "profile"),
            timeout: timeout(r, aws, "aws", MAX_TIMEOUT_SECONDS, Duration::from_secs(30)),
        }
    }

    /// Checks the block's own values (unknown ones are skipped).
    pub(crate) fn validate(config: &Value, diags: &mut Diagnostics) {
        validate_timeout(config, "aws", MAX_TIMEOUT_SECONDS, "S3, IAM or STS call attempt", diags);
    }
}
