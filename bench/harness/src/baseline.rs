//! The backends' own limit: the backend calls `terraform apply` of the workload makes through the
//! provider, made directly through the provider's backend code (same SDK clients, same
//! catalog), in the same order per resource, with Terraform's default concurrency of 10 and the
//! same dependencies (a product's streams and grants start once the product exists), and no
//! Terraform, gRPC or framework in between.
//!
//! Mirrors `resources::{data_product, stream, access_grant}::create` and the one backend call of
//! planning (a grant's `modify_plan` reads its product's catalog entry, once in the plan walk and
//! once more when Terraform re-plans during apply). Keep it in step when those change.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use terraform_provider_datamesh::backends::catalog::{data_product_key, domain_key, grant_key, stream_key};
use terraform_provider_datamesh::backends::streaming::TopicSpec;
use terraform_provider_datamesh::backends::{Catalog, Iam, Storage, Streaming};
use terraform_provider_datamesh::provider::config::{ProviderConfig, Secret};
use terraform_provider_datamesh::provider::ProviderData;
use terraform_provider_datamesh::resources::access_grant::GrantEntry;
use terraform_provider_datamesh::resources::data_product::{PortEntry, ProductEntry};
use terraform_provider_datamesh::resources::stream::StreamEntry;
use terraform_provider_datamesh::{naming, policy};
use tokio::sync::Semaphore;

use crate::workload::{ProductSpec, Workload, CLASSIFICATION, PARTITIONS, PURPOSE, RETENTION_DAYS};

type Res<T> = Result<T, String>;

/// The backends, connected once as the provider connects them.
struct Backends {
    storage: Arc<dyn Storage>,
    iam: Arc<dyn Iam>,
    streaming: Arc<dyn Streaming>,
    catalog: Arc<Catalog>,
    data: Arc<ProviderData>,
    prefix: String,
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn err<E: std::fmt::Display>(what: &str) -> impl Fn(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

impl Backends {
    /// `datamesh_access_grant`'s plan-time read.
    async fn plan_grant(&self, p: &ProductSpec) -> Res<()> {
        self.catalog.get::<ProductEntry>(&data_product_key(&p.domain, &p.name)).await.map_err(err("plan read"))?;
        Ok(())
    }

    /// `datamesh_data_product` create.
    async fn create_product(&self, p: &ProductSpec) -> Res<()> {
        let prefix = &self.prefix;
        let bucket = naming::bucket_name(prefix, &p.domain, &p.name);
        let role = naming::role_name(prefix, &p.domain);
        self.iam.get_role(&role).await.map_err(err("get role"))?.ok_or(format!("no role {role}"))?;
        let owner = match self.catalog.get::<serde_json::Value>(&domain_key(&p.domain)).await.map_err(err("domain"))? {
            Some(d) => d["owner"].as_str().unwrap_or(&p.domain).to_string(),
            None => p.domain.clone(),
        };
        let tags: BTreeMap<String, String> = [
            ("datamesh:domain", p.domain.clone()),
            ("datamesh:data-product", p.name.clone()),
            ("datamesh:classification", CLASSIFICATION.to_string()),
            ("datamesh:contains-pii", "false".to_string()),
            ("datamesh:owner", owner.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        self.storage.create_bucket(&bucket).await.map_err(err("create bucket"))?;
        self.storage.set_versioning(&bucket, true).await.map_err(err("versioning"))?;
        self.storage.set_default_encryption(&bucket).await.map_err(err("encryption"))?;
        self.storage.set_expiration(&bucket, Some(RETENTION_DAYS)).await.map_err(err("lifecycle"))?;
        self.storage.set_tags(&bucket, &tags).await.map_err(err("tags"))?;
        self.iam
            .put_role_policy(&role, &naming::owner_policy_name(&p.name), &policy::owner_policy(&bucket))
            .await
            .map_err(err("owner policy"))?;
        let entry = ProductEntry {
            id: naming::data_product_id(&p.domain, &p.name),
            domain: p.domain.clone(),
            name: p.name.clone(),
            description: None,
            owner,
            classification: CLASSIFICATION.into(),
            contains_pii: false,
            retention_days: Some(RETENTION_DAYS),
            versioning: true,
            schema: None,
            tags: BTreeMap::new(),
            s3_uri: Some(format!("s3://{bucket}/")),
            port_list: vec![PortEntry { kind: "s3".into(), location: format!("s3://{bucket}/") }],
            bucket: Some(bucket),
            hdfs_path: None,
            hdfs_uri: None,
            cassandra_keyspace: None,
            created_at: now_rfc3339(),
        };
        self.catalog.put(&data_product_key(&p.domain, &p.name), &entry).await.map_err(err("catalog put"))?;
        Ok(())
    }

    /// `datamesh_stream` create.
    async fn create_stream(&self, p: &ProductSpec, name: &str) -> Res<()> {
        self.catalog
            .get::<ProductEntry>(&data_product_key(&p.domain, &p.name))
            .await
            .map_err(err("catalog get"))?
            .ok_or("product missing")?;
        let topic = naming::topic_name(&p.domain, &p.name, name);
        let spec =
            TopicSpec { name: topic.clone(), partitions: PARTITIONS, replication_factor: 1, configs: BTreeMap::new() };
        self.streaming.create_topic(&spec).await.map_err(err("create topic"))?;
        let entry = StreamEntry {
            topic,
            data_product: naming::data_product_id(&p.domain, &p.name),
            name: name.to_string(),
            partitions: PARTITIONS as i64,
            replication_factor: 1,
            configs: BTreeMap::new(),
            created_at: Some(now_rfc3339()),
        };
        self.catalog.put(&stream_key(&p.domain, &p.name, name), &entry).await.map_err(err("catalog put"))?;
        Ok(())
    }

    /// `datamesh_access_grant` create (after its apply-time re-plan read).
    async fn create_grant(&self, p: &ProductSpec, consumer: &str) -> Res<()> {
        self.plan_grant(p).await?;
        let role = naming::role_name(&self.prefix, consumer);
        let name = format!("datamesh-grant-{}-{}", p.domain, p.name);
        self.iam.get_role(&role).await.map_err(err("get role"))?.ok_or(format!("no role {role}"))?;
        self.catalog
            .get::<ProductEntry>(&data_product_key(&p.domain, &p.name))
            .await
            .map_err(err("catalog get"))?
            .ok_or("product missing")?;
        if self.iam.get_role_policy(&role, &name).await.map_err(err("get policy"))?.is_some() {
            return Err(format!("grant policy {name} already exists"));
        }
        let bucket = naming::bucket_name(&self.prefix, &p.domain, &p.name);
        let document = policy::grant_policy(&bucket, false, None);
        self.iam.put_role_policy(&role, &name, &document).await.map_err(err("put policy"))?;
        let caller = self.data.caller().await.ok().map(|c| c.arn);
        let entry = GrantEntry {
            id: format!("{consumer}:{}", naming::data_product_id(&p.domain, &p.name)),
            consumer_domain: consumer.to_string(),
            data_product: naming::data_product_id(&p.domain, &p.name),
            access: "read".into(),
            purpose: PURPOSE.into(),
            expires_at: None,
            policy_name: name,
            kafka_acls: Vec::new(),
            granted_by: caller,
            granted_at: Some(now_rfc3339()),
        };
        self.catalog.put(&grant_key(consumer, &p.domain, &p.name), &entry).await.map_err(err("catalog put"))?;
        Ok(())
    }
}

/// The provider's configuration for the local stack (`stack.env`), as the workload's HCL sets it.
/// The broker and its login come from the environment, as the provider's `kafka {}` defaults
/// do: `DATAMESH_KAFKA_BOOTSTRAP_SERVERS`, `DATAMESH_KAFKA_SECURITY_PROTOCOL` (the stack's
/// Apache Kafka: `SASL_PLAINTEXT`) and `DATAMESH_KAFKA_SASL_MECHANISM` / `_USERNAME` /
/// `_PASSWORD` (its admin's SCRAM login).
pub fn stack_config(prefix: &str) -> Res<ProviderConfig> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let mut config = ProviderConfig {
        name_prefix: prefix.to_string(),
        catalog_bucket: format!("{prefix}-catalog"),
        ..Default::default()
    };
    config.aws.s3_force_path_style = true;
    config.kafka.bootstrap_servers = env("DATAMESH_KAFKA_BOOTSTRAP_SERVERS")
        .ok_or("DATAMESH_KAFKA_BOOTSTRAP_SERVERS is not set (source the stack's stack.env)")?
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(protocol) = env("DATAMESH_KAFKA_SECURITY_PROTOCOL") {
        config.kafka.security_protocol = protocol;
    }
    config.kafka.sasl_mechanism = env("DATAMESH_KAFKA_SASL_MECHANISM");
    config.kafka.sasl_username = env("DATAMESH_KAFKA_SASL_USERNAME");
    config.kafka.sasl_password = env("DATAMESH_KAFKA_SASL_PASSWORD").map(Secret);
    if config.kafka.security_protocol.starts_with("SASL_")
        && (config.kafka.sasl_username.is_none() || config.kafka.sasl_password.is_none())
    {
        return Err(format!(
            "DATAMESH_KAFKA_SECURITY_PROTOCOL={} needs DATAMESH_KAFKA_SASL_USERNAME and DATAMESH_KAFKA_SASL_PASSWORD (source the stack's stack.env)",
            config.kafka.security_protocol
        ));
    }
    config.kafka.default_replication_factor = 1;
    config.kafka.manage_acls = false;
    Ok(config)
}

/// Runs the workload's backend calls; returns timings and call counts as JSON.
pub fn run(workload: &Workload, concurrency: usize) -> Res<serde_json::Value> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let start = Instant::now();
        let data = Arc::new(ProviderData::new(stack_config(&workload.prefix)?));
        let b = Arc::new(Backends {
            storage: data.storage().await.map_err(|d| format!("{d:?}"))?,
            iam: data.iam().await.map_err(|d| format!("{d:?}"))?,
            streaming: data.streaming().await.map_err(|d| format!("{d:?}"))?,
            catalog: data.catalog().await.map_err(|d| format!("{d:?}"))?,
            data: data.clone(),
            prefix: workload.prefix.clone(),
        });
        let connected_ms = start.elapsed().as_secs_f64() * 1e3;
        let products = workload.products();
        let permits = Arc::new(Semaphore::new(concurrency));

        // Plan walk: each grant reads its (not yet existing) product's catalog entry.
        let mut plan = Vec::new();
        for p in &products {
            for _ in &p.consumers {
                let (b, p, permits) = (b.clone(), p.clone(), permits.clone());
                plan.push(tokio::spawn(async move {
                    let _permit = permits.acquire_owned().await.map_err(|e| e.to_string())?;
                    b.plan_grant(&p).await
                }));
            }
        }
        for t in plan {
            t.await.map_err(|e| e.to_string())??;
        }
        let planned_ms = start.elapsed().as_secs_f64() * 1e3;

        // Apply walk: products, then each product's streams and grants as soon as it exists.
        let mut tasks = Vec::new();
        for p in products {
            let (b, permits) = (b.clone(), permits.clone());
            tasks.push(tokio::spawn(async move {
                {
                    let _permit = permits.clone().acquire_owned().await.map_err(|e| e.to_string())?;
                    b.create_product(&p).await.map_err(|e| format!("product {}: {e}", p.name))?;
                }
                let mut children = Vec::new();
                for s in p.streams.clone() {
                    let (b, p, permits) = (b.clone(), p.clone(), permits.clone());
                    children.push(tokio::spawn(async move {
                        let _permit = permits.acquire_owned().await.map_err(|e| e.to_string())?;
                        b.create_stream(&p, &s).await.map_err(|e| format!("stream {}/{s}: {e}", p.name))
                    }));
                }
                for c in p.consumers.clone() {
                    let (b, p, permits) = (b.clone(), p.clone(), permits.clone());
                    children.push(tokio::spawn(async move {
                        let _permit = permits.acquire_owned().await.map_err(|e| e.to_string())?;
                        b.create_grant(&p, &c).await.map_err(|e| format!("grant {c}->{}: {e}", p.name))
                    }));
                }
                for c in children {
                    c.await.map_err(|e| e.to_string())??;
                }
                Ok::<(), String>(())
            }));
        }
        for t in tasks {
            t.await.map_err(|e| e.to_string())??;
        }
        let total_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(json!({
            "connect_ms": connected_ms,
            "plan_reads_ms": planned_ms - connected_ms,
            "total_ms": total_ms,
            "resources": workload.resource_count(),
            "concurrency": concurrency,
        }))
    })
}
