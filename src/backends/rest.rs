//! What the backends reached over HTTP share (WebHDFS, Flink's JobManager, Spark's REST
//! submission server): the check of a configured base URL, the `reqwest` client, how a call
//! that got no whole answer is judged, and when a failed call may be sent again. What their
//! answers say is parsed by `backend_wire` (`body`, `webhdfs`, `flink`, `spark`).

use std::time::Duration;

use reqwest::{redirect, Client, RequestBuilder};

use super::error::{BackendError, ErrorKind};

/// How a call may be repeated after an attempt that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Reads, and writes the server takes once however often they are sent: retried while the
    /// failure is transient.
    WhileTransient,
    /// Starts something (a job, a driver): sent again only when no connection could be made,
    /// so it cannot have reached the server.
    OnlyIfUnsent,
}

/// The base URL of a configured endpoint, without a trailing slash: an http:// or https:// URL
/// with a host and neither query nor fragment. `setting` names the setting in messages,
/// `server` what the URL should point at ("the NameNode's").
pub(crate) fn base_url(setting: &str, raw: &str, server: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(raw).map_err(|e| format!("{setting} {raw:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{setting} {raw:?} is not an http:// or https:// URL with a host"));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(format!("{setting} {raw:?} has a query or a fragment; give {server} base URL"));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_string())
}

/// A client with the provider's TLS settings, `timeout` per call and per connection, our user
/// agent, and no redirects (no call of ours is redirected: a redirect's answer is the error).
/// `what` names the client in the error.
pub(crate) fn client(timeout: Duration, what: &str) -> Result<Client, String> {
    let tls = super::tls::client_config(None)?;
    Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(redirect::Policy::none())
        .user_agent(concat!("terraform-provider-datamesh/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot build {what}: {e}"))
}

/// The error and every cause under it, on one line.
pub(crate) fn cause_chain(e: &reqwest::Error) -> String {
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause.push_str(": ");
        cause.push_str(&s.to_string());
        source = s.source();
    }
    cause
}

/// Whether the request of a call that got no whole answer provably never left (no connection
/// could be made).
pub(crate) fn never_sent(e: &reqwest::Error) -> bool {
    e.is_connect()
}

/// The kind of a call that got no whole answer: transient (worth sending again) when it never
/// left, or, when `resend` allows it, when it timed out or lost its answer.
pub(crate) fn unanswered_kind(e: &reqwest::Error, resend: Resend) -> ErrorKind {
    match resend {
        _ if never_sent(e) => ErrorKind::Transient,
        Resend::WhileTransient if e.is_timeout() || e.is_request() || e.is_body() => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

/// Sends one attempt: the body of a 2xx answer; a call without a whole answer becomes
/// `unanswered`'s error, any other status `error`'s (the status and the body). A server error of
/// a call that may not be sent again is not transient: the server had the request and may have
/// acted on it.
pub(crate) async fn send(
    request: RequestBuilder,
    resend: Resend,
    unanswered: impl Fn(&reqwest::Error) -> BackendError,
    error: impl FnOnce(u16, &str) -> BackendError,
) -> Result<String, BackendError> {
    let response = request.send().await.map_err(|e| unanswered(&e))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| unanswered(&e))?;
    if status.is_success() {
        return Ok(text);
    }
    let mut e = error(status.as_u16(), &text);
    if resend == Resend::OnlyIfUnsent && e.is(ErrorKind::Transient) {
        e.kind = ErrorKind::Other;
    }
    Err(e)
}

/// An HTTP server stand-in on loopback for unit tests: it gives these (status, body) answers in
/// turn, one connection each, and records each request line. Its URL, and the lines seen.
#[cfg(test)]
pub(crate) async fn scripted(
    answers: Vec<(u16, &'static str)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for (status, body) in answers {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            let mut buf = vec![0; 65536];
            let n = conn.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]);
            log.lock().unwrap().push(head.lines().next().unwrap_or_default().to_string());
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes()).await;
        }
    });
    (url, seen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_is_http_with_a_host_and_nothing_after_the_path() {
        assert_eq!(
            base_url("rest_url", "http://127.0.0.1:8081/", "the JobManager's").as_deref(),
            Ok("http://127.0.0.1:8081")
        );
        assert_eq!(
            base_url("rest_url", "https://flink.example.com/api", "x").as_deref(),
            Ok("https://flink.example.com/api")
        );
        assert!(base_url("rest_url", "ftp://h/", "x").unwrap_err().contains("http:// or https://"));
        assert!(base_url("rest_url", "not a url", "x").unwrap_err().contains("is not a URL"));
        let query = base_url("webhdfs_url", "http://h:9870/?op=x", "the NameNode's").unwrap_err();
        assert!(query.starts_with("webhdfs_url") && query.contains("give the NameNode's base URL"), "{query}");
    }
}
