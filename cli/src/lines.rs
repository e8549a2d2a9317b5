//! Splitting console-producer input into records.
//!
//! Input is read as bytes, not text: a line that is not UTF-8 is sent as it is, as
//! kafka-console-producer and kcat do. A line ends at `\n`; one trailing `\r` is dropped too so
//! files written on Windows produce the same records.

/// A line with its terminator (`\n` or `\r\n`) removed.
pub fn trim_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits `KEY<sep>VALUE` at the first occurrence of `sep`. `None` when the line has no
/// separator (kafka-console-producer rejects such a line with `parse.key=true`; so does kt).
/// An empty separator never matches.
pub fn split_key_value<'a>(line: &'a [u8], sep: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    if sep.is_empty() || sep.len() > line.len() {
        return None;
    }
    let at = line.windows(sep.len()).position(|w| w == sep)?;
    Some((&line[..at], &line[at + sep.len()..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn line_endings() {
        assert_eq!(trim_line_ending(b"message1\n"), b"message1");
        assert_eq!(trim_line_ending(b"message1\r\n"), b"message1");
        assert_eq!(trim_line_ending(b"message1"), b"message1");
        assert_eq!(trim_line_ending(b"a\r\r\n"), b"a\r");
        assert_eq!(trim_line_ending(b"\n"), b"");
    }

    #[test]
    fn first_separator_splits() {
        assert_eq!(
            split_key_value(b"key1:message1", b":"),
            Some((&b"key1"[..], &b"message1"[..]))
        );
        assert_eq!(
            split_key_value(b"k:v:w", b":"),
            Some((&b"k"[..], &b"v:w"[..]))
        );
        assert_eq!(split_key_value(b":v", b":"), Some((&b""[..], &b"v"[..])));
        assert_eq!(
            split_key_value(b"k::v", b"::"),
            Some((&b"k"[..], &b"v"[..]))
        );
        assert_eq!(split_key_value(b"novalue", b":"), None);
        assert_eq!(split_key_value(b"a:b", b""), None);
        assert_eq!(split_key_value(b"", b":"), None);
    }

    proptest! {
        #[test]
        fn split_then_join_is_identity(key in "[^:]{0,20}", value in ".{0,40}") {
            let line = format!("{key}:{value}");
            let (k, v) = split_key_value(line.as_bytes(), b":").unwrap();
            prop_assert_eq!(k, key.as_bytes());
            prop_assert_eq!(v, value.as_bytes());
        }

        #[test]
        fn never_panics(line in proptest::collection::vec(any::<u8>(), 0..64),
                        sep in proptest::collection::vec(any::<u8>(), 0..4)) {
            if let Some((k, v)) = split_key_value(&line, &sep) {
                prop_assert_eq!(k.len() + sep.len() + v.len(), line.len());
            }
            let _ = trim_line_ending(&line);
        }
    }
}
