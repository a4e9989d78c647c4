//! Reading a JSON roll: an array of objects, each error at the line where its element starts.
//!
//! serde_json first splits the top-level array into borrowed [`RawValue`]s (and reports a
//! syntax error with its own line); each element's place in the text is where its slice starts,
//! which gives its line. Each element is then read by a visitor that takes the five keys as
//! text, borrowing the strings without escapes, and notes unknown and repeated keys and values
//! of the wrong type instead of stopping at them.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::check::{Builder, Fields};
use crate::error::{RollErrorKind as K, shown};

const KEYS: [&str; 5] = ["id", "email", "weight", "name", "lang"];

/// A JSON value as far as a roll cares.
#[derive(Debug)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    U64(u64),
    I64(i64),
    F64(f64),
    Bool,
    Null,
    Array,
    Object,
}

impl Scalar<'_> {
    fn what(&self) -> &'static str {
        match self {
            Scalar::Str(_) => "a string",
            Scalar::U64(_) | Scalar::I64(_) | Scalar::F64(_) => "a number",
            Scalar::Bool => "a boolean",
            Scalar::Null => "null",
            Scalar::Array => "an array",
            Scalar::Object => "an object",
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::U64(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::I64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
        Ok(Scalar::F64(v))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Bool)
    }
    fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// A key: one of [`KEYS`] by index, or another (cut short for the message).
enum Key {
    Known(usize),
    Unknown(String),
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, v: &str) -> Result<Key, E> {
                Ok(match KEYS.iter().position(|k| *k == v) {
                    Some(i) => Key::Known(i),
                    None => Key::Unknown(shown(v)),
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// One array element: an object's known values and its problems, or what it is instead.
enum Element<'a> {
    Object {
        values: [Option<Scalar<'a>>; 5],
        problems: Vec<(String, K)>,
    },
    Other(&'static str),
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = Element<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a voter object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Element<'de>, A::Error> {
        let mut values: [Option<Scalar<'de>>; 5] = Default::default();
        let mut problems = Vec::new();
        while let Some(key) = map.next_key::<Key>()? {
            let value = map.next_value::<Scalar<'de>>()?;
            match key {
                Key::Known(i) if values[i].is_some() => {
                    problems.push((KEYS[i].to_owned(), K::RepeatedKey(KEYS[i].to_owned())));
                }
                Key::Known(i) => values[i] = Some(value),
                Key::Unknown(k) => problems.push((k.clone(), K::UnknownKey(k))),
            }
        }
        Ok(Element::Object { values, problems })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Element<'de>, A::Error> {
        ScalarVisitor.visit_seq(seq)?;
        Ok(Element::Other("an array"))
    }
    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Element<'de>, E> {
        Ok(Element::Other("a string"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Element<'de>, E> {
        Ok(Element::Other("a string"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Element<'de>, E> {
        Ok(Element::Other("a number"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Element<'de>, E> {
        Ok(Element::Other("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Element<'de>, E> {
        Ok(Element::Other("a number"))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Element<'de>, E> {
        Ok(Element::Other("a boolean"))
    }
    fn visit_unit<E>(self) -> Result<Element<'de>, E> {
        Ok(Element::Other("null"))
    }
}

impl<'de> Deserialize<'de> for Element<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ElementVisitor)
    }
}

/// The line of byte offset `to`, counting on from `line` at offset `from`.
fn advance(bytes: &[u8], from: usize, to: usize, line: u64) -> u64 {
    let newlines = bytes
        .get(from..to)
        .map_or(0, |s| s.iter().filter(|&&b| b == b'\n').count());
    line + newlines as u64
}

/// serde_json's message without its " at line L column C", which the error's line replaces.
fn json_message(e: &serde_json::Error) -> String {
    let m = e.to_string();
    match m.rfind(" at line ") {
        Some(i) => m[..i].to_owned(),
        None => m,
    }
}

/// Reads the roll; returns the line where an empty roll is reported.
pub(crate) fn read(text: &str, b: &mut Builder) -> u64 {
    let bytes = text.as_bytes();
    let Some(first) = bytes.iter().position(|c| !c.is_ascii_whitespace()) else {
        return 1;
    };
    let first_line = advance(bytes, 0, first, 1);
    if bytes[first] != b'[' {
        b.error(
            first_line,
            None,
            K::Json(
                "the file must be one array of voters: [{\"id\": …, \"email\": …}, …]".to_owned(),
            ),
        );
        return first_line;
    }
    let elements: Vec<&RawValue> = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(e) => {
            let line = u64::try_from(e.line()).unwrap_or(1).max(1);
            b.error(line, None, K::Json(json_message(&e)));
            return line;
        }
    };
    let base = text.as_ptr().addr();
    let (mut at, mut line) = (0, 1);
    // Reused for numbers written as text, so that a numeric weight costs no allocation.
    let mut id_text = String::new();
    let mut weight_text = String::new();
    for raw in elements {
        let offset = raw.get().as_ptr().addr().saturating_sub(base);
        line = advance(bytes, at, offset, line);
        at = offset;
        let element = match serde_json::from_str::<Element<'_>>(raw.get()) {
            Ok(e) => e,
            Err(e) => {
                // Not expected: the element was well formed JSON a moment ago.
                b.error(line, None, K::Json(json_message(&e)));
                if !b.count(line) {
                    break;
                }
                continue;
            }
        };
        let (values, problems) = match element {
            Element::Object { values, problems } => (values, problems),
            Element::Other(what) => {
                b.error(line, None, K::NotAnObject(what));
                if !b.count(line) {
                    break;
                }
                continue;
            }
        };
        for (field, kind) in problems {
            b.error(line, Some(&field), kind);
        }
        let [id, email, weight, name, lang] = &values;
        let mut fields = Fields::default();
        let id = typed(
            b,
            line,
            &mut fields.reported,
            0,
            text_of(id, Some(&mut id_text), Numbers::Whole),
        );
        let email = typed(
            b,
            line,
            &mut fields.reported,
            1,
            text_of(email, None, Numbers::No),
        );
        let weight = typed(
            b,
            line,
            &mut fields.reported,
            2,
            text_of(weight, Some(&mut weight_text), Numbers::Any),
        );
        let name = typed(
            b,
            line,
            &mut fields.reported,
            3,
            text_of(name, None, Numbers::No),
        );
        let lang = typed(
            b,
            line,
            &mut fields.reported,
            4,
            text_of(lang, None, Numbers::No),
        );
        fields.id = id;
        fields.email = email;
        fields.weight = weight;
        fields.name = name;
        fields.lang = lang;
        b.add(line, &fields);
        if b.stopped {
            break;
        }
    }
    line
}

/// The text of a value, or `None` after reporting a value of the wrong type.
fn typed<'v>(
    b: &mut Builder,
    line: u64,
    reported: &mut [bool; 5],
    i: usize,
    r: Result<Option<&'v str>, &'static str>,
) -> Option<&'v str> {
    match r {
        Ok(text) => text,
        Err(found) => {
            let expected = match i {
                0 => "a string or a whole number",
                2 => "a number",
                _ => "a string",
            };
            b.error(line, Some(KEYS[i]), K::WrongType { expected, found });
            reported[i] = true;
            None
        }
    }
}

/// Which numbers a key takes as its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Numbers {
    No,
    Whole,
    Any,
}

/// The text of a value: a string as is, a number written into `buf` if the key takes numbers
/// (and has a `buf`);
/// `None` for an absent key or `null`; what the value is when the key does not take it.
fn text_of<'v>(
    value: &'v Option<Scalar<'_>>,
    buf: Option<&'v mut String>,
    numbers: Numbers,
) -> Result<Option<&'v str>, &'static str> {
    let n: &dyn fmt::Display = match (value, numbers) {
        (None | Some(Scalar::Null), _) => return Ok(None),
        (Some(Scalar::Str(s)), _) => return Ok(Some(s)),
        (Some(Scalar::U64(n)), Numbers::Whole | Numbers::Any) => n,
        (Some(Scalar::I64(n)), Numbers::Whole | Numbers::Any) => n,
        (Some(Scalar::F64(n)), Numbers::Any) => n,
        (Some(other), _) => return Err(other.what()),
    };
    let Some(buf) = buf else {
        return Err("a number");
    };
    buf.clear();
    // Writing to a String cannot fail.
    let _ = write!(buf, "{n}");
    Ok(Some(buf))
}
