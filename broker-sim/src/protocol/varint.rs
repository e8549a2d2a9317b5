//! Unsigned and zig-zag varints as used by flexible versions and record batches.
//!
//! Readers return `None` instead of panicking on truncated or over-long input.

/// Reads an unsigned varint (at most 5 bytes, value fits in u32). Returns value and length.
pub(crate) fn read_uvarint(buf: &[u8]) -> Option<(u32, usize)> {
    let mut value: u32 = 0;
    for (i, &b) in buf.iter().enumerate().take(5) {
        let bits = u32::from(b & 0x7f);
        if i == 4 && b > 0x0f {
            return None; // would overflow 32 bits
        }
        value |= bits << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Reads a zig-zag encoded signed varint of up to 32 bits (record lengths, deltas).
#[inline]
pub(crate) fn read_varint(buf: &[u8]) -> Option<(i32, usize)> {
    // Record fields mostly take one or two bytes; the produce path walks every record.
    let (raw, used) = match *buf {
        [b0, ..] if b0 < 0x80 => (u32::from(b0), 1),
        [b0, b1, ..] if b1 < 0x80 => (u32::from(b0 & 0x7f) | (u32::from(b1) << 7), 2),
        _ => read_uvarint(buf)?,
    };
    Some((((raw >> 1) as i32) ^ -((raw & 1) as i32), used))
}

/// Reads a zig-zag encoded signed varlong of up to 64 bits (timestamp deltas).
#[inline]
pub(crate) fn read_varlong(buf: &[u8]) -> Option<(i64, usize)> {
    let (raw, used) = match *buf {
        [b0, ..] if b0 < 0x80 => (u64::from(b0), 1),
        [b0, b1, ..] if b1 < 0x80 => (u64::from(b0 & 0x7f) | (u64::from(b1) << 7), 2),
        _ => return read_varlong_multi(buf),
    };
    Some((((raw >> 1) as i64) ^ -((raw & 1) as i64), used))
}

fn read_varlong_multi(buf: &[u8]) -> Option<(i64, usize)> {
    let mut raw: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(10) {
        if i == 9 && b > 0x01 {
            return None;
        }
        raw |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((((raw >> 1) as i64) ^ -((raw & 1) as i64), i + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn put_uvarint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    proptest! {
        #[test]
        fn uvarint_roundtrip(v: u32) {
            let mut buf = Vec::new();
            put_uvarint(u64::from(v), &mut buf);
            prop_assert_eq!(read_uvarint(&buf), Some((v, buf.len())));
        }

        #[test]
        fn varint_roundtrip(v: i32) {
            let mut buf = Vec::new();
            put_uvarint(u64::from(((v << 1) ^ (v >> 31)) as u32), &mut buf);
            prop_assert_eq!(read_varint(&buf), Some((v, buf.len())));
        }

        #[test]
        fn varlong_roundtrip(v: i64) {
            let mut buf = Vec::new();
            put_uvarint(((v << 1) ^ (v >> 63)) as u64, &mut buf);
            prop_assert_eq!(read_varlong(&buf), Some((v, buf.len())));
        }

        #[test]
        fn readers_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..12)) {
            let _ = read_uvarint(&buf);
            let _ = read_varint(&buf);
            let _ = read_varlong(&buf);
        }
    }

    #[test]
    fn rejects_truncated_and_overlong() {
        assert_eq!(read_uvarint(&[]), None);
        assert_eq!(read_uvarint(&[0x80]), None);
        assert_eq!(read_uvarint(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None);
        assert_eq!(
            read_uvarint(&[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Some((u32::MAX, 5))
        );
    }
}
