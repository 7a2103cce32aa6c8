//! The real Flink `Processing`: a session cluster's JobManager REST API through `reqwest`.
//!
//! A submission uploads the jar (`POST /jars/upload`), runs it (`POST /jars/:id/run`, the
//! job's config in `flinkConfiguration` with `pipeline.name` set to the job's name) and deletes
//! the uploaded jar again, best effort. Savepoints and stops are triggered, then polled until
//! they complete, within an operation timeout of their own and never past the provider's stop
//! signal. The job listing is read once and kept until this instance next changes something.
//!
//! Retries: reads are retried while the failure is transient (no connection, a timeout, a
//! 5xx). The run request starts a job, so it is sent again only when it provably never left
//! (the connection could not be made), never after a timeout or a lost answer. Stop and
//! savepoint requests carry a trigger ID of ours, which makes the JobManager answer a repeat
//! with the first request's operation, so they are retried like reads; so is cancel, which is
//! idempotent. The request bodies (they hold the job's config, secrets included) are never
//! logged; debug tracing names the method and URL only. URLs are built from what `url`
//! checked; answers are parsed by `backend_wire::flink` (here
//! `answers`).

mod url;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use backend_wire::flink as answers;
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Method};
use serde_json::{json, Map, Value};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;

use super::error::{BackendError, ErrorKind};
use super::processing::{Artifact, Engine, JobSpec, JobStatus, Processing};
use super::rest::{self, Resend};
use super::retry::{with_retries, RetryPolicy};
use crate::provider::settings::flink::FlinkSettings;
use answers::{
    ExceptionsAnswer, JobAnswer, OverviewAnswer, RunAnswer, SavepointAnswer, TriggerAnswer, UploadAnswer, SERVICE,
};

/// The shortest bound on waiting for a savepoint, whatever the per-call timeout.
const MIN_OPERATION_TIMEOUT: Duration = Duration::from_secs(120);

/// A request's body.
enum Body<'a> {
    Empty,
    Json(&'a Value),
    Jar { file_name: &'a str, bytes: &'a [u8] },
}

/// A Flink session cluster through its JobManager's REST API.
pub struct FlinkRest {
    client: Client,
    /// The base URL, without a trailing slash.
    base: String,
    savepoint_dir: Option<String>,
    timeout: Duration,
    stop: CancellationToken,
    /// The last job listing, until this instance next changes something. The lock is held
    /// while a listing is read, so callers at the same time share one request.
    listing: Mutex<Option<Arc<Vec<JobStatus>>>>,
}

impl FlinkRest {
    /// A client of the JobManager at `settings.rest_url` (no connection is made yet).
    pub fn new(settings: &FlinkSettings, stop: CancellationToken) -> Result<FlinkRest, BackendError> {
        let fail = |msg: String| BackendError::new(ErrorKind::Other, SERVICE, "Connect", msg);
        let Some(raw) = settings.rest_url.as_deref() else {
            return Err(fail("Flink is not configured: set flink { rest_url } or DATAMESH_FLINK_REST_URL".into()));
        };
        let base = rest::base_url("rest_url", raw, "the JobManager's").map_err(fail)?;
        let client = rest::client(settings.timeout, "the Flink REST client").map_err(fail)?;
        Ok(FlinkRest {
            client,
            base,
            savepoint_dir: settings.savepoint_dir.clone(),
            timeout: settings.timeout,
            stop,
            listing: Mutex::new(None),
        })
    }

    /// How long a savepoint may take: ten per-call timeouts, at least two minutes.
    fn operation_timeout(&self) -> Duration {
        self.timeout.saturating_mul(10).max(MIN_OPERATION_TIMEOUT)
    }

    /// `method` on `path` (from `/`), retried as `resend` allows; the body of the 2xx answer.
    async fn call(
        &self,
        method: Method,
        op: &'static str,
        path: &str,
        body: Body<'_>,
        resend: Resend,
    ) -> Result<String, BackendError> {
        let url = format!("{}{path}", self.base);
        with_retries(RetryPolicy::within(self.timeout), &self.stop, || {
            self.attempt(method.clone(), op, &url, &body, resend)
        })
        .await
    }

    /// One try of a call.
    async fn attempt(
        &self,
        method: Method,
        op: &'static str,
        url: &str,
        body: &Body<'_>,
        resend: Resend,
    ) -> Result<String, BackendError> {
        tracing::debug!(%method, url, "Flink REST call");
        let request = self.client.request(method, url);
        let request = match body {
            Body::Empty => request,
            Body::Json(value) => request.json(value),
            Body::Jar { file_name, bytes } => {
                let part = Part::bytes(bytes.to_vec())
                    .file_name(file_name.to_string())
                    .mime_str("application/x-java-archive")
                    .map_err(|e| BackendError::new(ErrorKind::Other, SERVICE, op, format!("jar upload: {e}")))?;
                request.multipart(Form::new().part("jarfile", part))
            }
        };
        rest::send(request, resend, |e| self.unanswered(op, e, resend), |status, body| answers::error(op, status, body))
            .await
    }

    /// A call that got no (whole) answer. Without a connection the request never left, and
    /// any call may be sent again; otherwise only one that `resend` allows to.
    fn unanswered(&self, op: &'static str, e: &reqwest::Error, resend: Resend) -> BackendError {
        let never_sent = rest::never_sent(e);
        let kind = rest::unanswered_kind(e, resend);
        let cause = rest::cause_chain(e);
        let mut message = format!("no answer from the JobManager at {}: {cause}", self.base);
        if !never_sent && resend == Resend::OnlyIfUnsent {
            message.push_str(
                " (the request may have reached the JobManager, so it was not sent again: a job must never start twice)",
            );
        }
        BackendError::new(kind, SERVICE, op, message)
    }

    /// Forgets the job listing: this instance has changed something.
    async fn forget_jobs(&self) {
        *self.listing.lock().await = None;
    }

    /// Uploads, runs and deletes the jar; the job ID.
    async fn run(&self, job: &JobSpec, file_name: &str, bytes: &[u8]) -> Result<String, BackendError> {
        let file_name = url::jar_file_name(file_name);
        let body = self
            .call(
                Method::POST,
                "UploadJar",
                "/jars/upload",
                Body::Jar { file_name: &file_name, bytes },
                Resend::WhileTransient,
            )
            .await;
        let body = body.map_err(|e| match e.kind {
            ErrorKind::NotFound => BackendError::new(
                ErrorKind::Unsupported,
                SERVICE,
                "UploadJar",
                format!(
                    "the JobManager at {} takes no jar uploads (is web.submit.enable false?): {}",
                    self.base, e.message
                ),
            ),
            _ => e,
        })?;
        let upload = answers::parse::<UploadAnswer>("UploadJar", &body)?;
        let Some(jar) = upload.jar_id().and_then(url::segment).map(str::to_string) else {
            return Err(BackendError::new(
                ErrorKind::Other,
                SERVICE,
                "UploadJar",
                "the JobManager's answer names no uploaded jar of a usable name".to_string(),
            ));
        };

        // Our own job ID: were the answer lost, the error can name the job that may be running.
        let job_id = url::new_id();
        let request = run_request(job, &job_id);
        let ran = self
            .call(Method::POST, "RunJar", &format!("/jars/{jar}/run"), Body::Json(&request), Resend::OnlyIfUnsent)
            .await;
        if let Err(e) =
            self.call(Method::DELETE, "DeleteJar", &format!("/jars/{jar}"), Body::Empty, Resend::WhileTransient).await
        {
            tracing::debug!(error = %e, jar, "could not delete the uploaded jar; it stays in the JobManager's upload dir");
        }
        let ran = ran.map_err(|mut e| {
            if e.message.starts_with("no answer") {
                e.message.push_str(&format!("; if it did, the job runs as {job_id}"));
            }
            e
        })?;
        let id = answers::parse::<RunAnswer>("RunJar", &ran)?.jobid;
        if url::job_id(&id).is_none() {
            return Err(BackendError::new(
                ErrorKind::Other,
                SERVICE,
                "RunJar",
                format!("the JobManager answered a job ID that is not one: {id:?}"),
            ));
        }
        Ok(id)
    }

    /// The message of a failed job: its newest exception. Best effort: the state is what the
    /// caller asked for, and a job may be archived between the two calls.
    async fn failure_message(&self, id: &str) -> Option<String> {
        let path = format!("/jobs/{id}/exceptions?maxExceptions=1");
        match self.call(Method::GET, "GetJobExceptions", &path, Body::Empty, Resend::WhileTransient).await {
            Ok(body) => match answers::parse::<ExceptionsAnswer>("GetJobExceptions", &body) {
                Ok(answer) => answer.message(),
                Err(e) => {
                    tracing::debug!(error = %e, "unreadable exceptions of a failed Flink job");
                    None
                }
            },
            Err(e) => {
                tracing::debug!(error = %e, "no exceptions of a failed Flink job");
                None
            }
        }
    }

    /// Triggers a savepoint (`stop`: and stops the job) and waits for its location.
    async fn savepoint_of(&self, id: &str, target_dir: Option<&str>, stop: bool) -> Result<String, BackendError> {
        let op = if stop { "StopWithSavepoint" } else { "TriggerSavepoint" };
        let Some(id) = url::job_id(id) else {
            return Err(BackendError::new(ErrorKind::NotFound, SERVICE, op, format!("{id:?} is not a Flink job ID")));
        };
        let dir = target_dir.map(str::to_string).or_else(|| self.savepoint_dir.clone());
        let trigger = url::new_id();
        let (path, mut request) = if stop {
            (format!("/jobs/{id}/stop"), json!({"drain": false, "triggerId": trigger}))
        } else {
            (format!("/jobs/{id}/savepoints"), json!({"cancel-job": false, "triggerId": trigger}))
        };
        if let (Some(dir), Some(fields)) = (dir, request.as_object_mut()) {
            let key = if stop { "targetDirectory" } else { "target-directory" };
            fields.insert(key.into(), Value::String(dir));
        }
        let body = self.call(Method::POST, op, &path, Body::Json(&request), Resend::WhileTransient).await?;
        let trigger = answers::parse::<TriggerAnswer>(op, &body)?.request_id;
        let Some(trigger) = url::job_id(&trigger) else {
            return Err(BackendError::new(
                ErrorKind::Other,
                SERVICE,
                op,
                format!("the JobManager answered a trigger ID that is not one: {trigger:?}"),
            ));
        };
        self.await_savepoint(op, id, trigger).await
    }

    /// Polls the savepoint `trigger` of job `id` until it completes, within the operation
    /// timeout and until the provider is asked to stop.
    async fn await_savepoint(&self, op: &'static str, id: &str, trigger: &str) -> Result<String, BackendError> {
        let limit = self.operation_timeout();
        let deadline = Instant::now() + limit;
        let path = format!("/jobs/{id}/savepoints/{trigger}");
        let mut pause = Duration::from_millis(200);
        loop {
            let body = self.call(Method::GET, "GetSavepointStatus", &path, Body::Empty, Resend::WhileTransient).await?;
            match answers::parse::<SavepointAnswer>("GetSavepointStatus", &body)?.outcome() {
                Some(Ok(location)) => return Ok(location),
                Some(Err(why)) => {
                    // A trigger for a job the JobManager does not know is accepted, and then
                    // completes with this cause.
                    let kind = if answers::is_unknown_job(&why) { ErrorKind::NotFound } else { ErrorKind::Other };
                    return Err(BackendError::new(
                        kind,
                        SERVICE,
                        op,
                        format!("the savepoint of job {id} failed: {why}"),
                    ));
                }
                None => {}
            }
            if Instant::now() + pause > deadline {
                return Err(BackendError::new(
                    ErrorKind::Transient,
                    SERVICE,
                    op,
                    format!(
                        "the savepoint of job {id} did not complete within {limit:?} (it may still: trigger {trigger})"
                    ),
                ));
            }
            tokio::select! {
                _ = self.stop.cancelled() => {
                    return Err(BackendError::new(ErrorKind::Cancelled, SERVICE, op, format!("stopped while waiting for the savepoint of job {id} (trigger {trigger})")));
                }
                _ = tokio::time::sleep(pause) => {}
            }
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// Every job, read from the JobManager.
    async fn list(&self) -> Result<Vec<JobStatus>, BackendError> {
        let body = self.call(Method::GET, "ListJobs", "/jobs/overview", Body::Empty, Resend::WhileTransient).await?;
        Ok(answers::parse::<OverviewAnswer>("ListJobs", &body)?.statuses())
    }
}

/// The body of `POST /jars/:id/run`. `pipeline.name` is the job's name whatever the config
/// says: it is how the provider finds its job in a listing.
fn run_request(job: &JobSpec, job_id: &str) -> Value {
    let mut config: Map<String, Value> =
        job.config.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    config.insert("pipeline.name".into(), Value::String(job.name.clone()));
    let mut request = json!({
        "entryClass": job.entry_class,
        "programArgsList": job.args,
        "allowNonRestoredState": job.allow_non_restored_state,
        "flinkConfiguration": config,
        "jobId": job_id,
    });
    if let Some(fields) = request.as_object_mut() {
        if let Some(p) = job.parallelism {
            fields.insert("parallelism".into(), json!(p));
        }
        if let Some(savepoint) = &job.savepoint {
            fields.insert("savepointPath".into(), json!(savepoint));
        }
    }
    request
}

#[async_trait]
impl Processing for FlinkRest {
    fn engine(&self) -> Engine {
        Engine::Flink
    }

    async fn submit(&self, job: &JobSpec) -> Result<String, BackendError> {
        let Artifact::Bytes { file_name, bytes } = &job.artifact else {
            return Err(BackendError::new(
                ErrorKind::Unsupported,
                SERVICE,
                "UploadJar",
                "Flink runs jars the provider uploads; it cannot fetch one from a URI. Give the jar's bytes (a local path or an S3 object)",
            ));
        };
        let outcome = self.run(job, file_name, bytes).await;
        self.forget_jobs().await;
        outcome
    }

    async fn status(&self, id: &str) -> Result<Option<JobStatus>, BackendError> {
        let Some(id) = url::job_id(id) else {
            return Ok(None);
        };
        let body =
            match self.call(Method::GET, "GetJob", &format!("/jobs/{id}"), Body::Empty, Resend::WhileTransient).await {
                Ok(body) => body,
                Err(e) if e.is(ErrorKind::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            };
        let job = answers::parse::<JobAnswer>("GetJob", &body)?;
        let message = if job.has_failed() { self.failure_message(id).await } else { None };
        tracing::debug!(state = job.state(), "Flink job status");
        Ok(Some(job.status(message)))
    }

    async fn jobs(&self) -> Result<Vec<JobStatus>, BackendError> {
        let mut listing = self.listing.lock().await;
        if let Some(jobs) = listing.as_ref() {
            return Ok(jobs.as_ref().clone());
        }
        let jobs = Arc::new(self.list().await?);
        *listing = Some(jobs.clone());
        Ok(jobs.as_ref().clone())
    }

    async fn stop_with_savepoint(&self, id: &str, target_dir: Option<&str>) -> Result<String, BackendError> {
        let outcome = self.savepoint_of(id, target_dir, true).await;
        self.forget_jobs().await;
        outcome
    }

    async fn savepoint(&self, id: &str, target_dir: Option<&str>) -> Result<String, BackendError> {
        let outcome = self.savepoint_of(id, target_dir, false).await;
        self.forget_jobs().await;
        outcome
    }

    async fn latest_savepoint(&self, id: &str) -> Result<Option<String>, BackendError> {
        let Some(id) = url::job_id(id) else {
            return Ok(None);
        };
        let path = format!("/jobs/{id}/checkpoints");
        match self.call(Method::GET, "GetCheckpoints", &path, Body::Empty, Resend::WhileTransient).await {
            Ok(body) => Ok(answers::parse::<answers::CheckpointsAnswer>("GetCheckpoints", &body)?.latest_savepoint()),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn cancel(&self, id: &str) -> Result<(), BackendError> {
        let Some(id) = url::job_id(id) else {
            return Ok(()); // not a job ID: no JobManager runs it
        };
        let outcome = match self
            .call(Method::PATCH, "CancelJob", &format!("/jobs/{id}?mode=cancel"), Body::Empty, Resend::WhileTransient)
            .await
        {
            // 409: the job has already reached another terminal state.
            Err(e) if e.is(ErrorKind::NotFound) || e.is(ErrorKind::Conflict) => Ok(()),
            other => other.map(drop),
        };
        self.forget_jobs().await;
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::rest::scripted;
    use std::collections::BTreeMap;

    fn settings(url: &str) -> FlinkSettings {
        FlinkSettings { rest_url: Some(url.into()), savepoint_dir: None, timeout: Duration::from_secs(5) }
    }

    fn job() -> JobSpec {
        JobSpec {
            name: "sales/orders".into(),
            artifact: Artifact::Bytes { file_name: "orders.jar".into(), bytes: b"PK".to_vec() },
            entry_class: "acme.Orders".into(),
            args: vec!["--in".into(), "orders".into()],
            config: BTreeMap::from([
                ("pipeline.name".to_string(), "not this".to_string()),
                ("s3.secret-key".to_string(), "hunter2".to_string()),
            ]),
            parallelism: Some(2),
            savepoint: None,
            allow_non_restored_state: false,
            driver_memory: None,
            executor_memory: None,
            total_executor_cores: None,
        }
    }

    #[test]
    fn the_url_must_be_an_http_base() {
        for bad in [None, Some("not a url"), Some("ftp://jm:8081"), Some("http://jm:8081/?x=1")] {
            let s = FlinkSettings { rest_url: bad.map(str::to_string), ..settings("http://x") };
            let e = FlinkRest::new(&s, CancellationToken::new()).err().unwrap_or_else(|| panic!("{bad:?}"));
            assert_eq!((e.kind, e.service), (ErrorKind::Other, "Flink"), "{bad:?}");
        }
        let ok = FlinkRest::new(&settings("http://127.0.0.1:8081/"), CancellationToken::new()).unwrap();
        assert_eq!(ok.base, "http://127.0.0.1:8081");
        assert_eq!(ok.operation_timeout(), MIN_OPERATION_TIMEOUT);
    }

    #[test]
    fn the_run_request_names_the_pipeline_and_carries_the_config() {
        let r = run_request(&job(), "0123456789abcdef0123456789abcdef");
        assert_eq!(r["flinkConfiguration"]["pipeline.name"], "sales/orders", "the job's name wins");
        assert_eq!(r["flinkConfiguration"]["s3.secret-key"], "hunter2");
        assert_eq!(r["programArgsList"], json!(["--in", "orders"]));
        assert_eq!(r["parallelism"], 2);
        assert_eq!(r["jobId"], "0123456789abcdef0123456789abcdef");
        assert!(r.get("savepointPath").is_none());
        let from = JobSpec { savepoint: Some("file:/sp/savepoint-1".into()), parallelism: None, ..job() };
        let r = run_request(&from, "0123456789abcdef0123456789abcdef");
        assert_eq!(r["savepointPath"], "file:/sp/savepoint-1");
        assert!(r.get("parallelism").is_none());
    }

    #[tokio::test]
    async fn a_run_answered_5xx_is_not_sent_again_and_the_jar_is_deleted() {
        let upload = r#"{"filename":"/up/5f1e_orders.jar","status":"success"}"#;
        let busy =
            r#"{"errors":["Service temporarily unavailable due to an ongoing leader election. Please refresh."]}"#;
        let (url, seen) = scripted(vec![(503, ""), (200, upload), (503, busy), (200, "{}")]).await;
        let flink = FlinkRest::new(&settings(&url), CancellationToken::new()).unwrap();
        let e = flink.submit(&job()).await.unwrap_err();
        assert!(e.is(ErrorKind::Other) && e.operation == "RunJar", "{e}");
        assert!(e.message.contains("leader election"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "the config never reaches an error: {e}");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                "POST /jars/upload HTTP/1.1",
                "POST /jars/upload HTTP/1.1",
                "POST /jars/5f1e_orders.jar/run HTTP/1.1",
                "DELETE /jars/5f1e_orders.jar HTTP/1.1"
            ]
        );
    }

    #[tokio::test]
    async fn unknown_jobs_are_none_and_cancelling_them_is_fine() {
        let missing = r#"{"errors":["org.apache.flink.runtime.rest.NotFoundException: Job 00000000000000000000000000000000 not found"]}"#;
        let late = r#"{"errors":["Job cancellation failed because the job has already reached another terminal state (FINISHED)."]}"#;
        let (url, seen) = scripted(vec![(404, missing), (409, late), (404, missing)]).await;
        let flink = FlinkRest::new(&settings(&url), CancellationToken::new()).unwrap();
        assert_eq!(flink.status("00000000000000000000000000000000").await.unwrap(), None);
        flink.cancel("00000000000000000000000000000000").await.unwrap();
        flink.cancel("00000000000000000000000000000000").await.unwrap();
        // Not a job ID: answered without asking.
        assert_eq!(flink.status("../jars").await.unwrap(), None);
        flink.cancel("../jars").await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn the_listing_is_read_once_until_something_changes() {
        let overview = r#"{"jobs":[{"jid":"29d3697e927249fd92893f44d85d65cf","name":"sales/orders","start-time":1,"end-time":-1,"state":"RUNNING"}]}"#;
        let (url, seen) = scripted(vec![(200, overview), (202, "{}"), (200, r#"{"jobs":[]}"#)]).await;
        let flink = Arc::new(FlinkRest::new(&settings(&url), CancellationToken::new()).unwrap());
        let (a, b) = tokio::join!(flink.jobs(), flink.jobs());
        assert_eq!(a.unwrap(), b.unwrap());
        assert_eq!(flink.jobs().await.unwrap()[0].name.as_deref(), Some("sales/orders"));
        flink.cancel("29d3697e927249fd92893f44d85d65cf").await.unwrap();
        assert!(flink.jobs().await.unwrap().is_empty());
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                "GET /jobs/overview HTTP/1.1",
                "PATCH /jobs/29d3697e927249fd92893f44d85d65cf?mode=cancel HTTP/1.1",
                "GET /jobs/overview HTTP/1.1"
            ]
        );
    }

    #[tokio::test]
    async fn a_uri_artifact_is_unsupported() {
        let flink = FlinkRest::new(&settings("http://127.0.0.1:9"), CancellationToken::new()).unwrap();
        let e = flink.submit(&JobSpec { artifact: Artifact::Uri("s3a://b/j.jar".into()), ..job() }).await.unwrap_err();
        assert!(e.is(ErrorKind::Unsupported), "{e}");
    }

    #[tokio::test]
    async fn a_closed_port_is_transient_until_the_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let flink = FlinkRest::new(
            &FlinkSettings { timeout: Duration::from_millis(300), ..settings(&url) },
            CancellationToken::new(),
        )
        .unwrap();
        let e = flink.status("00000000000000000000000000000000").await.unwrap_err();
        assert!(e.is(ErrorKind::Transient) && e.message.contains(&url), "{e}");
        let e = flink.submit(&job()).await.unwrap_err();
        assert!(e.is(ErrorKind::Transient), "no connection: the request never left, {e}");
    }
}
