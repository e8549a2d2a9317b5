//! The web-log line parser on arbitrary bytes (as `kt stream weblog` reads Kafka values).
//!
//! Oracles: the byte and text entry points agree; every accepted line's fields have the shape
//! the parser promises (non-blank host/ident/user, a method token, an endpoint and protocol
//! without whitespace, three status digits); and the fields written back as a canonical
//! Common Log Format line parse to the same fields.
#![no_main]

use kt_streaming::weblog::{parse_log_bytes, parse_log_line};
use libfuzzer_sys::fuzz_target;

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_log_line(&text);
    let from_bytes = parse_log_bytes(data);
    assert_eq!(
        parsed.as_ref().map(|l| l.to_record()).map_err(Clone::clone),
        from_bytes
    );
    let Ok(line) = parsed else { return };
    for field in [line.host, line.ident, line.user, line.endpoint] {
        assert!(
            !field.is_empty() && !field.contains(char::is_whitespace),
            "{field:?}"
        );
    }
    assert!(!line.method.is_empty() && line.method.chars().all(is_tchar));
    if let Some(p) = line.protocol {
        assert!(!p.is_empty() && !p.contains(char::is_whitespace));
    }
    assert!(line.status <= 999);
    let request = match line.protocol {
        Some(p) => format!("{} {} {p}", line.method, line.endpoint),
        None => format!("{} {}", line.method, line.endpoint),
    };
    let size = line.size.map_or_else(|| "-".to_owned(), |s| s.to_string());
    let canonical = format!(
        "{} {} {} [{}] \"{request}\" {:03} {size}",
        line.host, line.ident, line.user, line.timestamp, line.status
    );
    let again = parse_log_line(&canonical).expect("the canonical form of an accepted line parses");
    assert_eq!(again, line, "canonical line: {canonical:?}");
});
