//! The real `Hdfs`: a NameNode's WebHDFS REST API through `reqwest`, as the superuser named in
//! `hdfs { user }` (simple authentication: every request says `user.name=<user>`).
//!
//! Every call goes to the NameNode itself (none of them carries file data, so none is
//! redirected to a DataNode), is bounded by `hdfs { timeout_seconds }`, and is retried while
//! the failure is transient: no connection, a timeout, a 5xx, or a NameNode in safe mode, in
//! standby or asking to be asked again. Every call is idempotent, so a retry after an attempt
//! that did its work but lost its answer does no harm. URLs are built by `url` alone; answers
//! are parsed by `backend_wire::webhdfs` (here `answers`).

mod url;

use std::time::Duration;

use async_trait::async_trait;
use backend_wire::webhdfs as answers;
use reqwest::{Client, Method};
use tokio_util::sync::CancellationToken;

use super::error::{BackendError, ErrorKind};
use super::hdfs::{FileStatus, Hdfs, QuotaUsage};
use super::rest::{self, Resend};
use super::retry::{with_retries, RetryPolicy};
use crate::provider::settings::hdfs::HdfsSettings;
use answers::{
    AclStatusAnswer, BooleanAnswer, ContentSummaryAnswer, FileStatusAnswer, ListAnswer, QuotaUsageAnswer, SERVICE,
};

/// What WebHDFS's SETQUOTA takes as "remove this quota" (`HdfsConstants.QUOTA_RESET`); leaving
/// the parameter out keeps the quota as it is.
const QUOTA_RESET: &str = "-1";

/// An HDFS NameNode through WebHDFS.
pub struct WebHdfs {
    client: Client,
    /// The base URL, without a trailing slash.
    base: String,
    user: String,
    timeout: Duration,
    stop: CancellationToken,
}

impl WebHdfs {
    /// A client of the NameNode at `settings.webhdfs_url` (no connection is made yet).
    pub fn new(settings: &HdfsSettings, stop: CancellationToken) -> Result<WebHdfs, BackendError> {
        let fail = |msg: String| BackendError::new(ErrorKind::Other, SERVICE, "Connect", msg);
        let Some(raw) = settings.webhdfs_url.as_deref() else {
            return Err(fail("HDFS is not configured: set hdfs { webhdfs_url } or DATAMESH_HDFS_WEBHDFS_URL".into()));
        };
        let base = rest::base_url("webhdfs_url", raw, "the NameNode's").map_err(fail)?;
        let client = rest::client(settings.timeout, "the WebHDFS client").map_err(fail)?;
        Ok(WebHdfs { client, base, user: settings.user.clone(), timeout: settings.timeout, stop })
    }

    /// `op` on `path`, retried while transient; the body of the 2xx answer.
    async fn call(
        &self,
        method: Method,
        op: &'static str,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<String, BackendError> {
        let url = url::url(&self.base, path, op, &self.user, params)
            .map_err(|msg| BackendError::new(ErrorKind::Other, SERVICE, op, msg))?;
        with_retries(RetryPolicy::within(self.timeout), &self.stop, || self.attempt(method.clone(), op, path, &url))
            .await
    }

    /// One try of a call.
    async fn attempt(&self, method: Method, op: &'static str, path: &str, url: &str) -> Result<String, BackendError> {
        // Every WebHDFS call of ours is idempotent: any may be sent again.
        rest::send(
            self.client.request(method, url),
            Resend::WhileTransient,
            |e| self.unanswered(op, path, e),
            |status, body| answers::error(op, path, &self.user, status, body),
        )
        .await
    }

    /// A call that got no (whole) answer: worth retrying when the NameNode could not be reached
    /// or was too slow.
    fn unanswered(&self, op: &'static str, path: &str, e: &reqwest::Error) -> BackendError {
        let (kind, cause) = (rest::unanswered_kind(e, Resend::WhileTransient), rest::cause_chain(e));
        BackendError::new(kind, SERVICE, op, format!("{path}: no answer from the NameNode at {}: {cause}", self.base))
    }

    /// The direct children of a directory, as (path, is a directory); none when it has gone.
    async fn children(&self, dir: &str) -> Result<Vec<(String, bool)>, BackendError> {
        let body = match self.call(Method::GET, "LISTSTATUS", dir, &[]).await {
            Ok(body) => body,
            // Deleted while the tree was walked: nothing of it is left to list.
            Err(e) if e.is(ErrorKind::NotFound) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let listed = answers::parse::<ListAnswer>("LISTSTATUS", dir, &body)?.file_statuses.file_status;
        let parent = dir.trim_end_matches('/');
        Ok(listed
            .iter()
            // LISTSTATUS of a file lists the file itself, with no name: a directory replaced by
            // a file while the tree was walked has no children.
            .filter(|s| !s.path_suffix.is_empty())
            .map(|s| (format!("{parent}/{}", s.path_suffix), s.status().is_dir))
            .collect())
    }
}

/// A NotFound error as `None`.
fn found<T>(r: Result<T, BackendError>) -> Result<Option<T>, BackendError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An error of the caller's making, found before asking the NameNode.
fn refused(op: &'static str, path: &str, why: impl std::fmt::Display) -> BackendError {
    BackendError::new(ErrorKind::Other, SERVICE, op, format!("{path}: {why}"))
}

#[async_trait]
impl Hdfs for WebHdfs {
    async fn status(&self, path: &str) -> Result<Option<FileStatus>, BackendError> {
        let Some(body) = found(self.call(Method::GET, "GETFILESTATUS", path, &[]).await)? else {
            return Ok(None);
        };
        Ok(Some(answers::parse::<FileStatusAnswer>("GETFILESTATUS", path, &body)?.file_status.status()))
    }

    async fn mkdirs(&self, path: &str, permission: &str) -> Result<(), BackendError> {
        let body = self.call(Method::PUT, "MKDIRS", path, &[("permission", permission)]).await?;
        if answers::parse::<BooleanAnswer>("MKDIRS", path, &body)?.boolean {
            Ok(())
        } else {
            Err(refused("MKDIRS", path, "the NameNode answered false (the directory was not made)"))
        }
    }

    async fn set_owner(&self, path: &str, owner: &str, group: &str) -> Result<(), BackendError> {
        // WebHDFS reads an empty owner or group as "keep it": that is not setting it.
        if owner.is_empty() || group.is_empty() {
            return Err(refused("SETOWNER", path, "the owner and the group must both be named"));
        }
        self.call(Method::PUT, "SETOWNER", path, &[("owner", owner), ("group", group)]).await.map(drop)
    }

    async fn set_permission(&self, path: &str, permission: &str) -> Result<(), BackendError> {
        self.call(Method::PUT, "SETPERMISSION", path, &[("permission", permission)]).await.map(drop)
    }

    async fn set_quota(&self, path: &str, namespace: Option<i64>, space: Option<i64>) -> Result<(), BackendError> {
        // WebHDFS takes what `hdfs dfsadmin` refuses (a namespace quota of 0 is stored as 0), and
        // Long.MAX_VALUE means "leave it": check as the HDFS client does, so "exactly these"
        // holds.
        if namespace.is_some_and(|n| n <= 0 || n == i64::MAX) || space.is_some_and(|s| s < 0 || s == i64::MAX) {
            let why = format!(
                "quotas of {namespace:?} names and {space:?} bytes: a namespace quota is at least 1, a space quota at \
                 least 0"
            );
            return Err(refused("SETQUOTA", path, why));
        }
        let namespace = namespace.map_or_else(|| QUOTA_RESET.to_string(), |n| n.to_string());
        let space = space.map_or_else(|| QUOTA_RESET.to_string(), |s| s.to_string());
        let params = [("namespacequota", namespace.as_str()), ("storagespacequota", space.as_str())];
        self.call(Method::PUT, "SETQUOTA", path, &params).await.map(drop)
    }

    async fn quota(&self, path: &str) -> Result<Option<QuotaUsage>, BackendError> {
        match self.call(Method::GET, "GETQUOTAUSAGE", path, &[]).await {
            Ok(body) => Ok(Some(answers::parse::<QuotaUsageAnswer>("GETQUOTAUSAGE", path, &body)?.usage())),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(None),
            // GETQUOTAUSAGE came with Hadoop 3.0; the content summary has the same numbers, at the
            // price of a walk of the tree.
            Err(e) if answers::is_unknown_op(&e, "GETQUOTAUSAGE") => {
                let Some(body) = found(self.call(Method::GET, "GETCONTENTSUMMARY", path, &[]).await)? else {
                    return Ok(None);
                };
                Ok(Some(answers::parse::<ContentSummaryAnswer>("GETCONTENTSUMMARY", path, &body)?.usage()))
            }
            Err(e) => Err(e),
        }
    }

    async fn is_empty(&self, path: &str) -> Result<bool, BackendError> {
        let body = self.call(Method::GET, "GETCONTENTSUMMARY", path, &[]).await?;
        Ok(answers::parse::<ContentSummaryAnswer>("GETCONTENTSUMMARY", path, &body)?.is_empty())
    }

    async fn tree(&self, path: &str) -> Result<Vec<(String, bool)>, BackendError> {
        let Some(top) = self.status(path).await? else {
            return Err(BackendError::new(ErrorKind::NotFound, SERVICE, "GETFILESTATUS", format!("{path}: not found")));
        };
        let mut tree = vec![(path.to_string(), top.is_dir)];
        if !top.is_dir {
            return Ok(tree);
        }
        // Depth first, each directory's entries in the NameNode's (name) order: a stack of what
        // is still to visit, each listing pushed in reverse.
        let mut pending: Vec<(String, bool)> = self.children(path).await?.into_iter().rev().collect();
        while let Some((child, is_dir)) = pending.pop() {
            if is_dir {
                pending.extend(self.children(&child).await?.into_iter().rev());
            }
            tree.push((child, is_dir));
        }
        Ok(tree)
    }

    async fn acl_entries(&self, path: &str) -> Result<Option<Vec<String>>, BackendError> {
        let Some(body) = found(self.call(Method::GET, "GETACLSTATUS", path, &[]).await)? else {
            return Ok(None);
        };
        Ok(Some(answers::parse::<AclStatusAnswer>("GETACLSTATUS", path, &body)?.entries()))
    }

    async fn modify_acl_entries(&self, path: &str, entries: &[String]) -> Result<(), BackendError> {
        if entries.is_empty() {
            return Ok(()); // WebHDFS refuses an empty aclspec; there is nothing to change
        }
        let spec = url::acl_spec(entries, true).map_err(|why| refused("MODIFYACLENTRIES", path, why))?;
        self.call(Method::PUT, "MODIFYACLENTRIES", path, &[("aclspec", &spec)]).await.map(drop)
    }

    async fn remove_acl_entries(&self, path: &str, entries: &[String]) -> Result<(), BackendError> {
        if entries.is_empty() {
            return Ok(());
        }
        let spec = url::acl_spec(entries, false).map_err(|why| refused("REMOVEACLENTRIES", path, why))?;
        self.call(Method::PUT, "REMOVEACLENTRIES", path, &[("aclspec", &spec)]).await.map(drop)
    }

    async fn delete(&self, path: &str, recursive: bool) -> Result<(), BackendError> {
        if path.trim_end_matches('/').is_empty() {
            return Err(refused("DELETE", path, "the provider never deletes the root directory"));
        }
        let recursive = if recursive { "true" } else { "false" };
        match self.call(Method::DELETE, "DELETE", path, &[("recursive", recursive)]).await {
            // `false` is HDFS's answer for a path that is not there (a retry of a delete that
            // did its work, too): fine, as the trait says.
            Ok(body) => answers::parse::<BooleanAnswer>("DELETE", path, &body).map(drop),
            Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::rest::scripted;

    fn settings(url: Option<&str>) -> HdfsSettings {
        HdfsSettings { webhdfs_url: url.map(str::to_string), timeout: Duration::from_secs(5), ..Default::default() }
    }

    #[test]
    fn the_url_must_be_an_http_base() {
        for bad in
            [None, Some("not a url"), Some("hdfs://nn:8020"), Some("http://nn:9870/?op=DELETE"), Some("file:///x")]
        {
            let e = WebHdfs::new(&settings(bad), CancellationToken::new()).err().unwrap_or_else(|| panic!("{bad:?}"));
            assert_eq!((e.kind, e.service), (ErrorKind::Other, "HDFS"), "{bad:?}");
        }
        let ok = WebHdfs::new(&settings(Some("http://127.0.0.1:9870/")), CancellationToken::new()).unwrap();
        assert_eq!(ok.base, "http://127.0.0.1:9870");
    }

    #[tokio::test]
    async fn safe_mode_and_5xx_are_retried_as_the_configured_user() {
        let safe_mode = r#"{"RemoteException":{"exception":"SafeModeException","javaClassName":"org.apache.hadoop.hdfs.server.namenode.SafeModeException","message":"Name node is in safe mode."}}"#;
        let (url, seen) = scripted(vec![(503, ""), (403, safe_mode), (200, r#"{"boolean":true}"#)]).await;
        let hdfs =
            WebHdfs::new(&HdfsSettings { user: "admin".into(), ..settings(Some(&url)) }, CancellationToken::new())
                .unwrap();
        hdfs.mkdirs("/datamesh/sales", "750").await.unwrap();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{seen:?}");
        for line in &seen {
            assert_eq!(line, "PUT /webhdfs/v1/datamesh/sales?op=MKDIRS&user.name=admin&permission=750 HTTP/1.1");
        }
    }

    #[tokio::test]
    async fn other_failures_are_not_retried() {
        let not_empty = r#"{"RemoteException":{"exception":"PathIsNotEmptyDirectoryException","javaClassName":"org.apache.hadoop.fs.PathIsNotEmptyDirectoryException","message":"`/d is non empty': Directory is not empty"}}"#;
        let (url, seen) = scripted(vec![(403, not_empty), (200, r#"{"boolean":true}"#)]).await;
        let hdfs = WebHdfs::new(&settings(Some(&url)), CancellationToken::new()).unwrap();
        let e = hdfs.delete("/d", false).await.unwrap_err();
        assert!(e.is(ErrorKind::NotEmpty), "{e}");
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_closed_port_is_transient_until_the_deadline() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let hdfs = WebHdfs::new(
            &HdfsSettings { timeout: Duration::from_millis(300), ..settings(Some(&url)) },
            CancellationToken::new(),
        )
        .unwrap();
        let e = hdfs.status("/d").await.unwrap_err();
        assert!(e.is(ErrorKind::Transient), "{e}");
        assert!(e.message.contains("/d") && e.message.contains(&url), "{e}");
    }
}
