//! Which APIs a broker implements, asked with a raw ApiVersions v0 request of our own rather
//! than through librdkafka: librdkafka aborts the whole process on some brokers' malformed ACL
//! answers, so ACL calls must not reach it unless the broker advertises the ACL API.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::wire::{self, Reader, Target, WireError};
use crate::backends::error::{BackendError, ErrorKind};

/// The ACL APIs by key and name, in the order a missing one is reported.
pub(super) const ACL_APIS: [(i16, &str); 3] = [(29, "DescribeAcls"), (30, "CreateAcls"), (31, "DeleteAcls")];

const API_VERSIONS_KEY: i16 = 18;
const CORRELATION_ID: i32 = 1;

/// One API a broker advertises, with its version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ApiVersion {
    /// The API key, like 29 for DescribeAcls.
    pub(super) key: i16,
    /// Oldest version the broker accepts.
    pub(super) min: i16,
    /// Newest version the broker accepts.
    pub(super) max: i16,
}

/// The ApiVersions v0 request, size prefix included (request header v1, empty body).
pub(super) fn encode_request() -> Vec<u8> {
    // Our fixed header always fits its length prefixes.
    wire::frame(API_VERSIONS_KEY, 0, CORRELATION_ID, &[]).unwrap_or_default()
}

fn truncated() -> WireError {
    WireError::Invalid("the ApiVersions answer is truncated".into())
}

/// Parses an ApiVersions v0 response frame (without its size prefix). Bytes after the API
/// array are ignored, as newer brokers may append fields.
pub(super) fn parse_response(frame: &[u8]) -> Result<Vec<ApiVersion>, WireError> {
    let mut r = Reader::new(frame);
    let correlation_id = r.i32().ok_or_else(truncated)?;
    if correlation_id != CORRELATION_ID {
        return Err(WireError::Invalid(format!(
            "the ApiVersions answer has correlation id {correlation_id}, expected {CORRELATION_ID}"
        )));
    }
    let error_code = r.i16().ok_or_else(truncated)?;
    if error_code != 0 {
        return Err(WireError::Invalid(format!("the broker answered ApiVersions with error code {error_code}")));
    }
    let count = r.i32().ok_or_else(truncated)?;
    // The count comes from the peer: check it against the bytes actually there before
    // allocating for it.
    let count = usize::try_from(count)
        .map_err(|_| WireError::Invalid(format!("the ApiVersions answer has a negative API count ({count})")))?;
    if count > r.remaining() / 6 {
        return Err(truncated());
    }
    let mut apis = Vec::with_capacity(count);
    for _ in 0..count {
        let (key, min, max) = (r.i16(), r.i16(), r.i16());
        match (key, min, max) {
            (Some(key), Some(min), Some(max)) => apis.push(ApiVersion { key, min, max }),
            _ => return Err(truncated()),
        }
    }
    Ok(apis)
}

/// Sends ApiVersions v0 on an open connection and reads the answer, within `timeout`.
pub(super) async fn exchange<S>(stream: &mut S, timeout: Duration) -> Result<Vec<ApiVersion>, WireError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let round_trip = async {
        stream
            .write_all(&encode_request())
            .await
            .map_err(|e| WireError::Unreachable(format!("sending ApiVersions: {e}")))?;
        stream.flush().await.map_err(|e| WireError::Unreachable(format!("sending ApiVersions: {e}")))?;
        wire::read_frame(stream).await
    };
    let frame = tokio::time::timeout(timeout, round_trip)
        .await
        .map_err(|_| WireError::Unreachable(format!("no ApiVersions answer within {timeout:?}")))??;
    parse_response(&frame)
}

/// Asks the bootstrap servers in turn; the first that answers gives its address and APIs.
/// ApiVersions needs no login, so none is made.
pub(super) async fn probe(target: &Target) -> Result<(String, Vec<ApiVersion>), WireError> {
    let timeout = target.timeout;
    wire::each_server(target, "ApiVersions", |mut stream| async move { exchange(&mut stream, timeout).await }).await
}

/// What one broker said about the ACL API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AclSupport {
    broker: String,
    missing: Vec<(i16, &'static str)>,
}

impl AclSupport {
    /// Which ACL APIs `broker` lacks among those it advertises.
    pub(super) fn of(broker: String, advertised: &[ApiVersion]) -> Self {
        let missing = ACL_APIS.into_iter().filter(|(key, _)| !advertised.iter().any(|a| a.key == *key)).collect();
        Self { broker, missing }
    }

    /// `Unsupported`, named after the first missing API, unless all three are advertised.
    pub(super) fn check(&self) -> Result<(), BackendError> {
        let Some((_, first)) = self.missing.first() else { return Ok(()) };
        let names: Vec<String> = self.missing.iter().map(|(key, name)| format!("{name} (API key {key})")).collect();
        let (listed, verb) = match names.as_slice() {
            [one] => (one.clone(), "is"),
            [init @ .., last] => (format!("{} and {last}", init.join(", ")), "are"),
            [] => return Ok(()),
        };
        Err(BackendError::new(
            ErrorKind::Unsupported,
            "Kafka",
            first,
            format!(
                "the broker at {} does not implement the ACL API: {listed} {verb} not advertised. \
                 Set `kafka {{ manage_acls = false }}` in the provider configuration to manage topics \
                 without ACLs on this broker",
                self.broker
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::KafkaConnection;
    use super::*;
    use proptest::prelude::*;
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;

    fn response(correlation: i32, error: i16, count: i32, apis: &[(i16, i16, i16)]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&correlation.to_be_bytes());
        b.extend_from_slice(&error.to_be_bytes());
        b.extend_from_slice(&count.to_be_bytes());
        for (k, min, max) in apis {
            for v in [k, min, max] {
                b.extend_from_slice(&v.to_be_bytes());
            }
        }
        b
    }

    fn framed(frame: &[u8]) -> Vec<u8> {
        let mut b = (frame.len() as i32).to_be_bytes().to_vec();
        b.extend_from_slice(frame);
        b
    }

    fn keys(apis: &[(i16, i16, i16)]) -> Vec<ApiVersion> {
        apis.iter().map(|&(key, min, max)| ApiVersion { key, min, max }).collect()
    }

    #[test]
    fn the_request_is_api_versions_v0_with_header_v1() {
        let mut want = vec![0, 0, 0, 37, 0, 18, 0, 0, 0, 0, 0, 1, 0, 27];
        want.extend_from_slice(b"terraform-provider-datamesh");
        assert_eq!(encode_request(), want);
        assert_eq!(encode_request().len(), 4 + 37);
    }

    #[test]
    fn a_valid_answer_lists_the_apis() {
        let apis = [(18, 0, 3), (29, 0, 3), (30, 0, 3)];
        assert_eq!(parse_response(&response(1, 0, 3, &apis)), Ok(keys(&apis)));
        assert_eq!(parse_response(&response(1, 0, 0, &[])), Ok(vec![]));
    }

    #[test]
    fn trailing_fields_of_newer_versions_are_ignored() {
        let mut frame = response(1, 0, 1, &[(18, 0, 3)]);
        frame.extend_from_slice(&0i32.to_be_bytes());
        assert_eq!(parse_response(&frame), Ok(keys(&[(18, 0, 3)])));
    }

    #[test]
    fn truncated_answers_are_rejected() {
        let full = response(1, 0, 2, &[(29, 0, 3), (30, 0, 3)]);
        for len in 0..full.len() {
            assert_eq!(parse_response(&full[..len]), Err(truncated()), "length {len}");
        }
    }

    #[test]
    fn a_count_beyond_the_bytes_there_allocates_nothing() {
        assert_eq!(parse_response(&response(1, 0, i32::MAX, &[(29, 0, 3)])), Err(truncated()));
        assert!(matches!(parse_response(&response(1, 0, -1, &[])), Err(WireError::Invalid(_))));
    }

    #[test]
    fn a_wrong_correlation_id_or_an_error_code_is_rejected() {
        assert!(
            matches!(parse_response(&response(7, 0, 0, &[])), Err(WireError::Invalid(m)) if m.contains("correlation"))
        );
        assert!(matches!(parse_response(&response(1, 35, 0, &[])), Err(WireError::Invalid(m)) if m.contains("35")));
    }

    #[test]
    fn garbage_is_rejected() {
        assert!(parse_response(b"HTTP/1.1 400 Bad Request\r\n\r\n").is_err());
    }

    #[tokio::test]
    async fn the_exchange_sends_the_request_and_parses_the_answer() {
        let (mut ours, mut broker) = tokio::io::duplex(4096);
        let apis = [(29, 0, 3), (30, 0, 3), (31, 0, 3)];
        let server = tokio::spawn(async move {
            let mut request = vec![0u8; encode_request().len()];
            broker.read_exact(&mut request).await.map(|_| request).ok().filter(|r| *r == encode_request())?;
            broker.write_all(&framed(&response(1, 0, 3, &apis))).await.ok()
        });
        assert_eq!(exchange(&mut ours, Duration::from_secs(5)).await, Ok(keys(&apis)));
        assert!(matches!(server.await, Ok(Some(()))));
    }

    #[tokio::test]
    async fn a_huge_size_prefix_is_refused_before_reading() {
        let (mut ours, mut broker) = tokio::io::duplex(4096);
        broker.write_all(&i32::MAX.to_be_bytes()).await.ok();
        let got = exchange(&mut ours, Duration::from_secs(5)).await;
        assert!(matches!(got, Err(WireError::Invalid(m)) if m.contains("2147483647")));
        let (mut ours, mut broker) = tokio::io::duplex(4096);
        broker.write_all(&(-5i32).to_be_bytes()).await.ok();
        assert!(matches!(exchange(&mut ours, Duration::from_secs(5)).await, Err(WireError::Invalid(_))));
    }

    #[tokio::test]
    async fn a_silent_or_closing_peer_times_out_or_fails() {
        let (mut ours, _broker) = tokio::io::duplex(4096);
        let got = exchange(&mut ours, Duration::from_millis(50)).await;
        assert!(matches!(got, Err(WireError::Unreachable(m)) if m.contains("no ApiVersions answer")));

        let (mut ours, mut broker) = tokio::io::duplex(4096);
        // Claims 100 bytes, sends 3, then hangs: the timeout still ends it.
        broker.write_all(&[0, 0, 0, 100, 1, 2, 3]).await.ok();
        assert!(matches!(exchange(&mut ours, Duration::from_millis(50)).await, Err(WireError::Unreachable(_))));

        let (mut ours, broker) = tokio::io::duplex(4096);
        drop(broker);
        assert!(matches!(exchange(&mut ours, Duration::from_secs(5)).await, Err(WireError::Unreachable(_))));
    }

    #[tokio::test]
    async fn nobody_listening_is_transient() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").ok();
        let addr = listener.as_ref().and_then(|l| l.local_addr().ok()).map(|a| a.to_string());
        drop(listener);
        let Some(addr) = addr else { panic!("no free local port") };
        let conn = KafkaConnection {
            bootstrap_servers: vec![addr.clone()],
            security_protocol: "PLAINTEXT".into(),
            timeout: Duration::from_secs(2),
            ..Default::default()
        };
        let err = probe(&Target::new(&conn)).await.map_err(|e| e.into_backend_error("ApiVersions"));
        assert!(matches!(&err, Err(e) if e.kind == ErrorKind::Transient && e.message.contains(&addr)), "{err:?}");
    }

    /// A one-shot broker on a loopback port that answers ApiVersions with `apis`, over TLS
    /// with a certificate for `localhost` when `tls`; returns its port and the CA to trust.
    async fn fake_broker(apis: &'static [(i16, i16, i16)], tls: bool) -> (u16, String) {
        use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let Ok(listener) = tokio::net::TcpListener::bind("127.0.0.1:0").await else { panic!("bind") };
        let Ok(addr) = listener.local_addr() else { panic!("local_addr") };
        let Ok(cert) = rcgen::generate_simple_self_signed(vec!["localhost".into()]) else { panic!("rcgen") };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(vec![cert.cert.der().clone()], key));
        let Ok(server) = server else { panic!("server config") };
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server));
        tokio::spawn(async move {
            let Ok((tcp, _)) = listener.accept().await else { return };
            async fn answer<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, apis: &[(i16, i16, i16)]) {
                let mut request = vec![0u8; encode_request().len()];
                if s.read_exact(&mut request).await.is_ok() {
                    let _ = s.write_all(&framed(&response(1, 0, apis.len() as i32, apis))).await;
                    let _ = s.flush().await;
                }
            }
            if tls {
                // A client that rejects the certificate ends the handshake here.
                if let Ok(s) = acceptor.accept(tcp).await {
                    answer(s, apis).await;
                }
            } else {
                answer(tcp, apis).await;
            }
        });
        (addr.port(), cert.cert.pem())
    }

    fn target(server: String, protocol: &str, ca: Option<String>) -> Target {
        Target::new(&KafkaConnection {
            bootstrap_servers: vec![server],
            security_protocol: protocol.into(),
            ca_cert_pem: ca,
            timeout: Duration::from_secs(5),
            ..Default::default()
        })
    }

    const TANSU_LIKE: &[(i16, i16, i16)] = &[(18, 0, 3), (29, 0, 1), (30, 0, 1)];

    #[tokio::test]
    async fn a_plaintext_broker_is_asked_over_tcp() {
        let (port, _) = fake_broker(TANSU_LIKE, false).await;
        let server = format!("127.0.0.1:{port}");
        let got = probe(&target(server.clone(), "SASL_PLAINTEXT", None)).await;
        assert_eq!(got, Ok((server, keys(TANSU_LIKE))));
    }

    #[tokio::test]
    async fn a_tls_broker_is_asked_over_tls_trusting_the_given_ca() {
        let (port, ca) = fake_broker(TANSU_LIKE, true).await;
        let server = format!("localhost:{port}");
        let got = probe(&target(server.clone(), "SSL", Some(ca))).await;
        assert_eq!(got, Ok((server, keys(TANSU_LIKE))));
    }

    #[tokio::test]
    async fn an_untrusted_certificate_is_a_settings_error_not_a_retry() {
        let (port, _) = fake_broker(TANSU_LIKE, true).await;
        let got = probe(&target(format!("localhost:{port}"), "SASL_SSL", None)).await;
        assert!(matches!(&got, Err(WireError::Invalid(m)) if m.contains("TLS handshake")), "{got:?}");
    }

    #[tokio::test]
    async fn the_first_server_that_answers_is_used() {
        let (port, _) = fake_broker(TANSU_LIKE, false).await;
        let conn = KafkaConnection {
            bootstrap_servers: vec!["127.0.0.1:1".into(), format!("127.0.0.1:{port}")],
            security_protocol: "PLAINTEXT".into(),
            timeout: Duration::from_secs(5),
            ..Default::default()
        };
        let got = probe(&Target::new(&conn)).await;
        assert!(matches!(&got, Ok((s, _)) if *s == format!("127.0.0.1:{port}")), "{got:?}");
    }

    #[test]
    fn all_three_acl_apis_are_needed() {
        let all = keys(&[(18, 0, 3), (29, 0, 3), (30, 0, 3), (31, 0, 3)]);
        assert!(AclSupport::of("b:9092".into(), &all).check().is_ok());
    }

    #[test]
    fn a_missing_api_is_named_with_its_key_and_the_way_out() {
        let tansu = keys(&[(18, 0, 3), (29, 0, 1), (30, 0, 1)]);
        let err = AclSupport::of("127.0.0.1:9092".into(), &tansu).check().err();
        let Some(err) = err else { panic!("DeleteAcls is missing") };
        assert_eq!(err.kind, ErrorKind::Unsupported);
        assert_eq!(err.operation, "DeleteAcls");
        assert!(
            err.message.starts_with(
                "the broker at 127.0.0.1:9092 does not implement the ACL API: DeleteAcls (API key 31) is not advertised"
            ),
            "{}",
            err.message
        );
        assert!(err.message.contains("kafka { manage_acls = false }"), "{}", err.message);
    }

    #[test]
    fn several_missing_apis_are_all_named() {
        let err = AclSupport::of("b:9092".into(), &keys(&[(18, 0, 3)])).check().err();
        let Some(err) = err else { panic!("all are missing") };
        assert_eq!(err.operation, "DescribeAcls");
        assert!(err.message.contains(
            "DescribeAcls (API key 29), CreateAcls (API key 30) and DeleteAcls (API key 31) are not advertised"
        ));
        let err = AclSupport::of("b:9092".into(), &keys(&[(30, 0, 3)])).check().err();
        assert!(
            matches!(err, Some(e) if e.message.contains("DescribeAcls (API key 29) and DeleteAcls (API key 31) are"))
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_response(&bytes);
        }

        #[test]
        fn arbitrary_api_lists_round_trip(apis in proptest::collection::vec(any::<(i16, i16, i16)>(), 0..64)) {
            let frame = response(1, 0, apis.len() as i32, &apis);
            prop_assert_eq!(parse_response(&frame), Ok(keys(&apis)));
        }

        #[test]
        fn arbitrary_frames_never_panic_or_hang(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_time().build();
            let Ok(rt) = rt else { panic!("no runtime") };
            let answer = rt.block_on(async {
                let (mut ours, mut broker) = tokio::io::duplex(4096);
                broker.write_all(&bytes).await.ok();
                // End of answer, but the peer stays open so the request can still be sent.
                broker.shutdown().await.ok();
                let answer = exchange(&mut ours, Duration::from_secs(5)).await;
                drop(broker);
                answer
            });
            // Whatever the bytes, the answer ends where they end: only a hang reaches the timeout.
            let hung = matches!(&answer, Err(WireError::Unreachable(m)) if m.starts_with("no ApiVersions answer within"));
            prop_assert!(!hung, "{:?} hung until the timeout: {:?}", bytes, answer);
        }
    }
}
