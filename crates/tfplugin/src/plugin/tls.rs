//! AutoMTLS as go-plugin does it: Terraform hands us its client certificate in
//! `PLUGIN_CLIENT_CERT`; we answer with a fresh self-signed server certificate in the handshake
//! line, and accept only connections that present exactly Terraform's certificate.

use std::sync::Arc;

use base64::Engine;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{CertificateError, DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use tokio_rustls::TlsAcceptor;

/// The server side of AutoMTLS for one plugin process.
pub(crate) struct AutoMtls {
    server_cert: CertificateDer<'static>,
    acceptor: TlsAcceptor,
}

impl AutoMtls {
    /// Builds the TLS server from the client certificate PEM Terraform passed in.
    /// `organization` names the plugin in the certificate's subject.
    pub(crate) fn new(client_cert_pem: &str, organization: &str) -> Result<Self, String> {
        let client_cert = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
            .map_err(|e| format!("PLUGIN_CLIENT_CERT is not a PEM certificate: {e}"))?;
        let (server_cert, key) = self_signed_server_cert(organization)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = Arc::new(PinnedClientCert { expected: client_cert, provider: provider.clone() });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup failed: {e}"))?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![server_cert.clone()], key)
            .map_err(|e| format!("TLS setup failed: {e}"))?;
        // grpc-go clients insist on ALPN h2 over TLS.
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Self { server_cert, acceptor: TlsAcceptor::from(Arc::new(config)) })
    }

    /// The acceptor that wraps each accepted connection.
    pub(crate) fn acceptor(&self) -> TlsAcceptor {
        self.acceptor.clone()
    }

    /// The server certificate as go-plugin expects it in the handshake: base64 DER, no padding.
    pub(crate) fn server_cert_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(self.server_cert.as_ref())
    }
}

/// A certificate for `localhost`, as the go-plugin client verifies the server name against it.
fn self_signed_server_cert(organization: &str) -> Result<(CertificateDer<'static>, PrivateKeyDer<'static>), String> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
    let fail = |e: rcgen::Error| format!("cannot generate the plugin's TLS certificate: {e}");
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail)?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).map_err(fail)?;
    params.distinguished_name.push(DnType::CommonName, "localhost");
    params.distinguished_name.push(DnType::OrganizationName, organization);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages =
        vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment, KeyUsagePurpose::KeyCertSign];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
    let now = std::time::SystemTime::now();
    params.not_before = (now - std::time::Duration::from_secs(30)).into();
    params.not_after = (now + std::time::Duration::from_secs(60 * 60 * 24 * 30)).into();
    let cert = params.self_signed(&key).map_err(fail)?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((cert.der().clone(), key_der))
}

/// Accepts exactly the client certificate Terraform announced, and checks the peer holds its key.
#[derive(Debug)]
struct PinnedClientCert {
    expected: CertificateDer<'static>,
    provider: Arc<CryptoProvider>,
}

impl ClientCertVerifier for PinnedClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_certificate_is_unpadded_base64_der() {
        let (client, _) = self_signed_server_cert("test").unwrap();
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(client.as_ref())
        );
        let mtls = AutoMtls::new(&pem, "test").unwrap();
        let b64 = mtls.server_cert_base64();
        assert!(!b64.ends_with('='));
        let der = base64::engine::general_purpose::STANDARD_NO_PAD.decode(b64).unwrap();
        assert_eq!(der, mtls.server_cert.as_ref());
    }

    #[test]
    fn garbage_client_certificate_is_a_clear_error() {
        let err = AutoMtls::new("not a certificate", "test").err().unwrap();
        assert!(err.contains("PLUGIN_CLIENT_CERT"), "{err}");
    }
}
