//! The broker's request path with SASL required (`kt broker --users FILE`): what an
//! unauthenticated client can reach. The input is a connection's byte stream as in
//! `broker_requests`; the broker has two users (`alice:alice-secret`, `bob:p4ss:word`), so
//! SaslHandshake v0 (raw tokens) and v1 (SaslAuthenticate), PLAIN and SCRAM-SHA-256/512 client
//! messages, and the requests that must be refused before authentication are all in reach.
//! SCRAM salts are random per process, so a SCRAM exchange never completes here; PLAIN does
//! (with the passwords above) and leads to the authenticated request path.
//!
//! Oracles: those of `broker_requests`, plus: the broker never answers a request other than
//! ApiVersions, SaslHandshake and SaslAuthenticate before a successful authentication (it
//! closes the connection instead).
#![no_main]

use std::sync::{Arc, OnceLock};

use kt_broker::Users;
use kt_broker::fuzzing::Exchange;
use libfuzzer_sys::fuzz_target;

const MAX_REQUEST: usize = 1 << 20;

fn users() -> Arc<Users> {
    static USERS: OnceLock<Arc<Users>> = OnceLock::new();
    Arc::clone(USERS.get_or_init(|| {
        Arc::new(Users::parse("alice:alice-secret\nbob:p4ss:word\n").expect("users"))
    }))
}

/// SaslHandshake, ApiVersions, SaslAuthenticate.
const BEFORE_AUTH: [i16; 3] = [17, 18, 36];

fuzz_target!(|data: &[u8]| {
    let (exchanges, _) = kt_fuzz::broker::serve_and_check(data, MAX_REQUEST, Some(users()));
    let knows_a_password = [&b"alice-secret"[..], b"p4ss:word"]
        .iter()
        .any(|p| data.windows(p.len()).any(|w| w == *p));
    if knows_a_password {
        return;
    }
    for exchange in &exchanges {
        if let Exchange::Response {
            api_key: Some(key),
            frame,
            ..
        } = exchange
        {
            // A bare error (size 6: correlation id and an error code) refuses without leaking.
            assert!(
                BEFORE_AUTH.contains(key) || frame.len() == 10,
                "api key {key} answered ({} bytes) before authentication",
                frame.len()
            );
        }
    }
});
