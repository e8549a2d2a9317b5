//! `kt broker --users FILE` under attack, as a real process with its most verbose log
//! (`-vv`): bad credentials of every kind and replayed SCRAM messages are refused with
//! SASL_AUTHENTICATION_FAILED (or the Kafka error that fits) and the connection is closed as
//! Kafka closes it; the broker keeps serving authenticated clients meanwhile; and no password
//! — the real one or any wrong one tried — ever reaches the log. Also: `kt broker` listens on
//! 127.0.0.1 unless told otherwise, and says so.
//!
//! The Kafka requests are written by hand (SaslHandshake v1, SaslAuthenticate v1, Metadata v1)
//! and SCRAM-SHA-256 by a client written here from RFC 5802, so every byte the attacker sends
//! is under the test's control.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::{KT, start_broker, wait_until};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const SASL_HANDSHAKE: i16 = 17;
const SASL_AUTHENTICATE: i16 = 36;
const METADATA: i16 = 3;
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const ILLEGAL_SASL_STATE: i16 = 34;
const SASL_AUTHENTICATION_FAILED: i16 = 58;

const PASSWORD: &str = "Correct-Horse-7731";
const WRONG: &str = "Wrong-Battery-5512";
const NON_UTF8_PASSWORD: &[u8] = b"\xff\xfeNonUtf8-Pw-9931";
const LONG_PASSWORD_UNIT: &str = "OverLong-Pw-4417-";

/// One connection speaking hand-written Kafka requests.
struct Conn {
    stream: TcpStream,
    correlation_id: i32,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        Conn {
            stream,
            correlation_id: 0,
        }
    }

    /// Sends a request (header v1) and returns the response body after the correlation id;
    /// Err when the broker closed the connection instead of answering.
    fn request(&mut self, api_key: i16, version: i16, body: &[u8]) -> std::io::Result<Vec<u8>> {
        self.correlation_id += 1;
        let client_id = b"kt-security-test";
        let mut frame = Vec::new();
        frame.extend_from_slice(&api_key.to_be_bytes());
        frame.extend_from_slice(&version.to_be_bytes());
        frame.extend_from_slice(&self.correlation_id.to_be_bytes());
        frame.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
        frame.extend_from_slice(client_id);
        frame.extend_from_slice(body);
        self.write_frame(&frame)?;
        let response = self.read_frame()?;
        assert_eq!(
            i32::from_be_bytes(response[..4].try_into().unwrap()),
            self.correlation_id
        );
        Ok(response[4..].to_vec())
    }

    fn write_frame(&mut self, frame: &[u8]) -> std::io::Result<()> {
        let mut out = (frame.len() as i32).to_be_bytes().to_vec();
        out.extend_from_slice(frame);
        self.stream.write_all(&out)
    }

    fn read_frame(&mut self) -> std::io::Result<Vec<u8>> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len)?;
        let mut frame = vec![0u8; i32::from_be_bytes(len) as usize];
        self.stream.read_exact(&mut frame)?;
        Ok(frame)
    }

    /// SaslHandshake v1 (or v0): (error code, mechanisms offered).
    fn handshake(&mut self, mechanism: &str, version: i16) -> (i16, Vec<String>) {
        let body = string(mechanism);
        let r = self
            .request(SASL_HANDSHAKE, version, &body)
            .expect("a SaslHandshake is answered");
        let code = i16::from_be_bytes([r[0], r[1]]);
        let count = i32::from_be_bytes(r[2..6].try_into().unwrap());
        let mut at = 6;
        let mut mechanisms = Vec::new();
        for _ in 0..count {
            let n = i16::from_be_bytes([r[at], r[at + 1]]) as usize;
            mechanisms.push(String::from_utf8(r[at + 2..at + 2 + n].to_vec()).unwrap());
            at += 2 + n;
        }
        (code, mechanisms)
    }

    /// SaslAuthenticate v1: (error code, error message, auth bytes).
    fn authenticate(&mut self, token: &[u8]) -> (i16, String, Vec<u8>) {
        let mut body = (token.len() as i32).to_be_bytes().to_vec();
        body.extend_from_slice(token);
        let r = self
            .request(SASL_AUTHENTICATE, 1, &body)
            .expect("a SaslAuthenticate is answered");
        let code = i16::from_be_bytes([r[0], r[1]]);
        let n = i16::from_be_bytes([r[2], r[3]]);
        let (message, at) = if n < 0 {
            (String::new(), 4)
        } else {
            let n = n as usize;
            (String::from_utf8_lossy(&r[4..4 + n]).into_owned(), 4 + n)
        };
        let len = i32::from_be_bytes(r[at..at + 4].try_into().unwrap()).max(0) as usize;
        (code, message, r[at + 4..at + 4 + len].to_vec())
    }

    /// Metadata v1 for every topic: true when answered.
    fn metadata(&mut self) -> bool {
        self.request(METADATA, 1, &(-1i32).to_be_bytes()).is_ok()
    }

    /// True when the broker closed the connection (EOF or reset) within the read timeout.
    fn closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        match self.stream.read(&mut b) {
            Ok(0) => true,
            Ok(_) => panic!("unexpected bytes from the broker"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
            Err(_) => true,
        }
    }
}

fn string(s: &str) -> Vec<u8> {
    let mut out = (s.len() as i16).to_be_bytes().to_vec();
    out.extend_from_slice(s.as_bytes());
    out
}

fn plain(user: &[u8], password: &[u8]) -> Vec<u8> {
    [b"".as_slice(), b"\0", user, b"\0", password].concat()
}

/// A SCRAM-SHA-256 client-final message for `server_first`, from RFC 5802.
fn scram_final(password: &str, client_first_bare: &str, server_first: &str) -> String {
    let attr = |k: &str| {
        server_first
            .split(',')
            .find_map(|kv| kv.strip_prefix(k))
            .unwrap()
            .to_owned()
    };
    let (nonce, salt, iterations) = (attr("r="), attr("s="), attr("i="));
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(
        password.as_bytes(),
        &B64.decode(salt).unwrap(),
        iterations.parse().unwrap(),
        &mut salted,
    );
    let hmac = |key: &[u8], data: &[u8]| {
        <Hmac<Sha256> as Mac>::new_from_slice(key)
            .unwrap()
            .chain_update(data)
            .finalize()
            .into_bytes()
            .to_vec()
    };
    let client_key = hmac(&salted, b"Client Key");
    let stored_key = Sha256::digest(&client_key);
    let without_proof = format!("c=biws,r={nonce}");
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let signature = hmac(&stored_key, auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(a, b)| a ^ b)
        .collect();
    format!("{without_proof},p={}", B64.encode(proof))
}

/// A fresh connection through the SaslHandshake for `mechanism` (v1).
fn handshaken(addr: &str, mechanism: &str) -> Conn {
    let mut c = Conn::open(addr);
    assert_eq!(c.handshake(mechanism, 1).0, 0, "{mechanism}");
    c
}

/// One PLAIN attempt with `token` on a new connection: it must fail with
/// SASL_AUTHENTICATION_FAILED, and the broker must then close the connection.
fn plain_refused(addr: &str, what: &str, token: &[u8]) {
    let mut c = handshaken(addr, "PLAIN");
    let (code, message, _) = c.authenticate(token);
    assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{what}: {message}");
    assert!(
        c.closed(),
        "{what}: the connection is closed after a failed login"
    );
}

/// A SCRAM-SHA-256 exchange that fails at the message `step` (client-first or client-final).
fn scram_refused_at(c: &mut Conn, what: &str, message: &[u8]) {
    let (code, text, _) = c.authenticate(message);
    assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{what}: {text}");
    assert!(
        c.closed(),
        "{what}: the connection is closed after a failed login"
    );
}

#[test]
fn bad_credentials_and_replayed_scram_are_refused_and_no_password_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    std::fs::write(&users, format!("alice:{PASSWORD}\nbob:other-{PASSWORD}\n")).unwrap();
    // `-vv`: the most verbose log kt has (every target at trace level).
    let (broker, addr) = start_broker("127.0.0.1:0", &["-vv", "--users", users.to_str().unwrap()]);

    // A client that logged in first and must be served throughout.
    let mut good = handshaken(&addr, "PLAIN");
    assert_eq!(
        good.authenticate(&plain(b"alice", PASSWORD.as_bytes())).0,
        0
    );
    assert!(good.metadata());

    // Before authenticating, nothing but ApiVersions and SASL: closed without an answer.
    let mut early = Conn::open(&addr);
    assert!(!early.metadata(), "Metadata before SASL is not answered");
    assert!(early.closed());

    // Bad PLAIN credentials.
    let long_user = "u".repeat(64 * 1024);
    let long_password = LONG_PASSWORD_UNIT.repeat(64 * 1024); // ~1 MiB
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("wrong password", plain(b"alice", WRONG.as_bytes())),
        ("unknown user", plain(b"mallory", PASSWORD.as_bytes())),
        (
            "another user's password",
            plain(b"bob", PASSWORD.as_bytes()),
        ),
        ("empty token", Vec::new()),
        ("empty user and password", plain(b"", b"")),
        ("empty password", plain(b"alice", b"")),
        ("no separators", format!("alice{PASSWORD}").into_bytes()),
        (
            "too many fields",
            [plain(b"alice", PASSWORD.as_bytes()), b"\0x".to_vec()].concat(),
        ),
        (
            "over-long user and password",
            plain(long_user.as_bytes(), long_password.as_bytes()),
        ),
        (
            "non-UTF-8 user",
            plain(b"\xffalice\xfe", PASSWORD.as_bytes()),
        ),
        ("non-UTF-8 password", plain(b"alice", NON_UTF8_PASSWORD)),
        (
            "authorization id of another user",
            [b"bob".as_slice(), &plain(b"alice", PASSWORD.as_bytes())].concat(),
        ),
        (
            "a user name forging a log line",
            plain(b"eve\nFORGED-LOG-LINE user=alice", WRONG.as_bytes()),
        ),
        (
            "a SCRAM message to the PLAIN mechanism",
            b"n,,n=alice,r=abcdef".to_vec(),
        ),
    ];
    for (what, token) in &cases {
        plain_refused(&addr, what, token);
    }

    // Mechanisms the broker does not offer: UNSUPPORTED_SASL_MECHANISM with the list, then
    // closed, as Kafka does. Mechanism names are case-sensitive.
    for mechanism in ["GSSAPI", "OAUTHBEARER", "plain", "SCRAM-SHA-1", ""] {
        let mut c = Conn::open(&addr);
        let (code, offered) = c.handshake(mechanism, 1);
        assert_eq!(code, UNSUPPORTED_SASL_MECHANISM, "{mechanism:?}");
        assert_eq!(offered, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
        assert!(c.closed(), "{mechanism:?}: closed after the answer");
    }

    // A token with no handshake before it: ILLEGAL_SASL_STATE, closed.
    let mut c = Conn::open(&addr);
    let (code, _, _) = c.authenticate(&plain(b"alice", PASSWORD.as_bytes()));
    assert_eq!(code, ILLEGAL_SASL_STATE);
    assert!(c.closed());

    // v0 handshake (raw tokens): a wrong password closes the connection without a reply.
    let mut c = Conn::open(&addr);
    assert_eq!(c.handshake("PLAIN", 0).0, 0);
    c.write_frame(&plain(b"alice", WRONG.as_bytes())).unwrap();
    assert!(c.closed(), "v0: a failed login gets no reply and a close");

    // SCRAM-SHA-256: wrong password, unknown user, non-UTF-8.
    let bare = "n=alice,r=wrongpwnonce";
    let mut c = handshaken(&addr, "SCRAM-SHA-256");
    let (code, _, server_first) = c.authenticate(format!("n,,{bare}").as_bytes());
    assert_eq!(code, 0);
    let server_first = String::from_utf8(server_first).unwrap();
    let fin = scram_final(WRONG, bare, &server_first);
    scram_refused_at(&mut c, "SCRAM wrong password", fin.as_bytes());
    let mut c = handshaken(&addr, "SCRAM-SHA-256");
    scram_refused_at(&mut c, "SCRAM unknown user", b"n,,n=mallory,r=abc");
    let mut c = handshaken(&addr, "SCRAM-SHA-512");
    scram_refused_at(&mut c, "SCRAM non-UTF-8", b"n,,n=al\xffice,r=abc");
    let mut c = handshaken(&addr, "SCRAM-SHA-256");
    let over_long = format!("n,,n={long_user},r={}", "r".repeat(1 << 20));
    scram_refused_at(&mut c, "SCRAM over-long user", over_long.as_bytes());

    // One successful SCRAM exchange, captured.
    let bare = "n=alice,r=capturednonce123";
    let first = format!("n,,{bare}");
    let mut captured = handshaken(&addr, "SCRAM-SHA-256");
    let (code, _, server_first) = captured.authenticate(first.as_bytes());
    assert_eq!(code, 0);
    let server_first = String::from_utf8(server_first).unwrap();
    let fin = scram_final(PASSWORD, bare, &server_first);
    let (code, message, server_final) = captured.authenticate(fin.as_bytes());
    assert_eq!(code, 0, "{message}");
    assert!(server_final.starts_with(b"v="));
    assert!(captured.metadata(), "the captured exchange logged in");
    // ... its client-final replayed after the same client-first on a new connection: the
    // server nonce differs, so it is refused.
    let mut c = handshaken(&addr, "SCRAM-SHA-256");
    let (code, _, again) = c.authenticate(first.as_bytes());
    assert_eq!(code, 0);
    assert_ne!(again, server_first.as_bytes(), "a fresh server nonce");
    scram_refused_at(&mut c, "replayed client-final", fin.as_bytes());
    // ... its client-final as the first message of an exchange.
    let mut c = handshaken(&addr, "SCRAM-SHA-256");
    scram_refused_at(&mut c, "client-final first", fin.as_bytes());
    // ... its client-first sent twice within one exchange.
    let mut c = handshaken(&addr, "SCRAM-SHA-256");
    assert_eq!(c.authenticate(first.as_bytes()).0, 0);
    scram_refused_at(&mut c, "client-first twice", first.as_bytes());
    // ... and the client-final again on the connection it logged in on: no second exchange
    // (answered as Kafka answers it, the connection stays logged in).
    let (code, _, _) = captured.authenticate(fin.as_bytes());
    assert_eq!(code, ILLEGAL_SASL_STATE, "no second exchange after a login");
    assert!(captured.metadata(), "still logged in");

    // Others are still served: the first client, and a new login.
    assert!(good.metadata(), "the authenticated client is still served");
    let mut later = handshaken(&addr, "SCRAM-SHA-512");
    let bare = "n=bob,r=latenonce";
    let (code, _, server_first) = later.authenticate(format!("n,,{bare}").as_bytes());
    assert_eq!(code, 0);
    let server_first = String::from_utf8(server_first).unwrap();
    assert!(server_first.contains(",i=4096"));
    let mut ok = handshaken(&addr, "PLAIN");
    assert_eq!(
        ok.authenticate(&plain(b"bob", format!("other-{PASSWORD}").as_bytes()))
            .0,
        0
    );
    assert!(ok.metadata());

    // The log: every failure logged (user and mechanism), no password in it, no forged line.
    let failures = cases.len() + 1 + 7;
    wait_until("every failure in the broker's log", || {
        broker
            .log()
            .iter()
            .filter(|l| l.contains("SASL authentication failed"))
            .count()
            >= failures
    });
    let log = broker.log();
    let text = log.join("\n");
    for secret in [
        PASSWORD,
        WRONG,
        "NonUtf8-Pw-9931",
        LONG_PASSWORD_UNIT,
        &B64.encode(PASSWORD),
    ] {
        assert!(!text.contains(secret), "{secret:?} is in the broker's log");
    }
    for mechanism in ["PLAIN", "SCRAM-SHA-256"] {
        assert!(
            log.iter().any(|l| l.contains("SASL authentication failed")
                && l.contains("user=alice")
                && l.contains(mechanism)),
            "failures name the user and the mechanism ({mechanism})"
        );
    }
    assert!(
        log.iter().any(|l| l.contains("nonce does not match")
            && l.contains("user=alice")
            && l.contains("SCRAM-SHA-256")),
        "a replayed client-final is logged with the user of its exchange"
    );
    assert!(
        !log.iter().any(|l| l.starts_with("FORGED-LOG-LINE")),
        "a user name cannot start a log line"
    );
    let longest = log.iter().map(String::len).max().unwrap_or(0);
    assert!(longest < 4096, "a log line of {longest} bytes");
    println!(
        "{} log lines, {} failures logged",
        log.len(),
        log.iter()
            .filter(|l| l.contains("SASL authentication failed"))
            .count()
    );
}

#[test]
fn broker_listens_on_loopback_unless_told_otherwise_and_says_so() {
    let help = Command::new(KT)
        .args(["broker", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    assert!(
        help.contains("[default: 127.0.0.1:9092]"),
        "the default listen address is loopback: {help}"
    );
    let (broker, addr) = start_broker("127.0.0.1:0", &[]);
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let line = broker
        .log()
        .into_iter()
        .find(|l| l.contains("kt broker listening on"))
        .unwrap();
    assert!(line.contains("loopback only"), "{line}");
    assert!(
        !broker
            .log()
            .iter()
            .any(|l| l.contains("reachable from other machines")),
        "{:?}",
        broker.log()
    );
}

/// A failed login is answered (and its connection closed) only after
/// `--failed-authentication-delay` (Kafka's connection.failed.authentication.delay.ms), so
/// every guess costs the guesser that long; the broker meanwhile serves others.
#[test]
fn failed_logins_are_answered_only_after_the_delay() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    std::fs::write(&users, format!("alice:{PASSWORD}\n")).unwrap();
    let delay = Duration::from_millis(400);
    let (_broker, addr) = start_broker(
        "127.0.0.1:0",
        &[
            "--users",
            users.to_str().unwrap(),
            "--failed-authentication-delay",
            "400ms",
        ],
    );
    let mut guesser = handshaken(&addr, "PLAIN");
    let started = std::time::Instant::now();
    let (code, _, _) = guesser.authenticate(&plain(b"alice", WRONG.as_bytes()));
    let waited = started.elapsed();
    assert_eq!(code, SASL_AUTHENTICATION_FAILED);
    assert!(waited >= delay, "answered after {waited:?}");
    assert!(guesser.closed());
    // A guess being held back holds up no one else.
    let mut pending = handshaken(&addr, "PLAIN");
    let guess = std::thread::spawn(move || pending.authenticate(&plain(b"alice", b"guess")).0);
    let mut ok = handshaken(&addr, "PLAIN");
    assert_eq!(ok.authenticate(&plain(b"alice", PASSWORD.as_bytes())).0, 0);
    assert!(ok.metadata());
    assert_eq!(guess.join().unwrap(), SASL_AUTHENTICATION_FAILED);
}
