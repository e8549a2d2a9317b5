//! Request header decoding with explicit length checks, and response framing.
//!
//! The header is decoded here rather than with `kafka_protocol`'s
//! `decode_request_header_from_buffer`, which reads the api key and version with unchecked
//! `get_i16` and panics on a frame shorter than 4 bytes.
//!
//! Request header v0: api_key, api_version, correlation_id. v1 adds client_id (a nullable
//! *non-compact* string, even in flexible versions). v2 adds tagged fields.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use kafka_protocol::protocol::{Encodable, HeaderVersion};

use super::varint::read_uvarint;

/// The decoded request header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHeader {
    pub(crate) api_key: i16,
    pub(crate) api_version: i16,
    pub(crate) correlation_id: i32,
    /// The client id, or empty when absent or null.
    pub(crate) client_id: String,
}

/// Why a header could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Fewer than the 8 bytes every header version starts with; there is no correlation id to
    /// answer with, so the connection is closed.
    #[error("request of {0} bytes is too short to hold a request header (8 bytes)")]
    TooShort(usize),
    /// The fixed part was readable, the rest was not.
    #[error(
        "malformed request header (api key {api_key} v{api_version}, correlation id {correlation_id}): {reason}"
    )]
    Malformed {
        api_key: i16,
        api_version: i16,
        correlation_id: i32,
        reason: &'static str,
    },
}

fn i16_at(frame: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([frame[at], frame[at + 1]])
}

/// Splits a request frame (without its size prefix) into header and body.
///
/// For an api key this crate does not know, the header is read as v1 (client id, no tagged
/// fields): only the correlation id matters, to answer with an error.
pub(crate) fn decode_request_header(frame: &Bytes) -> Result<(RequestHeader, Bytes), HeaderError> {
    if frame.len() < 8 {
        return Err(HeaderError::TooShort(frame.len()));
    }
    let api_key = i16_at(frame, 0);
    let api_version = i16_at(frame, 2);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let malformed = |reason| HeaderError::Malformed {
        api_key,
        api_version,
        correlation_id,
        reason,
    };
    let header_version = match ApiKey::try_from(api_key) {
        Ok(key) if api_version >= 0 => key.request_header_version(api_version),
        _ => 1,
    };
    let mut pos = 8;
    let mut client_id = String::new();
    if header_version >= 1 {
        if frame.len() < pos + 2 {
            return Err(malformed("client id length missing"));
        }
        let len = i16_at(frame, pos);
        pos += 2;
        if len >= 0 {
            let len = len as usize;
            let raw = frame
                .get(pos..pos + len)
                .ok_or_else(|| malformed("client id truncated"))?;
            client_id = String::from_utf8_lossy(raw).into_owned();
            pos += len;
        } else if len != -1 {
            return Err(malformed("negative client id length"));
        }
    }
    if header_version >= 2 {
        let (count, used) =
            read_uvarint(&frame[pos..]).ok_or_else(|| malformed("bad tagged field count"))?;
        pos += used;
        for _ in 0..count {
            let (_tag, used) =
                read_uvarint(&frame[pos..]).ok_or_else(|| malformed("bad tagged field tag"))?;
            pos += used;
            let (size, used) =
                read_uvarint(&frame[pos..]).ok_or_else(|| malformed("bad tagged field size"))?;
            pos += used;
            let size = size as usize;
            if frame.len() - pos < size {
                return Err(malformed("tagged field truncated"));
            }
            pos += size;
        }
    }
    let header = RequestHeader {
        api_key,
        api_version,
        correlation_id,
        client_id,
    };
    Ok((header, frame.slice(pos..)))
}

/// Encodes a full response frame: size prefix, response header, body.
///
/// The response header version comes from the response type (`ApiVersionsResponse` is always
/// header v0, per KIP-511, even in flexible versions).
pub(crate) fn encode_response<R: Encodable + HeaderVersion>(
    correlation_id: i32,
    version: i16,
    response: &R,
) -> Result<Bytes, EncodeError> {
    let header_version = R::header_version(version);
    let body_len = response
        .compute_size(version)
        .map_err(|e| EncodeError(e.to_string()))?;
    let header_len = if header_version >= 1 { 5 } else { 4 };
    let total = header_len + body_len;
    let size = i32::try_from(total).map_err(|_| EncodeError("response too large".to_owned()))?;
    let mut buf = BytesMut::with_capacity(4 + total);
    buf.put_i32(size);
    buf.put_i32(correlation_id);
    if header_version >= 1 {
        buf.put_u8(0); // no tagged fields in the response header
    }
    response
        .encode(&mut buf, version)
        .map_err(|e| EncodeError(e.to_string()))?;
    debug_assert_eq!(buf.len(), 4 + total);
    Ok(buf.freeze())
}

/// A response frame around a body encoded by hand (response header v0).
pub(crate) fn encode_raw_response(correlation_id: i32, body: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(8 + body.len());
    buf.put_i32(i32::try_from(4 + body.len()).unwrap_or(i32::MAX));
    buf.put_i32(correlation_id);
    buf.extend_from_slice(body);
    buf.freeze()
}

/// A minimal response: header v0 and a single int16 error code.
///
/// Used where no properly versioned response can be encoded (an api key or version the
/// `kafka-protocol` crate itself does not know).
pub(crate) fn encode_bare_error(correlation_id: i32, error_code: i16) -> Bytes {
    let mut buf = BytesMut::with_capacity(10);
    buf.put_i32(6);
    buf.put_i32(correlation_id);
    buf.put_i16(error_code);
    buf.freeze()
}

/// Encoding a response failed: always a bug in this broker (a field set that the negotiated
/// version cannot carry), never the client's fault.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode response: {0}")]
pub(crate) struct EncodeError(pub(crate) String);

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::RequestHeader as KpHeader;
    use kafka_protocol::protocol::StrBytes;

    fn encode_header(key: ApiKey, version: i16, client: Option<&'static str>) -> Bytes {
        let h = KpHeader::default()
            .with_request_api_key(key as i16)
            .with_request_api_version(version)
            .with_correlation_id(77)
            .with_client_id(client.map(StrBytes::from_static_str));
        let mut buf = BytesMut::new();
        h.encode(&mut buf, key.request_header_version(version))
            .unwrap();
        buf.extend_from_slice(b"BODY");
        buf.freeze()
    }

    #[test]
    fn decodes_every_header_version() {
        for (key, version) in [
            (ApiKey::Metadata, 1),
            (ApiKey::Metadata, 9),
            (ApiKey::ApiVersions, 3),
        ] {
            for client in [None, Some("kcat")] {
                let frame = encode_header(key, version, client);
                let (h, body) = decode_request_header(&frame).unwrap();
                assert_eq!(h.api_key, key as i16);
                assert_eq!(h.api_version, version);
                assert_eq!(h.correlation_id, 77);
                assert_eq!(h.client_id, client.unwrap_or(""));
                assert_eq!(&body[..], b"BODY");
            }
        }
    }

    #[test]
    fn short_and_truncated_headers_are_errors_not_panics() {
        for len in 0..8 {
            let frame = Bytes::from(vec![0u8; len]);
            assert_eq!(
                decode_request_header(&frame),
                Err(HeaderError::TooShort(len))
            );
        }
        // Metadata v1, client id claims 100 bytes but none follow.
        let frame = Bytes::from_static(&[0, 3, 0, 1, 0, 0, 0, 9, 0, 100]);
        assert!(matches!(
            decode_request_header(&frame),
            Err(HeaderError::Malformed {
                api_key: 3,
                correlation_id: 9,
                ..
            })
        ));
        // Metadata v9 (header v2): tagged field claims more bytes than remain.
        let frame = Bytes::from_static(&[0, 3, 0, 9, 0, 0, 0, 9, 0xff, 0xff, 1, 0, 50]);
        assert!(matches!(
            decode_request_header(&frame),
            Err(HeaderError::Malformed { .. })
        ));
    }

    #[test]
    fn bare_error_frame_layout() {
        let b = encode_bare_error(5, 35);
        assert_eq!(&b[..], &[0, 0, 0, 6, 0, 0, 0, 5, 0, 35]);
    }
}
