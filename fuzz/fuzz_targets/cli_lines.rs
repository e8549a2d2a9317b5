//! `kt produce` line handling: line endings and `KEY<sep>VALUE` splitting. The first byte is
//! the separator length (0-3), then the separator, then the line.
//!
//! Oracles: key + separator + value is the line; the key holds no separator; trimming removes
//! at most one `\n` and then at most one `\r`.
#![no_main]

use kt_cli::lines::{split_key_value, trim_line_ending};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = usize::from(n % 4).min(rest.len());
    let (sep, line) = rest.split_at(n);
    let trimmed = trim_line_ending(line);
    assert!(line.starts_with(trimmed));
    let removed = &line[trimmed.len()..];
    assert!(
        matches!(removed, b"" | b"\n" | b"\r" | b"\r\n"),
        "{removed:?}"
    );
    match split_key_value(trimmed, sep) {
        Some((k, v)) => {
            assert!(!sep.is_empty());
            assert_eq!([k, sep, v].concat(), trimmed);
            assert!(
                !k.windows(sep.len()).any(|w| w == sep),
                "separator inside the key"
            );
        }
        None => assert!(sep.is_empty() || !trimmed.windows(sep.len()).any(|w| w == sep)),
    }
});
