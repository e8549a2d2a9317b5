//! Interop with current and Debian clients beyond produce/consume: AdminClient (create,
//! describe and alter configs, create partitions, delete topics; list, describe and delete
//! consumer groups), the idempotent producer with acks=all, a topic's max.message.bytes
//! enforced, and SASL PLAIN / SCRAM-SHA-256 / SCRAM-SHA-512 against `--users`, including a
//! wrong password. Driven by `tests/peers/confluent_admin.py` (one script for confluent-kafka
//! 1.7 on librdkafka 2.0.2 and 2.16.1 on librdkafka 2.16) and kcat on both librdkafka
//! generations. Every run checks the facts the script printed, not only its exit code.
//!
//! Peers: Debian `/usr/bin/python3` + `/usr/bin/kcat`, and `.ci/install-peers`'s venv and
//! librdkafka 2.16 under `$KT_PEERS_DIR` (default `<workspace>/target/peers`). A missing peer
//! prints `SKIPPED: ...` and passes, unless `CI=true`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{TestBroker, peers_dir, run};
use kt_broker::{BrokerConfig, Users};

const LONG: Duration = Duration::from_secs(120);

fn venv_python() -> Option<String> {
    let path = peers_dir().join("venv/bin/python");
    common::peer(path.to_str().unwrap(), "venv python (confluent-kafka 2.16)")
}

fn debian_python() -> Option<String> {
    let python = common::peer("/usr/bin/python3", "python3")?;
    let ok = Command::new(&python)
        .args(["-c", "import confluent_kafka"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3-confluent-kafka missing and CI=true");
        }
        println!("SKIPPED: python3-confluent-kafka not importable");
        return None;
    }
    Some(python)
}

fn sasl_broker() -> TestBroker {
    let users = Users::parse("alice:alice-secret\nbob:b:o:b\n").unwrap();
    TestBroker::start_with(BrokerConfig {
        users: Some(Arc::new(users)),
        ..BrokerConfig::for_tests()
    })
}

/// Runs confluent_admin.py and checks every line it must print.
fn admin_script(python: &str, bootstrap: &str, tag: &str, sasl: &[&str], group_api: bool) {
    let script = format!(
        "{}/tests/peers/confluent_admin.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let topic = format!("adm-{tag}");
    let group = format!("grp-{tag}");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .args([bootstrap, &topic, &group])
        .args(sasl);
    let (status, lines, err) = run(cmd, None, LONG);
    let text = lines.join("\n");
    assert!(status.success(), "{tag}: script failed:\n{text}\n{err}");
    let mut want = vec![
        format!("CREATED {topic}"),
        "CONFIG retention.ms 3600000".into(),
        "CONFIG cleanup.policy delete".into(),
        "ALTERED max.message.bytes 200000".into(),
        "PARTITIONS 3".into(),
        "PRODUCED 30".into(),
        "TOO_LARGE MSG_SIZE_TOO_LARGE".into(),
        "CONSUMED 30".into(),
    ];
    if group_api {
        want.extend([
            format!("LISTED {group}"),
            "DESCRIBED STABLE members=1 partitions=[0, 1, 2]".into(),
            "GROUP_DELETED".into(),
        ]);
    }
    want.extend([format!("DELETED {topic}"), "DONE".into()]);
    assert_eq!(lines, want, "{tag}:\n{err}");
}

#[test]
fn confluent_kafka_2_16_admin_idempotence_and_groups() {
    let Some(python) = venv_python() else { return };
    let b = TestBroker::start();
    admin_script(&python, &b.bootstrap(), "ck216", &[], true);
}

#[test]
fn confluent_kafka_1_7_admin_and_idempotence() {
    let Some(python) = debian_python() else {
        return;
    };
    let b = TestBroker::start();
    // confluent-kafka 1.7 has no consumer-group admin calls
    admin_script(&python, &b.bootstrap(), "ck17", &[], false);
}

#[test]
fn confluent_kafka_sasl_every_mechanism_both_generations() {
    let b = sasl_broker();
    if let Some(python) = venv_python() {
        for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            let tag = format!("s216-{}", mech.to_lowercase());
            admin_script(
                &python,
                &b.bootstrap(),
                &tag,
                &[mech, "alice", "alice-secret"],
                true,
            );
        }
    }
    if let Some(python) = debian_python() {
        for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            let tag = format!("s17-{}", mech.to_lowercase());
            admin_script(
                &python,
                &b.bootstrap(),
                &tag,
                &[mech, "bob", "b:o:b"],
                false,
            );
        }
    }
}

/// kcat -L with each mechanism, right and wrong passwords, on librdkafka 2.0.2 and 2.16.
#[test]
fn kcat_sasl_both_librdkafka_generations() {
    let b = sasl_broker();
    b.handle().create_topic("sasl-topic", 2).unwrap();
    let Some(kcat) = common::peer("/usr/bin/kcat", "kcat") else {
        return;
    };
    let lib216 = peers_dir().join("librdkafka-2.16");
    let mut generations = vec![None];
    if common::peer(
        lib216.join("librdkafka.so.1").to_str().unwrap(),
        "librdkafka 2.16",
    )
    .is_some()
    {
        generations.push(Some(lib216));
    }
    for lib in generations {
        for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            for (password, ok) in [("alice-secret", true), ("wrong", false)] {
                let mut cmd = Command::new(&kcat);
                if let Some(dir) = &lib {
                    cmd.env("LD_LIBRARY_PATH", dir);
                }
                cmd.args(["-b", &b.bootstrap(), "-L", "-t", "sasl-topic", "-m", "5"])
                    .args(["-X", "security.protocol=SASL_PLAINTEXT"])
                    .args(["-X", &format!("sasl.mechanisms={mech}")])
                    .args(["-X", "sasl.username=alice"])
                    .args(["-X", &format!("sasl.password={password}")]);
                let (status, lines, err) = run(cmd, None, LONG);
                let text = lines.join("\n");
                let what = format!("{lib:?} {mech} ok={ok}");
                if ok {
                    assert!(status.success(), "{what}: {text}\n{err}");
                    assert!(
                        text.contains("topic \"sasl-topic\" with 2 partitions"),
                        "{what}: {text}"
                    );
                } else {
                    assert!(!status.success(), "{what}: wrong password accepted: {text}");
                    assert!(err.contains("Authentication failed"), "{what}: {err}");
                }
            }
        }
    }
}

/// Without authentication a client gets nothing but ApiVersions: kcat without SASL fails.
#[test]
fn unauthenticated_requests_are_refused() {
    let b = sasl_broker();
    let Some(kcat) = common::peer("/usr/bin/kcat", "kcat") else {
        return;
    };
    let mut cmd = Command::new(kcat);
    cmd.args(["-b", &b.bootstrap(), "-L", "-m", "3"]);
    let (status, lines, err) = run(cmd, None, LONG);
    assert!(!status.success(), "metadata without SASL: {lines:?} {err}");
}

fn kafka_python(python: &str, module_check: bool) -> bool {
    !module_check
        || Command::new(python)
            .args(["-c", "import kafka"])
            .status()
            .is_ok_and(|s| s.success())
}

/// Runs kafka_python_admin.py and checks every line it must print.
fn kafka_python_script(python: &str, bootstrap: &str, tag: &str, sasl: &[&str]) {
    let script = format!(
        "{}/tests/peers/kafka_python_admin.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let topic = format!("kp-{tag}");
    let group = format!("kpg-{tag}");
    let mut cmd = Command::new(python);
    cmd.arg(&script)
        .args([bootstrap, &topic, &group])
        .args(sasl);
    let (status, lines, err) = run(cmd, None, LONG);
    assert!(status.success(), "{tag}: {}\n{err}", lines.join("\n"));
    let want = vec![
        format!("CREATED {topic}"),
        "CONFIG cleanup.policy compact".into(),
        "PRODUCED 20".into(),
        "CONSUMED 20".into(),
        format!("LISTED {group}"),
        "DESCRIBED Stable".into(),
        "COMMITTED 20".into(),
        format!("DELETED {topic}"),
        "DONE".into(),
    ];
    assert_eq!(lines, want, "{tag}:\n{err}");
}

/// kafka-python 3.0 (venv; idempotent producer by default) and 2.0.2 (Debian): admin,
/// acks=all producer, a group with commits, group admin; SASL PLAIN and SCRAM.
#[test]
fn kafka_python_both_generations_admin_groups_and_sasl() {
    let b = TestBroker::start();
    let s = sasl_broker();
    if let Some(python) = venv_python() {
        kafka_python_script(&python, &b.bootstrap(), "kp3", &[]);
        for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
            let tag = format!("kp3-{}", mech.to_lowercase());
            kafka_python_script(
                &python,
                &s.bootstrap(),
                &tag,
                &[mech, "alice", "alice-secret"],
            );
        }
    }
    let Some(python) = common::peer("/usr/bin/python3", "python3") else {
        return;
    };
    if !kafka_python(&python, true) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3-kafka missing and CI=true"
        );
        println!("SKIPPED: python3-kafka not importable");
        return;
    }
    kafka_python_script(&python, &b.bootstrap(), "kp2", &[]);
    for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let tag = format!("kp2-{}", mech.to_lowercase());
        kafka_python_script(
            &python,
            &s.bootstrap(),
            &tag,
            &[mech, "alice", "alice-secret"],
        );
    }
}

/// kafkajs 2.2.4 (npm, under `$KT_PEERS_DIR/node`): admin (topics, partitions, configs,
/// groups), an idempotent producer with acks=all, a consumer group; plain and every SASL
/// mechanism.
#[test]
fn kafkajs_admin_producer_group_and_sasl() {
    let modules = peers_dir().join("node/node_modules");
    if common::peer(modules.join("kafkajs").to_str().unwrap(), "kafkajs").is_none() {
        return;
    }
    let Some(node) = ["/usr/bin/node", "/usr/local/bin/node"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
        .or_else(|| common::peer("/usr/bin/node", "node"))
    else {
        return;
    };
    let script = format!(
        "{}/tests/peers/kafkajs_roundtrip.js",
        env!("CARGO_MANIFEST_DIR")
    );
    let plain = TestBroker::start();
    let sasl = sasl_broker();
    let mut runs: Vec<(String, Vec<&str>, String)> = vec![("js".into(), vec![], plain.bootstrap())];
    for mech in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] {
        runs.push((
            format!("js-{}", mech.to_lowercase()),
            vec![mech, "alice", "alice-secret"],
            sasl.bootstrap(),
        ));
    }
    for (tag, sasl_args, bootstrap) in runs {
        let (topic, group) = (format!("t-{tag}"), format!("g-{tag}"));
        let mut cmd = Command::new(&node);
        cmd.arg(&script)
            .arg(&modules)
            .args([bootstrap.as_str(), &topic, &group])
            .args(&sasl_args);
        let (status, lines, err) = run(cmd, None, LONG);
        assert!(status.success(), "{tag}: {}\n{err}", lines.join("\n"));
        let want = vec![
            format!("CREATED {topic}"),
            "PARTITIONS 3".into(),
            "CONFIG retention.ms 60000".into(),
            "PRODUCED 30".into(),
            "CONSUMED 30".into(),
            format!("LISTED {group}"),
            "DESCRIBED Stable members=1".into(),
            "COMMITTED 30".into(),
            "GROUP_DELETED".into(),
            format!("DELETED {topic}"),
            "DONE".into(),
        ];
        assert_eq!(lines, want, "{tag}:\n{err}");
    }
}
