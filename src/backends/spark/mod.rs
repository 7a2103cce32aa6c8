//! The real Spark `Processing`: a standalone master's REST submission server (`/v1/submissions`)
//! through `reqwest`, drivers in cluster mode.
//!
//! A submission is `POST /v1/submissions/create` with the jar's URI as `appResource` (the
//! worker fetches it; Spark cannot take a jar's bytes here); its status is
//! `GET /v1/submissions/status/:id`, and `POST /v1/submissions/kill/:id` ends it. The server
//! lists no drivers and a driver has no savepoint: `jobs`, `savepoint` and
//! `stop_with_savepoint` are `Unsupported`.
//!
//! Retries: status and kill are retried while the failure is transient (no connection, a
//! timeout, a 5xx). A submission starts a driver, so it is sent again only when it provably
//! never left (the connection could not be made), never after a timeout or a lost answer. The
//! request bodies (they hold the job's config, secrets included) are never logged; debug
//! tracing names the method and URL only. Answers are parsed by `backend_wire::spark`
//! (here `answers`).

use std::time::Duration;

use async_trait::async_trait;
use backend_wire::spark as answers;
use reqwest::{Client, Method};
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use super::error::{BackendError, ErrorKind};
use super::processing::{Artifact, Engine, JobSpec, JobStatus, Processing};
use super::rest::{self, Resend};
use super::retry::{with_retries, RetryPolicy};
use crate::provider::settings::spark::SparkSettings;
use answers::{CreateAnswer, KillAnswer, StatusAnswer, SERVICE};

/// The `clientSparkVersion` of a submission. The server requires the field but checks no value
/// (Spark 4.1.4 took `1.0.0` as well); this is the version the provider is tested against.
const CLIENT_SPARK_VERSION: &str = "4.1.4";

/// A Spark standalone master through its REST submission server.
pub struct SparkRest {
    client: Client,
    /// The base URL, without a trailing slash.
    base: String,
    /// The `spark.master` of every submission.
    master: String,
    timeout: Duration,
    stop: CancellationToken,
}

impl SparkRest {
    /// A client of the REST submission server at `settings.rest_url` (no connection is made
    /// yet).
    pub fn new(settings: &SparkSettings, stop: CancellationToken) -> Result<SparkRest, BackendError> {
        let fail = |msg: String| BackendError::new(ErrorKind::Other, SERVICE, "Connect", msg);
        let Some(raw) = settings.rest_url.as_deref() else {
            return Err(fail("Spark is not configured: set spark { rest_url } or DATAMESH_SPARK_REST_URL".into()));
        };
        let base = rest::base_url("rest_url", raw, "the REST server's").map_err(fail)?;
        let Some(master) = settings.master() else {
            return Err(fail(format!("no master URL: set spark {{ master_url }} (rest_url {raw:?} names no host)")));
        };
        let client = rest::client(settings.timeout, "the Spark REST client").map_err(fail)?;
        Ok(SparkRest { client, base, master, timeout: settings.timeout, stop })
    }

    /// `method` on `path` (from `/`), retried as `resend` allows; the body of the 2xx answer.
    async fn call(
        &self,
        method: Method,
        op: &'static str,
        path: &str,
        body: Option<&Value>,
        resend: Resend,
    ) -> Result<String, BackendError> {
        let url = format!("{}{path}", self.base);
        with_retries(RetryPolicy::within(self.timeout), &self.stop, || {
            self.attempt(method.clone(), op, &url, body, resend)
        })
        .await
    }

    /// One try of a call.
    async fn attempt(
        &self,
        method: Method,
        op: &'static str,
        url: &str,
        body: Option<&Value>,
        resend: Resend,
    ) -> Result<String, BackendError> {
        tracing::debug!(%method, url, "Spark REST call");
        let request = self.client.request(method, url);
        let request = match body {
            Some(value) => request.json(value),
            None => request,
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
        let mut message = format!("no answer from the REST submission server at {}: {cause}", self.base);
        if !never_sent && resend == Resend::OnlyIfUnsent {
            message.push_str(
                " (the submission may have reached the master, so it was not sent again: a driver must never start \
                 twice; look for it in the master's web UI)",
            );
        }
        BackendError::new(kind, SERVICE, op, message)
    }

    /// The body of `POST /v1/submissions/create`.
    fn create_request(&self, job: &JobSpec, uri: &str) -> Value {
        // The job's config first: where and how the driver runs is the provider's to say.
        let mut props: Map<String, Value> =
            job.config.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        let mut set = |k: &str, v: String| {
            props.insert(k.to_string(), Value::String(v));
        };
        set("spark.master", self.master.clone());
        set("spark.app.name", job.name.clone());
        set("spark.submit.deployMode", "cluster".into());
        set("spark.jars", uri.to_string());
        set("spark.driver.supervise", "false".into());
        if let Some(m) = &job.driver_memory {
            set("spark.driver.memory", m.clone());
        }
        if let Some(m) = &job.executor_memory {
            set("spark.executor.memory", m.clone());
        }
        if let Some(c) = job.total_executor_cores {
            set("spark.cores.max", c.to_string());
        }
        json!({
            "action": "CreateSubmissionRequest",
            "appResource": uri,
            "mainClass": job.entry_class,
            "appArgs": job.args,
            "clientSparkVersion": CLIENT_SPARK_VERSION,
            "environmentVariables": {},
            "sparkProperties": props,
        })
    }
}

/// `id` when it can be a submission ID (`driver-<time>-<n>`): letters, digits, `.`, `_`, `-`,
/// not only dots (which the URL parser would resolve). None for anything else, which no master
/// can know; only what passes reaches a URL.
fn submission_id(id: &str) -> Option<&str> {
    let plain = !id.is_empty()
        && id.len() <= 255
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !id.bytes().all(|b| b == b'.');
    plain.then_some(id)
}

/// What Spark cannot do, said as such.
fn unsupported(op: &'static str, why: &str) -> BackendError {
    BackendError::new(ErrorKind::Unsupported, SERVICE, op, why.to_string())
}

#[async_trait]
impl Processing for SparkRest {
    fn engine(&self) -> Engine {
        Engine::Spark
    }

    async fn submit(&self, job: &JobSpec) -> Result<String, BackendError> {
        let Artifact::Uri(uri) = &job.artifact else {
            return Err(unsupported(
                "CreateSubmission",
                "a Spark driver's jar is fetched by the worker from a URI (file://, s3a://, hdfs://); the REST \
                 submission server takes no jar bytes",
            ));
        };
        let request = self.create_request(job, uri);
        let body = self
            .call(Method::POST, "CreateSubmission", "/v1/submissions/create", Some(&request), Resend::OnlyIfUnsent)
            .await?;
        let id = answers::parse::<CreateAnswer>("CreateSubmission", &body)?
            .submission()
            .map_err(|why| BackendError::new(ErrorKind::Other, SERVICE, "CreateSubmission", why))?;
        match submission_id(&id) {
            Some(id) => Ok(id.to_string()),
            None => Err(BackendError::new(
                ErrorKind::Other,
                SERVICE,
                "CreateSubmission",
                format!("the master answered a submission ID that is not one: {id:?}"),
            )),
        }
    }

    async fn status(&self, id: &str) -> Result<Option<JobStatus>, BackendError> {
        let Some(id) = submission_id(id) else {
            return Ok(None);
        };
        let path = format!("/v1/submissions/status/{id}");
        let body = self.call(Method::GET, "SubmissionStatus", &path, None, Resend::WhileTransient).await?;
        answers::parse::<StatusAnswer>("SubmissionStatus", &body)?
            .status(id)
            .map_err(|why| BackendError::new(ErrorKind::Other, SERVICE, "SubmissionStatus", format!("{id}: {why}")))
    }

    async fn jobs(&self) -> Result<Vec<JobStatus>, BackendError> {
        Err(unsupported(
            "ListJobs",
            "the Spark REST submission server lists no drivers; ask for each submission's status instead",
        ))
    }

    async fn stop_with_savepoint(&self, _id: &str, _target_dir: Option<&str>) -> Result<String, BackendError> {
        Err(unsupported(
            "StopWithSavepoint",
            "a Spark driver has no savepoints; a batch run is killed or left to finish",
        ))
    }

    async fn savepoint(&self, _id: &str, _target_dir: Option<&str>) -> Result<String, BackendError> {
        Err(unsupported("TriggerSavepoint", "a Spark driver has no savepoints"))
    }

    async fn cancel(&self, id: &str) -> Result<(), BackendError> {
        let Some(id) = submission_id(id) else {
            return Ok(()); // not a submission ID: no master runs it
        };
        let path = format!("/v1/submissions/kill/{id}");
        let body = self.call(Method::POST, "KillSubmission", &path, None, Resend::WhileTransient).await?;
        let kill = answers::parse::<KillAnswer>("KillSubmission", &body)?;
        if kill.success {
            return Ok(());
        }
        // Refused: fine when the driver has ended or is unknown (what the master's message
        // says then), an error when it still runs.
        match self.status(id).await? {
            Some(s) if !s.is_terminal() => Err(BackendError::new(
                ErrorKind::Other,
                SERVICE,
                "KillSubmission",
                format!("{id} is {} and the master refused to kill it: {}", s.state, kill.message()),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn settings(url: &str) -> SparkSettings {
        SparkSettings { rest_url: Some(url.into()), master_url: None, timeout: Duration::from_secs(5) }
    }

    fn job() -> JobSpec {
        JobSpec {
            name: "sales/daily".into(),
            artifact: Artifact::Uri("s3a://jobs/daily.jar".into()),
            entry_class: "acme.Daily".into(),
            args: vec!["2026-12-01".into()],
            config: BTreeMap::from([
                ("spark.master".to_string(), "local[*]".to_string()),
                ("spark.hadoop.fs.s3a.secret.key".to_string(), "hunter2".to_string()),
            ]),
            parallelism: None,
            savepoint: None,
            allow_non_restored_state: false,
            driver_memory: Some("1g".into()),
            executor_memory: None,
            total_executor_cores: Some(2),
        }
    }

    #[test]
    fn the_url_must_be_an_http_base() {
        for bad in [None, Some("not a url"), Some("spark://m:7077"), Some("http://m:6066/#x")] {
            let s = SparkSettings { rest_url: bad.map(str::to_string), ..settings("http://x") };
            let e = SparkRest::new(&s, CancellationToken::new()).err().unwrap_or_else(|| panic!("{bad:?}"));
            assert_eq!((e.kind, e.service), (ErrorKind::Other, "Spark"), "{bad:?}");
        }
        let ok = SparkRest::new(&settings("http://10.0.0.5:6066/"), CancellationToken::new()).unwrap();
        assert_eq!((ok.base.as_str(), ok.master.as_str()), ("http://10.0.0.5:6066", "spark://10.0.0.5:7077"));
    }

    #[test]
    fn the_submission_runs_in_cluster_mode_on_the_configured_master() {
        let spark = SparkRest::new(&settings("http://10.0.0.5:6066"), CancellationToken::new()).unwrap();
        let r = spark.create_request(&job(), "s3a://jobs/daily.jar");
        let p = &r["sparkProperties"];
        assert_eq!(p["spark.master"], "spark://10.0.0.5:7077", "the provider's master wins over the config");
        assert_eq!(p["spark.app.name"], "sales/daily");
        assert_eq!(p["spark.submit.deployMode"], "cluster");
        assert_eq!(p["spark.jars"], "s3a://jobs/daily.jar");
        assert_eq!(p["spark.driver.supervise"], "false");
        assert_eq!(p["spark.driver.memory"], "1g");
        assert_eq!(p["spark.cores.max"], "2");
        assert!(p.get("spark.executor.memory").is_none());
        assert_eq!(p["spark.hadoop.fs.s3a.secret.key"], "hunter2");
        assert_eq!(r["appResource"], "s3a://jobs/daily.jar");
        assert_eq!(r["appArgs"], json!(["2026-12-01"]));
        assert_eq!(r["clientSparkVersion"], CLIENT_SPARK_VERSION);
    }

    #[test]
    fn submission_ids_cannot_move_or_add_to_a_path() {
        assert_eq!(submission_id("driver-20261202060246-0000"), Some("driver-20261202060246-0000"));
        for bad in ["", ".", "..", "a/b", "../kill/x", "a?b", "a#b", "a%2F", "a b", "d\r\nX: y", "ü"] {
            assert_eq!(submission_id(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn what_spark_cannot_do_is_unsupported() {
        let spark = SparkRest::new(&settings("http://127.0.0.1:9"), CancellationToken::new()).unwrap();
        let bytes = JobSpec { artifact: Artifact::Bytes { file_name: "a.jar".into(), bytes: vec![] }, ..job() };
        assert!(spark.submit(&bytes).await.unwrap_err().is(ErrorKind::Unsupported));
        assert!(spark.jobs().await.unwrap_err().is(ErrorKind::Unsupported));
        assert!(spark.savepoint("driver-1", None).await.unwrap_err().is(ErrorKind::Unsupported));
        let e = spark.stop_with_savepoint("driver-1", None).await.unwrap_err();
        assert!(e.is(ErrorKind::Unsupported) && e.message.contains("no savepoints"), "{e}");
        // Not a submission ID: answered without asking.
        assert_eq!(spark.status("../x").await.unwrap(), None);
        spark.cancel("../x").await.unwrap();
    }

    #[tokio::test]
    async fn a_refused_connection_is_transient_and_the_config_stays_out_of_errors() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let spark = SparkRest::new(
            &SparkSettings { timeout: Duration::from_millis(300), ..settings(&url) },
            CancellationToken::new(),
        )
        .unwrap();
        let e = spark.submit(&job()).await.unwrap_err();
        assert!(e.is(ErrorKind::Transient) && e.message.contains(&url), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(spark.status("driver-1").await.unwrap_err().is(ErrorKind::Transient));
    }
}
