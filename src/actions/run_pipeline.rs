//! `datamesh_run_pipeline`: runs a Spark pipeline's batch again now, or takes a savepoint of a
//! Flink pipeline's running job, streaming progress to Terraform. Terraform's state is not
//! touched; the pipeline's catalog record notes the run.

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::backends::catalog::pipeline_key;
use crate::backends::processing::Engine;
use crate::naming;
use crate::provider::{Context, ProviderData};
use crate::resources::pipeline::run::{self, FlinkOptions, Submission};
use crate::resources::pipeline::PipelineEntry;
use tfplugin::framework::{Action, Progress};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, Schema, Type, Value};

/// The `datamesh_run_pipeline` action.
pub(super) struct RunPipeline;

#[async_trait]
impl Action<ProviderData> for RunPipeline {
    fn type_name(&self) -> &'static str {
        "datamesh_run_pipeline"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "Runs a Spark pipeline's batch again now (waiting for the driver to end), or takes a savepoint of a Flink pipeline's running job, reporting progress as it goes. Terraform's state is unchanged; the pipeline's catalog record notes the run.",
            vec![
                Attribute::required("pipeline", Type::String, "The pipeline's ID, `<domain>/<name>` (e.g. `datamesh_pipeline.x.id`)."),
                Attribute::optional("secret_config_wo", Type::map(Type::String), "Secret properties for this run, merged into the pipeline's `config` like its `secret_config_wo` (which is never stored, so a new run needs them again: pass short-lived credentials from an ephemeral resource). Write-only. Spark only.").sensitive().write_only(),
            ],
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(id) = config.get("pipeline").as_str() {
            if let Err(msg) = naming::parse_pipeline_id(id) {
                diags.attr_error(AttrPath::attr("pipeline"), "Invalid pipeline", msg);
            }
        }
    }

    async fn plan(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) {
        // With a known ID, the pipeline must exist by the time the action runs; it may be
        // created by the same apply, so only a malformed ID fails here.
        self.validate(config, diags);
        let _ = ctx;
    }

    async fn invoke(&self, ctx: &Context, config: &Value, progress: &Progress, diags: &mut Diagnostics) {
        let id = config.get("pipeline").as_str().unwrap_or_default().to_string();
        let Ok((domain, name)) = naming::parse_pipeline_id(&id) else {
            diags.attr_error(
                AttrPath::attr("pipeline"),
                "Invalid pipeline",
                format!("{id:?} is not a pipeline ID, \"<domain>/<name>\"."),
            );
            return;
        };
        let Some(catalog) = diags.ok(ctx.provider.catalog().await) else { return };
        let key = pipeline_key(&domain, &name);
        let mut entry = match catalog.get::<PipelineEntry>(&key).await {
            Ok(Some(e)) => e,
            Ok(None) => {
                diags.attr_error(
                    AttrPath::attr("pipeline"),
                    "Pipeline not found",
                    format!("There is no pipeline {id:?} in the catalog. Create its datamesh_pipeline first."),
                );
                return;
            }
            Err(e) => {
                diags.0.push(e.diagnostic("the catalog"));
                return;
            }
        };
        let Some(engine) = Engine::parse(&entry.engine) else {
            diags.error("Unknown engine", format!("The catalog record of {id} names engine {:?}.", entry.engine));
            return;
        };
        let Some(processing) = diags.ok(ctx.provider.processing(engine).await) else { return };
        match engine {
            Engine::Flink => {
                let Some(job) = entry.job_id.clone() else {
                    diags.error(
                        "No Flink job",
                        format!("Pipeline {id} has no job to take a savepoint of. Apply it first."),
                    );
                    return;
                };
                progress.report(format!("Triggering a savepoint of Flink job {job} ({id})"));
                let dir = ctx.provider.config.flink.savepoint_dir.clone();
                match processing.savepoint(&job, dir.as_deref()).await {
                    Ok(path) => {
                        progress.report(format!("Savepoint of {id} completed: {path}"));
                        entry.last_savepoint = Some(path);
                    }
                    Err(e) => {
                        diags.0.push(e.diagnostic(&format!("the savepoint of Flink job {job} ({id})")));
                        return;
                    }
                }
            }
            Engine::Spark => {
                let secret: BTreeMap<String, String> = match config.get("secret_config_wo") {
                    Value::Map(m) => {
                        m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect()
                    }
                    _ => BTreeMap::new(),
                };
                let mut merged = entry.config.clone().unwrap_or_default();
                merged.extend(secret);
                let spark = entry.spark.clone().unwrap_or_default();
                let args = entry.args.clone().unwrap_or_default();
                let submission = Submission {
                    id: &entry.id,
                    artifact: &entry.artifact,
                    entry_class: &entry.entry_class,
                    args: &args,
                    config: merged,
                    flink: FlinkOptions::default(),
                    spark: spark.clone(),
                };
                let driver = match run::submit(&ctx.provider, processing.as_ref(), &submission, None).await {
                    Ok(d) => d,
                    Err(d) => {
                        diags.0.push(d);
                        return;
                    }
                };
                progress.report(format!("Submitted Spark driver {driver} for {id}"));
                let outcome = run::wait_for(
                    processing.as_ref(),
                    &driver,
                    spark.timeout(),
                    &ctx.stop,
                    |s| s.state == "FINISHED",
                    |s| s.is_terminal(),
                    |s| progress.report(format!("Spark driver {driver}: {}", s.state)),
                )
                .await;
                entry.job_id = Some(driver.clone());
                match outcome {
                    Ok(s) => entry.state = Some(s.state),
                    Err(failure) => {
                        if let run::WaitFailure::Ended(s) = &failure {
                            entry.state = Some(s.state.clone());
                        }
                        diags.0.push(run::failure_diagnostic(
                            "Spark driver",
                            &driver,
                            "FINISHED",
                            spark.timeout(),
                            failure,
                        ));
                    }
                }
                entry.started_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            }
        }
        entry.updated_at = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        if let Err(e) = catalog.put(&key, &entry).await {
            diags.0.push(e.diagnostic(&format!("the catalog record of pipeline {id}")));
        }
    }
}
