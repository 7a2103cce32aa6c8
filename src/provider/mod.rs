//! The datamesh provider: its configuration, its resources, and the backends it connects to
//! lazily (so unknown configuration values never crash planning).

pub mod config;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

use crate::backends::aws_iam::AwsIam;
use crate::backends::iam::CallerIdentity;
use crate::backends::kafka::{KafkaConnection, KafkaStreaming};
use crate::backends::s3::S3Storage;
use crate::backends::{Catalog, Iam, Storage, Streaming};
use crate::framework::{DataSource, Diagnostic, EphemeralResource, ListResource, Resource, Schema};
use crate::{data_sources, ephemeral, list_resources, resources};
pub use config::ProviderConfig;

/// The provider: resources and schemas (built once), and the configured data.
pub struct DatameshProvider {
    schema: Schema,
    resources: BTreeMap<&'static str, (Arc<dyn Resource>, Schema)>,
    data_sources: BTreeMap<&'static str, (Arc<dyn DataSource>, Schema)>,
    ephemeral: BTreeMap<&'static str, (Arc<dyn EphemeralResource>, Schema)>,
    lists: BTreeMap<&'static str, (Arc<dyn ListResource>, Schema)>,
    data: RwLock<Option<Arc<ProviderData>>>,
}

impl Default for DatameshProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl DatameshProvider {
    /// The provider with every resource registered.
    pub fn new() -> Self {
        let resources = resources::all().into_iter().map(|r| (r.type_name(), (r.clone(), r.schema()))).collect();
        let data_sources = data_sources::all().into_iter().map(|d| (d.type_name(), (d.clone(), d.schema()))).collect();
        let ephemeral = ephemeral::all().into_iter().map(|e| (e.type_name(), (e.clone(), e.schema()))).collect();
        let lists = list_resources::all().into_iter().map(|l| (l.type_name(), (l.clone(), l.schema()))).collect();
        Self { schema: config::schema(), resources, data_sources, ephemeral, lists, data: RwLock::new(None) }
    }

    /// The provider configuration schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Every resource with its schema.
    pub fn resources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn Resource>, &Schema)> {
        self.resources.iter().map(|(n, (r, s))| (*n, r, s))
    }

    /// One resource and its schema.
    pub fn resource(&self, name: &str) -> Option<(&Arc<dyn Resource>, &Schema)> {
        self.resources.get(name).map(|(r, s)| (r, s))
    }

    /// Every data source with its schema.
    pub fn data_sources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn DataSource>, &Schema)> {
        self.data_sources.iter().map(|(n, (d, s))| (*n, d, s))
    }

    /// One data source and its schema.
    pub fn data_source(&self, name: &str) -> Option<(&Arc<dyn DataSource>, &Schema)> {
        self.data_sources.get(name).map(|(d, s)| (d, s))
    }

    /// Every ephemeral resource with its schema.
    pub fn ephemeral_resources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn EphemeralResource>, &Schema)> {
        self.ephemeral.iter().map(|(n, (e, s))| (*n, e, s))
    }

    /// One ephemeral resource and its schema.
    pub fn ephemeral_resource(&self, name: &str) -> Option<(&Arc<dyn EphemeralResource>, &Schema)> {
        self.ephemeral.get(name).map(|(e, s)| (e, s))
    }

    /// Every list resource with the schema of its `config` block.
    pub fn list_resources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn ListResource>, &Schema)> {
        self.lists.iter().map(|(n, (l, s))| (*n, l, s))
    }

    /// One list resource and its config schema.
    pub fn list_resource(&self, name: &str) -> Option<(&Arc<dyn ListResource>, &Schema)> {
        self.lists.get(name).map(|(l, s)| (l, s))
    }

    /// Stores the configuration; backends connect when first used, and give up when `stop` fires.
    pub fn configure(&self, config: ProviderConfig, stop: CancellationToken) {
        let data = Arc::new(ProviderData::with_stop(config, stop));
        if let Ok(mut slot) = self.data.write() {
            *slot = Some(data);
        }
    }

    /// The configured data; an unconfigured provider (as in `terraform validate`) uses defaults.
    pub fn data(&self) -> Arc<ProviderData> {
        if let Ok(slot) = self.data.read() {
            if let Some(d) = slot.as_ref() {
                return d.clone();
            }
        }
        Arc::new(ProviderData::new(ProviderConfig::default()))
    }
}

struct AwsBackends {
    storage: Arc<dyn Storage>,
    iam: Arc<dyn Iam>,
    catalog: Arc<Catalog>,
}

/// The provider's configuration and its lazily connected backends, shared by every call.
pub struct ProviderData {
    /// The configuration.
    pub config: ProviderConfig,
    aws: OnceCell<AwsBackends>,
    kafka: OnceCell<Arc<dyn Streaming>>,
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
        Self { config, aws: OnceCell::new(), kafka: OnceCell::new(), caller: OnceCell::new(), stop }
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
            caller: OnceCell::new(),
            stop: CancellationToken::new(),
        }
    }

    async fn aws(&self) -> Result<&AwsBackends, Diagnostic> {
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
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_secs(5))
                .operation_attempt_timeout(config.kafka.timeout)
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
                crate::framework::AttrPath::attr("aws"),
                "Incomplete AWS credentials",
                "Set both aws.access_key and aws.secret_key, or neither to use the standard AWS credential chain.",
            ))
        }
    }
    let sdk = loader.load().await;
    let region = sdk.region().map(|r| r.to_string()).unwrap_or_else(|| "us-east-1".into());
    let region_value = aws_config::Region::new(region.clone());

    let mut s3 =
        aws_sdk_s3::config::Builder::from(&sdk).force_path_style(a.s3_force_path_style).region(region_value.clone());
    if let Some(e) = &a.s3_endpoint {
        s3 = s3.endpoint_url(e);
    }
    let mut iam = aws_sdk_iam::config::Builder::from(&sdk).region(region_value.clone());
    let mut sts = aws_sdk_sts::config::Builder::from(&sdk).region(region_value);
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
