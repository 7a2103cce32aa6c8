//! WebHDFS answers (`backend_wire::webhdfs`) on any bytes: the first line is the HTTP status,
//! the rest the NameNode's body. The body is parsed as every answer the HDFS backend reads
//! and mapped as a failed answer; then, as a round trip, the input's text is put into
//! well-formed answers (a file status, a listing, an ACL, quotas, a `RemoteException` with
//! its message a string, null or missing) that must parse back to exactly what went in.
#![no_main]

use backend_wire::webhdfs::{
    self, AclStatusAnswer, BooleanAnswer, ContentSummaryAnswer, FileStatusAnswer, ListAnswer, QuotaUsageAnswer, SERVICE,
};
use backend_wire::ErrorKind;
use libfuzzer_sys::fuzz_target;
use serde_json::json;
use terraform_provider_datamesh_fuzz::answer::{check_error, check_parse_error, status_and_body};

/// The path every call is about, and the superuser it is asked as.
const PATH: &str = "/datamesh/sales/orders";
const USER: &str = "hdfs-admin";

/// The operations of the failed answers, one picked by the status.
const OPS: [&str; 6] = ["GETFILESTATUS", "MKDIRS", "SETOWNER", "SETQUOTA", "MODIFYACLENTRIES", "DELETE"];

/// The exceptions with a kind of their own, as the backend documents them (any other is
/// Transient from a 5xx, else Other); the last has none.
const EXCEPTIONS: [(&str, Option<ErrorKind>); 13] = [
    ("FileNotFoundException", Some(ErrorKind::NotFound)),
    ("FileAlreadyExistsException", Some(ErrorKind::AlreadyExists)),
    ("PathIsNotEmptyDirectoryException", Some(ErrorKind::NotEmpty)),
    ("AccessControlException", Some(ErrorKind::Auth)),
    ("AuthorizationException", Some(ErrorKind::Auth)),
    ("SecurityException", Some(ErrorKind::Auth)),
    ("RetriableException", Some(ErrorKind::Transient)),
    ("SafeModeException", Some(ErrorKind::Transient)),
    ("StandbyException", Some(ErrorKind::Transient)),
    ("ObserverRetryOnActiveException", Some(ErrorKind::Transient)),
    ("UnsupportedOperationException", Some(ErrorKind::Unsupported)),
    ("IllegalArgumentException", None),
    ("ParentNotDirectoryException", None),
];

fuzz_target!(|data: &[u8]| {
    let (status, body) = status_and_body(data);
    any_body_parses_or_names_the_call(&body);
    any_failed_answer_maps_safely(status, &body);
    text_round_trips(status, &body);
});

/// Every answer type either parses or is an error naming the call and the path; what parses
/// gives consistent views.
fn any_body_parses_or_names_the_call(body: &str) {
    let prefix = format!("{PATH}: ");
    match webhdfs::parse::<FileStatusAnswer>("GETFILESTATUS", PATH, body) {
        Ok(a) => {
            let s = a.file_status.status();
            assert_eq!(s.is_dir, a.file_status.kind == "DIRECTORY");
            assert_eq!(
                (&s.owner, &s.group, &s.permission),
                (&a.file_status.owner, &a.file_status.group, &a.file_status.permission)
            );
        }
        Err(e) => check_parse_error(&e, SERVICE, "GETFILESTATUS", &prefix),
    }
    match webhdfs::parse::<ListAnswer>("LISTSTATUS", PATH, body) {
        Ok(a) => {
            for raw in &a.file_statuses.file_status {
                assert_eq!(raw.status().is_dir, raw.kind == "DIRECTORY");
            }
        }
        Err(e) => check_parse_error(&e, SERVICE, "LISTSTATUS", &prefix),
    }
    match webhdfs::parse::<QuotaUsageAnswer>("GETQUOTAUSAGE", PATH, body) {
        Ok(a) => {
            let q = a.usage();
            // -1 (or any negative number) is "no quota", never a quota.
            assert!(q.namespace_quota.is_none_or(|n| n >= 0) && q.space_quota.is_none_or(|n| n >= 0), "{q:?}");
        }
        Err(e) => check_parse_error(&e, SERVICE, "GETQUOTAUSAGE", &prefix),
    }
    match webhdfs::parse::<ContentSummaryAnswer>("GETCONTENTSUMMARY", PATH, body) {
        Ok(a) => {
            let q = a.usage();
            assert!(q.namespace_quota.is_none_or(|n| n >= 0) && q.space_quota.is_none_or(|n| n >= 0), "{q:?}");
            let _ = a.is_empty();
        }
        Err(e) => check_parse_error(&e, SERVICE, "GETCONTENTSUMMARY", &prefix),
    }
    match webhdfs::parse::<AclStatusAnswer>("GETACLSTATUS", PATH, body) {
        Ok(a) => drop(a.entries()),
        Err(e) => check_parse_error(&e, SERVICE, "GETACLSTATUS", &prefix),
    }
    if let Err(e) = webhdfs::parse::<BooleanAnswer>("DELETE", PATH, body) {
        check_parse_error(&e, SERVICE, "DELETE", &prefix);
    }
}

/// A failed answer, whatever its body, is an error naming the call and the path, with a code;
/// a kind of its own (missing, exists, not empty, unsupported) only from the exception that
/// names it, never from the status alone (a 404 page is not a missing path); a refusal names
/// the user unless no `RemoteException` said it.
fn any_failed_answer_maps_safely(status: u16, body: &str) {
    let op = OPS[usize::from(status) % OPS.len()];
    let e = webhdfs::error(op, PATH, USER, status, body);
    check_error(&e, SERVICE, op, PATH);
    let code = e.code.as_deref().unwrap_or_else(|| panic!("a failed answer without a code: {e:?}"));
    let by_status = format!("HTTP {status}");
    let named = match e.kind {
        ErrorKind::NotFound => Some("FileNotFoundException"),
        ErrorKind::AlreadyExists => Some("FileAlreadyExistsException"),
        ErrorKind::NotEmpty => Some("PathIsNotEmptyDirectoryException"),
        ErrorKind::Unsupported => Some("UnsupportedOperationException"),
        _ => None,
    };
    if let Some(exception) = named {
        assert_eq!(code, exception, "{:?} without its exception: {e:?}", e.kind);
    }
    assert!(!matches!(e.kind, ErrorKind::Conflict | ErrorKind::Cancelled), "{e:?}");
    if e.kind == ErrorKind::Auth {
        let by_user = e.message.starts_with(&format!("{PATH} (as HDFS user {USER}): "));
        assert!(by_user || (code == by_status && matches!(status, 401 | 403)), "a refusal that names no user: {e:?}");
    }
    if status >= 500 {
        assert!(!matches!(e.kind, ErrorKind::Other), "a server error that is not worth retrying: {e:?}");
    }
    let _ = webhdfs::is_unknown_op(&e, op);
}

/// The kind a `RemoteException` of this name has, by [`EXCEPTIONS`].
fn kind_of(exception: &str, status: u16) -> ErrorKind {
    let own = EXCEPTIONS.iter().find(|(name, _)| *name == exception).and_then(|(_, kind)| *kind);
    own.unwrap_or(if status >= 500 { ErrorKind::Transient } else { ErrorKind::Other })
}

/// `text` in the fields of well-formed answers comes back exactly.
fn text_round_trips(status: u16, text: &str) {
    let kind = if status.is_multiple_of(2) { "DIRECTORY" } else { "FILE" };
    let raw = json!({"owner": text, "group": text, "permission": text, "type": kind, "pathSuffix": text,
        "accessTime": 0, "blockSize": 0, "childrenNum": 0, "fileId": 16387, "length": 0, "replication": 0});
    let one = json!({ "FileStatus": raw }).to_string();
    let s = match webhdfs::parse::<FileStatusAnswer>("GETFILESTATUS", PATH, &one) {
        Ok(a) => a.file_status.status(),
        Err(e) => panic!("a well-formed file status did not parse: {e}\n{one}"),
    };
    assert_eq!((s.owner.as_str(), s.group.as_str(), s.permission.as_str()), (text, text, text));
    assert_eq!(s.is_dir, kind == "DIRECTORY");
    let list = json!({"FileStatuses": {"FileStatus": [raw, raw]}}).to_string();
    match webhdfs::parse::<ListAnswer>("LISTSTATUS", PATH, &list) {
        Ok(a) => {
            let names: Vec<&str> = a.file_statuses.file_status.iter().map(|s| s.path_suffix.as_str()).collect();
            assert_eq!(names, [text, text]);
        }
        Err(e) => panic!("a well-formed listing did not parse: {e}\n{list}"),
    }
    let acl = json!({"AclStatus": {"entries": [text, "group::r-x"], "owner": "hdfs", "stickyBit": false}}).to_string();
    match webhdfs::parse::<AclStatusAnswer>("GETACLSTATUS", PATH, &acl) {
        Ok(a) => assert_eq!(a.entries(), [text, "group::r-x"]),
        Err(e) => panic!("a well-formed ACL status did not parse: {e}\n{acl}"),
    }
    // Quotas from the status: negative ones are "none".
    let (n, space) = (i64::from(status) - 1000, i64::from(status));
    let quota =
        json!({"QuotaUsage": {"fileAndDirectoryCount": 3, "quota": n, "spaceConsumed": 7, "spaceQuota": space}});
    match webhdfs::parse::<QuotaUsageAnswer>("GETQUOTAUSAGE", PATH, &quota.to_string()) {
        Ok(a) => {
            let q = a.usage();
            assert_eq!((q.namespace_quota, q.space_quota), ((n >= 0).then_some(n), Some(space)));
            assert_eq!((q.file_and_directory_count, q.space_consumed), (3, 7));
        }
        Err(e) => panic!("a well-formed quota usage did not parse: {e}\n{quota}"),
    }
    let (known, _) = EXCEPTIONS[usize::from(status) % EXCEPTIONS.len()];
    for exception in [known, text] {
        for message in [json!(text), json!(null), json!("")] {
            remote_exception_round_trips(status, exception, message);
        }
    }
}

/// A `RemoteException` named `exception`, whose message is `message` (a string, or null as a
/// NameNode writes an exception without one), gives the exception as the code and its kind.
fn remote_exception_round_trips(status: u16, exception: &str, message: serde_json::Value) {
    let class = format!("org.apache.hadoop.{exception}");
    let body = json!({"RemoteException": {"exception": exception, "javaClassName": class, "message": message}});
    let op = OPS[usize::from(status) % OPS.len()];
    let e = webhdfs::error(op, PATH, USER, status, &body.to_string());
    check_error(&e, SERVICE, op, PATH);
    let want = backend_wire::body::clip(exception, webhdfs::MAX_MESSAGE);
    assert_eq!(e.code.as_deref(), Some(want.as_str()), "the exception is not the code: {e:?}\n{body}");
    assert_eq!(e.kind, kind_of(exception, status), "{e:?}\n{body}");
    let said = match message.as_str().filter(|m| !m.trim().is_empty()) {
        Some(m) => backend_wire::body::clip(m, webhdfs::MAX_MESSAGE),
        None => webhdfs::NO_MESSAGE.to_string(),
    };
    let at = if e.kind == ErrorKind::Auth { format!("{PATH} (as HDFS user {USER})") } else { PATH.to_string() };
    assert_eq!(e.message, format!("{at}: {said}"), "{body}");
}
