//! What Flink's JobManager answers over REST, parsed at the edge: the JSON bodies of the calls
//! the provider's Flink backend makes, and `{"errors": [...]}` bodies turned into [`BackendError`]s. Flink's errors and
//! failure causes are whole Java stack traces; [`summary`] keeps the lines a reader needs (the
//! first, and the deepest `Caused by:`). Nothing here panics on what a server sends; a body of
//! the wrong shape is an error naming the call.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::body::{self, excerpt};
use crate::error::{BackendError, ErrorKind};
use crate::processing::JobStatus;

/// The service name every error of this backend carries.
pub const SERVICE: &str = "Flink";

/// The longest message kept from a server's text: enough for a cause, not a whole trace.
pub const MAX_MESSAGE: usize = body::MAX_SERVER_TEXT;

/// `{"filename": "<upload dir>/<jar id>", "status": "success"}` (`POST /jars/upload`).
#[derive(Debug, Deserialize)]
pub struct UploadAnswer {
    filename: String,
    status: String,
}

impl UploadAnswer {
    /// The uploaded jar's ID: the file name the JobManager stored it under; None when the
    /// upload did not succeed.
    pub fn jar_id(&self) -> Option<&str> {
        if self.status != "success" {
            return None;
        }
        self.filename.rsplit('/').next().filter(|id| !id.is_empty())
    }
}

/// `{"jobid": "..."}` (`POST /jars/:id/run`).
#[derive(Debug, Deserialize)]
pub struct RunAnswer {
    pub jobid: String,
}

/// A job as `GET /jobs/:id` and each entry of `GET /jobs/overview` describe it (only the
/// fields the backend reads; both answers spell them the same).
#[derive(Debug, Deserialize)]
pub struct JobAnswer {
    jid: String,
    #[serde(default)]
    name: Option<String>,
    state: String,
    #[serde(rename = "start-time", default)]
    start_time: Option<i64>,
    #[serde(rename = "end-time", default)]
    end_time: Option<i64>,
}

impl JobAnswer {
    /// The job's state, as Flink spells it (upper case).
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Whether the job failed or is failing, so that its exceptions say why.
    pub fn has_failed(&self) -> bool {
        matches!(self.state.as_str(), "FAILED" | "FAILING" | "RESTARTING")
    }

    /// The trait's view of it, with the failure message found elsewhere.
    pub fn status(self, message: Option<String>) -> JobStatus {
        JobStatus {
            id: self.jid,
            name: self.name,
            state: self.state.to_ascii_uppercase(),
            started_at_ms: self.start_time.filter(|t| *t >= 0),
            // -1 while the job runs.
            finished_at_ms: self.end_time.filter(|t| *t >= 0),
            message,
        }
    }
}

/// `{"jobs": [...]}` (`GET /jobs/overview`).
#[derive(Debug, Deserialize)]
pub struct OverviewAnswer {
    jobs: Vec<JobAnswer>,
}

impl OverviewAnswer {
    /// Every job listed (no failure messages: the overview has none).
    pub fn statuses(self) -> Vec<JobStatus> {
        self.jobs.into_iter().map(|j| j.status(None)).collect()
    }
}

/// `{"request-id": "..."}` (`POST /jobs/:id/stop` and `POST /jobs/:id/savepoints`).
#[derive(Debug, Deserialize)]
pub struct TriggerAnswer {
    #[serde(rename = "request-id")]
    pub request_id: String,
}

/// `GET /jobs/:id/savepoints/:trigger`: `{"status": {"id": "IN_PROGRESS"}, "operation": null}`,
/// then `{"status": {"id": "COMPLETED"}, "operation": {"location": ...}}` or, when it failed,
/// `"operation": {"failure-cause": {"class": ..., "stack-trace": ...}}`.
#[derive(Debug, Deserialize)]
pub struct SavepointAnswer {
    status: QueueStatus,
    #[serde(default)]
    operation: Option<SavepointOperation>,
}

#[derive(Debug, Deserialize)]
struct QueueStatus {
    id: String,
}

#[derive(Debug, Deserialize)]
struct SavepointOperation {
    #[serde(default)]
    location: Option<String>,
    #[serde(rename = "failure-cause", default)]
    failure_cause: Option<FailureCause>,
}

#[derive(Debug, Deserialize)]
struct FailureCause {
    #[serde(default)]
    class: Option<String>,
    #[serde(rename = "stack-trace", default)]
    stack_trace: Option<String>,
}

impl SavepointAnswer {
    /// None while the savepoint is in progress; then its location, or why it failed.
    pub fn outcome(&self) -> Option<Result<String, String>> {
        if self.status.id != "COMPLETED" {
            return None;
        }
        let op = self.operation.as_ref();
        if let Some(cause) = op.and_then(|o| o.failure_cause.as_ref()) {
            let why = match (&cause.stack_trace, &cause.class) {
                (Some(trace), _) if !trace.trim().is_empty() => summary(trace),
                (_, Some(class)) if !class.trim().is_empty() => clip(class),
                _ => "the JobManager gives no cause".into(),
            };
            return Some(Err(why));
        }
        Some(match op.and_then(|o| o.location.clone()) {
            Some(location) if !location.is_empty() => Ok(location),
            _ => Err("the JobManager reports it completed but names no location".into()),
        })
    }
}

/// `GET /jobs/:id/exceptions`. Flink 2.x answers `{"exceptionHistory": {"entries": [...],
/// "truncated": ...}}` alone, newest first; the `root-exception` field of Flink 1.x is gone,
/// and read here only where an older server still sends it.
#[derive(Debug, Deserialize)]
pub struct ExceptionsAnswer {
    #[serde(rename = "exceptionHistory", default)]
    history: Option<ExceptionHistory>,
    #[serde(rename = "root-exception", default)]
    root_exception: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ExceptionHistory {
    #[serde(default)]
    entries: Vec<ExceptionEntry>,
}

#[derive(Debug, Deserialize)]
struct ExceptionEntry {
    #[serde(rename = "exceptionName", default)]
    exception_name: Option<String>,
    #[serde(default)]
    stacktrace: Option<String>,
}

impl ExceptionsAnswer {
    /// Why the job failed: the newest exception, summarised; None when there is none.
    pub fn message(&self) -> Option<String> {
        let newest = self.history.as_ref().and_then(|h| h.entries.first());
        let from_history = newest.and_then(|e| match (&e.stacktrace, &e.exception_name) {
            (Some(trace), _) if !trace.trim().is_empty() => Some(summary(trace)),
            (_, Some(name)) if !name.is_empty() => Some(clip(name)),
            _ => None,
        });
        from_history.or_else(|| self.root_exception.as_deref().filter(|t| !t.trim().is_empty()).map(summary))
    }
}

/// `GET /jobs/:id/checkpoints`: the job's checkpoint statistics; only the newest completed
/// savepoint is read.
#[derive(Debug, Default, Deserialize)]
pub struct CheckpointsAnswer {
    #[serde(default)]
    latest: Option<LatestCheckpoints>,
}

#[derive(Debug, Default, Deserialize)]
struct LatestCheckpoints {
    #[serde(default)]
    savepoint: Option<CompletedCheckpoint>,
}

#[derive(Debug, Default, Deserialize)]
struct CompletedCheckpoint {
    #[serde(default)]
    external_path: Option<String>,
}

impl CheckpointsAnswer {
    /// Where the newest completed savepoint is, if the job has one.
    pub fn latest_savepoint(self) -> Option<String> {
        self.latest?
            .savepoint?
            .external_path
            .filter(|p| !p.is_empty() && p != "<checkpoint-not-externally-addressable>")
    }
}

/// Whether a failure cause says the JobManager does not know the job: a savepoint trigger for
/// an unknown job is accepted (202) and completes with this cause, not with a 404.
pub fn is_unknown_job(why: &str) -> bool {
    why.contains("FlinkJobNotFoundException")
}

/// `{"errors": [...]}`: how the REST API reports every failure.
#[derive(Debug, Deserialize)]
struct ErrorsAnswer {
    errors: Vec<String>,
}

/// Parses a successful answer of `op`.
pub fn parse<T: DeserializeOwned>(op: &'static str, body: &str) -> Result<T, BackendError> {
    body::parse(SERVICE, op, "the JobManager's", body)
}

/// The error for a failed answer (`status` not 2xx) of `op`, with the server's own text.
pub fn error(op: &'static str, status: u16, body: &str) -> BackendError {
    let kind = match status {
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        401 | 403 => ErrorKind::Auth,
        // 503 is also what a JobManager answers during a leader election.
        s if s >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    };
    let text = match serde_json::from_str::<ErrorsAnswer>(body) {
        Ok(answer) if !answer.errors.is_empty() => errors_text(&answer.errors),
        _ => format!("no Flink error in the answer (is rest_url the JobManager's?): {}", excerpt(body)),
    };
    BackendError::new(kind, SERVICE, op, format!("HTTP {status}: {text}")).with_code(format!("HTTP {status}"))
}

/// The `errors` of an answer, each summarised. A 500 lists `"Internal server error."` and then
/// the trace as `"<Exception on server side:\n...\nEnd of exception on server side>"`: the
/// generic line is dropped when a trace follows.
fn errors_text(errors: &[String]) -> String {
    let traces: Vec<String> = errors
        .iter()
        .filter(|e| !(errors.len() > 1 && e.trim() == "Internal server error."))
        .map(|e| {
            let e = e.trim();
            let e = e.strip_prefix("<Exception on server side:").unwrap_or(e);
            let e = e.trim_end().strip_suffix("End of exception on server side>").unwrap_or(e);
            summary(e)
        })
        .filter(|s| !s.is_empty())
        .collect();
    clip(&traces.join("; "))
}

/// A Java stack trace in a line: its first line, and the deepest `Caused by:` when it says
/// something else (Flink wraps the user's exception in several of its own).
pub fn summary(trace: &str) -> String {
    let mut lines = trace.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    let deepest = trace.lines().rev().find_map(|l| l.trim().strip_prefix("Caused by:")).map(str::trim);
    match deepest {
        Some(cause) if !cause.is_empty() && !first.contains(cause) => clip(&format!("{first}; caused by {cause}")),
        _ => clip(first),
    }
}

/// At most [`MAX_MESSAGE`] characters of `text`.
fn clip(text: &str) -> String {
    body::clip(text, MAX_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_savepoint_is_read_from_the_checkpoint_statistics() {
        let with: CheckpointsAnswer = serde_json::from_str(r#"{"counts":{"completed":3},"latest":{"completed":{"external_path":"file:/c/chk-3"},"savepoint":{"id":2,"external_path":"file:/sp/savepoint-ab12-cd"},"failed":null,"restored":null}}"#).unwrap();
        assert_eq!(with.latest_savepoint().as_deref(), Some("file:/sp/savepoint-ab12-cd"));
        let without: CheckpointsAnswer =
            serde_json::from_str(r#"{"latest":{"completed":null,"savepoint":null}}"#).unwrap();
        assert_eq!(without.latest_savepoint(), None);
        let empty: CheckpointsAnswer = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.latest_savepoint(), None);
    }
    use proptest::prelude::*;

    // The answers below are the stack's Flink 2.2.1, captured while writing this backend
    // (stack traces cut to two `at` lines per exception).

    #[test]
    fn uploads_name_the_jar_by_its_stored_file_name() {
        let body = r#"{"filename":"/tmp/eng-stack/flink/web/flink-web-upload/94d6f9d2-641d-4166-b4ff-05e8bdba81ce_smoke.jar","status":"success"}"#;
        let up = parse::<UploadAnswer>("UploadJar", body).unwrap();
        assert_eq!(up.jar_id(), Some("94d6f9d2-641d-4166-b4ff-05e8bdba81ce_smoke.jar"));
        let failed = parse::<UploadAnswer>("UploadJar", r#"{"filename":"/x/a.jar","status":"failure"}"#).unwrap();
        assert_eq!(failed.jar_id(), None);
        let dir = parse::<UploadAnswer>("UploadJar", r#"{"filename":"/x/","status":"success"}"#).unwrap();
        assert_eq!(dir.jar_id(), None);
    }

    #[test]
    fn a_running_job_has_no_end_time() {
        let body = r#"{"jid":"a714697148551baa7c293d150601962c","name":"datamesh-smoke a.out","isStoppable":false,"state":"RUNNING","job-type":"STREAMING","start-time":1796191204093,"end-time":-1,"duration":1730,"maxParallelism":-1,"now":1796191205823,"timestamps":{"FAILING":0,"RUNNING":1796191204418},"vertices":[]}"#;
        let job = parse::<JobAnswer>("GetJob", body).unwrap();
        assert!(!job.has_failed());
        assert_eq!(
            job.status(None),
            JobStatus {
                id: "a714697148551baa7c293d150601962c".into(),
                name: Some("datamesh-smoke a.out".into()),
                state: "RUNNING".into(),
                started_at_ms: Some(1796191204093),
                finished_at_ms: None,
                message: None,
            }
        );
        for (state, failed) in [("FAILED", true), ("FAILING", true), ("RESTARTING", true), ("CANCELED", false)] {
            let body = format!(r#"{{"jid":"x","state":"{state}"}}"#);
            assert_eq!(parse::<JobAnswer>("GetJob", &body).unwrap().has_failed(), failed, "{state}");
        }
        assert!(parse::<JobAnswer>("GetJob", r#"{"jid":"x"}"#).is_err(), "a job without a state");
    }

    #[test]
    fn the_overview_lists_jobs_by_pipeline_name() {
        let body = r#"{"jobs":[{"jid":"2bc9c517d2f9b3274df4a9ade55f03ca","name":"sales/failer","start-time":1796191317045,"end-time":1796191317550,"duration":505,"state":"FAILED","last-modification":1796191317550,"tasks":{"running":0,"failed":1},"pending-operators":0},{"jid":"29d3697e927249fd92893f44d85d65cf","name":"sales/orders","start-time":1796191316201,"end-time":-1,"duration":4010,"state":"RUNNING","last-modification":1796191316641,"tasks":{"running":1},"pending-operators":0}]}"#;
        let jobs = parse::<OverviewAnswer>("ListJobs", body).unwrap().statuses();
        let seen: Vec<_> =
            jobs.iter().map(|j| (j.name.as_deref(), j.state.as_str(), j.finished_at_ms.is_some())).collect();
        assert_eq!(seen, [(Some("sales/failer"), "FAILED", true), (Some("sales/orders"), "RUNNING", false)]);
        assert!(parse::<OverviewAnswer>("ListJobs", r#"{"jobs":[]}"#).unwrap().statuses().is_empty());
    }

    #[test]
    fn savepoint_triggers_end_in_a_location_or_a_cause() {
        let pending = r#"{"status":{"id":"IN_PROGRESS"},"operation":null}"#;
        assert_eq!(parse::<SavepointAnswer>("GetSavepointStatus", pending).unwrap().outcome(), None);
        let done = r#"{"status":{"id":"COMPLETED"},"operation":{"location":"file:/tmp/eng-stack/flink/savepoints/probe1/savepoint-a71469-7ec0e31410ca"}}"#;
        assert_eq!(
            parse::<SavepointAnswer>("GetSavepointStatus", done).unwrap().outcome(),
            Some(Ok("file:/tmp/eng-stack/flink/savepoints/probe1/savepoint-a71469-7ec0e31410ca".into()))
        );
        let failed = r#"{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"java.util.concurrent.CompletionException","stack-trace":"java.util.concurrent.CompletionException: org.apache.flink.runtime.checkpoint.CheckpointException: An Exception occurred while triggering the checkpoint. IO-problem detected.\n\tat java.base/java.util.concurrent.CompletableFuture.encodeRelay(CompletableFuture.java:368)\n\tat java.base/java.util.concurrent.CompletableFuture.completeRelay(CompletableFuture.java:377)\nCaused by: org.apache.flink.runtime.checkpoint.CheckpointException: An Exception occurred while triggering the checkpoint. IO-problem detected.\n\tat org.apache.flink.runtime.checkpoint.CheckpointCoordinator.lambda$startTriggeringCheckpoint$8(CheckpointCoordinator.java:700)\nCaused by: java.io.IOException: Failed to create savepoint directory at file:/proc/nope\n\tat org.apache.flink.runtime.state.filesystem.AbstractFsCheckpointStorageAccess.initializeLocationForSavepoint(AbstractFsCheckpointStorageAccess.java:160)\n\t... 3 more\n","serialized-throwable":"rO0ABXNy"}}}"#;
        let why = parse::<SavepointAnswer>("GetSavepointStatus", failed).unwrap().outcome().unwrap().unwrap_err();
        assert!(
            why.ends_with("caused by java.io.IOException: Failed to create savepoint directory at file:/proc/nope"),
            "{why}"
        );
        assert!(!why.contains("\tat "), "{why}");
        assert!(!is_unknown_job(&why));
        let unknown = r#"{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"java.util.concurrent.CompletionException","stack-trace":"java.util.concurrent.CompletionException: org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (1475a6eddebd79151c5f14730aa1ccea)\n\tat java.base/java.util.concurrent.CompletableFuture.encodeRelay(CompletableFuture.java:368)\nCaused by: org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (1475a6eddebd79151c5f14730aa1ccea)\n\t... 30 more\n"}}}"#;
        let why = parse::<SavepointAnswer>("GetSavepointStatus", unknown).unwrap().outcome().unwrap().unwrap_err();
        assert!(is_unknown_job(&why), "{why}");
        let nowhere = r#"{"status":{"id":"COMPLETED"},"operation":{}}"#;
        assert!(parse::<SavepointAnswer>("GetSavepointStatus", nowhere).unwrap().outcome().unwrap().is_err());
    }

    #[test]
    fn exceptions_come_from_the_history_in_flink_2() {
        let body = r#"{"exceptionHistory": {"entries": [{"exceptionName": "org.apache.flink.runtime.JobException", "stacktrace": "org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy\n\tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailure(ExecutionFailureHandler.java:213)\n\tat org.apache.flink.runtime.executiongraph.failover.ExecutionFailureHandler.handleFailureAndReport(ExecutionFailureHandler.java:163)\nCaused by: java.lang.IllegalStateException: datamesh test job fails at record 1\n\tat datamesh.smoke.FlinkPipelineJob$Step.map(FlinkPipelineJob.java:65)\n\tat datamesh.smoke.FlinkPipelineJob$Step.map(FlinkPipelineJob.java:55)\n", "timestamp": 1796191317550, "failureLabels": {}, "concurrentExceptions": [{"exceptionName": "java.lang.IllegalStateException", "stacktrace": "java.lang.IllegalStateException: datamesh test job fails at record 1\n\tat datamesh.smoke.FlinkPipelineJob$Step.map(FlinkPipelineJob.java:65)\n", "timestamp": 1796191317495, "failureLabels": {}, "taskName": "Source: Sequence Source -> Map -> Sink: Writer (1/1) - execution #0", "endpoint": "localhost:59365", "taskManagerId": "127.0.0.1:46571-6c1fb9"}]}], "truncated": false}}"#;
        let message = parse::<ExceptionsAnswer>("GetJobExceptions", body).unwrap().message().unwrap();
        assert_eq!(
            message,
            "org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy; caused by \
             java.lang.IllegalStateException: datamesh test job fails at record 1"
        );
        let none = r#"{"exceptionHistory":{"entries":[],"truncated":false}}"#;
        assert_eq!(parse::<ExceptionsAnswer>("GetJobExceptions", none).unwrap().message(), None);
        // Flink 1.x's field, where an older JobManager still sends it.
        let old = r#"{"root-exception":"java.lang.RuntimeException: boom\n\tat x.y(Z.java:1)","all-exceptions":[]}"#;
        assert_eq!(
            parse::<ExceptionsAnswer>("GetJobExceptions", old).unwrap().message().as_deref(),
            Some("java.lang.RuntimeException: boom")
        );
    }

    #[test]
    fn errors_keep_the_servers_sentence_not_its_trace() {
        let not_found = r#"{"errors":["org.apache.flink.runtime.rest.NotFoundException: Job 00000000000000000000000000000000 not found\n\tat org.apache.flink.runtime.rest.handler.job.AbstractExecutionGraphHandler.lambda$handleRequest$1(AbstractExecutionGraphHandler.java:99)\n\tat java.base/java.util.concurrent.CompletableFuture.uniExceptionally(CompletableFuture.java:990)\nCaused by: org.apache.flink.runtime.messages.FlinkJobNotFoundException: Could not find Flink job (00000000000000000000000000000000)\n\tat org.apache.flink.runtime.dispatcher.Dispatcher.requestExecutionGraphInfo(Dispatcher.java:920)\n\t... 5 more\n"]}"#;
        let e = error("GetJob", 404, not_found);
        assert_eq!((e.kind, e.service, e.operation), (ErrorKind::NotFound, "Flink", "GetJob"));
        assert!(e.message.contains("Job 00000000000000000000000000000000 not found"), "{e}");
        assert!(e.message.contains("caused by org.apache.flink.runtime.messages.FlinkJobNotFoundException"), "{e}");

        // What the run request answers when the program's main throws.
        let main_threw = r#"{"errors":["org.apache.flink.runtime.rest.handler.RestHandlerException: Could not execute application.\n\tat org.apache.flink.runtime.webmonitor.handlers.JarRunHandler.lambda$handleRequest$1(JarRunHandler.java:114)\nCaused by: java.util.concurrent.CompletionException: org.apache.flink.util.FlinkRuntimeException: Could not execute application.\n\t... 1 more\nCaused by: org.apache.flink.client.program.ProgramInvocationException: The main method caused an error: datamesh test job refuses to start: mode throw\n\t... 4 more\nCaused by: java.lang.IllegalStateException: datamesh test job refuses to start: mode throw\n\t... 7 more\n"]}"#;
        let e = error("RunJar", 400, main_threw);
        assert_eq!(e.kind, ErrorKind::Other);
        assert!(
            e.message
                .ends_with("caused by java.lang.IllegalStateException: datamesh test job refuses to start: mode throw"),
            "{e}"
        );

        let cancelled_late = r#"{"errors":["org.apache.flink.runtime.rest.handler.RestHandlerException: Job cancellation failed because the job has already reached another terminal state (FINISHED).\n\tat org.apache.flink.runtime.rest.handler.job.JobCancellationHandler.lambda$handleRequest$0(JobCancellationHandler.java:115)\n"]}"#;
        let e = error("CancelJob", 409, cancelled_late);
        assert!(e.is(ErrorKind::Conflict) && e.message.contains("already reached another terminal state"), "{e}");

        let internal = r#"{"errors":["Internal server error.","<Exception on server side:\njava.util.concurrent.CompletionException: org.apache.flink.runtime.rest.handler.RestHandlerException: Jar file /tmp/x/nonexistent_x.jar does not exist\n\tat java.base/java.util.concurrent.CompletableFuture.encodeThrowable(CompletableFuture.java:315)\n\nEnd of exception on server side>"]}"#;
        let e = error("RunJar", 500, internal);
        assert!(e.is(ErrorKind::Transient), "{e}");
        assert!(e.message.contains("Jar file /tmp/x/nonexistent_x.jar does not exist"), "{e}");
        assert!(!e.message.contains("Internal server error.") && !e.message.contains("<Exception"), "{e}");

        let e = error("GetJob", 404, "<html>not a JobManager</html>");
        assert!(e.is(ErrorKind::NotFound) && e.message.contains("is rest_url the JobManager's?"), "{e}");
    }

    #[test]
    fn failure_names_are_bounded_and_never_blank() {
        // Found by the flink_answers fuzz target's bounds (on inputs written by hand): a
        // savepoint's failure class and a job's exception name were kept whole, and a blank
        // class was the whole reason.
        let long = "x".repeat(5000);
        let savepoint =
            serde_json::json!({"status": {"id": "COMPLETED"}, "operation": {"failure-cause": {"class": long}}});
        let why = parse::<SavepointAnswer>("GetSavepointStatus", &savepoint.to_string()).unwrap().outcome();
        assert_eq!(why.map(|w| w.unwrap_err().chars().count()), Some(MAX_MESSAGE + 3));
        let blank = r#"{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":" "}}}"#;
        let why = parse::<SavepointAnswer>("GetSavepointStatus", blank).unwrap().outcome();
        assert_eq!(why, Some(Err("the JobManager gives no cause".into())));
        let history = serde_json::json!({"exceptionHistory": {"entries": [{"exceptionName": long}]}});
        let message = parse::<ExceptionsAnswer>("GetJobExceptions", &history.to_string()).unwrap().message();
        assert_eq!(message.map(|m| m.chars().count()), Some(MAX_MESSAGE + 3));
    }

    #[test]
    fn summaries_are_bounded() {
        let long = format!("java.lang.RuntimeException: {}", "x".repeat(5000));
        assert!(summary(&long).chars().count() <= MAX_MESSAGE + 3);
        assert_eq!(summary(""), "");
        assert_eq!(summary("Caused by: a"), "Caused by: a");
    }

    proptest! {
        // No body, however odd, makes a parser or the error mapping panic.
        #[test]
        fn no_body_panics(body in any::<String>(), status in 0u16..1000) {
            let _ = parse::<UploadAnswer>("UploadJar", &body).map(|u| u.jar_id().map(str::to_string));
            let _ = parse::<JobAnswer>("GetJob", &body).map(|j| j.status(None));
            let _ = parse::<OverviewAnswer>("ListJobs", &body).map(OverviewAnswer::statuses);
            let _ = parse::<SavepointAnswer>("GetSavepointStatus", &body).map(|s| s.outcome());
            let _ = parse::<ExceptionsAnswer>("GetJobExceptions", &body).map(|e| e.message());
            let _ = error("RunJar", status, &body);
            let _ = summary(&body);
        }

        #[test]
        fn no_error_list_panics(errors in proptest::collection::vec(any::<String>(), 0..4), status in 0u16..1000) {
            let body = serde_json::json!({ "errors": errors }).to_string();
            let e = error("RunJar", status, &body);
            prop_assert!(e.message.starts_with("HTTP "));
        }
    }
}
