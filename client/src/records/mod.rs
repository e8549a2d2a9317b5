//! kt's own record batch v2 codec.
//!
//! A deliberate choice over `kafka_protocol::records`: its decoder reserves capacity from the
//! record count read off the wire, keeps headers in a map (Kafka allows duplicate header
//! keys), and decodes into owned structs on the hot path. This codec is bounded (counts are
//! checked against the bytes that would hold them), keeps headers as an ordered list, and
//! slices keys and values out of the fetched buffer without copying.
//!
//! Only magic v2 (Kafka 0.11+) is supported; older message formats get a clear error.

mod batch;
mod decode;
pub(crate) mod varint;

pub use batch::{
    ATTR_CONTROL, ATTR_LOG_APPEND_TIME, ATTR_TRANSACTIONAL, BATCH_HEADER_LEN, BatchBuilder,
    MAGIC_OFFSET, Record, RecordBatch, restamp,
};
pub use decode::{RecordSet, decode_batch, decode_record_set};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Compression;
    use bytes::Bytes;
    use proptest::prelude::*;

    const LIMIT: usize = 16 << 20;

    fn sample(codec: Compression) -> Bytes {
        let mut b = BatchBuilder::new(codec);
        b.append(1000, Some(b"k1"), Some(b"v1"), &[]).unwrap();
        b.append(
            1005,
            None,
            Some(b"v2"),
            &[
                ("h".into(), Some(Bytes::from_static(b"a"))),
                ("h".into(), None),
            ],
        )
        .unwrap();
        b.append(999, Some(b""), None, &[]).unwrap();
        b.build(40).unwrap()
    }

    #[test]
    fn decodes_what_it_encodes() {
        for codec in [
            Compression::None,
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let batch = decode_batch(sample(codec), LIMIT).unwrap();
            assert_eq!(batch.compression(), codec);
            assert_eq!(batch.base_offset, 40);
            assert_eq!(batch.last_offset(), 42);
            assert_eq!(batch.max_timestamp, 1005);
            let r = &batch.records;
            assert_eq!(r.len(), 3);
            assert_eq!((r[0].offset, r[0].timestamp), (40, 1000));
            assert_eq!(r[0].key.as_deref(), Some(&b"k1"[..]));
            assert_eq!(r[1].key, None);
            assert_eq!(
                r[1].headers,
                vec![
                    ("h".into(), Some(Bytes::from_static(b"a"))),
                    ("h".into(), None)
                ]
            );
            assert_eq!((r[2].offset, r[2].timestamp), (42, 999));
            assert_eq!(r[2].key.as_deref(), Some(&b""[..]));
            assert_eq!(r[2].value, None);
        }
    }

    #[test]
    fn known_bytes_of_a_single_record_batch() {
        // One record, key null, value "a", ts 0: checks field order against the spec.
        let mut b = BatchBuilder::new(Compression::None);
        b.append(0, None, Some(b"a"), &[]).unwrap();
        let bytes = b.build(0).unwrap();
        let record = &bytes[BATCH_HEADER_LEN..];
        // len=7 (zig-zag 0x0e), attrs=0, tsDelta=0, offDelta=0, keyLen=-1, valueLen=1, 'a', headers=0
        assert_eq!(record, &[0x0e, 0, 0, 0, 0x01, 0x02, b'a', 0]);
        assert_eq!(bytes[16], 2);
        assert_eq!(&bytes[57..61], &1i32.to_be_bytes());
    }

    #[test]
    fn finish_writes_the_same_bytes_as_build() {
        for codec in [Compression::None, Compression::Gzip, Compression::Lz4] {
            let mut b = BatchBuilder::with_capacity(codec, 1 << 20);
            for i in 0..100u8 {
                b.append(1000 + i64::from(i), None, Some(&[i; 40]), &[])
                    .unwrap();
            }
            let built = b.build(7).unwrap();
            assert_eq!(b.clone().finish(7).unwrap(), built, "{codec:?}");
            assert_eq!(decode_batch(built, LIMIT).unwrap().records.len(), 100);
        }
        assert!(BatchBuilder::new(Compression::None).finish(0).is_err());
    }

    #[test]
    fn restamped_batches_carry_the_new_producer_and_a_valid_crc() {
        let b = sample(Compression::Lz4);
        let r = restamp(&b, 42, 3, 17).unwrap();
        let d = decode_batch(r, LIMIT).unwrap();
        assert_eq!(
            (d.producer_id, d.producer_epoch, d.base_sequence),
            (42, 3, 17)
        );
        assert_eq!(d.records.len(), 3);
        assert!(restamp(&Bytes::from_static(b"short"), 1, 1, 1).is_err());
    }

    #[test]
    fn crc_mismatch_is_detected() {
        let mut raw = sample(Compression::None).to_vec();
        let last = raw.len() - 1;
        raw[last] ^= 0xff;
        let e = decode_batch(Bytes::from(raw), LIMIT).unwrap_err();
        assert!(e.to_string().contains("CRC"), "{e}");
    }

    #[test]
    fn old_magic_is_named() {
        let mut raw = sample(Compression::None).to_vec();
        raw[MAGIC_OFFSET] = 1;
        let e = decode_batch(Bytes::from(raw), LIMIT).unwrap_err();
        assert!(e.to_string().contains("message format v1"), "{e}");
    }

    #[test]
    fn truncated_tail_is_not_an_error() {
        let a = sample(Compression::None);
        let b = sample(Compression::Lz4);
        let mut joined = a.to_vec();
        joined.extend_from_slice(&b[..b.len() - 3]);
        let set = decode_record_set(&Bytes::from(joined), LIMIT).unwrap();
        assert_eq!(set.batches.len(), 1);
        assert!(set.truncated);
        let mut joined = a.to_vec();
        joined.extend_from_slice(&b[..7]);
        let set = decode_record_set(&Bytes::from(joined), LIMIT).unwrap();
        assert_eq!(set.batches.len(), 1);
        assert!(set.truncated);
    }

    #[test]
    fn control_batches_name_their_marker() {
        let mut b = BatchBuilder::new(Compression::None).with_attribute_bits(ATTR_CONTROL);
        b.append(5, Some(&[0, 0, 0, 0]), Some(&[0, 0, 0, 0, 0, 0]), &[])
            .unwrap();
        let batch = decode_batch(b.build(7).unwrap(), LIMIT).unwrap();
        assert!(batch.is_control());
        assert_eq!(batch.control_type(), Some(0), "an ABORT marker");
        assert_eq!(batch.last_offset(), 7);
    }

    #[test]
    fn log_append_time_uses_max_timestamp() {
        let mut b = BatchBuilder::new(Compression::None).with_attribute_bits(ATTR_LOG_APPEND_TIME);
        b.append(1, None, Some(b"x"), &[]).unwrap();
        b.append(9, None, Some(b"y"), &[]).unwrap();
        let batch = decode_batch(b.build(0).unwrap(), LIMIT).unwrap();
        assert!(batch.records.iter().all(|r| r.timestamp == 9));
    }

    #[test]
    fn huge_record_count_does_not_allocate() {
        let mut raw = sample(Compression::None).to_vec();
        raw[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        let crc = crc32c::crc32c(&raw[21..]);
        raw[17..21].copy_from_slice(&crc.to_be_bytes());
        let e = decode_batch(Bytes::from(raw), LIMIT).unwrap_err();
        assert!(e.to_string().contains("cannot fit"), "{e}");
    }

    #[test]
    fn uncompressed_values_are_slices_of_the_input() {
        let data = sample(Compression::None);
        let batch = decode_batch(data.clone(), LIMIT).unwrap();
        let v = batch.records[0].value.clone().unwrap();
        let start = data.as_ptr() as usize;
        let p = v.as_ptr() as usize;
        assert!(p >= start && p < start + data.len());
    }

    fn arb_bytes() -> impl Strategy<Value = Option<Bytes>> {
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64).prop_map(Bytes::from))
    }

    type Headers = Vec<(String, Option<Bytes>)>;

    fn arb_record() -> impl Strategy<Value = (i64, Option<Bytes>, Option<Bytes>, Headers)> {
        (
            -1_000_000i64..i64::MAX / 4,
            arb_bytes(),
            arb_bytes(),
            proptest::collection::vec(("[a-z\u{e9}]{0,6}", arb_bytes()), 0..4),
        )
    }

    proptest! {
        #[test]
        fn round_trip(records in proptest::collection::vec(arb_record(), 1..20),
                      codec in 0i16..5, base in 0i64..1 << 40) {
            let codec = Compression::from_attribute(codec).unwrap();
            let mut b = BatchBuilder::new(codec);
            for (ts, k, v, h) in &records {
                b.append(*ts, k.as_deref(), v.as_deref(), h).unwrap();
            }
            let batch = decode_batch(b.build(base).unwrap(), LIMIT).unwrap();
            prop_assert_eq!(batch.records.len(), records.len());
            for (i, (r, (ts, k, v, h))) in batch.records.iter().zip(&records).enumerate() {
                prop_assert_eq!(r.offset, base + i as i64);
                prop_assert_eq!(r.timestamp, *ts);
                prop_assert_eq!(&r.key, k);
                prop_assert_eq!(&r.value, v);
                prop_assert_eq!(&r.headers, h);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let data = Bytes::from(data);
            let _ = decode_record_set(&data, 1 << 16);
            let _ = decode_batch(data, 1 << 16);
        }

        #[test]
        fn corrupted_batches_never_panic(pos in 0usize..200, byte in any::<u8>(), codec in 0i16..5, fix_crc in any::<bool>()) {
            let codec = Compression::from_attribute(codec).unwrap();
            let mut raw = sample(codec).to_vec();
            let pos = pos % raw.len();
            raw[pos] = byte;
            if fix_crc && raw.len() > 21 {
                let crc = crc32c::crc32c(&raw[21..]);
                raw[17..21].copy_from_slice(&crc.to_be_bytes());
            }
            let data = Bytes::from(raw);
            let _ = decode_record_set(&data, 1 << 16);
        }
    }
}
