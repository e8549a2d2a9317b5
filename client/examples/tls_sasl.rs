//! Connect over TLS and/or SASL, produce one record and read it back: the settings of
//! Kafka's `security.protocol` SSL, SASL_PLAINTEXT and SASL_SSL.
//!
//! ```text
//! # a broker with a TLS listener and SASL users (`user:password` lines)
//! kt broker --tls-cert server.pem --tls-key server.key --users users.txt &
//! KT_SASL_PASSWORD=wonderland cargo run -p kt-client --example tls_sasl -- \
//!     127.0.0.1:9092 ca.pem scram-sha-512 alice
//! ```
//!
//! Arguments: bootstrap servers, CA file (`system` for the operating system's roots,
//! `none` for plaintext), SASL mechanism (`plain`, `scram-sha-256`, `scram-sha-512` or
//! `none`), user name. The password comes from `KT_SASL_PASSWORD`, never the command line
//! (other users can read process arguments).

use std::path::PathBuf;
use std::time::Duration;

use kt_client::{
    Client, ClientConfig, ConsumerConfig, Error, KafkaCode, NewTopic, OffsetReset, ProducerConfig,
    ProducerRecord, SaslConfig, SaslMechanism, Security, TlsConfig, TopicPartition,
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let bootstrap = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
    let ca = args.next().unwrap_or_else(|| "none".into());
    let mechanism = args.next().unwrap_or_else(|| "none".into());
    let user = args.next().unwrap_or_default();
    let password = std::env::var("KT_SASL_PASSWORD").unwrap_or_default();

    let tls = match ca.as_str() {
        "none" => None,
        "system" => Some(TlsConfig::system_roots()),
        file => Some(TlsConfig::with_ca_file(PathBuf::from(file))),
    };
    let mechanism = match mechanism.as_str() {
        "none" => None,
        "plain" => Some(SaslMechanism::Plain),
        "scram-sha-256" => Some(SaslMechanism::ScramSha256),
        "scram-sha-512" => Some(SaslMechanism::ScramSha512),
        other => return Err(Error::Config(format!("unknown SASL mechanism '{other}'"))),
    };
    let sasl = mechanism.map(|m| SaslConfig::new(m, user, password));
    let value = round_trip(&bootstrap, Security { tls, sasl }, "kt-secure").await?;
    println!("read back {:?}", String::from_utf8_lossy(&value));
    Ok(())
}

/// Connects with `security`, writes one record to `topic` (created if missing) and reads
/// it back; returns its value.
pub(crate) async fn round_trip(
    bootstrap: &str,
    security: Security,
    topic: &str,
) -> Result<Vec<u8>, Error> {
    let mut config = ClientConfig::new(bootstrap);
    config.security = security;
    // Connecting runs the TLS handshake and SASL authentication: bad certificates and bad
    // passwords fail here (`Error::Tls`, SASL_AUTHENTICATION_FAILED).
    let client = Client::connect(config).await?;
    match client
        .admin()
        .create_topics(&[NewTopic::new(topic, 1, 1)])
        .await
    {
        Ok(()) => {}
        Err(e) if e.kafka_code() == Some(KafkaCode::TopicAlreadyExists) => {}
        Err(e) => return Err(e),
    }
    let producer = client.producer(ProducerConfig::default());
    let meta = producer
        .send(ProducerRecord::new(topic, "secret message"))
        .await?
        .await?;
    producer.close().await?;

    let mut consumer = client.consumer(ConsumerConfig {
        auto_offset_reset: OffsetReset::Earliest,
        ..Default::default()
    });
    consumer.assign(vec![TopicPartition::new(topic, meta.partition)])?;
    consumer.seek(&TopicPartition::new(topic, meta.partition), meta.offset)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if let Some(r) = consumer
            .poll(Duration::from_millis(500))
            .await?
            .into_iter()
            .next()
        {
            return Ok(r.value.map(|v| v.to_vec()).unwrap_or_default());
        }
    }
    Err(Error::Timeout(format!("reading {topic} back")))
}
