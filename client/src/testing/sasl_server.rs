//! The fake broker's SASL server side: PLAIN and SCRAM-SHA-256/512, one session per
//! connection. The SCRAM math uses kt's primitives, which `security::scram` pins to the
//! RFC 7677 example.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use kafka_protocol::messages::{
    RequestHeader, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::{Reply, body, decode};
use crate::security::scram::ScramHash;

/// Users the fake accepts: name -> password, and the mechanisms it enables.
#[derive(Debug, Clone)]
pub(crate) struct Users {
    pub(crate) passwords: HashMap<String, String>,
    pub(crate) mechanisms: Vec<&'static str>,
}

/// One connection's SASL state.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub(crate) authenticated: bool,
    mechanism: Option<String>,
    /// SCRAM between the two messages: (user, client-first-bare, server-first).
    scram: Option<(String, String, String)>,
}

const SALT: &[u8] = b"kt-fake-salt";
const ITERATIONS: u32 = 4096;

impl Session {
    pub(crate) fn handle(&mut self, users: &Users, h: &RequestHeader, buf: Bytes) -> Reply {
        let v = h.request_api_version;
        if h.request_api_key == 17 {
            let req: SaslHandshakeRequest = decode(buf, v);
            let mut resp = SaslHandshakeResponse::default();
            resp.mechanisms = users
                .mechanisms
                .iter()
                .map(|m| StrBytes::from_static_str(m))
                .collect();
            if users.mechanisms.contains(&req.mechanism.as_str()) {
                self.mechanism = Some(req.mechanism.to_string());
            } else {
                resp.error_code = 33; // UNSUPPORTED_SASL_MECHANISM
            }
            return body(&resp, v);
        }
        let req: SaslAuthenticateRequest = decode(buf, v);
        let mut resp = SaslAuthenticateResponse::default();
        let fail = |resp: &mut SaslAuthenticateResponse| {
            resp.error_code = 58; // SASL_AUTHENTICATION_FAILED
            resp.error_message = Some(StrBytes::from_static_str("Authentication failed"));
        };
        let token = req.auth_bytes.to_vec();
        match self.mechanism.as_deref() {
            Some("PLAIN") => {
                let parts: Vec<&[u8]> = token.split(|b| *b == 0).collect();
                let ok = parts.len() == 3
                    && users
                        .passwords
                        .get(std::str::from_utf8(parts[1]).unwrap_or(""))
                        .is_some_and(|p| p.as_bytes() == parts[2]);
                if ok {
                    self.authenticated = true;
                } else {
                    fail(&mut resp);
                }
            }
            Some(m @ ("SCRAM-SHA-256" | "SCRAM-SHA-512")) => {
                let hash = if m == "SCRAM-SHA-256" {
                    ScramHash::Sha256
                } else {
                    ScramHash::Sha512
                };
                let text = String::from_utf8(token).unwrap_or_default();
                match self.scram.take() {
                    None => {
                        let bare = text.strip_prefix("n,,").unwrap_or("").to_owned();
                        let user = bare
                            .split(',')
                            .find_map(|a| a.strip_prefix("n="))
                            .unwrap_or("")
                            .to_owned();
                        let cnonce = bare.split(",r=").nth(1).unwrap_or("").to_owned();
                        let first = format!(
                            "r={cnonce}fake-server-nonce,s={},i={ITERATIONS}",
                            B64.encode(SALT)
                        );
                        resp.auth_bytes = Bytes::from(first.clone());
                        self.scram = Some((user, bare, first));
                    }
                    Some((user, bare, first)) => {
                        let Some(password) = users.passwords.get(&user) else {
                            fail(&mut resp);
                            return body(&resp, v);
                        };
                        let salted = hash.salted_password(password, SALT, ITERATIONS);
                        let (stored, server_key) = hash.keys(&salted);
                        let (without, proof) = text.rsplit_once(",p=").unwrap_or(("", ""));
                        let auth = format!("{bare},{first},{without}");
                        let proof = B64.decode(proof).unwrap_or_default();
                        if hash.verify_proof(&stored, &auth, &proof) {
                            self.authenticated = true;
                            let sig = hash.signature(&server_key, &auth);
                            resp.auth_bytes = Bytes::from(format!("v={}", B64.encode(sig)));
                        } else {
                            fail(&mut resp);
                        }
                    }
                }
            }
            _ => {
                resp.error_code = 34; // ILLEGAL_SASL_STATE
            }
        }
        body(&resp, v)
    }
}
