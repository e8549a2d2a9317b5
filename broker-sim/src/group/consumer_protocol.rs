//! The topics of a consumer-protocol subscription (the JoinGroup metadata of "consumer"
//! groups), read with checked lengths: the bytes come from a client and were relayed
//! unparsed, so they are never handed to a decoder that sizes allocations from their counts.
//!
//! ```text
//! Subscription => version:int16 topics:[string] user_data:nullable_bytes
//!                 (v1+ owned_partitions, v2+ generation_id, v3+ rack_id)
//! ```
//! Only the version and topic list are read; what follows is ignored.

/// The subscribed topic names; empty when the bytes are not a readable subscription.
pub(crate) fn subscription_topics(metadata: &[u8]) -> Vec<String> {
    read(metadata).unwrap_or_default()
}

fn read(b: &[u8]) -> Option<Vec<String>> {
    let version = i16::from_be_bytes(b.get(0..2)?.try_into().ok()?);
    if version < 0 {
        return None;
    }
    let count = i32::from_be_bytes(b.get(2..6)?.try_into().ok()?);
    let count = usize::try_from(count).ok()?;
    let mut pos = 6;
    // Each name takes at least its 2-byte length: a count the bytes cannot hold is refused
    // before anything is allocated.
    if count > (b.len() - pos) / 2 {
        return None;
    }
    let mut topics = Vec::with_capacity(count);
    for _ in 0..count {
        let len = i16::from_be_bytes(b.get(pos..pos + 2)?.try_into().ok()?);
        pos += 2;
        let len = usize::try_from(len).ok()?;
        let name = b.get(pos..pos + len)?;
        pos += len;
        topics.push(String::from_utf8_lossy(name).into_owned());
    }
    Some(topics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::messages::ConsumerProtocolSubscription;
    use kafka_protocol::protocol::{Encodable, StrBytes};

    #[test]
    fn reads_topics_of_every_version_and_refuses_garbage() {
        for v in 0i16..=3 {
            let s = ConsumerProtocolSubscription::default().with_topics(vec![
                StrBytes::from_static_str("a"),
                StrBytes::from_static_str("bb"),
            ]);
            let mut buf = BytesMut::new();
            buf.extend_from_slice(&v.to_be_bytes());
            s.encode(&mut buf, v).unwrap();
            assert_eq!(subscription_topics(&buf), vec!["a", "bb"], "v{v}");
        }
        assert!(subscription_topics(&[0, 0, 0x7f, 0xff, 0xff, 0xff]).is_empty());
        assert!(subscription_topics(&[0, 0, 0, 0, 0, 1, 0, 9, b'x']).is_empty());
        assert!(subscription_topics(&[]).is_empty());
    }
}
