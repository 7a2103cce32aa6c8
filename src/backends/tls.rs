//! The TLS client settings every backend that speaks TLS itself shares (the raw Kafka client,
//! WebHDFS, Cassandra): rustls with aws-lc, trusting `ca_cert_pem` alone when it is set (as
//! librdkafka's `ssl.ca.pem` does), else the Mozilla roots.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

/// A client configuration; the error is a sentence naming what is wrong with `ca_cert_pem`.
pub fn client_config(ca_cert_pem: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_cert_pem {
        Some(pem) => {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let cert = cert.map_err(|e| format!("ca_cert_pem is not valid PEM: {e}"))?;
                roots.add(cert).map_err(|e| format!("ca_cert_pem: {e}"))?;
            }
            if roots.is_empty() {
                return Err("ca_cert_pem holds no certificate".into());
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_that_is_not_pem_is_a_sentence_not_a_panic() {
        assert!(client_config(None).is_ok());
        assert!(client_config(Some("not a certificate")).unwrap_err().contains("no certificate"));
    }
}
