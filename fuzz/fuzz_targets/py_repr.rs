//! The Python-repr writer against an independent Python-literal decoder: for arbitrary nested
//! values of the types kt prints (`kt_fuzz::pyvalue::Value`), `decode(repr(x))` must be the
//! Python value `x` stands for, and `str(x)` of a string must be the string itself (what
//! `saveAsTextFiles` writes for bare strings).
#![no_main]

use kt_fuzz::pylit::{MAX_DEPTH, decode};
use kt_fuzz::pyvalue::Value;
use kt_streaming::PyRepr;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: Value| {
    if value.depth() > MAX_DEPTH {
        return; // beyond the decoder's nesting limit (CPython's parser has one too)
    }
    let repr = value.py_repr();
    let decoded = decode(&repr).unwrap_or_else(|e| panic!("repr {repr:?} does not decode: {e:?}"));
    let expected = value.expected();
    assert!(
        decoded.same(&expected),
        "repr {repr:?} decodes to {decoded:?}, expected {expected:?}"
    );
    match &value {
        Value::Str(s) => assert_eq!(&value.py_str(), s),
        Value::Char(c) => assert_eq!(value.py_str(), c.to_string()),
        Value::Opt(_) | Value::Unit => {}
        _ => assert_eq!(value.py_str(), repr),
    }
});
