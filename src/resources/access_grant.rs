//! `datamesh_access_grant`: one domain's access to another domain's data product. Its own
//! inline policy on the consumer's role, its own Kafka ACL bindings, and its catalog record:
//! grants never edit a shared document.

use crate::backends::Diagnose;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{self, known_str, ok_or_report};
use super::data_product::ProductEntry;
use super::domain::DomainEntry;
use super::parts::{cassandra as cql_part, hdfs as hdfs_part};
use crate::acl::{self, AclBinding};
use crate::backends::catalog::{data_product_key, domain_key, grant_key};
use crate::governance::{self, GrantFacts};
use crate::provider::{Context, ProviderData};
use crate::{naming, policy};
use tfplugin::framework::resource::PlanRequest;
use tfplugin::framework::typed::{model_or_report, state_or_report};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostic, Diagnostics, Resource, Schema, Type, Value};

/// The `datamesh_access_grant` resource.
pub struct AccessGrant;

const READ: &str = "read";
const READ_WRITE: &str = "read_write";

/// The resource's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct GrantModel {
    consumer_domain: String,
    data_product: String,
    access: Option<String>,
    purpose: String,
    expires_at: Option<String>,
    id: Option<String>,
    policy_name: Option<String>,
    kafka_acls: Option<Vec<String>>,
    policy: Option<String>,
    #[serde(default)]
    hdfs_acl: Option<Vec<String>>,
    #[serde(default)]
    cassandra_permissions: Option<Vec<String>>,
}

/// The grant's catalog record, kept for audit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GrantEntry {
    /// `<consumer_domain>:<domain>/<product>`.
    pub id: String,
    /// Who gets access.
    pub consumer_domain: String,
    /// To which product.
    pub data_product: String,
    /// `read` or `read_write`.
    pub access: String,
    /// Why.
    pub purpose: String,
    /// Until when.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// The inline policy on the consumer's role.
    pub policy_name: String,
    /// The Kafka ACL bindings the grant owns.
    #[serde(default)]
    pub kafka_acls: Vec<String>,
    /// Who granted it (the provider's caller ARN).
    #[serde(default)]
    pub granted_by: Option<String>,
    /// When.
    #[serde(default)]
    pub granted_at: Option<String>,
}

/// The names a grant is made of.
struct Parts {
    consumer: String,
    domain: String,
    product: String,
}

impl GrantModel {
    fn parts(&self) -> Option<Parts> {
        let (domain, product) = naming::parse_data_product_id(&self.data_product).ok()?;
        Some(Parts { consumer: self.consumer_domain.clone(), domain, product })
    }
    /// Whether `expires_at` has passed: Kafka has no expiring ACLs, so the first plan after it
    /// removes the grant's bindings (IAM's own condition has ended S3 access already).
    fn expired(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.expires_at
            .as_deref()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .is_some_and(|at| at <= now)
    }

    fn read_write(&self) -> bool {
        self.access.as_deref() == Some(READ_WRITE)
    }
}

/// `datamesh-grant-<domain>-<product>`.
pub fn policy_name(domain: &str, product: &str) -> String {
    format!("datamesh-grant-{domain}-{product}")
}

/// The grant's ID.
fn grant_id(consumer: &str, data_product: &str) -> String {
    format!("{consumer}:{data_product}")
}

/// IAM wants UTC timestamps in conditions.
fn iam_time(expires_at: Option<&str>) -> Option<String> {
    expires_at.map(|at| {
        governance::parse_expiry(at)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|_| at.to_string())
    })
}

fn desired_policy(prefix: &str, m: &GrantModel, p: &Parts) -> String {
    let bucket = naming::bucket_name(prefix, &p.domain, &p.product);
    policy::grant_policy(&bucket, m.read_write(), iam_time(m.expires_at.as_deref()).as_deref())
}

impl AccessGrant {
    fn model(&self, v: &Value, diags: &mut Diagnostics) -> Option<GrantModel> {
        model_or_report(v, diags)
    }

    fn state(&self, m: &GrantModel, diags: &mut Diagnostics) -> Value {
        // The state's type, built once: every create, read and update ends here.
        static TYPE: std::sync::OnceLock<Type> = std::sync::OnceLock::new();
        state_or_report(m, TYPE.get_or_init(|| self.schema().ty()), diags)
    }

    /// The consumer's Kafka principal, from its catalog entry (or the default).
    async fn consumer_principal(ctx: &Context, consumer: &str) -> Result<String, Diagnostic> {
        let catalog = ctx.provider.catalog().await?;
        match catalog.get::<DomainEntry>(&domain_key(consumer)).await {
            Ok(Some(d)) => Ok(d.kafka_principal),
            Ok(None) => Ok(naming::default_principal(consumer)),
            Err(e) => Err(e.diagnostic(&format!("catalog entry of domain {consumer:?}"))),
        }
    }

    async fn bindings(ctx: &Context, m: &GrantModel, p: &Parts) -> Result<Vec<AclBinding>, Diagnostic> {
        let principal = Self::consumer_principal(ctx, &p.consumer).await?;
        Ok(acl::grant_bindings(&p.consumer, &principal, &p.domain, &p.product, m.read_write()))
    }

    /// The bindings the grant should hold now: none once it has expired.
    async fn wanted(ctx: &Context, m: &GrantModel, p: &Parts) -> Result<Vec<AclBinding>, Diagnostic> {
        if m.expired(chrono::Utc::now()) {
            return Ok(Vec::new());
        }
        Self::bindings(ctx, m, p).await
    }

    /// Of the grant's bindings, those it may delete: not the ones the consumer domain itself
    /// holds (`READ` on its own groups is the same binding; deleting it would take the group
    /// away from the domain and from its other grants).
    async fn deletable(ctx: &Context, m: &GrantModel, p: &Parts) -> Result<Vec<AclBinding>, Diagnostic> {
        let principal = Self::consumer_principal(ctx, &p.consumer).await?;
        let domains_own = acl::domain_bindings(&p.consumer, &principal);
        let owned = acl::grant_bindings(&p.consumer, &principal, &p.domain, &p.product, m.read_write());
        Ok(owned.into_iter().filter(|b| !domains_own.contains(b)).collect())
    }
}

/// Where the product's HDFS and Cassandra ports are (from its catalog entry), for the backends
/// the provider has.
#[derive(Debug, Clone, Default)]
struct StorePorts {
    /// The product directory and its domain's directory.
    hdfs: Option<(String, String)>,
    /// The keyspace.
    keyspace: Option<String>,
}

impl StorePorts {
    fn of(ctx: &Context, p: &Parts, product: Option<&ProductEntry>) -> Self {
        let cfg = &ctx.provider.config;
        let Some(e) = product else { return Self::default() };
        StorePorts {
            hdfs: (e.port("hdfs").is_some() && cfg.hdfs.configured())
                .then(|| (cfg.hdfs.product_dir(&p.domain, &p.product), cfg.hdfs.domain_dir(&p.domain))),
            keyspace: (e.port("cassandra").is_some() && cfg.cassandra.configured())
                .then(|| naming::keyspace_name(&p.domain, &p.product)),
        }
    }

    /// What the grant should hold on them now: (hdfs_acl, cassandra_permissions).
    fn wanted(&self, m: &GrantModel, p: &Parts) -> (Vec<String>, Vec<String>) {
        if m.expired(chrono::Utc::now()) {
            return (Vec::new(), Vec::new());
        }
        let hdfs = self.hdfs.as_ref().map(|(dir, _)| hdfs_part::grant_shown(dir, &p.consumer, m.read_write()));
        let cql = self.keyspace.as_ref().map(|ks| cql_part::grant_shown(ks, m.read_write()));
        (hdfs.unwrap_or_default(), cql.unwrap_or_default())
    }
}

/// The product's catalog entry (None when it is not there).
async fn product_entry(ctx: &Context, p: &Parts) -> Result<Option<ProductEntry>, Diagnostic> {
    let catalog = ctx.provider.catalog().await?;
    catalog.get::<ProductEntry>(&data_product_key(&p.domain, &p.product)).await.map_err(|e| e.diagnostic("the catalog"))
}

/// Makes the grant's HDFS entries and Cassandra permissions what `wanted` says: added (or
/// changed in level) entry by entry, or, when `wanted` is empty, removed. Records in `m` what
/// the backends hold afterwards, as far as it got.
async fn converge_stores(
    ctx: &Context,
    m: &mut GrantModel,
    p: &Parts,
    ports: &StorePorts,
    wanted: &(Vec<String>, Vec<String>),
) -> Result<(), Diagnostic> {
    if let Some((dir, domain_dir)) = &ports.hdfs {
        let have = m.hdfs_acl.clone().unwrap_or_default();
        if !same_acls(&have, &wanted.0) {
            let hdfs = ctx.provider.hdfs().await?;
            if wanted.0.is_empty() {
                hdfs_part::revoke(hdfs.as_ref(), dir, &p.consumer).await?;
                m.hdfs_acl = Some(Vec::new());
                release_traversal(ctx, hdfs.as_ref(), p, domain_dir, true).await?;
            } else {
                m.hdfs_acl = Some(hdfs_part::grant(hdfs.as_ref(), domain_dir, dir, &p.consumer, m.read_write()).await?);
            }
        }
    } else {
        // The product's HDFS port went (its directory took the entries with it): the
        // pass-through entry on the domain's directory is this grant's to let go of too.
        if m.hdfs_acl.as_ref().is_some_and(|a| !a.is_empty()) && ctx.provider.config.hdfs.configured() {
            let hdfs = ctx.provider.hdfs().await?;
            release_traversal(ctx, hdfs.as_ref(), p, &ctx.provider.config.hdfs.domain_dir(&p.domain), true).await?;
        }
        m.hdfs_acl = Some(Vec::new());
    }
    if let Some(keyspace) = &ports.keyspace {
        let have = m.cassandra_permissions.clone().unwrap_or_default();
        if !same_acls(&have, &wanted.1) {
            let db = ctx.provider.database().await?;
            if wanted.1.is_empty() {
                cql_part::revoke(db.as_ref(), keyspace, &p.consumer).await?;
                m.cassandra_permissions = Some(Vec::new());
            } else {
                match cql_part::grant(db.as_ref(), keyspace, &p.consumer, m.read_write(), &have).await {
                    Ok(held) => m.cassandra_permissions = Some(held),
                    Err((held, d)) => {
                        m.cassandra_permissions = Some(held);
                        return Err(d);
                    }
                }
            }
        }
    } else {
        m.cassandra_permissions = Some(Vec::new());
    }
    Ok(())
}

/// Removes the consumer's pass-through entry on the domain's directory unless another of its
/// grants on that domain's products remains (`self_recorded`: this grant's own record is still
/// in the catalog and does not count). Looks again afterwards: a grant made meanwhile writes
/// its record before its entries, so either it adds the entry after this removal, or this
/// second look sees it and puts the entry back.
async fn release_traversal(
    ctx: &Context,
    hdfs: &dyn crate::backends::Hdfs,
    p: &Parts,
    domain_dir: &str,
    self_recorded: bool,
) -> Result<(), Diagnostic> {
    // Most grants never made one (their product has no HDFS port): one look at the domain's
    // directory saves listing the catalog.
    let entry = crate::hdfs_acl::traversal_entry(&p.consumer);
    let present = match hdfs.acl_entries(domain_dir).await {
        Ok(entries) => entries.unwrap_or_default().contains(&entry),
        Err(e) => return Err(e.diagnostic(&format!("the ACL of HDFS directory {domain_dir:?}"))),
    };
    if !present {
        return Ok(());
    }
    let catalog = ctx.provider.catalog().await?;
    let own = grant_key(&p.consumer, &p.domain, &p.product);
    let prefix = format!("grants/{}/{}/", p.consumer, p.domain);
    let others = || async {
        let keys = catalog.list(&prefix).await.map_err(|e| e.diagnostic("the catalog's grant records"))?;
        Ok::<_, Diagnostic>(keys.iter().any(|k| !(self_recorded && *k == own) && k.ends_with(".json")))
    };
    if others().await? {
        return Ok(());
    }
    hdfs_part::remove_traversal(hdfs, domain_dir, &p.consumer).await?;
    if others().await? {
        hdfs_part::add_traversal(hdfs, domain_dir, &p.consumer).await?;
    }
    Ok(())
}

/// The grant's HDFS entries and Cassandra permissions as the backends hold them.
async fn read_stores(ctx: &Context, m: &mut GrantModel, p: &Parts, ports: &StorePorts) -> Result<(), Diagnostic> {
    m.hdfs_acl = Some(Vec::new());
    m.cassandra_permissions = Some(Vec::new());
    if let Some((dir, _)) = &ports.hdfs {
        let hdfs = ctx.provider.hdfs().await?;
        m.hdfs_acl = Some(hdfs_part::granted(hdfs.as_ref(), dir, &p.consumer).await?);
    }
    if let Some(keyspace) = &ports.keyspace {
        let db = ctx.provider.database().await?;
        m.cassandra_permissions = Some(cql_part::granted(db.as_ref(), keyspace, &p.consumer).await?);
    }
    Ok(())
}

fn shown(bindings: &[AclBinding]) -> Vec<String> {
    bindings.iter().map(ToString::to_string).collect()
}

/// Two `kafka_acls` lists hold the same bindings (in any order).
fn same_acls(a: &[String], b: &[String]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort();
    b.sort();
    a == b
}

#[async_trait]
impl Resource<ProviderData> for AccessGrant {
    fn type_name(&self) -> &'static str {
        "datamesh_access_grant"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "Access for one domain to another domain's data product: an inline IAM policy on the consumer's role, Kafka ACLs for the consumer's principal, and an audit record in the catalog. Each grant owns its own policy and bindings, so grants never rewrite a shared document.",
            vec![
                Attribute::required("consumer_domain", Type::String, "The domain that gets access. Changing it replaces the grant.").replace(),
                Attribute::required("data_product", Type::String, "The data product's ID, `<domain>/<product>`; a domain may not be granted its own product. Changing it replaces the grant.").replace(),
                Attribute::optional("access", Type::String, "`read` (default) or `read_write`. Changes in place.").default(Value::string(READ)),
                Attribute::required("purpose", Type::String, "Why the access is needed; kept in the catalog for audit."),
                Attribute::optional("expires_at", Type::String, "RFC 3339 time when access ends, enforced by IAM itself (`DateLessThan aws:CurrentTime`). Must be in the future; required on products of the most sensitive classification when governance says so."),
                Attribute::computed("id", Type::String, "`<consumer_domain>:<domain>/<product>`."),
                Attribute::computed("policy_name", Type::String, "The inline policy on the consumer's role, `datamesh-grant-<domain>-<product>`."),
                Attribute::computed("kafka_acls", Type::list(Type::String), "The Kafka ACL bindings this grant owns, human readable; empty with `kafka { manage_acls = false }`."),
                Attribute::computed("policy", Type::String, "The grant's policy document; the provider keeps it as shown."),
                Attribute::computed("hdfs_acl", Type::list(Type::String), "The HDFS ACL entries this grant owns on the product's directory and everything under it (access and `default:`), as `<path> <entry>`; empty when the product has no HDFS port."),
                Attribute::computed("cassandra_permissions", Type::list(Type::String), "The Cassandra permissions this grant's consumer role holds on the product's keyspace; empty when the product has no Cassandra port."),
            ],
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        common::validate_name(config, "consumer_domain", naming::check_domain, diags);
        if let Some(Some(id)) = known_str(config, "data_product") {
            if let Err(msg) = naming::parse_data_product_id(id) {
                diags.attr_error(AttrPath::attr("data_product"), "Invalid data_product", msg);
            }
        }
        if let Some(Some(access)) = known_str(config, "access") {
            if access != READ && access != READ_WRITE {
                diags.attr_error(
                    AttrPath::attr("access"),
                    "Invalid access",
                    format!("{access:?} is not an access level. Use \"read\" or \"read_write\"."),
                );
            }
        }
        if let Some(Some(purpose)) = known_str(config, "purpose") {
            if purpose.trim().is_empty() {
                diags.attr_error(
                    AttrPath::attr("purpose"),
                    "Empty purpose",
                    "Say why the access is needed; it is kept for audit.",
                );
            }
        }
        common::validate_text(config, "purpose", 1024, diags);
        if let Some(Some(at)) = known_str(config, "expires_at") {
            if let Err(msg) = governance::parse_expiry(at) {
                diags.attr_error(AttrPath::attr("expires_at"), "Invalid expires_at", msg);
            }
        }
        // Whether the expiry is still ahead is a plan-time question (see modify_plan).
        let product_domain = known_str(config, "data_product")
            .flatten()
            .and_then(|id| naming::parse_data_product_id(id).ok())
            .map(|(d, _)| d);
        let facts = GrantFacts {
            consumer_domain: known_str(config, "consumer_domain").flatten(),
            product_domain: product_domain.as_deref(),
            ..Default::default()
        };
        governance::check_grant(&crate::provider::config::Governance::default(), &facts, chrono::Utc::now(), diags);
    }

    async fn modify_plan(&self, ctx: &Context, req: PlanRequest<'_>, planned: &mut Value, diags: &mut Diagnostics) {
        let cfg = &ctx.provider.config;
        let m = self.model(planned, &mut Diagnostics::new());
        let parts = m.as_ref().and_then(GrantModel::parts);
        let names_known = known_str(planned, "consumer_domain").flatten().is_some()
            && known_str(planned, "data_product").flatten().is_some();
        match (&m, &parts) {
            (Some(m), Some(p)) if names_known => {
                planned.set("id", Value::string(grant_id(&p.consumer, &m.data_product)));
                planned.set("policy_name", Value::string(policy_name(&p.domain, &p.product)));
                if planned.get("access").is_known() && planned.get("expires_at").is_known() {
                    planned.set("policy", Value::string(desired_policy(&cfg.name_prefix, m, p)));
                    common::keep_equivalent_json(req.prior, planned, "policy", policy::equivalent);
                } else {
                    planned.set("policy", Value::Unknown);
                }
            }
            _ => {
                for a in ["id", "policy_name", "policy"] {
                    planned.set(a, Value::Unknown);
                }
            }
        }
        let access_changed = req.prior.is_null() || req.prior.get("access") != planned.get("access");
        if !cfg.kafka.manage_acls {
            planned.set("kafka_acls", Value::List(Vec::new()));
        } else if access_changed {
            planned.set("kafka_acls", Value::Unknown);
        } else if let (Some(m), Some(p)) = (&m, &parts) {
            // Bindings deleted outside Terraform are planned back; an expired grant's go.
            if let Ok(wanted) = Self::wanted(ctx, m, p).await {
                let wanted = shown(&wanted);
                let prior: Vec<String> = req
                    .prior
                    .get("kafka_acls")
                    .elements()
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect();
                if !same_acls(&prior, &wanted) {
                    if wanted.is_empty() && m.expired(chrono::Utc::now()) {
                        diags.warning(
                            "Grant expired: its Kafka ACLs are removed",
                            format!(
                                "The grant of {} to {} expired at {}. IAM ended S3 access at that time by itself; Kafka ACLs \
                                 do not expire, so this apply deletes the grant's ACL bindings. Set a later expires_at to \
                                 renew it, or remove the grant.",
                                m.data_product,
                                p.consumer,
                                m.expires_at.as_deref().unwrap_or_default()
                            ),
                        );
                    }
                    planned.set("kafka_acls", Value::List(wanted.into_iter().map(Value::string).collect()));
                }
            }
        }

        // The product's catalog entry gives its ports and, for governance, its classification.
        let mut product = None;
        if let (Some(p), None) = (&parts, cfg.unknown_error("aws")) {
            product = product_entry(ctx, p).await.ok().flatten();
        }
        let classification = product.as_ref().map(|e| e.classification.clone());
        for attr in ["hdfs_acl", "cassandra_permissions"] {
            match (&m, &parts, &product) {
                (Some(m), Some(p), Some(e))
                    if planned.get("access").is_known() && planned.get("expires_at").is_known() =>
                {
                    let wanted = StorePorts::of(ctx, p, Some(e)).wanted(m, p);
                    let wanted = if attr == "hdfs_acl" { wanted.0 } else { wanted.1 };
                    let prior: Vec<String> =
                        req.prior.get(attr).elements().iter().filter_map(|v| v.as_str().map(String::from)).collect();
                    if req.prior.is_null() || !same_acls(&prior, &wanted) {
                        if wanted.is_empty() && !prior.is_empty() && m.expired(chrono::Utc::now()) {
                            let what = if attr == "hdfs_acl" { "HDFS ACL entries" } else { "Cassandra permissions" };
                            diags.warning(
                                format!("Grant expired: its {what} are removed"),
                                format!(
                                    "The grant of {} to {} expired at {}. HDFS and Cassandra have no expiring entries, so this apply removes the grant's {what}. Set a later expires_at to renew it, or remove the grant.",
                                    m.data_product,
                                    p.consumer,
                                    m.expires_at.as_deref().unwrap_or_default()
                                ),
                            );
                        }
                        planned.set(attr, Value::List(wanted.into_iter().map(Value::string).collect()));
                    } else {
                        planned.set(attr, req.prior.get(attr).clone());
                    }
                }
                _ => planned.set(attr, Value::Unknown),
            }
        }
        // An unchanged expiry was checked when it was set; once passed, IAM has ended access and
        // later plans must not fail for it.
        let expiry_unchanged = !req.prior.is_null() && req.prior.get("expires_at") == planned.get("expires_at");
        let facts = GrantFacts {
            consumer_domain: known_str(planned, "consumer_domain").flatten(),
            product_domain: parts.as_ref().map(|p| p.domain.as_str()),
            expires_at: if expiry_unchanged { None } else { known_str(planned, "expires_at") },
            classification: classification.as_deref(),
        };
        let mut checked = Diagnostics::new();
        governance::check_grant(&cfg.governance, &facts, chrono::Utc::now(), &mut checked);
        common::governance_failures(req.prior, checked, diags);
    }

    async fn create(&self, ctx: &Context, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(planned, diags) else { return Value::Null };
        let cfg = &ctx.provider.config;
        let Some(p) = m.parts() else {
            diags.attr_error(AttrPath::attr("data_product"), "Invalid data_product", "Use \"<domain>/<product>\".");
            return Value::Null;
        };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return Value::Null };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        let role = naming::role_name(&cfg.name_prefix, &p.consumer);
        let name = policy_name(&p.domain, &p.product);

        // Check everything before making anything.
        match iam.get_role(&role).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                diags.attr_error(
                    AttrPath::attr("consumer_domain"),
                    "Consumer domain not found",
                    format!("Domain {:?} does not exist (no IAM role {role:?}). Create its datamesh_domain first, or reference it so Terraform creates it first. Nothing was created.", p.consumer),
                );
                return Value::Null;
            }
            Err(e) => {
                diags.0.push(e.diagnostic(&format!("IAM role {role:?}")));
                return Value::Null;
            }
        }
        let product = match catalog.get::<ProductEntry>(&data_product_key(&p.domain, &p.product)).await {
            Ok(Some(e)) => e,
            Ok(None) => {
                diags.attr_error(
                    AttrPath::attr("data_product"),
                    "Data product not found",
                    format!("Data product {:?} is not in the catalog. Create it first, or reference it (data_product = datamesh_data_product.<name>.id). Nothing was created.", m.data_product),
                );
                return Value::Null;
            }
            Err(e) => {
                diags.0.push(e.diagnostic("the catalog"));
                return Value::Null;
            }
        };
        let facts = GrantFacts {
            consumer_domain: Some(&p.consumer),
            product_domain: Some(&p.domain),
            expires_at: Some(m.expires_at.as_deref()),
            classification: Some(&product.classification),
        };
        governance::check_grant(&cfg.governance, &facts, chrono::Utc::now(), diags);
        if diags.has_errors() {
            return Value::Null;
        }
        match iam.get_role_policy(&role, &name).await {
            Ok(None) => {}
            Ok(Some(_)) => {
                diags.attr_error(
                    AttrPath::attr("consumer_domain"),
                    "Grant already exists",
                    format!("The role {role:?} already has the grant policy {name:?}. The provider never overwrites it: bring it under management with `terraform import` (ID \"{}\").", grant_id(&p.consumer, &m.data_product)),
                );
                return Value::Null;
            }
            Err(e) => {
                diags.0.push(e.diagnostic(&format!("IAM role {role:?}")));
                return Value::Null;
            }
        }
        let mut bindings = Vec::new();
        if cfg.kafka.manage_acls {
            let Some(streaming) = diags.ok(ctx.provider.streaming().await) else { return Value::Null };
            if let Err(e) = streaming.check_acl_support().await {
                diags.0.push(e.diagnostic("the grant's Kafka ACLs"));
                return Value::Null;
            }
            bindings = match Self::bindings(ctx, &m, &p).await {
                Ok(b) => b,
                Err(d) => {
                    diags.0.push(d);
                    return Value::Null;
                }
            };
        }

        let document = m.policy.clone().unwrap_or_else(|| desired_policy(&cfg.name_prefix, &m, &p));
        if ok_or_report(
            iam.put_role_policy(&role, &name, &document).await,
            &format!("grant policy on IAM role {role:?}"),
            diags,
        )
        .is_none()
        {
            return Value::Null;
        }
        // From here on the policy exists: whatever fails, state records the grant (tainted).
        m.id = Some(grant_id(&p.consumer, &m.data_product));
        m.policy_name = Some(name.clone());
        m.policy = Some(document);
        m.kafka_acls = Some(Vec::new());
        if !bindings.is_empty() {
            let created = match ctx.provider.streaming().await {
                Ok(s) => s
                    .create_acls(&bindings)
                    .await
                    .map_err(|e| (e.outcome_unknown(), e.diagnostic("the grant's Kafka ACLs"))),
                Err(d) => Err((false, d)),
            };
            match created {
                Ok(()) => m.kafka_acls = Some(shown(&bindings)),
                Err((unknown, d)) => {
                    // The broker may have made the bindings without its answer arriving: state
                    // (tainted) lists them, so nothing on the broker is unknown to it and a destroy
                    // deletes them; the next refresh reads what is really there.
                    if unknown {
                        m.kafka_acls = Some(shown(&bindings));
                    }
                    diags.0.push(d);
                    return self.state(&m, diags);
                }
            }
        }
        let caller = ctx.provider.caller().await.ok().map(|c| c.arn);
        let entry = GrantEntry {
            id: m.id.clone().unwrap_or_default(),
            consumer_domain: p.consumer.clone(),
            data_product: m.data_product.clone(),
            access: m.access.clone().unwrap_or_else(|| READ.into()),
            purpose: m.purpose.clone(),
            expires_at: m.expires_at.clone(),
            policy_name: name,
            kafka_acls: m.kafka_acls.clone().unwrap_or_default(),
            granted_by: caller,
            granted_at: Some(common::now_rfc3339()),
        };
        ok_or_report(
            catalog.put(&grant_key(&p.consumer, &p.domain, &p.product), &entry).await,
            "the grant's catalog record",
            diags,
        );
        // HDFS and Cassandra after the record (the HDFS pass-through entry is shared; see
        // release_traversal).
        let ports = StorePorts::of(ctx, &p, Some(&product));
        let wanted = ports.wanted(&m, &p);
        m.hdfs_acl = Some(Vec::new());
        m.cassandra_permissions = Some(Vec::new());
        if let Err(d) = converge_stores(ctx, &mut m, &p, &ports, &wanted).await {
            diags.0.push(d);
        }
        self.state(&m, diags)
    }

    async fn read(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(state, diags) else { return state.clone() };
        let cfg = &ctx.provider.config;
        let Some(p) = m.parts() else { return state.clone() };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return state.clone() };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        let role = naming::role_name(&cfg.name_prefix, &p.consumer);
        let name = policy_name(&p.domain, &p.product);
        let what = format!("grant policy on IAM role {role:?}");
        let Some(found) = ok_or_report(iam.get_role_policy(&role, &name).await, &what, diags) else {
            return state.clone();
        };
        let Some(document) = found else { return Value::Null };
        let record = match catalog.get::<GrantEntry>(&grant_key(&p.consumer, &p.domain, &p.product)).await {
            Ok(r) => r,
            Err(e) => {
                diags.0.push(e.diagnostic("the grant's catalog record"));
                return state.clone();
            }
        };
        let (read_write, expiry) = policy::grant_policy_facts(&document);
        match record {
            Some(r) => {
                m.access = Some(r.access);
                m.purpose = r.purpose;
                m.expires_at = r.expires_at;
            }
            None if m.access.is_none() => {
                m.access = Some(if read_write { READ_WRITE } else { READ }.into());
                m.expires_at = expiry;
            }
            None => {}
        }
        m.policy = match &m.policy {
            Some(known) if policy::equivalent(known, &document) => Some(known.clone()),
            _ => Some(document),
        };
        m.id = Some(grant_id(&p.consumer, &m.data_product));
        m.policy_name = Some(name);
        m.kafka_acls = Some(Vec::new());
        if cfg.kafka.manage_acls {
            // The grant's bindings as the broker has them; once expired, only those it would
            // delete (the consumer domain's own group binding stays, and is not the grant's).
            let owned = if m.expired(chrono::Utc::now()) {
                Self::deletable(ctx, &m, &p).await
            } else {
                Self::bindings(ctx, &m, &p).await
            };
            let found = match (ctx.provider.streaming().await, owned) {
                (Ok(s), Ok(wanted)) => {
                    s.describe_acls(&wanted).await.map_err(|e| e.diagnostic("the grant's Kafka ACLs"))
                }
                (Err(d), _) | (_, Err(d)) => Err(d),
            };
            match found {
                Ok(found) => m.kafka_acls = Some(shown(&found)),
                Err(d) => {
                    diags.0.push(d);
                    return state.clone();
                }
            }
        }
        let stores = async {
            let product = product_entry(ctx, &p).await?;
            read_stores(ctx, &mut m, &p, &StorePorts::of(ctx, &p, product.as_ref())).await
        };
        if let Err(d) = stores.await {
            diags.0.push(d);
            return state.clone();
        }
        self.state(&m, diags)
    }

    async fn update(&self, ctx: &Context, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value {
        let (Some(old), Some(mut m)) = (self.model(prior, diags), self.model(planned, diags)) else {
            return prior.clone();
        };
        let cfg = &ctx.provider.config;
        let Some(p) = m.parts() else { return prior.clone() };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return prior.clone() };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        let role = naming::role_name(&cfg.name_prefix, &p.consumer);
        let name = policy_name(&p.domain, &p.product);
        let document = m.policy.clone().unwrap_or_else(|| desired_policy(&cfg.name_prefix, &m, &p));
        if old.policy.as_deref().is_none_or(|d| !policy::equivalent(d, &document)) {
            let what = format!("grant policy on IAM role {role:?}");
            if ok_or_report(iam.put_role_policy(&role, &name, &document).await, &what, diags).is_none() {
                return prior.clone();
            }
        }
        m.policy = Some(document);
        let planned_acls = m.kafka_acls.take();
        m.kafka_acls = old.kafka_acls.clone().or_else(|| Some(Vec::new()));
        let acls_differ = match (&planned_acls, &old.kafka_acls) {
            (Some(planned), Some(old)) => !same_acls(planned, old),
            _ => true,
        };
        if cfg.kafka.manage_acls && (old.read_write() != m.read_write() || acls_differ) {
            let changed = async {
                let streaming = ctx.provider.streaming().await?;
                let wanted = Self::wanted(ctx, &m, &p).await?;
                let stale: Vec<AclBinding> =
                    Self::deletable(ctx, &old, &p).await?.into_iter().filter(|b| !wanted.contains(b)).collect();
                streaming.create_acls(&wanted).await.map_err(|e| e.diagnostic("the grant's Kafka ACLs"))?;
                streaming.delete_acls(&stale).await.map_err(|e| e.diagnostic("the grant's Kafka ACLs"))?;
                Ok::<_, Diagnostic>(shown(&wanted))
            };
            match changed.await {
                Ok(acls) => m.kafka_acls = Some(acls),
                Err(d) => {
                    diags.0.push(d);
                    return self.state(&GrantModel { policy: m.policy.clone(), ..old }, diags);
                }
            }
        }
        let stores = async {
            let product = product_entry(ctx, &p).await?;
            let ports = StorePorts::of(ctx, &p, product.as_ref());
            let wanted = ports.wanted(&m, &p);
            m.hdfs_acl = old.hdfs_acl.clone();
            m.cassandra_permissions = old.cassandra_permissions.clone();
            // A level change rewrites HDFS entries even where the shown list would match. The
            // Cassandra permissions state records are the baseline of the change: a change cut
            // short then still records what the role holds (cql_part::held_after).
            if old.read_write() != m.read_write() {
                m.hdfs_acl = Some(Vec::new());
            }
            converge_stores(ctx, &mut m, &p, &ports, &wanted).await
        };
        if let Err(d) = stores.await {
            diags.0.push(d);
            return self.state(&m, diags);
        }
        let key = grant_key(&p.consumer, &p.domain, &p.product);
        let previous = catalog.get::<GrantEntry>(&key).await.ok().flatten();
        let entry = GrantEntry {
            id: grant_id(&p.consumer, &m.data_product),
            consumer_domain: p.consumer.clone(),
            data_product: m.data_product.clone(),
            access: m.access.clone().unwrap_or_else(|| READ.into()),
            purpose: m.purpose.clone(),
            expires_at: m.expires_at.clone(),
            policy_name: name,
            kafka_acls: m.kafka_acls.clone().unwrap_or_default(),
            granted_by: previous.as_ref().and_then(|e| e.granted_by.clone()),
            granted_at: previous.and_then(|e| e.granted_at).or_else(|| Some(common::now_rfc3339())),
        };
        ok_or_report(catalog.put(&key, &entry).await, "the grant's catalog record", diags);
        self.state(&m, diags)
    }

    async fn delete(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) {
        let Some(m) = self.model(state, diags) else { return };
        let cfg = &ctx.provider.config;
        let Some(p) = m.parts() else { return };
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return };
        let (iam, catalog) = (&aws.iam, &aws.catalog);
        // The entries and permissions state says the grant holds (whatever the product's ports
        // are now: a port removed since dropped them with it).
        let cql_held = m.cassandra_permissions.as_ref().is_some_and(|v| !v.is_empty());
        let hdfs_held = m.hdfs_acl.as_ref().is_some_and(|v| !v.is_empty());
        let revoked = async {
            if cql_held {
                let db = ctx.provider.database().await?;
                cql_part::revoke(db.as_ref(), &naming::keyspace_name(&p.domain, &p.product), &p.consumer).await?;
            }
            if hdfs_held {
                let hdfs = ctx.provider.hdfs().await?;
                hdfs_part::revoke(hdfs.as_ref(), &cfg.hdfs.product_dir(&p.domain, &p.product), &p.consumer).await?;
            }
            Ok::<_, Diagnostic>(())
        };
        if let Err(d) = revoked.await {
            diags.0.push(d);
            return;
        }
        if cfg.kafka.manage_acls && m.kafka_acls.as_ref().is_some_and(|a| !a.is_empty()) {
            let deleted = async {
                let streaming = ctx.provider.streaming().await?;
                let owned = Self::deletable(ctx, &m, &p).await?;
                streaming.delete_acls(&owned).await.map_err(|e| e.diagnostic("the grant's Kafka ACLs"))
            };
            if let Err(d) = deleted.await {
                diags.0.push(d);
                return;
            }
        }
        let role = naming::role_name(&cfg.name_prefix, &p.consumer);
        let what = format!("grant policy on IAM role {role:?}");
        if ok_or_report(iam.delete_role_policy(&role, &policy_name(&p.domain, &p.product)).await, &what, diags)
            .is_none()
        {
            return;
        }
        if ok_or_report(
            catalog.delete(&grant_key(&p.consumer, &p.domain, &p.product)).await,
            "the grant's catalog record",
            diags,
        )
        .is_none()
        {
            return;
        }
        // Whatever state says of the entries (a port removed since took them along), the
        // pass-through entry may remain: it goes with the consumer's last grant on the domain.
        if cfg.hdfs.configured() {
            let released = async {
                let hdfs = ctx.provider.hdfs().await?;
                release_traversal(ctx, hdfs.as_ref(), &p, &cfg.hdfs.domain_dir(&p.domain), false).await
            };
            if let Err(d) = released.await {
                diags.0.push(d);
            }
        }
    }

    fn identity(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("consumer_domain", "The domain that has access."),
            ("data_product", "The data product, `<domain>/<product>`."),
        ]
    }

    fn import_id(&self, identity: &Value) -> Option<String> {
        Some(grant_id(identity.get("consumer_domain").as_str()?, identity.get("data_product").as_str()?))
    }

    fn import(&self, id: &str, diags: &mut Diagnostics) -> Value {
        let parsed = id.split_once(':').and_then(|(consumer, product)| {
            naming::check_domain(consumer).ok()?;
            naming::parse_data_product_id(product).ok()?;
            Some((consumer.to_string(), product.to_string()))
        });
        match parsed {
            Some((consumer_domain, data_product)) => {
                let m = GrantModel { id: Some(id.to_string()), consumer_domain, data_product, ..Default::default() };
                self.state(&m, diags)
            }
            None => {
                diags.error("Invalid import ID", format!("{id:?} is not a grant ID. A grant is imported by \"<consumer_domain>:<domain>/<product>\", for example \"marketing:sales/orders\"."));
                Value::Null
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_design() {
        assert_eq!(policy_name("sales", "orders"), "datamesh-grant-sales-orders");
        assert_eq!(grant_id("mkt", "sales/orders"), "mkt:sales/orders");
    }

    #[test]
    fn expiry_is_written_in_utc_for_iam() {
        assert_eq!(iam_time(Some("2030-01-01T02:00:00+02:00")).as_deref(), Some("2030-01-01T00:00:00Z"));
    }

    #[test]
    fn import_ids_are_checked() {
        let mut d = Diagnostics::new();
        let v = AccessGrant.import("mkt:sales/orders", &mut d);
        assert!(d.is_empty());
        assert_eq!(v.get("consumer_domain").as_str(), Some("mkt"));
        let mut d = Diagnostics::new();
        AccessGrant.import("sales/orders", &mut d);
        assert!(d.has_errors());
    }
}
