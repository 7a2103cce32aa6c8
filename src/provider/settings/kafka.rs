//! `kafka { ... }`: where and how to reach the Kafka-protocol brokers.

use std::time::Duration;

use super::{env, env_list, timeout, validate_timeout, Reader};
use crate::provider::config::Secret;
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Type, Value};

/// The longest broker call librdkafka accepts (its `socket.timeout.ms` stops at 300,000 ms);
/// longer is refused at plan time, not in the middle of an apply.
pub const MAX_KAFKA_TIMEOUT_SECONDS: i64 = 300;

/// `kafka { ... }`.
#[derive(Debug, Clone)]
pub struct KafkaSettings {
    /// Bootstrap brokers.
    pub bootstrap_servers: Vec<String>,
    /// PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL.
    pub security_protocol: String,
    /// PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512.
    pub sasl_mechanism: Option<String>,
    /// SASL user.
    pub sasl_username: Option<String>,
    /// SASL password.
    pub sasl_password: Option<Secret>,
    /// CA certificate for TLS.
    pub ca_cert_pem: Option<String>,
    /// Replication factor of streams that don't set one.
    pub default_replication_factor: i64,
    /// Whether grants and domains manage Kafka ACLs.
    pub manage_acls: bool,
    /// Per-call timeout.
    pub timeout: Duration,
    /// Whether topic and ACL reads share short-lived snapshots (`backends::kafka::snapshot`,
    /// `acl_listing`): on in
    /// the provider, whose process lives for one Terraform operation; off for a long-lived
    /// client that must see every change at once (the acceptance tests' checker).
    pub shared_reads: bool,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        Self {
            bootstrap_servers: Vec::new(),
            security_protocol: "PLAINTEXT".into(),
            sasl_mechanism: None,
            sasl_username: None,
            sasl_password: None,
            ca_cert_pem: None,
            default_replication_factor: 3,
            manage_acls: true,
            timeout: Duration::from_secs(30),
            shared_reads: true,
        }
    }
}

impl KafkaSettings {
    /// The block's schema.
    pub fn block() -> Block {
        Block::new(
        "Where and how to reach the Kafka-protocol brokers.",
        vec![
            Attribute::optional(
                "bootstrap_servers",
                Type::list(Type::String),
                "Bootstrap brokers as `host:port`. Default: `DATAMESH_KAFKA_BOOTSTRAP_SERVERS` (comma separated).",
            ),
            Attribute::optional(
                "security_protocol",
                Type::String,
                "`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT` or `SASL_SSL`. Default: `DATAMESH_KAFKA_SECURITY_PROTOCOL`, else `PLAINTEXT`.",
            ),
            Attribute::optional(
                "sasl_mechanism",
                Type::String,
                "`PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`. Default: `DATAMESH_KAFKA_SASL_MECHANISM`.",
            ),
            Attribute::optional("sasl_username", Type::String, "SASL user name. Default: `DATAMESH_KAFKA_SASL_USERNAME`."),
            Attribute::optional("sasl_password", Type::String, "SASL password. Default: `DATAMESH_KAFKA_SASL_PASSWORD`.")
                .sensitive(),
            Attribute::optional(
                "ca_cert_pem",
                Type::String,
                "PEM CA certificate that signs the brokers' TLS certificates.",
            ),
            Attribute::optional(
                "default_replication_factor",
                Type::Number,
                "Replication factor of streams that don't set one. Default `3`.",
            ),
            Attribute::optional(
                "manage_acls",
                Type::Bool,
                "Manage Kafka ACLs for domains and grants. Default `true`; `false` for brokers without the ACL API.",
            ),
            Attribute::optional(
                "timeout_seconds",
                Type::Number,
                "Timeout of one broker call, 1 to 300 seconds. Default `30`.",
            ),
        ],
    )
    }

    /// The settings from the block (null when absent), with environment defaults.
    pub(crate) fn parse(r: &mut Reader, kafka: &Value) -> Self {
        let defaults = KafkaSettings::default();
        Self {
            bootstrap_servers: r
                .strings(kafka, "kafka", "bootstrap_servers")
                .unwrap_or_else(|| env_list("DATAMESH_KAFKA_BOOTSTRAP_SERVERS")),
            security_protocol: r
                .string(kafka, "kafka", "security_protocol")
                .or_else(|| env("DATAMESH_KAFKA_SECURITY_PROTOCOL"))
                .unwrap_or(defaults.security_protocol),
            sasl_mechanism: r.string(kafka, "kafka", "sasl_mechanism").or_else(|| env("DATAMESH_KAFKA_SASL_MECHANISM")),
            sasl_username: r.string(kafka, "kafka", "sasl_username").or_else(|| env("DATAMESH_KAFKA_SASL_USERNAME")),
            sasl_password: r
                .string(kafka, "kafka", "sasl_password")
                .or_else(|| env("DATAMESH_KAFKA_SASL_PASSWORD"))
                .map(Secret),
            ca_cert_pem: r.string(kafka, "kafka", "ca_cert_pem"),
            default_replication_factor: r
                .int(kafka, "kafka", "default_replication_factor")
                .unwrap_or(defaults.default_replication_factor),
            manage_acls: r.bool(kafka, "kafka", "manage_acls").unwrap_or(true),
            timeout: timeout(r, kafka, "kafka", MAX_KAFKA_TIMEOUT_SECONDS, defaults.timeout),
            shared_reads: defaults.shared_reads,
        }
    }

    /// Checks the block's values, `k` as parsed (unknown ones are skipped).
    pub(crate) fn validate(config: &Value, k: &KafkaSettings, diags: &mut Diagnostics) {
        let kafka = AttrPath::attr("kafka");
        if !["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(&k.security_protocol.as_str()) {
            diags.attr_error(
                kafka.clone().then("security_protocol"),
                "Invalid security_protocol",
                format!(
                    "{:?} is not a security protocol. Use one of PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
                    k.security_protocol
                ),
            );
        }
        if let Some(m) = &k.sasl_mechanism {
            if !["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(&m.as_str()) {
                diags.attr_error(
                    kafka.clone().then("sasl_mechanism"),
                    "Invalid sasl_mechanism",
                    format!("{m:?} is not a SASL mechanism. Use one of PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."),
                );
            }
        }
        if k.default_replication_factor < 1 {
            diags.attr_error(
                kafka.clone().then("default_replication_factor"),
                "Invalid default_replication_factor",
                "The replication factor must be at least 1.",
            );
        }
        validate_timeout(
            config,
            "kafka",
            MAX_KAFKA_TIMEOUT_SECONDS,
            "broker call (librdkafka refuses longer ones, and only in the middle of an apply)",
            diags,
        );
    }
}
