//! Kafka framing: a big-endian i32 size, then that many bytes.
//!
//! Sizes are checked before anything is allocated: negative sizes and sizes over the limit
//! are errors, and a size that spells "HTTP" or a TLS record header gets a diagnosis instead
//! of a 1 GiB allocation.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Encodable, StrBytes};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::Error;

/// Reads one frame; `Ok(None)` on a clean end of stream before a new frame starts.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    max: usize,
    broker: &str,
) -> Result<Option<Bytes>, Error> {
    let mut size = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        let n = match reader.read(&mut size[filled..]).await {
            Ok(n) => n,
            // rustls reports a peer that closed without a TLS close_notify as UnexpectedEof;
            // between frames that is a plain close (Kafka brokers close that way).
            Err(e) if filled == 0 && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(Error::ConnectionClosed {
                    broker: broker.to_owned(),
                    reason: "closed by the broker (without a TLS close_notify)".into(),
                });
            }
            Err(e) => return Err(io_err(broker, e)),
        };
        if n == 0 {
            if filled == 0 {
                return Ok(None);
            }
            return Err(Error::ConnectionClosed {
                broker: broker.to_owned(),
                reason: "connection closed in the middle of a frame size".into(),
            });
        }
        filled += n;
    }
    let len = frame_len(size, max, broker)?;
    let mut buf = BytesMut::zeroed(len);
    reader.read_exact(&mut buf).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::ConnectionClosed {
                broker: broker.to_owned(),
                reason: format!("connection closed in the middle of a {len}-byte frame"),
            }
        } else {
            io_err(broker, e)
        }
    })?;
    Ok(Some(buf.freeze()))
}

/// Validates a frame size prefix.
pub(crate) fn frame_len(size: [u8; 4], max: usize, broker: &str) -> Result<usize, Error> {
    if &size == b"HTTP" {
        return Err(Error::Protocol(format!(
            "{broker} answered with HTTP; this is not a Kafka port"
        )));
    }
    if size[0] == 0x15 && size[1] == 0x03 {
        return Err(Error::Protocol(format!(
            "{broker} answered with a TLS alert; it expects TLS (set ClientConfig::security.tls)"
        )));
    }
    let len = i32::from_be_bytes(size);
    let len = usize::try_from(len)
        .map_err(|_| Error::Protocol(format!("{broker} sent a negative frame size {len}")))?;
    if len > max {
        return Err(Error::Protocol(format!(
            "{broker} sent a {len}-byte frame, over the {max}-byte limit (max_response_size)"
        )));
    }
    if len < 4 {
        return Err(Error::Protocol(format!(
            "{broker} sent a {len}-byte frame, too short for a correlation id"
        )));
    }
    Ok(len)
}

fn io_err(broker: &str, e: std::io::Error) -> Error {
    Error::Io {
        broker: broker.to_owned(),
        source: std::sync::Arc::new(e),
    }
}

/// Encodes `[size][request header][body]` for `api_key` at `version`.
pub(crate) fn encode_request<B: Encodable>(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    client_id: &StrBytes,
    body: &B,
) -> Result<Bytes, Error> {
    let mut header = RequestHeader::default();
    header.request_api_key = api_key as i16;
    header.request_api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = Some(client_id.clone());
    let header_version = api_key.request_header_version(version);
    let enc = |e: &dyn std::fmt::Display| Error::Encode(format!("{api_key:?} v{version}: {e}"));
    let size = header.compute_size(header_version).map_err(|e| enc(&e))?
        + body.compute_size(version).map_err(|e| enc(&e))?;
    let size_i32 = i32::try_from(size)
        .map_err(|_| Error::Encode(format!("{api_key:?} request of {size} bytes is too large")))?;
    let mut buf = BytesMut::with_capacity(4 + size);
    buf.put_i32(size_i32);
    header
        .encode(&mut buf, header_version)
        .map_err(|e| enc(&e))?;
    body.encode(&mut buf, version).map_err(|e| enc(&e))?;
    if buf.len() != 4 + size {
        return Err(Error::Encode(format!(
            "{api_key:?} v{version}: computed {size} bytes but encoded {}",
            buf.len() - 4
        )));
    }
    Ok(buf.freeze())
}

/// Skips a response header's tagged fields (response header v1); `body` starts after the
/// correlation id.
pub(crate) fn skip_tagged_fields(body: &mut Bytes) -> Result<(), Error> {
    let count = read_uvarint(body)?;
    for _ in 0..count {
        let _tag = read_uvarint(body)?;
        let len = read_uvarint(body)? as usize;
        if len > body.remaining() {
            return Err(Error::Protocol(
                "response header tagged field overruns frame".into(),
            ));
        }
        body.advance(len);
    }
    Ok(())
}

fn read_uvarint(b: &mut Bytes) -> Result<u32, Error> {
    let mut v: u32 = 0;
    for i in 0..5 {
        if !b.has_remaining() {
            return Err(Error::Protocol(
                "truncated varint in response header".into(),
            ));
        }
        let byte = b.get_u8();
        v |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(Error::Protocol("varint too long in response header".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_are_bounded_and_diagnosed() {
        assert!(
            frame_len(*b"HTTP", 100, "b")
                .unwrap_err()
                .to_string()
                .contains("HTTP")
        );
        assert!(
            frame_len([0x15, 0x03, 0x03, 0], 100, "b")
                .unwrap_err()
                .to_string()
                .contains("TLS")
        );
        assert!(frame_len((-5i32).to_be_bytes(), 100, "b").is_err());
        assert!(frame_len(101i32.to_be_bytes(), 100, "b").is_err());
        assert_eq!(frame_len(100i32.to_be_bytes(), 100, "b").unwrap(), 100);

        let mut clean: &[u8] = &[];
        assert!(read_frame(&mut clean, 100, "b").await.unwrap().is_none());
        let mut torn: &[u8] = &[0, 0, 0, 8, 1, 2];
        assert!(matches!(
            read_frame(&mut torn, 100, "b").await,
            Err(Error::ConnectionClosed { .. })
        ));
        // A TLS peer that closes without close_notify, between frames: a plain close.
        struct NoCloseNotify;
        impl AsyncRead for NoCloseNotify {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Err(std::io::ErrorKind::UnexpectedEof.into()))
            }
        }
        assert!(matches!(
            read_frame(&mut NoCloseNotify, 100, "b").await,
            Err(Error::ConnectionClosed { .. })
        ));
        let mut ok: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 7];
        assert_eq!(
            &read_frame(&mut ok, 100, "b").await.unwrap().unwrap()[..],
            &[0, 0, 0, 7]
        );
    }

    #[test]
    fn tagged_fields_are_skipped() {
        let mut b = Bytes::from_static(&[2, 0, 1, 9, 5, 2, 7, 7, 42]);
        skip_tagged_fields(&mut b).unwrap();
        assert_eq!(&b[..], &[42]);
        let mut bad = Bytes::from_static(&[1, 0, 9, 1]);
        assert!(skip_tagged_fields(&mut bad).is_err());
    }
}
