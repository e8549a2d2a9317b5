//! SASL authentication per connection: PLAIN and SCRAM-SHA-256/512, enabled by a users file
//! (`kt broker --users FILE`, [`Users`]). Without one, no authentication is asked for.
//!
//! With users configured, a connection must authenticate before anything but ApiVersions,
//! SaslHandshake and SaslAuthenticate: any other request first is logged and the connection
//! closed, as Kafka does. The flow (KIP-43, KIP-152):
//! 1. SaslHandshake names a mechanism (UNSUPPORTED_SASL_MECHANISM and the enabled list if it
//!    is not one of them).
//! 2. After a v0 handshake the client sends raw SASL tokens, each a size-prefixed frame
//!    without a Kafka header, answered the same way (old clients); after v1 the tokens travel
//!    in SaslAuthenticate requests.
//! 3. A failed login gets SASL_AUTHENTICATION_FAILED (SaslAuthenticate) and the connection is
//!    closed; the log names the user and mechanism, never the password.
//!
//! - `users.rs`: the users file and the credentials derived from it.
//! - `scram.rs`: the SCRAM server exchange (RFC 5802/7677).

pub(crate) mod scram;
mod users;

use std::sync::Arc;

pub use users::{Users, UsersError};

use scram::{Algorithm, ScramServer, Step};

/// Longest client-supplied name (user, mechanism) a log line carries, in characters.
const LOG_NAME_CHARS: usize = 64;

/// A name a client sent, made safe for a log line: control characters and quotes escaped (a
/// user name holding a newline cannot forge a log line), cut to [`LOG_NAME_CHARS`] characters
/// with the full length noted (a megabyte of user name does not become a megabyte of log).
pub(crate) fn for_log(name: &str) -> String {
    let mut out: String = name
        .chars()
        .take(LOG_NAME_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if name.chars().nth(LOG_NAME_CHARS).is_some() {
        out.push_str(&format!("...({} bytes)", name.len()));
    }
    out
}

/// Mechanisms offered when users are configured, in the order SaslHandshake lists them.
pub(crate) const MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

#[derive(Debug)]
enum Mechanism {
    Plain,
    Scram(ScramServer),
}

#[derive(Debug)]
enum State {
    /// No users configured: nothing to do.
    Open,
    /// Waiting for SaslHandshake.
    AwaitHandshake,
    /// Handshake done; tokens flow (raw frames after a v0 handshake).
    Exchange { mechanism: Mechanism, raw: bool },
    /// Authenticated as this principal (`User:<name>`).
    Authenticated(Arc<str>),
}

/// A token exchange step's result, for the API modules to answer with.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenResult {
    /// Send these bytes; more tokens are expected (or the exchange just completed).
    Reply(Vec<u8>),
    /// Authentication failed: answer with this message, then close.
    Failed(String),
    /// A token arrived when none was expected.
    IllegalState,
}

/// One connection's authentication state.
#[derive(Debug)]
pub(crate) struct Session {
    users: Option<Arc<Users>>,
    state: State,
    peer: String,
}

impl Session {
    pub(crate) fn new(users: Option<Arc<Users>>, peer: String) -> Self {
        let state = if users.is_some() {
            State::AwaitHandshake
        } else {
            State::Open
        };
        Session { users, state, peer }
    }

    /// True when SASL is configured for this broker.
    pub(crate) fn enabled(&self) -> bool {
        self.users.is_some()
    }

    /// True when requests other than the SASL ones may be served.
    pub(crate) fn may_serve(&self) -> bool {
        matches!(self.state, State::Open | State::Authenticated(_))
    }

    /// Who this connection acts as for ACLs: `User:<name>` once authenticated, else
    /// `User:ANONYMOUS` (Kafka's principal for unauthenticated connections).
    pub(crate) fn principal(&self) -> Arc<str> {
        match &self.state {
            State::Authenticated(p) => Arc::clone(p),
            _ => Arc::from(crate::api::ANONYMOUS),
        }
    }

    /// True when the next frame is a raw SASL token (after a v0 handshake).
    pub(crate) fn expects_raw_token(&self) -> bool {
        matches!(self.state, State::Exchange { raw: true, .. })
    }

    /// SaslHandshake: Ok when the mechanism is enabled and a handshake was expected.
    pub(crate) fn handshake(
        &mut self,
        mechanism: &str,
        version: i16,
    ) -> Result<(), HandshakeError> {
        if !self.enabled() || !matches!(self.state, State::AwaitHandshake) {
            return Err(HandshakeError::IllegalState);
        }
        let m = match mechanism {
            "PLAIN" => Mechanism::Plain,
            "SCRAM-SHA-256" => Mechanism::Scram(ScramServer::new(Algorithm::Sha256)),
            "SCRAM-SHA-512" => Mechanism::Scram(ScramServer::new(Algorithm::Sha512)),
            _ => {
                tracing::warn!(peer = %self.peer, mechanism = %for_log(mechanism), "SASL handshake for an unsupported mechanism; closing the connection");
                return Err(HandshakeError::Unsupported);
            }
        };
        self.state = State::Exchange {
            mechanism: m,
            raw: version == 0,
        };
        Ok(())
    }

    /// Feeds one client token (from SaslAuthenticate or a raw frame).
    pub(crate) fn token(&mut self, token: &[u8]) -> TokenResult {
        let Some(users) = self.users.clone() else {
            return TokenResult::IllegalState;
        };
        let State::Exchange { mechanism, .. } = &mut self.state else {
            return TokenResult::IllegalState;
        };
        let (name, outcome) = match mechanism {
            Mechanism::Plain => ("PLAIN", plain(&users, token)),
            Mechanism::Scram(s) => {
                // Named before the step consumes the exchange: client-final carries no user.
                let name = s.mechanism();
                let known_user = s.user().map(str::to_owned);
                match s.step(&users, token) {
                    Ok(Step::Continue(reply)) => return TokenResult::Reply(reply),
                    Ok(Step::Done { user, reply }) => (name, Ok((user, reply))),
                    Err(e) => {
                        let user = known_user.unwrap_or_else(|| scram_user(token));
                        (name, Err((user, e.to_string())))
                    }
                }
            }
        };
        match outcome {
            Ok((user, reply)) => {
                tracing::info!(peer = %self.peer, user = %for_log(&user), mechanism = name, "SASL authentication succeeded");
                self.state = State::Authenticated(Arc::from(format!("User:{user}")));
                TokenResult::Reply(reply)
            }
            Err((user, message)) => {
                tracing::warn!(peer = %self.peer, user = %for_log(&user), mechanism = name, "SASL authentication failed: {message}");
                self.state = State::AwaitHandshake;
                TokenResult::Failed(message)
            }
        }
    }
}

/// Why a SaslHandshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandshakeError {
    Unsupported,
    IllegalState,
}

/// The user name in a SCRAM client-first message, for the log (nothing else of it).
fn scram_user(token: &[u8]) -> String {
    std::str::from_utf8(token)
        .ok()
        .and_then(|t| t.split(',').find_map(|kv| kv.strip_prefix("n=")))
        .unwrap_or("?")
        .to_owned()
}

/// PLAIN (RFC 4616): `authzid NUL authcid NUL password`; authzid empty or equal to authcid.
fn plain(users: &Users, token: &[u8]) -> Result<(String, Vec<u8>), (String, String)> {
    let parts: Vec<&[u8]> = token.split(|b| *b == 0).collect();
    let [authzid, user, password] = parts.as_slice() else {
        return Err((
            "?".into(),
            "Invalid SASL/PLAIN response: expected 3 tokens".into(),
        ));
    };
    let user = String::from_utf8_lossy(user).into_owned();
    if !authzid.is_empty() && *authzid != user.as_bytes() {
        return Err((
            user,
            "Authentication failed: Client requested an authorization id that is different from username".into(),
        ));
    }
    if users.check_password(&user, password) {
        Ok((user, Vec::new()))
    } else {
        Err((
            user,
            "Authentication failed: Invalid username or password".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        Session::new(
            Some(Arc::new(Users::parse("alice:secret").unwrap())),
            "test".into(),
        )
    }

    #[test]
    fn plain_login_and_failures() {
        let mut s = session();
        assert!(!s.may_serve());
        assert_eq!(s.token(b"x"), TokenResult::IllegalState);
        assert_eq!(s.handshake("GSSAPI", 1), Err(HandshakeError::Unsupported));
        s.handshake("PLAIN", 1).unwrap();
        assert!(!s.expects_raw_token());
        assert!(matches!(s.token(b"\0alice\0wrong"), TokenResult::Failed(_)));
        assert!(!s.may_serve());
        s.handshake("PLAIN", 0).unwrap();
        assert!(s.expects_raw_token());
        assert_eq!(&*s.principal(), "User:ANONYMOUS");
        assert_eq!(s.token(b"alice\0alice\0secret"), TokenResult::Reply(vec![]));
        assert!(s.may_serve());
        assert_eq!(&*s.principal(), "User:alice");
        assert_eq!(s.handshake("PLAIN", 1), Err(HandshakeError::IllegalState));
        let mut s = session();
        s.handshake("PLAIN", 1).unwrap();
        assert!(matches!(
            s.token(b"bob\0alice\0secret"),
            TokenResult::Failed(_)
        ));
        let open = Session::new(None, "p".into());
        assert!(open.may_serve() && !open.enabled());
    }

    #[test]
    fn client_names_are_escaped_and_cut_for_the_log() {
        assert_eq!(for_log("alice"), "alice");
        assert_eq!(
            for_log("x\n2026-01-01 INFO forged\u{1b}[0m"),
            "x\\n2026-01-01 INFO forged\\u{1b}[0m"
        );
        let long = "é".repeat(100_000);
        let logged = for_log(&long);
        assert!(logged.starts_with(&"é".repeat(64)), "{logged}");
        assert!(logged.ends_with("...(200000 bytes)"), "{logged}");
        assert!(logged.len() < 200);
    }
}
