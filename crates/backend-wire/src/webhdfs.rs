//! What a NameNode answers over WebHDFS, parsed at the edge: the JSON bodies of the calls the
//! provider's HDFS backend makes, and `RemoteException` bodies turned into [`BackendError`]s. Nothing here panics on
//! what a server sends; a body of the wrong shape is an error naming the call.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::body::{self, excerpt};
use crate::error::{BackendError, ErrorKind};
use crate::hdfs::{FileStatus, QuotaUsage};

/// The service name every error of this backend carries.
pub const SERVICE: &str = "HDFS";

/// `{"FileStatus": {...}}` (GETFILESTATUS).
#[derive(Debug, Deserialize)]
pub struct FileStatusAnswer {
    #[serde(rename = "FileStatus")]
    pub file_status: RawStatus,
}

/// `{"FileStatuses": {"FileStatus": [...]}}` (LISTSTATUS).
#[derive(Debug, Deserialize)]
pub struct ListAnswer {
    #[serde(rename = "FileStatuses")]
    pub file_statuses: RawStatuses,
}

/// The list inside a LISTSTATUS answer.
#[derive(Debug, Deserialize)]
pub struct RawStatuses {
    #[serde(rename = "FileStatus")]
    pub file_status: Vec<RawStatus>,
}

/// One file status as WebHDFS spells it (only the fields the backend reads).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawStatus {
    pub owner: String,
    pub group: String,
    pub permission: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The name below the listed directory; empty in GETFILESTATUS.
    #[serde(default)]
    pub path_suffix: String,
}

impl RawStatus {
    /// The trait's view of it.
    pub fn status(&self) -> FileStatus {
        FileStatus {
            owner: self.owner.clone(),
            group: self.group.clone(),
            permission: self.permission.clone(),
            is_dir: self.kind == "DIRECTORY",
        }
    }
}

/// `{"QuotaUsage": {...}}` (GETQUOTAUSAGE).
#[derive(Debug, Deserialize)]
pub struct QuotaUsageAnswer {
    #[serde(rename = "QuotaUsage")]
    quota_usage: RawQuotaUsage,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawQuotaUsage {
    file_and_directory_count: i64,
    quota: i64,
    space_consumed: i64,
    space_quota: i64,
}

impl QuotaUsageAnswer {
    /// The trait's view of it.
    pub fn usage(&self) -> QuotaUsage {
        let q = &self.quota_usage;
        QuotaUsage {
            namespace_quota: quota(q.quota),
            space_quota: quota(q.space_quota),
            file_and_directory_count: q.file_and_directory_count,
            space_consumed: q.space_consumed,
        }
    }
}

/// `{"ContentSummary": {...}}` (GETCONTENTSUMMARY).
#[derive(Debug, Deserialize)]
pub struct ContentSummaryAnswer {
    #[serde(rename = "ContentSummary")]
    content_summary: RawContentSummary,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContentSummary {
    /// Directories, the summarised one included.
    directory_count: i64,
    file_count: i64,
    quota: i64,
    space_consumed: i64,
    space_quota: i64,
}

impl ContentSummaryAnswer {
    /// Whether nothing is below the path: no file, and no directory but itself.
    pub fn is_empty(&self) -> bool {
        self.content_summary.file_count == 0 && self.content_summary.directory_count <= 1
    }

    /// The same numbers as GETQUOTAUSAGE gives, for servers without it (before Hadoop 3.0).
    pub fn usage(&self) -> QuotaUsage {
        let c = &self.content_summary;
        QuotaUsage {
            namespace_quota: quota(c.quota),
            space_quota: quota(c.space_quota),
            file_and_directory_count: c.file_count.saturating_add(c.directory_count),
            space_consumed: c.space_consumed,
        }
    }
}

/// HDFS reports "no quota" as -1 (`HdfsConstants.QUOTA_RESET`).
fn quota(n: i64) -> Option<i64> {
    (n >= 0).then_some(n)
}

/// `{"AclStatus": {"entries": [...], ...}}` (GETACLSTATUS).
#[derive(Debug, Deserialize)]
pub struct AclStatusAnswer {
    #[serde(rename = "AclStatus")]
    acl_status: RawAclStatus,
}

#[derive(Debug, Deserialize)]
struct RawAclStatus {
    #[serde(default)]
    entries: Vec<String>,
}

impl AclStatusAnswer {
    /// The entries, as the NameNode lists them.
    pub fn entries(self) -> Vec<String> {
        self.acl_status.entries
    }
}

/// `{"boolean": true}` (MKDIRS, DELETE).
#[derive(Debug, Deserialize)]
pub struct BooleanAnswer {
    pub boolean: bool,
}

/// The most characters of the exception's name and message an error keeps.
pub const MAX_MESSAGE: usize = body::MAX_SERVER_TEXT;

/// What an error says for a `RemoteException` without a message (null, missing or blank).
pub const NO_MESSAGE: &str = "the NameNode gives no message";

/// `{"RemoteException": {...}}`: how WebHDFS reports every failure the NameNode raised.
#[derive(Debug, Deserialize)]
struct RemoteExceptionAnswer {
    #[serde(rename = "RemoteException")]
    remote_exception: RemoteException,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RemoteException {
    /// The simple class name, like `FileNotFoundException`.
    exception: String,
    /// Null for an exception without one: the NameNode writes `getMessage()` as it is.
    #[serde(default)]
    message: Option<String>,
}

/// Parses a successful answer of `op` on `path`.
pub fn parse<T: DeserializeOwned>(op: &'static str, path: &str, body: &str) -> Result<T, BackendError> {
    body::parse(SERVICE, op, &format!("{path}: the NameNode's"), body)
}

/// The error for a failed answer (`status` not 2xx) of `op` on `path`, asked as `user`.
///
/// The exception's name decides the kind; the HTTP status only where there is none, because
/// WebHDFS answers 403 for any `IOException` (a non-empty directory too), not only for a
/// refusal. A 404 without a `RemoteException` is not taken for a missing path: it is what a
/// `webhdfs_url` that points at something other than a NameNode answers, and reading it as
/// "gone" would make every directory look deleted.
pub fn error(op: &'static str, path: &str, user: &str, status: u16, body: &str) -> BackendError {
    let Ok(RemoteExceptionAnswer { remote_exception: remote }) = serde_json::from_str::<RemoteExceptionAnswer>(body)
    else {
        let kind = match status {
            401 | 403 => ErrorKind::Auth,
            s if s >= 500 => ErrorKind::Transient,
            _ => ErrorKind::Other,
        };
        return BackendError::new(
            kind,
            SERVICE,
            op,
            format!(
                "{path}: HTTP {status} without a WebHDFS error (is webhdfs_url the NameNode's?): {}",
                excerpt(body)
            ),
        )
        .with_code(format!("HTTP {status}"));
    };
    let kind = kind_of(&remote.exception, status);
    let said = remote.message.filter(|m| !m.trim().is_empty()).map_or_else(|| NO_MESSAGE.into(), |m| clip(&m));
    let message = match kind {
        ErrorKind::Auth => format!("{path} (as HDFS user {user}): {said}"),
        _ => format!("{path}: {said}"),
    };
    BackendError::new(kind, SERVICE, op, message).with_code(clip(&remote.exception))
}

/// At most [`MAX_MESSAGE`] characters of `text`.
fn clip(text: &str) -> String {
    body::clip(text, MAX_MESSAGE)
}

/// The kind of a `RemoteException`, by its class name.
fn kind_of(exception: &str, status: u16) -> ErrorKind {
    match exception {
        "FileNotFoundException" => ErrorKind::NotFound,
        "FileAlreadyExistsException" => ErrorKind::AlreadyExists,
        "PathIsNotEmptyDirectoryException" => ErrorKind::NotEmpty,
        "AccessControlException" | "AuthorizationException" | "SecurityException" => ErrorKind::Auth,
        // A NameNode starting up (safe mode), failing over (standby) or asking to be asked
        // again: each passes, and retrying within the provider's timeout is what a client does.
        "RetriableException" | "SafeModeException" | "StandbyException" | "ObserverRetryOnActiveException" => {
            ErrorKind::Transient
        }
        "UnsupportedOperationException" => ErrorKind::Unsupported,
        _ if status >= 500 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

/// Whether `e` says the server does not know `op` (an older NameNode, or a gateway without it).
pub fn is_unknown_op(e: &BackendError, op: &str) -> bool {
    matches!(e.code.as_deref(), Some("IllegalArgumentException" | "UnsupportedOperationException"))
        && e.message.contains(&format!("{op} is not a valid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn remote(exception: &str, message: &str) -> String {
        let class = format!("x.{exception}");
        serde_json::json!({"RemoteException": {"exception": exception, "javaClassName": class, "message": message}})
            .to_string()
    }

    #[test]
    fn remote_exceptions_map_to_kinds() {
        let cases = [
            ("FileNotFoundException", 404, ErrorKind::NotFound),
            ("FileAlreadyExistsException", 403, ErrorKind::AlreadyExists),
            ("PathIsNotEmptyDirectoryException", 403, ErrorKind::NotEmpty),
            ("AccessControlException", 403, ErrorKind::Auth),
            ("SecurityException", 401, ErrorKind::Auth),
            ("SafeModeException", 403, ErrorKind::Transient),
            ("RetriableException", 403, ErrorKind::Transient),
            ("StandbyException", 403, ErrorKind::Transient),
            ("IllegalArgumentException", 400, ErrorKind::Other),
            ("ParentNotDirectoryException", 403, ErrorKind::Other),
            ("InvalidPathException", 400, ErrorKind::Other),
            ("NullPointerException", 500, ErrorKind::Transient),
        ];
        for (exception, status, kind) in cases {
            let e = error("MKDIRS", "/d/e", "hdfs", status, &remote(exception, "it failed"));
            assert_eq!(e.kind, kind, "{exception}");
            assert_eq!(e.service, "HDFS");
            assert_eq!(e.operation, "MKDIRS");
            assert_eq!(e.code.as_deref(), Some(exception));
            assert!(e.message.contains("/d/e") && e.message.contains("it failed"), "{}", e.message);
        }
    }

    #[test]
    fn a_refusal_names_the_user() {
        // As the live NameNode words it.
        let body = r#"{"RemoteException":{"exception":"AccessControlException","javaClassName":"org.apache.hadoop.security.AccessControlException","message":"Permission denied: user=nobody, access=EXECUTE, inode=\"/t1\":hdfs:supergroup:drwxr-x---"}}"#;
        let e = error("SETOWNER", "/t1/a", "nobody", 403, body);
        assert!(e.is(ErrorKind::Auth));
        assert_eq!(e.to_string(), "HDFS SETOWNER (AccessControlException): /t1/a (as HDFS user nobody): Permission denied: user=nobody, access=EXECUTE, inode=\"/t1\":hdfs:supergroup:drwxr-x---");
    }

    #[test]
    fn answers_without_a_remote_exception_go_by_status() {
        let e = error("GETFILESTATUS", "/d", "hdfs", 404, "<html>Not Found</html>");
        assert!(e.is(ErrorKind::Other), "a 404 page is not a missing path: {e}");
        assert_eq!(e.code.as_deref(), Some("HTTP 404"));
        assert!(e.message.contains("/d") && e.message.contains("Not Found"));
        assert!(error("GETFILESTATUS", "/d", "hdfs", 503, "").is(ErrorKind::Transient));
        assert!(error("GETFILESTATUS", "/d", "hdfs", 502, "bad gateway").is(ErrorKind::Transient));
        assert!(error("GETFILESTATUS", "/d", "hdfs", 401, "").is(ErrorKind::Auth));
        assert!(error("GETFILESTATUS", "/d", "hdfs", 400, r#"{"RemoteException": 7}"#).is(ErrorKind::Other));
        let long = "x".repeat(10_000);
        assert!(error("GETFILESTATUS", "/d", "hdfs", 400, &long).message.len() < 400);
    }

    #[test]
    fn a_remote_exception_without_a_message_keeps_its_kind() {
        // Found by the webhdfs_answers fuzz target. Hadoop's JsonUtil writes the exception's
        // getMessage() as it is, so an exception without a message comes as `"message": null`;
        // it was read as no RemoteException at all, and a missing path as a failure of the URL.
        let body = r#"{"RemoteException":{"exception":"FileNotFoundException","javaClassName":"java.io.FileNotFoundException","message":null}}"#;
        let e = error("GETFILESTATUS", "/d", "hdfs", 404, body);
        assert_eq!((e.kind, e.code.as_deref()), (ErrorKind::NotFound, Some("FileNotFoundException")), "{e}");
        assert_eq!(e.message, "/d: the NameNode gives no message");
        let npe = r#"{"RemoteException":{"exception":"NullPointerException","javaClassName":"java.lang.NullPointerException","message":null}}"#;
        assert_eq!(error("MKDIRS", "/d", "hdfs", 500, npe).code.as_deref(), Some("NullPointerException"));
    }

    #[test]
    fn the_servers_texts_are_bounded() {
        // Found by the webhdfs_answers fuzz target's bound on messages (on an input written by
        // hand): the exception's message and name were kept whole, however long.
        let long = "x".repeat(5000);
        let e = error("MKDIRS", "/d", "hdfs", 403, &remote(&long, &long));
        assert_eq!(e.message.chars().count(), "/d: ".len() + MAX_MESSAGE + 3, "{e}");
        assert_eq!(e.code.map(|c| c.chars().count()), Some(MAX_MESSAGE + 3));
    }

    #[test]
    fn unknown_ops_are_recognised() {
        let body = remote(
            "IllegalArgumentException",
            "Invalid value for webhdfs parameter \"op\": java.lang.IllegalArgumentException: GETQUOTAUSAGE is not a valid GET operation.",
        );
        assert!(is_unknown_op(&error("GETQUOTAUSAGE", "/d", "hdfs", 400, &body), "GETQUOTAUSAGE"));
        let other = remote("IllegalArgumentException", "Invalid value for webhdfs parameter \"namespacequota\"");
        assert!(!is_unknown_op(&error("GETQUOTAUSAGE", "/d", "hdfs", 400, &other), "GETQUOTAUSAGE"));
    }

    #[test]
    fn file_statuses_parse() {
        // As the live NameNode (Hadoop 3.5) answers.
        let body = r#"{"FileStatus":{"accessTime":0,"aclBit":true,"blockSize":0,"childrenNum":0,"fileId":16387,"group":"sales","length":0,"modificationTime":1796180287255,"owner":"sales","pathSuffix":"","permission":"770","replication":0,"storagePolicy":0,"type":"DIRECTORY"}}"#;
        let s = parse::<FileStatusAnswer>("GETFILESTATUS", "/d", body).unwrap().file_status.status();
        assert_eq!(
            s,
            FileStatus { owner: "sales".into(), group: "sales".into(), permission: "770".into(), is_dir: true }
        );
        let list = r#"{"FileStatuses":{"FileStatus":[
{"accessTime":0,"blockSize":0,"childrenNum":0,"fileId":16387,"group":"supergroup","length":0,"modificationTime":1,"owner":"hdfs","pathSuffix":"a","permission":"750","replication":0,"storagePolicy":0,"type":"DIRECTORY"},
{"accessTime":1,"blockSize":134217728,"childrenNum":0,"fileId":16389,"group":"supergroup","length":3,"modificationTime":1,"owner":"hdfs","pathSuffix":"sp ace?x&y#z%wü","permission":"644","replication":1,"storagePolicy":0,"type":"FILE"}
]}}"#;
        let list = parse::<ListAnswer>("LISTSTATUS", "/d", list).unwrap().file_statuses.file_status;
        let names: Vec<_> = list.iter().map(|s| (s.path_suffix.as_str(), s.status().is_dir)).collect();
        assert_eq!(names, [("a", true), ("sp ace?x&y#z%wü", false)]);
        let empty = parse::<ListAnswer>("LISTSTATUS", "/d", r#"{"FileStatuses":{"FileStatus":[]}}"#).unwrap();
        assert!(empty.file_statuses.file_status.is_empty());
        let e = parse::<FileStatusAnswer>("GETFILESTATUS", "/d", r#"{"FileStatus":{"owner":"hdfs"}}"#).unwrap_err();
        assert!(e.is(ErrorKind::Other) && e.operation == "GETFILESTATUS" && e.message.contains("/d"), "{e}");
    }

    #[test]
    fn quotas_of_minus_one_are_none() {
        let body = r#"{"QuotaUsage":{"fileAndDirectoryCount":4,"quota":100,"spaceConsumed":3,"spaceQuota":-1,"typeQuota":{}}}"#;
        let q = parse::<QuotaUsageAnswer>("GETQUOTAUSAGE", "/d", body).unwrap().usage();
        assert_eq!(
            q,
            QuotaUsage {
                namespace_quota: Some(100),
                space_quota: None,
                file_and_directory_count: 4,
                space_consumed: 3
            }
        );
        let body = r#"{"QuotaUsage":{"fileAndDirectoryCount":1,"quota":-1,"spaceConsumed":0,"spaceQuota":1048576,"typeQuota":{}}}"#;
        let q = parse::<QuotaUsageAnswer>("GETQUOTAUSAGE", "/d", body).unwrap().usage();
        assert_eq!((q.namespace_quota, q.space_quota), (None, Some(1048576)));
    }

    #[test]
    fn content_summaries_give_emptiness_and_quotas() {
        let summary = |dirs: i64, files: i64| {
            let body = format!(
                r#"{{"ContentSummary":{{"directoryCount":{dirs},"ecPolicy":"","fileCount":{files},"length":3,"quota":5,"snapshotDirectoryCount":0,"snapshotFileCount":0,"snapshotLength":0,"snapshotSpaceConsumed":0,"spaceConsumed":3,"spaceQuota":-1,"typeQuota":{{}}}}}}"#
            );
            parse::<ContentSummaryAnswer>("GETCONTENTSUMMARY", "/d", &body).unwrap()
        };
        assert!(summary(1, 0).is_empty());
        assert!(!summary(2, 0).is_empty(), "a subdirectory");
        assert!(!summary(1, 1).is_empty(), "a file");
        assert!(!summary(0, 1).is_empty(), "a file itself");
        assert_eq!(
            summary(3, 1).usage(),
            QuotaUsage { namespace_quota: Some(5), space_quota: None, file_and_directory_count: 4, space_consumed: 3 }
        );
    }

    #[test]
    fn acl_statuses_parse() {
        // As the live NameNode lists them after MODIFYACLENTRIES of user:sales:r-x,
        // default:user:sales:r-x and group:ops:rwx on a 0750 directory.
        let body = r#"{"AclStatus":{"entries":["user:sales:r-x","group::r-x","group:ops:rwx","default:user::rwx","default:user:sales:r-x","default:group::r-x","default:mask::r-x","default:other::---"],"group":"supergroup","owner":"hdfs","permission":"770","stickyBit":false}}"#;
        let entries = parse::<AclStatusAnswer>("GETACLSTATUS", "/d", body).unwrap().entries();
        assert_eq!(entries.len(), 8);
        assert_eq!(entries[0], "user:sales:r-x");
        assert_eq!(entries[4], "default:user:sales:r-x");
        let none =
            r#"{"AclStatus":{"entries":[],"group":"supergroup","owner":"hdfs","permission":"750","stickyBit":false}}"#;
        assert!(parse::<AclStatusAnswer>("GETACLSTATUS", "/d", none).unwrap().entries().is_empty());
        assert!(parse::<AclStatusAnswer>("GETACLSTATUS", "/d", r#"{"AclStatus":{"entries":[1]}}"#).is_err());
    }

    #[test]
    fn booleans_parse() {
        assert!(parse::<BooleanAnswer>("MKDIRS", "/d", r#"{"boolean":true}"#).unwrap().boolean);
        assert!(!parse::<BooleanAnswer>("DELETE", "/d", r#"{"boolean":false}"#).unwrap().boolean);
        assert!(parse::<BooleanAnswer>("DELETE", "/d", "").is_err());
    }

    proptest! {
        // No body, however odd, makes a parser or the error mapping panic.
        #[test]
        fn no_body_panics(body in any::<String>(), status in 0u16..1000) {
            let _ = parse::<FileStatusAnswer>("GETFILESTATUS", "/d", &body);
            let _ = parse::<ListAnswer>("LISTSTATUS", "/d", &body);
            let _ = parse::<QuotaUsageAnswer>("GETQUOTAUSAGE", "/d", &body);
            let _ = parse::<ContentSummaryAnswer>("GETCONTENTSUMMARY", "/d", &body);
            let _ = parse::<AclStatusAnswer>("GETACLSTATUS", "/d", &body);
            let _ = error("DELETE", "/d", "hdfs", status, &body);
        }

        #[test]
        fn no_remote_exception_panics(exception in any::<String>(), message in any::<String>(), status in 0u16..1000) {
            let e = error("DELETE", "/d", "hdfs", status, &remote(&exception, &message));
            prop_assert_eq!(e.code.as_deref(), Some(exception.as_str()));
        }
    }
}
