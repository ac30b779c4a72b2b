//! Reading authenticated JSON without re-serializing and without floats: members are kept as raw
//! JSON text and typed only when read; of duplicated keys the last wins (CentralBill's own example
//! repeats a key); numbers meant as money are parsed as exact decimals.
//!
//! [`Members`] and [`Nested`] read a document in one pass: each level keeps only the members it
//! names, raw, and skips (validating, without recursion) everything else. The pass is our own
//! scanner (`json_index`'s lexer), not a `serde_json` deserializer: it keeps the document's text
//! and has no visitor or key to build per member. `RawObject`, which keeps
//! every member of one object, is the reference the tests compare the one-pass readers with
//! (REST's here; link's is `json_index`'s `JsonIndex`); no production path uses it.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
#[cfg(test)]
use serde::{Deserialize, de::MapAccess};
#[cfg(test)]
use serde_json::value::RawValue;

use crate::json_index::{Open, SyntaxError, scan_string, skip_values, skip_ws};

/// A JSON object whose members are still raw (the tests' reference reader).
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct RawObject<'a> {
    members: Vec<(Cow<'a, str>, &'a RawValue)>,
}

/// A member has the wrong JSON type or an unreadable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonFieldError {
    /// The member's key.
    pub(crate) key: String,
    /// What was expected.
    pub(crate) expected: &'static str,
}

impl JsonFieldError {
    pub(crate) fn new(key: &str, expected: &'static str) -> Self {
        Self { key: key.to_owned(), expected }
    }
}

impl fmt::Display for JsonFieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not {}", self.key, self.expected)
    }
}

#[cfg(test)]
impl fmt::Debug for RawObject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.members.iter().map(|(k, v)| (k, v.get()))).finish()
    }
}

#[cfg(test)]
impl<'a> RawObject<'a> {
    /// Parses a JSON document that must be an object.
    pub(crate) fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// A member (the last one when the key is repeated).
    fn member(&self, key: &str) -> RawMember<'a> {
        RawMember(self.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.get()))
    }

    /// The raw value of a member (the last one when the key is repeated); `null` counts as absent.
    pub(crate) fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v).filter(|v| v.get() != "null")
    }

    /// A string member, owned.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, JsonFieldError> {
        self.member(key).string(key)
    }

    /// A string or a number, as text (ids are sometimes sent either way).
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, JsonFieldError> {
        self.member(key).text(key)
    }

    /// A number member as an exact decimal (never through `f64`); a numeric string is accepted.
    pub(crate) fn decimal(&self, key: &str) -> Result<Option<Decimal>, JsonFieldError> {
        self.member(key).decimal(key)
    }

    /// An object member.
    pub(crate) fn object(&self, key: &str) -> Result<Option<RawObject<'a>>, JsonFieldError> {
        self.raw(key)
            .map(|raw| RawObject::deserialize(raw).map_err(|_| JsonFieldError::new(key, "an object")))
            .transpose()
    }
}

/// One member's raw JSON text, typed when read; `null` and absence are the same. The typing
/// methods take the key to name it in their error.
#[derive(Clone, Copy, Default)]
pub(crate) struct RawMember<'a>(Option<&'a str>);

impl fmt::Debug for RawMember<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'a> RawMember<'a> {
    /// The raw value (validated JSON text); `null` counts as absent.
    pub(crate) fn raw(self) -> Option<&'a str> {
        self.0.filter(|&v| v != "null")
    }

    /// A string.
    pub(crate) fn str(self, key: &str) -> Result<Option<Cow<'a, str>>, JsonFieldError> {
        self.raw().map(|raw| string_value(raw).ok_or_else(|| JsonFieldError::new(key, "a string"))).transpose()
    }

    /// A string, owned.
    pub(crate) fn string(self, key: &str) -> Result<Option<String>, JsonFieldError> {
        Ok(self.str(key)?.map(Cow::into_owned))
    }

    /// A string or a number, as text (ids are sometimes sent either way).
    pub(crate) fn text(self, key: &str) -> Result<Option<String>, JsonFieldError> {
        match self.raw() {
            None => Ok(None),
            Some(raw) if raw.starts_with('"') => self.string(key),
            Some(raw) if is_number(raw) => Ok(Some(raw.to_owned())),
            Some(_) => Err(JsonFieldError::new(key, "a string or a number")),
        }
    }

    /// An integer.
    pub(crate) fn i64(self, key: &str) -> Result<Option<i64>, JsonFieldError> {
        self.raw().map(|raw| raw.parse::<i64>().map_err(|_| JsonFieldError::new(key, "an integer"))).transpose()
    }

    /// A number as an exact decimal (never through `f64`); a numeric string is accepted.
    #[cfg(test)]
    pub(crate) fn decimal(self, key: &str) -> Result<Option<Decimal>, JsonFieldError> {
        self.raw()
            .map(|raw| {
                let text = if raw.starts_with('"') {
                    string_value(raw).ok_or_else(|| JsonFieldError::new(key, "a number"))?
                } else {
                    Cow::Borrowed(raw)
                };
                parse_decimal(&text).ok_or_else(|| JsonFieldError::new(key, "a decimal number"))
            })
            .transpose()
    }
}

/// The members of an object that one level of a one-pass read keeps (see [`Nested`]).
pub(crate) trait Members<'a>: Default {
    /// Reads the value of member `key` (unescaped): with [`Reader::value`] when it is kept, with
    /// [`skip`] when it is not. A later duplicate overwrites: the last wins.
    ///
    /// # Errors
    ///
    /// The document is not JSON.
    fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError>;
}

/// What a kept member is read as: [`RawMember`], [`Nested`] or [`Items`].
pub(crate) trait Value<'a>: Sized {
    /// Reads the value at the reader's position.
    ///
    /// # Errors
    ///
    /// The document is not JSON.
    fn read(reader: &mut Reader<'a>) -> Result<Self, SyntaxError>;
}

/// Skips a member's value: validated, without recursion however deep it is.
pub(crate) fn skip(reader: &mut Reader<'_>) -> Result<(), SyntaxError> {
    reader.skip()
}

/// Reads a whole document that must be an object, in one pass.
///
/// Accepts exactly what the former reader over `serde_json` accepted (the tests below pin it):
/// RFC 8259 anywhere; keys of the objects read as [`Members`], and strings where an object or an
/// array is expected, checked as `serde_json` reads text (an escape must be a Unicode scalar),
/// other strings only when they are typed; a number where an object or an array is expected
/// must fit an `f64`, as `serde_json` reads it there.
///
/// # Errors
///
/// The text is not JSON, or not an object.
pub(crate) fn read<'a, T: Members<'a>>(text: &'a str) -> Result<T, SyntaxError> {
    let mut reader = Reader { text, at: 0, depth: 0, open: Open::default() };
    if reader.peek() != Some(b'{') {
        return Err(reader.error());
    }
    let value = reader.object()?;
    let end = skip_ws(text.as_bytes(), reader.at);
    if end != text.len() {
        return Err(SyntaxError { at: end });
    }
    Ok(value)
}

/// How deep the objects and arrays read as [`Members`] and [`Items`] may nest: `serde_json`'s
/// recursion limit. A skipped value has no limit (it is skipped without recursion).
const MAX_DEPTH: usize = 127;

/// The position of a one-pass read in its document.
pub(crate) struct Reader<'a> {
    text: &'a str,
    at: usize,
    /// Objects and arrays read as members or items, open around the position.
    depth: usize,
    /// The containers open in the value being skipped: skipping keeps its own stack, not the
    /// call stack.
    open: Open,
}

impl<'a> Reader<'a> {
    /// Reads a kept member's value.
    ///
    /// # Errors
    ///
    /// The document is not JSON.
    pub(crate) fn value<V: Value<'a>>(&mut self) -> Result<V, SyntaxError> {
        V::read(self)
    }

    fn error(&self) -> SyntaxError {
        SyntaxError { at: self.at }
    }

    /// The next byte that is not whitespace; the position moves to it.
    fn peek(&mut self) -> Option<u8> {
        self.at = skip_ws(self.text.as_bytes(), self.at);
        self.text.as_bytes().get(self.at).copied()
    }

    /// Enters an object or an array read as members or items.
    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH { Err(self.error()) } else { Ok(()) }
    }

    /// Reads the object whose `{` is at the position into `T`, member by member.
    fn object<T: Members<'a>>(&mut self) -> Result<T, SyntaxError> {
        self.enter()?;
        self.at += 1;
        let mut value = T::default();
        if self.peek() != Some(b'}') {
            loop {
                let key = self.key()?;
                value.member(&key, self)?;
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b'}') => break,
                    _ => return Err(self.error()),
                }
            }
        }
        self.at += 1;
        self.depth -= 1;
        Ok(value)
    }

    /// Reads `"key" :`: the key unescaped as `serde_json` reads a key (an escape must be a
    /// Unicode scalar), borrowed when it holds no escape.
    #[inline(always)]
    fn key(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        let (text, bytes) = (self.text, self.text.as_bytes());
        let start = skip_ws(bytes, self.at);
        if bytes.get(start) != Some(&b'"') {
            return Err(SyntaxError { at: start });
        }
        let (end, escaped) = scan_string(bytes, start)?;
        let key = if escaped {
            Cow::Owned(unescape_key(text, start, end)?)
        } else {
            // Between two quotes: char boundaries.
            Cow::Borrowed(text.get(start + 1..end - 1).ok_or(SyntaxError { at: start })?)
        };
        let colon = skip_ws(bytes, end);
        if bytes.get(colon) != Some(&b':') {
            return Err(SyntaxError { at: colon });
        }
        self.at = colon + 1;
        Ok(key)
    }

    /// The raw text of the value at the position (without the whitespace around it), validated.
    fn raw(&mut self) -> Result<&'a str, SyntaxError> {
        let start = skip_ws(self.text.as_bytes(), self.at);
        self.at = start;
        self.skip()?;
        self.text.get(start..self.at).ok_or(SyntaxError { at: start })
    }

    /// Skips the value at the position: validated, any `\uXXXX` accepted in strings, at any depth.
    fn skip(&mut self) -> Result<(), SyntaxError> {
        debug_assert!(self.open.is_empty(), "skips do not nest");
        self.at = skip_values(self.text.as_bytes(), self.at, &mut self.open, false)?;
        Ok(())
    }

    /// Skips the rest of the array the position is in, after one of its items.
    fn skip_rest_of_array(&mut self) -> Result<(), SyntaxError> {
        debug_assert!(self.open.is_empty(), "skips do not nest");
        self.open.push(false);
        self.at = skip_values(self.text.as_bytes(), self.at, &mut self.open, true)?;
        Ok(())
    }

    /// Reads a value meant to be an object (`ARRAY = false`) or an array of objects (`true`). Any
    /// JSON type is taken, so that a wrong type is reported by the typing, not as a broken
    /// document; what is not kept is checked as `serde_json` checks it there (see [`read`]).
    fn found<T: Members<'a>, const ARRAY: bool>(&mut self) -> Result<Found<T>, SyntaxError> {
        match self.peek() {
            Some(b'{') if ARRAY => self.object::<Keys>().map(|_| Found::Other),
            Some(b'{') => self.object().map(Found::Object),
            Some(b'[') if ARRAY => self.items().map(Found::Array),
            Some(b'[') => {
                // One level for serde_json, whose items are skipped.
                self.enter()?;
                self.skip()?;
                self.depth -= 1;
                Ok(Found::Other)
            }
            Some(b'"') => {
                let raw = self.raw()?;
                if raw.contains('\\') && serde_json::from_str::<String>(raw).is_err() {
                    return Err(self.error());
                }
                Ok(Found::Other)
            }
            Some(b'-' | b'0'..=b'9') => {
                // serde_json reads a number here as an i64, a u64 or an f64: `1e400` fails.
                let raw = self.raw()?;
                if serde_json::from_str::<serde_json::Number>(raw).is_err() {
                    return Err(self.error());
                }
                Ok(Found::Other)
            }
            _ => Ok(if self.raw()? == "null" { Found::Null } else { Found::Other }),
        }
    }

    /// Reads the array whose `[` is at the position, item by item; `None` when an item is not
    /// an object (the items after it are skipped).
    fn items<T: Members<'a>>(&mut self) -> Result<Option<Vec<T>>, SyntaxError> {
        self.enter()?;
        self.at += 1;
        let mut items = Vec::new();
        if self.peek() != Some(b']') {
            loop {
                let Found::Object(item) = self.found::<T, false>()? else {
                    self.skip_rest_of_array()?;
                    self.depth -= 1;
                    return Ok(None);
                };
                items.push(item);
                match self.peek() {
                    Some(b',') => self.at += 1,
                    Some(b']') => break,
                    _ => return Err(self.error()),
                }
            }
        }
        self.at += 1;
        self.depth -= 1;
        Ok(Some(items))
    }
}

/// A key holding escapes, read by `serde_json` (the quoted key is `text[start..end]`).
#[inline(never)]
fn unescape_key(text: &str, start: usize, end: usize) -> Result<String, SyntaxError> {
    let quoted = text.get(start..end).ok_or(SyntaxError { at: start })?;
    serde_json::from_str(quoted).map_err(|_| SyntaxError { at: start })
}

/// An object read for its keys only: `serde_json` checks the keys of an object it iterates even
/// when it keeps no value.
#[derive(Default)]
struct Keys;

impl<'a> Members<'a> for Keys {
    fn member(&mut self, _key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
        reader.skip()
    }
}

/// A member meant to be an object, read in the same pass as its parent. Another JSON type is not
/// an error of the document: it is kept as [`Wrong`](Nested::Wrong), for the typing to report.
#[derive(Debug, Clone, Default)]
pub(crate) enum Nested<T> {
    /// Absent or `null`.
    #[default]
    Absent,
    /// An object.
    Present(T),
    /// Another JSON type.
    Wrong,
}

impl<T> Nested<T> {
    /// The object, if present.
    ///
    /// # Errors
    ///
    /// The member is not an object.
    pub(crate) fn get(&self, key: &str) -> Result<Option<&T>, JsonFieldError> {
        match self {
            Nested::Absent => Ok(None),
            Nested::Present(value) => Ok(Some(value)),
            Nested::Wrong => Err(JsonFieldError::new(key, "an object")),
        }
    }
}

/// A member meant to be an array of objects, read in the same pass as its parent; another JSON
/// type, or an item that is not an object, is kept as [`Wrong`](Items::Wrong).
#[derive(Debug, Clone, Default)]
pub(crate) enum Items<T> {
    /// Absent or `null`.
    #[default]
    Absent,
    /// An array of objects.
    Present(Vec<T>),
    /// Another JSON type, or an item that is not an object.
    Wrong,
}

impl<T> Items<T> {
    /// The objects, if present.
    ///
    /// # Errors
    ///
    /// The member is not an array of objects.
    pub(crate) fn get(&self, key: &str) -> Result<Option<&[T]>, JsonFieldError> {
        match self {
            Items::Absent => Ok(None),
            Items::Present(items) => Ok(Some(items)),
            Items::Wrong => Err(JsonFieldError::new(key, "an array of objects")),
        }
    }
}

/// What a one-pass read found where it expected an object or an array.
enum Found<T> {
    Null,
    Object(T),
    /// The items, or `None` when one of them is not an object.
    Array(Option<Vec<T>>),
    Other,
}

impl<'a> Value<'a> for RawMember<'a> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, SyntaxError> {
        reader.raw().map(|raw| RawMember(Some(raw)))
    }
}

impl<'a, T: Members<'a>> Value<'a> for Nested<T> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, SyntaxError> {
        Ok(match reader.found::<T, false>()? {
            Found::Null => Nested::Absent,
            Found::Object(value) => Nested::Present(value),
            Found::Array(_) | Found::Other => Nested::Wrong,
        })
    }
}

impl<'a, T: Members<'a>> Value<'a> for Items<T> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, SyntaxError> {
        Ok(match reader.found::<T, true>()? {
            Found::Null => Items::Absent,
            Found::Array(items) => items.map_or(Items::Wrong, Items::Present),
            Found::Object(_) | Found::Other => Items::Wrong,
        })
    }
}

/// The text of a string value, `None` for another type. A raw value was validated when it was
/// read: a string without a backslash is its own text, only escapes need decoding.
fn string_value(raw: &str) -> Option<Cow<'_, str>> {
    match raw.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(Cow::Borrowed(inner)),
        _ => de_cow(raw),
    }
}

/// A string value read by `serde_json` (escapes must be Unicode scalars), `None` for another type.
fn de_cow(raw: &str) -> Option<Cow<'_, str>> {
    struct CowVisitor;
    impl<'de> Visitor<'de> for CowVisitor {
        type Value = Cow<'de, str>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Cow::Borrowed(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v.to_owned()))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Cow::Owned(v))
        }
    }
    serde_json::Deserializer::from_str(raw).deserialize_str(CowVisitor).ok()
}

fn is_number(text: &str) -> bool {
    text.starts_with(|c: char| c == '-' || c.is_ascii_digit())
}

/// An exact decimal from JSON number text: `150.75`, `-1`, `1.5e3`.
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    if !is_number(text) {
        return None;
    }
    if text.contains(['e', 'E']) { Decimal::from_scientific(text).ok() } else { Decimal::from_str_exact(text).ok() }
}

#[cfg(test)]
impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = RawObject<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(key) = map.next_key::<Key<'de>>()? {
                    members.push((key.0, map.next_value::<&'de RawValue>()?));
                }
                Ok(RawObject { members })
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
struct Key<'a>(Cow<'a, str>);

#[cfg(test)]
impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::de::IgnoredAny;

    use super::*;

    #[test]
    fn last_duplicate_wins_and_null_is_absent() {
        let o = RawObject::parse(r#"{"id":"a","x":null,"id":"b","n":12,"s":"\u00e9\/"}"#).unwrap();
        assert_eq!(o.string("id").unwrap().as_deref(), Some("b"));
        assert_eq!(o.string("x").unwrap(), None);
        assert_eq!(o.member("n").i64("n").unwrap(), Some(12));
        assert_eq!(o.string("s").unwrap().as_deref(), Some("é/"));
        assert!(o.member("id").i64("id").is_err());
    }

    #[test]
    fn decimals_are_exact() {
        let o = RawObject::parse(r#"{"a":150.75,"b":"0.1","c":1e2,"d":0.30000000000000004,"e":true}"#).unwrap();
        assert_eq!(o.decimal("a").unwrap().unwrap().to_string(), "150.75");
        assert_eq!(o.decimal("b").unwrap().unwrap().to_string(), "0.1");
        assert_eq!(o.decimal("c").unwrap().unwrap(), Decimal::from(100));
        assert_eq!(o.decimal("d").unwrap().unwrap().to_string(), "0.30000000000000004");
        assert!(o.decimal("e").is_err());
    }

    #[test]
    fn strings_without_escapes_are_borrowed_as_serde_json_reads_them() {
        for text in [
            r#""""#,
            r#""plain""#,
            r#""é, 中文, 🦀""#,
            r#""a\"b""#,
            r#""\\""#,
            r#""\/x\/""#,
            r#""\u00e9\ud83e\udd80""#,
            r#""tab\there""#,
            r#""ends with \\""#,
            "12",
            "true",
            "null",
            "[\"a\"]",
            "{\"a\":\"b\"}",
        ] {
            let raw = serde_json::from_str::<&RawValue>(text).unwrap().get();
            let fast = string_value(raw);
            assert_eq!(fast, de_cow(raw), "{text}");
            assert_eq!(fast.as_deref(), serde_json::from_str::<String>(text).ok().as_deref(), "{text}");
            assert_eq!(matches!(fast, Some(Cow::Borrowed(_))), fast.is_some() && !text.contains('\\'), "{text}");
        }
    }

    #[test]
    fn nested_objects() {
        let o = RawObject::parse(r#"{"o":{"k":"v"},"a":[{"k":1},{"k":2}],"t":7}"#).unwrap();
        assert_eq!(o.object("o").unwrap().unwrap().string("k").unwrap().as_deref(), Some("v"));
        assert_eq!(o.text("t").unwrap().as_deref(), Some("7"));
        assert!(o.object("t").is_err());
        assert!(o.object("a").is_err());
        assert!(RawObject::parse("[1]").is_err());
        assert!(RawObject::parse(&"[".repeat(10_000)).is_err());
    }

    /// A recursive shape for the one-pass read: `k`, `o` {`k`, `o`, `a`}, `a` [{`k`, `o`, `a`}].
    #[derive(Debug, Default)]
    struct Shape<'a> {
        k: RawMember<'a>,
        o: Nested<Box<Shape<'a>>>,
        a: Items<Shape<'a>>,
    }

    impl<'a> Members<'a> for Box<Shape<'a>> {
        fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
            (**self).member(key, reader)
        }
    }

    impl<'a> Members<'a> for Shape<'a> {
        fn member(&mut self, key: &str, reader: &mut Reader<'a>) -> Result<(), SyntaxError> {
            match key {
                "k" => self.k = reader.value()?,
                "o" => self.o = reader.value()?,
                "a" => self.a = reader.value()?,
                _ => skip(reader)?,
            }
            Ok(())
        }
    }

    type Flat = Vec<(String, Option<String>)>;

    /// Every member the shape names, by path, as `RawObject` finds it (what the one-pass read
    /// must agree with): `None` when absent or `null`, `"<wrong>"` for a wrong type.
    fn reference(o: &RawObject<'_>, path: &str, out: &mut Flat) {
        out.push((format!("{path}k"), o.raw("k").map(|r| r.get().to_owned())));
        match o.object("o") {
            Ok(Some(inner)) => reference(&inner, &format!("{path}o."), out),
            Ok(None) => out.push((format!("{path}o"), None)),
            Err(_) => out.push((format!("{path}o"), Some("<wrong>".into()))),
        }
        match o.raw("a").map(<Vec<RawObject<'_>>>::deserialize) {
            Some(Ok(items)) => {
                for (i, item) in items.iter().enumerate() {
                    reference(item, &format!("{path}a{i}."), out);
                }
            }
            None => out.push((format!("{path}a"), None)),
            Some(Err(_)) => out.push((format!("{path}a"), Some("<wrong>".into()))),
        }
    }

    fn flatten(s: &Shape<'_>, path: &str, out: &mut Flat) {
        out.push((format!("{path}k"), s.k.raw().map(str::to_owned)));
        match &s.o {
            Nested::Present(inner) => flatten(inner, &format!("{path}o."), out),
            Nested::Absent => out.push((format!("{path}o"), None)),
            Nested::Wrong => out.push((format!("{path}o"), Some("<wrong>".into()))),
        }
        match &s.a {
            Items::Present(items) => {
                for (i, item) in items.iter().enumerate() {
                    flatten(item, &format!("{path}a{i}."), out);
                }
            }
            Items::Absent => out.push((format!("{path}a"), None)),
            Items::Wrong => out.push((format!("{path}a"), Some("<wrong>".into()))),
        }
    }

    #[test]
    fn one_pass_read_agrees_with_raw_objects() {
        let documents = [
            r#"{}"#,
            r#"{"k":1,"k":"two","o":{"k":null},"o":{"k":[3]},"a":[{"k":{"x":1}},{}]}"#,
            r#"{"k":"x","k":null,"o":{"k":1},"o":null,"a":[{}],"a":null}"#,
            r#"{"o":"text","a":{"k":1}}"#,
            r#"{"o":[{"k":1}],"a":[{"k":1},2,{"k":3}]}"#,
            r#"{"o":12,"a":[null]}"#,
            r#"{"o":true,"a":"[]","k":{"o":{"k":1}}}"#,
            r#"{"o":-1.5e3,"a":[[{"k":1}]],"k":false}"#,
            r#"{"\u006b":"escaped key","o":{"\u006f":{"k":"deep"},"k":"\"q\u00e9\/"}}"#,
            r#"{"x":{"k":1,"o":{"k":2}},"o":{"o":{"o":{"k":"3","k":"4"}}},"a":[{"a":[{"k":5}]}]}"#,
            r#" { "k" : 1 , "a" : [ { "k" : 2 } , { "k" : 3 } ] } "#,
        ];
        for text in documents {
            let mut expected = Vec::new();
            reference(&RawObject::parse(text).unwrap(), "", &mut expected);
            let mut found = Vec::new();
            flatten(&read::<Shape<'_>>(text).unwrap(), "", &mut found);
            assert_eq!(found, expected, "{text}");
        }
    }

    #[test]
    fn one_pass_read_rejects_what_is_not_json_anywhere() {
        for text in [
            "",
            "[1]",
            "null",
            r#"{"k":1"#,
            r#"{"k":1}x"#,
            r#"{"k":1,}"#,
            r#"{"x":[1,],"k":1}"#,
            r#"{"x":"\q"}"#,
            r#"{"o":{"x":tru}}"#,
            r#"{"a":[{"k":1},{"x":01}]}"#,
            r#"{"o":"unterminated}"#,
            "{\"x\":\"\u{1}\"}",
        ] {
            assert!(read::<Shape<'_>>(text).is_err(), "{text:?}");
            assert!(RawObject::parse(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn one_pass_read_skips_deep_values_without_recursion() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        for text in [
            format!(r#"{{"x":{deep},"k":1}}"#),
            format!(r#"{{"o":{deep},"k":1}}"#),
            format!(r#"{{"a":[{{}},{deep}],"k":1}}"#),
            format!(r#"{{"a":{{"x":{deep}}},"k":1}}"#),
            format!(r#"{{"o":{{"a":[{deep}]}},"k":1}}"#),
        ] {
            let shape = read::<Shape<'_>>(&text).unwrap();
            assert_eq!(shape.k.i64("k").unwrap(), Some(1));
        }
        assert!(read::<Shape<'_>>(&format!(r#"{{"o":{}}}"#, "{\"o\":".repeat(10_000))).is_err());
    }

    #[test]
    fn one_pass_read_checks_text_where_serde_json_did() {
        // Keys of the objects read as members, and strings or numbers where an object or an
        // array is expected, are read as serde_json reads them there: a lone surrogate, or a
        // number beyond f64, fails the document in those places and only there.
        let cases = [
            (r#"{"\ud800":1}"#, false),
            (r#"{"o":{"\udc00":1}}"#, false),
            (r#"{"a":[{"\ud800":1}]}"#, false),
            (r#"{"a":{"\ud800":1}}"#, false),
            (r#"{"x":{"\ud800":1}}"#, true),
            (r#"{"o":[{"\ud800":1}]}"#, true),
            (r#"{"a":[1,{"\ud800":1}]}"#, true),
            (r#"{"\ud83d\ude00":1,"k\u0031":2,"\u006b":3}"#, true),
            (r#"{"o":"\ud800"}"#, false),
            (r#"{"a":"\ud800"}"#, false),
            (r#"{"a":["\ud800"]}"#, false),
            (r#"{"a":["\ud800\u0041"]}"#, false),
            (r#"{"a":[1,"\ud800"]}"#, true),
            (r#"{"k":"\ud800"}"#, true),
            (r#"{"x":["\ud800"]}"#, true),
            (r#"{"o":"\u00e9\ud83d\ude00"}"#, true),
            (r#"{"o":1e400}"#, false),
            (r#"{"a":-1e400}"#, false),
            (r#"{"a":[1e400]}"#, false),
            (r#"{"a":[true,1e400]}"#, true),
            (r#"{"o":1e-400}"#, true),
            (r#"{"o":123456789012345678901234567890}"#, true),
            (r#"{"k":1e400,"x":[1e400],"o":{"k":1e400}}"#, true),
        ];
        for (text, ok) in cases {
            assert_eq!(read::<Shape<'_>>(text).is_ok(), ok, "{text}");
        }
        // serde_json's recursion limit, for the levels read as members or items only.
        let nested = |n: usize| format!(r#"{{{}"k":1{}}}"#, r#""o":{"#.repeat(n), "}".repeat(n));
        assert!(read::<Shape<'_>>(&nested(126)).is_ok());
        assert!(read::<Shape<'_>>(&nested(127)).is_err());
        let items = |n: usize| format!(r#"{{{}"k":1{}}}"#, r#""a":[{"#.repeat(n), "}]".repeat(n));
        assert!(read::<Shape<'_>>(&items(63)).is_ok());
        assert!(read::<Shape<'_>>(&items(64)).is_err());
    }

    #[test]
    fn one_pass_read_accepts_what_serde_json_accepts_after_any_one_byte_change() {
        // Every ASCII byte replacing, inserted before, or instead of a deletion of, every byte
        // of a document using each kind of value in each place of the shape.
        let text = r#" {"k":"v","o":{"k":[1,-2.5e3,true,false,null],"o":{"x":"y\n"}},"a":[{"k":{}},{"a":[]}],
            "x":[[],{"y":"\"z"}],"n":0.5,"e":{}} "#;
        let serde_ok = |t: &str| t.trim_start().starts_with('{') && serde_json::from_str::<IgnoredAny>(t).is_ok();
        let mut checked = 0;
        for i in 0..=text.len() {
            let mut variants = Vec::new();
            if i < text.len() {
                variants.push(format!("{}{}", &text[..i], &text[i + 1..]));
            }
            for c in (0..0x80_u8).map(char::from) {
                variants.push(format!("{}{c}{}", &text[..i], &text[i..]));
                if i < text.len() {
                    variants.push(format!("{}{c}{}", &text[..i], &text[i + 1..]));
                }
            }
            for variant in variants {
                assert_eq!(read::<Shape<'_>>(&variant).is_ok(), serde_ok(&variant), "{variant:?}");
                checked += 1;
            }
        }
        assert!(checked > 20_000);
    }
}
