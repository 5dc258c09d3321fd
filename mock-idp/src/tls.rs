//! TLS for the IdP: a certificate authority (generated per instance, or a fixed one from
//! PEM files so clients can trust it once) and a leaf certificate for the IdP's host names.
//!
//! Clients trust the CA, never the leaf: export it with [`crate::MockIdp::ca_pem`] (or the
//! CLI's `--tls` banner, which writes it to a file) and add it to the client's roots.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Where the CA comes from.
#[derive(Clone, Debug)]
pub(crate) enum CaSource {
    /// A fresh CA for this instance.
    Generate,
    /// A fixed CA (certificate and private key, PEM).
    Pem {
        /// CA certificate, PEM.
        cert: String,
        /// CA private key, PEM (PKCS#8).
        key: String,
    },
}

/// A ready TLS configuration and the CA clients must trust.
pub(crate) struct TlsMaterial {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The server configuration for the listener.
    pub server_config: Arc<rustls::ServerConfig>,
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Certificate generation failed.
    #[error("could not create the TLS certificates: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// rustls refused the material.
    #[error("rustls refused the certificate: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Installs the process-wide rustls crypto provider (aws-lc-rs) if none is installed yet.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A fresh CA, as PEM certificate and PEM private key (to share one CA between several
/// instances, e.g. `mock-idp serve --provider all --tls`).
pub fn generate_ca() -> Result<(String, String), TlsError> {
    let (key, _, pem) = fresh_ca()?;
    Ok((pem, key.serialize_pem()))
}

/// A fresh CA: its key, its parameters (to sign leaves with) and its certificate as PEM.
fn fresh_ca() -> Result<(KeyPair, CertificateParams, String), TlsError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, "gatecheck mock-idp CA");
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key)?;
    Ok((key, params, cert.pem()))
}

/// Creates the CA (or loads it) and a leaf for `hosts` (DNS names or IP addresses).
pub(crate) fn build(source: &CaSource, hosts: &[String]) -> Result<TlsMaterial, TlsError> {
    install_crypto_provider();
    let (ca_pem, ca_key, ca_params) = match source {
        CaSource::Generate => {
            let (key, params, pem) = fresh_ca()?;
            (pem, key, Some(params))
        }
        CaSource::Pem { cert, key } => (cert.clone(), KeyPair::from_pem(key)?, None),
    };
    let issuer = match ca_params {
        Some(params) => Issuer::new(params, ca_key),
        None => Issuer::from_ca_cert_pem(&ca_pem, ca_key)?,
    };
    let leaf_key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(hosts.to_vec())?;
    leaf.distinguished_name.push(
        DnType::CommonName,
        hosts.first().cloned().unwrap_or_else(|| "localhost".into()),
    );
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;
    let chain = vec![CertificateDer::from(leaf_cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsMaterial {
        ca_pem,
        server_config: Arc::new(config),
    })
}
