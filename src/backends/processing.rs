//! Processing engines: Apache Flink (streaming, long-running jobs) and Apache Spark (batch runs)
//! behind one trait, so a pipeline is one resource whatever the engine. The real
//! implementations talk to each engine's REST API: the Flink JobManager's (`flink`) and the
//! Spark standalone master's REST submission server (`spark`).
//!
//! What an engine cannot do (a Spark driver has no savepoint) is `ErrorKind::Unsupported`, with
//! a message saying so.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::error::BackendError;
pub use backend_wire::processing::JobStatus;

/// Which engine runs a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Apache Flink: streaming, long-running.
    Flink,
    /// Apache Spark: batch, run once.
    Spark,
}

impl Engine {
    /// The name used in configuration and the catalog: `flink` or `spark`.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Flink => "flink",
            Engine::Spark => "spark",
        }
    }

    /// The engine's proper name: `Flink` or `Spark`.
    pub fn title(self) -> &'static str {
        match self {
            Engine::Flink => "Flink",
            Engine::Spark => "Spark",
        }
    }

    /// The engine of a name, if it is one.
    pub fn parse(s: &str) -> Option<Engine> {
        match s {
            "flink" => Some(Engine::Flink),
            "spark" => Some(Engine::Spark),
            _ => None,
        }
    }
}

/// Where the job's jar is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// The jar's bytes, read by the provider (from a local path or from S3). Flink uploads them
    /// to the JobManager (`/jars/upload`) under `file_name`.
    Bytes {
        /// The file name the jar is uploaded as (ends in `.jar`).
        file_name: String,
        /// The jar.
        bytes: Vec<u8>,
    },
    /// A URI the engine fetches itself (`file:///...`, `s3a://...`, `hdfs://...`): Spark's
    /// `appResource`. A Flink engine given one is `Unsupported`.
    Uri(String),
}

/// A job to start.
#[derive(Debug, Clone)]
pub struct JobSpec {
    /// The job's name on the engine, `<domain>/<pipeline>`: Flink's `pipeline.name` (the job
    /// name when the program calls `execute()` without one), Spark's `spark.app.name`.
    pub name: String,
    /// The jar.
    pub artifact: Artifact,
    /// The main class.
    pub entry_class: String,
    /// Program arguments (Flink's `programArgsList`, Spark's `appArgs`).
    pub args: Vec<String>,
    /// Engine properties, secrets already merged in: Flink's `flinkConfiguration` of the run
    /// request, Spark's `sparkProperties`. Never logged.
    pub config: BTreeMap<String, String>,
    /// Flink only: the job's parallelism.
    pub parallelism: Option<u32>,
    /// Flink only: the savepoint to start from.
    pub savepoint: Option<String>,
    /// Flink only: whether state of the savepoint that maps to no operator may be dropped.
    pub allow_non_restored_state: bool,
    /// Spark only: `spark.driver.memory`, like `1g`.
    pub driver_memory: Option<String>,
    /// Spark only: `spark.executor.memory`.
    pub executor_memory: Option<String>,
    /// Spark only: `spark.cores.max`.
    pub total_executor_cores: Option<u32>,
}

/// A processing engine, as the provider drives it.
#[async_trait]
pub trait Processing: Send + Sync {
    /// Which engine this is.
    fn engine(&self) -> Engine;

    /// Starts a job: Flink uploads the jar and runs it (then deletes the uploaded jar);
    /// Spark submits it in cluster mode. Returns the job (submission) ID.
    async fn submit(&self, job: &JobSpec) -> Result<String, BackendError>;

    /// A job's status; None when the engine does not know the ID (Flink: 404 on
    /// `/jobs/:id`; Spark: `/status/:id` answers `success: false` for an unknown driver).
    async fn status(&self, id: &str) -> Result<Option<JobStatus>, BackendError>;

    /// Every job the engine lists, read once and kept until this engine is next asked to change
    /// something (submit, stop, cancel, savepoint): a refresh of many pipelines costs one listing
    /// (Flink: `/jobs/overview`). Spark's REST server lists nothing: `Unsupported`.
    async fn jobs(&self) -> Result<Vec<JobStatus>, BackendError>;

    /// Flink: stops the job with a savepoint (`/jobs/:id/stop`, into `target_dir` or the
    /// cluster's default), waits for the savepoint to complete and returns its path. Spark:
    /// `Unsupported`.
    async fn stop_with_savepoint(&self, id: &str, target_dir: Option<&str>) -> Result<String, BackendError>;

    /// Flink: takes a savepoint of a running job, which keeps running (`/jobs/:id/savepoints`),
    /// waits for it and returns its path. Spark: `Unsupported`.
    async fn savepoint(&self, id: &str, target_dir: Option<&str>) -> Result<String, BackendError>;

    /// Flink: the newest completed savepoint the engine lists for a job (its checkpoint
    /// statistics), also of a job that has ended; None when it has none or the engine cannot
    /// say. Spark: None.
    async fn latest_savepoint(&self, _id: &str) -> Result<Option<String>, BackendError> {
        Ok(None)
    }

    /// Ends a job without a savepoint: Flink `PATCH /jobs/:id?mode=cancel`, Spark
    /// `/kill/:id`. A job that has already ended, or is unknown, is fine.
    async fn cancel(&self, id: &str) -> Result<(), BackendError>;
}
