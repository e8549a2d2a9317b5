//! SASL authentication of a new connection: SaslHandshake v1, then SaslAuthenticate
//! (KIP-152), before any other request.
//!
//! Not implemented: SaslHandshake v0 (raw tokens without Kafka framing, Kafka < 1.0),
//! re-authentication when the broker's session lifetime ends (KIP-368; such brokers close
//! the connection, and the pool opens and authenticates a new one), OAUTHBEARER, GSSAPI.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, SaslAuthenticateRequest, SaslHandshakeRequest};
use kafka_protocol::protocol::StrBytes;

use super::scram::{ScramClient, ScramHash};
use super::{SaslConfig, SaslMechanism};
use crate::connection::Connection;
use crate::error::{Error, KafkaCode};

/// Authenticates `conn` with `sasl`.
pub(crate) async fn authenticate(
    conn: &Connection,
    sasl: &SaslConfig,
    timeout: Duration,
) -> Result<(), Error> {
    let ctx = || {
        format!(
            "SASL {} as '{}' to {}",
            sasl.mechanism.name(),
            sasl.username,
            conn.broker()
        )
    };
    let hv = conn.version(ApiKey::SaslHandshake)?;
    if hv < 1 {
        return Err(Error::Config(format!(
            "{}: the broker only offers SaslHandshake v0 (Kafka < 1.0), which kt does not speak",
            ctx()
        )));
    }
    let mut hs = SaslHandshakeRequest::default();
    hs.mechanism = StrBytes::from_static_str(sasl.mechanism.name());
    let resp = conn.send(&hs, hv, timeout).await?;
    if resp.error_code != 0 {
        let offered: Vec<String> = resp.mechanisms.iter().map(|m| m.to_string()).collect();
        return Err(Error::kafka(
            resp.error_code,
            format!("{} (the broker offers {})", ctx(), offered.join(", ")),
        ));
    }
    let av = conn.version(ApiKey::SaslAuthenticate)?;
    let exchange = |bytes: Vec<u8>| async move {
        let mut req = SaslAuthenticateRequest::default();
        req.auth_bytes = Bytes::from(bytes);
        let resp = conn.send(&req, av, timeout).await?;
        if resp.error_code != 0 {
            let msg = resp.error_message.as_deref().unwrap_or("");
            return Err(Error::kafka(
                resp.error_code,
                if msg.is_empty() {
                    ctx()
                } else {
                    format!("{}: {msg}", ctx())
                },
            ));
        }
        Ok::<Bytes, Error>(resp.auth_bytes)
    };
    match sasl.mechanism {
        SaslMechanism::Plain => {
            // RFC 4616: authzid NUL authcid NUL password (no authzid).
            let mut token = Vec::with_capacity(sasl.username.len() + sasl.password.len() + 2);
            token.push(0);
            token.extend_from_slice(sasl.username.as_bytes());
            token.push(0);
            token.extend_from_slice(sasl.password.as_bytes());
            exchange(token).await?;
        }
        SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
            let hash = if sasl.mechanism == SaslMechanism::ScramSha256 {
                ScramHash::Sha256
            } else {
                ScramHash::Sha512
            };
            let mut scram = ScramClient::new(hash, &sasl.username, &sasl.password);
            let server_first = exchange(scram.client_first().into_bytes()).await?;
            let server_first = std::str::from_utf8(&server_first).map_err(|_| {
                Error::kafka(
                    KafkaCode::SaslAuthenticationFailed,
                    format!("{}: server-first-message is not UTF-8", ctx()),
                )
            })?;
            let client_final = scram
                .client_final(server_first)
                .map_err(|e| with_ctx(e, &ctx()))?;
            let server_final = exchange(client_final.into_bytes()).await?;
            let server_final = String::from_utf8_lossy(&server_final);
            scram
                .verify_server_final(&server_final)
                .map_err(|e| with_ctx(e, &ctx()))?;
        }
    }
    tracing::debug!(broker = %conn.broker(), mechanism = sasl.mechanism.name(), user = %sasl.username, "authenticated");
    Ok(())
}

fn with_ctx(e: Error, ctx: &str) -> Error {
    match e {
        Error::Kafka { code, context } => Error::Kafka {
            code,
            context: format!("{ctx}: {context}"),
        },
        other => other,
    }
}
