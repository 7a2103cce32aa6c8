//! What a processing engine reports of a job, whichever engine: the answer type of the
//! provider's `Processing` trait, made by [`crate::flink`] and [`crate::spark`] from their
//! servers' answers.

/// A job as the engine reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    /// Flink's job ID, or Spark's submission (driver) ID.
    pub id: String,
    /// The job's name, where the engine reports one (Flink); None for Spark.
    pub name: Option<String>,
    /// The engine's own state, upper case: Flink's `RUNNING`, `FINISHED`, `FAILED`,
    /// `CANCELED`, `RESTARTING`, ...; Spark's driver states `SUBMITTED`, `RUNNING`, `FINISHED`,
    /// `FAILED`, `KILLED`, `ERROR`, `RELAUNCHING`, `UNKNOWN`.
    pub state: String,
    /// When it started, milliseconds since the epoch, where reported.
    pub started_at_ms: Option<i64>,
    /// When it ended, milliseconds since the epoch, where reported (Flink; None while running).
    pub finished_at_ms: Option<i64>,
    /// Why it failed, where the engine says: Flink's root exception (first line), Spark's
    /// driver message.
    pub message: Option<String>,
}

impl JobStatus {
    /// Whether the job has ended and will not run again by itself.
    pub fn is_terminal(&self) -> bool {
        matches!(self.state.as_str(), "FINISHED" | "FAILED" | "CANCELED" | "KILLED" | "ERROR" | "SUSPENDED")
    }
}
