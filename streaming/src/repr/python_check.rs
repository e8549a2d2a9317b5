//! Cross-checks against the machine's CPython (`/usr/bin/python3`, which the
//! printability table was generated from): every code point's printability,
//! random strings' `repr` and random floats' `repr`.

use super::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::io::Write as _;
use std::process::{Command, Stdio};

const PYTHON: &str = "/usr/bin/python3";

/// Runs `script` with `input` on stdin and returns stdout.
fn python(script: &str, input: &str) -> String {
    let mut child = Command::new(PYTHON)
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("these checks need /usr/bin/python3 (Debian's python3 package)");
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(input.as_bytes())
        .expect("write to python");
    let out = child.wait_with_output().expect("python ran");
    assert!(out.status.success(), "python failed: {:?}", out.status);
    String::from_utf8(out.stdout).expect("python printed UTF-8")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn printability_matches_cpython_for_every_code_point() {
    let script = "import sys, unicodedata\n\
        print(unicodedata.unidata_version)\n\
        print(''.join('1' if chr(c).isprintable() else '0' for c in range(0x110000)))";
    let out = python(script, "");
    let mut lines = out.lines();
    let version = lines.next().expect("version line");
    assert_eq!(
        version, PRINTABLE_UNICODE_VERSION,
        "regenerate printable.rs for this Python"
    );
    let flags = lines.next().expect("flags line").as_bytes();
    assert_eq!(flags.len(), 0x110000);
    for (cp, flag) in flags.iter().enumerate() {
        let Some(c) = char::from_u32(cp as u32) else {
            continue; // surrogates do not exist in Rust strings
        };
        assert_eq!(is_printable(c), *flag == b'1', "U+{cp:04X}");
    }
}

#[test]
fn string_repr_matches_cpython() {
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(
        prop_oneof![
            any::<String>(),
            "[ -~]{0,20}",
            "['\"\\\\\t\r\n\x00-\x1f\x7f]{0,10}",
            proptest::collection::vec(any::<char>(), 0..12).prop_map(|v| v.into_iter().collect()),
        ],
        400,
    );
    let samples = strategy.new_tree(&mut runner).expect("strategy").current();
    let input: String = samples.iter().map(|s| hex(s.as_bytes()) + "\n").collect();
    let script = "import sys\n\
        for line in sys.stdin:\n    print(repr(bytes.fromhex(line.strip()).decode('utf-8')))";
    let out = python(script, &input);
    let expected: Vec<&str> = out.lines().collect();
    assert_eq!(expected.len(), samples.len());
    for (s, want) in samples.iter().zip(expected) {
        assert_eq!(s.py_repr(), want, "input {s:?}");
    }
}

#[test]
fn float_repr_matches_cpython() {
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            any::<f64>(),
            (-30i32..30, -1_000_000i64..1_000_000).prop_map(|(e, m)| m as f64 * 10f64.powi(e)),
        ],
        2000,
    );
    let mut samples = strategy.new_tree(&mut runner).expect("strategy").current();
    samples.extend([
        0.1,
        1e16,
        1e15,
        1e-4,
        1e-5,
        f64::from_bits(0x4341_c379_37e0_7fff),
        123.0,
        -0.0,
    ]);
    let input: String = samples
        .iter()
        .map(|x| hex(&x.to_le_bytes()) + "\n")
        .collect();
    let script = "import sys, struct\n\
        for line in sys.stdin:\n    print(repr(struct.unpack('<d', bytes.fromhex(line.strip()))[0]))";
    let out = python(script, &input);
    let expected: Vec<&str> = out.lines().collect();
    assert_eq!(expected.len(), samples.len());
    for (x, want) in samples.iter().zip(expected) {
        assert_eq!(x.py_repr(), want, "bits {:#x}", x.to_bits());
    }
}

#[test]
fn tuple_str_matches_cpython() {
    let value = (
        Some("k'ey".to_owned()),
        "tab\there \u{2028} é".to_owned(),
        3u64,
        -2.5f64,
        true,
        None::<i32>,
    );
    let out = python(
        "print(str(('k\\'ey', 'tab\\there \\u2028 \\u00e9', 3, -2.5, True, None)))",
        "",
    );
    assert_eq!(value.py_str(), out.trim_end_matches('\n'));
}
