//! Security settings: TLS (rustls) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512).
//!
//! Kafka's four listener kinds map to [`Security`] like this:
//!
//! | `security.protocol` | `tls` | `sasl` |
//! |---|---|---|
//! | PLAINTEXT | `None` | `None` |
//! | SSL | `Some` | `None` |
//! | SASL_PLAINTEXT | `None` | `Some` |
//! | SASL_SSL | `Some` | `Some` |
//!
//! * `tls.rs` builds the rustls client configuration (CA file, system roots or Mozilla's
//!   roots; an optional client certificate for mutual TLS).
//! * `sasl.rs` runs SaslHandshake v1 + SaslAuthenticate on a new connection, after
//!   ApiVersions and before any other request (KIP-152); `scram.rs` is RFC 5802 / RFC 7677.
//!
//! Passwords never appear in `Debug` output or error messages.

mod sasl;
pub(crate) mod scram;
mod tls;

use std::path::PathBuf;
use std::sync::Arc;

pub(crate) use sasl::authenticate;
pub(crate) use tls::{TlsConnector, build_connector};

/// TLS and SASL settings for every connection of a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Security {
    /// Encrypt connections (`security.protocol=SSL` / `SASL_SSL`).
    pub tls: Option<TlsConfig>,
    /// Authenticate connections (`SASL_PLAINTEXT` / `SASL_SSL`).
    pub sasl: Option<SaslConfig>,
}

/// How to verify the brokers (and optionally present a client certificate).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// Which certificate authorities to trust (`ssl.ca.location`).
    pub roots: TrustRoots,
    /// A client certificate chain and its private key, both PEM (`ssl.certificate.location`,
    /// `ssl.key.location`), for brokers that require mutual TLS.
    pub client_cert: Option<ClientCert>,
    /// The name to verify the broker's certificate against, instead of the host of its
    /// address (for brokers reached through an IP or a tunnel).
    pub server_name: Option<String>,
}

impl TlsConfig {
    /// Trust the CAs in a PEM file.
    pub fn with_ca_file(path: impl Into<PathBuf>) -> Self {
        TlsConfig {
            roots: TrustRoots::PemFile(path.into()),
            client_cert: None,
            server_name: None,
        }
    }

    /// Trust the operating system's certificate store.
    pub fn system_roots() -> Self {
        TlsConfig {
            roots: TrustRoots::System,
            client_cert: None,
            server_name: None,
        }
    }
}

/// Certificate authorities to trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustRoots {
    /// The operating system's store (`rustls-native-certs`).
    System,
    /// Mozilla's root list compiled into the binary (`webpki-roots`).
    Mozilla,
    /// The certificates of a PEM file.
    PemFile(PathBuf),
    /// PEM text held in memory.
    Pem(Vec<u8>),
}

/// A client certificate for mutual TLS.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// PEM certificate chain (leaf first).
    pub cert_chain: PemSource,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PemSource,
}

impl std::fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCert")
            .field("cert_chain", &self.cert_chain)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Where PEM bytes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PemSource {
    /// A file.
    File(PathBuf),
    /// Bytes in memory.
    Bytes(Vec<u8>),
}

impl PemSource {
    pub(crate) fn read(&self) -> Result<Vec<u8>, crate::Error> {
        match self {
            PemSource::Bytes(b) => Ok(b.clone()),
            PemSource::File(p) => std::fs::read(p)
                .map_err(|e| crate::Error::Config(format!("cannot read {}: {e}", p.display()))),
        }
    }
}

/// A SASL mechanism (`sasl.mechanism`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN` (RFC 4616): the password travels as is; use it only over TLS.
    Plain,
    /// `SCRAM-SHA-256` (RFC 5802 / 7677): the password never travels.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
}

impl SaslMechanism {
    /// The mechanism's name in SaslHandshake.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

impl std::str::FromStr for SaslMechanism {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        match s.to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(SaslMechanism::Plain),
            "SCRAM-SHA-256" => Ok(SaslMechanism::ScramSha256),
            "SCRAM-SHA-512" => Ok(SaslMechanism::ScramSha512),
            other => Err(crate::Error::Config(format!(
                "unknown SASL mechanism '{other}' (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)"
            ))),
        }
    }
}

/// SASL credentials (`sasl.username`, `sasl.password`).
#[derive(Clone, PartialEq, Eq)]
pub struct SaslConfig {
    /// The mechanism.
    pub mechanism: SaslMechanism,
    /// The user name.
    pub username: String,
    /// The password (never printed).
    pub password: String,
}

impl SaslConfig {
    /// Credentials for `mechanism`.
    pub fn new(
        mechanism: SaslMechanism,
        username: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        SaslConfig {
            mechanism,
            username: username.into(),
            password: password.into(),
        }
    }
}

impl std::fmt::Debug for SaslConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslConfig")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// What a connection needs at connect time, built once per client.
#[derive(Clone, Debug, Default)]
pub(crate) struct Prepared {
    pub(crate) tls: Option<Arc<TlsConnector>>,
    pub(crate) sasl: Option<SaslConfig>,
}

impl Security {
    /// Validates the settings and loads certificates and keys.
    pub(crate) fn prepare(&self) -> Result<Prepared, crate::Error> {
        Ok(Prepared {
            tls: self
                .tls
                .as_ref()
                .map(build_connector)
                .transpose()?
                .map(Arc::new),
            sasl: self.sasl.clone(),
        })
    }
}

#[cfg(test)]
mod tests;
