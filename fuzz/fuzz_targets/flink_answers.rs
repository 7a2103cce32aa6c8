//! Flink REST answers (`backend_wire::flink`) on any bytes: the first line is the HTTP status,
//! the rest the JobManager's body. The body is parsed as every answer the Flink backend reads
//! (jar upload and run, job detail and overview, savepoint trigger and status, exceptions,
//! checkpoints), mapped as a failed answer and summarised as a stack trace; then, as a round
//! trip, the input's text is put into well-formed answers that must give it back.
#![no_main]

use backend_wire::flink::{
    self, CheckpointsAnswer, ExceptionsAnswer, JobAnswer, OverviewAnswer, RunAnswer, SavepointAnswer, TriggerAnswer,
    UploadAnswer, SERVICE,
};
use backend_wire::processing::JobStatus;
use backend_wire::ErrorKind;
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use terraform_provider_datamesh_fuzz::answer::{
    assert_bounded, check_parse_error, check_status_error, check_summary, kind_of_status, status_and_body,
};

/// The operations of the failed answers, one picked by the status.
const OPS: [&str; 5] = ["UploadJar", "RunJar", "GetJob", "StopJob", "CancelJob"];

fuzz_target!(|data: &[u8]| {
    let (status, body) = status_and_body(data);
    any_body_parses_or_names_the_call(&body);
    any_failed_answer_maps_by_status(status, &body);
    summaries_are_one_bounded_line(&body);
    text_round_trips(status, &body);
});

/// The start of the message of an answer that did not parse as `op`'s.
fn parse_prefix(op: &str) -> String {
    format!("the JobManager's answer is not what {op} returns")
}

/// What any job status made from an answer must be.
fn check_status(s: &JobStatus) {
    assert!(!s.state.bytes().any(|b| b.is_ascii_lowercase()), "a state not in upper case: {s:?}");
    assert!(s.started_at_ms.is_none_or(|t| t >= 0) && s.finished_at_ms.is_none_or(|t| t >= 0), "{s:?}");
}

fn any_body_parses_or_names_the_call(body: &str) {
    match flink::parse::<UploadAnswer>("UploadJar", body) {
        Ok(a) => {
            if let Some(id) = a.jar_id() {
                assert!(!id.is_empty() && !id.contains('/'), "a jar ID that is not a file name: {id:?}");
            }
        }
        Err(e) => check_parse_error(&e, SERVICE, "UploadJar", &parse_prefix("UploadJar")),
    }
    if let Err(e) = flink::parse::<RunAnswer>("RunJar", body) {
        check_parse_error(&e, SERVICE, "RunJar", &parse_prefix("RunJar"));
    }
    match flink::parse::<JobAnswer>("GetJob", body) {
        Ok(a) => {
            let raw = a.state().to_string();
            assert_eq!(a.has_failed(), matches!(raw.as_str(), "FAILED" | "FAILING" | "RESTARTING"));
            let s = a.status(None);
            assert_eq!(s.state, raw.to_ascii_uppercase());
            check_status(&s);
        }
        Err(e) => check_parse_error(&e, SERVICE, "GetJob", &parse_prefix("GetJob")),
    }
    match flink::parse::<OverviewAnswer>("ListJobs", body) {
        Ok(a) => a.statuses().iter().for_each(check_status),
        Err(e) => check_parse_error(&e, SERVICE, "ListJobs", &parse_prefix("ListJobs")),
    }
    if let Err(e) = flink::parse::<TriggerAnswer>("StopJob", body) {
        check_parse_error(&e, SERVICE, "StopJob", &parse_prefix("StopJob"));
    }
    match flink::parse::<SavepointAnswer>("GetSavepointStatus", body) {
        Ok(a) => match a.outcome() {
            Some(Ok(location)) => assert!(!location.is_empty()),
            Some(Err(why)) => {
                assert!(!why.trim().is_empty(), "a failed savepoint without a reason");
                assert_bounded("a savepoint's failure", &why, 0);
                let _ = flink::is_unknown_job(&why);
            }
            None => {}
        },
        Err(e) => check_parse_error(&e, SERVICE, "GetSavepointStatus", &parse_prefix("GetSavepointStatus")),
    }
    match flink::parse::<ExceptionsAnswer>("GetJobExceptions", body) {
        Ok(a) => {
            if let Some(m) = a.message() {
                assert!(!m.is_empty());
                assert_bounded("a job's failure", &m, 0);
            }
        }
        Err(e) => check_parse_error(&e, SERVICE, "GetJobExceptions", &parse_prefix("GetJobExceptions")),
    }
    match flink::parse::<CheckpointsAnswer>("GetCheckpoints", body) {
        Ok(a) => {
            if let Some(p) = a.latest_savepoint() {
                assert!(!p.is_empty() && p != "<checkpoint-not-externally-addressable>", "{p:?}");
            }
        }
        Err(e) => check_parse_error(&e, SERVICE, "GetCheckpoints", &parse_prefix("GetCheckpoints")),
    }
}

/// A failed answer's kind is its status's, whatever the body says; the message starts with
/// the status and is bounded.
fn any_failed_answer_maps_by_status(status: u16, body: &str) {
    let op = OPS[usize::from(status) % OPS.len()];
    let own = [(404, ErrorKind::NotFound), (409, ErrorKind::Conflict)];
    check_status_error(&flink::error(op, status, body), SERVICE, op, status, kind_of_status(status, &own));
}

/// A trace's summary is one line, bounded, and starts with the trace's first line.
fn summaries_are_one_bounded_line(trace: &str) {
    let s = flink::summary(trace);
    check_summary(&s);
    let first = trace.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    if first.chars().count() <= 900 {
        assert!(s.starts_with(first), "the summary {s:?} does not start with the first line {first:?}");
    }
}

fn text_round_trips(status: u16, text: &str) {
    let upload = |state: &str| json!({"filename": format!("/tmp/flink-web-upload/{text}"), "status": state});
    match flink::parse::<UploadAnswer>("UploadJar", &upload("success").to_string()) {
        Ok(a) => assert_eq!(a.jar_id(), text.rsplit('/').next().filter(|id| !id.is_empty())),
        Err(e) => panic!("a well-formed upload answer did not parse: {e}"),
    }
    match flink::parse::<UploadAnswer>("UploadJar", &upload("failure").to_string()) {
        Ok(a) => assert_eq!(a.jar_id(), None, "a failed upload gave a jar"),
        Err(e) => panic!("a well-formed upload answer did not parse: {e}"),
    }
    let (start, end) = (i64::from(status) - 100, i64::from(status) - 1000);
    let job = json!({"jid": text, "name": text, "state": text, "start-time": start, "end-time": end, "duration": 5});
    let want = JobStatus {
        id: text.to_string(),
        name: Some(text.to_string()),
        state: text.to_ascii_uppercase(),
        started_at_ms: (start >= 0).then_some(start),
        finished_at_ms: (end >= 0).then_some(end),
        message: None,
    };
    match flink::parse::<JobAnswer>("GetJob", &job.to_string()) {
        Ok(a) => assert_eq!(a.status(None), want),
        Err(e) => panic!("a well-formed job did not parse: {e}"),
    }
    match flink::parse::<OverviewAnswer>("ListJobs", &json!({ "jobs": [job, job] }).to_string()) {
        Ok(a) => assert_eq!(a.statuses(), [want.clone(), want]),
        Err(e) => panic!("a well-formed overview did not parse: {e}"),
    }
    match flink::parse::<TriggerAnswer>("StopJob", &json!({ "request-id": text }).to_string()) {
        Ok(a) => assert_eq!(a.request_id, text),
        Err(e) => panic!("a well-formed trigger answer did not parse: {e}"),
    }
    match flink::parse::<RunAnswer>("RunJar", &json!({ "jobid": text }).to_string()) {
        Ok(a) => assert_eq!(a.jobid, text),
        Err(e) => panic!("a well-formed run answer did not parse: {e}"),
    }
    savepoints_round_trip(text);
    // One line of the server's own, not a trace: the message is that line.
    let body = json!({ "errors": [text] }).to_string();
    let e = flink::error("RunJar", status, &body);
    let line = text.trim();
    let marked = line.starts_with("<Exception on server side:") || line.ends_with("End of exception on server side>");
    if !text.contains('\n') && !line.is_empty() && line.chars().count() <= 900 && !marked {
        assert_eq!(e.message, format!("HTTP {status}: {line}"), "{body}");
    }
}

fn savepoints_round_trip(text: &str) {
    let outcome =
        |answer: serde_json::Value| match flink::parse::<SavepointAnswer>("GetSavepointStatus", &answer.to_string()) {
            Ok(a) => a.outcome(),
            Err(e) => panic!("a well-formed savepoint status did not parse: {e}\n{answer}"),
        };
    let done = outcome(json!({"status": {"id": "COMPLETED"}, "operation": {"location": text}}));
    if text.is_empty() {
        assert!(matches!(done, Some(Err(_))), "a savepoint completed nowhere: {done:?}");
    } else {
        assert_eq!(done, Some(Ok(text.to_string())));
    }
    if text != "COMPLETED" {
        assert_eq!(outcome(json!({"status": {"id": text}, "operation": null})), None, "not completed yet");
    }
    let failed = outcome(json!({"status": {"id": "COMPLETED"}, "operation": {"failure-cause": {"class": text}}}));
    match failed {
        // The failure's class is the reason when there is no trace.
        Some(Err(why)) if text.trim().is_empty() => assert_eq!(why, "the JobManager gives no cause"),
        Some(Err(why)) => assert_eq!(why, backend_wire::body::clip(text, flink::MAX_MESSAGE)),
        other => panic!("a failed savepoint did not fail: {other:?}"),
    }
}
