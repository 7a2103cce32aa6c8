//! `datamesh_data_product`: a domain's data product. Its ports: a bucket (versioning, SSE-S3,
//! lifecycle expiration and cost tiers, tags) unless `s3 { enabled = false }`, an HDFS
//! directory with `hdfs {}`, a Cassandra keyspace with `cassandra {}`; the owner policy on the
//! domain's role, and the catalog descriptor listing the ports.

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{self, known_map, known_str, map_value, ok_or_report, tags_all};
use super::domain::DomainEntry;
use super::parts::cassandra::{self as cql_part, CassandraPort};
use super::parts::hdfs::{self as hdfs_part, HdfsPort};
use crate::backends::catalog::{data_product_key, domain_key};
use crate::backends::storage::Lifecycle;
use crate::backends::Storage;
use crate::governance::{self, ProductFacts};
use crate::provider::config::ProviderConfig;
use crate::provider::{Context, ProviderData};
use crate::provider::{CASSANDRA_MISSING, HDFS_MISSING};
use crate::{naming, policy};
use tfplugin::framework::resource::PlanRequest;
use tfplugin::framework::typed::{model_or_report, state_or_report};
use tfplugin::framework::{
    AttrPath, Attribute, Block, Diagnostic, Diagnostics, Nesting, Resource, Schema, Type, Value,
};

/// The `datamesh_data_product` resource.
pub struct DataProduct;

/// The only default encryption this provider sets: SSE-S3.
const SSE_ALGORITHM: &str = "AES256";

/// The resource's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ProductModel {
    domain: String,
    name: String,
    description: Option<String>,
    owner: Option<String>,
    classification: Option<String>,
    contains_pii: Option<bool>,
    retention_days: Option<i64>,
    versioning: Option<bool>,
    schema: Option<String>,
    tags: Option<BTreeMap<String, String>>,
    force_destroy: Option<bool>,
    id: Option<String>,
    bucket: Option<String>,
    bucket_arn: Option<String>,
    s3_uri: Option<String>,
    manifest_key: Option<String>,
    created_at: Option<String>,
    tags_all: Option<BTreeMap<String, String>>,
    encryption: Option<String>,
    owner_policy: Option<String>,
    /// The `s3 {}` block; None: an S3 port with no cost tiers.
    #[serde(default)]
    s3: Option<S3Port>,
    /// The `hdfs {}` block; None: no HDFS port.
    #[serde(default)]
    hdfs: Option<HdfsPort>,
    /// The `cassandra {}` block; None: no Cassandra port.
    #[serde(default)]
    cassandra: Option<CassandraPort>,
    hdfs_path: Option<String>,
    hdfs_uri: Option<String>,
    hdfs_permission: Option<String>,
    cassandra_keyspace: Option<String>,
}

/// The `s3 {}` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
struct S3Port {
    enabled: Option<bool>,
    infrequent_access_after_days: Option<i64>,
    archive_after_days: Option<i64>,
}

impl ProductModel {
    /// Whether the product has its S3 port (every product does unless `s3 { enabled = false }`).
    fn has_s3(&self) -> bool {
        self.s3.and_then(|s| s.enabled).unwrap_or(true)
    }

    /// The bucket's lifecycle rule: expiry and cost tiers.
    fn lifecycle(&self) -> Lifecycle {
        Lifecycle {
            expiration_days: self.retention_days,
            infrequent_access_after_days: self.s3.and_then(|s| s.infrequent_access_after_days),
            archive_after_days: self.s3.and_then(|s| s.archive_after_days),
        }
    }

    /// The ports the catalog lists.
    fn ports(&self) -> Vec<PortEntry> {
        let mut out = Vec::new();
        if let Some(uri) = self.s3_uri.clone().filter(|_| self.has_s3()) {
            out.push(PortEntry { kind: "s3".into(), location: uri });
        }
        if let (Some(_), Some(uri)) = (&self.hdfs, &self.hdfs_uri) {
            out.push(PortEntry { kind: "hdfs".into(), location: uri.clone() });
        }
        if let (Some(_), Some(ks)) = (&self.cassandra, &self.cassandra_keyspace) {
            out.push(PortEntry { kind: "cassandra".into(), location: ks.clone() });
        }
        out
    }
}

/// One output port in the catalog: which backend, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortEntry {
    /// `s3`, `hdfs` or `cassandra`.
    pub kind: String,
    /// `s3://<bucket>/`, `hdfs://<namenode>/<path>` (or the path), or the keyspace.
    pub location: String,
}

/// The product's catalog descriptor: everything a consumer needs to discover and use it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProductEntry {
    /// `<domain>/<name>`.
    pub id: String,
    /// Owning domain.
    pub domain: String,
    /// Product name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Owner.
    pub owner: String,
    /// Classification.
    pub classification: String,
    /// Holds personal data.
    #[serde(default)]
    pub contains_pii: bool,
    /// Retention in days.
    #[serde(default)]
    pub retention_days: Option<i64>,
    /// Bucket versioning.
    #[serde(default = "yes")]
    pub versioning: bool,
    /// JSON schema document.
    #[serde(default)]
    pub schema: Option<String>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The bucket; None without an S3 port.
    #[serde(default)]
    pub bucket: Option<String>,
    /// The S3 port's URI; None without one.
    #[serde(default)]
    pub s3_uri: Option<String>,
    /// The HDFS port's path.
    #[serde(default)]
    pub hdfs_path: Option<String>,
    /// The HDFS port's URI.
    #[serde(default)]
    pub hdfs_uri: Option<String>,
    /// The Cassandra port's keyspace.
    #[serde(default)]
    pub cassandra_keyspace: Option<String>,
    /// Every output port. Entries written before ports existed have none listed: their one
    /// port is the bucket (see [`ProductEntry::ports`]).
    #[serde(default, rename = "ports")]
    pub port_list: Vec<PortEntry>,
    /// When it was created.
    pub created_at: String,
}

impl ProductEntry {
    /// The product's output ports, for entries of every age.
    pub fn ports(&self) -> Vec<PortEntry> {
        if !self.port_list.is_empty() {
            return self.port_list.clone();
        }
        self.s3_uri.iter().map(|uri| PortEntry { kind: "s3".into(), location: uri.clone() }).collect()
    }

    /// The port of one kind, if the product has it.
    pub fn port(&self, kind: &str) -> Option<PortEntry> {
        self.ports().into_iter().find(|p| p.kind == kind)
    }
}

fn yes() -> bool {
    true
}

fn standard_tags(m: &ProductModel, owner: &str) -> Vec<(&'static str, String)> {
    vec![
        ("datamesh:domain", m.domain.clone()),
        ("datamesh:data-product", m.name.clone()),
        ("datamesh:classification", m.classification.clone().unwrap_or_default()),
        ("datamesh:contains-pii", m.contains_pii.unwrap_or(false).to_string()),
        ("datamesh:owner", owner.to_string()),
    ]
}

fn entry(m: &ProductModel) -> ProductEntry {
    ProductEntry {
        id: naming::data_product_id(&m.domain, &m.name),
        domain: m.domain.clone(),
        name: m.name.clone(),
        description: m.description.clone(),
        owner: m.owner.clone().unwrap_or_default(),
        classification: m.classification.clone().unwrap_or_default(),
        contains_pii: m.contains_pii.unwrap_or(false),
        retention_days: m.retention_days,
        versioning: m.versioning.unwrap_or(true),
        schema: m.schema.clone(),
        tags: m.tags.clone().unwrap_or_default(),
        bucket: m.bucket.clone().filter(|_| m.has_s3()),
        s3_uri: m.s3_uri.clone().filter(|_| m.has_s3()),
        hdfs_path: m.hdfs_path.clone().filter(|_| m.hdfs.is_some()),
        hdfs_uri: m.hdfs_uri.clone().filter(|_| m.hdfs.is_some()),
        cassandra_keyspace: m.cassandra_keyspace.clone().filter(|_| m.cassandra.is_some()),
        port_list: m.ports(),
        created_at: m.created_at.clone().unwrap_or_default(),
    }
}

/// Fills the attributes derived from names and ports alone (null for a port it lacks).
fn derive_names(m: &mut ProductModel, cfg: &ProviderConfig) {
    let bucket = naming::bucket_name(&cfg.name_prefix, &m.domain, &m.name);
    m.id = Some(naming::data_product_id(&m.domain, &m.name));
    m.manifest_key = Some(data_product_key(&m.domain, &m.name));
    let s3 = m.has_s3();
    m.bucket_arn = s3.then(|| policy::bucket_arn(&bucket));
    m.s3_uri = s3.then(|| format!("s3://{bucket}/"));
    m.bucket = s3.then_some(bucket);
    let path = m.hdfs.map(|_| cfg.hdfs.product_dir(&m.domain, &m.name));
    m.hdfs_uri = path.as_deref().map(|p| cfg.hdfs.uri(p));
    m.hdfs_path = path;
    m.cassandra_keyspace = m.cassandra.as_ref().map(|_| naming::keyspace_name(&m.domain, &m.name));
}

/// What a create keeps of an HDFS port that failed part-way: when the directory was `made` (it
/// exists without its quotas or mode) a bare port, for the next plan to finish; otherwise no
/// port, and none of the names derived from it, so that state never shows a directory that
/// does not exist.
fn after_failed_hdfs_port(m: &mut ProductModel, made: bool, cfg: &ProviderConfig) {
    m.hdfs = made.then(HdfsPort::default);
    m.hdfs_permission = None;
    derive_names(m, cfg);
}

/// What a create keeps of a Cassandra port that failed part-way: the port when its keyspace
/// was `made`, else neither the port nor its keyspace's name.
fn after_failed_cassandra_port(m: &mut ProductModel, made: bool, cfg: &ProviderConfig) {
    if !made {
        m.cassandra = None;
    }
    derive_names(m, cfg);
}

/// The domain's Cassandra role (the owner of its keyspaces).
fn owner_role(m: &ProductModel) -> &str {
    &m.domain
}

/// Plan-time checks of the port blocks' own values.
fn validate_ports(config: &Value, diags: &mut Diagnostics) {
    let s3 = config.get("s3");
    let days = |v: &Value| v.as_i64().filter(|_| v.is_known());
    crate::governance::check_storage_tiers(
        days(s3.get("infrequent_access_after_days")),
        days(s3.get("archive_after_days")),
        days(config.get("retention_days")),
        diags,
    );
    let hdfs = config.get("hdfs");
    for name in ["space_quota_bytes", "namespace_quota"] {
        if let Some(n) = hdfs.get(name).as_f64() {
            if n < 1.0 || n.fract() != 0.0 {
                diags.attr_error(
                    AttrPath::attr("hdfs").then(name),
                    format!("Invalid {name}"),
                    format!("{name} is {n}, but an HDFS quota is a whole number of at least 1. Set a positive whole number, or leave it out for no quota."),
                );
            }
        }
    }
    let cassandra = config.get("cassandra");
    if !cassandra.is_null() && cassandra.get("replication").is_wholly_known() {
        crate::provider::settings::cassandra::validate_replication(
            cassandra.get("replication"),
            AttrPath::attr("cassandra").then("replication"),
            diags,
        );
    }
}

/// The keyspace rule, once the names are known (the domain is usually a reference).
fn check_keyspace_name(planned: &Value, diags: &mut Diagnostics) {
    if planned.get("cassandra").is_null() {
        return;
    }
    if let (Some(Some(domain)), Some(Some(name))) = (known_str(planned, "domain"), known_str(planned, "name")) {
        if let Err(msg) = naming::check_keyspace(domain, name) {
            diags.attr_error(AttrPath::attr("name"), "Keyspace name not possible", msg);
        }
    }
}

/// Which ports a planned or prior value has: (S3, HDFS, Cassandra); None while unknown.
fn planned_ports(v: &Value) -> Option<(bool, bool, bool)> {
    let (s3, hdfs, cassandra) = (v.get("s3"), v.get("hdfs"), v.get("cassandra"));
    if !(s3.get("enabled").is_known() && s3.is_known() && hdfs.is_known() && cassandra.is_known()) {
        return None;
    }
    Some((s3.get("enabled").as_bool().unwrap_or(true), !hdfs.is_null(), !cassandra.is_null()))
}

/// Says in the plan which port an update deletes, and that a replication change needs a repair.
fn port_warnings(cfg: &ProviderConfig, prior: &Value, planned: &Value, m: &ProductModel, diags: &mut Diagnostics) {
    let Some((s3, hdfs, cassandra)) = (!prior.is_null()).then(|| planned_ports(prior)).flatten() else { return };
    let id = naming::data_product_id(&m.domain, &m.name);
    let force = planned.get("force_destroy").as_bool().unwrap_or(false);
    let refused = if force {
        "everything in it is deleted (force_destroy)"
    } else {
        "refused while it holds data (set force_destroy = true to delete it anyway)"
    };
    let gone = [
        (
            s3 && m.bucket.is_none(),
            "s3",
            format!("bucket {:?}", naming::bucket_name(&cfg.name_prefix, &m.domain, &m.name)),
        ),
        (hdfs && m.hdfs_path.is_none(), "hdfs", format!("directory {:?}", cfg.hdfs.product_dir(&m.domain, &m.name))),
        (
            cassandra && m.cassandra_keyspace.is_none(),
            "cassandra",
            format!("keyspace {:?}", naming::keyspace_name(&m.domain, &m.name)),
        ),
    ];
    for (_, block, what) in gone.iter().filter(|g| g.0) {
        diags.attr_warning(
            AttrPath::attr(block),
            format!("The {block} port of {id} is deleted"),
            format!("This apply deletes the {block} port: its {what}; {refused}."),
        );
    }
    if cassandra && m.cassandra_keyspace.is_some() {
        let replication = |v: &Value| -> Option<BTreeMap<String, i64>> {
            let r = v.get("cassandra").get("replication");
            if !r.is_wholly_known() {
                return None;
            }
            Some(match r {
                Value::Map(m) => m.iter().filter_map(|(k, f)| f.as_i64().map(|f| (k.clone(), f))).collect(),
                _ => cfg.cassandra.replication.clone(),
            })
        };
        if let (Some(old), Some(new)) = (replication(prior), replication(planned)) {
            if old != new {
                diags.attr_warning(
                    AttrPath::attr("cassandra").then("replication"),
                    "Replication changes in place: run a full repair",
                    format!("The keyspace {:?} is altered in place from {old:?} to {new:?}. Cassandra does not move existing data by itself: run `nodetool repair --full` on every node afterwards (and, when a datacenter or factor is reduced, `nodetool cleanup`).", naming::keyspace_name(&m.domain, &m.name)),
                );
            }
        }
    }
}

/// An error at `force_destroy` when the bucket holds objects (a missing bucket is empty).
async fn check_bucket_empty(storage: &dyn Storage, bucket: &str, m: &ProductModel) -> Result<(), Diagnostic> {
    let what = format!("bucket {bucket:?}");
    match storage.bucket_exists(bucket).await {
        Ok(false) => return Ok(()),
        Ok(true) => {}
        Err(e) => return Err(e.diagnostic(&what)),
    }
    match storage.is_empty(bucket).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Diagnostic::attr_error(
            AttrPath::attr("force_destroy"),
            "Data product still holds data",
            format!(
                "The bucket {bucket:?} of data product {:?} is not empty, so nothing was deleted. Empty it first, \
                 or set force_destroy = true and apply before destroying to delete every object version.",
                naming::data_product_id(&m.domain, &m.name)
            ),
        )),
        Err(e) => Err(e.diagnostic(&what)),
    }
}

/// Deletes the bucket (emptying it first with `force`); a missing bucket is fine.
async fn delete_bucket(storage: &dyn Storage, bucket: &str, force: bool) -> Result<(), Diagnostic> {
    let what = format!("bucket {bucket:?}");
    if !storage.bucket_exists(bucket).await.map_err(|e| e.diagnostic(&what))? {
        return Ok(());
    }
    if force {
        storage.empty_bucket(bucket).await.map_err(|e| e.diagnostic(&what))?;
    }
    match storage.delete_bucket(bucket).await {
        Ok(()) => Ok(()),
        Err(e) if e.is(crate::backends::ErrorKind::NotEmpty) => {
            Err(e.attr_diagnostic(AttrPath::attr("force_destroy"), &what))
        }
        Err(e) => Err(e.diagnostic(&what)),
    }
}

impl DataProduct {
    /// A product whose create failed part-way: what was made (tainted), or nothing.
    fn partial_state(&self, m: &ProductModel, made_any: bool, diags: &mut Diagnostics) -> Value {
        if made_any {
            self.state(m, diags)
        } else {
            Value::Null
        }
    }

    fn model(&self, v: &Value, diags: &mut Diagnostics) -> Option<ProductModel> {
        model_or_report(v, diags)
    }

    fn state(&self, m: &ProductModel, diags: &mut Diagnostics) -> Value {
        // The state's type, built once: every create, read and update ends here.
        static TYPE: std::sync::OnceLock<Type> = std::sync::OnceLock::new();
        state_or_report(m, TYPE.get_or_init(|| self.schema().ty()), diags)
    }
}

#[async_trait]
impl Resource<ProviderData> for DataProduct {
    fn type_name(&self) -> &'static str {
        "datamesh_data_product"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "A data product owned by a domain, with its output ports: a bucket (versioning, SSE-S3 default encryption, lifecycle expiration and cost tiers, standard tags) unless `s3 { enabled = false }`, an HDFS directory with `hdfs {}`, a Cassandra keyspace with `cassandra {}`. Also an owner policy `datamesh-owner-<name>` on the domain's role with read and write on the bucket, and the catalog descriptor listing the ports.",
            vec![
                Attribute::required("domain", Type::String, "The owning domain's name (a `datamesh_domain`). Changing it replaces the product.").replace(),
                Attribute::required("name", Type::String, "Data product name, `^[a-z][a-z0-9-]{1,40}$`. Changing it replaces the product.").replace(),
                Attribute::optional("description", Type::String, "What the product holds."),
                Attribute::optional_computed("owner", Type::String, "Who answers for the product. Default: the domain's owner."),
                Attribute::required("classification", Type::String, "Data classification, one of `governance.allowed_classifications`."),
                Attribute::optional("contains_pii", Type::Bool, "Whether the product holds personal data; then its classification must be at least `governance.pii_min_classification`. Default `false`.").default(Value::Bool(false)),
                Attribute::optional("retention_days", Type::Number, "Days after which objects expire (a lifecycle rule). At most `governance.max_retention_days`. Default: kept forever."),
                Attribute::optional("versioning", Type::Bool, "Bucket versioning. Default `true`.").default(Value::Bool(true)),
                Attribute::optional("schema", Type::String, "The product's schema as a JSON document. Reformatting it is not a change."),
                Attribute::optional("tags", Type::map(Type::String), "Tags on the bucket, merged over the provider's `default_tags`; together they must cover `governance.required_tags`."),
                Attribute::optional("force_destroy", Type::Bool, "Delete what the ports hold (every object version, the directory's files, the keyspace's tables) when the product or a port is destroyed. Without it, destroying a non-empty product (or removing a non-empty port) fails and deletes nothing. Default `false`.").default(Value::Bool(false)),
                Attribute::computed("id", Type::String, "`<domain>/<name>`."),
                Attribute::computed("bucket", Type::String, "The bucket, `<name_prefix>-<domain>-<name>`; null without an S3 port."),
                Attribute::computed("bucket_arn", Type::String, "The bucket's ARN; null without an S3 port."),
                Attribute::computed("s3_uri", Type::String, "The S3 port, `s3://<bucket>/`; null without one."),
                Attribute::computed("hdfs_path", Type::String, "The HDFS port's directory, `<hdfs.root>/<domain>/<name>`; null without one."),
                Attribute::computed("hdfs_uri", Type::String, "The HDFS port as clients address it, `<hdfs.namenode_uri><hdfs_path>`; null without one."),
                Attribute::computed("hdfs_permission", Type::String, "The HDFS directory's mode, owner and group, `0750 <domain>:<domain>`; the provider keeps them so."),
                Attribute::computed("cassandra_keyspace", Type::String, "The Cassandra port's keyspace, `<domain>__<name>` with `-` written `_`; null without one."),
                Attribute::computed("manifest_key", Type::String, "The key of the product's descriptor in the catalog bucket."),
                Attribute::computed("created_at", Type::String, "When the product was created (RFC 3339)."),
                Attribute::computed("tags_all", Type::map(Type::String), "All tags on the bucket: `default_tags`, `tags` and the provider's standard tags."),
                Attribute::computed("encryption", Type::String, "The bucket's default encryption; the provider keeps it at SSE-S3 (`AES256`)."),
                Attribute::computed("owner_policy", Type::String, "The owner policy document on the domain's role; the provider keeps it as shown."),
            ],
        )
        .with_block("s3", Nesting::Single, Block::new(
            "The S3 port (every product has one unless `enabled = false`) and its cost tiers: lifecycle transitions to `STANDARD_IA` and `GLACIER`.",
            vec![
                Attribute::optional("enabled", Type::Bool, "Whether the product has its bucket. Default `true`; `false` deletes the bucket (refused while it holds objects, unless `force_destroy`)."),
                Attribute::optional("infrequent_access_after_days", Type::Number, "Days after which objects move to `STANDARD_IA`: at least 30, below `retention_days`."),
                Attribute::optional("archive_after_days", Type::Number, "Days after which objects move to `GLACIER`: after `infrequent_access_after_days`, below `retention_days`."),
            ],
        ))
        .with_block("hdfs", Nesting::Single, Block::new(
            "The HDFS port: the directory `<hdfs.root>/<domain>/<name>`, owned by the domain's user and group, mode `0750`, with its quotas. Needs the provider's `hdfs` settings.",
            vec![
                Attribute::optional("space_quota_bytes", Type::Number, "Most raw bytes the directory may hold, replication included (as HDFS counts them). Unset: no quota."),
                Attribute::optional("namespace_quota", Type::Number, "Most files and directories the directory may hold, itself included. Unset: no quota."),
            ],
        ))
        .with_block("cassandra", Nesting::Single, Block::new(
            "The Cassandra port: the keyspace `<domain>__<name>` (NetworkTopologyStrategy), with `ALL PERMISSIONS` on it for the domain's role. Needs the provider's `cassandra` settings.",
            vec![
                Attribute::optional("replication", Type::map(Type::Number), "Datacenter → replication factor. Default: the provider's `cassandra.replication`. Changing it alters the keyspace in place; run a full repair afterwards."),
            ],
        )))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        common::validate_name(config, "domain", naming::check_domain, diags);
        common::validate_name(config, "name", naming::check_data_product, diags);
        if let Some(Some(schema)) = known_str(config, "schema") {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(schema) {
                diags.attr_error(AttrPath::attr("schema"), "Invalid JSON schema", format!("schema must be a JSON document, but it does not parse: {e}. Use jsonencode({{...}}) or file(\"schema.json\")."));
            }
        }
        if let Some(Some(owner)) = known_str(config, "owner") {
            if owner.trim().is_empty() {
                diags.attr_error(
                    AttrPath::attr("owner"),
                    "Empty owner",
                    "Set owner to a team e-mail or handle, or remove it to use the domain's owner.",
                );
            }
        }
        common::validate_tag_text(config, "owner", diags);
        common::validate_text(config, "description", 1024, diags);
        common::validate_tags(config, diags);
        validate_ports(config, diags);
    }

    async fn modify_plan(&self, ctx: &Context, req: PlanRequest<'_>, planned: &mut Value, diags: &mut Diagnostics) {
        let cfg = &ctx.provider.config;
        check_keyspace_name(planned, diags);
        let ports = planned_ports(planned);
        if let Some((_, hdfs, cassandra)) = ports {
            for (has, configured, block, backend, missing) in [
                (hdfs, cfg.hdfs.configured() || cfg.unknown_error("hdfs").is_some(), "hdfs", "HDFS", HDFS_MISSING),
                (
                    cassandra,
                    cfg.cassandra.configured() || cfg.unknown_error("cassandra").is_some(),
                    "cassandra",
                    "Cassandra",
                    CASSANDRA_MISSING,
                ),
            ] {
                if has && !configured {
                    diags.attr_error(
                        AttrPath::attr(block),
                        format!("{backend} is not configured"),
                        format!("The {block} port needs {backend}, and the provider has none. {missing} Or remove the {block} block."),
                    );
                }
            }
        }
        let owned = |v: Option<Option<&str>>| v.flatten().map(str::to_string);
        let names = (owned(known_str(planned, "domain")), owned(known_str(planned, "name")));
        if let ((Some(domain), Some(name)), Some((s3, hdfs, cassandra))) = (&names, ports) {
            let bucket = naming::bucket_name(&cfg.name_prefix, domain, name);
            if s3 {
                if let Err(msg) = naming::check_bucket_name(&bucket) {
                    diags.attr_error(AttrPath::attr("name"), "Bucket name not possible", msg);
                }
            }
            let mut m = ProductModel { domain: domain.clone(), name: name.clone(), ..Default::default() };
            m.s3 = Some(S3Port { enabled: Some(s3), ..Default::default() });
            m.hdfs = hdfs.then(HdfsPort::default);
            m.cassandra = cassandra.then(CassandraPort::default);
            derive_names(&mut m, cfg);
            for (attr, v) in [
                ("id", &m.id),
                ("bucket", &m.bucket),
                ("bucket_arn", &m.bucket_arn),
                ("s3_uri", &m.s3_uri),
                ("manifest_key", &m.manifest_key),
                ("hdfs_path", &m.hdfs_path),
                ("hdfs_uri", &m.hdfs_uri),
                ("cassandra_keyspace", &m.cassandra_keyspace),
            ] {
                planned.set(attr, v.clone().map(Value::string).unwrap_or(Value::Null));
            }
            planned.set("encryption", if s3 { Value::string(SSE_ALGORITHM) } else { Value::Null });
            planned.set("owner_policy", Value::string(policy::owner_policy(&bucket)));
            planned.set(
                "hdfs_permission",
                if hdfs { Value::string(hdfs_part::wanted_permission(domain)) } else { Value::Null },
            );
            common::keep_equivalent_json(req.prior, planned, "owner_policy", policy::equivalent);
            port_warnings(cfg, req.prior, planned, &m, diags);
        } else {
            for a in [
                "id",
                "bucket",
                "bucket_arn",
                "s3_uri",
                "manifest_key",
                "owner_policy",
                "hdfs_path",
                "hdfs_uri",
                "hdfs_permission",
                "cassandra_keyspace",
                "encryption",
            ] {
                planned.set(a, Value::Unknown);
            }
        }
        common::keep_equivalent_json(req.prior, planned, "schema", common::json_equivalent);

        let tags = known_map(planned, "tags");
        let facts = ProductFacts {
            classification: known_str(planned, "classification").flatten(),
            contains_pii: planned.get("contains_pii").as_bool(),
            retention_days: planned.get("retention_days").as_i64(),
            tags: tags.as_ref(),
        };
        let mut checked = Diagnostics::new();
        governance::check_data_product(&cfg.governance, &cfg.default_tags, &facts, &mut checked);
        common::governance_failures(req.prior, checked, diags);

        let known_owner = known_str(planned, "owner").flatten().map(str::to_string);
        let all = match (self.model(planned, &mut Diagnostics::new()), known_owner, tags) {
            (Some(m), Some(owner), Some(tags))
                if planned.get("classification").is_known() && planned.get("contains_pii").is_known() =>
            {
                map_value(&tags_all(&cfg.default_tags, &tags, &standard_tags(&m, &owner)))
            }
            _ => Value::Unknown,
        };
        planned.set("tags_all", all);
    }

    async fn create(&self, ctx: &Context, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(planned, diags) else { return Value::Null };
        let cfg = &ctx.provider.config;
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return Value::Null };
        let (storage, iam, catalog) = (&aws.storage, &aws.iam, &aws.catalog);
        derive_names(&mut m, cfg);
        let bucket = naming::bucket_name(&cfg.name_prefix, &m.domain, &m.name);
        let role = naming::role_name(&cfg.name_prefix, &m.domain);
        match iam.get_role(&role).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                diags.attr_error(
                    AttrPath::attr("domain"),
                    "Domain not found",
                    format!(
                        "Domain {:?} does not exist (no IAM role {role:?}). Create its datamesh_domain first, or reference it \
                         (domain = datamesh_domain.<name>.name) so Terraform creates it first. Nothing was created.",
                        m.domain
                    ),
                );
                return Value::Null;
            }
            Err(e) => {
                diags.0.push(e.diagnostic(&format!("IAM role {role:?}")));
                return Value::Null;
            }
        }
        // Connect every backend the ports need before making anything.
        let hdfs = match m.hdfs {
            Some(_) => match diags.ok(ctx.provider.hdfs().await) {
                Some(h) => Some(h),
                None => return Value::Null,
            },
            None => None,
        };
        let db = match m.cassandra {
            Some(_) => match diags.ok(ctx.provider.database().await) {
                Some(d) => Some(d),
                None => return Value::Null,
            },
            None => None,
        };
        if m.owner.is_none() {
            let found = catalog.get::<DomainEntry>(&domain_key(&m.domain)).await;
            match found {
                Ok(Some(d)) => m.owner = Some(d.owner),
                Ok(None) => m.owner = Some(m.domain.clone()),
                Err(e) => {
                    diags.0.push(e.diagnostic(&format!("catalog entry of domain {:?}", m.domain)));
                    return Value::Null;
                }
            }
        }
        let owner = m.owner.clone().unwrap_or_default();
        let tags = tags_all(&cfg.default_tags, &m.tags.clone().unwrap_or_default(), &standard_tags(&m, &owner));
        m.tags_all = Some(tags.clone());
        m.created_at = Some(common::now_rfc3339());
        m.owner_policy = Some(m.owner_policy.clone().unwrap_or_else(|| policy::owner_policy(&bucket)));
        let id = naming::data_product_id(&m.domain, &m.name);

        // Each port in turn; state records the ports that were made, so a failure part-way
        // leaves a product whose next plan adds what is missing.
        let (want_s3, want_hdfs, want_cassandra) = (m.has_s3(), m.hdfs, m.cassandra.clone());
        let mut made_any = false;
        if want_s3 {
            let what = format!("bucket {bucket:?} of data product {id:?}");
            if ok_or_report(storage.create_bucket(&bucket).await, &what, diags).is_none() {
                return Value::Null;
            }
            made_any = true;
            m.encryption = Some(SSE_ALGORITHM.into());
            let steps = async {
                if m.versioning.unwrap_or(true) {
                    storage.set_versioning(&bucket, true).await.map_err(|e| e.diagnostic(&what))?;
                }
                storage.set_default_encryption(&bucket).await.map_err(|e| e.diagnostic(&what))?;
                let lifecycle = m.lifecycle();
                if !lifecycle.is_empty() {
                    storage.set_lifecycle(&bucket, &lifecycle).await.map_err(|e| e.diagnostic(&what))?;
                }
                storage.set_tags(&bucket, &tags).await.map_err(|e| e.diagnostic(&what))
            };
            if let Err(d) = steps.await {
                diags.0.push(d);
                return self.state(&m, diags);
            }
        }
        if let (Some(port), Some(hdfs)) = (want_hdfs, &hdfs) {
            match hdfs_part::create_port(hdfs.as_ref(), &cfg.hdfs, &m.domain, &m.name, &port).await {
                Ok(()) => m.hdfs_permission = Some(hdfs_part::wanted_permission(&m.domain)),
                Err(partial) => {
                    diags.0.push(partial.error);
                    after_failed_hdfs_port(&mut m, partial.made, cfg);
                    return self.partial_state(&m, made_any || partial.made, diags);
                }
            }
            made_any = true;
        }
        if let (Some(port), Some(db)) = (&want_cassandra, &db) {
            let keyspace = naming::keyspace_name(&m.domain, &m.name);
            let replication = cql_part::effective_replication(port, &cfg.cassandra.replication);
            if let Err((made, d)) = cql_part::create_port(db.as_ref(), &keyspace, owner_role(&m), &replication).await {
                diags.0.push(d);
                after_failed_cassandra_port(&mut m, made, cfg);
                return self.partial_state(&m, made_any || made, diags);
            }
        }
        let rest = async {
            let policy_doc = m.owner_policy.clone().unwrap_or_default();
            iam.put_role_policy(&role, &naming::owner_policy_name(&m.name), &policy_doc)
                .await
                .map_err(|e| e.diagnostic(&format!("owner policy on IAM role {role:?}")))?;
            catalog
                .put(&data_product_key(&m.domain, &m.name), &entry(&m))
                .await
                .map_err(|e| e.diagnostic(&format!("catalog descriptor of {id:?}")))
        };
        if let Err(d) = rest.await {
            diags.0.push(d);
        }
        self.state(&m, diags)
    }

    async fn read(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(state, diags) else { return state.clone() };
        let cfg = &ctx.provider.config;
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return state.clone() };
        let (storage, iam, catalog) = (&aws.storage, &aws.iam, &aws.catalog);
        // Only an import's state lacks created_at: then every configured backend is asked which
        // ports exist.
        let importing = m.created_at.is_none();
        let key = data_product_key(&m.domain, &m.name);
        let descriptor = match catalog.get::<ProductEntry>(&key).await {
            Ok(d) => d,
            Err(e) => {
                diags.0.push(e.diagnostic(&format!("catalog descriptor {key:?}")));
                return state.clone();
            }
        };
        if importing {
            let listed = |kind: &str| descriptor.as_ref().map(|d| d.port(kind).is_some());
            m.s3 = (listed("s3") == Some(false)).then_some(S3Port { enabled: Some(false), ..Default::default() });
            m.hdfs = (listed("hdfs") != Some(false) && cfg.hdfs.configured()).then(HdfsPort::default);
            m.cassandra =
                (listed("cassandra") != Some(false) && cfg.cassandra.configured()).then(CassandraPort::default);
        }
        derive_names(&mut m, cfg);
        let had = (m.has_s3(), m.hdfs.is_some(), m.cassandra.is_some());
        let bucket = naming::bucket_name(&cfg.name_prefix, &m.domain, &m.name);

        // S3 port.
        let mut bucket_found = false;
        if m.has_s3() {
            let what = format!("bucket {bucket:?}");
            let Some(exists) = ok_or_report(storage.bucket_exists(&bucket).await, &what, diags) else {
                return state.clone();
            };
            bucket_found = exists;
            if exists {
                let (versioning, encryption, lifecycle, tags) = tokio::join!(
                    storage.versioning(&bucket),
                    storage.default_encryption(&bucket),
                    storage.lifecycle(&bucket),
                    storage.tags(&bucket),
                );
                let (Some(versioning), Some(encryption), Some(lifecycle), Some(tags)) = (
                    ok_or_report(versioning, &what, diags),
                    ok_or_report(encryption, &what, diags),
                    ok_or_report(lifecycle, &what, diags),
                    ok_or_report(tags, &what, diags),
                ) else {
                    return state.clone();
                };
                m.versioning = Some(versioning);
                m.encryption = encryption;
                m.retention_days = lifecycle.expiration_days;
                let tiers = (lifecycle.infrequent_access_after_days, lifecycle.archive_after_days);
                let block = m.s3.unwrap_or_default();
                m.s3 = if tiers == (None, None) && m.s3.is_none() {
                    None
                } else {
                    Some(S3Port {
                        enabled: block.enabled,
                        infrequent_access_after_days: tiers.0,
                        archive_after_days: tiers.1,
                    })
                };
                m.tags_all = Some(tags);
            } else {
                // The bucket is gone: the plan adds the port back (in place, when the product has
                // other ports; a product whose only port it was is gone).
                m.s3 = Some(S3Port { enabled: Some(false), ..Default::default() });
            }
        }
        // HDFS port.
        let mut dir_found = false;
        if m.hdfs.is_some() {
            let path = cfg.hdfs.product_dir(&m.domain, &m.name);
            let read = match ctx.provider.hdfs().await {
                Ok(h) => hdfs_part::read_port(h.as_ref(), &path).await,
                Err(d) => Err(d),
            };
            match read {
                Ok(Some((port, permission))) => {
                    dir_found = true;
                    m.hdfs = Some(port);
                    m.hdfs_permission = Some(permission);
                }
                Ok(None) => {
                    m.hdfs = None;
                    m.hdfs_permission = None;
                }
                Err(d) => {
                    diags.0.push(d);
                    return state.clone();
                }
            }
        }
        // Cassandra port.
        let mut keyspace_found = false;
        if let Some(port) = m.cassandra.clone() {
            let keyspace = naming::keyspace_name(&m.domain, &m.name);
            let read = match ctx.provider.database().await {
                Ok(db) => cql_part::read_port(db.as_ref(), &keyspace).await,
                Err(d) => Err(d),
            };
            match read {
                Ok(Some(actual)) => {
                    keyspace_found = true;
                    let wanted = cql_part::effective_replication(&port, &cfg.cassandra.replication);
                    let replication = if actual == wanted { port.replication } else { Some(actual) };
                    m.cassandra = Some(CassandraPort { replication });
                }
                Ok(None) => m.cassandra = None,
                Err(d) => {
                    diags.0.push(d);
                    return state.clone();
                }
            }
        }
        let found_any = bucket_found || dir_found || keyspace_found;
        let had_any = had.0 || had.1 || had.2;
        if (had_any && !found_any) || (!had_any && descriptor.is_none()) {
            return Value::Null;
        }
        derive_names(&mut m, cfg);

        let role = naming::role_name(&cfg.name_prefix, &m.domain);
        let policy_name = naming::owner_policy_name(&m.name);
        let what = format!("owner policy on IAM role {role:?}");
        let Some(owner_policy) = ok_or_report(iam.get_role_policy(&role, &policy_name).await, &what, diags) else {
            return state.clone();
        };
        m.owner_policy = match (owner_policy, &m.owner_policy) {
            (Some(actual), Some(known)) if policy::equivalent(&actual, known) => Some(known.clone()),
            (actual, _) => actual,
        };
        match descriptor {
            Some(d) => {
                m.description = d.description;
                m.owner = Some(d.owner);
                m.classification = Some(d.classification);
                m.contains_pii = Some(d.contains_pii);
                m.schema = match (d.schema, &m.schema) {
                    (Some(actual), Some(known)) if common::json_equivalent(&actual, known) => Some(known.clone()),
                    (actual, _) => actual,
                };
                if !(d.tags.is_empty() && m.tags.is_some()) {
                    m.tags = (!d.tags.is_empty()).then_some(d.tags);
                }
                if !m.has_s3() || !bucket_found {
                    m.retention_days = d.retention_days;
                    m.versioning = Some(d.versioning);
                }
                m.created_at = Some(d.created_at);
            }
            // The descriptor is gone: planning shows the catalog entry being written again.
            None => m.manifest_key = None,
        }
        self.state(&m, diags)
    }

    async fn update(&self, ctx: &Context, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value {
        let (Some(mut old), Some(mut m)) = (self.model(prior, diags), self.model(planned, diags)) else {
            return prior.clone();
        };
        let cfg = &ctx.provider.config;
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return prior.clone() };
        let (storage, iam, catalog) = (&aws.storage, &aws.iam, &aws.catalog);
        derive_names(&mut m, cfg);
        derive_names(&mut old, cfg);
        let bucket = naming::bucket_name(&cfg.name_prefix, &m.domain, &m.name);
        let role = naming::role_name(&cfg.name_prefix, &m.domain);
        let what = format!("bucket {bucket:?}");
        m.owner = m.owner.or(old.owner.clone());
        m.created_at = old.created_at.clone().or_else(|| Some(common::now_rfc3339()));
        let owner = m.owner.clone().unwrap_or_default();
        let tags = tags_all(&cfg.default_tags, &m.tags.clone().unwrap_or_default(), &standard_tags(&m, &owner));
        m.tags_all = Some(tags.clone());
        let policy_doc = m.owner_policy.clone().unwrap_or_else(|| policy::owner_policy(&bucket));
        let force = m.force_destroy.unwrap_or(false);

        // What the backends hold now, as far as this update got: state reports it on failure.
        let mut done = old.clone();
        let result: Result<(), Diagnostic> = async {
            // S3 port: added, kept, or removed.
            match (old.has_s3(), m.has_s3()) {
                (false, true) => {
                    storage.create_bucket(&bucket).await.map_err(|e| e.diagnostic(&what))?;
                    done.s3 = Some(S3Port { enabled: None, ..Default::default() });
                    done.encryption = None;
                    done.tags_all = None;
                    done.versioning = Some(false);
                    done.retention_days = None;
                    done.bucket = Some(bucket.clone());
                }
                (true, false) => {
                    delete_bucket(storage.as_ref(), &bucket, force).await?;
                    done.s3 = m.s3;
                    done.bucket = None;
                }
                _ => {}
            }
            if m.has_s3() {
                if m.versioning != done.versioning {
                    storage
                        .set_versioning(&bucket, m.versioning.unwrap_or(true))
                        .await
                        .map_err(|e| e.diagnostic(&what))?;
                }
                if done.encryption.as_deref() != Some(SSE_ALGORITHM) {
                    storage.set_default_encryption(&bucket).await.map_err(|e| e.diagnostic(&what))?;
                }
                if m.lifecycle() != done.lifecycle() || done.bucket.is_none() {
                    storage.set_lifecycle(&bucket, &m.lifecycle()).await.map_err(|e| e.diagnostic(&what))?;
                }
                if Some(&tags) != done.tags_all.as_ref() {
                    storage.set_tags(&bucket, &tags).await.map_err(|e| e.diagnostic(&what))?;
                }
                done.s3 = m.s3;
                done.versioning = m.versioning;
                done.retention_days = m.retention_days;
                done.encryption = Some(SSE_ALGORITHM.into());
                done.tags_all = Some(tags.clone());
            }
            // HDFS port.
            let path = cfg.hdfs.product_dir(&m.domain, &m.name);
            match (old.hdfs, m.hdfs) {
                (None, Some(port)) => {
                    let hdfs = ctx.provider.hdfs().await?;
                    match hdfs_part::create_port(hdfs.as_ref(), &cfg.hdfs, &m.domain, &m.name, &port).await {
                        Ok(()) => {
                            done.hdfs = Some(port);
                            done.hdfs_permission = Some(hdfs_part::wanted_permission(&m.domain));
                        }
                        Err(partial) => {
                            if partial.made {
                                done.hdfs = Some(HdfsPort::default());
                            }
                            return Err(partial.error);
                        }
                    }
                }
                (Some(_), None) => {
                    let hdfs = ctx.provider.hdfs().await?;
                    hdfs_part::delete_port(hdfs.as_ref(), &path, force).await?;
                    done.hdfs = None;
                    done.hdfs_permission = None;
                }
                (Some(was), Some(port)) => {
                    let hdfs = ctx.provider.hdfs().await?;
                    if old.hdfs_permission.as_deref() != Some(hdfs_part::wanted_permission(&m.domain).as_str()) {
                        hdfs_part::restore_permission(hdfs.as_ref(), &path, &m.domain).await?;
                        done.hdfs_permission = Some(hdfs_part::wanted_permission(&m.domain));
                    }
                    if was != port {
                        hdfs_part::set_quota(hdfs.as_ref(), &path, &port).await?;
                        done.hdfs = Some(port);
                    }
                }
                (None, None) => {}
            }
            // Cassandra port.
            let keyspace = naming::keyspace_name(&m.domain, &m.name);
            match (&old.cassandra, &m.cassandra) {
                (None, Some(port)) => {
                    let db = ctx.provider.database().await?;
                    let replication = cql_part::effective_replication(port, &cfg.cassandra.replication);
                    if let Err((made, d)) =
                        cql_part::create_port(db.as_ref(), &keyspace, owner_role(&m), &replication).await
                    {
                        if made {
                            done.cassandra = Some(port.clone());
                        }
                        return Err(d);
                    }
                    done.cassandra = Some(port.clone());
                }
                (Some(_), None) => {
                    let db = ctx.provider.database().await?;
                    cql_part::delete_port(db.as_ref(), &keyspace, force).await?;
                    done.cassandra = None;
                }
                (Some(was), Some(port)) => {
                    let (was_r, now_r) = (
                        cql_part::effective_replication(was, &cfg.cassandra.replication),
                        cql_part::effective_replication(port, &cfg.cassandra.replication),
                    );
                    if was_r != now_r {
                        let db = ctx.provider.database().await?;
                        cql_part::alter_port(db.as_ref(), &keyspace, &now_r).await?;
                    }
                    done.cassandra = Some(port.clone());
                }
                (None, None) => {}
            }
            if old.owner_policy.as_deref().is_none_or(|p| !policy::equivalent(p, &policy_doc)) {
                iam.put_role_policy(&role, &naming::owner_policy_name(&m.name), &policy_doc)
                    .await
                    .map_err(|e| e.diagnostic(&format!("owner policy on IAM role {role:?}")))?;
            }
            m.owner_policy = Some(policy_doc.clone());
            m.encryption = m.has_s3().then(|| SSE_ALGORITHM.to_string());
            m.hdfs_permission = m.hdfs.map(|_| hdfs_part::wanted_permission(&m.domain));
            derive_names(&mut m, cfg);
            catalog.put(&data_product_key(&m.domain, &m.name), &entry(&m)).await.map_err(|e| {
                e.diagnostic(&format!("catalog descriptor of {:?}", naming::data_product_id(&m.domain, &m.name)))
            })
        }
        .await;
        if let Err(d) = result {
            diags.0.push(d);
            // Report what is really there: what was done, over the prior state.
            derive_names(&mut done, cfg);
            return self.state(&done, diags);
        }
        self.state(&m, diags)
    }

    async fn delete(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) {
        let Some(mut m) = self.model(state, diags) else { return };
        let cfg = &ctx.provider.config;
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return };
        let (storage, iam, catalog) = (&aws.storage, &aws.iam, &aws.catalog);
        derive_names(&mut m, cfg);
        let force = m.force_destroy.unwrap_or(false);
        let bucket = naming::bucket_name(&cfg.name_prefix, &m.domain, &m.name);
        let path = cfg.hdfs.product_dir(&m.domain, &m.name);
        let keyspace = naming::keyspace_name(&m.domain, &m.name);
        let hdfs = match m.hdfs {
            Some(_) => match diags.ok(ctx.provider.hdfs().await) {
                Some(h) => Some(h),
                None => return,
            },
            None => None,
        };
        let db = match m.cassandra {
            Some(_) => match diags.ok(ctx.provider.database().await) {
                Some(d) => Some(d),
                None => return,
            },
            None => None,
        };
        // Nothing is deleted while any port holds data (without force_destroy).
        if !force {
            let mut checks = Vec::new();
            if m.has_s3() {
                checks.push(check_bucket_empty(storage.as_ref(), &bucket, &m).await);
            }
            if let Some(h) = &hdfs {
                checks.push(hdfs_part::check_empty(h.as_ref(), &path).await);
            }
            if let Some(db) = &db {
                checks.push(cql_part::check_empty(db.as_ref(), &keyspace).await);
            }
            let failed: Vec<Diagnostic> = checks.into_iter().filter_map(Result::err).collect();
            if !failed.is_empty() {
                diags.0.extend(failed);
                return;
            }
        }
        if m.has_s3() {
            if let Err(d) = delete_bucket(storage.as_ref(), &bucket, force).await {
                diags.0.push(d);
                return;
            }
        }
        if let Some(h) = &hdfs {
            if let Err(d) = hdfs_part::delete_port(h.as_ref(), &path, force).await {
                diags.0.push(d);
                return;
            }
        }
        if let Some(db) = &db {
            if let Err(d) = cql_part::delete_port(db.as_ref(), &keyspace, force).await {
                diags.0.push(d);
                return;
            }
        }
        let role = naming::role_name(&cfg.name_prefix, &m.domain);
        ok_or_report(
            iam.delete_role_policy(&role, &naming::owner_policy_name(&m.name)).await,
            &format!("owner policy on IAM role {role:?}"),
            diags,
        );
        ok_or_report(catalog.delete(&data_product_key(&m.domain, &m.name)).await, "catalog descriptor", diags);
    }

    fn identity(&self) -> &'static [(&'static str, &'static str)] {
        &[("domain", "The owning domain."), ("name", "The data product name.")]
    }

    fn import_id(&self, identity: &Value) -> Option<String> {
        Some(naming::data_product_id(identity.get("domain").as_str()?, identity.get("name").as_str()?))
    }

    fn import(&self, id: &str, diags: &mut Diagnostics) -> Value {
        match naming::parse_data_product_id(id) {
            Ok((domain, name)) => {
                let m = ProductModel { domain, name, id: Some(id.to_string()), ..Default::default() };
                self.state(&m, diags)
            }
            Err(msg) => {
                diags.error("Invalid import ID", format!("A data product is imported by \"<domain>/<name>\". {msg}"));
                Value::Null
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_derived_from_prefix_domain_and_name() {
        let mut m = ProductModel { domain: "sales".into(), name: "orders".into(), ..Default::default() };
        derive_names(&mut m, &ProviderConfig { name_prefix: "acme".into(), ..Default::default() });
        assert_eq!(m.bucket.as_deref(), Some("acme-sales-orders"));
        assert_eq!(m.bucket_arn.as_deref(), Some("arn:aws:s3:::acme-sales-orders"));
        assert_eq!(m.s3_uri.as_deref(), Some("s3://acme-sales-orders/"));
        assert_eq!(m.manifest_key.as_deref(), Some("data-products/sales/orders.json"));
        assert_eq!(m.id.as_deref(), Some("sales/orders"));
    }

    #[test]
    fn a_port_whose_create_failed_before_it_was_made_leaves_no_name_in_state() {
        // Regression (outage test, NameNode in safe mode): a product whose MKDIRS was refused
        // was kept in state, tainted, with the hdfs_path, hdfs_uri and hdfs_permission of a
        // directory that did not exist; a keyspace never created kept its name the same way.
        let cfg = ProviderConfig { name_prefix: "acme".into(), ..Default::default() };
        let planned = || {
            let mut m = ProductModel {
                domain: "sales".into(),
                name: "orders".into(),
                hdfs: Some(HdfsPort { space_quota_bytes: Some(1 << 40), namespace_quota: None }),
                cassandra: Some(CassandraPort::default()),
                hdfs_permission: Some("0750 sales:sales".into()),
                ..Default::default()
            };
            derive_names(&mut m, &cfg);
            m
        };
        let mut m = planned();
        after_failed_hdfs_port(&mut m, false, &cfg);
        after_failed_cassandra_port(&mut m, false, &cfg);
        assert_eq!((m.hdfs, &m.hdfs_path, &m.hdfs_uri, &m.hdfs_permission), (None, &None, &None, &None));
        assert_eq!((&m.cassandra, &m.cassandra_keyspace), (&None, &None));
        assert_eq!(m.bucket.as_deref(), Some("acme-sales-orders"), "the S3 port made before stays");

        // Made, but not finished: the directory without its quotas or mode, the keyspace.
        let mut m = planned();
        after_failed_hdfs_port(&mut m, true, &cfg);
        after_failed_cassandra_port(&mut m, true, &cfg);
        assert_eq!(m.hdfs, Some(HdfsPort::default()));
        assert_eq!(m.hdfs_path.as_deref(), Some("/datamesh/sales/orders"));
        assert_eq!(m.hdfs_permission, None, "the mode is not known to be set");
        assert_eq!(m.cassandra_keyspace.as_deref(), Some("sales__orders"));
    }

    #[test]
    fn port_values_are_checked_at_their_path() {
        let config = Value::object([
            ("retention_days", Value::Number(60.0)),
            (
                "s3",
                Value::object([
                    ("infrequent_access_after_days", Value::Number(30.0)),
                    ("archive_after_days", Value::Number(90.0)),
                ]),
            ),
            (
                "hdfs",
                Value::object([("space_quota_bytes", Value::Number(0.0)), ("namespace_quota", Value::Number(2.5))]),
            ),
            (
                "cassandra",
                Value::object([("replication", Value::Map(BTreeMap::from([("dc1".to_string(), Value::Number(0.0))])))]),
            ),
        ]);
        let mut diags = Diagnostics::new();
        validate_ports(&config, &mut diags);
        let paths: Vec<String> = diags.0.iter().filter_map(|d| d.path.as_ref().map(|p| p.to_string())).collect();
        assert_eq!(
            paths,
            vec![
                "s3.archive_after_days",
                "hdfs.space_quota_bytes",
                "hdfs.namespace_quota",
                "cassandra.replication[\"dc1\"]"
            ]
        );
        let mut none = Diagnostics::new();
        validate_ports(
            &Value::object([("hdfs", Value::object([("space_quota_bytes", Value::Number(1e12))]))]),
            &mut none,
        );
        assert!(none.is_empty(), "{none:?}");
    }

    #[test]
    fn standard_tags_describe_the_product() {
        let m = ProductModel {
            domain: "sales".into(),
            name: "orders".into(),
            classification: Some("internal".into()),
            contains_pii: Some(true),
            ..Default::default()
        };
        let tags: BTreeMap<_, _> = standard_tags(&m, "team").into_iter().collect();
        assert_eq!(tags["datamesh:classification"], "internal");
        assert_eq!(tags["datamesh:contains-pii"], "true");
        assert_eq!(tags["datamesh:owner"], "team");
    }
}
