//! The client side of SCRAM (RFC 5802) with SHA-256 (RFC 7677) or SHA-512, as Kafka uses it
//! (KIP-84): no channel binding (`n,,`), no authorization id, no extensions.
//!
//! The password is salted with PBKDF2 using the server's salt and iteration count; only a
//! proof derived from it goes over the wire, and the server proves it knows the same
//! salted password with its signature, which is checked before the connection is used.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use crate::error::{Error, KafkaCode};

/// Kafka's bounds for SCRAM iterations (`ScramMechanism` min/max): fewer is weak, more is
/// a server making the client burn CPU.
const MIN_ITERATIONS: u32 = 4096;
const MAX_ITERATIONS: u32 = 16384;

/// The hash of a SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScramHash {
    Sha256,
    Sha512,
}

impl ScramHash {
    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable_hmac());
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
            ScramHash::Sha512 => {
                let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key)
                    .unwrap_or_else(|_| unreachable_hmac());
                m.update(data);
                m.finalize().into_bytes().to_vec()
            }
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
            ScramHash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// PBKDF2 of the password (RFC 5802's `Hi`).
    pub(crate) fn salted_password(self, password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha256 => {
                let mut out = [0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
                out.to_vec()
            }
            ScramHash::Sha512 => {
                let mut out = [0u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), salt, iterations, &mut out);
                out.to_vec()
            }
        }
    }

    /// `(StoredKey, ServerKey)` of a salted password, what a server keeps per user (the
    /// client never needs it; the tests' SCRAM server does).
    #[cfg(test)]
    pub(crate) fn keys(self, salted: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let client_key = self.hmac(salted, b"Client Key");
        (self.digest(&client_key), self.hmac(salted, b"Server Key"))
    }

    /// `HMAC(key, auth_message)`: client or server signature.
    pub(crate) fn signature(self, key: &[u8], auth_message: &str) -> Vec<u8> {
        self.hmac(key, auth_message.as_bytes())
    }

    /// Recovers `ClientKey` from a proof and checks `H(ClientKey) == StoredKey` (server side).
    #[cfg(test)]
    pub(crate) fn verify_proof(self, stored_key: &[u8], auth_message: &str, proof: &[u8]) -> bool {
        let sig = self.signature(stored_key, auth_message);
        if sig.len() != proof.len() {
            return false;
        }
        let client_key: Vec<u8> = sig.iter().zip(proof).map(|(a, b)| a ^ b).collect();
        self.digest(&client_key) == stored_key
    }
}

/// HMAC accepts keys of any length; this cannot happen.
fn unreachable_hmac() -> ! {
    unreachable!("HMAC accepts any key length")
}

fn failed(why: impl Into<String>) -> Error {
    Error::kafka(KafkaCode::SaslAuthenticationFailed, why.into())
}

/// RFC 5802's `saslname`: `=` and `,` escaped.
fn sasl_name(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// One SCRAM exchange, client side.
#[derive(Debug)]
pub(crate) struct ScramClient {
    hash: ScramHash,
    password: String,
    nonce: String,
    first_bare: String,
    server_signature: Option<Vec<u8>>,
}

impl ScramClient {
    /// A client with a fresh random nonce.
    pub(crate) fn new(hash: ScramHash, username: &str, password: &str) -> ScramClient {
        use rand::Rng;
        let bytes: [u8; 24] = rand::rng().random();
        Self::with_nonce(hash, username, password, &B64.encode(bytes))
    }

    pub(crate) fn with_nonce(
        hash: ScramHash,
        username: &str,
        password: &str,
        nonce: &str,
    ) -> ScramClient {
        ScramClient {
            hash,
            password: password.to_owned(),
            nonce: nonce.to_owned(),
            first_bare: format!("n={},r={nonce}", sasl_name(username)),
            server_signature: None,
        }
    }

    /// `client-first-message`.
    pub(crate) fn client_first(&self) -> String {
        format!("n,,{}", self.first_bare)
    }

    /// `client-final-message` for the server's first message.
    pub(crate) fn client_final(&mut self, server_first: &str) -> Result<String, Error> {
        let mut nonce = None;
        let mut salt = None;
        let mut iterations = None;
        for attr in server_first.split(',') {
            match attr.split_once('=') {
                Some(("r", v)) => nonce = Some(v),
                Some(("s", v)) => salt = Some(v),
                Some(("i", v)) => iterations = Some(v),
                Some(("m", _)) => return Err(failed("SCRAM: the server requires an extension")),
                Some(("e", v)) => return Err(failed(format!("SCRAM: server error '{v}'"))),
                _ => {}
            }
        }
        let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
            return Err(failed("SCRAM: malformed server-first-message"));
        };
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(failed("SCRAM: the server's nonce does not extend ours"));
        }
        let salt = B64
            .decode(salt)
            .map_err(|_| failed("SCRAM: the salt is not base64"))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| failed("SCRAM: the iteration count is not a number"))?;
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(failed(format!(
                "SCRAM: {iterations} iterations is outside Kafka's {MIN_ITERATIONS}..={MAX_ITERATIONS}"
            )));
        }
        let salted = self.hash.salted_password(&self.password, &salt, iterations);
        let client_key = self.hash.hmac(&salted, b"Client Key");
        let stored_key = self.hash.digest(&client_key);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{server_first},{without_proof}", self.first_bare);
        let client_signature = self.hash.signature(&stored_key, &auth_message);
        let proof: Vec<u8> = client_key
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let server_key = self.hash.hmac(&salted, b"Server Key");
        self.server_signature = Some(self.hash.signature(&server_key, &auth_message));
        Ok(format!("{without_proof},p={}", B64.encode(proof)))
    }

    /// Checks the `server-final-message`: the server proved it knows the password.
    pub(crate) fn verify_server_final(&self, server_final: &str) -> Result<(), Error> {
        if let Some(e) = server_final.strip_prefix("e=") {
            return Err(failed(format!("SCRAM: server error '{e}'")));
        }
        let Some(v) = server_final.split(',').find_map(|a| a.strip_prefix("v=")) else {
            return Err(failed("SCRAM: malformed server-final-message"));
        };
        let got = B64
            .decode(v)
            .map_err(|_| failed("SCRAM: the server signature is not base64"))?;
        match &self.server_signature {
            Some(want) if *want == got => Ok(()),
            _ => Err(failed(
                "SCRAM: the server's signature is wrong (it does not know the password)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 section 3: user "user", password "pencil".
    #[test]
    fn rfc7677_sha256_example() {
        let mut c =
            ScramClient::with_nonce(ScramHash::Sha256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(c.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        assert_eq!(
            c.client_final(server_first).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        c.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .unwrap();
        assert!(
            c.verify_server_final("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
                .is_err()
        );
        assert!(c.verify_server_final("e=invalid-proof").is_err());
    }

    #[test]
    fn hostile_server_messages_are_refused() {
        let mut c = ScramClient::with_nonce(ScramHash::Sha512, "u,=", "p", "abc");
        assert_eq!(c.client_first(), "n,,n=u=2C=3D,r=abc");
        for bad in [
            "r=xyz,s=AAAA,i=4096",        // nonce not ours
            "r=abc,s=AAAA,i=4096",        // nonce not extended
            "r=abcd,s=!!!,i=4096",        // salt not base64
            "r=abcd,s=AAAA,i=99999999",   // iteration bomb
            "r=abcd,s=AAAA,i=1",          // too weak
            "r=abcd,s=AAAA",              // missing count
            "m=ext,r=abcd,s=AAAA,i=4096", // mandatory extension
        ] {
            assert!(c.client_final(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_server_built_from_the_same_primitives_accepts_the_proof() {
        for hash in [ScramHash::Sha256, ScramHash::Sha512] {
            let salted = hash.salted_password("secret", b"salty", 4096);
            let (stored, server_key) = hash.keys(&salted);
            let mut c = ScramClient::new(hash, "alice", "secret");
            let first = c.client_first();
            let bare = first.strip_prefix("n,,").unwrap();
            let cnonce = bare.split("r=").nth(1).unwrap();
            let server_first = format!("r={cnonce}srv,s={},i=4096", B64.encode(b"salty"));
            let fin = c.client_final(&server_first).unwrap();
            let (without, proof) = fin.rsplit_once(",p=").unwrap();
            let auth = format!("{bare},{server_first},{without}");
            assert!(hash.verify_proof(&stored, &auth, &B64.decode(proof).unwrap()));
            let v = B64.encode(hash.signature(&server_key, &auth));
            c.verify_server_final(&format!("v={v}")).unwrap();
        }
    }
}
