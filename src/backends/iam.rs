//! IAM: each domain's role and the inline policies that data products and grants own on it.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::error::BackendError;

/// A role as read back.
#[derive(Debug, Clone)]
pub struct Role {
    /// Its ARN.
    pub arn: String,
    /// The trust policy document, URL-decoded.
    pub trust_policy: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// Its path, like `/datamesh/`.
    pub path: String,
    /// When it was created, in seconds since the Unix epoch.
    pub created_epoch_seconds: i64,
}

/// The account and ARN behind the provider's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account ID.
    pub account: String,
    /// The caller's ARN.
    pub arn: String,
}

/// Temporary credentials from STS.
#[derive(Clone, PartialEq, Eq)]
pub struct TemporaryCredentials {
    /// Access key ID.
    pub access_key_id: String,
    /// Secret access key (never logged).
    pub secret_access_key: String,
    /// Session token (never logged).
    pub session_token: String,
    /// When they expire (RFC 3339).
    pub expiration: String,
}

impl std::fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// AWS IAM (and STS for who we are).
#[async_trait]
pub trait Iam: Send + Sync {
    /// Who the provider's credentials are.
    async fn caller_identity(&self) -> Result<CallerIdentity, BackendError>;
    /// Assumes a role for `duration_seconds`.
    async fn assume_role(
        &self,
        role_arn: &str,
        session_name: &str,
        duration_seconds: i32,
    ) -> Result<TemporaryCredentials, BackendError>;
    /// Creates a role; `AlreadyExists` when it exists. Returns its ARN.
    async fn create_role(
        &self,
        name: &str,
        path: &str,
        trust_policy: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, BackendError>;
    /// Reads a role; None when it does not exist.
    async fn get_role(&self, name: &str) -> Result<Option<Role>, BackendError>;
    /// Replaces the role's trust policy.
    async fn update_trust_policy(&self, name: &str, trust_policy: &str) -> Result<(), BackendError>;
    /// Makes the role's tags exactly `tags`.
    async fn set_role_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), BackendError>;
    /// Deletes a role; `NotEmpty` while inline policies remain.
    async fn delete_role(&self, name: &str) -> Result<(), BackendError>;
    /// Creates or replaces an inline policy on a role.
    async fn put_role_policy(&self, role: &str, policy: &str, document: &str) -> Result<(), BackendError>;
    /// An inline policy's document, URL-decoded; None when missing.
    async fn get_role_policy(&self, role: &str, policy: &str) -> Result<Option<String>, BackendError>;
    /// Deletes an inline policy (a missing one is fine).
    async fn delete_role_policy(&self, role: &str, policy: &str) -> Result<(), BackendError>;
    /// The names of the role's inline policies.
    async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, BackendError>;
}
