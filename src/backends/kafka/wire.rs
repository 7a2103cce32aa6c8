//! Our own Kafka-protocol client, for the requests librdkafka does not offer (the ApiVersions
//! probe, client quotas): one connection to a bootstrap server over TCP or TLS, a SASL login
//! (PLAIN or SCRAM, see `sasl`), and size-prefixed requests with header v1, every step within
//! the connection's timeout and every answer bounded in size.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::sasl::{self, Mechanism, ScramClient};
use super::KafkaConnection;
use crate::backends::error::{BackendError, ErrorKind};

/// Our client id in every request header.
pub(super) const CLIENT_ID: &str = "terraform-provider-datamesh";
/// The answers we ask for (API versions, one user's quotas, SASL challenges) are well under
/// 2 KiB; this bounds what a bad peer can make us allocate.
pub(super) const MAX_FRAME: usize = 64 * 1024;

const SASL_HANDSHAKE_KEY: i16 = 17;
const SASL_AUTHENTICATE_KEY: i16 = 36;

/// Why a raw exchange with a broker failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum WireError {
    /// No answer (refused, closed, timed out): worth retrying.
    Unreachable(String),
    /// An answer that is not valid for the request, or settings that cannot work (TLS trust,
    /// certificate, SASL mechanism): retrying will not help.
    Invalid(String),
    /// The broker refused the login: retrying will not help either.
    Auth(String),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Unreachable(m) | WireError::Invalid(m) | WireError::Auth(m) => f.write_str(m),
        }
    }
}

impl WireError {
    /// The backend error for a call `op` that failed like this.
    pub(super) fn into_backend_error(self, op: &'static str) -> BackendError {
        let kind = match self {
            WireError::Unreachable(_) => ErrorKind::Transient,
            WireError::Invalid(_) => ErrorKind::Other,
            WireError::Auth(_) => ErrorKind::Auth,
        };
        let auth = kind == ErrorKind::Auth;
        let e = BackendError::new(kind, "Kafka", op, self.to_string());
        if auth {
            e.with_code("Authentication")
        } else {
            e
        }
    }
}

/// The name (as librdkafka spells it) and kind of a Kafka protocol error code.
pub(super) fn error_code(code: i16) -> (String, ErrorKind) {
    let (name, kind) = match code {
        -1 => ("UnknownServerError", ErrorKind::Other),
        5 => ("LeaderNotAvailable", ErrorKind::Transient),
        7 => ("RequestTimedOut", ErrorKind::Transient),
        8 => ("BrokerNotAvailable", ErrorKind::Transient),
        13 => ("NetworkException", ErrorKind::Transient),
        14 => ("CoordinatorLoadInProgress", ErrorKind::Transient),
        15 => ("CoordinatorNotAvailable", ErrorKind::Transient),
        31 => ("ClusterAuthorizationFailed", ErrorKind::Auth),
        33 => ("UnsupportedSaslMechanism", ErrorKind::Auth),
        34 => ("IllegalSaslState", ErrorKind::Auth),
        35 => ("UnsupportedVersion", ErrorKind::Unsupported),
        41 => ("NotController", ErrorKind::Transient),
        42 => ("InvalidRequest", ErrorKind::Other),
        44 => ("PolicyViolation", ErrorKind::Other),
        58 => ("SaslAuthenticationFailed", ErrorKind::Auth),
        89 => ("ThrottlingQuotaExceeded", ErrorKind::Transient),
        other => return (format!("KafkaError{other}"), ErrorKind::Other),
    };
    (name.to_string(), kind)
}

/// Writes big-endian request fields. A string too long for its length prefix is remembered
/// and refused by [`Writer::finish`], never truncated.
#[derive(Default)]
pub(super) struct Writer {
    out: Vec<u8>,
    too_long: Option<usize>,
}

impl Writer {
    pub(super) fn i8(&mut self, v: i8) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn i16(&mut self, v: i16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn f64(&mut self, v: f64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn bool(&mut self, v: bool) {
        self.out.push(u8::from(v));
    }
    /// A non-null string (int16 length).
    pub(super) fn string(&mut self, s: &str) {
        match i16::try_from(s.len()) {
            Ok(len) => {
                self.i16(len);
                self.out.extend_from_slice(s.as_bytes());
            }
            Err(_) => self.too_long = Some(s.len()),
        }
    }
    /// A nullable string (length -1 for null).
    pub(super) fn nullable_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.i16(-1),
        }
    }
    /// Bytes (int32 length).
    pub(super) fn bytes(&mut self, b: &[u8]) {
        match i32::try_from(b.len()) {
            Ok(len) => {
                self.i32(len);
                self.out.extend_from_slice(b);
            }
            Err(_) => self.too_long = Some(b.len()),
        }
    }
    /// An array's element count.
    pub(super) fn count(&mut self, n: usize) {
        match i32::try_from(n) {
            Ok(n) => self.i32(n),
            Err(_) => self.too_long = Some(n),
        }
    }
    /// The bytes written, unless a value did not fit its length prefix.
    pub(super) fn finish(self) -> Result<Vec<u8>, WireError> {
        match self.too_long {
            Some(len) => Err(WireError::Invalid(format!("a request field of {len} bytes is too long for Kafka"))),
            None => Ok(self.out),
        }
    }
}

/// Reads big-endian response fields off a byte slice; `None` when the slice is too short or
/// a length is impossible.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.rest.split_first_chunk::<N>()?;
        self.rest = rest;
        Some(*head)
    }
    fn slice(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Some(head)
    }
    /// Bytes not read yet.
    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }
    pub(super) fn i16(&mut self) -> Option<i16> {
        self.take::<2>().map(i16::from_be_bytes)
    }
    pub(super) fn i32(&mut self) -> Option<i32> {
        self.take::<4>().map(i32::from_be_bytes)
    }
    pub(super) fn f64(&mut self) -> Option<f64> {
        self.take::<8>().map(f64::from_be_bytes)
    }
    /// A nullable string: `Some(None)` for null. Invalid UTF-8 is read lossily (it only ever
    /// ends up in messages or comparisons).
    pub(super) fn nullable_string(&mut self) -> Option<Option<String>> {
        let len = self.i16()?;
        if len < 0 {
            return Some(None);
        }
        let bytes = self.slice(usize::try_from(len).ok()?)?;
        Some(Some(String::from_utf8_lossy(bytes).into_owned()))
    }
    /// A non-null string.
    pub(super) fn string(&mut self) -> Option<String> {
        self.nullable_string()?
    }
    /// Non-null bytes (int32 length).
    pub(super) fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.i32()?).ok()?;
        self.slice(len)
    }
    /// An array's element count, checked against the bytes there (each element takes at least
    /// `min_size`) before anyone allocates for it; a null array (-1) counts as empty.
    pub(super) fn count(&mut self, min_size: usize) -> Option<usize> {
        let n = self.i32()?;
        if n < 0 {
            return (n == -1).then_some(0);
        }
        let n = usize::try_from(n).ok()?;
        (n <= self.rest.len() / min_size.max(1)).then_some(n)
    }
}

/// Where and how to connect: what the raw client needs from a `KafkaConnection`.
#[derive(Clone)]
pub(super) struct Target {
    servers: Vec<String>,
    tls: bool,
    ca_cert_pem: Option<String>,
    pub(super) timeout: Duration,
    sasl: Option<Login>,
}

/// A SASL login (the password is never shown).
#[derive(Clone)]
pub(super) struct Login {
    mechanism: String,
    username: String,
    password: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("servers", &self.servers)
            .field("tls", &self.tls)
            .field("sasl", &self.sasl.as_ref().map(|l| (&l.mechanism, &l.username)))
            .finish()
    }
}

impl Target {
    /// The target for a connection's bootstrap servers, security protocol and login.
    pub(super) fn new(conn: &KafkaConnection) -> Self {
        let protocol = conn.security_protocol.to_ascii_uppercase();
        let sasl = protocol.starts_with("SASL_").then(|| Login {
            mechanism: conn.sasl_mechanism.clone().unwrap_or_default(),
            username: conn.sasl_username.clone().unwrap_or_default(),
            password: conn.sasl_password.clone().unwrap_or_default(),
        });
        Self {
            servers: conn.bootstrap_servers.clone(),
            tls: protocol == "SSL" || protocol == "SASL_SSL",
            ca_cert_pem: conn.ca_cert_pem.clone(),
            timeout: conn.timeout,
            sasl,
        }
    }
}

/// The host of `host:port` or `[v6]:port`, for TLS server name checks.
pub(super) fn host_of(server: &str) -> &str {
    if let Some(rest) = server.strip_prefix('[') {
        return rest.split_once(']').map_or(rest, |(host, _)| host);
    }
    server.rsplit_once(':').map_or(server, |(host, _)| host)
}

/// The TLS client settings of every backend (`backends::tls`), as a wire error.
pub(super) fn tls_config(ca_cert_pem: Option<&str>) -> Result<rustls::ClientConfig, WireError> {
    crate::backends::tls::client_config(ca_cert_pem).map_err(WireError::Invalid)
}

/// A byte stream to a broker: TCP or TLS.
pub(super) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Connects to one server, TLS handshake included.
async fn connect(server: &str, tls: Option<&TlsConnector>, timeout: Duration) -> Result<Box<dyn Stream>, WireError> {
    let tcp = tokio::time::timeout(timeout, TcpStream::connect(server))
        .await
        .map_err(|_| WireError::Unreachable(format!("no connection within {timeout:?}")))?
        .map_err(|e| WireError::Unreachable(format!("connecting: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let Some(connector) = tls else { return Ok(Box::new(tcp)) };
    let name = ServerName::try_from(host_of(server).to_string())
        .map_err(|e| WireError::Invalid(format!("{server:?} has no valid TLS server name: {e}")))?;
    let stream = tokio::time::timeout(timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| WireError::Unreachable(format!("no TLS handshake within {timeout:?}")))?
        .map_err(|e| match e.kind() {
            // rustls reports certificate and protocol failures as InvalidData: settings, not luck.
            std::io::ErrorKind::InvalidData => WireError::Invalid(format!("TLS handshake: {e}")),
            _ => WireError::Unreachable(format!("TLS handshake: {e}")),
        })?;
    Ok(Box::new(stream))
}

/// Runs `exchange` on a fresh connection to each bootstrap server in turn; the first that
/// completes gives its server and result. A refused login ends the search at once: the other
/// servers check the same credentials.
pub(super) async fn each_server<T, F, Fut>(target: &Target, op: &str, exchange: F) -> Result<(String, T), WireError>
where
    F: Fn(Box<dyn Stream>) -> Fut,
    Fut: Future<Output = Result<T, WireError>>,
{
    let tls =
        if target.tls { Some(TlsConnector::from(Arc::new(tls_config(target.ca_cert_pem.as_deref())?))) } else { None };
    let mut failures = Vec::new();
    let mut any_invalid = false;
    for server in &target.servers {
        let outcome = match connect(server, tls.as_ref(), target.timeout).await {
            Ok(stream) => exchange(stream).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(v) => return Ok((server.clone(), v)),
            Err(WireError::Auth(m)) => return Err(WireError::Auth(format!("{server}: {m}"))),
            Err(e) => {
                any_invalid |= matches!(e, WireError::Invalid(_));
                failures.push(format!("{server}: {e}"));
            }
        }
    }
    if failures.is_empty() {
        return Err(WireError::Invalid("no bootstrap servers are configured".into()));
    }
    let message = format!("no bootstrap server answered {op} ({})", failures.join("; "));
    Err(if any_invalid { WireError::Invalid(message) } else { WireError::Unreachable(message) })
}

/// Reads one size-prefixed frame, refusing sizes above [`MAX_FRAME`].
pub(super) async fn read_frame<S: AsyncRead + Unpin + ?Sized>(stream: &mut S) -> Result<Vec<u8>, WireError> {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).await.map_err(|e| WireError::Unreachable(format!("reading the answer: {e}")))?;
    let size = i32::from_be_bytes(size);
    let len = usize::try_from(size)
        .ok()
        .filter(|&n| n <= MAX_FRAME)
        .ok_or_else(|| WireError::Invalid(format!("the answer claims {size} bytes; not a response we asked for")))?;
    let mut frame = vec![0u8; len];
    stream.read_exact(&mut frame).await.map_err(|e| WireError::Unreachable(format!("reading the answer: {e}")))?;
    Ok(frame)
}

/// A request frame: size, header v1 (key, version, correlation id, client id), body.
pub(super) fn frame(key: i16, version: i16, correlation_id: i32, body: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut w = Writer::default();
    w.i16(key);
    w.i16(version);
    w.i32(correlation_id);
    w.string(CLIENT_ID);
    let mut message = w.finish()?;
    message.extend_from_slice(body);
    let mut out = Writer::default();
    out.bytes(&message);
    out.finish()
}

/// One open connection, asked one request at a time.
pub(super) struct Conn {
    stream: Box<dyn Stream>,
    correlation_id: i32,
    timeout: Duration,
}

impl Conn {
    /// A connection whose every round trip must end within `timeout`.
    pub(super) fn new(stream: Box<dyn Stream>, timeout: Duration) -> Self {
        Self { stream, correlation_id: 0, timeout }
    }

    /// Sends a request and returns the response body (after the correlation id).
    pub(super) async fn call(&mut self, key: i16, version: i16, body: &[u8]) -> Result<Vec<u8>, WireError> {
        self.correlation_id = self.correlation_id.wrapping_add(1);
        let correlation_id = self.correlation_id;
        let request = frame(key, version, correlation_id, body)?;
        let stream = &mut self.stream;
        let round_trip = async {
            stream.write_all(&request).await.map_err(|e| WireError::Unreachable(format!("sending: {e}")))?;
            stream.flush().await.map_err(|e| WireError::Unreachable(format!("sending: {e}")))?;
            read_frame(stream.as_mut()).await
        };
        let timeout = self.timeout;
        let answer = tokio::time::timeout(timeout, round_trip)
            .await
            .map_err(|_| WireError::Unreachable(format!("no answer to API key {key} within {timeout:?}")))??;
        let Some((id, body)) = answer.split_first_chunk::<4>() else {
            return Err(WireError::Invalid(format!("the answer to API key {key} is truncated")));
        };
        let id = i32::from_be_bytes(*id);
        if id != correlation_id {
            return Err(WireError::Invalid(format!(
                "the answer to API key {key} has correlation id {id}, expected {correlation_id}"
            )));
        }
        Ok(body.to_vec())
    }

    /// Logs in with `target`'s SASL settings, if it has any.
    pub(super) async fn login(&mut self, target: &Target) -> Result<(), WireError> {
        let Some(login) = &target.sasl else { return Ok(()) };
        let mechanism = Mechanism::parse(&login.mechanism)?;
        self.handshake(&login.mechanism).await?;
        match mechanism {
            Mechanism::Plain => {
                self.authenticate(&sasl::plain_message(&login.username, &login.password)).await?;
            }
            Mechanism::Scram(hash) => {
                let client = ScramClient::new(hash, &login.username, sasl::nonce()?);
                let server_first = self.authenticate(client.first_message().as_bytes()).await?;
                let (client_final, check) = client.final_message(&server_first, &login.password)?;
                let server_final = self.authenticate(client_final.as_bytes()).await?;
                check.verify(&server_final)?;
            }
        }
        Ok(())
    }

    /// SaslHandshake v1: the broker must offer `mechanism`.
    async fn handshake(&mut self, mechanism: &str) -> Result<(), WireError> {
        let mut w = Writer::default();
        w.string(mechanism);
        let answer = self.call(SASL_HANDSHAKE_KEY, 1, &w.finish()?).await?;
        let mut r = Reader::new(&answer);
        let code = r.i16().ok_or_else(|| WireError::Invalid("the SaslHandshake answer is truncated".into()))?;
        if code == 0 {
            return Ok(());
        }
        let count = r.count(2).unwrap_or(0);
        let offered: Vec<String> = (0..count).map_while(|_| r.string()).collect();
        let (name, _) = error_code(code);
        Err(WireError::Auth(format!(
            "the broker refused SASL mechanism {mechanism} ({name}); it offers {}",
            if offered.is_empty() { "none".to_string() } else { offered.join(", ") }
        )))
    }

    /// One SaslAuthenticate v0 round: our bytes, the broker's challenge back.
    async fn authenticate(&mut self, message: &[u8]) -> Result<Vec<u8>, WireError> {
        let mut w = Writer::default();
        w.bytes(message);
        let answer = self.call(SASL_AUTHENTICATE_KEY, 0, &w.finish()?).await?;
        let truncated = || WireError::Invalid("the SaslAuthenticate answer is truncated".into());
        let mut r = Reader::new(&answer);
        let code = r.i16().ok_or_else(truncated)?;
        let message = r.nullable_string().ok_or_else(truncated)?;
        if code != 0 {
            let (name, _) = error_code(code);
            let why = message.filter(|m| !m.is_empty()).unwrap_or_else(|| name.clone());
            return Err(WireError::Auth(format!("SASL login refused ({name}): {why}")));
        }
        Ok(r.bytes().ok_or_else(truncated)?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_header_v1_and_their_size() {
        let f = frame(48, 0, 7, &[1, 2]).unwrap_or_default();
        let mut want = vec![0, 0, 0, 39, 0, 48, 0, 0, 0, 0, 0, 7, 0, 27];
        want.extend_from_slice(CLIENT_ID.as_bytes());
        want.extend_from_slice(&[1, 2]);
        assert_eq!(f, want);
    }

    #[test]
    fn strings_too_long_are_refused_not_truncated() {
        let mut w = Writer::default();
        w.string(&"x".repeat(40_000));
        assert!(matches!(w.finish(), Err(WireError::Invalid(_))));
    }

    #[test]
    fn reader_counts_are_bounded_by_the_bytes_there() {
        let mut r = Reader::new(&[0, 0, 0, 9, 1, 2]);
        assert_eq!(r.count(1), None);
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff]);
        assert_eq!(r.count(1), Some(0), "a null array is empty");
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xfe]);
        assert_eq!(r.count(1), None);
        let mut r = Reader::new(&[0, 5, b'a']);
        assert_eq!(r.string(), None);
        let mut r = Reader::new(&[0x7f, 0xff, 0xff, 0xff]);
        assert_eq!(r.bytes(), None);
    }

    #[test]
    fn tls_trusts_the_given_ca_or_the_mozilla_roots() {
        assert!(tls_config(None).is_ok());
        assert!(
            matches!(tls_config(Some("not a certificate")), Err(WireError::Invalid(m)) if m.contains("no certificate"))
        );
        let ca = rcgen::generate_simple_self_signed(vec!["broker.local".into()]).map(|c| c.cert.pem());
        let Ok(ca) = ca else { panic!("rcgen failed") };
        assert!(tls_config(Some(&ca)).is_ok());
    }

    #[test]
    fn tls_names_come_from_the_host() {
        assert_eq!(host_of("broker.example.com:9093"), "broker.example.com");
        assert_eq!(host_of("[::1]:9093"), "::1");
        assert_eq!(host_of("10.0.0.1:9093"), "10.0.0.1");
        assert_eq!(host_of("broker"), "broker");
    }

    #[test]
    fn the_password_never_shows_in_debug_output() {
        let t = Target::new(&KafkaConnection {
            bootstrap_servers: vec!["b:9092".into()],
            security_protocol: "SASL_SSL".into(),
            sasl_mechanism: Some("SCRAM-SHA-512".into()),
            sasl_username: Some("admin".into()),
            sasl_password: Some("hunter2-secret".into()),
            ..Default::default()
        });
        let shown = format!("{t:?}");
        assert!(shown.contains("admin") && !shown.contains("hunter2"), "{shown}");
    }

    /// A broker on one end of a pipe that answers each request with `answers` in turn
    /// (correlation ids echoed), for the login exchange.
    async fn scripted(answers: Vec<Vec<u8>>) -> Conn {
        let (ours, mut broker) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            for body in answers {
                let Ok(request) = read_frame(&mut broker).await else { return };
                let Some(id) = request.get(4..8) else { return };
                let mut reply = id.to_vec();
                reply.extend_from_slice(&body);
                let mut framed = (reply.len() as i32).to_be_bytes().to_vec();
                framed.extend_from_slice(&reply);
                if broker.write_all(&framed).await.is_err() {
                    return;
                }
            }
        });
        Conn::new(Box::new(ours), Duration::from_secs(5))
    }

    fn sasl_target(mechanism: &str) -> Target {
        Target::new(&KafkaConnection {
            bootstrap_servers: vec!["b:9092".into()],
            security_protocol: "SASL_PLAINTEXT".into(),
            sasl_mechanism: Some(mechanism.into()),
            sasl_username: Some("admin".into()),
            sasl_password: Some("hunter2-secret".into()),
            timeout: Duration::from_secs(5),
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn a_refused_login_is_an_auth_error_without_the_password() {
        let handshake_ok = vec![0, 0, 0, 0, 0, 1, 0, 5, b'P', b'L', b'A', b'I', b'N'];
        let mut refused = vec![0, 58];
        let why = "Authentication failed: Invalid username or password";
        refused.extend_from_slice(&(why.len() as i16).to_be_bytes());
        refused.extend_from_slice(why.as_bytes());
        refused.extend_from_slice(&0i32.to_be_bytes());
        let mut conn = scripted(vec![handshake_ok, refused]).await;
        let got = conn.login(&sasl_target("PLAIN")).await;
        assert!(
            matches!(&got, Err(WireError::Auth(m)) if m.contains("SaslAuthenticationFailed") && m.contains("Invalid username") && !m.contains("hunter2")),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn a_mechanism_the_broker_lacks_names_those_it_offers() {
        let mut refused = vec![0, 33, 0, 0, 0, 1];
        refused.extend_from_slice(&[0, 13]);
        refused.extend_from_slice(b"SCRAM-SHA-512");
        let mut conn = scripted(vec![refused]).await;
        let got = conn.login(&sasl_target("PLAIN")).await;
        assert!(matches!(&got, Err(WireError::Auth(m)) if m.contains("offers SCRAM-SHA-512")), "{got:?}");
    }

    #[tokio::test]
    async fn an_unknown_mechanism_is_refused_before_connecting_further() {
        let mut conn = scripted(vec![]).await;
        let got = conn.login(&sasl_target("GSSAPI")).await;
        assert!(matches!(&got, Err(WireError::Invalid(m)) if m.contains("GSSAPI")), "{got:?}");
    }

    #[tokio::test]
    async fn a_truncated_or_mismatched_answer_is_an_error() {
        let mut conn = scripted(vec![vec![]]).await;
        assert!(matches!(conn.call(48, 0, &[]).await, Ok(b) if b.is_empty()));
        let mut conn = scripted(vec![vec![0]]).await;
        let handshake = conn.handshake("PLAIN").await;
        assert!(matches!(handshake, Err(WireError::Invalid(m)) if m.contains("truncated")));
    }
}
