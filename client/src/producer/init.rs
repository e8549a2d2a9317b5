//! InitProducerId for an idempotent (non-transactional) producer.

use kafka_protocol::messages::{ApiKey, InitProducerIdRequest, ProducerId as WireProducerId};

use super::idempotence::ProducerId;
use crate::cluster::Cluster;
use crate::error::{Error, KafkaCode};

/// Asks any broker for a new producer id. Java sends the same request for an idempotent
/// producer: no transactional id, the largest transaction timeout, and (v3+) no previous id.
///
/// `Err(Error::UnsupportedVersion)` means the broker has no InitProducerId (no idempotence).
pub(crate) async fn init_producer_id(cluster: &Cluster) -> Result<ProducerId, Error> {
    let conn = cluster.any_connection().await?;
    let v = conn.version(ApiKey::InitProducerId)?;
    let mut req = InitProducerIdRequest::default();
    req.transactional_id = None;
    req.transaction_timeout_ms = i32::MAX;
    if v >= 3 {
        req.producer_id = WireProducerId(-1);
        req.producer_epoch = -1;
    }
    let resp = conn.send(&req, v, cluster.request_timeout()).await?;
    if resp.error_code != 0 {
        return Err(Error::kafka(
            resp.error_code,
            format!("InitProducerId from {}", conn.broker()),
        ));
    }
    if resp.producer_id.0 < 0 || resp.producer_epoch < 0 {
        return Err(Error::kafka(
            KafkaCode::InvalidProducerIdMapping,
            format!(
                "InitProducerId from {} returned id {} epoch {}",
                conn.broker(),
                resp.producer_id.0,
                resp.producer_epoch
            ),
        ));
    }
    Ok(ProducerId {
        id: resp.producer_id.0,
        epoch: resp.producer_epoch,
    })
}
