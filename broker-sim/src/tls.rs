//! The TLS listener (`--tls-cert`, `--tls-key`): rustls with the `ring` provider, TLS 1.2 and
//! 1.3, no client certificates. With TLS configured every node of the broker speaks only TLS
//! (Kafka's `SSL` listener; there is no second, plaintext listener).
//!
//! Files: `--tls-cert` is a PEM file with the server certificate first and any intermediate
//! certificates after it; `--tls-key` a PEM file with its private key (PKCS#8, PKCS#1 or SEC1).
//! Clients need the issuing CA (`ssl.ca.location` for librdkafka); the certificate must name
//! the host clients connect to (librdkafka checks it by default), e.g. `127.0.0.1` as an IP
//! subject alternative name.
//!
//! A client that sends a plaintext Kafka request to the TLS port is told apart from a broken
//! handshake by its first byte (a TLS record starts with 0x16) and the log says which.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::BrokerError;

/// Loads the certificate chain and key into a server configuration.
pub(crate) fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, BrokerError> {
    let tls_error = |what: String| BrokerError::Tls(what);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| tls_error(format!("cannot read {}: {e}", cert.display())))?
        .collect::<Result<_, _>>()
        .map_err(|e| tls_error(format!("{}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(tls_error(format!(
            "{}: no PEM certificate (-----BEGIN CERTIFICATE-----) found",
            cert.display()
        )));
    }
    let private_key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| tls_error(format!("{}: no usable PEM private key: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .map_err(|e| {
            tls_error(format!(
                "{} and {} do not make a usable certificate and key: {e}",
                cert.display(),
                key.display()
            ))
        })?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_mismatched_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        let e = server_config(&cert, &key).unwrap_err().to_string();
        assert!(e.contains("cert.pem"), "{e}");
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let other = rcgen::KeyPair::generate().unwrap();
        std::fs::write(&cert, ca.cert.pem()).unwrap();
        std::fs::write(&key, "not a key").unwrap();
        let e = server_config(&cert, &key).unwrap_err().to_string();
        assert!(e.contains("key.pem"), "{e}");
        std::fs::write(&key, other.serialize_pem()).unwrap();
        let e = server_config(&cert, &key).unwrap_err().to_string();
        assert!(e.contains("do not make a usable"), "{e}");
        std::fs::write(&key, ca.key_pair.serialize_pem()).unwrap();
        server_config(&cert, &key).unwrap();
    }
}
