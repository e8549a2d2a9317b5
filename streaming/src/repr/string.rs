//! Python 3 `repr()` of a `str`, following CPython's `unicode_repr`.
//!
//! Quote choice: single quotes, unless the string contains `'` and no `"`,
//! then double quotes; when both occur, single quotes with `\'` escaped.
//! Escapes: `\\`, `\t`, `\n`, `\r`; other characters below U+0020 and U+007F
//! as `\xNN`; non-ASCII characters that are not printable (see
//! [`is_printable`]) as `\xNN`, `\uNNNN` or `\UNNNNNNNN` by size; printable
//! non-ASCII characters are kept as they are. Hex digits are lowercase.

use super::printable::NON_PRINTABLE;

/// Whether CPython's `Py_UNICODE_ISPRINTABLE` holds for `c`, i.e. whether
/// `repr()` keeps it unescaped. Generated table; see `tools/gen_printable.py`.
pub fn is_printable(c: char) -> bool {
    let cp = u32::from(c);
    if (0x20..0x7f).contains(&cp) {
        return true;
    }
    // Ranges are sorted and disjoint: find the last range starting at or before cp.
    let idx = NON_PRINTABLE.partition_point(|&(start, _)| start <= cp);
    match idx.checked_sub(1).and_then(|i| NON_PRINTABLE.get(i)) {
        Some(&(_, end)) => cp > end,
        None => true,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut String, value: u32, digits: u32) {
    for shift in (0..digits).rev() {
        let nibble = (value >> (shift * 4)) & 0xf;
        // nibble < 16, so the index is in bounds.
        out.push(char::from(HEX[nibble as usize]));
    }
}

/// Appends `repr(s)` as Python 3 prints it.
pub fn write_str_repr(s: &str, out: &mut String) {
    let has_single = s.contains('\'');
    let has_double = s.contains('"');
    let quote = if has_single && !has_double { '"' } else { '\'' };
    out.reserve(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_printable(c) => out.push(c),
            c => {
                let cp = u32::from(c);
                if cp < 0x100 {
                    out.push_str("\\x");
                    push_hex(out, cp, 2);
                } else if cp < 0x10000 {
                    out.push_str("\\u");
                    push_hex(out, cp, 4);
                } else {
                    out.push_str("\\U");
                    push_hex(out, cp, 8);
                }
            }
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(s: &str) -> String {
        let mut out = String::new();
        write_str_repr(s, &mut out);
        out
    }

    #[test]
    fn quote_choice_matches_python() {
        assert_eq!(repr("message1"), "'message1'");
        assert_eq!(repr(""), "''");
        assert_eq!(repr("it's"), "\"it's\"");
        assert_eq!(repr("say \"hi\""), "'say \"hi\"'");
        assert_eq!(repr("it's \"x\""), "'it\\'s \"x\"'");
    }

    #[test]
    fn escapes_match_python() {
        assert_eq!(repr("a\\b"), "'a\\\\b'");
        assert_eq!(repr("\t\n\r"), "'\\t\\n\\r'");
        assert_eq!(repr("\0\x07\x1b\x7f"), "'\\x00\\x07\\x1b\\x7f'");
        assert_eq!(repr("\u{a0}\u{ad}"), "'\\xa0\\xad'");
        assert_eq!(repr("é ü 日本 🎉"), "'é ü 日本 🎉'");
        assert_eq!(repr("\u{200b}\u{2028}\u{feff}"), "'\\u200b\\u2028\\ufeff'");
        assert_eq!(repr("\u{e000}\u{10ffff}"), "'\\ue000\\U0010ffff'");
        assert_eq!(repr("\u{fffd}"), "'\u{fffd}'");
    }

    #[test]
    fn printable_table_edges() {
        assert!(is_printable(' '));
        assert!(is_printable('~'));
        assert!(!is_printable('\u{7f}'));
        assert!(!is_printable('\u{a0}'));
        assert!(is_printable('\u{a1}'));
        assert!(!is_printable('\u{0}'));
        assert!(!is_printable('\u{10ffff}'));
    }
}
