//! TLS against an in-test rustls server with certificates made by `rcgen`, and SASL
//! (PLAIN, SCRAM-SHA-256/512) against the fake broker's SASL server, alone and over TLS.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{ClientCert, PemSource, SaslConfig, SaslMechanism, Security, TlsConfig, TrustRoots};
use crate::error::{Error, KafkaCode};
use crate::testing::{FakeBroker, Listener, sasl_server::Users};
use crate::types::ProducerRecord;
use crate::{Client, ClientConfig, ProducerConfig};

/// A CA and a leaf certificate it signed.
struct Pki {
    ca_pem: String,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        Pki {
            ca_pem: ca.pem(),
            ca,
            ca_key,
        }
    }

    /// `(certificate PEM, key PEM)` for `names`.
    fn leaf(&self, names: &[&str]) -> (String, String) {
        let params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

fn certs(pem: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A TLS acceptor for `localhost`/127.0.0.1, optionally requiring client certificates
/// signed by `client_ca`.
fn acceptor(pki: &Pki, client_ca: Option<&Pki>) -> tokio_rustls::TlsAcceptor {
    let (cert, key) = pki.leaf(&["localhost", "127.0.0.1"]);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certs(&ca.ca_pem) {
                roots.add(c).unwrap();
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(
            certs(&cert),
            PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
        )
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

fn config(b: &FakeBroker, security: Security) -> ClientConfig {
    let mut c = ClientConfig::new(b.addr.clone());
    c.request_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(5);
    c.security = security;
    c
}

/// Produces one record and reads the broker's metadata back: the connection works.
async fn round_trip(client: &Client) {
    let p = client.producer(ProducerConfig::default());
    let md = p
        .send(ProducerRecord::new("t", "secret"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(md.offset, 0);
    p.close().await.unwrap();
}

fn tls_trusting(pki: &Pki) -> TlsConfig {
    TlsConfig {
        roots: TrustRoots::Pem(pki.ca_pem.clone().into_bytes()),
        client_cert: None,
        server_name: None,
    }
}

#[tokio::test]
async fn tls_with_a_ca_file_works_and_an_unknown_ca_is_refused() {
    let pki = Pki::new("kt test CA");
    let b = FakeBroker::start_with(Listener {
        tls: Some(acceptor(&pki, None)),
        sasl: None,
    })
    .await;
    b.state.create_topic("t", 1);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let client = Client::connect(config(
        &b,
        Security {
            tls: Some(TlsConfig::with_ca_file(&ca_file)),
            sasl: None,
        },
    ))
    .await
    .unwrap();
    round_trip(&client).await;

    let other = Pki::new("someone else");
    let e = Client::connect(config(
        &b,
        Security {
            tls: Some(tls_trusting(&other)),
            sasl: None,
        },
    ))
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    assert!(e.to_string().contains("certificate"), "{e}");

    // The wrong name is refused too.
    let e = Client::connect(config(
        &b,
        Security {
            tls: Some(TlsConfig {
                server_name: Some("elsewhere.example".into()),
                ..tls_trusting(&pki)
            }),
            sasl: None,
        },
    ))
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
}

#[tokio::test]
async fn tls_client_against_a_plaintext_port_fails_clearly() {
    let pki = Pki::new("ca");
    let b = FakeBroker::start().await;
    let mut cfg = config(
        &b,
        Security {
            tls: Some(tls_trusting(&pki)),
            sasl: None,
        },
    );
    cfg.connect_timeout = Duration::from_secs(1);
    let e = Client::connect(cfg).await.unwrap_err();
    assert!(matches!(e, Error::Tls { .. } | Error::Timeout(_)), "{e:?}");
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate() {
    let server_pki = Pki::new("server CA");
    let client_pki = Pki::new("client CA");
    let b = FakeBroker::start_with(Listener {
        tls: Some(acceptor(&server_pki, Some(&client_pki))),
        sasl: None,
    })
    .await;
    b.state.create_topic("t", 1);
    let without = Client::connect(config(
        &b,
        Security {
            tls: Some(tls_trusting(&server_pki)),
            sasl: None,
        },
    ))
    .await;
    assert!(
        without.is_err(),
        "a client without a certificate is refused"
    );
    let (cert, key) = client_pki.leaf(&["kt-client"]);
    let client = Client::connect(config(
        &b,
        Security {
            tls: Some(TlsConfig {
                client_cert: Some(ClientCert {
                    cert_chain: PemSource::Bytes(cert.into_bytes()),
                    key: PemSource::Bytes(key.into_bytes()),
                }),
                ..tls_trusting(&server_pki)
            }),
            sasl: None,
        },
    ))
    .await
    .unwrap();
    round_trip(&client).await;
}

fn users() -> Users {
    Users {
        passwords: HashMap::from([("alice".to_owned(), "wonderland".to_owned())]),
        mechanisms: vec!["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
    }
}

#[tokio::test]
async fn sasl_plain_and_scram_authenticate_and_wrong_passwords_fail() {
    let b = FakeBroker::start_with(Listener {
        tls: None,
        sasl: Some(users()),
    })
    .await;
    b.state.create_topic("t", 1);
    for mechanism in [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ] {
        let good = Security {
            tls: None,
            sasl: Some(SaslConfig::new(mechanism, "alice", "wonderland")),
        };
        let client = Client::connect(config(&b, good)).await.unwrap();
        client.partitions_for("t").await.unwrap();

        let bad = Security {
            tls: None,
            sasl: Some(SaslConfig::new(mechanism, "alice", "looking-glass")),
        };
        let e = Client::connect(config(&b, bad)).await.unwrap_err();
        assert_eq!(
            e.kafka_code(),
            Some(KafkaCode::SaslAuthenticationFailed),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains("alice") && text.contains(mechanism.name()),
            "{text}"
        );
        assert!(
            !text.contains("looking-glass"),
            "the password never shows: {text}"
        );
    }
    // Nothing but ApiVersions and SASL before authenticating: a plain client is cut off.
    let plain = Client::connect(config(&b, Security::default())).await;
    assert!(plain.is_err());
}

#[tokio::test]
async fn an_unoffered_mechanism_names_the_offered_ones() {
    let b = FakeBroker::start_with(Listener {
        tls: None,
        sasl: Some(Users {
            mechanisms: vec!["SCRAM-SHA-512"],
            ..users()
        }),
    })
    .await;
    let e = Client::connect(config(
        &b,
        Security {
            tls: None,
            sasl: Some(SaslConfig::new(SaslMechanism::Plain, "alice", "wonderland")),
        },
    ))
    .await
    .unwrap_err();
    assert_eq!(e.kafka_code(), Some(KafkaCode::UnsupportedSaslMechanism));
    assert!(e.to_string().contains("SCRAM-SHA-512"), "{e}");
}

#[tokio::test]
async fn sasl_ssl_scram_over_tls() {
    let pki = Pki::new("ca");
    let b = FakeBroker::start_with(Listener {
        tls: Some(acceptor(&pki, None)),
        sasl: Some(users()),
    })
    .await;
    b.state.create_topic("t", 1);
    let client = Client::connect(config(
        &b,
        Security {
            tls: Some(tls_trusting(&pki)),
            sasl: Some(SaslConfig::new(
                SaslMechanism::ScramSha256,
                "alice",
                "wonderland",
            )),
        },
    ))
    .await
    .unwrap();
    round_trip(&client).await;
    assert!(
        client.metrics().connections_opened >= 2,
        "control + produce"
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let s = Security {
        tls: Some(TlsConfig {
            client_cert: Some(ClientCert {
                cert_chain: PemSource::Bytes(b"cert".to_vec()),
                key: PemSource::Bytes(b"PRIVATE KEY BYTES".to_vec()),
            }),
            ..TlsConfig::system_roots()
        }),
        sasl: Some(SaslConfig::new(SaslMechanism::Plain, "bob", "hunter2")),
    };
    let text = format!("{s:?}");
    assert!(
        !text.contains("hunter2") && !text.contains("PRIVATE KEY"),
        "{text}"
    );
    assert!(text.contains("bob"));
    assert_eq!(
        "scram-sha-512".parse::<SaslMechanism>().unwrap(),
        SaslMechanism::ScramSha512
    );
    assert!("GSSAPI".parse::<SaslMechanism>().is_err());
}

#[test]
fn bad_pem_is_a_config_error() {
    let e = super::build_connector(&TlsConfig {
        roots: TrustRoots::Pem(b"not pem".to_vec()),
        client_cert: None,
        server_name: None,
    })
    .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    let e = super::build_connector(&TlsConfig::with_ca_file("/nonexistent/ca.pem")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    // Mozilla's roots always load.
    super::build_connector(&TlsConfig {
        roots: TrustRoots::Mozilla,
        client_cert: None,
        server_name: None,
    })
    .unwrap();
}
