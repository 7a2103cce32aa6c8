//! Spark REST submission answers (`backend_wire::spark`) on any bytes: the first line is the
//! HTTP status, the rest the master's body. The body is parsed as every answer the Spark
//! backend reads (submission create, status and kill), mapped as a failed answer and
//! summarised as a message; then, as a round trip, the input's text is put into well-formed
//! answers that must give it back.
#![no_main]

use backend_wire::spark::{self, CreateAnswer, KillAnswer, StatusAnswer, SERVICE};
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use terraform_provider_datamesh_fuzz::answer::{
    assert_bounded, check_parse_error, check_status_error, check_summary, kind_of_status, status_and_body,
};

/// The driver every status is asked for.
const DRIVER: &str = "driver-20261202060246-0000";

/// The operations of the failed answers, one picked by the status.
const OPS: [&str; 3] = ["CreateSubmission", "SubmissionStatus", "KillSubmission"];

fuzz_target!(|data: &[u8]| {
    let (status, body) = status_and_body(data);
    any_body_parses_or_names_the_call(&body);
    any_failed_answer_maps_by_status(status, &body);
    summaries_are_one_bounded_line(&body);
    text_round_trips(status, &body);
});

/// The start of the message of an answer that did not parse as `op`'s.
fn parse_prefix(op: &str) -> String {
    format!("the master's answer is not what {op} returns")
}

/// A driver's status, or why there is none: bounded either way.
fn check_status(answer: StatusAnswer) {
    match answer.status(DRIVER) {
        Ok(Some(s)) => {
            assert_eq!((s.id.as_str(), &s.name, s.started_at_ms, s.finished_at_ms), (DRIVER, &None, None, None));
            assert!(!s.state.is_empty() && !s.state.bytes().any(|b| b.is_ascii_lowercase()), "{s:?}");
            if let Some(m) = &s.message {
                assert_bounded("a driver's message", m, DRIVER.len());
            }
        }
        Ok(None) => {}
        Err(why) => assert_bounded("why a status is unknown", &why, 0),
    }
}

fn any_body_parses_or_names_the_call(body: &str) {
    match spark::parse::<CreateAnswer>("CreateSubmission", body) {
        Ok(a) => match a.submission() {
            Ok(id) => assert!(!id.is_empty()),
            Err(why) => assert_bounded("why a submission was refused", &why, 0),
        },
        Err(e) => check_parse_error(&e, SERVICE, "CreateSubmission", &parse_prefix("CreateSubmission")),
    }
    match spark::parse::<StatusAnswer>("SubmissionStatus", body) {
        Ok(a) => check_status(a),
        Err(e) => check_parse_error(&e, SERVICE, "SubmissionStatus", &parse_prefix("SubmissionStatus")),
    }
    match spark::parse::<KillAnswer>("KillSubmission", body) {
        Ok(a) => assert_bounded("a kill's message", &a.message(), 0),
        Err(e) => check_parse_error(&e, SERVICE, "KillSubmission", &parse_prefix("KillSubmission")),
    }
}

/// A failed answer's kind is its status's, whatever the body says; the message starts with
/// the status and is bounded.
fn any_failed_answer_maps_by_status(status: u16, body: &str) {
    let op = OPS[usize::from(status) % OPS.len()];
    check_status_error(&spark::error(op, status, body), SERVICE, op, status, kind_of_status(status, &[]));
}

/// A message's summary is one line, bounded; a line that is no stack frame is kept whole.
fn summaries_are_one_bounded_line(message: &str) {
    let s = spark::summary(message);
    check_summary(&s);
    if !message.contains('\n') && !message.starts_with(char::is_whitespace) && message.chars().count() <= 900 {
        assert_eq!(s, message.trim(), "one line that is not a frame is its own summary");
    }
}

fn text_round_trips(status: u16, text: &str) {
    let create = json!({"action": "CreateSubmissionResponse", "success": true, "submissionId": text});
    match spark::parse::<CreateAnswer>("CreateSubmission", &create.to_string()).map(CreateAnswer::submission) {
        Ok(Ok(id)) => {
            assert!(!id.is_empty(), "an empty submission ID was taken");
            assert_eq!(id, text);
        }
        Ok(Err(why)) => assert!(text.is_empty(), "the submission {text:?} was taken for a refusal: {why}"),
        Err(e) => panic!("a well-formed submission answer did not parse: {e}"),
    }
    let refused = json!({"action": "CreateSubmissionResponse", "success": false, "message": text});
    match spark::parse::<CreateAnswer>("CreateSubmission", &refused.to_string()).map(CreateAnswer::submission) {
        Ok(Err(why)) => assert_eq!(why, spark::summary(text)),
        Ok(Ok(id)) => panic!("a refused submission gave the driver {id:?}"),
        Err(e) => panic!("a well-formed submission answer did not parse: {e}"),
    }
    // A driver whose state is the text, on a worker named by it.
    let state = json!({"action": "SubmissionStatusResponse", "success": true, "driverState": text,
        "workerId": text, "workerHostPort": text});
    match spark::parse::<StatusAnswer>("SubmissionStatus", &state.to_string()) {
        Ok(a) => match a.status(DRIVER) {
            Ok(Some(s)) => {
                assert_eq!(s.state, text.to_ascii_uppercase());
                assert_eq!(s.message.is_some(), s.state == "FAILED", "{s:?}");
                if let Some(m) = &s.message {
                    assert_bounded("a failed driver's message", m, DRIVER.len());
                }
            }
            Ok(None) => panic!("a known driver was taken for an unknown one"),
            Err(why) => assert!(text.is_empty(), "the state {text:?} was taken for none: {why}"),
        },
        Err(e) => panic!("a well-formed status answer did not parse: {e}"),
    }
    let unknown = json!({"action": "SubmissionStatusResponse", "success": false, "message": text});
    match spark::parse::<StatusAnswer>("SubmissionStatus", &unknown.to_string()).map(|a| a.status(DRIVER)) {
        Ok(Ok(None)) => assert!(spark::summary(text).is_empty(), "the master's message was dropped"),
        Ok(Err(why)) => assert_eq!(why, spark::summary(text)),
        Ok(Ok(Some(s))) => panic!("an unsuccessful status answer gave a driver: {s:?}"),
        Err(e) => panic!("a well-formed status answer did not parse: {e}"),
    }
    let kill = json!({"action": "KillSubmissionResponse", "success": status.is_multiple_of(2), "message": text});
    match spark::parse::<KillAnswer>("KillSubmission", &kill.to_string()) {
        Ok(a) => {
            assert_eq!(a.success, status.is_multiple_of(2));
            assert_eq!(a.message(), spark::summary(text));
        }
        Err(e) => panic!("a well-formed kill answer did not parse: {e}"),
    }
    let refusal = json!({"action": "ErrorResponse", "message": text, "serverSparkVersion": "4.1.4"});
    let e = spark::error("CreateSubmission", status, &refusal.to_string());
    if !text.trim().is_empty() {
        assert_eq!(e.message, format!("HTTP {status}: {}", spark::summary(text)));
    }
}
