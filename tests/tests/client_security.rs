//! kt-client against kt-broker with SASL users (`kt broker --users`) and a TLS listener
//! whose certificate is made in the test (rcgen): SASL_PLAINTEXT with PLAIN and
//! SCRAM-SHA-256/512, SSL, and SASL_SSL; wrong passwords and untrusted certificates fail
//! with clear errors. Mutual TLS (client certificates) is tested in kt-client's own tests
//! against a rustls server: kt-broker does not ask for client certificates.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use kt_broker::{Broker, BrokerConfig, Users};
use kt_client::{
    Client, ClientConfig, Error, KafkaCode, NewTopic, ProducerConfig, ProducerRecord, SaslConfig,
    SaslMechanism, Security, TlsConfig, TrustRoots,
};

/// A self-signed certificate for 127.0.0.1/localhost, written to `dir`; returns its PEM.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server.key");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path, cert.pem())
}

async fn broker(
    users: bool,
    tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
) -> kt_broker::BrokerHandle {
    let mut config = BrokerConfig::for_tests();
    if users {
        config.users = Some(Arc::new(
            Users::parse("alice:wonderland\nbob:builder\n").unwrap(),
        ));
    }
    if let Some((cert, key)) = tls {
        config.tls_cert = Some(cert);
        config.tls_key = Some(key);
    }
    Broker::start(config).await.unwrap()
}

fn config(bootstrap: String, security: Security) -> ClientConfig {
    let mut c = ClientConfig::new(bootstrap);
    c.request_timeout = Duration::from_secs(5);
    c.connect_timeout = Duration::from_secs(5);
    c.security = security;
    c
}

async fn produce_one(client: &Client, topic: &str) {
    client
        .admin()
        .create_topics(&[NewTopic::new(topic, 1, 1)])
        .await
        .unwrap();
    let p = client.producer(ProducerConfig::default());
    let md = p
        .send(ProducerRecord::new(topic, "hello"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(md.offset, 0);
    p.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plaintext_with_every_mechanism() {
    let broker = broker(true, None).await;
    for (i, mechanism) in [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ]
    .into_iter()
    .enumerate()
    {
        let client = Client::connect(config(
            broker.bootstrap(),
            Security {
                tls: None,
                sasl: Some(SaslConfig::new(mechanism, "alice", "wonderland")),
            },
        ))
        .await
        .unwrap();
        produce_one(&client, &format!("sasl-{i}")).await;
        let e = Client::connect(config(
            broker.bootstrap(),
            Security {
                tls: None,
                sasl: Some(SaslConfig::new(mechanism, "alice", "queen")),
            },
        ))
        .await
        .unwrap_err();
        assert_eq!(
            e.kafka_code(),
            Some(KafkaCode::SaslAuthenticationFailed),
            "{e}"
        );
        assert!(!e.to_string().contains("queen"), "{e}");
    }
    // No credentials: the broker serves nothing but ApiVersions and SASL.
    let anonymous = Client::connect(config(broker.bootstrap(), Security::default())).await;
    let e = anonymous.expect_err("a client without credentials must be refused");
    assert!(matches!(e, Error::ConnectionClosed { .. }), "{e:?}");
    broker.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_and_sasl_ssl() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = certificate(dir.path());
    let tls = TlsConfig::with_ca_file(&cert);
    // SSL: TLS only, no SASL layer.
    let plain_tls = broker(false, Some((cert.clone(), key.clone()))).await;
    let client = Client::connect(config(
        plain_tls.bootstrap(),
        Security {
            tls: Some(tls.clone()),
            sasl: None,
        },
    ))
    .await
    .unwrap();
    produce_one(&client, "ssl").await;
    // A plaintext client at a TLS port fails at once (the broker's TLS alert, when it
    // arrives before the reset, is named as such), it does not wait for a timeout.
    let e = Client::connect(config(plain_tls.bootstrap(), Security::default()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Protocol(_) | Error::Io { .. } | Error::ConnectionClosed { .. }
        ),
        "{e:?}"
    );
    plain_tls.shutdown().await;
    // SASL_SSL.
    let broker = broker(true, Some((cert.clone(), key))).await;
    let client = Client::connect(config(
        broker.bootstrap(),
        Security {
            tls: Some(tls.clone()),
            sasl: Some(SaslConfig::new(
                SaslMechanism::ScramSha256,
                "bob",
                "builder",
            )),
        },
    ))
    .await
    .unwrap();
    produce_one(&client, "sasl-ssl").await;
    // TLS without SASL credentials is refused by the SASL layer.
    let e = Client::connect(config(
        broker.bootstrap(),
        Security {
            tls: Some(TlsConfig {
                roots: TrustRoots::Pem(pem.into_bytes()),
                ..tls
            }),
            sasl: None,
        },
    ))
    .await;
    let e = e.expect_err("TLS without SASL credentials must be refused");
    assert!(matches!(e, Error::ConnectionClosed { .. }), "{e:?}");
    // A client that does not trust the certificate fails the handshake.
    let e = Client::connect(config(
        broker.bootstrap(),
        Security {
            tls: Some(TlsConfig {
                roots: TrustRoots::Mozilla,
                client_cert: None,
                server_name: None,
            }),
            sasl: Some(SaslConfig::new(
                SaslMechanism::ScramSha256,
                "bob",
                "builder",
            )),
        },
    ))
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    broker.shutdown().await;
}
