//! Running a pipeline's job: the jar, the submission, waiting for the engine's state, and the
//! catalog's lineage record. Shared by the resource and the `datamesh_run_pipeline` action.

use crate::backends::Diagnose;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::backends::processing::{Artifact, Engine, JobSpec, JobStatus};
use crate::backends::{BackendError, Processing};
use crate::provider::ProviderData;
use tfplugin::framework::{AttrPath, Diagnostic};

/// How long a Flink job may take from submission to `RUNNING`.
pub(crate) const FLINK_START_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a Spark driver with `wait = false` may take to be `RUNNING`.
pub(crate) const SPARK_START_TIMEOUT: Duration = Duration::from_secs(300);
/// The default bound of a Spark run with `wait = true`.
pub(crate) const SPARK_DEFAULT_TIMEOUT_SECONDS: i64 = 1800;

/// The `flink` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlinkOptions {
    /// The job's parallelism (default 1).
    #[serde(default)]
    pub parallelism: Option<i64>,
    /// `savepoint` (default) or `stateless`.
    #[serde(default)]
    pub upgrade_mode: Option<String>,
    /// Whether unclaimed savepoint state may be dropped.
    #[serde(default)]
    pub allow_non_restored_state: Option<bool>,
}

impl FlinkOptions {
    pub(crate) fn stateless(&self) -> bool {
        self.upgrade_mode.as_deref() == Some("stateless")
    }
}

/// The `spark` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SparkOptions {
    /// `spark.driver.memory`.
    #[serde(default)]
    pub driver_memory: Option<String>,
    /// `spark.executor.memory`.
    #[serde(default)]
    pub executor_memory: Option<String>,
    /// `spark.cores.max`.
    #[serde(default)]
    pub total_executor_cores: Option<i64>,
    /// Whether apply waits for the driver to end (default true).
    #[serde(default)]
    pub wait: Option<bool>,
    /// How long apply waits (default 1800 s).
    #[serde(default)]
    pub timeout_seconds: Option<i64>,
    /// A change runs the batch again.
    #[serde(default)]
    pub triggers: Option<BTreeMap<String, String>>,
}

impl SparkOptions {
    pub(crate) fn waits(&self) -> bool {
        self.wait.unwrap_or(true)
    }
    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.unwrap_or(SPARK_DEFAULT_TIMEOUT_SECONDS).max(1) as u64)
    }
}

/// The pipeline's catalog entry: its lineage record, and everything but secrets that a later
/// run (the action) or an import needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PipelineEntry {
    /// `<domain>/<name>`.
    pub id: String,
    /// The domain that runs it.
    pub domain: String,
    /// The pipeline's name.
    pub name: String,
    /// `flink` or `spark`.
    pub engine: String,
    /// `inputs` as written: product and grant IDs.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// The products it reads (a grant counts as the product it grants).
    #[serde(default)]
    pub reads: Vec<String>,
    /// The products it writes.
    #[serde(default)]
    pub outputs: Vec<String>,
    /// The jar.
    pub artifact: String,
    /// The jar's digest when it was submitted.
    #[serde(default)]
    pub artifact_sha256: Option<String>,
    /// The main class.
    pub entry_class: String,
    /// Program arguments.
    #[serde(default)]
    pub args: Option<Vec<String>>,
    /// Engine properties (never the secret ones).
    #[serde(default)]
    pub config: Option<BTreeMap<String, String>>,
    /// The version of the write-only secret properties last submitted (not the properties).
    #[serde(default)]
    pub secret_config_wo_version: Option<i64>,
    /// The `flink` block.
    #[serde(default)]
    pub flink: Option<FlinkOptions>,
    /// The `spark` block.
    #[serde(default)]
    pub spark: Option<SparkOptions>,
    /// The job (Flink) or submission (Spark) ID of the last run.
    #[serde(default)]
    pub job_id: Option<String>,
    /// The engine's state, as last seen.
    #[serde(default)]
    pub state: Option<String>,
    /// Flink: the savepoint the job was last stopped or upgraded with.
    #[serde(default)]
    pub last_savepoint: Option<String>,
    /// When the last run started.
    #[serde(default)]
    pub started_at: Option<String>,
    /// When the last run ended.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// When the record was written.
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// Where a jar is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JarSource {
    /// A path on the machine that runs Terraform.
    Local(String),
    /// An S3 object.
    S3 { bucket: String, key: String },
}

/// Parses `artifact`: `s3://<bucket>/<key>` or a local path.
pub(crate) fn jar_source(artifact: &str) -> Result<JarSource, String> {
    if let Some(rest) = artifact.strip_prefix("s3://") {
        return match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                Ok(JarSource::S3 { bucket: bucket.into(), key: key.into() })
            }
            _ => Err(format!("{artifact:?} is not an S3 URI of an object. Write it as \"s3://<bucket>/<key>.jar\".")),
        };
    }
    if artifact.contains("://") {
        return Err(format!("{artifact:?} is neither a local path nor an s3:// URI. Give the jar's path (like \"${{path.module}}/jobs/enrich.jar\") or \"s3://<bucket>/<key>.jar\"."));
    }
    if artifact.trim().is_empty() {
        return Err("artifact is empty. Give the jar's path, or \"s3://<bucket>/<key>.jar\".".into());
    }
    Ok(JarSource::Local(artifact.into()))
}

/// The jar's bytes: read from disk, or fetched with the provider's S3 client.
pub(crate) async fn read_jar(data: &ProviderData, source: &JarSource) -> Result<Vec<u8>, Diagnostic> {
    let at = AttrPath::attr("artifact");
    match source {
        JarSource::Local(path) => tokio::fs::read(path).await.map_err(|e| {
            Diagnostic::attr_error(at, "Cannot read the job's jar", format!("{path:?}: {e}. Build the job first, or point artifact at the jar (a path relative to where Terraform runs, or ${{path.module}}/...)."))
        }),
        JarSource::S3 { bucket, key } => {
            let storage = data.storage().await?;
            match storage.get_object(bucket, key).await {
                Ok(Some(obj)) => Ok(obj.body),
                Ok(None) => Err(Diagnostic::attr_error(at, "Job jar not found", format!("There is no object s3://{bucket}/{key}. Upload the jar first, or fix the URI."))),
                Err(e) => Err(e.attr_diagnostic(at, &format!("the job jar s3://{bucket}/{key}"))),
            }
        }
    }
}

/// A jar's SHA-256, in lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The URI a Spark worker fetches the jar from: `file://` for a local path (the cluster must see
/// the same file), `s3a://` for an S3 object.
pub(crate) fn spark_app_resource(source: &JarSource) -> String {
    match source {
        JarSource::Local(path) => {
            let abs = std::fs::canonicalize(path).unwrap_or_else(|_| Path::new(path).to_path_buf());
            format!("file://{}", abs.display())
        }
        JarSource::S3 { bucket, key } => format!("s3a://{bucket}/{key}"),
    }
}

/// What a submission needs beyond the engine: the pipeline's attributes.
pub(crate) struct Submission<'a> {
    pub id: &'a str,
    pub artifact: &'a str,
    pub entry_class: &'a str,
    pub args: &'a [String],
    pub config: BTreeMap<String, String>,
    pub flink: FlinkOptions,
    pub spark: SparkOptions,
}

/// Builds the engine's job and submits it; the job ID.
pub(crate) async fn submit(
    data: &ProviderData,
    engine: &dyn Processing,
    s: &Submission<'_>,
    savepoint: Option<String>,
) -> Result<String, Diagnostic> {
    let source = jar_source(s.artifact)
        .map_err(|m| Diagnostic::attr_error(AttrPath::attr("artifact"), "Invalid artifact", m))?;
    let artifact = match engine.engine() {
        Engine::Flink => {
            let bytes = read_jar(data, &source).await?;
            let file_name =
                s.artifact.rsplit('/').next().filter(|n| n.ends_with(".jar")).unwrap_or("job.jar").to_string();
            Artifact::Bytes { file_name, bytes }
        }
        Engine::Spark => Artifact::Uri(spark_app_resource(&source)),
    };
    let job = JobSpec {
        name: s.id.to_string(),
        artifact,
        entry_class: s.entry_class.to_string(),
        args: s.args.to_vec(),
        config: s.config.clone(),
        parallelism: (engine.engine() == Engine::Flink).then(|| s.flink.parallelism.unwrap_or(1).max(1) as u32),
        savepoint,
        allow_non_restored_state: s.flink.allow_non_restored_state.unwrap_or(false),
        driver_memory: s.spark.driver_memory.clone(),
        executor_memory: s.spark.executor_memory.clone(),
        total_executor_cores: s.spark.total_executor_cores.map(|c| c.max(1) as u32),
    };
    engine
        .submit(&job)
        .await
        .map_err(|e| e.diagnostic(&format!("the {} job of pipeline {}", engine.engine().title(), s.id)))
}

/// Why waiting for a state ended without it.
pub(crate) enum WaitFailure {
    /// The job reached a state it will not leave for the one wanted (or failed on the way).
    Ended(JobStatus),
    /// The time ran out; the last status seen, if any.
    TimedOut(Option<JobStatus>),
    /// The engine no longer knows the job (it was seen, or the grace after submission passed):
    /// its master or JobManager restarted without recovery, or the job was removed. The last
    /// status seen, if any.
    Forgotten(Option<JobStatus>),
    /// The engine could not be asked.
    Backend(BackendError),
    /// Terraform asked the provider to stop.
    Stopped,
}

/// How long after a submission a job the engine does not know yet is waited for.
const UNKNOWN_GRACE: Duration = Duration::from_secs(15);

/// Polls `id` until `done` says so, a state `failed` says is a failure, the engine no longer
/// knows it, or `timeout`.
pub(crate) async fn wait_for(
    engine: &dyn Processing,
    id: &str,
    timeout: Duration,
    stop: &CancellationToken,
    done: impl Fn(&JobStatus) -> bool,
    failed: impl Fn(&JobStatus) -> bool,
    mut progress: impl FnMut(&JobStatus),
) -> Result<JobStatus, WaitFailure> {
    let started = tokio::time::Instant::now();
    let mut last: Option<JobStatus> = None;
    let mut pause = Duration::from_millis(250);
    loop {
        match engine.status(id).await {
            Ok(Some(status)) => {
                if last.as_ref().map(|l| &l.state) != Some(&status.state) {
                    progress(&status);
                }
                if done(&status) {
                    return Ok(status);
                }
                if failed(&status) {
                    return Err(WaitFailure::Ended(status));
                }
                last = Some(status);
            }
            // Just after a submission an engine may not list the job yet; once it has, or
            // after that grace, a job it does not know is gone, and waiting longer would only
            // run out the timeout (a Spark master restarted under a batch forgets its driver).
            Ok(None) if last.is_some() || started.elapsed() >= UNKNOWN_GRACE => {
                return Err(WaitFailure::Forgotten(last));
            }
            Ok(None) => {}
            Err(e) if e.is(crate::backends::ErrorKind::Transient) => {}
            Err(e) => return Err(WaitFailure::Backend(e)),
        }
        if started.elapsed() >= timeout {
            return Err(WaitFailure::TimedOut(last));
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.cancelled() => return Err(WaitFailure::Stopped),
        }
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Whether a Flink job is alive (running or on its way there): anything else is drift.
pub(crate) fn flink_alive(state: &str) -> bool {
    matches!(state, "RUNNING" | "CREATED" | "INITIALIZING" | "RECONCILING" | "RESTARTING")
}

/// Waits for a just-submitted Flink job to be `RUNNING`. A job that fails or restarts first is
/// cancelled (so no half-started job is left behind) and reported with its root exception.
pub(crate) async fn wait_flink_running(
    engine: &dyn Processing,
    id: &str,
    stop: &CancellationToken,
) -> Result<JobStatus, (Diagnostic, Option<JobStatus>)> {
    let outcome = wait_for(
        engine,
        id,
        FLINK_START_TIMEOUT,
        stop,
        |s| s.state == "RUNNING",
        |s| !matches!(s.state.as_str(), "CREATED" | "INITIALIZING" | "RECONCILING" | "RUNNING"),
        |_| {},
    )
    .await;
    match outcome {
        Ok(s) => Ok(s),
        Err(failure) => {
            let seen = match &failure {
                WaitFailure::Ended(s) => Some(s.clone()),
                WaitFailure::TimedOut(s) | WaitFailure::Forgotten(s) => s.clone(),
                _ => None,
            };
            // The job stays only if it is already over; a restarting or stuck job is ended.
            let mut last = seen.clone();
            if !seen.as_ref().is_some_and(JobStatus::is_terminal) && engine.cancel(id).await.is_ok() {
                if let Some(s) = last.as_mut() {
                    s.state = "CANCELED".into();
                }
            }
            Err((failure_diagnostic("Flink job", id, "RUNNING", FLINK_START_TIMEOUT, failure), last))
        }
    }
}

/// A diagnostic for a wait that ended without the wanted state.
pub(crate) fn failure_diagnostic(
    what: &str,
    id: &str,
    wanted: &str,
    timeout: Duration,
    failure: WaitFailure,
) -> Diagnostic {
    match failure {
        WaitFailure::Ended(s) => Diagnostic::error(
            format!("{what} {id} ended {}", s.state),
            format!(
                "The engine reports {what} {id} as {} instead of {wanted}{}. Fix the job (its configuration, arguments or access) and apply again: the failed run is replaced.",
                s.state,
                s.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
            ),
        ),
        WaitFailure::TimedOut(s) => Diagnostic::error(
            format!("{what} {id} not {wanted} in time"),
            format!(
                "{what} {id} was still {} after {} s. Look at the engine's UI or logs for why it is slow; the next apply replaces this run.",
                s.map(|s| s.state).unwrap_or_else(|| "unknown to the engine".into()),
                timeout.as_secs()
            ),
        ),
        WaitFailure::Forgotten(s) => Diagnostic::error(
            format!("{what} {id} is gone"),
            format!(
                "The engine no longer knows {what} {id}{}: its master or JobManager restarted without recovery, or the job was removed. The run is lost; apply again to run it anew.",
                s.map(|s| format!(" (last seen {})", s.state)).unwrap_or_default()
            ),
        ),
        WaitFailure::Backend(e) => e.diagnostic(&format!("{what} {id}")),
        WaitFailure::Stopped => Diagnostic::error("Stopped", format!("Terraform asked the provider to stop while waiting for {what} {id}.")),
    }
}

/// RFC 3339 of milliseconds since the epoch.
pub(crate) fn rfc3339_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_local_paths_or_s3_objects() {
        assert_eq!(jar_source("jobs/enrich.jar"), Ok(JarSource::Local("jobs/enrich.jar".into())));
        assert_eq!(jar_source("s3://b/jobs/e.jar"), Ok(JarSource::S3 { bucket: "b".into(), key: "jobs/e.jar".into() }));
        assert!(jar_source("s3://b").is_err());
        assert!(jar_source("s3:///k.jar").is_err());
        assert!(jar_source("https://example.com/a.jar").unwrap_err().contains("s3://"));
        assert!(jar_source(" ").is_err());
    }

    #[test]
    fn spark_fetches_s3_jars_through_s3a() {
        let s3 = JarSource::S3 { bucket: "b".into(), key: "k.jar".into() };
        assert_eq!(spark_app_resource(&s3), "s3a://b/k.jar");
        assert!(spark_app_resource(&JarSource::Local("/x/y.jar".into())).starts_with("file:///x/y.jar"));
    }

    #[test]
    fn digests_are_lower_case_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    /// An engine that answers `status` from a script, one answer per call (the last repeats).
    struct Scripted(std::sync::Mutex<Vec<Option<&'static str>>>);

    #[async_trait::async_trait]
    impl Processing for Scripted {
        fn engine(&self) -> crate::backends::processing::Engine {
            crate::backends::processing::Engine::Spark
        }
        async fn submit(&self, _: &JobSpec) -> Result<String, BackendError> {
            unreachable!("not submitted in these tests")
        }
        async fn status(&self, id: &str) -> Result<Option<JobStatus>, BackendError> {
            let mut script = self.0.lock().expect("script");
            let next = if script.len() > 1 { script.remove(0) } else { script[0] };
            Ok(next.map(|state| JobStatus {
                id: id.into(),
                name: None,
                state: state.into(),
                started_at_ms: None,
                finished_at_ms: None,
                message: None,
            }))
        }
        async fn jobs(&self) -> Result<Vec<JobStatus>, BackendError> {
            Ok(Vec::new())
        }
        async fn stop_with_savepoint(&self, _: &str, _: Option<&str>) -> Result<String, BackendError> {
            unreachable!("no savepoints here")
        }
        async fn savepoint(&self, _: &str, _: Option<&str>) -> Result<String, BackendError> {
            unreachable!("no savepoints here")
        }
        async fn cancel(&self, _: &str) -> Result<(), BackendError> {
            Ok(())
        }
    }

    async fn wait(script: Vec<Option<&'static str>>) -> Result<JobStatus, WaitFailure> {
        let engine = Scripted(std::sync::Mutex::new(script));
        let stop = CancellationToken::new();
        wait_for(
            &engine,
            "driver-1",
            Duration::from_secs(3600),
            &stop,
            |s| s.state == "FINISHED",
            JobStatus::is_terminal,
            |_| {},
        )
        .await
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_the_engine_forgets_ends_the_wait_at_once_instead_of_at_the_timeout() {
        // Regression (issue 12): a Spark master restarted under a batch forgets its driver;
        // the apply waited for the whole timeout (an hour by default) for it.
        let started = tokio::time::Instant::now();
        match wait(vec![Some("SUBMITTED"), Some("RUNNING"), None]).await {
            Err(WaitFailure::Forgotten(Some(last))) => assert_eq!(last.state, "RUNNING"),
            other => panic!("expected Forgotten, got {:?}", other.map(|s| s.state).map_err(|_| "another failure")),
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        let diag = failure_diagnostic(
            "Spark driver",
            "driver-1",
            "FINISHED",
            Duration::from_secs(60),
            WaitFailure::Forgotten(None),
        );
        assert!(diag.summary.contains("is gone") && diag.detail.contains("apply again"), "{diag:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_job_not_listed_yet_right_after_its_submission_is_waited_for_a_while() {
        let r = wait(vec![None, None, Some("RUNNING"), Some("FINISHED")]).await;
        assert_eq!(r.ok().map(|s| s.state).as_deref(), Some("FINISHED"));
        let started = tokio::time::Instant::now();
        assert!(matches!(wait(vec![None]).await, Err(WaitFailure::Forgotten(None))));
        assert!(started.elapsed() >= UNKNOWN_GRACE, "the grace was waited: {:?}", started.elapsed());
    }

    #[test]
    fn only_terminal_flink_states_are_drift() {
        for s in ["RUNNING", "RESTARTING", "CREATED", "INITIALIZING"] {
            assert!(flink_alive(s), "{s}");
        }
        for s in ["FINISHED", "FAILED", "CANCELED", "SUSPENDED", "UNKNOWN"] {
            assert!(!flink_alive(s), "{s}");
        }
    }
}
