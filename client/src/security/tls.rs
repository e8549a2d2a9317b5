//! The rustls client configuration.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use super::{TlsConfig, TrustRoots};
use crate::error::Error;

/// A ready TLS connector and the name override.
pub(crate) struct TlsConnector {
    pub(crate) connector: tokio_rustls::TlsConnector,
    pub(crate) server_name: Option<String>,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// The name to verify for a broker at `host`.
    pub(crate) fn server_name(&self, host: &str) -> Result<ServerName<'static>, Error> {
        let name = self.server_name.as_deref().unwrap_or(host);
        ServerName::try_from(name.to_owned())
            .map_err(|e| Error::Config(format!("'{name}' is not a valid TLS server name: {e}")))
    }
}

fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Config(format!("{what}: not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Config(format!("{what}: no certificate found")));
    }
    Ok(certs)
}

fn roots(config: &TrustRoots) -> Result<RootCertStore, Error> {
    let mut store = RootCertStore::empty();
    match config {
        TrustRoots::Mozilla => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        TrustRoots::System => {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(error = %e, "skipping an unreadable system certificate");
            }
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(Error::Config(
                    "no usable certificate in the system trust store (use a CA file or Mozilla's roots)".into(),
                ));
            }
        }
        TrustRoots::PemFile(path) => {
            let pem = std::fs::read(path).map_err(|e| {
                Error::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            for c in certs_from_pem(&pem, &format!("CA file {}", path.display()))? {
                store
                    .add(c)
                    .map_err(|e| Error::Config(format!("CA file {}: {e}", path.display())))?;
            }
        }
        TrustRoots::Pem(pem) => {
            for c in certs_from_pem(pem, "CA PEM")? {
                store
                    .add(c)
                    .map_err(|e| Error::Config(format!("CA PEM: {e}")))?;
            }
        }
    }
    Ok(store)
}

/// Builds the connector for `config`.
pub(crate) fn build_connector(config: &TlsConfig) -> Result<TlsConnector, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots(&config.roots)?);
    let tls = match &config.client_cert {
        None => builder.with_no_client_auth(),
        Some(cc) => {
            let chain = certs_from_pem(&cc.cert_chain.read()?, "client certificate")?;
            let key = PrivateKeyDer::from_pem_slice(&cc.key.read()?)
                .map_err(|e| Error::Config(format!("client key: not a PEM private key: {e}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| Error::Config(format!("client certificate: {e}")))?
        }
    };
    Ok(TlsConnector {
        connector: tokio_rustls::TlsConnector::from(Arc::new(tls)),
        server_name: config.server_name.clone(),
    })
}
