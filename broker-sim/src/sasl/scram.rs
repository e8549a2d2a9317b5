//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) on the server side.
//!
//! ```text
//! client-first  n,,n=USER,r=CNONCE                  (gs2 header "n,," or "y,,"; "p=" refused)
//! server-first  r=CNONCE+SNONCE,s=SALT,i=4096
//! client-final  c=biws,r=CNONCE+SNONCE,p=PROOF
//! server-final  v=SERVER_SIGNATURE
//! ```
//! SaltedPassword = PBKDF2-HMAC(password, salt, i); ClientKey = HMAC(SaltedPassword,
//! "Client Key"); StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword, "Server Key");
//! AuthMessage = client-first-bare "," server-first "," client-final-without-proof; the proof
//! is ClientKey XOR HMAC(StoredKey, AuthMessage), checked by hashing it back to StoredKey.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256, Sha512};

/// Kafka's minimum (and this broker's) PBKDF2 iteration count.
pub(crate) const ITERATIONS: u32 = 4096;

/// The hash a SCRAM mechanism uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub(crate) fn mechanism(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "SCRAM-SHA-256",
            Algorithm::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Algorithm::Sha256 => Sha256::digest(data).to_vec(),
            Algorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length: new_from_slice cannot fail for it.
        match self {
            Algorithm::Sha256 => <Hmac<Sha256> as Mac>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
            Algorithm::Sha512 => <Hmac<Sha512> as Mac>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
        }
    }

    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            Algorithm::Sha256 => {
                let mut out = vec![0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out
            }
            Algorithm::Sha512 => {
                let mut out = vec![0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out);
                out
            }
        }
    }
}

/// What the server stores per user and mechanism (RFC 5802 section 3).
#[derive(Clone)]
pub(crate) struct ScramCredential {
    algorithm: Algorithm,
    salt: Vec<u8>,
    iterations: u32,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl ScramCredential {
    /// Derives a credential from a password with a fresh random salt.
    pub(crate) fn derive(algorithm: Algorithm, password: &[u8]) -> Self {
        let mut salt = vec![0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        Self::derive_with(algorithm, password, salt, ITERATIONS)
    }

    fn derive_with(algorithm: Algorithm, password: &[u8], salt: Vec<u8>, iterations: u32) -> Self {
        let salted = algorithm.salted_password(password, &salt, iterations);
        let client_key = algorithm.hmac(&salted, b"Client Key");
        ScramCredential {
            algorithm,
            stored_key: algorithm.hash(&client_key),
            server_key: algorithm.hmac(&salted, b"Server Key"),
            salt,
            iterations,
        }
    }

    /// True when `password` derives this credential's StoredKey.
    pub(crate) fn matches_password(&self, password: &[u8]) -> bool {
        let again = Self::derive_with(self.algorithm, password, self.salt.clone(), self.iterations);
        constant_time_eq(&again.stored_key, &self.stored_key)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a SCRAM exchange failed; the message goes to the client and the log (never a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ScramError {
    #[error("Invalid SCRAM client message: {0}")]
    Malformed(&'static str),
    #[error("Authentication failed: Invalid user credentials")]
    BadCredentials,
}

/// Splits `a=value` attributes.
fn attributes(msg: &str) -> impl Iterator<Item = (char, &str)> {
    msg.split(',').filter_map(|kv| {
        let mut chars = kv.chars();
        let key = chars.next()?;
        kv.get(1..)?.strip_prefix('=').map(|v| (key, v))
    })
}

/// RFC 5802 saslname: "=2C" is ',' and "=3D" is '='; any other '=' is an error.
fn decode_saslname(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3)?;
        out.push(match code {
            "2C" => ',',
            "3D" => '=',
            _ => return None,
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Some(out)
}

/// One SCRAM exchange on the server side.
#[derive(Debug)]
pub(crate) enum ScramServer {
    /// Waiting for client-first.
    Start(Algorithm),
    /// server-first sent; waiting for client-final.
    SentFirst {
        user: String,
        nonce: String,
        gs2_header: String,
        auth_prefix: String,
        credential: Box<ScramCredentialRef>,
    },
    Done,
}

/// The pieces of a credential an exchange needs (owned, so the store can change meanwhile).
#[derive(Debug)]
pub(crate) struct ScramCredentialRef {
    algorithm: Algorithm,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredential")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// What a step of the exchange produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Send this and wait for the next client message.
    Continue(Vec<u8>),
    /// Authenticated as this user; send the bytes (server-final).
    Done { user: String, reply: Vec<u8> },
}

impl ScramServer {
    pub(crate) fn new(algorithm: Algorithm) -> Self {
        ScramServer::Start(algorithm)
    }

    /// The mechanism name, for the log ("SCRAM" once the exchange is over).
    pub(crate) fn mechanism(&self) -> &'static str {
        match self {
            ScramServer::Start(a) => a.mechanism(),
            ScramServer::SentFirst { credential, .. } => credential.algorithm.mechanism(),
            ScramServer::Done => "SCRAM",
        }
    }

    /// The user named in client-first, once it was accepted (for the log).
    pub(crate) fn user(&self) -> Option<&str> {
        match self {
            ScramServer::SentFirst { user, .. } => Some(user),
            _ => None,
        }
    }

    /// Feeds one client message.
    pub(crate) fn step(&mut self, users: &super::Users, msg: &[u8]) -> Result<Step, ScramError> {
        let msg = std::str::from_utf8(msg).map_err(|_| ScramError::Malformed("not UTF-8"))?;
        match std::mem::replace(self, ScramServer::Done) {
            ScramServer::Start(algorithm) => {
                let (header, bare) = split_gs2(msg)?;
                let mut user = None;
                let mut client_nonce = None;
                for (k, v) in attributes(bare) {
                    match k {
                        'n' => user = decode_saslname(v),
                        'r' => client_nonce = Some(v),
                        'm' => return Err(ScramError::Malformed("mandatory extension")),
                        _ => {} // extensions (e.g. tokenauth) are ignored
                    }
                }
                let user = user.ok_or(ScramError::Malformed("no user name"))?;
                let client_nonce = client_nonce
                    .filter(|n| !n.is_empty())
                    .ok_or(ScramError::Malformed("no nonce"))?;
                let credential = users
                    .scram(&user, algorithm)
                    .ok_or(ScramError::BadCredentials)?;
                // Alphanumeric like Kafka's own server nonce: librdkafka 2.0 mis-parses a
                // nonce holding '+' or '/'.
                let snonce: String = (0..24)
                    .map(|_| char::from(rand::rng().sample(rand::distr::Alphanumeric)))
                    .collect();
                let nonce = format!("{client_nonce}{snonce}");
                let server_first = format!(
                    "r={nonce},s={},i={}",
                    B64.encode(&credential.salt),
                    credential.iterations
                );
                *self = ScramServer::SentFirst {
                    user,
                    nonce,
                    gs2_header: header.to_owned(),
                    auth_prefix: format!("{bare},{server_first}"),
                    credential: Box::new(ScramCredentialRef {
                        algorithm,
                        stored_key: credential.stored_key.clone(),
                        server_key: credential.server_key.clone(),
                    }),
                };
                Ok(Step::Continue(server_first.into_bytes()))
            }
            ScramServer::SentFirst {
                user,
                nonce,
                gs2_header,
                auth_prefix,
                credential,
            } => {
                let (without_proof, proof) = msg
                    .rsplit_once(",p=")
                    .ok_or(ScramError::Malformed("no proof"))?;
                let mut binding = None;
                let mut final_nonce = None;
                for (k, v) in attributes(without_proof) {
                    match k {
                        'c' => binding = Some(v),
                        'r' => final_nonce = Some(v),
                        _ => {}
                    }
                }
                let binding = binding
                    .and_then(|b| B64.decode(b).ok())
                    .ok_or(ScramError::Malformed("bad channel binding"))?;
                if binding != gs2_header.as_bytes() {
                    return Err(ScramError::Malformed("channel binding does not match"));
                }
                // Kafka checks that the final nonce *ends with* the combined nonce, and
                // librdkafka before 2.1 relies on it: it sends its client nonce twice.
                if !final_nonce.is_some_and(|n| n.ends_with(nonce.as_str())) {
                    tracing::debug!(expected = %nonce, got = %super::for_log(final_nonce.unwrap_or("")), "SCRAM nonce mismatch");
                    return Err(ScramError::Malformed("nonce does not match"));
                }
                let proof = B64
                    .decode(proof)
                    .map_err(|_| ScramError::Malformed("proof is not base64"))?;
                let auth_message = format!("{auth_prefix},{without_proof}");
                let a = credential.algorithm;
                let client_signature = a.hmac(&credential.stored_key, auth_message.as_bytes());
                if proof.len() != client_signature.len() {
                    return Err(ScramError::BadCredentials);
                }
                let client_key: Vec<u8> = proof
                    .iter()
                    .zip(&client_signature)
                    .map(|(p, s)| p ^ s)
                    .collect();
                if !constant_time_eq(&a.hash(&client_key), &credential.stored_key) {
                    return Err(ScramError::BadCredentials);
                }
                let server_signature = a.hmac(&credential.server_key, auth_message.as_bytes());
                Ok(Step::Done {
                    user,
                    reply: format!("v={}", B64.encode(server_signature)).into_bytes(),
                })
            }
            ScramServer::Done => Err(ScramError::Malformed("exchange already finished")),
        }
    }
}

/// Splits the gs2 header ("n,," / "y,," with an optional "a=authzid") from client-first-bare.
fn split_gs2(msg: &str) -> Result<(&str, &str), ScramError> {
    let (cb, rest) = msg
        .split_once(',')
        .ok_or(ScramError::Malformed("no gs2 header"))?;
    if cb != "n" && cb != "y" {
        return Err(ScramError::Malformed("channel binding is not supported"));
    }
    let (_authzid, bare) = rest
        .split_once(',')
        .ok_or(ScramError::Malformed("no gs2 header"))?;
    let header_len = msg.len() - bare.len();
    Ok((&msg[..header_len], bare))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client side written from the RFC, to drive the server.
    fn client_final(
        a: Algorithm,
        password: &str,
        client_first_bare: &str,
        server_first: &str,
    ) -> (String, Vec<u8>) {
        let attrs: Vec<(char, &str)> = attributes(server_first).collect();
        let get = |k| {
            attrs
                .iter()
                .find(|(c, _)| *c == k)
                .map(|(_, v)| *v)
                .unwrap()
        };
        let salt = B64.decode(get('s')).unwrap();
        let iterations: u32 = get('i').parse().unwrap();
        let salted = a.salted_password(password.as_bytes(), &salt, iterations);
        let client_key = a.hmac(&salted, b"Client Key");
        let stored = a.hash(&client_key);
        let without_proof = format!("c=biws,r={}", get('r'));
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let sig = a.hmac(&stored, auth.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(x, y)| x ^ y).collect();
        let server_sig = a.hmac(&a.hmac(&salted, b"Server Key"), auth.as_bytes());
        (
            format!("{without_proof},p={}", B64.encode(proof)),
            server_sig,
        )
    }

    fn exchange(a: Algorithm, user: &str, password: &str) -> Result<Step, ScramError> {
        let users = super::super::Users::parse("alice:secret\nb=ob:pw\n").unwrap();
        let mut s = ScramServer::new(a);
        let bare = format!("n={user},r=abc123");
        let Step::Continue(first) = s.step(&users, format!("n,,{bare}").as_bytes())? else {
            panic!("expected server-first");
        };
        let first = String::from_utf8(first).unwrap();
        assert!(
            first.starts_with("r=abc123") && first.ends_with(",i=4096"),
            "{first}"
        );
        let (fin, server_sig) = client_final(a, password, &bare, &first);
        let out = s.step(&users, fin.as_bytes())?;
        if let Step::Done { reply, .. } = &out {
            assert_eq!(reply, &format!("v={}", B64.encode(server_sig)).into_bytes());
        }
        Ok(out)
    }

    #[test]
    fn full_exchange_both_hashes() {
        for a in [Algorithm::Sha256, Algorithm::Sha512] {
            assert!(
                matches!(exchange(a, "alice", "secret"), Ok(Step::Done { user, .. }) if user == "alice")
            );
            assert_eq!(
                exchange(a, "alice", "wrong"),
                Err(ScramError::BadCredentials)
            );
            assert_eq!(
                exchange(a, "nobody", "secret"),
                Err(ScramError::BadCredentials)
            );
            assert!(
                matches!(exchange(a, "b=3Dob", "pw"), Ok(Step::Done { user, .. }) if user == "b=ob")
            );
        }
    }

    #[test]
    fn malformed_messages_are_errors() {
        let users = super::super::Users::parse("alice:secret").unwrap();
        for bad in [
            "",
            "p=tls,,n=alice,r=x",
            "n,,r=x",
            "n,,n=alice",
            "n,,n=al=ZZ,r=x",
            "n,,m=x,n=alice,r=x",
        ] {
            let mut s = ScramServer::new(Algorithm::Sha256);
            assert!(s.step(&users, bad.as_bytes()).is_err(), "{bad}");
        }
        let mut s = ScramServer::new(Algorithm::Sha256);
        s.step(&users, b"n,,n=alice,r=x").unwrap();
        assert!(s.step(&users, b"c=biws,r=wrong,p=AAAA").is_err());
        // librdkafka 2.0's client nonce repeated before the combined nonce is accepted, as
        // Kafka accepts it (the proof is still checked: here it is wrong)
        let mut s = ScramServer::new(Algorithm::Sha256);
        let Step::Continue(first) = s.step(&users, b"n,,n=alice,r=x").unwrap() else {
            panic!()
        };
        let first = String::from_utf8(first).unwrap();
        let nonce = first.split(',').next().unwrap().strip_prefix("r=").unwrap();
        let fin = format!("c=biws,r=x{nonce},p=AAAA");
        assert_eq!(
            s.step(&users, fin.as_bytes()),
            Err(ScramError::BadCredentials)
        );
        assert!(
            s.step(&users, b"anything").is_err(),
            "finished exchanges stay finished"
        );
    }
}
