//! The crate's public error type.
//!
//! Only failures a caller of [`crate::Broker::start`] can act on surface here; protocol errors
//! found while serving a client are answered on the wire (as Kafka error codes) or logged, never
//! returned to the embedding program.

use std::net::SocketAddr;

/// Why the broker could not start (or stopped abnormally).
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The listen address is taken. The CLI turns this into a hint to pick another port.
    #[error("port {} is in use — is another broker running? pick another with --listen", addr.port())]
    AddrInUse {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Binding the listener failed for another reason (permission, address not local, ...).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that could not be bound.
        addr: SocketAddr,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration value is out of range.
    #[error("invalid broker configuration: {0}")]
    Config(String),
    /// A topic operation through [`crate::BrokerHandle`] was refused (Kafka error code and message).
    #[error("topic {name}: {message} (Kafka error {code})")]
    Topic {
        /// The topic.
        name: String,
        /// The Kafka error code, e.g. 36 TOPIC_ALREADY_EXISTS.
        code: i16,
        /// Why.
        message: String,
    },
    /// The data directory could not be opened or recovered (locked by another broker, a
    /// corrupt file, no permission, ...). The message names the file.
    #[error("data directory: {0}")]
    Storage(String),
    /// The ACL file could not be read or parsed (the message names the file and line).
    #[error("ACL file {0}")]
    Acl(String),
    /// The TLS certificate or key could not be loaded (the message names the file).
    #[error("TLS: {0}")]
    Tls(String),
    /// Any other I/O failure of the listener.
    #[error("broker I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl BrokerError {
    /// True when the failure was that the listen port is already taken.
    pub fn is_addr_in_use(&self) -> bool {
        matches!(self, BrokerError::AddrInUse { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addr_in_use_message_names_port_and_hint() {
        let err = BrokerError::AddrInUse {
            addr: "127.0.0.1:9092".parse().unwrap(),
            source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
        };
        assert_eq!(
            err.to_string(),
            "port 9092 is in use — is another broker running? pick another with --listen"
        );
        assert!(err.is_addr_in_use());
    }
}
