//! `datamesh_pipeline`: a domain's job on a processing engine — a Flink streaming job kept
//! running, or a Spark batch run — with its lineage governed at plan time and recorded in the
//! catalog.
//!
//! Flink: create uploads and runs the jar and returns once the job is `RUNNING`; a job that is
//! no longer alive is drift, planned back to `RUNNING` and restarted from its latest savepoint;
//! a change of what the job runs stops it with a savepoint and resumes from it (`savepoint`
//! upgrade mode) or starts it empty (`stateless`); delete stops it with a final savepoint.
//! Spark: create submits one run (waiting for the driver to end unless `wait = false`); any
//! change but `wait` and `timeout_seconds` is a new run (replacement); delete kills a running
//! driver.

pub(crate) mod run;

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::common::{self, known_map, known_str, ok_or_report};
use crate::backends::catalog::{data_product_key, grant_key, pipeline_key};
use crate::backends::processing::{Engine, JobStatus};
use crate::backends::Processing;
use crate::lineage::{self, CatalogFacts, Input, ProductFacts};
use crate::naming;
use crate::provider::{Context, ProviderData};
use crate::resources::access_grant::GrantEntry;
use crate::resources::data_product::ProductEntry;
pub use run::PipelineEntry;
use run::{FlinkOptions, SparkOptions, Submission};
use tfplugin::framework::resource::PlanRequest;
use tfplugin::framework::typed::{model_or_report, state_or_report};
use tfplugin::framework::{
    AttrPath, Attribute, Block, Diagnostic, Diagnostics, Nesting, Resource, Schema, Type, Value,
};

/// The `datamesh_pipeline` resource.
pub struct Pipeline;

/// Configuration keys the provider sets itself on every submission.
const RESERVED_CONFIG: [&str; 5] =
    ["pipeline.name", "spark.app.name", "spark.master", "spark.submit.deployMode", "spark.jars"];

/// The resource's state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PipelineModel {
    domain: String,
    name: String,
    engine: Option<String>,
    inputs: Option<Vec<String>>,
    outputs: Option<Vec<String>>,
    artifact: Option<String>,
    entry_class: Option<String>,
    args: Option<Vec<String>>,
    config: Option<BTreeMap<String, String>>,
    secret_config_wo: Option<BTreeMap<String, String>>,
    secret_config_wo_version: Option<i64>,
    flink: Option<FlinkOptions>,
    spark: Option<SparkOptions>,
    id: Option<String>,
    artifact_sha256: Option<String>,
    job_id: Option<String>,
    state: Option<String>,
    last_savepoint: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
}

impl PipelineModel {
    fn id(&self) -> String {
        naming::pipeline_id(&self.domain, &self.name)
    }
    fn engine(&self) -> Option<Engine> {
        self.engine.as_deref().and_then(Engine::parse)
    }
    fn inputs(&self) -> Vec<String> {
        self.inputs.clone().unwrap_or_default()
    }
    fn outputs(&self) -> Vec<String> {
        self.outputs.clone().unwrap_or_default()
    }
    /// `config` with `secret_config_wo` merged in: what the engine receives.
    fn submitted_config(&self) -> BTreeMap<String, String> {
        let mut all = self.config.clone().unwrap_or_default();
        all.extend(self.secret_config_wo.clone().unwrap_or_default());
        all
    }
    fn submission(&self) -> Submission<'_> {
        Submission {
            id: self.id.as_deref().unwrap_or_default(),
            artifact: self.artifact.as_deref().unwrap_or_default(),
            entry_class: self.entry_class.as_deref().unwrap_or_default(),
            args: self.args.as_deref().unwrap_or_default(),
            config: self.submitted_config(),
            flink: self.flink.clone().unwrap_or_default(),
            spark: self.spark.clone().unwrap_or_default(),
        }
    }
    fn entry(&self) -> PipelineEntry {
        let inputs = self.inputs();
        PipelineEntry {
            id: self.id(),
            domain: self.domain.clone(),
            name: self.name.clone(),
            engine: self.engine.clone().unwrap_or_default(),
            reads: inputs.iter().filter_map(|i| Input::parse(i).ok()).map(|i| i.product().to_string()).collect(),
            inputs,
            outputs: self.outputs(),
            artifact: self.artifact.clone().unwrap_or_default(),
            artifact_sha256: self.artifact_sha256.clone(),
            entry_class: self.entry_class.clone().unwrap_or_default(),
            args: self.args.clone(),
            config: self.config.clone(),
            secret_config_wo_version: self.secret_config_wo_version,
            flink: self.flink.clone(),
            spark: self.spark.clone(),
            job_id: self.job_id.clone(),
            state: self.state.clone(),
            last_savepoint: self.last_savepoint.clone(),
            started_at: self.started_at.clone(),
            finished_at: self.finished_at.clone(),
            updated_at: Some(common::now_rfc3339()),
        }
    }
    /// Takes the configuration a catalog record holds (import).
    fn adopt(&mut self, e: &PipelineEntry) {
        self.engine = Some(e.engine.clone());
        self.inputs = Some(e.inputs.clone());
        self.outputs = Some(e.outputs.clone());
        self.artifact = Some(e.artifact.clone());
        self.entry_class = Some(e.entry_class.clone());
        self.args = e.args.clone();
        self.config = e.config.clone();
        self.secret_config_wo_version = e.secret_config_wo_version;
        self.flink = e.flink.clone();
        self.spark = e.spark.clone();
        self.artifact_sha256 = e.artifact_sha256.clone();
        self.job_id = self.job_id.clone().or_else(|| e.job_id.clone());
        self.state = self.state.clone().or_else(|| e.state.clone());
        self.last_savepoint = self.last_savepoint.clone().or_else(|| e.last_savepoint.clone());
        self.started_at = self.started_at.clone().or_else(|| e.started_at.clone());
        self.finished_at = self.finished_at.clone().or_else(|| e.finished_at.clone());
    }
    /// Takes what the engine reports.
    fn observe(&mut self, s: &JobStatus) {
        self.job_id = Some(s.id.clone());
        self.state = Some(s.state.clone());
        if let Some(t) = s.started_at_ms.filter(|t| *t > 0).and_then(run::rfc3339_ms) {
            self.started_at = Some(t);
        }
        if let Some(t) = s.finished_at_ms.filter(|t| *t > 0).and_then(run::rfc3339_ms) {
            self.finished_at = Some(t);
        } else if !s.is_terminal() {
            self.finished_at = None;
        }
    }
}

impl Pipeline {
    fn model(&self, v: &Value, diags: &mut Diagnostics) -> Option<PipelineModel> {
        model_or_report(v, diags)
    }

    fn state(&self, m: &PipelineModel, diags: &mut Diagnostics) -> Value {
        static TYPE: std::sync::OnceLock<Type> = std::sync::OnceLock::new();
        let mut m = m.clone();
        m.secret_config_wo = None;
        state_or_report(&m, TYPE.get_or_init(|| self.schema().ty()), diags)
    }
}

/// The engine of a pipeline, or a diagnostic at `engine`.
async fn engine_of(ctx: &Context, m: &PipelineModel) -> Result<std::sync::Arc<dyn Processing>, Diagnostic> {
    let Some(engine) = m.engine() else {
        return Err(Diagnostic::attr_error(AttrPath::attr("engine"), "Invalid engine", "Use \"flink\" or \"spark\"."));
    };
    ctx.provider.processing(engine).await.map_err(|mut d| {
        d.path = Some(AttrPath::attr("engine"));
        d
    })
}

/// What the catalog says of the pipeline's inputs and outputs.
async fn catalog_facts(
    data: &ProviderData,
    inputs: &[String],
    outputs: &[String],
    complete: bool,
) -> Result<CatalogFacts, Diagnostic> {
    let catalog = data.catalog().await?;
    let mut facts = CatalogFacts { complete, ..Default::default() };
    let parsed: Vec<Input> = inputs.iter().filter_map(|i| Input::parse(i).ok()).collect();
    let mut products: Vec<String> = parsed.iter().map(|i| i.product().to_string()).collect();
    products.extend(outputs.iter().cloned());
    products.sort();
    products.dedup();
    for id in products {
        let Ok((domain, product)) = naming::parse_data_product_id(&id) else { continue };
        let entry = catalog
            .get::<ProductEntry>(&data_product_key(&domain, &product))
            .await
            .map_err(|e| e.diagnostic("the catalog"))?;
        if let Some(p) = entry {
            facts.products.insert(id, ProductFacts { classification: p.classification, contains_pii: p.contains_pii });
        }
    }
    for input in parsed {
        if let Input::Granted { grant, consumer, product } = input {
            let Ok((domain, name)) = naming::parse_data_product_id(&product) else { continue };
            let entry = catalog
                .get::<GrantEntry>(&grant_key(&consumer, &domain, &name))
                .await
                .map_err(|e| e.diagnostic("the catalog"))?;
            if let Some(g) = entry {
                facts.grants.insert(grant, g.expires_at);
            }
        }
    }
    Ok(facts)
}

/// Checks the lineage rules that need the catalog; `complete` at apply, right before submission.
async fn check_governance(data: &ProviderData, m: &PipelineModel, complete: bool, diags: &mut Diagnostics) {
    match catalog_facts(data, &m.inputs(), &m.outputs(), complete).await {
        Ok(facts) => {
            lineage::check_flow(&data.config.governance, &m.inputs(), &m.outputs(), &facts, chrono::Utc::now(), diags)
        }
        Err(d) => diags.0.push(d),
    }
}

/// Whether what the Flink job runs differs between two states (a restart is needed).
fn flink_job_changed(old: &Value, new: &Value) -> bool {
    ["artifact", "artifact_sha256", "entry_class", "args", "config", "secret_config_wo_version"]
        .iter()
        .any(|a| old.get(a) != new.get(a))
        || old.get("flink").get("parallelism") != new.get("flink").get("parallelism")
}

/// The attributes whose change is a new Spark run: all but `spark.wait`, `spark.timeout_seconds`.
const SPARK_RUN_ATTRS: [&str; 8] =
    ["artifact", "artifact_sha256", "entry_class", "args", "config", "secret_config_wo_version", "inputs", "outputs"];
const SPARK_RUN_BLOCK_ATTRS: [&str; 4] = ["driver_memory", "executor_memory", "total_executor_cores", "triggers"];

fn validate_options(config: &Value, diags: &mut Diagnostics) {
    let engine = config.get("engine").as_str();
    for (block, wanted) in [("flink", "flink"), ("spark", "spark")] {
        if !config.get(block).is_null() && engine.is_some_and(|e| e != wanted) {
            diags.attr_error(
                AttrPath::attr(block),
                format!("{block} block on a {} pipeline", engine.unwrap_or_default()),
                format!("The {block} block only applies with engine = \"{wanted}\". Remove it, or set engine = \"{wanted}\"."),
            );
        }
    }
    let flink = config.get("flink");
    if let Some(p) = flink.get("parallelism").as_f64() {
        if !(1.0..=1024.0).contains(&p) || p.fract() != 0.0 {
            diags.attr_error(
                AttrPath::attr("flink").then("parallelism"),
                "Invalid parallelism",
                format!("parallelism must be a whole number from 1 to 1024; {p} is not."),
            );
        }
    }
    if let Some(mode) = flink.get("upgrade_mode").as_str() {
        if !["savepoint", "stateless"].contains(&mode) {
            diags.attr_error(AttrPath::attr("flink").then("upgrade_mode"), "Invalid upgrade_mode", format!("{mode:?} is not an upgrade mode. Use \"savepoint\" (the job's state carries over) or \"stateless\" (it starts empty)."));
        }
    }
    let spark = config.get("spark");
    if let Some(t) = spark.get("timeout_seconds").as_f64() {
        if !(1.0..=86_400.0).contains(&t) || t.fract() != 0.0 {
            diags.attr_error(
                AttrPath::attr("spark").then("timeout_seconds"),
                "Invalid timeout_seconds",
                format!("timeout_seconds must be a whole number of seconds from 1 to 86400; {t} is not."),
            );
        }
    }
    if let Some(c) = spark.get("total_executor_cores").as_f64() {
        if c < 1.0 || c.fract() != 0.0 {
            diags.attr_error(
                AttrPath::attr("spark").then("total_executor_cores"),
                "Invalid total_executor_cores",
                "total_executor_cores must be a whole number of at least 1.",
            );
        }
    }
    for attr in ["driver_memory", "executor_memory"] {
        if let Some(mem) = spark.get(attr).as_str() {
            let digits = mem.trim_end_matches(|c: char| "kmgtKMGT".contains(c));
            if digits.is_empty()
                || !digits.chars().all(|c| c.is_ascii_digit())
                || digits.len() == mem.len() && mem.len() < 2
            {
                diags.attr_error(
                    AttrPath::attr("spark").then(attr),
                    format!("Invalid {attr}"),
                    format!("{mem:?} is not a JVM memory size. Write it like \"1g\" or \"512m\"."),
                );
            }
        }
    }
}

fn validate_config_maps(config: &Value, diags: &mut Diagnostics) {
    let plain = known_map(config, "config").unwrap_or_default();
    for (attr, map) in
        [("config", plain.clone()), ("secret_config_wo", known_map(config, "secret_config_wo").unwrap_or_default())]
    {
        for k in map.keys() {
            let at = AttrPath::attr(attr).key(k);
            if k.trim().is_empty() || k.chars().any(char::is_control) {
                diags.attr_error(
                    at,
                    "Invalid property name",
                    "Property names are non-empty and hold no control characters.",
                );
            } else if RESERVED_CONFIG.contains(&k.as_str()) {
                diags.attr_error(
                    at,
                    "Property set by the provider",
                    format!("{k:?} is set by the provider itself (the job's name, master and deploy mode). Remove it."),
                );
            } else if attr == "secret_config_wo" && plain.contains_key(k) {
                diags.attr_error(
                    at,
                    "Property set twice",
                    format!("{k:?} is in both config and secret_config_wo. Keep it in one of them."),
                );
            }
        }
    }
    let (secret, version) = (config.get("secret_config_wo"), config.get("secret_config_wo_version"));
    if !secret.is_null() && !secret.is_unknown() && version.is_null() {
        diags.attr_error(AttrPath::attr("secret_config_wo_version"), "secret_config_wo needs a version", "Set secret_config_wo_version (e.g. 1) with secret_config_wo: a write-only value is never in state, so the version is how a change is noticed. Change it whenever the secret properties change.");
    }
}

#[async_trait]
impl Resource<ProviderData> for Pipeline {
    fn type_name(&self) -> &'static str {
        "datamesh_pipeline"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "A domain's data pipeline: a Flink streaming job kept running, or a Spark batch run, reading the domain's own products or what it was granted and writing the domain's products. Its lineage is governed at plan time and recorded in the catalog (`pipelines/<domain>/<name>.json`).",
            vec![
                Attribute::required("domain", Type::String, "The domain that runs the pipeline. Changing it replaces the pipeline.").replace(),
                Attribute::required("name", Type::String, "Pipeline name, `^[a-z][a-z0-9-]{1,40}$`. Changing it replaces the pipeline.").replace(),
                Attribute::required("engine", Type::String, "`flink` (streaming, long-running) or `spark` (batch, run once). Changing it replaces the pipeline.").replace(),
                Attribute::required("inputs", Type::set(Type::String), "What it reads: the domain's own product IDs (`<domain>/<product>`) or IDs of grants to the domain (`<domain>:<owner>/<product>`)."),
                Attribute::required("outputs", Type::set(Type::String), "The domain's own product IDs it writes. Each is at least as sensitive as the most sensitive input, and holds personal data if any input does."),
                Attribute::required("artifact", Type::String, "The job's jar: a local path, or an `s3://<bucket>/<key>` URI read with the provider's S3 credentials. Spark workers fetch local jars by path (`file://`), so the cluster must see the same file."),
                Attribute::required("entry_class", Type::String, "The job's main class."),
                Attribute::optional("args", Type::list(Type::String), "Program arguments."),
                Attribute::optional("config", Type::map(Type::String), "Engine properties: Flink configuration, or Spark properties. The provider sets `pipeline.name` / `spark.app.name` (the pipeline's ID), the master and the deploy mode itself."),
                Attribute::optional("secret_config_wo", Type::map(Type::String), "Properties state must not hold (credentials, e.g. from the ephemeral `datamesh_consumer_credentials`), merged into `config` at submission. Write-only (Terraform 1.11 or later): never in state or plan. Needs `secret_config_wo_version`.").sensitive().write_only(),
                Attribute::optional("secret_config_wo_version", Type::Number, "Version of `secret_config_wo`: change it to submit the job again with new secret properties."),
                Attribute::computed("id", Type::String, "`<domain>/<name>`."),
                Attribute::computed("artifact_sha256", Type::String, "The jar's SHA-256 at plan time: a new jar at the same path is a change."),
                Attribute::computed("job_id", Type::String, "The Flink job ID, or the Spark submission (driver) ID."),
                Attribute::computed("state", Type::String, "The engine's state of the job: `RUNNING`, `FINISHED`, `FAILED`, `CANCELED`, ..."),
                Attribute::computed("last_savepoint", Type::String, "Flink: the savepoint the job was last stopped or upgraded with."),
                Attribute::computed("started_at", Type::String, "When the job (run) started (RFC 3339)."),
                Attribute::computed("finished_at", Type::String, "When the job (run) ended (RFC 3339); null while it runs."),
            ],
        )
        .with_block("flink", Nesting::Single, Block::new(
            "Flink options; only with `engine = \"flink\"`.",
            vec![
                Attribute::optional("parallelism", Type::Number, "The job's parallelism. Default `1`."),
                Attribute::optional("upgrade_mode", Type::String, "How a change of the job is rolled out: `savepoint` (default: stop with a savepoint, resume from it, the job's state carries over) or `stateless` (cancel, start empty)."),
                Attribute::optional("allow_non_restored_state", Type::Bool, "Whether a resumed job may drop savepoint state no operator claims. Default `false`."),
            ],
        ))
        .with_block("spark", Nesting::Single, Block::new(
            "Spark options; only with `engine = \"spark\"`.",
            vec![
                Attribute::optional("driver_memory", Type::String, "`spark.driver.memory`, like `1g`."),
                Attribute::optional("executor_memory", Type::String, "`spark.executor.memory`, like `1g`."),
                Attribute::optional("total_executor_cores", Type::Number, "`spark.cores.max`."),
                Attribute::optional("wait", Type::Bool, "Whether apply waits until the driver ends (`FINISHED` succeeds; `FAILED`, `KILLED`, `ERROR` or the timeout fail, the resource tainted). Default `true`; `false` returns once it runs."),
                Attribute::optional("timeout_seconds", Type::Number, "How long apply waits for the run, 1 to 86400 seconds. Default `1800`."),
                Attribute::optional("triggers", Type::map(Type::String), "Arbitrary values; a change runs the batch again."),
            ],
        )))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        common::validate_name(config, "domain", naming::check_domain, diags);
        common::validate_name(config, "name", naming::check_pipeline, diags);
        if let Some(Some(engine)) = known_str(config, "engine") {
            if Engine::parse(engine).is_none() {
                diags.attr_error(
                    AttrPath::attr("engine"),
                    "Invalid engine",
                    format!("{engine:?} is not an engine. Use \"flink\" (streaming) or \"spark\" (batch)."),
                );
            }
        }
        if let Some(Some(artifact)) = known_str(config, "artifact") {
            if let Err(msg) = run::jar_source(artifact) {
                diags.attr_error(AttrPath::attr("artifact"), "Invalid artifact", msg);
            }
        }
        if let Some(Some(class)) = known_str(config, "entry_class") {
            let ok = !class.is_empty()
                && class.split('.').all(|part| {
                    part.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                        && part.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
                });
            if !ok {
                diags.attr_error(
                    AttrPath::attr("entry_class"),
                    "Invalid entry_class",
                    format!(
                        "{class:?} is not a Java class name. Give the main class, like \"com.example.jobs.Enrich\"."
                    ),
                );
            }
        }
        if let (Some(Some(domain)), true, true) = (
            known_str(config, "domain"),
            config.get("inputs").is_wholly_known(),
            config.get("outputs").is_wholly_known(),
        ) {
            let strings = |a: &str| -> Vec<String> {
                config.get(a).elements().iter().filter_map(|e| e.as_str().map(str::to_string)).collect()
            };
            if naming::check_domain(domain).is_ok() {
                lineage::check_shape(domain, &strings("inputs"), &strings("outputs"), diags);
            }
        }
        validate_options(config, diags);
        validate_config_maps(config, diags);
    }

    async fn modify_plan(&self, ctx: &Context, req: PlanRequest<'_>, planned: &mut Value, diags: &mut Diagnostics) {
        if planned.is_null() {
            return;
        }
        if let (Some(Some(d)), Some(Some(n))) = (known_str(planned, "domain"), known_str(planned, "name")) {
            planned.set("id", Value::string(naming::pipeline_id(d, n)));
        } else {
            planned.set("id", Value::Unknown);
        }
        let engine = known_str(planned, "engine").flatten().and_then(Engine::parse);
        if let Some(engine) = engine {
            // The engine must be configured: said at `engine`, before anything runs.
            if let Err(mut d) = ctx.provider.processing(engine).await {
                d.path = Some(AttrPath::attr("engine"));
                diags.0.push(d);
            }
        }
        // The jar's digest: a new jar at the same path is a change.
        match known_str(planned, "artifact").flatten().map(run::jar_source) {
            Some(Ok(source)) => match run::read_jar(&ctx.provider, &source).await {
                Ok(bytes) => planned.set("artifact_sha256", Value::string(run::sha256_hex(&bytes))),
                Err(d) => diags.0.push(d),
            },
            _ => planned.set("artifact_sha256", Value::Unknown),
        }
        // Governance that needs the catalog; what is not there yet is checked before submission.
        if planned.get("inputs").is_wholly_known() && planned.get("outputs").is_wholly_known() {
            if let Some(m) =
                diags.ok(tfplugin::framework::typed::from_value::<PipelineModel>(&without_unknowns(planned)))
            {
                let mut checked = Diagnostics::new();
                check_governance(&ctx.provider, &m, false, &mut checked).await;
                common::governance_failures(req.prior, checked, diags);
            }
        }
        let prior = req.prior;
        match engine {
            Some(Engine::Flink) => {
                let stateless = planned.get("flink").get("upgrade_mode").as_str() == Some("stateless");
                if prior.is_null() {
                    planned.set("state", Value::string("RUNNING"));
                    for a in ["job_id", "started_at"] {
                        planned.set(a, Value::Unknown);
                    }
                    planned.set("last_savepoint", Value::Null);
                    planned.set("finished_at", Value::Null);
                    return;
                }
                let alive = prior.get("state").as_str().is_some_and(run::flink_alive);
                let changed = flink_job_changed(prior, planned);
                if !changed && alive {
                    return;
                }
                planned.set("state", Value::string("RUNNING"));
                for a in ["job_id", "started_at"] {
                    planned.set(a, Value::Unknown);
                }
                planned.set("finished_at", Value::Null);
                let id = planned.get("id").as_str().unwrap_or_default().to_string();
                if stateless {
                    planned.set("last_savepoint", prior.get("last_savepoint").clone());
                    diags.warning(
                        format!("Pipeline {id} starts again with empty state"),
                        "upgrade_mode = \"stateless\": the running job is cancelled and the new one starts without its state (counts, windows, offsets).",
                    );
                } else if alive {
                    planned.set("last_savepoint", Value::Unknown);
                    diags.warning(
                        format!("Pipeline {id} is upgraded through a savepoint"),
                        "The running job is stopped with a savepoint and the new one resumes from it: the job's state carries over.",
                    );
                } else {
                    planned.set("last_savepoint", Value::Unknown);
                    diags.warning(
                        format!("Pipeline {id} is not running ({}) and is restarted", prior.get("state").as_str().unwrap_or("unknown")),
                        "It resumes from its latest savepoint (the one the engine lists for the old job, else last_savepoint); without one it starts empty.",
                    );
                }
            }
            // A new run (create, or any change but wait/timeout): what it reports is unknown yet.
            Some(Engine::Spark) if prior.is_null() || !self.replace_paths(prior, planned).is_empty() => {
                let waits = planned.get("spark").get("wait").as_bool().unwrap_or(true);
                planned.set("state", if waits { Value::string("FINISHED") } else { Value::Unknown });
                for a in ["job_id", "started_at", "finished_at"] {
                    planned.set(a, Value::Unknown);
                }
                planned.set("last_savepoint", Value::Null);
            }
            _ => {}
        }
    }

    fn replace_paths(&self, prior: &Value, planned: &Value) -> Vec<AttrPath> {
        if planned.get("engine").as_str() != Some("spark") {
            return Vec::new();
        }
        let changed = |old: &Value, new: &Value| new.is_unknown() || old != new;
        let mut paths: Vec<AttrPath> = SPARK_RUN_ATTRS
            .iter()
            .filter(|a| changed(prior.get(a), planned.get(a)))
            .map(|a| AttrPath::attr(a))
            .collect();
        paths.extend(
            SPARK_RUN_BLOCK_ATTRS
                .iter()
                .filter(|a| changed(prior.get("spark").get(a), planned.get("spark").get(a)))
                .map(|a| AttrPath::attr("spark").then(a)),
        );
        paths
    }

    async fn create(&self, ctx: &Context, planned: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(planned, diags) else { return Value::Null };
        m.id = Some(m.id());
        // Products and grants made by this same apply are in the catalog now: check them all.
        let mut checked = Diagnostics::new();
        check_governance(&ctx.provider, &m, true, &mut checked).await;
        if checked.has_errors() {
            diags.extend(checked);
            return Value::Null;
        }
        let (Some(engine), Some(catalog)) =
            (diags.ok(engine_of(ctx, &m).await), diags.ok(ctx.provider.catalog().await))
        else {
            return Value::Null;
        };
        let Some(job_id) = diags.ok(run::submit(&ctx.provider, engine.as_ref(), &m.submission(), None).await) else {
            return Value::Null;
        };
        m.job_id = Some(job_id.clone());
        m.state = Some("SUBMITTED".into());
        m.started_at = Some(common::now_rfc3339());
        m.finished_at = None;
        self.settle(ctx, engine.as_ref(), &mut m, diags).await;
        ok_or_report(
            catalog.put(&pipeline_key(&m.domain, &m.name), &m.entry()).await,
            &format!("the catalog record of pipeline {}", m.id()),
            diags,
        );
        self.state(&m, diags)
    }

    async fn read(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) -> Value {
        let Some(mut m) = self.model(state, diags) else { return state.clone() };
        m.id = Some(m.id());
        let key = pipeline_key(&m.domain, &m.name);
        // An import knows the pipeline's name only: the catalog record has the rest.
        let imported = m.engine.is_none();
        let mut record = None;
        if imported {
            let Some(catalog) = diags.ok(ctx.provider.catalog().await) else { return state.clone() };
            match catalog.get::<PipelineEntry>(&key).await {
                Ok(Some(e)) => {
                    m.adopt(&e);
                    record = Some(e);
                }
                Ok(None) => {}
                Err(e) => {
                    diags.0.push(e.diagnostic("the catalog"));
                    return state.clone();
                }
            }
        }
        let Some(engine) = m.engine() else { return Value::Null };
        let processing = match ctx.provider.processing(engine).await {
            Ok(p) => p,
            Err(d) => {
                diags.0.push(d);
                return state.clone();
            }
        };
        let seen = match engine {
            Engine::Flink => flink_job(processing.as_ref(), &m, imported).await,
            Engine::Spark => match m.job_id.as_deref() {
                Some(id) => processing.status(id).await,
                None => Ok(None),
            },
        };
        match seen {
            Ok(Some(status)) => m.observe(&status),
            Ok(None) if engine == Engine::Flink && m.job_id.is_some() => {
                // The JobManager no longer knows the job (restarted without its history): unless
                // the pipeline was removed outside Terraform, it is drift to run again.
                if record.is_none() {
                    let Some(catalog) = diags.ok(ctx.provider.catalog().await) else { return state.clone() };
                    match catalog.get::<PipelineEntry>(&key).await {
                        Ok(Some(_)) => {}
                        Ok(None) => return Value::Null,
                        Err(e) => {
                            diags.0.push(e.diagnostic("the catalog"));
                            return state.clone();
                        }
                    }
                }
                m.state = Some("UNKNOWN".into());
            }
            // Spark: the last state the master reported stays.
            Ok(None) => {
                if imported && record.is_none() {
                    return Value::Null;
                }
            }
            Err(e) => {
                diags.0.push(e.diagnostic(&format!("the {} job of pipeline {}", engine.title(), m.id())));
                return state.clone();
            }
        }
        self.state(&m, diags)
    }

    async fn update(&self, ctx: &Context, prior: &Value, planned: &Value, diags: &mut Diagnostics) -> Value {
        let (Some(old), Some(mut m)) = (self.model(prior, diags), self.model(planned, diags)) else {
            return prior.clone();
        };
        m.id = Some(m.id());
        let (Some(engine), Some(catalog)) =
            (diags.ok(engine_of(ctx, &m).await), diags.ok(ctx.provider.catalog().await))
        else {
            return prior.clone();
        };
        let restart = m.engine() == Some(Engine::Flink)
            && (flink_job_changed(prior, planned) || !old.state.as_deref().is_some_and(run::flink_alive));
        // Carry over what the engine reported; a restart replaces it below.
        m.job_id = old.job_id.clone();
        m.state = old.state.clone();
        m.started_at = old.started_at.clone();
        m.finished_at = old.finished_at.clone();
        m.last_savepoint = old.last_savepoint.clone();
        if restart {
            let mut checked = Diagnostics::new();
            check_governance(&ctx.provider, &m, true, &mut checked).await;
            if checked.has_errors() {
                diags.extend(checked);
                return self.state(&keep_config(&old, &m), diags);
            }
            let stateless = m.flink.as_ref().is_some_and(FlinkOptions::stateless);
            let savepoint = match self.end_flink_job(ctx, engine.as_ref(), &mut m, !stateless, false, diags).await {
                Some(sp) => sp,
                None => {
                    // The old job could not be ended as asked: nothing new was started.
                    return self.state(&keep_config(&old, &m), diags);
                }
            };
            let Some(job_id) =
                diags.ok(run::submit(&ctx.provider, engine.as_ref(), &m.submission(), savepoint.clone()).await)
            else {
                // The old job is over (its savepoint kept in last_savepoint): the next apply
                // starts the job from there.
                let state = self.state(&keep_config(&old, &m), diags);
                ok_or_report(
                    catalog.put(&pipeline_key(&m.domain, &m.name), &m.entry()).await,
                    "the pipeline's catalog record",
                    diags,
                );
                return state;
            };
            m.job_id = Some(job_id);
            m.state = Some("SUBMITTED".into());
            m.started_at = Some(common::now_rfc3339());
            m.finished_at = None;
            self.settle(ctx, engine.as_ref(), &mut m, diags).await;
        }
        ok_or_report(
            catalog.put(&pipeline_key(&m.domain, &m.name), &m.entry()).await,
            &format!("the catalog record of pipeline {}", m.id()),
            diags,
        );
        self.state(&m, diags)
    }

    async fn delete(&self, ctx: &Context, state: &Value, diags: &mut Diagnostics) {
        let Some(mut m) = self.model(state, diags) else { return };
        m.id = Some(m.id());
        let (Some(engine), Some(catalog)) =
            (diags.ok(engine_of(ctx, &m).await), diags.ok(ctx.provider.catalog().await))
        else {
            return;
        };
        if let Some(job) = m.job_id.clone() {
            match m.engine() {
                Some(Engine::Flink) => {
                    if self.end_flink_job(ctx, engine.as_ref(), &mut m, true, true, diags).await.is_none() {
                        return;
                    }
                    if let Some(sp) = m.last_savepoint.as_ref().filter(|_| m.state.as_deref() == Some("FINISHED")) {
                        tracing::info!(pipeline = %m.id(), savepoint = %sp, "stopped with a final savepoint");
                        diags.warning(
                            format!("Pipeline {} stopped with a final savepoint", m.id()),
                            format!("Its last state is in the savepoint {sp}; a new Flink job can start from it (savepointPath)."),
                        );
                    }
                }
                _ => match engine.status(&job).await {
                    Ok(Some(s)) if !s.is_terminal() => {
                        if ok_or_report(engine.cancel(&job).await, &format!("the Spark driver {job}"), diags).is_none()
                        {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        diags.0.push(e.diagnostic(&format!("the Spark driver {job}")));
                        return;
                    }
                },
            }
        }
        ok_or_report(
            catalog.delete(&pipeline_key(&m.domain, &m.name)).await,
            &format!("the catalog record of pipeline {}", m.id()),
            diags,
        );
    }

    fn identity(&self) -> &'static [(&'static str, &'static str)] {
        &[("id", "The pipeline's ID, `<domain>/<name>`.")]
    }

    fn import_id(&self, identity: &Value) -> Option<String> {
        identity.get("id").as_str().map(str::to_string)
    }

    fn import(&self, id: &str, diags: &mut Diagnostics) -> Value {
        match naming::parse_pipeline_id(id) {
            Ok((domain, name)) => {
                let m = PipelineModel { domain, name, id: Some(id.to_string()), ..Default::default() };
                self.state(&m, diags)
            }
            Err(msg) => {
                diags.error("Invalid import ID", format!("A pipeline is imported by its ID. {msg}"));
                Value::Null
            }
        }
    }
}

impl Pipeline {
    /// After a submission: waits for what the engine and options ask (Flink `RUNNING`; Spark
    /// the driver's end, or `RUNNING` with `wait = false`) and records what it saw. A failure is
    /// an error with the state as it is (Terraform then keeps the resource tainted).
    async fn settle(&self, ctx: &Context, engine: &dyn Processing, m: &mut PipelineModel, diags: &mut Diagnostics) {
        let Some(id) = m.job_id.clone() else { return };
        match m.engine() {
            Some(Engine::Flink) => match run::wait_flink_running(engine, &id, &ctx.stop).await {
                Ok(s) => m.observe(&s),
                Err((d, seen)) => {
                    if let Some(s) = seen {
                        m.observe(&s);
                    }
                    diags.0.push(d);
                }
            },
            Some(Engine::Spark) => {
                let opts = m.spark.clone().unwrap_or_default();
                let (timeout, wanted) =
                    if opts.waits() { (opts.timeout(), "FINISHED") } else { (run::SPARK_START_TIMEOUT, "RUNNING") };
                let outcome = run::wait_for(
                    engine,
                    &id,
                    timeout,
                    &ctx.stop,
                    |s| s.state == "FINISHED" || (!opts.waits() && s.state == "RUNNING"),
                    |s| s.is_terminal(),
                    |s| tracing::info!(driver = %s.id, state = %s.state, "Spark driver"),
                )
                .await;
                match outcome {
                    Ok(s) => {
                        m.observe(&s);
                        if s.is_terminal() && m.finished_at.is_none() {
                            m.finished_at = Some(common::now_rfc3339());
                        }
                    }
                    Err(failure) => {
                        if let run::WaitFailure::Ended(s) | run::WaitFailure::TimedOut(Some(s)) = &failure {
                            m.observe(s);
                            if s.is_terminal() {
                                m.finished_at = Some(common::now_rfc3339());
                            }
                        }
                        diags.0.push(run::failure_diagnostic("Spark driver", &id, wanted, timeout, failure));
                    }
                }
            }
            None => {}
        }
    }

    /// Ends the pipeline's Flink job before a restart or on delete: a running job is stopped
    /// with a savepoint (`with_savepoint`) or cancelled (also, when `destroying`, one whose
    /// savepoint fails). Returns the savepoint to resume from
    /// (`Some(None)`: none), or None when the job could not be ended (reported).
    async fn end_flink_job(
        &self,
        ctx: &Context,
        engine: &dyn Processing,
        m: &mut PipelineModel,
        with_savepoint: bool,
        destroying: bool,
        diags: &mut Diagnostics,
    ) -> Option<Option<String>> {
        let Some(job) = m.job_id.clone() else {
            return Some(with_savepoint.then(|| m.last_savepoint.clone()).flatten());
        };
        let what = format!("the Flink job {job} of pipeline {}", m.id());
        let status = match engine.status(&job).await {
            Ok(s) => s,
            Err(e) => {
                diags.0.push(e.diagnostic(&what));
                return None;
            }
        };
        let running = status.as_ref().is_some_and(|s| s.state == "RUNNING");
        if running && with_savepoint {
            let dir = ctx.provider.config.flink.savepoint_dir.clone();
            match engine.stop_with_savepoint(&job, dir.as_deref()).await {
                Ok(path) => {
                    m.last_savepoint = Some(path.clone());
                    // The savepoint completes a moment before the job has ended: the new job
                    // starts only once the old one let go of its slots and its consumer group.
                    if !wait_ended(ctx, engine, &job, "FINISHED", m, diags).await {
                        return None;
                    }
                    return Some(Some(path));
                }
                Err(e) if destroying => {
                    // A job that cannot take a savepoint (its tasks restarting, say) is cancelled:
                    // destroy must not hang on it. Its last savepoint, if any, stays where it was.
                    diags.warning(
                        format!("No final savepoint of pipeline {}", m.id()),
                        format!("The savepoint of {what} failed, so the job was cancelled without one: {e}"),
                    );
                }
                Err(e) => {
                    diags.0.push(e.diagnostic(&format!("the savepoint of {what}")));
                    return None;
                }
            }
        }
        if status.as_ref().is_some_and(|s| !s.is_terminal()) {
            if let Err(e) = engine.cancel(&job).await {
                diags.0.push(e.diagnostic(&what));
                return None;
            }
            // Cancelling takes a moment: the job is over once the engine says so.
            if !wait_ended(ctx, engine, &job, "CANCELED", m, diags).await {
                return None;
            }
        }
        if !with_savepoint {
            return Some(None);
        }
        // Not running: resume from the newest savepoint the engine lists for the old job, else
        // the one this pipeline last recorded.
        let latest = match engine.latest_savepoint(&job).await {
            Ok(sp) => sp,
            Err(e) => {
                tracing::warn!(job = %job, error = %e, "cannot list the job's savepoints");
                None
            }
        };
        if latest.is_some() {
            m.last_savepoint = latest;
        }
        Some(m.last_savepoint.clone())
    }
}

/// Waits until the engine says `job` has ended (after a stop or a cancel: `wanted` names the
/// state expected) and records what it reports; false, with the reason in `diags`, when it did
/// not end in time.
async fn wait_ended(
    ctx: &Context,
    engine: &dyn Processing,
    job: &str,
    wanted: &str,
    m: &mut PipelineModel,
    diags: &mut Diagnostics,
) -> bool {
    let timeout = run::FLINK_START_TIMEOUT;
    match run::wait_for(engine, job, timeout, &ctx.stop, JobStatus::is_terminal, |_| false, |_| {}).await {
        Ok(s) => {
            m.observe(&s);
            if m.finished_at.is_none() {
                m.finished_at = Some(common::now_rfc3339());
            }
            true
        }
        // A JobManager that no longer knows the job runs nothing of it: that is ended too.
        Err(run::WaitFailure::Forgotten(_)) => true,
        Err(failure) => {
            diags.0.push(run::failure_diagnostic("Flink job", job, wanted, timeout, failure));
            false
        }
    }
}

/// The prior state's configuration with what the engine reported since: what state must say
/// when an update stopped half-way (the new configuration was not applied).
fn keep_config(old: &PipelineModel, now: &PipelineModel) -> PipelineModel {
    let mut kept = old.clone();
    kept.job_id = now.job_id.clone();
    kept.state = now.state.clone();
    kept.started_at = now.started_at.clone();
    kept.finished_at = now.finished_at.clone();
    kept.last_savepoint = now.last_savepoint.clone();
    kept
}

/// The Flink job of a pipeline: by ID from the engine's listing (one listing per refresh), else
/// asked by ID; on import, found by name (`pipeline.name` = the pipeline's ID), a running one
/// first, else the newest.
async fn flink_job(
    engine: &dyn Processing,
    m: &PipelineModel,
    imported: bool,
) -> Result<Option<JobStatus>, crate::backends::BackendError> {
    let jobs = engine.jobs().await?;
    if let Some(id) = m.job_id.as_deref().filter(|_| !imported) {
        if let Some(found) = jobs.iter().find(|j| j.id == id) {
            return Ok(Some(found.clone()));
        }
        return engine.status(id).await;
    }
    let name = m.id();
    let mut named: Vec<&JobStatus> = jobs.iter().filter(|j| j.name.as_deref() == Some(name.as_str())).collect();
    named.sort_by_key(|j| (j.state == "RUNNING", j.started_at_ms.unwrap_or(0)));
    match named.last() {
        Some(j) => Ok(Some((*j).clone())),
        None => match m.job_id.as_deref() {
            Some(id) => engine.status(id).await,
            None => Ok(None),
        },
    }
}

/// A copy with unknown values as null, for reading what is known into the model.
fn without_unknowns(v: &Value) -> Value {
    let mut v = v.clone();
    tfplugin::framework::plan::unknowns_to_null(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: Vec<(&str, Value)>) -> Value {
        Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn strings(v: &[&str]) -> Value {
        Value::Set(v.iter().map(|s| Value::string(*s)).collect())
    }

    fn paths(d: &Diagnostics) -> Vec<String> {
        d.0.iter().map(|x| x.path.as_ref().map(|p| p.to_string()).unwrap_or_default()).collect()
    }

    fn base() -> Vec<(&'static str, Value)> {
        vec![
            ("domain", Value::string("sales")),
            ("name", Value::string("enrich")),
            ("engine", Value::string("flink")),
            ("inputs", strings(&["sales:crm/customers"])),
            ("outputs", strings(&["sales/enriched"])),
            ("artifact", Value::string("jobs/enrich.jar")),
            ("entry_class", Value::string("datamesh.examples.StreamEnrich")),
        ]
    }

    #[test]
    fn a_valid_pipeline_passes_validation() {
        let mut d = Diagnostics::new();
        Pipeline.validate(&config(base()), &mut d);
        assert!(d.0.is_empty(), "{:?}", d.0);
    }

    #[test]
    fn bad_values_are_reported_at_their_path() {
        let mut c = base();
        c.push(("spark", config(vec![("wait", Value::Bool(true))])));
        c.push(("flink", config(vec![("parallelism", Value::Number(0.0)), ("upgrade_mode", Value::string("hot"))])));
        c.push(("config", Value::Map(BTreeMap::from([("pipeline.name".to_string(), Value::string("x"))]))));
        c.push(("secret_config_wo", Value::Map(BTreeMap::from([("k".to_string(), Value::string("v"))]))));
        let mut d = Diagnostics::new();
        Pipeline.validate(&config(c), &mut d);
        assert_eq!(
            paths(&d),
            vec![
                "spark",
                "flink.parallelism",
                "flink.upgrade_mode",
                "config[\"pipeline.name\"]",
                "secret_config_wo_version"
            ]
        );
    }

    #[test]
    fn governance_shape_is_checked_at_validate() {
        let mut c = base();
        c[3] = ("inputs", strings(&["crm/customers"]));
        c[4] = ("outputs", strings(&["crm/other"]));
        let mut d = Diagnostics::new();
        Pipeline.validate(&config(c), &mut d);
        assert_eq!(paths(&d), vec!["inputs", "outputs"]);
    }

    #[test]
    fn spark_replaces_on_any_change_but_wait_and_timeout() {
        let mut prior = config(base());
        prior.set("engine", Value::string("spark"));
        prior.set(
            "spark",
            config(vec![
                ("wait", Value::Bool(true)),
                ("timeout_seconds", Value::Number(60.0)),
                ("triggers", Value::Null),
            ]),
        );
        let mut planned = prior.clone();
        planned.set(
            "spark",
            config(vec![
                ("wait", Value::Bool(false)),
                ("timeout_seconds", Value::Number(90.0)),
                ("triggers", Value::Null),
            ]),
        );
        assert!(Pipeline.replace_paths(&prior, &planned).is_empty());
        planned.set(
            "spark",
            config(vec![
                ("wait", Value::Bool(true)),
                ("triggers", Value::Map(BTreeMap::from([("run".to_string(), Value::string("2"))]))),
            ]),
        );
        planned.set("args", Value::List(vec![Value::string("--x")]));
        let replaced: Vec<String> = Pipeline.replace_paths(&prior, &planned).iter().map(|p| p.to_string()).collect();
        assert_eq!(replaced, vec!["args", "spark.triggers"]);
        let mut flink = planned.clone();
        flink.set("engine", Value::string("flink"));
        assert!(Pipeline.replace_paths(&prior, &flink).is_empty(), "a Flink job is upgraded in place");
    }

    #[test]
    fn a_flink_restart_follows_what_the_job_runs() {
        let prior = config(base());
        let mut planned = prior.clone();
        planned.set("inputs", strings(&["sales/orders"]));
        assert!(!flink_job_changed(&prior, &planned), "lineage alone does not restart the job");
        planned.set("args", Value::List(vec![Value::string("--tag"), Value::string("v2")]));
        assert!(flink_job_changed(&prior, &planned));
    }

    #[test]
    fn secrets_never_reach_state_or_the_catalog() {
        let m = PipelineModel {
            domain: "sales".into(),
            name: "enrich".into(),
            engine: Some("spark".into()),
            config: Some(BTreeMap::from([("a".to_string(), "1".to_string())])),
            secret_config_wo: Some(BTreeMap::from([(
                "spark.hadoop.fs.s3a.secret.key".to_string(),
                "hunter2".to_string(),
            )])),
            ..Default::default()
        };
        assert_eq!(m.submitted_config().get("spark.hadoop.fs.s3a.secret.key").map(String::as_str), Some("hunter2"));
        let entry = serde_json::to_string(&m.entry()).unwrap();
        assert!(!entry.contains("hunter2") && !entry.contains("secret.key"), "{entry}");
        let mut d = Diagnostics::new();
        let state = Pipeline.state(&m, &mut d);
        assert!(state.get("secret_config_wo").is_null());
    }
}
