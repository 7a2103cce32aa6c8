//! Streaming: the Kafka topics behind streams.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::error::BackendError;
use crate::acl::AclBinding;
use crate::provider::config::Secret;

/// A topic to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    /// The topic name.
    pub name: String,
    /// Partition count.
    pub partitions: i32,
    /// Replication factor.
    pub replication_factor: i32,
    /// Topic configs to set.
    pub configs: BTreeMap<String, String>,
}

/// A topic as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// Partition count.
    pub partitions: i32,
    /// Replicas of the first partition.
    pub replication_factor: i32,
    /// Configs set on the topic itself (not broker or static defaults).
    pub configs: BTreeMap<String, String>,
}

/// The SCRAM mechanisms a broker keeps credentials for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScramMechanism {
    /// SCRAM-SHA-256.
    Sha256,
    /// SCRAM-SHA-512.
    Sha512,
}

impl ScramMechanism {
    /// The mechanism a domain's credential uses: the provider's own `kafka.sasl_mechanism` when
    /// it is a SCRAM one, else SCRAM-SHA-512.
    pub fn for_setting(sasl_mechanism: Option<&str>) -> Self {
        match sasl_mechanism {
            Some("SCRAM-SHA-256") => ScramMechanism::Sha256,
            _ => ScramMechanism::Sha512,
        }
    }
}

impl std::fmt::Display for ScramMechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        })
    }
}

/// A Kafka client quota on a user (KIP-546 keys); an unset limit is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quota {
    /// `producer_byte_rate`: bytes per second, per broker.
    pub producer_byte_rate: Option<f64>,
    /// `consumer_byte_rate`: bytes per second, per broker.
    pub consumer_byte_rate: Option<f64>,
    /// `request_percentage`: the share of one I/O or network thread, in percent.
    pub request_percentage: Option<f64>,
}

impl Quota {
    /// Whether no limit is set.
    pub fn is_empty(&self) -> bool {
        self.producer_byte_rate.is_none() && self.consumer_byte_rate.is_none() && self.request_percentage.is_none()
    }
}

/// A Kafka-protocol broker's admin API.
#[async_trait]
pub trait Streaming: Send + Sync {
    /// Creates a topic; `AlreadyExists` when it exists.
    async fn create_topic(&self, spec: &TopicSpec) -> Result<(), BackendError>;
    /// Reads a topic; None when it does not exist.
    async fn describe_topic(&self, name: &str) -> Result<Option<TopicInfo>, BackendError>;
    /// Sets and deletes topic configs incrementally (IncrementalAlterConfigs).
    async fn alter_topic_configs(
        &self,
        name: &str,
        set: &BTreeMap<String, String>,
        delete: &[String],
    ) -> Result<(), BackendError>;
    /// Grows the topic to `total` partitions (CreatePartitions).
    async fn add_partitions(&self, name: &str, total: i32) -> Result<(), BackendError>;
    /// Deletes a topic (a missing one is fine).
    async fn delete_topic(&self, name: &str) -> Result<(), BackendError>;
    /// Checks, before any ACL call, that the broker implements the ACL API (CreateAcls,
    /// DescribeAcls, DeleteAcls); `Unsupported` naming the missing API otherwise.
    async fn check_acl_support(&self) -> Result<(), BackendError>;
    /// Creates ACL bindings (existing identical bindings are fine).
    async fn create_acls(&self, bindings: &[AclBinding]) -> Result<(), BackendError>;
    /// Which of these bindings exist.
    async fn describe_acls(&self, bindings: &[AclBinding]) -> Result<Vec<AclBinding>, BackendError>;
    /// Deletes exactly these bindings (missing ones are fine).
    async fn delete_acls(&self, bindings: &[AclBinding]) -> Result<(), BackendError>;
    /// Every binding the broker holds of the kind the provider makes (ALLOW from any host, on
    /// topics or groups, literal or prefixed), whoever made it: one DescribeAcls with a
    /// match-any filter, as `kafka-acls --list` asks. For scans that look for orphans.
    async fn list_acls(&self) -> Result<Vec<AclBinding>, BackendError>;
    /// Sets `user`'s SCRAM credential for `mechanism` (AlterUserScramCredentials), replacing
    /// any earlier one.
    async fn set_scram_credential(
        &self,
        user: &str,
        mechanism: ScramMechanism,
        password: &Secret,
    ) -> Result<(), BackendError>;
    /// Deletes `user`'s SCRAM credential for `mechanism` (a missing one is fine).
    async fn delete_scram_credential(&self, user: &str, mechanism: ScramMechanism) -> Result<(), BackendError>;
    /// The client quota on user `user` alone (DescribeClientQuotas); None when it has none of
    /// the keys of [`Quota`].
    async fn describe_user_quota(&self, user: &str) -> Result<Option<Quota>, BackendError>;
    /// Makes `user`'s quota exactly `quota` (AlterClientQuotas): keys of [`Quota`] it leaves
    /// unset are removed; None removes them all. Other quota keys are left alone.
    async fn set_user_quota(&self, user: &str, quota: Option<&Quota>) -> Result<(), BackendError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_credential_follows_the_providers_scram_mechanism_else_sha_512() {
        assert_eq!(ScramMechanism::for_setting(Some("SCRAM-SHA-256")), ScramMechanism::Sha256);
        assert_eq!(ScramMechanism::for_setting(Some("SCRAM-SHA-512")), ScramMechanism::Sha512);
        assert_eq!(ScramMechanism::for_setting(Some("PLAIN")), ScramMechanism::Sha512);
        assert_eq!(ScramMechanism::for_setting(None).to_string(), "SCRAM-SHA-512");
    }
}
