//! One client connection's socket and framing: an `i32` size prefix, then the request.
//!
//! Sizes are checked before anything is allocated: zero, negative and over
//! `socket.request.max.bytes` are refused. When the refused prefix reads as the start of an
//! HTTP request or a TLS ClientHello, the error says so, because that is what a user pointing
//! the wrong tool at the port needs to hear. A clean EOF between frames is `Ok(None)`, not an
//! error; EOF inside a frame is.

use std::io;
use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;

/// The read side of a connection: a TCP half, or a TLS stream's.
type Reader = Box<dyn AsyncRead + Send + Unpin>;
/// The write side.
type Writer = Box<dyn AsyncWrite + Send + Unpin>;

/// Read buffer growth step; frames larger than this get exactly the room they need.
const READ_CHUNK: usize = 64 * 1024;

/// Why a connection's byte stream could not be read as Kafka frames.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameError {
    #[error("client at {peer} sent HTTP to the Kafka port (request starts with {start:?})")]
    Http { peer: SocketAddr, start: String },
    #[error("client at {peer} started a TLS handshake on the plaintext Kafka port")]
    Tls { peer: SocketAddr },
    #[error(
        "client at {peer} sent a frame size of {size} bytes (allowed: 1 to {max}, socket.request.max.bytes)"
    )]
    BadSize {
        peer: SocketAddr,
        size: i32,
        max: usize,
    },
    #[error("client at {peer} closed the connection inside a frame ({buffered} bytes buffered)")]
    Truncated { peer: SocketAddr, buffered: usize },
    #[error("I/O error on connection from {peer}: {source}")]
    Io { peer: SocketAddr, source: io::Error },
}

/// Tells a Kafka size prefix from the first bytes of another protocol.
fn sniff(prefix: &[u8; 4], peer: SocketAddr) -> Option<FrameError> {
    const HTTP: [&[u8; 4]; 9] = [
        b"GET ", b"POST", b"PUT ", b"HEAD", b"HTTP", b"DELE", b"OPTI", b"PATC", b"CONN",
    ];
    if HTTP.contains(&prefix) {
        return Some(FrameError::Http {
            peer,
            start: String::from_utf8_lossy(prefix).into_owned(),
        });
    }
    // TLS record: handshake (0x16), version 3.x.
    if prefix[0] == 0x16 && prefix[1] == 0x03 && prefix[2] <= 0x04 {
        return Some(FrameError::Tls { peer });
    }
    None
}

/// A client connection: read half with its buffer, buffered write half.
pub(crate) struct Connection {
    reader: Reader,
    writer: BufWriter<Writer>,
    buffer: BytesMut,
    peer: SocketAddr,
    max_request_size: usize,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("peer", &self.peer)
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl Connection {
    /// A plaintext connection.
    pub(crate) fn new(stream: TcpStream, peer: SocketAddr, max_request_size: usize) -> Self {
        let (reader, writer) = stream.into_split();
        Connection::from_halves(Box::new(reader), Box::new(writer), peer, max_request_size)
    }

    /// A connection over any byte stream (a TLS session).
    pub(crate) fn over<S>(stream: S, peer: SocketAddr, max_request_size: usize) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
    {
        let (reader, writer) = tokio::io::split(stream);
        Connection::from_halves(Box::new(reader), Box::new(writer), peer, max_request_size)
    }

    fn from_halves(reader: Reader, writer: Writer, peer: SocketAddr, max: usize) -> Self {
        Connection {
            reader,
            writer: BufWriter::with_capacity(READ_CHUNK, writer),
            buffer: BytesMut::with_capacity(READ_CHUNK),
            peer,
            max_request_size: max,
        }
    }

    pub(crate) fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The size of the frame at the head of the buffer, once its prefix is there.
    fn frame_size(&self) -> Result<Option<usize>, FrameError> {
        let Some(prefix) = self.buffer.first_chunk::<4>() else {
            return Ok(None);
        };
        let size = i32::from_be_bytes(*prefix);
        if size <= 0 || size as usize > self.max_request_size {
            return Err(sniff(prefix, self.peer).unwrap_or(FrameError::BadSize {
                peer: self.peer,
                size,
                max: self.max_request_size,
            }));
        }
        Ok(Some(size as usize))
    }

    /// True when a whole frame is already buffered (so responses can wait to be flushed).
    pub(crate) fn has_buffered_frame(&self) -> bool {
        matches!(self.frame_size(), Ok(Some(n)) if self.buffer.len() >= 4 + n)
    }

    /// Reads the next request frame (without its size prefix). `Ok(None)` on clean EOF.
    pub(crate) async fn read_frame(&mut self) -> Result<Option<Bytes>, FrameError> {
        loop {
            if let Some(size) = self.frame_size()? {
                if self.buffer.len() >= 4 + size {
                    self.buffer.advance(4);
                    return Ok(Some(self.buffer.split_to(size).freeze()));
                }
                // Grow with the bytes that actually arrive (doubling, capped at what the frame
                // still needs): a size prefix alone never buys a large allocation.
                let needed = 4 + size - self.buffer.len();
                let step = needed.min(self.buffer.len().max(READ_CHUNK));
                if self.buffer.capacity() - self.buffer.len() < step {
                    self.buffer.reserve(step);
                }
            } else if self.buffer.capacity() - self.buffer.len() < 4096 {
                self.buffer.reserve(READ_CHUNK);
            }
            let n = self
                .reader
                .read_buf(&mut self.buffer)
                .await
                .map_err(|source| FrameError::Io {
                    peer: self.peer,
                    source,
                })?;
            if n == 0 {
                return if self.buffer.is_empty() {
                    Ok(None)
                } else {
                    Err(FrameError::Truncated {
                        peer: self.peer,
                        buffered: self.buffer.len(),
                    })
                };
            }
        }
    }

    /// Queues a response frame; it goes out on [`Connection::flush`] or when the buffer fills.
    pub(crate) async fn write(&mut self, frame: &[u8]) -> io::Result<()> {
        self.writer.write_all(frame).await
    }

    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        self.writer.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    async fn pair(max: usize) -> (Connection, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        (Connection::new(server, peer, max), client)
    }

    #[tokio::test]
    async fn frames_split_across_writes_and_clean_eof() {
        let (mut conn, mut client) = pair(1024).await;
        client.write_all(&[0, 0, 0, 3, b'a']).await.unwrap();
        client.write_all(b"bc").await.unwrap();
        client
            .write_all(&[0, 0, 0, 1, b'x', 0, 0, 0, 1, b'y'])
            .await
            .unwrap();
        assert_eq!(
            conn.read_frame().await.unwrap().unwrap(),
            Bytes::from_static(b"abc")
        );
        assert_eq!(
            conn.read_frame().await.unwrap().unwrap(),
            Bytes::from_static(b"x")
        );
        assert!(conn.has_buffered_frame());
        assert_eq!(
            conn.read_frame().await.unwrap().unwrap(),
            Bytes::from_static(b"y")
        );
        drop(client);
        assert!(conn.read_frame().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn large_declared_size_does_not_allocate_up_front() {
        let (mut conn, mut client) = pair(100 << 20).await;
        client
            .write_all(&(90i32 << 20).to_be_bytes())
            .await
            .unwrap();
        client.write_all(&[1, 2, 3]).await.unwrap();
        drop(client);
        assert!(matches!(
            conn.read_frame().await,
            Err(FrameError::Truncated { buffered: 7, .. })
        ));
        assert!(
            conn.buffer.capacity() < 1 << 20,
            "capacity {}",
            conn.buffer.capacity()
        );
    }

    #[tokio::test]
    async fn torn_frame_is_an_error() {
        let (mut conn, mut client) = pair(1024).await;
        client.write_all(&[0, 0, 0, 9, 1, 2]).await.unwrap();
        drop(client);
        assert!(matches!(
            conn.read_frame().await,
            Err(FrameError::Truncated { buffered: 6, .. })
        ));
    }

    #[tokio::test]
    async fn bad_sizes_http_and_tls_are_named() {
        for (bytes, want) in [
            (&b"GET / HTTP/1.1\r\n"[..], "sent HTTP"),
            (&[0x16, 0x03, 0x01, 0x02, 0x00][..], "TLS handshake"),
            (&[0, 0, 0, 0][..], "frame size of 0"),
            (&[0xff, 0xff, 0xff, 0xfe][..], "frame size of -2"),
            (&[0, 0, 4, 1][..], "frame size of 1025"),
        ] {
            let (mut conn, mut client) = pair(1024).await;
            client.write_all(bytes).await.unwrap();
            let err = conn.read_frame().await.unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
