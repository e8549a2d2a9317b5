//! Arbitrary values of the Rust types kt's `PyRepr` covers, and what Python must read back.

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use kt_streaming::PyRepr;

use crate::pylit::Py;

/// A value built from the types `PyRepr` is implemented for. Tuples hold 0 to 6 elements
/// (the arities kt implements); longer generated ones are cut to 6.
#[derive(Debug, Clone, Arbitrary)]
pub enum Value {
    Unit,
    Bool(bool),
    I8(i8),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F32(f32),
    F64(f64),
    Char(char),
    Str(String),
    Opt(Option<Box<Value>>),
    Tuple(Vec<Value>),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

fn int(negative: bool, magnitude: u128) -> Py {
    Py::Int {
        negative: negative && magnitude != 0,
        magnitude,
    }
}

impl Value {
    /// Nesting depth as the Python literal nests (an `Opt` adds none).
    pub fn depth(&self) -> usize {
        match self {
            Value::Opt(Some(v)) => v.depth(),
            Value::Tuple(items) => 1 + items.iter().take(6).map(Value::depth).max().unwrap_or(0),
            Value::List(items) => 1 + items.iter().map(Value::depth).max().unwrap_or(0),
            Value::Map(m) => 1 + m.values().map(Value::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// The Python value `repr(self)` must denote.
    pub fn expected(&self) -> Py {
        match self {
            Value::Unit => Py::Tuple(Vec::new()),
            Value::Bool(b) => Py::Bool(*b),
            Value::I8(v) => int(*v < 0, u128::from(v.unsigned_abs())),
            Value::I64(v) => int(*v < 0, u128::from(v.unsigned_abs())),
            Value::U64(v) => int(false, u128::from(*v)),
            Value::I128(v) => int(*v < 0, v.unsigned_abs()),
            Value::U128(v) => int(false, *v),
            Value::F32(v) => Py::Float(f64::from(*v)),
            Value::F64(v) => Py::Float(*v),
            Value::Char(c) => Py::Str(c.to_string()),
            Value::Str(s) => Py::Str(s.clone()),
            Value::Opt(None) => Py::None,
            Value::Opt(Some(v)) => v.expected(),
            Value::Tuple(items) => Py::Tuple(items.iter().take(6).map(Value::expected).collect()),
            Value::List(items) => Py::List(items.iter().map(Value::expected).collect()),
            Value::Map(m) => Py::Dict(
                m.iter()
                    .map(|(k, v)| (Py::Str(k.clone()), v.expected()))
                    .collect(),
            ),
        }
    }
}

impl PyRepr for Value {
    fn write_repr(&self, out: &mut String) {
        match self {
            Value::Unit => ().write_repr(out),
            Value::Bool(v) => v.write_repr(out),
            Value::I8(v) => v.write_repr(out),
            Value::I64(v) => v.write_repr(out),
            Value::U64(v) => v.write_repr(out),
            Value::I128(v) => v.write_repr(out),
            Value::U128(v) => v.write_repr(out),
            Value::F32(v) => v.write_repr(out),
            Value::F64(v) => v.write_repr(out),
            Value::Char(v) => v.write_repr(out),
            Value::Str(v) => v.write_repr(out),
            Value::Opt(v) => v.write_repr(out),
            Value::Tuple(items) => match items.as_slice() {
                [] => ().write_repr(out),
                [a] => (a,).write_repr(out),
                [a, b] => (a, b).write_repr(out),
                [a, b, c] => (a, b, c).write_repr(out),
                [a, b, c, d] => (a, b, c, d).write_repr(out),
                [a, b, c, d, e] => (a, b, c, d, e).write_repr(out),
                [a, b, c, d, e, f, ..] => (a, b, c, d, e, f).write_repr(out),
            },
            Value::List(items) => items.write_repr(out),
            Value::Map(m) => m.write_repr(out),
        }
    }

    fn write_str(&self, out: &mut String) {
        match self {
            Value::Char(v) => v.write_str(out),
            Value::Str(v) => v.write_str(out),
            Value::Opt(v) => v.write_str(out),
            _ => self.write_repr(out),
        }
    }
}
