//! The datamesh provider as the framework sees it ([`DatameshProvider`]), and what every call
//! receives ([`ProviderData`]): the configuration and the backends, connected lazily (so unknown
//! configuration values never crash planning).

pub mod config;
pub mod settings;

use crate::backends::Diagnose;
use std::sync::Arc;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::retry::{RetryPartition, TokenBucket};
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::backends::aws_iam::AwsIam;
use crate::backends::cassandra::CassandraDatabase;
use crate::backends::flink::FlinkRest;
use crate::backends::iam::CallerIdentity;
use crate::backends::kafka::{KafkaConnection, KafkaStreaming};
use crate::backends::processing::Engine;
use crate::backends::s3::S3Storage;
use crate::backends::spark::SparkRest;
use crate::backends::webhdfs::WebHdfs;
use crate::backends::Processing;
use crate::backends::{Catalog, Database, Hdfs, Iam, Storage, Streaming};
use crate::{data_sources, ephemeral, functions, list_resources, resources};
pub use config::ProviderConfig;
use settings::cassandra::CassandraSettings;
use settings::hdfs::HdfsSettings;
use tfplugin::framework::{
    Action, DataSource, Diagnostic, Diagnostics, EphemeralResource, Function, ListResource, Provider, Resource,
    ResourceContext, Schema, Value,
};

/// The provider's address, as users write it in `required_providers`.
pub const ADDRESS: &str = "registry.terraform.io/datamesh/datamesh";

/// What every resource, data source and list resource call receives.
pub type Context = ResourceContext<ProviderData>;

/// The datamesh provider, as the framework serves it.
#[derive(Debug, Default, Clone, Copy)]
pub struct DatameshProvider;

impl Provider for DatameshProvider {
    type Data = ProviderData;

    fn schema(&self) -> Schema {
        config::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        config::validate(config, diags);
    }

    fn configure(&self, config: &Value, stop: CancellationToken, diags: &mut Diagnostics) -> ProviderData {
        config::validate(config, diags);
        let typed = ProviderConfig::from_value(config);
        if !typed.unknown.is_empty() {
            tracing::info!(unknown = ?typed.unknown, "provider configured with unknown settings; backends connect when they are known");
        }
        ProviderData::with_stop(typed, stop)
    }

    fn unconfigured(&self) -> ProviderData {
        ProviderData::new(ProviderConfig::default())
    }

    fn resources(&self) -> Vec<Arc<dyn Resource<ProviderData>>> {
        resources::all()
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource<ProviderData>>> {
        data_sources::all()
    }

    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<ProviderData>>> {
        ephemeral::all()
    }

    fn list_resources(&self) -> Vec<Arc<dyn ListResource<ProviderData>>> {
        list_resources::all()
    }

    fn actions(&self) -> Vec<Arc<dyn Action<ProviderData>>> {
        crate::actions::all()
    }

    fn functions(&self) -> Vec<Function> {
        functions::all()
    }
}

/// The AWS side of the platform: they connect together, with one set of credentials.
pub struct AwsBackends {
    /// Object storage (the products' buckets, the catalog's objects).
    pub storage: Arc<dyn Storage>,
    /// IAM and STS.
    pub iam: Arc<dyn Iam>,
    /// The catalog, in its bucket.
    pub catalog: Arc<Catalog>,
}

/// The provider's configuration and its lazily connected backends, shared by every call.
pub struct ProviderData {
    /// The configuration.
    pub config: ProviderConfig,
    aws: OnceCell<AwsBackends>,
    kafka: OnceCell<Arc<dyn Streaming>>,
    hdfs: OnceCell<Arc<dyn Hdfs>>,
    database: OnceCell<Arc<dyn Database>>,
    flink: OnceCell<Arc<dyn Processing>>,
    spark: OnceCell<Arc<dyn Processing>>,
    caller: OnceCell<CallerIdentity>,
    /// Cancelled when Terraform calls StopProvider: in-flight retries give up.
    pub stop: CancellationToken,
}

impl ProviderData {
    /// Data for a configuration; nothing connects yet.
    pub fn new(config: ProviderConfig) -> Self {
        Self::with_stop(config, CancellationToken::new())
    }

    /// Data for a configuration whose retries end when `stop` is cancelled.
    pub fn with_stop(config: ProviderConfig, stop: CancellationToken) -> Self {
        Self {
            config,
            aws: OnceCell::new(),
            kafka: OnceCell::new(),
            hdfs: OnceCell::new(),
            database: OnceCell::new(),
            flink: OnceCell::new(),
            spark: OnceCell::new(),
            caller: OnceCell::new(),
            stop,
        }
    }

    /// Data whose backends are given (tests, benchmarks).
    pub fn with_backends(
        config: ProviderConfig,
        storage: Arc<dyn Storage>,
        iam: Arc<dyn Iam>,
        streaming: Arc<dyn Streaming>,
    ) -> Self {
        let catalog = Arc::new(Catalog::new(storage.clone(), config.catalog_bucket.clone()));
        Self {
            config,
            aws: OnceCell::new_with(Some(AwsBackends { storage, iam, catalog })),
            kafka: OnceCell::new_with(Some(streaming)),
            hdfs: OnceCell::new(),
            database: OnceCell::new(),
            flink: OnceCell::new(),
            spark: OnceCell::new(),
            caller: OnceCell::new(),
            stop: CancellationToken::new(),
        }
    }

    /// The same, with the HDFS and Cassandra backends given too.
    pub fn with_stores(mut self, hdfs: Option<Arc<dyn Hdfs>>, database: Option<Arc<dyn Database>>) -> Self {
        self.hdfs = OnceCell::new_with(hdfs);
        self.database = OnceCell::new_with(database);
        self
    }

    /// Storage, IAM and the catalog, connected on first use.
    pub async fn aws(&self) -> Result<&AwsBackends, Diagnostic> {
        self.aws.get_or_try_init(|| connect_aws(&self.config)).await
    }

    /// Object storage.
    pub async fn storage(&self) -> Result<Arc<dyn Storage>, Diagnostic> {
        Ok(self.aws().await?.storage.clone())
    }

    /// IAM.
    pub async fn iam(&self) -> Result<Arc<dyn Iam>, Diagnostic> {
        Ok(self.aws().await?.iam.clone())
    }

    /// The catalog.
    pub async fn catalog(&self) -> Result<Arc<Catalog>, Diagnostic> {
        Ok(self.aws().await?.catalog.clone())
    }

    /// The Kafka admin API.
    pub async fn streaming(&self) -> Result<Arc<dyn Streaming>, Diagnostic> {
        self.kafka
            .get_or_try_init(|| async {
                if let Some(msg) = self.config.unknown_error("kafka") {
                    return Err(Diagnostic::error("Kafka settings are not known yet", msg));
                }
                let k = &self.config.kafka;
                if k.bootstrap_servers.is_empty() {
                    return Err(Diagnostic::error(
                        "No Kafka brokers configured",
                        "Set kafka { bootstrap_servers = [\"host:port\"] } in the provider block, or DATAMESH_KAFKA_BOOTSTRAP_SERVERS in the environment.",
                    ));
                }
                let conn = KafkaConnection {
                    bootstrap_servers: k.bootstrap_servers.clone(),
                    security_protocol: k.security_protocol.clone(),
                    sasl_mechanism: k.sasl_mechanism.clone(),
                    sasl_username: k.sasl_username.clone(),
                    sasl_password: k.sasl_password.as_ref().map(|s| s.0.clone()),
                    ca_cert_pem: k.ca_cert_pem.clone(),
                    timeout: k.timeout,
                    shared_reads: k.shared_reads,
                };
                KafkaStreaming::connect(&conn, self.stop.clone())
                    .map(|s| Arc::new(s) as Arc<dyn Streaming>)
                    .map_err(|e| e.diagnostic("the Kafka connection"))
            })
            .await
            .cloned()
    }

    /// HDFS (WebHDFS), connected on first use; an error naming the setting to add when the
    /// provider has no `hdfs { webhdfs_url }`.
    pub async fn hdfs(&self) -> Result<Arc<dyn Hdfs>, Diagnostic> {
        self.hdfs
            .get_or_try_init(|| async {
                if let Some(msg) = self.config.unknown_error("hdfs") {
                    return Err(Diagnostic::error("HDFS settings are not known yet", msg));
                }
                if !self.config.hdfs.configured() {
                    return Err(Diagnostic::error("HDFS is not configured", HDFS_MISSING));
                }
                connect_hdfs(&self.config.hdfs, self.stop.clone())
            })
            .await
            .cloned()
    }

    /// Cassandra, connected on first use; an error naming the setting to add when the
    /// provider has no `cassandra { contact_points }`.
    pub async fn database(&self) -> Result<Arc<dyn Database>, Diagnostic> {
        self.database
            .get_or_try_init(|| async {
                if let Some(msg) = self.config.unknown_error("cassandra") {
                    return Err(Diagnostic::error("Cassandra settings are not known yet", msg));
                }
                if !self.config.cassandra.configured() {
                    return Err(Diagnostic::error("Cassandra is not configured", CASSANDRA_MISSING));
                }
                connect_cassandra(&self.config.cassandra, self.stop.clone()).await
            })
            .await
            .cloned()
    }

    /// The processing engine that runs `engine`'s pipelines, connected on first use; an error
    /// naming the setting to add when the provider has no such engine configured.
    pub async fn processing(&self, engine: Engine) -> Result<Arc<dyn Processing>, Diagnostic> {
        let (cell, block, configured, missing) = match engine {
            Engine::Flink => (&self.flink, "flink", self.config.flink.configured(), FLINK_MISSING),
            Engine::Spark => (&self.spark, "spark", self.config.spark.configured(), SPARK_MISSING),
        };
        cell.get_or_try_init(|| async {
            if let Some(msg) = self.config.unknown_error(block) {
                return Err(Diagnostic::error(format!("{} settings are not known yet", engine.title()), msg));
            }
            if !configured {
                return Err(Diagnostic::error(format!("{} is not configured", engine.title()), missing));
            }
            connect_processing(&self.config, engine, self.stop.clone())
        })
        .await
        .cloned()
    }

    /// Who the provider's credentials are (asked once).
    pub async fn caller(&self) -> Result<CallerIdentity, Diagnostic> {
        let iam = self.iam().await?;
        self.caller
            .get_or_try_init(|| async { iam.caller_identity().await.map_err(|e| e.diagnostic("the caller identity")) })
            .await
            .cloned()
    }

    /// The AWS account of the provider's credentials.
    pub async fn account_id(&self) -> Result<String, Diagnostic> {
        self.caller().await.map(|c| c.account)
    }
}

/// What to add when a pipeline needs Flink and the provider has none.
pub const FLINK_MISSING: &str = "Set flink { rest_url = \"http://<jobmanager>:8081\" } in the provider block (or DATAMESH_FLINK_REST_URL in the environment).";

/// What to add when a pipeline needs Spark and the provider has none.
pub const SPARK_MISSING: &str = "Set spark { rest_url = \"http://<master>:6066\" } in the provider block (or DATAMESH_SPARK_REST_URL in the environment).";

fn connect_processing(
    config: &ProviderConfig,
    engine: Engine,
    stop: CancellationToken,
) -> Result<Arc<dyn Processing>, Diagnostic> {
    let made = match engine {
        Engine::Flink => FlinkRest::new(&config.flink, stop).map(|f| Arc::new(f) as Arc<dyn Processing>),
        Engine::Spark => SparkRest::new(&config.spark, stop).map(|s| Arc::new(s) as Arc<dyn Processing>),
    };
    made.map_err(|e| e.diagnostic(&format!("the {} connection", engine.title())))
}

/// What to add when a resource needs HDFS and the provider has none.
pub const HDFS_MISSING: &str = "Set hdfs { webhdfs_url = \"http://<namenode>:9870\" } in the provider block (or DATAMESH_HDFS_WEBHDFS_URL in the environment).";

/// What to add when a resource needs Cassandra and the provider has none.
pub const CASSANDRA_MISSING: &str = "Set cassandra { contact_points = [\"<host>:9042\"] } in the provider block (or DATAMESH_CASSANDRA_CONTACT_POINTS in the environment).";

fn connect_hdfs(settings: &HdfsSettings, stop: CancellationToken) -> Result<Arc<dyn Hdfs>, Diagnostic> {
    WebHdfs::new(settings, stop).map(|h| Arc::new(h) as Arc<dyn Hdfs>).map_err(|e| e.diagnostic("the HDFS connection"))
}

async fn connect_cassandra(
    settings: &CassandraSettings,
    stop: CancellationToken,
) -> Result<Arc<dyn Database>, Diagnostic> {
    CassandraDatabase::connect(settings, stop)
        .await
        .map(|d| Arc::new(d) as Arc<dyn Database>)
        .map_err(|e| e.diagnostic("the Cassandra connection"))
}

fn endpoint_from_env(service: &str) -> Option<String> {
    [format!("AWS_ENDPOINT_URL_{service}"), "AWS_ENDPOINT_URL".to_string()]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
}

async fn connect_aws(config: &ProviderConfig) -> Result<AwsBackends, Diagnostic> {
    if let Some(msg) = config.unknown_error("aws") {
        return Err(Diagnostic::error("AWS settings are not known yet", msg));
    }
    let a = &config.aws;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // 8 attempts: a connection lost on 1 in 5 attempts (the flaky-connection fault test)
        // still ends a call with 5 attempts once in ~3,000 calls, i.e. in most applies of a
        // few hundred resources; with 8, once in ~390,000. Backoffs stay the SDK's (jittered,
        // at most 20 s each).
        .retry_config(RetryConfig::standard().with_max_attempts(8))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .operation_attempt_timeout(config.aws.timeout)
                .build(),
        );
    if let Some(region) = &a.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    if let Some(profile) = &a.profile {
        loader = loader.profile_name(profile);
    }
    match (&a.access_key, &a.secret_key) {
        (Some(ak), Some(sk)) => {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                ak,
                &sk.0,
                None,
                None,
                "datamesh-provider-config",
            ));
        }
        (None, None) => {}
        _ => {
            return Err(Diagnostic::attr_error(
                tfplugin::framework::AttrPath::attr("aws"),
                "Incomplete AWS credentials",
                "Set both aws.access_key and aws.secret_key, or neither to use the standard AWS credential chain.",
            ))
        }
    }
    let sdk = loader.load().await;
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let region_value = aws_config::Region::new(region.clone());

    // Every call already stops after 8 attempts, each within its timeout; the SDK's shared retry
    // quota on top (500 tokens, 5 per retry, 10 per timeout) ran dry after ~50 failed attempts
    // across all calls of one apply, so a flaky endpoint ended calls with "retries ran out" on
    // their first error. Each client gets its own partition with no such quota.
    let partition = |name: &'static str| RetryPartition::custom(name).token_bucket(TokenBucket::unlimited()).build();
    let mut s3 = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(a.s3_force_path_style)
        .region(region_value.clone())
        .retry_partition(partition("datamesh-s3"));
    if let Some(e) = &a.s3_endpoint {
        s3 = s3.endpoint_url(e);
    }
    let mut iam = aws_sdk_iam::config::Builder::from(&sdk)
        .region(region_value.clone())
        .retry_partition(partition("datamesh-iam"));
    let mut sts =
        aws_sdk_sts::config::Builder::from(&sdk).region(region_value).retry_partition(partition("datamesh-sts"));
    if let Some(e) = &a.iam_endpoint {
        iam = iam.endpoint_url(e);
        sts = sts.endpoint_url(e);
    }
    let s3_endpoint = a.s3_endpoint.clone().or_else(|| endpoint_from_env("S3")).unwrap_or_else(|| "AWS S3".into());
    let iam_endpoint = a.iam_endpoint.clone().or_else(|| endpoint_from_env("IAM")).unwrap_or_else(|| "AWS IAM".into());

    let storage: Arc<dyn Storage> =
        Arc::new(S3Storage::new(aws_sdk_s3::Client::from_conf(s3.build()), region, s3_endpoint));
    let iam: Arc<dyn Iam> = Arc::new(AwsIam::new(
        aws_sdk_iam::Client::from_conf(iam.build()),
        aws_sdk_sts::Client::from_conf(sts.build()),
        iam_endpoint,
    ));
    let catalog = Arc::new(Catalog::new(storage.clone(), config.catalog_bucket.clone()));
    Ok(AwsBackends { storage, iam, catalog })
}

#[cfg(test)]
mod tests {
    use tfplugin::framework::resource::identity_type;
    use tfplugin::framework::{Registry, Type};

    use super::*;

    /// Every type Terraform sends this provider values of, with the schema the framework plans
    /// against where it plans (resources): what the fuzz targets decode and plan their inputs
    /// as. They depend on `tfplugin` alone, so they read this snapshot, `fuzz/surfaces.json`.
    fn fuzz_surfaces() -> serde_json::Value {
        let registry = Registry::new(&DatameshProvider);
        let surface = |name: String, ty: Type, schema: Option<&Schema>| serde_json::json!({ "surface": name, "type": ty.to_json(), "schema": schema.map(Schema::to_json) });
        let mut out = vec![surface("provider configuration".into(), registry.schema().ty(), None)];
        for (name, resource, schema) in registry.resources() {
            out.push(surface(format!("resource {name}"), schema.ty(), Some(schema)));
            out.push(surface(format!("identity {name}"), identity_type(resource.as_ref()), None));
        }
        for (name, _, schema) in registry.data_sources() {
            out.push(surface(format!("data source {name}"), schema.ty(), None));
        }
        for (name, _, schema) in registry.ephemeral_resources() {
            out.push(surface(format!("ephemeral resource {name}"), schema.ty(), None));
        }
        for (name, _, schema) in registry.list_resources() {
            out.push(surface(format!("list resource {name}"), schema.ty(), None));
        }
        // Function arguments (every function takes strings).
        out.push(surface("function argument".into(), Type::String, None));
        serde_json::Value::Array(out)
    }

    #[test]
    fn the_fuzz_targets_snapshot_of_the_schemas_is_current() {
        let want = fuzz_surfaces();
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/surfaces.json");
        if std::env::var_os("DATAMESH_WRITE_FUZZ_SURFACES").is_some() {
            let text = serde_json::to_string_pretty(&want).expect("json") + "\n";
            std::fs::write(path, text).expect("write fuzz/surfaces.json");
        }
        let have: serde_json::Value = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(serde_json::Value::Null);
        assert!(
            have == want,
            "fuzz/surfaces.json is not the provider's schemas any more: regenerate it with \
             `DATAMESH_WRITE_FUZZ_SURFACES=1 cargo test --lib the_fuzz_targets_snapshot` and commit it"
        );
    }
}
