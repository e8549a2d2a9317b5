//! ACLs with a real client: kcat (librdkafka 2.0.2) as `User:ANONYMOUS` may produce to and
//! consume from one topic, only describe another (writes and reads there fail with "Topic
//! authorization failed"), and join one group but not another ("Group authorization
//! failed"); with SASL users (PLAIN), alice may write a topic that bob may only read.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{Spawned, TestBroker, run};
use kt_broker::{BrokerConfig, Users};

const RULES: &str = "
# anonymous clients (no SASL): read and write `open`, only see `secret`
allow User:ANONYMOUS produce,consume topic:open
allow User:ANONYMOUS describe        topic:secret
allow User:ANONYMOUS read            group:allowed
";

fn broker(dir: &tempfile::TempDir) -> TestBroker {
    let path = dir.path().join("acl.txt");
    std::fs::write(&path, RULES).unwrap();
    let b = TestBroker::start_with(BrokerConfig {
        acl_file: Some(path),
        group_initial_rebalance_delay: Duration::ZERO,
        ..BrokerConfig::for_tests()
    });
    b.handle().create_topic("open", 1).unwrap();
    b.handle().create_topic("secret", 1).unwrap();
    b
}

fn kcat(b: &TestBroker, args: &[&str]) -> Command {
    let mut cmd = Command::new("/usr/bin/kcat");
    cmd.arg("-b").arg(b.bootstrap()).args(args);
    cmd
}

const LONG: Duration = Duration::from_secs(60);

#[test]
fn topic_acls_allow_and_refuse_kcat() {
    if common::peer("/usr/bin/kcat", "kcat").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let b = broker(&dir);
    let (status, _, err) = run(kcat(&b, &["-P", "-t", "open"]), Some("a\nb\n"), LONG);
    assert!(status.success(), "{err}");
    let (status, lines, err) = run(
        kcat(&b, &["-C", "-t", "open", "-o", "beginning", "-e", "-q"]),
        None,
        LONG,
    );
    assert!(status.success(), "{err}");
    assert_eq!(lines, ["a", "b"]);

    let (status, _, err) = run(kcat(&b, &["-P", "-t", "secret"]), Some("x\n"), LONG);
    assert!(!status.success(), "a write to secret must fail");
    assert!(err.contains("Topic authorization failed"), "{err}");
    assert_eq!(b.handle().partition_offsets("secret", 0), Some((0, 0)));
    let (status, _, err) = run(
        kcat(&b, &["-C", "-t", "secret", "-o", "beginning", "-e"]),
        None,
        LONG,
    );
    assert!(!status.success(), "a read of secret must fail");
    assert!(err.contains("Topic authorization failed"), "{err}");
}

#[test]
fn group_acls_refuse_a_kcat_consumer_group() {
    if common::peer("/usr/bin/kcat", "kcat").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let b = broker(&dir);
    let mut member = Spawned::new(kcat(&b, &["-G", "denied", "open"]), None);
    let deadline = Instant::now() + LONG;
    while !member.stderr().contains("Group authorization failed") {
        assert!(
            Instant::now() < deadline,
            "no group authorization error: {}",
            member.stderr()
        );
        if let Ok(Some(_)) = member.child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = member.child.kill();
    let _ = member.child.wait();
    assert!(
        member.stderr().contains("Group authorization failed"),
        "{}",
        member.stderr()
    );
    assert!(b.handle().describe_group("denied").is_none());
}

#[test]
fn sasl_users_get_their_own_rules() {
    if common::peer("/usr/bin/kcat", "kcat").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let acl = dir.path().join("acl.txt");
    std::fs::write(
        &acl,
        "allow User:alice produce topic:ledger\nallow User:bob consume topic:ledger\n",
    )
    .unwrap();
    let b = TestBroker::start_with(BrokerConfig {
        acl_file: Some(acl),
        users: Some(std::sync::Arc::new(
            Users::parse("alice:alice-secret\nbob:bob-secret\n").unwrap(),
        )),
        ..BrokerConfig::for_tests()
    });
    b.handle().create_topic("ledger", 1).unwrap();
    let as_user = |user: &str, args: &[&str]| {
        let mut cmd = kcat(&b, args);
        cmd.args(["-X", "security.protocol=SASL_PLAINTEXT"])
            .args(["-X", "sasl.mechanisms=PLAIN"])
            .arg("-X")
            .arg(format!("sasl.username={user}"))
            .arg("-X")
            .arg(format!("sasl.password={user}-secret"));
        cmd
    };
    let (status, _, err) = run(
        as_user("alice", &["-P", "-t", "ledger"]),
        Some("debit\n"),
        LONG,
    );
    assert!(status.success(), "alice writes: {err}");
    let (status, _, err) = run(
        as_user("bob", &["-P", "-t", "ledger"]),
        Some("forged\n"),
        LONG,
    );
    assert!(
        !status.success() && err.contains("Topic authorization failed"),
        "{err}"
    );
    let read = &["-C", "-t", "ledger", "-o", "beginning", "-e", "-q"];
    let (status, lines, err) = run(as_user("bob", read), None, LONG);
    assert!(status.success(), "bob reads: {err}");
    assert_eq!(lines, ["debit"]);
    let (status, _, err) = run(as_user("alice", read), None, LONG);
    assert!(
        !status.success() && err.contains("Topic authorization failed"),
        "{err}"
    );
}
