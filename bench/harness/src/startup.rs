//! Start-up: launch a plugin the way Terraform does (magic cookie, offered protocol versions,
//! AutoMTLS with a fresh client certificate), read the handshake line, call the provider's
//! schema RPC and go-plugin's `Shutdown` over one TLS connection, and wait for the process to
//! exit. The gRPC calls are raw HTTP/2 requests (an empty request message is zero bytes), so
//! the same client serves protocol 5 and 6 providers without generated code.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::{Bytes, BytesMut};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use serde_json::json;

const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
const MAGIC_COOKIE_VALUE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// One plugin to measure.
#[derive(Debug, Clone)]
pub struct Target {
    /// Label in the results.
    pub name: String,
    /// The plugin binary.
    pub binary: PathBuf,
    /// Terraform plugin protocol: 5 (`tfplugin5.Provider/GetSchema`) or 6.
    pub protocol: u32,
    /// A resource type name the schema must mention (proves the answer is a real schema).
    pub expect: String,
}

impl Target {
    /// Parses `NAME=PATH:PROTOCOL:EXPECT`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (name, rest) = s.split_once('=').ok_or("want NAME=PATH:PROTOCOL:EXPECT")?;
        let mut parts = rest.rsplitn(3, ':');
        let expect = parts.next().ok_or("missing EXPECT")?.to_string();
        let protocol = parts.next().ok_or("missing PROTOCOL")?.parse().map_err(|_| "PROTOCOL is 5 or 6")?;
        let binary = PathBuf::from(parts.next().ok_or("missing PATH")?);
        Ok(Self { name: name.into(), binary, protocol, expect })
    }

    fn schema_path(&self) -> &'static str {
        if self.protocol == 5 {
            "/tfplugin5.Provider/GetSchema"
        } else {
            "/tfplugin6.Provider/GetProviderSchema"
        }
    }
}

/// What one launch measured.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Launch to handshake line read.
    pub handshake_ms: f64,
    /// Launch to schema response complete (includes TLS and HTTP/2 set-up).
    pub schema_ms: f64,
    /// Launch to process exit after Shutdown: the whole cycle.
    pub total_ms: f64,
    /// Launch to the Shutdown call answered (or failed: a Go server may drop the connection).
    pub shutdown_ms: f64,
    /// Whether Shutdown was answered with OK.
    pub shutdown_answered: bool,
    /// `VmHWM` from /proc just before Shutdown.
    pub vmhwm_kb: u64,
    /// `ru_maxrss` of the exited process.
    pub maxrss_kb: u64,
    /// User CPU of the process.
    pub utime_ms: f64,
    /// System CPU of the process.
    pub stime_ms: f64,
    /// Size of the schema message.
    pub schema_bytes: usize,
}

impl Sample {
    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "handshake_ms": self.handshake_ms, "schema_ms": self.schema_ms, "shutdown_ms": self.shutdown_ms,
            "exit_after_shutdown_ms": self.total_ms - self.shutdown_ms, "shutdown_answered": self.shutdown_answered,
            "total_ms": self.total_ms,
            "vmhwm_kb": self.vmhwm_kb, "maxrss_kb": self.maxrss_kb,
            "utime_ms": self.utime_ms, "stime_ms": self.stime_ms, "cpu_ms": self.utime_ms + self.stime_ms,
            "schema_bytes": self.schema_bytes,
        })
    }
}

/// A client identity like the one Terraform makes per run (go-plugin's `generateCert`:
/// ECDSA P-521, self-signed CA for `localhost`, client and server auth).
pub struct Identity {
    cert_pem: String,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// A fresh identity.
    pub fn generate() -> Result<Self, String> {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
        };
        let fail = |e: rcgen::Error| format!("client certificate: {e}");
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).map_err(fail)?;
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(fail)?;
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.distinguished_name.push(DnType::OrganizationName, "HashiCorp");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::KeyCertSign];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth, ExtendedKeyUsagePurpose::ServerAuth];
        let now = std::time::SystemTime::now();
        params.not_before = (now - Duration::from_secs(30)).into();
        params.not_after = (now + Duration::from_secs(3600)).into();
        let cert = params.self_signed(&key).map_err(fail)?;
        Ok(Self {
            cert_pem: cert.pem(),
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's client does.
#[derive(Debug)]
struct Pinned(CertificateDer<'static>, Arc<CryptoProvider>);

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General("not the certificate from the handshake line".into()))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.signature_verification_algorithms.supported_schemes()
    }
}

/// The handshake line: `CORE|APP|NETWORK|ADDR|PROTOCOL|CERT`.
struct Handshake {
    app_protocol: u32,
    socket: String,
    server_cert: CertificateDer<'static>,
}

fn parse_handshake(line: &str) -> Result<Handshake, String> {
    let parts: Vec<&str> = line.trim().split('|').collect();
    if parts.len() < 6 || parts[0] != "1" || parts[2] != "unix" || parts[4] != "grpc" {
        return Err(format!("unexpected handshake line {line:?}"));
    }
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5].trim_end_matches('='))
        .map_err(|e| format!("server certificate in the handshake: {e}"))?;
    if der.is_empty() {
        return Err("the plugin offered no server certificate (AutoMTLS not enabled?)".into());
    }
    Ok(Handshake {
        app_protocol: parts[1].parse().map_err(|_| format!("bad protocol in {line:?}"))?,
        socket: parts[3].to_string(),
        server_cert: CertificateDer::from(der),
    })
}

/// One gRPC unary call with an empty request; returns the response message.
async fn unary(send: &h2::client::SendRequest<Bytes>, path: &str) -> Result<Bytes, String> {
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("https://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .map_err(|e| e.to_string())?;
    let mut send = send.clone().ready().await.map_err(|e| format!("{path}: {e}"))?;
    let (response, mut body_out) = send.send_request(request, false).map_err(|e| format!("{path}: {e}"))?;
    // gRPC frame: not compressed, length 0.
    body_out.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true).map_err(|e| format!("{path}: {e}"))?;
    let response = response.await.map_err(|e| format!("{path}: {e}"))?;
    if response.status() != http::StatusCode::OK {
        return Err(format!("{path}: HTTP {}", response.status()));
    }
    let header_status = grpc_status(response.headers());
    let mut body = response.into_body();
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| format!("{path}: {e}"))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        buf.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await.map_err(|e| format!("{path}: {e}"))?;
    let status = trailers.as_ref().and_then(grpc_status).or(header_status);
    match status {
        Some((0, _)) => {}
        Some((code, msg)) => return Err(format!("{path}: gRPC status {code}: {msg}")),
        None => return Err(format!("{path}: no grpc-status")),
    }
    if buf.len() < 5 || buf[0] != 0 {
        return Err(format!("{path}: malformed response frame ({} bytes)", buf.len()));
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    if buf.len() < 5 + len {
        return Err(format!("{path}: truncated response ({} of {len} bytes)", buf.len() - 5));
    }
    Ok(buf.freeze().slice(5..5 + len))
}

fn grpc_status(h: &http::HeaderMap) -> Option<(i32, String)> {
    let code = h.get("grpc-status")?.to_str().ok()?.parse().ok()?;
    let msg = h.get("grpc-message").and_then(|m| m.to_str().ok()).unwrap_or("").to_string();
    Some((code, msg))
}

fn vmhwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Waits for `pid` to exit (killing it after `limit`) and returns its rusage.
fn wait_with_rusage(pid: u32, limit: Duration) -> Result<(libc::rusage, bool), String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut status: libc::c_int = 0;
        // SAFETY: zeroed rusage is valid; pid is our own child, not reaped by anyone else.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = loop {
            // SAFETY: valid out-pointers for wait4.
            let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
            if rc == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break rc;
        };
        let _ = tx.send((rc, usage));
    });
    let mut killed = false;
    let (rc, usage) = match rx.recv_timeout(limit) {
        Ok(r) => r,
        Err(_) => {
            // SAFETY: signalling our own child, which has not been reaped yet.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            killed = true;
            rx.recv().map_err(|e| e.to_string())?
        }
    };
    if rc != pid as libc::pid_t {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    Ok((usage, killed))
}

/// Launch → handshake → schema → Shutdown → exit, once.
pub fn run_once(rt: &tokio::runtime::Runtime, target: &Target) -> Result<Sample, String> {
    let id = Identity::generate()?;
    let crypto = Arc::new(rustls::crypto::aws_lc_rs::default_provider());

    let start = Instant::now();
    let mut child = Command::new(&target.binary)
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", target.protocol.to_string())
        .env("PLUGIN_CLIENT_CERT", &id.cert_pem)
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .env_remove("TF_REATTACH_PROVIDERS")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", target.binary.display()))?;
    let pid = child.id();
    // Keep stdout open for the plugin's lifetime, as Terraform does.
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    let result = (|| -> Result<(f64, f64, f64, bool, u64, usize), String> {
        stdout.read_line(&mut line).map_err(|e| format!("reading the handshake: {e}"))?;
        let handshake_ms = start.elapsed().as_secs_f64() * 1e3;
        let hs = parse_handshake(&line)?;
        if hs.app_protocol != target.protocol {
            return Err(format!("plugin chose protocol {}, wanted {}", hs.app_protocol, target.protocol));
        }
        let mut config = rustls::ClientConfig::builder_with_provider(crypto.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned(hs.server_cert.clone(), crypto.clone())))
            .with_client_auth_cert(vec![id.cert.clone()], id.key.clone_key())
            .map_err(|e| format!("client certificate: {e}"))?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let schema_path = target.schema_path();
        rt.block_on(async {
            let stream =
                tokio::net::UnixStream::connect(&hs.socket).await.map_err(|e| format!("connect {}: {e}", hs.socket))?;
            let server_name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
            let tls = connector.connect(server_name, stream).await.map_err(|e| format!("TLS: {e}"))?;
            let (send, connection) = h2::client::handshake(tls).await.map_err(|e| format!("HTTP/2: {e}"))?;
            let mut conn_task = tokio::spawn(async move {
                let _ = connection.await;
            });
            let schema = unary(&send, schema_path).await?;
            let schema_ms = start.elapsed().as_secs_f64() * 1e3;
            if !schema.windows(target.expect.len()).any(|w| w == target.expect.as_bytes()) {
                return Err(format!("the schema ({} bytes) does not mention {:?}", schema.len(), target.expect));
            }
            let vmhwm = vmhwm_kb(pid);
            // go-plugin's Go server stops its gRPC server inside the Shutdown handler, so the
            // answer may never come; Terraform ignores it too.
            let answered =
                tokio::time::timeout(Duration::from_secs(2), unary(&send, "/plugin.GRPCController/Shutdown")).await;
            let shutdown_ms = start.elapsed().as_secs_f64() * 1e3;
            // Then close the connection, as go-plugin's client does right after Shutdown: with
            // every request handle gone, the HTTP/2 connection sends GOAWAY and closes cleanly.
            // (Dropping it mid-flight instead leaves the datamesh server waiting out its 2 s
            // graceful-stop timeout in about one stop in four.)
            drop(send);
            if tokio::time::timeout(Duration::from_millis(500), &mut conn_task).await.is_err() {
                conn_task.abort();
            }
            let answered = matches!(answered, Ok(Ok(_)));
            Ok::<_, String>((handshake_ms, schema_ms, shutdown_ms, answered, vmhwm, schema.len()))
        })
    })();
    let (usage, killed) = wait_with_rusage(pid, Duration::from_secs(10))?;
    let total_ms = start.elapsed().as_secs_f64() * 1e3;
    let (handshake_ms, schema_ms, shutdown_ms, shutdown_answered, vmhwm_kb, schema_bytes) = result?;
    if killed {
        return Err(format!("{} did not exit within 10 s of Shutdown", target.name));
    }
    let ms = |tv: libc::timeval| tv.tv_sec as f64 * 1e3 + tv.tv_usec as f64 / 1e3;
    Ok(Sample {
        handshake_ms,
        schema_ms,
        total_ms,
        shutdown_ms,
        shutdown_answered,
        vmhwm_kb,
        maxrss_kb: usage.ru_maxrss as u64,
        utime_ms: ms(usage.ru_utime),
        stime_ms: ms(usage.ru_stime),
        schema_bytes,
    })
}

/// `runs` launches of each target, interleaved (A B A B ...) after one discarded warm-up each,
/// so page cache and CPU frequency treat both alike. Prints a JSON object per target.
pub fn run(targets: &[Target], runs: usize) -> Result<serde_json::Value, String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let mut samples: Vec<Vec<serde_json::Value>> = vec![Vec::new(); targets.len()];
    for t in targets {
        run_once(&rt, t).map_err(|e| format!("{} (warm-up): {e}", t.name))?;
    }
    for i in 0..runs {
        for (t, out) in targets.iter().zip(samples.iter_mut()) {
            let s = run_once(&rt, t).map_err(|e| format!("{} (run {}): {e}", t.name, i + 1))?;
            out.push(s.to_json());
        }
    }
    let mut result = serde_json::Map::new();
    for (t, s) in targets.iter().zip(samples) {
        result.insert(
            t.name.clone(),
            json!({ "binary": t.binary.display().to_string(), "protocol": t.protocol, "runs": s }),
        );
    }
    Ok(serde_json::Value::Object(result))
}
