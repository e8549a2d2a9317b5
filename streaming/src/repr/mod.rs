//! Python 3 `repr()`/`str()` of Rust values, so text output reads as PySpark's.
//!
//! PySpark's `saveAsTextFiles` writes `str(element)` per line. For a tuple
//! that is the `repr` of each field — `(None, 'message1')`,
//! `('key1', 'message1')`, `('message', 2)` — and for a bare string it is the
//! string itself. [`PyRepr::write_repr`] is Python's `repr()`;
//! [`PyRepr::write_str`] is Python's `str()`, which differs only for strings.

mod float;
mod printable;
mod string;

#[cfg(test)]
mod python_check;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::Arc;

pub use float::write_float_repr;
pub use string::{is_printable, write_str_repr};

/// Unicode version of the printability table (CPython's `unicodedata.unidata_version`).
pub const PRINTABLE_UNICODE_VERSION: &str = printable::UNICODE_VERSION;

/// A value with a Python 3 textual form.
///
/// ```
/// use kt_streaming::PyRepr;
/// assert_eq!((None::<String>, "message1").py_repr(), "(None, 'message1')");
/// assert_eq!((Some("key1"), "message1").py_repr(), "('key1', 'message1')");
/// assert_eq!(("message", 2).py_repr(), "('message', 2)");
/// assert_eq!("it's".py_repr(), "\"it's\"");
/// assert_eq!("it's".py_str(), "it's");
/// assert_eq!(vec![1.5, 1e16].py_repr(), "[1.5, 1e+16]");
/// ```
pub trait PyRepr {
    /// Appends Python's `repr(self)`.
    fn write_repr(&self, out: &mut String);

    /// Appends Python's `str(self)`: the same as `repr` except for strings,
    /// whose `str` is their text without quotes or escapes.
    fn write_str(&self, out: &mut String) {
        self.write_repr(out);
    }

    /// Python's `repr(self)` as a new string.
    fn py_repr(&self) -> String {
        let mut out = String::new();
        self.write_repr(&mut out);
        out
    }

    /// Python's `str(self)` as a new string.
    fn py_str(&self) -> String {
        let mut out = String::new();
        self.write_str(&mut out);
        out
    }
}

impl PyRepr for str {
    fn write_repr(&self, out: &mut String) {
        write_str_repr(self, out);
    }
    fn write_str(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl PyRepr for String {
    fn write_repr(&self, out: &mut String) {
        write_str_repr(self, out);
    }
    fn write_str(&self, out: &mut String) {
        out.push_str(self);
    }
}

impl PyRepr for Cow<'_, str> {
    fn write_repr(&self, out: &mut String) {
        write_str_repr(self, out);
    }
    fn write_str(&self, out: &mut String) {
        out.push_str(self);
    }
}

/// Python has no character type; a `char` prints as a one-character `str`.
impl PyRepr for char {
    fn write_repr(&self, out: &mut String) {
        let mut buf = [0u8; 4];
        write_str_repr(self.encode_utf8(&mut buf), out);
    }
    fn write_str(&self, out: &mut String) {
        out.push(*self);
    }
}

impl PyRepr for bool {
    fn write_repr(&self, out: &mut String) {
        out.push_str(if *self { "True" } else { "False" });
    }
}

impl PyRepr for () {
    fn write_repr(&self, out: &mut String) {
        out.push_str("()");
    }
}

macro_rules! int_repr {
    ($($t:ty)*) => {$(
        impl PyRepr for $t {
            fn write_repr(&self, out: &mut String) {
                // Writing to a String cannot fail.
                let _ = write!(out, "{self}");
            }
        }
    )*};
}
int_repr!(i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize);

impl PyRepr for f64 {
    fn write_repr(&self, out: &mut String) {
        write_float_repr(*self, out);
    }
}

/// Python floats are doubles; an `f32` prints as its exact `f64` value would.
impl PyRepr for f32 {
    fn write_repr(&self, out: &mut String) {
        write_float_repr(f64::from(*self), out);
    }
}

impl<T: PyRepr> PyRepr for Option<T> {
    fn write_repr(&self, out: &mut String) {
        match self {
            Some(v) => v.write_repr(out),
            None => out.push_str("None"),
        }
    }
    fn write_str(&self, out: &mut String) {
        match self {
            Some(v) => v.write_str(out),
            None => out.push_str("None"),
        }
    }
}

macro_rules! deref_repr {
    ($($wrapper:ty),*) => {$(
        impl<T: PyRepr + ?Sized> PyRepr for $wrapper {
            fn write_repr(&self, out: &mut String) {
                (**self).write_repr(out);
            }
            fn write_str(&self, out: &mut String) {
                (**self).write_str(out);
            }
        }
    )*};
}
deref_repr!(&T, Box<T>, Arc<T>, Rc<T>);

fn write_seq<'a, T: PyRepr + 'a>(items: impl IntoIterator<Item = &'a T>, out: &mut String) {
    out.push('[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        item.write_repr(out);
    }
    out.push(']');
}

/// Slices and vectors print as Python lists.
impl<T: PyRepr> PyRepr for [T] {
    fn write_repr(&self, out: &mut String) {
        write_seq(self, out);
    }
}

impl<T: PyRepr> PyRepr for Vec<T> {
    fn write_repr(&self, out: &mut String) {
        write_seq(self, out);
    }
}

/// Ordered maps print as Python dicts (`{'a': 1, 'b': 2}`).
impl<K: PyRepr, V: PyRepr> PyRepr for BTreeMap<K, V> {
    fn write_repr(&self, out: &mut String) {
        out.push('{');
        for (i, (k, v)) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            k.write_repr(out);
            out.push_str(": ");
            v.write_repr(out);
        }
        out.push('}');
    }
}

impl<A: PyRepr> PyRepr for (A,) {
    fn write_repr(&self, out: &mut String) {
        out.push('(');
        self.0.write_repr(out);
        out.push_str(",)");
    }
}

macro_rules! tuple_repr {
    ($first:ident $($name:ident)+) => {
        impl<$first: PyRepr, $($name: PyRepr),+> PyRepr for ($first, $($name),+) {
            #[allow(non_snake_case)]
            fn write_repr(&self, out: &mut String) {
                let ($first, $($name),+) = self;
                out.push('(');
                $first.write_repr(out);
                $(
                    out.push_str(", ");
                    $name.write_repr(out);
                )+
                out.push(')');
            }
        }
    };
}
tuple_repr!(A B);
tuple_repr!(A B C);
tuple_repr!(A B C D);
tuple_repr!(A B C D E);
tuple_repr!(A B C D E F);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_line_forms() {
        assert_eq!(
            (None::<String>, "message1".to_owned()).py_repr(),
            "(None, 'message1')"
        );
        assert_eq!(
            (Some("key1".to_owned()), "message1".to_owned()).py_str(),
            "('key1', 'message1')"
        );
        assert_eq!(("message".to_owned(), 2u64).py_str(), "('message', 2)");
    }

    #[test]
    fn containers_and_scalars() {
        assert_eq!((1,).py_repr(), "(1,)");
        assert_eq!(().py_repr(), "()");
        assert_eq!((true, false, -3i32).py_repr(), "(True, False, -3)");
        assert_eq!(Vec::<u8>::new().py_repr(), "[]");
        assert_eq!(vec!["a", "b'"].py_repr(), "['a', \"b'\"]");
        assert_eq!(Some(Some(1)).py_repr(), "1");
        assert_eq!('x'.py_repr(), "'x'");
        assert_eq!('x'.py_str(), "x");
        let map: BTreeMap<&str, i32> = [("a", 1), ("b", 2)].into_iter().collect();
        assert_eq!(map.py_repr(), "{'a': 1, 'b': 2}");
        assert_eq!(0.5f32.py_repr(), "0.5");
        assert_eq!(
            u128::MAX.py_repr(),
            "340282366920938463463374607431768211455"
        );
    }

    #[test]
    fn str_of_string_is_raw_but_nested_is_repr() {
        assert_eq!("a\nb".py_str(), "a\nb");
        assert_eq!(Some("a\nb").py_str(), "a\nb");
        assert_eq!(("a\nb",).py_str(), "('a\\nb',)");
    }
}
