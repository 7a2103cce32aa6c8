//! AutoMTLS: started as Terraform starts it, the plugin serves only the client that presents
//! the certificate Terraform announced in `PLUGIN_CLIENT_CERT`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::support::provider_binary;

/// A client identity: certificate and key, like the one Terraform makes per run.
struct Identity {
    cert_pem: String,
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn identity() -> Identity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    Identity {
        cert_pem: cert.pem(),
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin's client does.
#[derive(Debug)]
struct Pinned(CertificateDer<'static>, Arc<rustls::crypto::CryptoProvider>);

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
            Err(rustls::Error::General("unexpected server certificate".into()))
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

/// The plugin, started with `announced` as Terraform's client certificate.
struct Plugin {
    child: Child,
    socket: String,
    server_cert: CertificateDer<'static>,
}

impl Plugin {
    fn start(announced: &Identity) -> Self {
        let mut child = Command::new(provider_binary())
            .env("TF_PLUGIN_MAGIC_COOKIE", "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2")
            .env("PLUGIN_PROTOCOL_VERSIONS", "6")
            .env("PLUGIN_CLIENT_CERT", &announced.cert_pem)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let parts: Vec<&str> = line.trim().split('|').collect();
        assert_eq!(&parts[..3], ["1", "6", "unix"], "handshake line: {line}");
        assert_eq!(parts[4], "grpc");
        let der =
            base64::engine::general_purpose::STANDARD_NO_PAD.decode(parts[5]).expect("unpadded base64 certificate");
        Self { child, socket: parts[3].to_string(), server_cert: CertificateDer::from(der) }
    }

    /// Connects over TLS as `client` (or without a certificate) and asks the health service.
    async fn health(&self, client: Option<&Identity>) -> Result<i32, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinned(self.server_cert.clone(), provider)));
        let mut config = match client {
            Some(id) => builder.with_client_auth_cert(vec![id.cert.clone()], id.key.clone_key()).unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let socket = self.socket.clone();
        let channel = tonic::transport::Endpoint::from_static("http://plugin")
            .connect_with_connector(tower::service_fn(move |_| {
                let (connector, socket) = (connector.clone(), socket.clone());
                async move {
                    let stream = tokio::net::UnixStream::connect(socket).await?;
                    let tls = connector.connect(ServerName::try_from("localhost").unwrap(), stream).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
                }
            }))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest { service: "plugin".into() })
            .await
            .map_err(|e| format!("health: {e}"))?;
        Ok(answer.into_inner().status)
    }
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn only_the_announced_client_certificate_is_served() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let terraform = identity();
    let plugin = Plugin::start(&terraform);

    let served = rt.block_on(plugin.health(Some(&terraform)));
    assert_eq!(served, Ok(tonic_health::pb::health_check_response::ServingStatus::Serving as i32));

    let stranger = identity();
    assert!(rt.block_on(plugin.health(Some(&stranger))).is_err(), "another certificate is refused");
    assert!(rt.block_on(plugin.health(None)).is_err(), "a client without a certificate is refused");
    assert_eq!(rt.block_on(plugin.health(Some(&terraform))), served, "and the right one is still served");
}
