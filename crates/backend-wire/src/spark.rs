//! What a Spark standalone master's REST submission server answers, parsed at the edge. Every answer is JSON
//! with `success` and often a `message` (a Java stack trace where something threw, of which
//! [`summary`] keeps the sentences); a refused request is an `ErrorResponse` with a 4xx.
//! Nothing here panics on what a server sends; a body of the wrong shape is an error naming
//! the call.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::body::{self, excerpt};
use crate::error::{BackendError, ErrorKind};
use crate::processing::JobStatus;

/// The service name every error of this backend carries.
pub const SERVICE: &str = "Spark";

/// The longest message kept from a server's text.
pub const MAX_MESSAGE: usize = body::MAX_SERVER_TEXT;

/// The most characters of a worker's ID or address a message keeps (they are short; a server
/// that sends otherwise does not get to fill the message).
const MAX_NAME: usize = 200;

/// `CreateSubmissionResponse`: `{"success": true, "submissionId": "driver-...", "message": ...}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAnswer {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    submission_id: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl CreateAnswer {
    /// The driver's submission ID, or why the submission was refused.
    pub fn submission(self) -> Result<String, String> {
        match (self.success, self.submission_id) {
            (true, Some(id)) if !id.is_empty() => Ok(id),
            (true, _) => Err("the master accepted the submission but named no submission ID".into()),
            (false, _) => {
                Err(self.message.as_deref().map(summary).unwrap_or_else(|| "refused without a message".into()))
            }
        }
    }
}

/// `SubmissionStatusResponse`: `{"success": true, "driverState": "RUNNING", "workerId": ...}`;
/// an unknown driver is `"success": false` with no state and no message.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusAnswer {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    driver_state: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    worker_id: Option<String>,
    #[serde(default)]
    worker_host_port: Option<String>,
}

impl StatusAnswer {
    /// The driver's status; `Ok(None)` when the master does not know it, `Err` with the
    /// master's message when it could not say (a standby master answers `success: false` with
    /// one).
    pub fn status(self, id: &str) -> Result<Option<JobStatus>, String> {
        let state = match (self.success, self.driver_state) {
            (true, Some(state)) if !state.is_empty() => state.to_ascii_uppercase(),
            (true, _) => return Err("the master reports no driver state".into()),
            (false, _) => {
                return match self.message.as_deref().map(summary).filter(|m| !m.is_empty()) {
                    Some(why) => Err(why),
                    None => Ok(None),
                }
            }
        };
        let message = match self.message.as_deref().map(summary).filter(|m| !m.is_empty()) {
            Some(m) => Some(m),
            // The REST server says why only for ERROR (an exception on the worker): a driver
            // whose main failed has no message, so say where its reason is.
            None if state == "FAILED" => Some(format!(
                "the driver's main exited with an error; the master gives no reason: see the driver's stderr in \
                 work/{id} on worker {} ({})",
                body::clip(self.worker_id.as_deref().unwrap_or("unknown"), MAX_NAME),
                body::clip(self.worker_host_port.as_deref().unwrap_or("unknown address"), MAX_NAME),
            )),
            None => None,
        };
        Ok(Some(JobStatus {
            id: id.to_string(),
            name: None,
            state,
            started_at_ms: None,
            finished_at_ms: None,
            message,
        }))
    }
}

/// `KillSubmissionResponse`: `{"success": true, "message": "Kill request for ... submitted"}`, or
/// `"success": false` with `"Driver ... has already finished or does not exist"`.
#[derive(Debug, Deserialize)]
pub struct KillAnswer {
    #[serde(default)]
    pub success: bool,
    #[serde(default)]
    message: Option<String>,
}

impl KillAnswer {
    /// The master's message, summarised.
    pub fn message(&self) -> String {
        self.message.as_deref().map(summary).unwrap_or_else(|| "no message".into())
    }
}

/// Any answer's `message` (an `ErrorResponse` has nothing else).
#[derive(Debug, Deserialize)]
struct MessageAnswer {
    #[serde(default)]
    message: Option<String>,
}

/// Parses a successful answer of `op`.
pub fn parse<T: DeserializeOwned>(op: &'static str, body: &str) -> Result<T, BackendError> {
    body::parse(SERVICE, op, "the master's", body)
}

/// The error for a failed answer (`status` not 2xx) of `op`, with the server's own text.
pub fn error(op: &'static str, status: u16, body: &str) -> BackendError {
    let kind = match status {
        401 | 403 => ErrorKind::Auth,
        s if s >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    };
    let text = match serde_json::from_str::<MessageAnswer>(body) {
        Ok(MessageAnswer { message: Some(m) }) if !m.trim().is_empty() => summary(&m),
        _ => format!("no Spark message in the answer (is rest_url the master's REST server?): {}", excerpt(body)),
    };
    BackendError::new(kind, SERVICE, op, format!("HTTP {status}: {text}")).with_code(format!("HTTP {status}"))
}

/// A message in a line: the lines that are not stack frames (Spark indents its frames with a
/// tab, and writes `Exception from the cluster:` on a line of its own before the exception).
pub fn summary(message: &str) -> String {
    let kept: Vec<&str> = message
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    body::clip(&kept.join(" "), MAX_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The answers below are the stack's Spark 4.1.4 standalone master, captured while writing
    // this backend (stack traces cut to two frames).

    #[test]
    fn submissions_give_the_driver_id() {
        let body = r#"{
  "action" : "CreateSubmissionResponse",
  "message" : "Driver successfully submitted as driver-20261202060246-0000",
  "serverSparkVersion" : "4.1.4",
  "submissionId" : "driver-20261202060246-0000",
  "success" : true
}"#;
        let id = parse::<CreateAnswer>("CreateSubmission", body).unwrap().submission();
        assert_eq!(id.as_deref(), Ok("driver-20261202060246-0000"));
        let refused = r#"{"action":"CreateSubmissionResponse","message":"Can only accept driver submissions in ALIVE state.","success":false}"#;
        let why = parse::<CreateAnswer>("CreateSubmission", refused).unwrap().submission().unwrap_err();
        assert_eq!(why, "Can only accept driver submissions in ALIVE state.");
    }

    #[test]
    fn driver_states_and_their_messages() {
        let status = |body: &str| parse::<StatusAnswer>("SubmissionStatus", body).unwrap().status("driver-1");
        let running = r#"{"action":"SubmissionStatusResponse","driverState":"RUNNING","serverSparkVersion":"4.1.4","submissionId":"driver-1","success":true,"workerHostPort":"127.0.0.1:49405","workerId":"worker-20261202055930-127.0.0.1-49405"}"#;
        let s = status(running).unwrap().unwrap();
        assert_eq!((s.id.as_str(), s.state.as_str(), s.message.as_deref()), ("driver-1", "RUNNING", None));
        assert!(!s.is_terminal());

        let failed = r#"{"action":"SubmissionStatusResponse","driverState":"FAILED","serverSparkVersion":"4.1.4","submissionId":"driver-1","success":true,"workerHostPort":"127.0.0.1:49405","workerId":"worker-20261202055930-127.0.0.1-49405"}"#;
        let s = status(failed).unwrap().unwrap();
        assert!(s.is_terminal());
        let m = s.message.unwrap();
        assert!(m.contains("work/driver-1 on worker worker-20261202055930-127.0.0.1-49405 (127.0.0.1:49405)"), "{m}");

        let error = r#"{"action":"SubmissionStatusResponse","driverState":"ERROR","message":"Exception from the cluster:\njava.nio.file.NoSuchFileException: /tmp/eng-probe/missing.jar\n\tjava.base/sun.nio.fs.UnixException.translateToIOException(UnixException.java:92)\n\torg.apache.spark.deploy.worker.DriverRunner$$anon$2.run(DriverRunner.scala:99)","serverSparkVersion":"4.1.4","submissionId":"driver-1","success":true,"workerHostPort":"127.0.0.1:49405","workerId":"worker-1"}"#;
        let s = status(error).unwrap().unwrap();
        assert_eq!(s.state, "ERROR");
        assert_eq!(
            s.message.as_deref(),
            Some("Exception from the cluster: java.nio.file.NoSuchFileException: /tmp/eng-probe/missing.jar")
        );

        for state in ["FINISHED", "KILLED"] {
            let body = format!(r#"{{"driverState":"{state}","success":true}}"#);
            let s = status(&body).unwrap().unwrap();
            assert!(s.is_terminal() && s.message.is_none(), "{state}");
        }
    }

    #[test]
    fn a_failed_drivers_message_is_bounded() {
        // Found by the spark_answers fuzz target's bound on messages (on an input written by
        // hand): the worker's ID and address were pasted in whole.
        let long = "w".repeat(5000);
        let body =
            serde_json::json!({"success": true, "driverState": "FAILED", "workerId": long, "workerHostPort": long});
        let s = parse::<StatusAnswer>("SubmissionStatus", &body.to_string()).unwrap().status("driver-1").unwrap();
        let m = s.unwrap().message.unwrap();
        assert!(m.contains(&format!("on worker {}... ({}...)", "w".repeat(MAX_NAME), "w".repeat(MAX_NAME))), "{m}");
    }

    #[test]
    fn an_unknown_driver_is_none_but_a_standby_master_is_an_error() {
        let unknown = r#"{
  "action" : "SubmissionStatusResponse",
  "serverSparkVersion" : "4.1.4",
  "submissionId" : "driver-00000000000000-0000",
  "success" : false
}"#;
        assert_eq!(parse::<StatusAnswer>("SubmissionStatus", unknown).unwrap().status("d"), Ok(None));
        let standby = r#"{"success":false,"message":"Can only request driver status in ALIVE state."}"#;
        let why = parse::<StatusAnswer>("SubmissionStatus", standby).unwrap().status("d").unwrap_err();
        assert!(why.contains("ALIVE"), "{why}");
        assert!(parse::<StatusAnswer>("SubmissionStatus", r#"{"success":true}"#).unwrap().status("d").is_err());
    }

    #[test]
    fn kills_say_whether_they_were_taken() {
        let taken = r#"{"action":"KillSubmissionResponse","message":"Kill request for driver-20261202060252-0002 submitted","serverSparkVersion":"4.1.4","submissionId":"driver-20261202060252-0002","success":true}"#;
        assert!(parse::<KillAnswer>("KillSubmission", taken).unwrap().success);
        let gone = r#"{"action":"KillSubmissionResponse","message":"Driver driver-20261202060252-0002 has already finished or does not exist","serverSparkVersion":"4.1.4","submissionId":"driver-20261202060252-0002","success":false}"#;
        let kill = parse::<KillAnswer>("KillSubmission", gone).unwrap();
        assert!(!kill.success && kill.message().contains("already finished or does not exist"));
    }

    #[test]
    fn error_responses_keep_the_sentence_not_the_trace() {
        let malformed = r#"{
  "action" : "ErrorResponse",
  "message" : "Malformed request: org.apache.spark.deploy.rest.SubmitRestProtocolException: Validation of message CreateSubmissionRequest failed!\n\torg.apache.spark.deploy.rest.SubmitRestProtocolMessage.validate(SubmitRestProtocolMessage.scala:70)\n\torg.apache.spark.deploy.rest.SubmitRequestServlet.doPost(RestSubmissionServer.scala:377)",
  "serverSparkVersion" : "4.1.4"
}"#;
        let e = error("CreateSubmission", 400, malformed);
        assert_eq!((e.kind, e.service, e.operation), (ErrorKind::Other, "Spark", "CreateSubmission"));
        assert_eq!(
            e.message,
            "HTTP 400: Malformed request: org.apache.spark.deploy.rest.SubmitRestProtocolException: Validation of \
             message CreateSubmissionRequest failed!"
        );
        let e = error("SubmissionStatus", 503, "");
        assert!(e.is(ErrorKind::Transient) && e.message.contains("(empty body)"), "{e}");
    }

    proptest! {
        // No body, however odd, makes a parser or the error mapping panic.
        #[test]
        fn no_body_panics(body in any::<String>(), status in 0u16..1000) {
            let _ = parse::<CreateAnswer>("CreateSubmission", &body).map(CreateAnswer::submission);
            let _ = parse::<StatusAnswer>("SubmissionStatus", &body).map(|s| s.status("d"));
            let _ = parse::<KillAnswer>("KillSubmission", &body).map(|k| k.message());
            let _ = error("CreateSubmission", status, &body);
            let _ = summary(&body);
        }

        #[test]
        fn no_message_panics(message in any::<String>(), state in any::<String>(), success in any::<bool>()) {
            let body = serde_json::json!({"success": success, "driverState": state, "message": message}).to_string();
            let _ = parse::<StatusAnswer>("SubmissionStatus", &body).map(|s| s.status("d"));
        }
    }
}
