//! Produce v0–2 on the wire. `kafka-protocol` 0.18's Produce starts at v3, and these layouts
//! differ from v3 only by fields at the edges:
//! - request v0–2 = request v3 without the leading `transactional_id` (decoded as v3 after
//!   prefixing a null transactional id, into the crate's own `ProduceRequest`);
//! - response v2 = response v3; v1 lacks `log_append_time_ms`; v0 also lacks
//!   `throttle_time_ms` (written here, from the crate's own `ProduceResponse`).

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};

use crate::api::{RequestContext, check_shape, decode_at};
use crate::protocol;

pub(super) fn decode(ctx: &RequestContext, body: Bytes) -> Result<ProduceRequest, ResponseError> {
    check_shape(ctx, &body)?;
    let mut v3 = BytesMut::with_capacity(body.len() + 2);
    v3.put_i16(-1); // null transactional id
    v3.extend_from_slice(&body);
    decode_at(ctx, v3.freeze(), 3)
}

fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(super) fn encode(ctx: &RequestContext, response: &ProduceResponse) -> Bytes {
    let v = ctx.api_version;
    let mut body = BytesMut::new();
    body.put_i32(len_i32(response.responses.len()));
    for t in &response.responses {
        let name = t.name.0.as_bytes();
        body.put_i16(i16::try_from(name.len()).unwrap_or(i16::MAX));
        body.extend_from_slice(&name[..name.len().min(i16::MAX as usize)]);
        body.put_i32(len_i32(t.partition_responses.len()));
        for p in &t.partition_responses {
            body.put_i32(p.index);
            body.put_i16(p.error_code);
            body.put_i64(p.base_offset);
            if v >= 2 {
                body.put_i64(p.log_append_time_ms);
            }
        }
    }
    if v >= 1 {
        body.put_i32(response.throttle_time_ms);
    }
    protocol::encode_raw_response(ctx.correlation_id, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::produce::tests::{handle_now as handle, produce_req};
    use crate::api::test_util::ctx;
    use crate::log::batch::tests::build_batch;
    use crate::state::BrokerState;
    use kafka_protocol::messages::ApiKey;
    use kafka_protocol::protocol::Encodable;

    /// A v0–2 body: the v3 encoding minus its null transactional id.
    fn legacy_body(req: &ProduceRequest) -> Bytes {
        let mut buf = BytesMut::new();
        req.encode(&mut buf, 3).unwrap();
        assert_eq!(&buf[..2], &[0xff, 0xff]);
        buf.freeze().slice(2..)
    }

    #[test]
    fn v0_to_v2_round_trip() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        let batch = build_batch(&[(None, Some(b"a"), 1)]);
        for v in 0..=2 {
            let c = ctx(ApiKey::Produce, v);
            let req = decode(
                &c,
                legacy_body(&produce_req("t", vec![(0, batch.clone())], 1)),
            )
            .unwrap();
            let resp = handle(&s, &c, req).unwrap();
            let frame = encode(&c, &resp);
            // size, correlation id, then the body
            let body = &frame[8..];
            let expected_len =
                4 + 2 + 1 + 4 + 4 + 2 + 8 + if v >= 2 { 8 } else { 0 } + if v >= 1 { 4 } else { 0 };
            assert_eq!(body.len(), expected_len, "v{v}");
            // responses(4) name(2+1) partitions(4) index(4) | error(2) base offset(8)
            assert_eq!(&body[15..17], &[0, 0], "no error");
            assert_eq!(
                i64::from_be_bytes(body[17..25].try_into().unwrap()),
                i64::from(v),
                "base offset"
            );
            if v == 2 {
                // v2 is exactly the crate's v3 layout
                let mut v3 = BytesMut::new();
                resp.encode(&mut v3, 3).unwrap();
                assert_eq!(body, &v3[..]);
            }
        }
    }

    #[test]
    fn old_message_formats_are_refused_with_43() {
        let s = BrokerState::for_tests();
        s.get_or_auto_create("t").unwrap();
        // A magic-1 message set: offset, size, crc, magic 1, attributes, timestamp, key, value.
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
        msg.extend_from_slice(&0i64.to_be_bytes());
        msg.extend_from_slice(&(-1i32).to_be_bytes());
        msg.extend_from_slice(&1i32.to_be_bytes());
        msg.push(b'x');
        let size = (msg.len() - 12) as i32;
        msg[8..12].copy_from_slice(&size.to_be_bytes());
        let c = ctx(ApiKey::Produce, 2);
        let req = decode(
            &c,
            legacy_body(&produce_req("t", vec![(0, msg.clone())], 1)),
        )
        .unwrap();
        let resp = handle(&s, &c, req).unwrap();
        assert_eq!(resp.responses[0].partition_responses[0].error_code, 43);
        let resp = handle(
            &s,
            &ctx(ApiKey::Produce, 3),
            produce_req("t", vec![(0, msg)], 1),
        )
        .unwrap();
        assert_eq!(
            resp.responses[0].partition_responses[0].error_code,
            ResponseError::CorruptMessage.code()
        );
    }
}
