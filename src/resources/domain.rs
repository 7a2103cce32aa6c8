//! `datamesh_domain`: a team that owns data products. An IAM role (with its trust policy and
//! tags) and a catalog entry; on Kafka its ACLs, SCRAM credential and client quota; with
//! Cassandra configured its role, with HDFS its home directory.

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{self, known_map, known_str, map_value, ok_or_report, tags_all};
use super::parts::{cassandra as cql_part, hdfs as hdfs_part};
use crate::backends::catalog::domain_key;
use crate::backends::streaming::{Quota, ScramMechanism};
use crate::backends::ErrorKind;
use crate::provider::config::Secret;
use crate::provider::{Context, ProviderData};
use crate::{acl, naming, policy};
use tfplugin::framework::resource::PlanRequest;
use tfplugin::framework::typed::{model_or_report, state_or_report};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Nesting, Resource, Schema, Type, Value};

/// The `datamesh_domain` resource.
pub struct Domain;

/// The resource's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct DomainModel {
    name: String,
    owner: String,
    description: Option<String>,
    kafka_principal: Option<String>,
    trusted_principal_arns: Option<Vec<String>>,
    tags: Option<BTreeMap<String, String>>,
    id: Option<String>,
    role_name: Option<String>,
    role_arn: Option<String>,
    tags_all: Option<BTreeMap<String, String>>,
    /// Write-only: present only in the values create and update receive, never in state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password_wo: Option<String>,
    #[serde(default)]
    password_wo_version: Option<i64>,
    /// The `kafka_quota` block; None when the domain has none.
    #[serde(default)]
    kafka_quota: Option<QuotaModel>,
    #[serde(default)]
    cassandra_role: Option<String>,
    #[serde(default)]
    hdfs_home: Option<String>,
}

/// The `kafka_quota` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
struct QuotaModel {
    producer_byte_rate: Option<f64>,
    consumer_byte_rate: Option<f64>,
    request_percentage: Option<f64>,
}

impl From<QuotaModel> for Quota {
    fn from(q: QuotaModel) -> Self {
        Quota {
            producer_byte_rate: q.producer_byte_rate,
            consumer_byte_rate: q.consumer_byte_rate,
            request_percentage: q.request_percentage,
        }
    }
}

impl From<Quota> for QuotaModel {
    fn from(q: Quota) -> Self {
        QuotaModel {
            producer_byte_rate: q.producer_byte_rate,
            consumer_byte_rate: q.consumer_byte_rate,
            request_percentage: q.request_percentage,
        }
    }
}

/// The `kafka_quota` attributes: name, whether it must be a whole number, what it limits.
const QUOTA_LIMITS: [(&str, bool, &str); 3] = [
    ("producer_byte_rate", true, "bytes per second, per broker"),
    ("consumer_byte_rate", true, "bytes per second, per broker"),
    ("request_percentage", false, "percent of one broker I/O or network thread"),
];

/// Plan-time checks of a `kafka_quota` block's values: each set limit a positive number
/// (whole for the byte rates, which Kafka keeps as integers), and at least one set.
fn validate_quota(block: &Value, diags: &mut Diagnostics) {
    if block.is_null() || !block.is_known() {
        return;
    }
    let mut any = false;
    for (name, whole, unit) in QUOTA_LIMITS {
        let v = block.get(name);
        any |= !v.is_null();
        let Some(n) = v.as_f64() else { continue };
        let path = AttrPath::attr("kafka_quota").then(name);
        if !n.is_finite() || n <= 0.0 {
            diags.attr_error(
                path,
                format!("Invalid {name}"),
                format!("{name} is {n}, but a quota must be greater than 0 ({unit}). Set a positive number, or leave {name} out for no limit."),
            );
        } else if whole && (n.fract() != 0.0 || n > 9.0e15) {
            diags.attr_error(
                path,
                format!("Invalid {name}"),
                format!("{name} is {n}, but Kafka keeps byte rates as whole numbers ({unit}). Set a whole number such as {}.", n.floor().max(1.0)),
            );
        }
    }
    if !any {
        diags.attr_error(
            AttrPath::attr("kafka_quota"),
            "Empty kafka_quota",
            "Set at least one of producer_byte_rate, consumer_byte_rate or request_percentage in kafka_quota, or remove the block for no quota.",
        );
    }
}

/// The domain's catalog entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainEntry {
    /// Domain name.
    pub name: String,
    /// Owning team.
    pub owner: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Kafka principal.
    pub kafka_principal: String,
    /// Principals allowed to assume the role.
    #[serde(default)]
    pub trusted_principal_arns: Vec<String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// IAM role name.
    pub role_name: String,
    /// IAM role ARN.
    pub role_arn: String,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<String>,
}

fn standard_tags(name: &str, owner: &str) -> [(&'static str, String); 2] {
    [("datamesh:domain", name.to_string()), ("datamesh:owner", owner.to_string())]
}

fn entry(m: &DomainModel, created_at: Option<String>) -> DomainEntry {
    DomainEntry {
        name: m.name.clone(),
        owner: m.owner.clone(),
        description: m.description.clone(),
        kafka_principal: m.kafka_principal.clone().unwrap_or_else(|| naming::default_principal(&m.name)),
        trusted_principal_arns: m.trusted_principal_arns.clone().unwrap_or_default(),
        tags: m.tags.clone().unwrap_or_default(),
        role_name: m.role_name.clone().unwrap_or_default(),
        role_arn: m.role_arn.clone().unwrap_or_default(),
        created_at,
    }
}

impl Domain {
    fn model(&self, v: &Value, diags: &mut Diagnostics) -> Option<DomainModel> {
        model_or_report(v, diags)
    }

    fn state(&self, m: &DomainModel, diags: &mut Diagnostics) -> Value {
        // The state's type, built once: every create, read and update ends here.
        static TYPE: std::sync::OnceLock<Type> = std::sync::OnceLock::new();
        state_or_report(m, TYPE.get_or_init(|| self.schema().ty()), diags)
    }
}

#[async_trait]
impl Resource<ProviderData> for Domain {
    fn type_name(&self) -> &'static str {
        "datamesh_domain"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "A domain: a team that owns data products. Creates the domain's IAM role (path `/datamesh/`, trust policy, tags) and its catalog entry.",
            vec![
                Attribute::required("name", Type::String, "Domain name, `^[a-z][a-z0-9-]{1,30}$`. Changing it replaces the domain.").replace(),
                Attribute::required("owner", Type::String, "The owning team's e-mail or handle."),
                Attribute::optional("description", Type::String, "What the domain is about."),
                Attribute::optional_computed("kafka_principal", Type::String, "The domain's Kafka principal. Default `User:<name>`."),
                Attribute::optional_computed(
                    "trusted_principal_arns",
                    Type::set(Type::String),
                    "AWS principals allowed to assume the domain role. Default: the account root of the provider's credentials.",
                ),
                Attribute::optional("tags", Type::map(Type::String), "Tags on the role, merged over the provider's `default_tags`."),
                Attribute::computed("id", Type::String, "The domain name."),
                Attribute::computed("role_name", Type::String, "The domain's IAM role name, `<name_prefix>-domain-<name>`."),
                Attribute::computed("role_arn", Type::String, "The domain's IAM role ARN."),
                Attribute::computed("tags_all", Type::map(Type::String), "All tags on the role: `default_tags`, `tags` and the provider's standard tags."),
                Attribute::optional(
                    "password_wo",
                    Type::String,
                    "The domain's login where a backend logs in with a password: its Kafka SCRAM credential (user `<name>`, mechanism `kafka.sasl_mechanism` when it is a SCRAM one, else SCRAM-SHA-512) and its Cassandra role (`LOGIN = true`). Write-only (Terraform 1.11 or later): never in state or plan. Needs `password_wo_version`.",
                )
                .write_only(),
                Attribute::optional(
                    "password_wo_version",
                    Type::Number,
                    "Version of `password_wo`: Terraform cannot diff a write-only value, so change this number to set a new password. Removing both deletes the credential.",
                ),
                Attribute::computed("cassandra_role", Type::String, "The domain's Cassandra role, `<name>` (`LOGIN` with `password_wo`); null when the provider has no `cassandra` settings."),
                Attribute::computed("hdfs_home", Type::String, "The domain's HDFS directory `<hdfs.root>/<name>`, owned by user and group `<name>`, mode `0750`; null when the provider has no `hdfs` settings (or, after a refresh, when the directory is missing or re-permissioned: the plan puts it back)."),
            ],
        )
        .with_block(
            "kafka_quota",
            Nesting::Single,
            Block::new(
                "A Kafka client quota on user `<name>` (the domain's own login). Removing the block removes the quota; a quota changed or deleted outside Terraform is planned back. Needs the provider's `kafka` settings.",
                vec![
                    Attribute::optional("producer_byte_rate", Type::Number, "How many bytes per second the domain may produce, per broker. A whole number greater than 0; unset: no limit."),
                    Attribute::optional("consumer_byte_rate", Type::Number, "How many bytes per second the domain may fetch, per broker. A whole number greater than 0; unset: no limit."),
                    Attribute::optional("request_percentage", Type::Number, "How much of a broker's request-handling time the domain may use, in percent of one I/O or network thread. Greater than 0; unset: no limit."),
                ],
            ),
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        common::validate_name(config, "name", naming::check_domain, diags);
        if let Some(Some(owner)) = known_str(config, "owner") {
            if owner.trim().is_empty() {
                diags.attr_error(
                    AttrPath::attr("owner"),
                    "Empty owner",
                    "Set owner to the owning team's e-mail or handle.",
                );
            }
        }
        if let Some(Some(p)) = known_str(config, "kafka_principal") {
            if let Err(msg) = check_principal(p) {
                diags.attr_error(AttrPath::attr("kafka_principal"), "Invalid kafka_principal", msg);
            }
        }
        for (i, arn) in config.get("trusted_principal_arns").elements().iter().enumerate() {
            if let Some(arn) = arn.as_str() {
                if !arn.starts_with("arn:") || !arn.chars().all(|c| c.is_ascii_graphic() && !"*?\"'\\".contains(c)) {
                    diags.attr_error(
                        AttrPath::attr("trusted_principal_arns").index(i),
                        "Invalid principal ARN",
                        format!("{arn:?} is not a principal ARN. Use a full ARN such as \"arn:aws:iam::123456789012:root\"; wildcards are not allowed."),
                    );
                }
            }
        }
        common::validate_tag_text(config, "owner", diags);
        common::validate_text(config, "description", 1024, diags);
        common::validate_tags(config, diags);
        let (password, version) = (config.get("password_wo"), config.get("password_wo_version"));
        if let Some(p) = password.as_str() {
            if p.is_empty() {
                diags.attr_error(
                    AttrPath::attr("password_wo"),
                    "Empty password",
                    "Set password_wo to a non-empty password, or remove it.",
                );
            }
            if version.is_null() {
                diags.attr_error(
                    AttrPath::attr("password_wo_version"),
                    "password_wo needs a version",
                    "Set password_wo_version (e.g. 1) with password_wo: a write-only value is never in state, so the version is how a new password is noticed. Change it whenever the password changes.",
                );
            }
        }
        validate_quota(config.get("kafka_quota"), diags);
        if password.is_null() && !version.is_null() && version.is_known() {
            diags.attr_error(
                AttrPath::attr("password_wo"),
                "password_wo_version without password_wo",
                "Set password_wo too, or remove password_wo_version (that deletes the domain's credential).",
            );
        }
    }

    async fn modify_plan(&self, ctx: &Context, req: PlanRequest<'_>, planned: &mut Value, diags: &mut Diagnostics) {
        let cfg = &ctx.provider.config;
        if !req.config.get("kafka_quota").is_null()
            && cfg.kafka.bootstrap_servers.is_empty()
            && cfg.unknown_error("kafka").is_none()
        {
            diags.attr_error(
                AttrPath::attr("kafka_quota"),
                "Kafka is not configured",
                "kafka_quota sets a client quota on the Kafka brokers, and the provider has none. Set kafka { bootstrap_servers = [\"host:port\"] } in the provider block (or DATAMESH_KAFKA_BOOTSTRAP_SERVERS), or remove the block.",
            );
        }
        match known_str(planned, "name") {
            Some(Some(name)) => {
                let name = name.to_string();
                planned.set("id", Value::string(&name));
                planned.set("role_name", Value::string(naming::role_name(&cfg.name_prefix, &name)));
                let or_null = |on: bool, v: String| if on { Value::string(v) } else { Value::Null };
                planned.set("cassandra_role", or_null(cfg.cassandra.configured(), name.clone()));
                planned.set("hdfs_home", or_null(cfg.hdfs.configured(), cfg.hdfs.domain_dir(&name)));
                if req.config.get("kafka_principal").is_null() {
                    planned.set("kafka_principal", Value::string(naming::default_principal(&name)));
                }
            }
            _ => {
                for a in ["id", "role_name", "cassandra_role", "hdfs_home"] {
                    planned.set(a, Value::Unknown);
                }
            }
        }
        // The default trust is the caller's account root; planning it (when the account can be
        // asked) shows it in the plan and brings a drifted trust policy back.
        if req.config.get("trusted_principal_arns").is_null() {
            if let Ok(account) = ctx.provider.account_id().await {
                planned.set(
                    "trusted_principal_arns",
                    Value::Set(vec![Value::string(format!("arn:aws:iam::{account}:root"))]),
                );
            }
        }
        let all = match (known_str(planned, "name"), known_str(planned, "owner"), known_map(planned, "tags")) {
            (Some(Some(name)), Some(Some(owner)), Some(tags)) => {
                map_value(&tags_all(&cfg.default_tags, &tags, &standard_tags(name, owner)))
            }
            _ => Value::Unknown,
        };
        planned.set("tags_all", all);
    }

    async fn create(&self, ctx: &Context, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(planned, diags) else { return Value::Null };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return Value::Null };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        let role_name =
            m.role_name.clone().unwrap_or_else(|| naming::role_name(&ctx.provider.config.name_prefix, &m.name));
        if m.trusted_principal_arns.is_none() {
            match ctx.provider.account_id().await {
                Ok(account) => m.trusted_principal_arns = Some(vec![format!("arn:aws:iam::{account}:root")]),
                Err(d) => {
                    diags.0.push(d);
                    return Value::Null;
                }
            }
        }
        let principal = m.kafka_principal.clone().unwrap_or_else(|| naming::default_principal(&m.name));
        let streaming = if ctx.provider.config.kafka.manage_acls {
            // Check the broker can hold the domain's ACLs before making anything.
            let checked = match ctx.provider.streaming().await {
                Ok(s) => s.check_acl_support().await.map(|_| s).map_err(|e| e.diagnostic("the domain's Kafka ACLs")),
                Err(d) => Err(d),
            };
            match checked {
                Ok(s) => Some(s),
                Err(d) => {
                    diags.0.push(d);
                    return Value::Null;
                }
            }
        } else {
            None
        };
        let trusted = m.trusted_principal_arns.clone().unwrap_or_default();
        let tags = m.tags_all.clone().unwrap_or_default();
        let what = format!("IAM role {role_name:?} of domain {:?}", m.name);
        let Some(arn) = ok_or_report(
            iam.create_role(&role_name, naming::ROLE_PATH, &policy::trust_policy(&trusted), &tags).await,
            &what,
            diags,
        ) else {
            return Value::Null;
        };
        m.role_arn = Some(arn);
        m.role_name = Some(role_name);
        let what = format!("catalog entry of domain {:?}", m.name);
        ok_or_report(catalog.put(&domain_key(&m.name), &entry(&m, Some(common::now_rfc3339()))).await, &what, diags);
        if let Some(streaming) = streaming {
            let bindings = acl::domain_bindings(&m.name, &principal);
            ok_or_report(streaming.create_acls(&bindings).await, "the domain's Kafka ACLs", diags);
        }
        if !set_credential(ctx, &m, diags).await {
            // State tells the truth: no credential yet, so the next plan sets it again.
            m.password_wo_version = None;
        }
        if m.kafka_quota.is_some() && !set_quota(ctx, &m.name, m.kafka_quota.as_ref(), diags).await {
            // No quota yet, as far as the broker knows: the next plan sets it again.
            m.kafka_quota = None;
        }
        m.cassandra_role = None;
        m.hdfs_home = None;
        converge_stores(ctx, &mut m, None, diags).await;
        // Even when the catalog write failed, the role exists: state must say so.
        self.state(&m, diags)
    }

    async fn read(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(state, diags) else { return state.clone() };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return state.clone() };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        // Only an import's state lacks the role ARN every create records.
        let importing = m.role_arn.is_none();
        let role_name = naming::role_name(&ctx.provider.config.name_prefix, &m.name);
        let what = format!("IAM role {role_name:?}");
        let Some(role) = ok_or_report(iam.get_role(&role_name).await, &what, diags) else { return state.clone() };
        let Some(role) = role else { return Value::Null };
        let what = format!("catalog entry of domain {:?}", m.name);
        let Some(found) = ok_or_report(catalog.get::<DomainEntry>(&domain_key(&m.name)).await, &what, diags) else {
            return state.clone();
        };
        if let Some(e) = found {
            m.owner = e.owner;
            m.description = e.description;
            m.kafka_principal = Some(e.kafka_principal);
            m.tags = (!e.tags.is_empty()).then_some(e.tags);
        } else if m.owner.is_empty() {
            m.owner = role.tags.get("datamesh:owner").cloned().unwrap_or_default();
        }
        if m.tags.as_ref().is_some_and(|t| t.is_empty()) {
            m.tags = None;
        }
        m.id = Some(m.name.clone());
        m.role_name = Some(role_name);
        m.role_arn = Some(role.arn);
        m.trusted_principal_arns = Some(policy::trusted_principals(&role.trust_policy));
        m.tags_all = Some(role.tags);
        // A refresh asks for the quota only when state has one (domains without a quota cost no
        // request); an import asks when Kafka is configured.
        let kafka = !ctx.provider.config.kafka.bootstrap_servers.is_empty();
        if m.kafka_quota.is_some() || (importing && kafka) {
            let what = format!("the Kafka client quota of user {:?}", m.name);
            let found = match ctx.provider.streaming().await {
                Ok(s) => ok_or_report(s.describe_user_quota(&m.name).await, &what, diags),
                Err(d) => {
                    diags.0.push(d);
                    None
                }
            };
            let Some(found) = found else { return state.clone() };
            m.kafka_quota = found.map(QuotaModel::from);
        }
        match read_stores(ctx, &m.name).await {
            Ok((role, home)) => {
                m.cassandra_role = role;
                m.hdfs_home = home;
            }
            Err(d) => {
                diags.0.push(d);
                return state.clone();
            }
        }
        self.state(&m, diags)
    }

    async fn update(&self, ctx: &Context, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value {
        let (Some(old), Some(mut m)) = (self.model(prior, diags), self.model(planned, diags)) else {
            return prior.clone();
        };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return prior.clone() };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        let role_name = m.role_name.clone().unwrap_or_default();
        let what = format!("IAM role {role_name:?}");
        if m.trusted_principal_arns.is_none() {
            m.trusted_principal_arns = old.trusted_principal_arns.clone();
        }
        let sorted = |v: &Option<Vec<String>>| {
            let mut v = v.clone().unwrap_or_default();
            v.sort();
            v
        };
        if sorted(&m.trusted_principal_arns) != sorted(&old.trusted_principal_arns) {
            let trusted = m.trusted_principal_arns.clone().unwrap_or_default();
            if ok_or_report(iam.update_trust_policy(&role_name, &policy::trust_policy(&trusted)).await, &what, diags)
                .is_none()
            {
                return prior.clone();
            }
        }
        if m.tags_all != old.tags_all {
            let tags = m.tags_all.clone().unwrap_or_default();
            if ok_or_report(iam.set_role_tags(&role_name, &tags).await, &what, diags).is_none() {
                return prior.clone();
            }
        }
        if ctx.provider.config.kafka.manage_acls && m.kafka_principal != old.kafka_principal {
            let moved = async {
                let streaming = ctx.provider.streaming().await?;
                let principal =
                    |d: &DomainModel| d.kafka_principal.clone().unwrap_or_else(|| naming::default_principal(&d.name));
                let acl_err = |e: crate::backends::BackendError| e.diagnostic("the domain's Kafka ACLs");
                streaming.create_acls(&acl::domain_bindings(&m.name, &principal(&m))).await.map_err(acl_err)?;
                streaming.delete_acls(&acl::domain_bindings(&old.name, &principal(&old))).await.map_err(acl_err)
            };
            if let Err(d) = moved.await {
                diags.0.push(d);
                return prior.clone();
            }
        }
        if m.password_wo_version != old.password_wo_version {
            let done = if m.password_wo.is_some() {
                set_credential(ctx, &m, diags).await
            } else {
                delete_credential(ctx, &old, diags).await
            };
            if !done {
                m.password_wo_version = old.password_wo_version;
            }
        }
        if m.kafka_quota != old.kafka_quota && !set_quota(ctx, &m.name, m.kafka_quota.as_ref(), diags).await {
            m.kafka_quota = old.kafka_quota;
        }
        let rolled = (m.password_wo_version != old.password_wo_version).then(|| m.password_wo.clone());
        m.cassandra_role = old.cassandra_role.clone();
        m.hdfs_home = old.hdfs_home.clone();
        converge_stores(ctx, &mut m, rolled, diags).await;
        m.role_arn = old.role_arn.clone();
        let key = domain_key(&m.name);
        let created = match catalog.get::<DomainEntry>(&key).await {
            Ok(Some(e)) => e.created_at,
            _ => None,
        };
        let what = format!("catalog entry of domain {:?}", m.name);
        ok_or_report(
            catalog.put(&key, &entry(&m, created.or_else(|| Some(common::now_rfc3339())))).await,
            &what,
            diags,
        );
        self.state(&m, diags)
    }

    async fn delete(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) {
        let Some(m) = self.model(state, diags) else { return };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        let role_name =
            m.role_name.clone().unwrap_or_else(|| naming::role_name(&ctx.provider.config.name_prefix, &m.name));
        if let Err(d) = delete_stores(ctx, &m).await {
            diags.0.push(d);
            return;
        }
        if ctx.provider.config.kafka.manage_acls {
            let principal = m.kafka_principal.clone().unwrap_or_else(|| naming::default_principal(&m.name));
            let deleted = match ctx.provider.streaming().await {
                Ok(s) => s
                    .delete_acls(&acl::domain_bindings(&m.name, &principal))
                    .await
                    .map_err(|e| e.diagnostic("the domain's Kafka ACLs")),
                Err(d) => Err(d),
            };
            if let Err(d) = deleted {
                diags.0.push(d);
                return;
            }
        }
        if !delete_credential(ctx, &m, diags).await {
            return;
        }
        if m.kafka_quota.is_some() && !set_quota(ctx, &m.name, None, diags).await {
            return;
        }
        match iam.delete_role(&role_name).await {
            Ok(()) => {}
            Err(e) if e.is(ErrorKind::NotEmpty) => {
                let policies = iam.list_role_policies(&role_name).await.unwrap_or_default();
                diags.attr_error(
                    AttrPath::attr("name"),
                    "Domain still in use",
                    format!(
                        "The role {role_name:?} of domain {:?} still has the inline policies {} from data products or grants. \
                         Destroy those first (or let Terraform order it by referencing the domain from them); nothing was deleted.",
                        m.name,
                        policies.join(", ")
                    ),
                );
                return;
            }
            Err(e) => {
                diags.0.push(e.diagnostic(&format!("IAM role {role_name:?}")));
                return;
            }
        }
        ok_or_report(
            catalog.delete(&domain_key(&m.name)).await,
            &format!("catalog entry of domain {:?}", m.name),
            diags,
        );
    }

    fn identity(&self) -> &'static [(&'static str, &'static str)] {
        &[("name", "The domain name.")]
    }

    fn import_id(&self, identity: &Value) -> Option<String> {
        identity.get("name").as_str().map(str::to_string)
    }

    fn import(&self, id: &str, diags: &mut Diagnostics) -> Value {
        if let Err(msg) = naming::check_domain(id) {
            diags.error("Invalid import ID", format!("A domain is imported by its name. {msg}"));
            return Value::Null;
        }
        let m = DomainModel { name: id.to_string(), id: Some(id.to_string()), ..Default::default() };
        self.state(&m, diags)
    }
}

/// Makes the domain's Cassandra role and HDFS home exist where those backends are configured
/// and state lacks them; `rolled` (the new `password_wo`, None when removed) when the password
/// version changed. What fails is reported and left out of state, so the next plan retries it.
async fn converge_stores(ctx: &Context, m: &mut DomainModel, rolled: Option<Option<String>>, diags: &mut Diagnostics) {
    let cfg = &ctx.provider.config;
    if cfg.cassandra.configured() {
        let password = m.password_wo.clone().map(Secret);
        let done = async {
            let db = ctx.provider.database().await?;
            if m.cassandra_role.is_none() {
                if cql_part::role_exists(db.as_ref(), &m.name).await? {
                    // Ours from an earlier apply that state lost (or a drifted-away password):
                    // set it as configured.
                    cql_part::set_password(db.as_ref(), &m.name, password.as_ref()).await
                } else {
                    cql_part::create_role(db.as_ref(), &m.name, password.as_ref()).await
                }
            } else if let Some(new) = &rolled {
                cql_part::set_password(db.as_ref(), &m.name, new.clone().map(Secret).as_ref()).await
            } else {
                Ok(())
            }
        };
        match done.await {
            Ok(()) => m.cassandra_role = Some(m.name.clone()),
            Err(d) => {
                diags.0.push(d);
                if rolled.is_some() {
                    m.password_wo_version = None;
                }
            }
        }
    }
    if cfg.hdfs.configured() && m.hdfs_home.is_none() {
        let made = async {
            let hdfs = ctx.provider.hdfs().await?;
            hdfs_part::ensure_home(hdfs.as_ref(), &cfg.hdfs, &m.name).await
        };
        match made.await {
            Ok(()) => m.hdfs_home = Some(cfg.hdfs.domain_dir(&m.name)),
            Err(d) => diags.0.push(d),
        }
    }
}

/// The domain's Cassandra role and HDFS home as the backends have them (None where the backend
/// is not configured, the thing is missing, or the home is not owned 0750 by the domain).
async fn read_stores(
    ctx: &Context,
    name: &str,
) -> Result<(Option<String>, Option<String>), tfplugin::framework::Diagnostic> {
    let cfg = &ctx.provider.config;
    let mut role = None;
    if cfg.cassandra.configured() {
        let db = ctx.provider.database().await?;
        role = cql_part::role_exists(db.as_ref(), name).await?.then(|| name.to_string());
    }
    let mut home = None;
    if cfg.hdfs.configured() {
        let hdfs = ctx.provider.hdfs().await?;
        let dir = cfg.hdfs.domain_dir(name);
        let shown = hdfs_part::permission(hdfs.as_ref(), &dir).await?;
        home = (shown.as_deref() == Some(hdfs_part::wanted_permission(name).as_str())).then_some(dir);
    }
    Ok((role, home))
}

/// Deletes the domain's HDFS home (refused while product directories remain) and its
/// Cassandra role, where state has them.
async fn delete_stores(ctx: &Context, m: &DomainModel) -> Result<(), tfplugin::framework::Diagnostic> {
    let cfg = &ctx.provider.config;
    if m.hdfs_home.is_some() {
        let hdfs = ctx.provider.hdfs().await?;
        hdfs_part::delete_home(hdfs.as_ref(), &cfg.hdfs.domain_dir(&m.name)).await?;
    }
    if m.cassandra_role.is_some() {
        let db = ctx.provider.database().await?;
        cql_part::drop_role(db.as_ref(), &m.name).await?;
    }
    Ok(())
}

/// Kafka principals look like `User:<name>`.
fn check_principal(p: &str) -> Result<(), String> {
    match p.split_once(':') {
        Some((kind, name))
            if !kind.is_empty()
                && !name.is_empty()
                && kind.chars().all(|c| c.is_ascii_alphanumeric())
                && name.chars().all(|c| c.is_ascii_graphic() && !"*?\"'\\".contains(c)) =>
        {
            Ok(())
        }
        _ => Err(format!("{p:?} is not a Kafka principal. Use \"<Type>:<name>\", for example \"User:sales\"; wildcards are not allowed.")),
    }
}

/// Sets the domain's SCRAM credential when `password_wo` is given; false when that failed
/// (reported).
async fn set_credential(ctx: &Context, m: &DomainModel, diags: &mut Diagnostics) -> bool {
    let Some(password) = &m.password_wo else { return true };
    let mechanism = ScramMechanism::for_setting(ctx.provider.config.kafka.sasl_mechanism.as_deref());
    let set = async {
        let streaming = ctx.provider.streaming().await?;
        let secret = Secret(password.clone());
        streaming
            .set_scram_credential(&m.name, mechanism, &secret)
            .await
            .map_err(|e| e.diagnostic(&format!("the {mechanism} credential of Kafka user {:?} (password_wo)", m.name)))
    };
    diags.ok(set.await).is_some()
}

/// Makes user `user`'s client quota `quota` (None removes it); false when that failed
/// (reported at `kafka_quota`).
async fn set_quota(ctx: &Context, user: &str, quota: Option<&QuotaModel>, diags: &mut Diagnostics) -> bool {
    let set = async {
        let streaming = ctx.provider.streaming().await?;
        let quota = quota.map(|q| Quota::from(*q));
        streaming.set_user_quota(user, quota.as_ref()).await.map_err(|e| {
            e.attr_diagnostic(AttrPath::attr("kafka_quota"), &format!("the Kafka client quota of user {user:?}"))
        })
    };
    diags.ok(set.await).is_some()
}

/// Deletes the domain's SCRAM credential when state says it has one (`password_wo_version`);
/// false when that failed (reported).
async fn delete_credential(ctx: &Context, m: &DomainModel, diags: &mut Diagnostics) -> bool {
    if m.password_wo_version.is_none() {
        return true;
    }
    let mechanism = ScramMechanism::for_setting(ctx.provider.config.kafka.sasl_mechanism.as_deref());
    let deleted = async {
        let streaming = ctx.provider.streaming().await?;
        streaming
            .delete_scram_credential(&m.name, mechanism)
            .await
            .map_err(|e| e.diagnostic(&format!("the {mechanism} credential of Kafka user {:?}", m.name)))
    };
    diags.ok(deleted.await).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_must_name_one_user() {
        assert!(check_principal("User:sales").is_ok());
        assert!(check_principal("User:*").is_err());
        assert!(check_principal("sales").is_err());
        assert!(check_principal("User:").is_err());
        assert!(check_principal("User:sаles").is_err(), "a Cyrillic look-alike");
        assert!(check_principal("User:a\"b").is_err());
        assert!(check_principal("User:CN=svc,OU=data").is_ok());
    }

    fn quota(p: Value, c: Value, r: Value) -> Value {
        Value::object([("producer_byte_rate", p), ("consumer_byte_rate", c), ("request_percentage", r)])
    }

    fn quota_errors(block: &Value) -> Vec<(String, String)> {
        let mut diags = Diagnostics::new();
        validate_quota(block, &mut diags);
        diags.0.iter().map(|d| (format!("{:?}", d.path), d.detail.clone())).collect()
    }

    #[test]
    fn quota_limits_must_be_positive_and_byte_rates_whole() {
        let ok = quota(Value::Number(1048576.0), Value::Null, Value::Number(12.5));
        assert!(quota_errors(&ok).is_empty());
        assert!(quota_errors(&Value::Null).is_empty(), "no block, no quota");
        assert!(quota_errors(&quota(Value::Unknown, Value::Null, Value::Null)).is_empty(), "unknown until apply");

        let negative = quota_errors(&quota(Value::Number(-5.0), Value::Null, Value::Null));
        assert_eq!(negative.len(), 1, "{negative:?}");
        let want_path = format!("{:?}", Some(AttrPath::attr("kafka_quota").then("producer_byte_rate")));
        assert_eq!(negative[0].0, want_path);
        assert!(negative[0].1.contains("greater than 0") && negative[0].1.contains("Set a positive number"));

        let zero = quota_errors(&quota(Value::Null, Value::Null, Value::Number(0.0)));
        assert!(zero.iter().any(|(p, _)| p.contains("request_percentage")), "{zero:?}");
        let fraction = quota_errors(&quota(Value::Null, Value::Number(10.5), Value::Null));
        assert!(fraction.iter().any(|(p, d)| p.contains("consumer_byte_rate") && d.contains("whole")), "{fraction:?}");
        assert!(quota_errors(&quota(Value::Null, Value::Null, Value::Number(250.5))).is_empty());
    }

    #[test]
    fn an_empty_quota_block_says_what_to_set() {
        let empty = quota_errors(&quota(Value::Null, Value::Null, Value::Null));
        assert_eq!(empty.len(), 1);
        assert!(empty[0].1.contains("Set at least one of producer_byte_rate"), "{empty:?}");
    }

    #[test]
    fn quota_blocks_round_trip_through_state() {
        let mut diags = Diagnostics::new();
        let m = DomainModel {
            name: "sales".into(),
            kafka_quota: Some(QuotaModel { producer_byte_rate: Some(1024.0), ..Default::default() }),
            ..Default::default()
        };
        let v = Domain.state(&m, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(v.get("kafka_quota").get("producer_byte_rate"), &Value::Number(1024.0));
        assert!(v.get("kafka_quota").get("request_percentage").is_null());
        let back = Domain.model(&v, &mut diags);
        assert_eq!(back.and_then(|b| b.kafka_quota), m.kafka_quota);
        let none = Domain.state(&DomainModel { name: "sales".into(), ..Default::default() }, &mut diags);
        assert!(none.get("kafka_quota").is_null());
    }

    #[test]
    fn entry_defaults_the_principal() {
        let m = DomainModel { name: "sales".into(), owner: "team".into(), ..Default::default() };
        assert_eq!(entry(&m, None).kafka_principal, "User:sales");
    }
}
