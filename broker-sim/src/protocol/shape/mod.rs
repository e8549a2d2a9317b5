//! The shape guard: a table-driven walk over a request body that runs *before* the body is
//! handed to `kafka_protocol`'s decoders.
//!
//! Why: those decoders call `Vec::with_capacity(n)` with `n` read off the wire, so an 8-byte
//! Metadata request declaring 54 million topics makes the process try to allocate gigabytes.
//! The walker knows, for every (API, version) this broker serves, the sequence of fields from
//! the protocol guide's BNF, and checks that every array, string and bytes length fits in the
//! bytes that remain (an array of `n` elements needs at least `n` times the element's minimum
//! size), that known tagged fields are exactly as long as declared, and that nothing trails
//! the body. It allocates nothing. A body that passes can be decoded with allocations bounded
//! by a small multiple of its size.
//!
//! The tables live in [`tables`]; `tests` cross-checks them against the crate by encoding
//! random valid requests with `kafka_protocol`'s builders for every served version.

#[cfg(test)]
mod admin_generators;
#[cfg(test)]
mod generators;
#[cfg(test)]
mod group_generators;
mod tables;
#[cfg(test)]
mod tests;

pub(crate) use tables::shape_for;

use super::varint::read_uvarint;

/// Upper bound on array elements in one request. Real requests carry at most tens of
/// thousands; this keeps the decoded size of a maximal frame within reason.
pub(crate) const MAX_ELEMENTS: usize = 1 << 20;

/// A field type in the protocol guide's vocabulary. Strings, bytes and arrays switch to their
/// compact (unsigned varint length + 1) forms in flexible versions.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    Bool,
    I8,
    I16,
    I32,
    I64,
    Uuid,
    /// STRING / COMPACT_STRING.
    Str,
    /// NULLABLE_STRING / COMPACT_NULLABLE_STRING.
    NStr,
    /// BYTES / COMPACT_BYTES.
    Bytes,
    /// NULLABLE_BYTES / COMPACT_NULLABLE_BYTES, also RECORDS.
    NBytes,
    /// ARRAY / COMPACT_ARRAY.
    Array(&'static Ty),
    /// Nullable ARRAY / COMPACT_ARRAY.
    NArray(&'static Ty),
    /// A struct: its fields, then (in flexible versions) its tagged fields.
    Struct(&'static Struct),
}

/// A struct's regular fields and the tagged fields this crate knows.
#[derive(Debug)]
pub(crate) struct Struct {
    pub(crate) fields: &'static [Field],
    pub(crate) tags: &'static [Tag],
}

/// A field present in versions `min..=max`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub(crate) ty: Ty,
    pub(crate) min: i16,
    pub(crate) max: i16,
}

/// A known tagged field (tag number, type, versions).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tag {
    pub(crate) tag: u32,
    pub(crate) ty: Ty,
    pub(crate) min: i16,
    pub(crate) max: i16,
}

/// One API's request body: the first flexible version and the top-level struct.
#[derive(Debug)]
pub(crate) struct ApiShape {
    pub(crate) flexible_min: i16,
    pub(crate) body: &'static Struct,
}

/// Why a body failed the shape check. Positions are byte offsets into the body.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ShapeError {
    #[error("field at byte {pos} needs {need} bytes but {remaining} remain")]
    Truncated {
        pos: usize,
        need: u64,
        remaining: usize,
    },
    #[error("invalid length {len} at byte {pos}")]
    BadLength { pos: usize, len: i64 },
    #[error("malformed unsigned varint at byte {pos}")]
    BadVarint { pos: usize },
    #[error("tagged field {tag} declared {declared} bytes but its value took {used}")]
    TagSize {
        tag: u32,
        declared: usize,
        used: usize,
    },
    #[error("more than {MAX_ELEMENTS} array elements in one request")]
    TooManyElements,
    #[error("{0} bytes trail the request body")]
    Trailing(usize),
    #[error("no shape table for api key {api_key} version {version}")]
    NoTable { api_key: i16, version: i16 },
}

/// Checks `body` against the table for `api_key`/`version`.
pub(crate) fn check(api_key: i16, version: i16, body: &[u8]) -> Result<(), ShapeError> {
    let shape = shape_for(api_key).ok_or(ShapeError::NoTable { api_key, version })?;
    let mut walker = Walker {
        buf: body,
        pos: 0,
        version,
        flexible: version >= shape.flexible_min,
        elements: 0,
    };
    walker.walk_struct(shape.body)?;
    match body.len() - walker.pos {
        0 => Ok(()),
        n => Err(ShapeError::Trailing(n)),
    }
}

fn present(min: i16, max: i16, version: i16) -> bool {
    (min..=max).contains(&version)
}

struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
    version: i16,
    flexible: bool,
    elements: usize,
}

impl Walker<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn skip(&mut self, n: u64) -> Result<(), ShapeError> {
        let remaining = self.remaining();
        if n > remaining as u64 {
            return Err(ShapeError::Truncated {
                pos: self.pos,
                need: n,
                remaining,
            });
        }
        self.pos += n as usize;
        Ok(())
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], ShapeError> {
        let start = self.pos;
        self.skip(N as u64)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[start..start + N]);
        Ok(out)
    }

    fn uvarint(&mut self) -> Result<u32, ShapeError> {
        let (v, used) =
            read_uvarint(&self.buf[self.pos..]).ok_or(ShapeError::BadVarint { pos: self.pos })?;
        self.pos += used;
        Ok(v)
    }

    /// Reads a length prefix. Returns `None` for null, rejecting null when not `nullable`.
    /// `wide` selects int32 (bytes, arrays) over int16 (strings) in non-flexible versions.
    fn length(&mut self, nullable: bool, wide: bool) -> Result<Option<u64>, ShapeError> {
        let pos = self.pos;
        let len: i64 = if self.flexible {
            i64::from(self.uvarint()?) - 1
        } else if wide {
            i64::from(i32::from_be_bytes(self.fixed()?))
        } else {
            i64::from(i16::from_be_bytes(self.fixed()?))
        };
        match len {
            -1 if nullable => Ok(None),
            n if n < 0 => Err(ShapeError::BadLength { pos, len: n }),
            n => Ok(Some(n as u64)),
        }
    }

    fn walk(&mut self, ty: &Ty) -> Result<(), ShapeError> {
        match ty {
            Ty::Bool | Ty::I8 => self.skip(1),
            Ty::I16 => self.skip(2),
            Ty::I32 => self.skip(4),
            Ty::I64 => self.skip(8),
            Ty::Uuid => self.skip(16),
            Ty::Str | Ty::NStr => {
                let len = self.length(matches!(ty, Ty::NStr), false)?;
                self.skip(len.unwrap_or(0))
            }
            Ty::Bytes | Ty::NBytes => {
                let len = self.length(matches!(ty, Ty::NBytes), true)?;
                self.skip(len.unwrap_or(0))
            }
            Ty::Array(elem) | Ty::NArray(elem) => {
                let pos = self.pos;
                let Some(count) = self.length(matches!(ty, Ty::NArray(_)), true)? else {
                    return Ok(());
                };
                let min = self.min_size(elem).max(1);
                if count.saturating_mul(min) > self.remaining() as u64 {
                    return Err(ShapeError::Truncated {
                        pos,
                        need: count.saturating_mul(min),
                        remaining: self.remaining(),
                    });
                }
                self.elements = self.elements.saturating_add(count as usize);
                if self.elements > MAX_ELEMENTS {
                    return Err(ShapeError::TooManyElements);
                }
                for _ in 0..count {
                    self.walk(elem)?;
                }
                Ok(())
            }
            Ty::Struct(s) => self.walk_struct(s),
        }
    }

    fn walk_struct(&mut self, s: &Struct) -> Result<(), ShapeError> {
        let version = self.version;
        for field in s.fields.iter().filter(|f| present(f.min, f.max, version)) {
            self.walk(&field.ty)?;
        }
        if self.flexible {
            self.walk_tagged(s.tags)?;
        }
        Ok(())
    }

    /// Tagged fields: count, then (tag, size, value) each. Known tags are walked within
    /// exactly `size` bytes, because `kafka_protocol` decodes them without looking at the size.
    fn walk_tagged(&mut self, known: &[Tag]) -> Result<(), ShapeError> {
        let count = self.uvarint()?;
        // Each tagged field takes at least two bytes (tag and size).
        if u64::from(count) * 2 > self.remaining() as u64 {
            return Err(ShapeError::Truncated {
                pos: self.pos,
                need: u64::from(count) * 2,
                remaining: self.remaining(),
            });
        }
        for _ in 0..count {
            let tag = self.uvarint()?;
            let size = self.uvarint()? as usize;
            if size > self.remaining() {
                return Err(ShapeError::Truncated {
                    pos: self.pos,
                    need: size as u64,
                    remaining: self.remaining(),
                });
            }
            let known = known
                .iter()
                .find(|t| t.tag == tag && present(t.min, t.max, self.version));
            match known {
                Some(t) => {
                    let end = self.pos + size;
                    let start = self.pos;
                    let outer = self.buf;
                    self.buf = &outer[..end];
                    let result = self.walk(&t.ty);
                    self.buf = outer;
                    result?;
                    if self.pos != end {
                        return Err(ShapeError::TagSize {
                            tag,
                            declared: size,
                            used: self.pos - start,
                        });
                    }
                }
                None => self.pos += size,
            }
        }
        Ok(())
    }

    /// The fewest bytes an encoding of `ty` can take at this version.
    fn min_size(&self, ty: &Ty) -> u64 {
        match ty {
            Ty::Bool | Ty::I8 => 1,
            Ty::I16 => 2,
            Ty::I32 => 4,
            Ty::I64 => 8,
            Ty::Uuid => 16,
            Ty::Str | Ty::NStr => {
                if self.flexible {
                    1
                } else {
                    2
                }
            }
            Ty::Bytes | Ty::NBytes | Ty::Array(_) | Ty::NArray(_) => {
                if self.flexible {
                    1
                } else {
                    4
                }
            }
            Ty::Struct(s) => {
                let fields: u64 = s
                    .fields
                    .iter()
                    .filter(|f| present(f.min, f.max, self.version))
                    .map(|f| self.min_size(&f.ty))
                    .sum();
                fields + u64::from(self.flexible)
            }
        }
    }
}
