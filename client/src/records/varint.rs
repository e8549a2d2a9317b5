//! Zig-zag varints as used inside v2 records (Protocol Buffers' encoding).
//!
//! Decoders reject encodings longer than the type allows instead of silently wrapping.

use crate::error::Error;

/// Appends `v` as a zig-zag varint (at most 5 bytes).
pub(crate) fn put_varint(buf: &mut Vec<u8>, v: i32) {
    put_uvarint64(buf, ((v << 1) ^ (v >> 31)) as u32 as u64);
}

/// Appends `v` as a zig-zag varlong (at most 10 bytes).
pub(crate) fn put_varlong(buf: &mut Vec<u8>, v: i64) {
    put_uvarint64(buf, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_uvarint64(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Encoded size of `v` as a zig-zag varint.
pub(crate) fn varint_len(v: i32) -> usize {
    uvarint_len(((v << 1) ^ (v >> 31)) as u32 as u64)
}

/// Encoded size of `v` as a zig-zag varlong.
pub(crate) fn varlong_len(v: i64) -> usize {
    uvarint_len(((v << 1) ^ (v >> 63)) as u64)
}

fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// A forward-only reader over a byte slice that never panics.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn short(what: &str) -> Error {
        Error::CorruptRecord(format!("record truncated while reading {what}"))
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, Error> {
        let b = *self.buf.get(self.pos).ok_or_else(|| Self::short(what))?;
        self.pos += 1;
        Ok(b)
    }

    /// Skips `n` bytes and returns the range they occupied.
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<std::ops::Range<usize>, Error> {
        if n > self.remaining() {
            return Err(Self::short(what));
        }
        let start = self.pos;
        self.pos += n;
        Ok(start..self.pos)
    }

    fn uvarint(&mut self, max_bytes: u32, what: &str) -> Result<u64, Error> {
        let mut value: u64 = 0;
        for i in 0..max_bytes {
            let b = self.u8(what)?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Error::CorruptRecord(format!("varint too long in {what}")))
    }

    pub(crate) fn varint(&mut self, what: &str) -> Result<i32, Error> {
        let raw = self.uvarint(5, what)?;
        let raw = u32::try_from(raw)
            .map_err(|_| Error::CorruptRecord(format!("varint overflows i32 in {what}")))?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    pub(crate) fn varlong(&mut self, what: &str) -> Result<i64, Error> {
        let raw = self.uvarint(10, what)?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        let mut b = Vec::new();
        put_varint(&mut b, -1);
        put_varint(&mut b, 1);
        put_varint(&mut b, 64);
        assert_eq!(b, vec![0x01, 0x02, 0x80, 0x01]);
    }

    #[test]
    fn overlong_is_rejected() {
        let b = [0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert!(Reader::new(&b).varint("x").is_err());
        let b = [0xff; 11];
        assert!(Reader::new(&b).varlong("x").is_err());
    }

    proptest! {
        #[test]
        fn varint_round_trip(v in any::<i32>()) {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            prop_assert_eq!(b.len(), varint_len(v));
            let mut r = Reader::new(&b);
            prop_assert_eq!(r.varint("v").unwrap(), v);
            prop_assert_eq!(r.remaining(), 0);
        }

        #[test]
        fn varlong_round_trip(v in any::<i64>()) {
            let mut b = Vec::new();
            put_varlong(&mut b, v);
            prop_assert_eq!(b.len(), varlong_len(v));
            let mut r = Reader::new(&b);
            prop_assert_eq!(r.varlong("v").unwrap(), v);
        }
    }
}
