//! Reading authenticated JSON without re-serializing and without floats: members are kept as raw
//! JSON text and typed only when read; of duplicated keys the last wins (CentralBill's own example
//! repeats a key); numbers meant as money are parsed as exact decimals.
//!
//! [`Members`] and [`Nested`] read a document in one pass: each level keeps only the members it
//! names, raw, and skips (validating, without recursion) everything else. `RawObject`, which keeps
//! every member of one object, is the reference the tests compare the one-pass readers with
//! (REST's here, link's in `json_index`); no production path uses it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

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
        RawMember(self.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v))
    }

    /// The raw value of a member (the last one when the key is repeated); `null` counts as absent.
    pub(crate) fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.member(key).raw()
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
pub(crate) struct RawMember<'a>(Option<&'a RawValue>);

impl fmt::Debug for RawMember<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0.map(RawValue::get), f)
    }
}

impl<'a> RawMember<'a> {
    /// The raw value; `null` counts as absent.
    pub(crate) fn raw(self) -> Option<&'a RawValue> {
        self.0.filter(|v| v.get() != "null")
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
            Some(raw) if raw.get().starts_with('"') => self.string(key),
            Some(raw) if is_number(raw.get()) => Ok(Some(raw.get().to_owned())),
            Some(_) => Err(JsonFieldError::new(key, "a string or a number")),
        }
    }

    /// An integer.
    pub(crate) fn i64(self, key: &str) -> Result<Option<i64>, JsonFieldError> {
        self.raw().map(|raw| raw.get().parse::<i64>().map_err(|_| JsonFieldError::new(key, "an integer"))).transpose()
    }

    /// A number as an exact decimal (never through `f64`); a numeric string is accepted.
    #[cfg(test)]
    pub(crate) fn decimal(self, key: &str) -> Result<Option<Decimal>, JsonFieldError> {
        self.raw()
            .map(|raw| {
                let text = raw.get();
                let text = if text.starts_with('"') {
                    string_value(raw).ok_or_else(|| JsonFieldError::new(key, "a number"))?
                } else {
                    Cow::Borrowed(text)
                };
                parse_decimal(&text).ok_or_else(|| JsonFieldError::new(key, "a decimal number"))
            })
            .transpose()
    }
}

impl<'de> Deserialize<'de> for RawMember<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(deserializer).map(|raw| RawMember(Some(raw)))
    }
}

/// The members of an object that one level of a one-pass read keeps (see [`Nested`]).
pub(crate) trait Members<'de>: Default {
    /// Reads the value of member `key` (decoded) from `map`. A later duplicate overwrites: the
    /// last wins. A member not kept must be skipped with [`skip`].
    ///
    /// # Errors
    ///
    /// The document is not JSON.
    fn member<M: MapAccess<'de>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error>;
}

/// Skips a member's value: validated, without recursion however deep it is.
pub(crate) fn skip<'de, M: MapAccess<'de>>(map: &mut M) -> Result<(), M::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// Reads a whole document that must be an object, in one pass.
///
/// # Errors
///
/// The text is not JSON, or not an object.
pub(crate) fn read<'de, T: Members<'de>>(text: &'de str) -> Result<T, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = deserializer.deserialize_map(ObjectVisitor(PhantomData))?;
    deserializer.end()?;
    Ok(value)
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

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Members<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<T, M::Error> {
        read_members(&mut map)
    }
}

fn read_members<'de, T: Members<'de>, M: MapAccess<'de>>(map: &mut M) -> Result<T, M::Error> {
    let mut value = T::default();
    while let Some(key) = map.next_key::<Key<'de>>()? {
        value.member(&key.0, map)?;
    }
    Ok(value)
}

/// What a one-pass read found where it expected an object or an array: the visitor takes any
/// JSON type, so that a wrong type is reported by the typing, not as a broken document. What it
/// does not keep it skips without recursion. One exception: serde_json reads a number there as a
/// float, so a number beyond `f64` (`1e400`) in that place fails the whole document.
enum Found<T> {
    Null,
    Object(T),
    /// The items, or `None` when one of them is not an object.
    Array(Option<Vec<T>>),
    Other,
}

/// Reads a value that should be an object (`ARRAY = false`) or an array of objects (`true`).
struct FoundVisitor<T, const ARRAY: bool>(PhantomData<T>);

impl<'de, T: Members<'de>, const ARRAY: bool> Visitor<'de> for FoundVisitor<T, ARRAY> {
    type Value = Found<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Found::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Found::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Found::Other)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        if ARRAY {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Found::Other)
        } else {
            read_members(&mut map).map(Found::Object)
        }
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        if ARRAY {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(1));
            while let Some(item) = seq.next_element::<Nested<T>>()? {
                if let Nested::Present(item) = item {
                    items.push(item);
                } else {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    return Ok(Found::Array(None));
                }
            }
            Ok(Found::Array(Some(items)))
        } else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Found::Other)
        }
    }
}

impl<'de, T: Members<'de>> Deserialize<'de> for Nested<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match deserializer.deserialize_any(FoundVisitor::<T, false>(PhantomData))? {
            Found::Null => Nested::Absent,
            Found::Object(value) => Nested::Present(value),
            Found::Array(_) | Found::Other => Nested::Wrong,
        })
    }
}

impl<'de, T: Members<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match deserializer.deserialize_any(FoundVisitor::<T, true>(PhantomData))? {
            Found::Null => Items::Absent,
            Found::Array(items) => items.map_or(Items::Wrong, Items::Present),
            Found::Object(_) | Found::Other => Items::Wrong,
        })
    }
}

/// The text of a string value, `None` for another type. A raw value was validated when it was
/// read: a string without a backslash is its own text, only escapes need decoding.
fn string_value(raw: &RawValue) -> Option<Cow<'_, str>> {
    let text = raw.get();
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('\\') => Some(Cow::Borrowed(inner)),
        _ => de_cow(raw),
    }
}

fn de_cow<'a>(raw: &'a RawValue) -> Option<Cow<'a, str>> {
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
    raw.deserialize_str(CowVisitor).ok()
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

struct Key<'a>(Cow<'a, str>);

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
            let raw: &RawValue = serde_json::from_str(text).unwrap();
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
        fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
            (**self).member(key, map)
        }
    }

    impl<'a> Members<'a> for Shape<'a> {
        fn member<M: MapAccess<'a>>(&mut self, key: &str, map: &mut M) -> Result<(), M::Error> {
            match key {
                "k" => self.k = map.next_value()?,
                "o" => self.o = map.next_value()?,
                "a" => self.a = map.next_value()?,
                _ => skip(map)?,
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
        out.push((format!("{path}k"), s.k.raw().map(|r| r.get().to_owned())));
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
}
