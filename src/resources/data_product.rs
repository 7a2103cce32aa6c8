//! `datamesh_data_product`: a domain's data product. A bucket (versioning, SSE-S3, lifecycle,
//! tags), the owner policy on the domain's role, and the catalog descriptor.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{self, known_map, known_str, map_value, ok_or_report, tags_all};
use super::domain::DomainEntry;
use crate::backends::catalog::{data_product_key, domain_key};
use crate::governance::{self, ProductFacts};
use crate::provider::{Context, ProviderData};
use crate::{naming, policy};
use tfplugin::framework::resource::PlanRequest;
use tfplugin::framework::typed::{model_or_report, state_or_report};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Resource, Schema, Type, Value};

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
    /// The bucket.
    pub bucket: String,
    /// The output port.
    pub s3_uri: String,
    /// When it was created.
    pub created_at: String,
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
        bucket: m.bucket.clone().unwrap_or_default(),
        s3_uri: m.s3_uri.clone().unwrap_or_default(),
        created_at: m.created_at.clone().unwrap_or_default(),
    }
}

/// Fills the attributes derived from names alone.
fn derive_names(m: &mut ProductModel, prefix: &str) {
    let bucket = naming::bucket_name(prefix, &m.domain, &m.name);
    m.id = Some(naming::data_product_id(&m.domain, &m.name));
    m.bucket_arn = Some(policy::bucket_arn(&bucket));
    m.s3_uri = Some(format!("s3://{bucket}/"));
    m.manifest_key = Some(data_product_key(&m.domain, &m.name));
    m.bucket = Some(bucket);
}

impl DataProduct {
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
            "A data product owned by a domain. Creates its bucket (versioning, SSE-S3 default encryption, lifecycle expiration, standard tags), an owner policy `datamesh-owner-<name>` on the domain's role with read and write on the bucket, and the catalog descriptor.",
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
                Attribute::optional("force_destroy", Type::Bool, "Delete every object version when the product is destroyed. Without it, destroying a non-empty product fails and deletes nothing. Default `false`.").default(Value::Bool(false)),
                Attribute::computed("id", Type::String, "`<domain>/<name>`."),
                Attribute::computed("bucket", Type::String, "The bucket, `<name_prefix>-<domain>-<name>`."),
                Attribute::computed("bucket_arn", Type::String, "The bucket's ARN."),
                Attribute::computed("s3_uri", Type::String, "The product's output port, `s3://<bucket>/`."),
                Attribute::computed("manifest_key", Type::String, "The key of the product's descriptor in the catalog bucket."),
                Attribute::computed("created_at", Type::String, "When the product was created (RFC 3339)."),
                Attribute::computed("tags_all", Type::map(Type::String), "All tags on the bucket: `default_tags`, `tags` and the provider's standard tags."),
                Attribute::computed("encryption", Type::String, "The bucket's default encryption; the provider keeps it at SSE-S3 (`AES256`)."),
                Attribute::computed("owner_policy", Type::String, "The owner policy document on the domain's role; the provider keeps it as shown."),
            ],
        ))
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
    }

    async fn modify_plan(&self, ctx: &Context, req: PlanRequest<'_>, planned: &mut Value, diags: &mut Diagnostics) {
        let cfg = &ctx.provider.config;
        if let (Some(Some(domain)), Some(Some(name))) = (known_str(planned, "domain"), known_str(planned, "name")) {
            let bucket = naming::bucket_name(&cfg.name_prefix, domain, name);
            if let Err(msg) = naming::check_bucket_name(&bucket) {
                diags.attr_error(AttrPath::attr("name"), "Bucket name not possible", msg);
            }
            let mut m = ProductModel { domain: domain.into(), name: name.into(), ..Default::default() };
            derive_names(&mut m, &cfg.name_prefix);
            for (attr, v) in [
                ("id", &m.id),
                ("bucket", &m.bucket),
                ("bucket_arn", &m.bucket_arn),
                ("s3_uri", &m.s3_uri),
                ("manifest_key", &m.manifest_key),
            ] {
                planned.set(attr, v.clone().map(Value::string).unwrap_or(Value::Null));
            }
            planned.set("encryption", Value::string(SSE_ALGORITHM));
            planned.set("owner_policy", Value::string(policy::owner_policy(&bucket)));
            common::keep_equivalent_json(req.prior, planned, "owner_policy", policy::equivalent);
        } else {
            for a in ["id", "bucket", "bucket_arn", "s3_uri", "manifest_key", "owner_policy"] {
                planned.set(a, Value::Unknown);
            }
            planned.set("encryption", Value::string(SSE_ALGORITHM));
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
        derive_names(&mut m, &cfg.name_prefix);
        let bucket = m.bucket.clone().unwrap_or_default();
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
        m.encryption = Some(SSE_ALGORITHM.into());
        m.owner_policy = Some(m.owner_policy.clone().unwrap_or_else(|| policy::owner_policy(&bucket)));

        let what = format!("bucket {bucket:?} of data product {:?}", naming::data_product_id(&m.domain, &m.name));
        if ok_or_report(storage.create_bucket(&bucket).await, &what, diags).is_none() {
            return Value::Null;
        }
        // From here on the bucket exists: whatever fails, state records the product (tainted).
        let steps = async {
            if m.versioning.unwrap_or(true) {
                storage.set_versioning(&bucket, true).await.map_err(|e| e.diagnostic(&what))?;
            }
            storage.set_default_encryption(&bucket).await.map_err(|e| e.diagnostic(&what))?;
            if let Some(days) = m.retention_days {
                storage.set_expiration(&bucket, Some(days)).await.map_err(|e| e.diagnostic(&what))?;
            }
            storage.set_tags(&bucket, &tags).await.map_err(|e| e.diagnostic(&what))?;
            let policy_doc = m.owner_policy.clone().unwrap_or_default();
            iam.put_role_policy(&role, &naming::owner_policy_name(&m.name), &policy_doc)
                .await
                .map_err(|e| e.diagnostic(&format!("owner policy on IAM role {role:?}")))?;
            catalog.put(&data_product_key(&m.domain, &m.name), &entry(&m)).await.map_err(|e| {
                e.diagnostic(&format!("catalog descriptor of {:?}", naming::data_product_id(&m.domain, &m.name)))
            })
        };
        if let Err(d) = steps.await {
            diags.0.push(d);
        }
        self.state(&m, diags)
    }

    async fn read(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(state, diags) else { return state.clone() };
        let cfg = &ctx.provider.config;
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return state.clone() };
        let (storage, iam, catalog) = (&aws.storage, &aws.iam, &aws.catalog);
        derive_names(&mut m, &cfg.name_prefix);
        let bucket = m.bucket.clone().unwrap_or_default();
        let what = format!("bucket {bucket:?}");
        let Some(exists) = ok_or_report(storage.bucket_exists(&bucket).await, &what, diags) else {
            return state.clone();
        };
        if !exists {
            return Value::Null;
        }
        let role = naming::role_name(&cfg.name_prefix, &m.domain);
        let key = data_product_key(&m.domain, &m.name);
        let policy_name = naming::owner_policy_name(&m.name);
        let (versioning, encryption, expiration, tags, owner_policy, descriptor) = tokio::join!(
            storage.versioning(&bucket),
            storage.default_encryption(&bucket),
            storage.expiration(&bucket),
            storage.tags(&bucket),
            iam.get_role_policy(&role, &policy_name),
            catalog.get::<ProductEntry>(&key),
        );
        let (Some(versioning), Some(encryption), Some(expiration), Some(tags), Some(owner_policy), Some(descriptor)) = (
            ok_or_report(versioning, &what, diags),
            ok_or_report(encryption, &what, diags),
            ok_or_report(expiration, &what, diags),
            ok_or_report(tags, &what, diags),
            ok_or_report(owner_policy, &format!("owner policy on IAM role {role:?}"), diags),
            ok_or_report(descriptor, &format!("catalog descriptor {key:?}"), diags),
        ) else {
            return state.clone();
        };
        m.versioning = Some(versioning);
        m.encryption = encryption;
        m.retention_days = expiration;
        m.tags_all = Some(tags);
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
                m.created_at = Some(d.created_at);
            }
            // The descriptor is gone: planning shows the catalog entry being written again.
            None => m.manifest_key = None,
        }
        self.state(&m, diags)
    }

    async fn update(&self, ctx: &Context, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value {
        let (Some(old), Some(mut m)) = (self.model(prior, diags), self.model(planned, diags)) else {
            return prior.clone();
        };
        let cfg = &ctx.provider.config;
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return prior.clone() };
        let (storage, iam, catalog) = (&aws.storage, &aws.iam, &aws.catalog);
        derive_names(&mut m, &cfg.name_prefix);
        let bucket = m.bucket.clone().unwrap_or_default();
        let role = naming::role_name(&cfg.name_prefix, &m.domain);
        let what = format!("bucket {bucket:?}");
        m.owner = m.owner.or(old.owner.clone());
        m.created_at = old.created_at.clone().or_else(|| Some(common::now_rfc3339()));
        let owner = m.owner.clone().unwrap_or_default();
        let tags = tags_all(&cfg.default_tags, &m.tags.clone().unwrap_or_default(), &standard_tags(&m, &owner));
        m.tags_all = Some(tags.clone());
        let policy_doc = m.owner_policy.clone().unwrap_or_else(|| policy::owner_policy(&bucket));

        let steps = async {
            if m.versioning != old.versioning {
                storage.set_versioning(&bucket, m.versioning.unwrap_or(true)).await.map_err(|e| e.diagnostic(&what))?;
            }
            if old.encryption.as_deref() != Some(SSE_ALGORITHM) {
                storage.set_default_encryption(&bucket).await.map_err(|e| e.diagnostic(&what))?;
            }
            if m.retention_days != old.retention_days {
                storage.set_expiration(&bucket, m.retention_days).await.map_err(|e| e.diagnostic(&what))?;
            }
            if Some(&tags) != old.tags_all.as_ref() {
                storage.set_tags(&bucket, &tags).await.map_err(|e| e.diagnostic(&what))?;
            }
            if old.owner_policy.as_deref().is_none_or(|p| !policy::equivalent(p, &policy_doc)) {
                iam.put_role_policy(&role, &naming::owner_policy_name(&m.name), &policy_doc)
                    .await
                    .map_err(|e| e.diagnostic(&format!("owner policy on IAM role {role:?}")))?;
            }
            catalog.put(&data_product_key(&m.domain, &m.name), &entry(&m)).await.map_err(|e| {
                e.diagnostic(&format!("catalog descriptor of {:?}", naming::data_product_id(&m.domain, &m.name)))
            })
        };
        if let Err(d) = steps.await {
            diags.0.push(d);
            // Report what is really there: read it back rather than claim the plan.
            return self.read(ctx, prior, &mut Diagnostics::new()).await;
        }
        m.encryption = Some(SSE_ALGORITHM.into());
        m.owner_policy = Some(policy_doc);
        self.state(&m, diags)
    }

    async fn delete(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) {
        let Some(mut m) = self.model(state, diags) else { return };
        let cfg = &ctx.provider.config;
        let Some(aws) = diags.ok(ctx.provider.aws().await) else { return };
        let (storage, iam, catalog) = (&aws.storage, &aws.iam, &aws.catalog);
        derive_names(&mut m, &cfg.name_prefix);
        let bucket = m.bucket.clone().unwrap_or_default();
        let what = format!("bucket {bucket:?}");
        let exists = match storage.bucket_exists(&bucket).await {
            Ok(e) => e,
            Err(e) => {
                diags.0.push(e.diagnostic(&what));
                return;
            }
        };
        if exists {
            if m.force_destroy.unwrap_or(false) {
                if ok_or_report(storage.empty_bucket(&bucket).await, &what, diags).is_none() {
                    return;
                }
            } else {
                match storage.is_empty(&bucket).await {
                    Ok(true) => {}
                    Ok(false) => {
                        diags.attr_error(
                            AttrPath::attr("force_destroy"),
                            "Data product still holds data",
                            format!(
                                "The bucket {bucket:?} of data product {:?} is not empty, so nothing was deleted. Empty it first, \
                                 or set force_destroy = true and apply before destroying to delete every object version.",
                                naming::data_product_id(&m.domain, &m.name)
                            ),
                        );
                        return;
                    }
                    Err(e) => {
                        diags.0.push(e.diagnostic(&what));
                        return;
                    }
                }
            }
            if ok_or_report(storage.delete_bucket(&bucket).await, &what, diags).is_none() {
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
        derive_names(&mut m, "acme");
        assert_eq!(m.bucket.as_deref(), Some("acme-sales-orders"));
        assert_eq!(m.bucket_arn.as_deref(), Some("arn:aws:s3:::acme-sales-orders"));
        assert_eq!(m.s3_uri.as_deref(), Some("s3://acme-sales-orders/"));
        assert_eq!(m.manifest_key.as_deref(), Some("data-products/sales/orders.json"));
        assert_eq!(m.id.as_deref(), Some("sales/orders"));
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
