//! The provider configuration: schema, typed settings, validation, and which settings were
//! still unknown when Terraform configured the provider.

use std::collections::BTreeMap;

pub use super::settings::aws::AwsSettings;
use super::settings::cassandra::CassandraSettings;
use super::settings::flink::FlinkSettings;
use super::settings::hdfs::HdfsSettings;
pub use super::settings::kafka::{KafkaSettings, MAX_KAFKA_TIMEOUT_SECONDS};
use super::settings::spark::SparkSettings;
use super::settings::Reader;
use crate::naming;
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Nesting, Schema, Type, Value};

/// Classifications from least to most sensitive, unless governance says otherwise.
pub const DEFAULT_CLASSIFICATIONS: [&str; 4] = ["public", "internal", "confidential", "restricted"];

/// A secret string that never prints.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// `governance { ... }`: the platform's rules, checked at plan time.
#[derive(Debug, Clone)]
pub struct Governance {
    /// Allowed classifications, least to most sensitive.
    pub allowed_classifications: Vec<String>,
    /// Tag keys every data product must carry.
    pub required_tags: Vec<String>,
    /// Upper bound on `retention_days`.
    pub max_retention_days: Option<i64>,
    /// Lowest classification a product with PII may have.
    pub pii_min_classification: String,
    /// Grants on the most sensitive products need `expires_at`.
    pub restricted_grants_require_expiry: bool,
}

impl Default for Governance {
    fn default() -> Self {
        Self {
            allowed_classifications: DEFAULT_CLASSIFICATIONS.iter().map(|s| s.to_string()).collect(),
            required_tags: Vec::new(),
            max_retention_days: None,
            pii_min_classification: "confidential".into(),
            restricted_grants_require_expiry: true,
        }
    }
}

impl Governance {
    /// The rank of a classification (0 = least sensitive), if allowed.
    pub fn rank(&self, classification: &str) -> Option<usize> {
        self.allowed_classifications.iter().position(|c| c == classification)
    }
}

/// The whole provider configuration.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Prefix of every derived name.
    pub name_prefix: String,
    /// The catalog bucket.
    pub catalog_bucket: String,
    /// Tags on everything.
    pub default_tags: BTreeMap<String, String>,
    /// AWS settings.
    pub aws: AwsSettings,
    /// Kafka settings.
    pub kafka: KafkaSettings,
    /// HDFS settings.
    pub hdfs: HdfsSettings,
    /// Cassandra settings.
    pub cassandra: CassandraSettings,
    /// Flink settings.
    pub flink: FlinkSettings,
    /// Spark settings.
    pub spark: SparkSettings,
    /// Governance rules.
    pub governance: Governance,
    /// Settings whose values were unknown at configuration time, like `aws.s3_endpoint`.
    pub unknown: Vec<String>,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        Self {
            name_prefix: "datamesh".into(),
            catalog_bucket: "datamesh-catalog".into(),
            default_tags: BTreeMap::new(),
            aws: AwsSettings::default(),
            kafka: KafkaSettings::default(),
            hdfs: HdfsSettings::default(),
            cassandra: CassandraSettings::default(),
            flink: FlinkSettings::default(),
            spark: SparkSettings::default(),
            governance: Governance::default(),
            unknown: Vec::new(),
        }
    }
}

/// The provider's schema.
pub fn schema() -> Schema {
    let governance = Block::new(
        "The platform's governance rules, enforced at plan time.",
        vec![
            Attribute::optional("allowed_classifications", Type::list(Type::String), "Allowed data classifications, from least to most sensitive. Default `[\"public\", \"internal\", \"confidential\", \"restricted\"]`."),
            Attribute::optional("required_tags", Type::list(Type::String), "Tag keys every data product must carry, in `tags` or `default_tags`. Default `[]`."),
            Attribute::optional("max_retention_days", Type::Number, "Upper bound on a data product's `retention_days`. Default: no limit."),
            Attribute::optional("pii_min_classification", Type::String, "Lowest classification a data product with `contains_pii = true` may have. Default `confidential`, or the most sensitive classification when `confidential` is not allowed."),
            Attribute::optional("restricted_grants_require_expiry", Type::Bool, "Grants on products of the most sensitive classification need `expires_at`. Default `true`."),
        ],
    );
    Schema::new(
        Block::new(
            "The datamesh provider turns S3, IAM, Kafka, HDFS, Cassandra, Flink and Spark into a self-serve data platform: domains, data products (with S3, HDFS and Cassandra ports), streams, access grants and pipelines, named, tagged and governed to one standard.",
            vec![
                Attribute::optional("name_prefix", Type::String, "Prefix of every derived name (roles, buckets). `[a-z][a-z0-9-]{1,15}`; default `datamesh`."),
                Attribute::optional("catalog_bucket", Type::String, "Bucket holding the catalog. Default `<name_prefix>-catalog`; created on first use if missing."),
                Attribute::optional("default_tags", Type::map(Type::String), "Tags applied to everything the provider creates, under each resource's own `tags`."),
            ],
        )
        .with_block("aws", Nesting::Single, AwsSettings::block())
        .with_block("kafka", Nesting::Single, KafkaSettings::block())
        .with_block("hdfs", Nesting::Single, HdfsSettings::block())
        .with_block("cassandra", Nesting::Single, CassandraSettings::block())
        .with_block("flink", Nesting::Single, FlinkSettings::block())
        .with_block("spark", Nesting::Single, SparkSettings::block())
        .with_block("governance", Nesting::Single, governance),
    )
}

impl ProviderConfig {
    /// Builds the typed configuration; unknown settings fall back to defaults and are listed in `unknown`.
    pub fn from_value(config: &Value) -> Self {
        let mut r = Reader { unknown: Vec::new() };
        let mut c = ProviderConfig::default();
        if let Some(p) = r.string(config, "", "name_prefix") {
            c.name_prefix = p;
        }
        c.catalog_bucket =
            r.string(config, "", "catalog_bucket").unwrap_or_else(|| format!("{}-catalog", c.name_prefix));
        if let Some(Value::Map(m)) = r.known(config.get("default_tags"), "default_tags") {
            c.default_tags = m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect();
        }

        c.aws = AwsSettings::parse(&mut r, config.get("aws"));
        c.kafka = KafkaSettings::parse(&mut r, config.get("kafka"));
        c.hdfs = HdfsSettings::parse(&mut r, config.get("hdfs"));
        c.cassandra = CassandraSettings::parse(&mut r, config.get("cassandra"));
        c.flink = FlinkSettings::parse(&mut r, config.get("flink"));
        c.spark = SparkSettings::parse(&mut r, config.get("spark"));

        let gov = config.get("governance");
        let defaults = Governance::default();
        c.governance = Governance {
            allowed_classifications: r
                .strings(gov, "governance", "allowed_classifications")
                .unwrap_or(defaults.allowed_classifications),
            required_tags: r.strings(gov, "governance", "required_tags").unwrap_or_default(),
            max_retention_days: r.int(gov, "governance", "max_retention_days"),
            pii_min_classification: r.string(gov, "governance", "pii_min_classification").unwrap_or_default(),
            restricted_grants_require_expiry: r
                .bool(gov, "governance", "restricted_grants_require_expiry")
                .unwrap_or(true),
        };
        // Unset, it is "confidential" when that is allowed, else the most sensitive classification.
        if c.governance.pii_min_classification.is_empty() {
            let g = &c.governance;
            c.governance.pii_min_classification = if g.rank(&defaults.pii_min_classification).is_some() {
                defaults.pii_min_classification
            } else {
                g.allowed_classifications.last().cloned().unwrap_or(defaults.pii_min_classification)
            };
        }
        c.unknown = r.unknown;
        c
    }

    /// The error for using a setting that was unknown when the provider was configured.
    pub fn unknown_error(&self, prefix: &str) -> Option<String> {
        let pending: Vec<&str> = self.unknown.iter().map(String::as_str).filter(|u| u.starts_with(prefix)).collect();
        (!pending.is_empty()).then(|| {
            format!(
                "The provider setting(s) {} were not known yet when the provider was configured (they depend on \
                 resources that are not created yet). Create those resources first, for example with \
                 `terraform apply -target=...`, or configure the provider with values known at plan time.",
                pending.join(", ")
            )
        })
    }
}

/// Checks the provider configuration's own values (unknown ones are skipped).
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let c = ProviderConfig::from_value(config);
    if config.get("name_prefix").is_wholly_known() && !config.get("name_prefix").is_null() {
        if let Err(msg) = naming::check_name_prefix(&c.name_prefix) {
            diags.attr_error(AttrPath::attr("name_prefix"), "Invalid name_prefix", msg);
        }
    }
    AwsSettings::validate(config, diags);
    KafkaSettings::validate(config, &c.kafka, diags);
    HdfsSettings::validate(config, diags);
    CassandraSettings::validate(config, diags);
    FlinkSettings::validate(config, diags);
    SparkSettings::validate(config, diags);
    let gov = AttrPath::attr("governance");
    let g = &c.governance;
    if g.allowed_classifications.is_empty() {
        diags.attr_error(
            gov.clone().then("allowed_classifications"),
            "No classifications allowed",
            "List at least one classification, from least to most sensitive.",
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, cls) in g.allowed_classifications.iter().enumerate() {
        if !seen.insert(cls) {
            diags.attr_error(
                gov.clone().then("allowed_classifications").index(i),
                "Duplicate classification",
                format!("{cls:?} is listed twice. List each classification once, from least to most sensitive."),
            );
        }
    }
    if !config.get("governance").get("pii_min_classification").is_unknown()
        && g.rank(&g.pii_min_classification).is_none()
    {
        diags.attr_error(
            gov.clone().then("pii_min_classification"),
            "Unknown classification",
            format!(
                "{:?} is not one of allowed_classifications ({}). Use one of those.",
                g.pii_min_classification,
                g.allowed_classifications.join(", ")
            ),
        );
    }
    if let Some(days) = g.max_retention_days {
        if days < 1 {
            diags.attr_error(
                gov.then("max_retention_days"),
                "Invalid max_retention_days",
                "The limit must be at least 1 day.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    #[test]
    fn empty_configuration_uses_the_design_defaults() {
        let c = ProviderConfig::from_value(&Value::Null);
        assert_eq!(c.name_prefix, "datamesh");
        assert_eq!(c.catalog_bucket, "datamesh-catalog");
        assert_eq!(c.kafka.default_replication_factor, 3);
        assert_eq!(c.governance.allowed_classifications, DEFAULT_CLASSIFICATIONS);
        assert_eq!(c.governance.pii_min_classification, "confidential");
        assert!(c.unknown.is_empty());
    }

    #[test]
    fn catalog_bucket_follows_the_prefix() {
        let c = ProviderConfig::from_value(&obj(vec![("name_prefix", Value::string("acme"))]));
        assert_eq!(c.catalog_bucket, "acme-catalog");
    }

    #[test]
    fn unknown_settings_are_remembered_not_fatal() {
        let aws = obj(vec![("s3_endpoint", Value::Unknown)]);
        let c = ProviderConfig::from_value(&obj(vec![("aws", aws)]));
        assert_eq!(c.unknown, vec!["aws.s3_endpoint"]);
        assert!(c.unknown_error("aws").unwrap().contains("aws.s3_endpoint"));
        assert!(c.unknown_error("kafka").is_none());
    }

    #[test]
    fn pii_minimum_defaults_to_the_most_sensitive_custom_classification() {
        let gov =
            obj(vec![("allowed_classifications", Value::List(vec![Value::string("open"), Value::string("closed")]))]);
        let c = ProviderConfig::from_value(&obj(vec![("governance", gov)]));
        assert_eq!(c.governance.pii_min_classification, "closed");
    }

    #[test]
    fn secrets_never_print() {
        let s = AwsSettings { secret_key: Some(Secret("hunter2".into())), ..Default::default() };
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn kafka_timeouts_librdkafka_would_refuse_fail_at_plan_time() {
        for (seconds, ok) in [(0, false), (1, true), (300, true), (301, false), (86_400, false)] {
            let kafka = obj(vec![("timeout_seconds", Value::Number(seconds as f64))]);
            let config = obj(vec![("kafka", kafka)]);
            let mut diags = Diagnostics::new();
            validate(&config, &mut diags);
            assert_eq!(!diags.has_errors(), ok, "timeout_seconds = {seconds}: {:?}", diags.0);
        }
    }

    #[test]
    fn bad_settings_are_reported_at_their_path() {
        let kafka = obj(vec![("security_protocol", Value::string("TLS"))]);
        let gov = obj(vec![("pii_min_classification", Value::string("secret"))]);
        let mut d = Diagnostics::new();
        validate(&obj(vec![("name_prefix", Value::string("ACME")), ("kafka", kafka), ("governance", gov)]), &mut d);
        let paths: Vec<String> = d.0.iter().filter_map(|x| x.path.as_ref().map(|p| p.to_string())).collect();
        assert_eq!(paths, vec!["name_prefix", "kafka.security_protocol", "governance.pii_min_classification"]);
    }
}
