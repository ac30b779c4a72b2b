//! Reading authenticated JSON with `serde_json`, without re-serializing and without floats.
//!
//! The objects a scheme reads are borrowed structs declared with [`json_object!`]: each keeps
//! the members it names, the others are skipped. A member is kept [`Raw`] (its JSON text, typed
//! when read, so that a wrong type is reported by the typing, after the signature check), or read
//! in the same pass as a [`Nested`] object or as [`Items`]. Of a repeated key the last wins
//! (CentralBill's own example repeats a key); `null` is absent; numbers meant as money are read
//! from their text as exact decimals.
//!
//! What is accepted is what `serde_json` accepts: RFC 8259 anywhere. Keys of the objects read,
//! and strings and numbers where an object or an array is read, are parsed as text and numbers
//! (an escape must be a Unicode scalar, a number must fit an `f64`); a skipped or raw value is
//! only checked as JSON (any `\uXXXX`), without recursion, however deep. Objects and arrays that
//! are read count against `serde_json`'s recursion limit of 128 levels; the declared objects nest
//! a few levels only.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

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

/// An object's key, or a string's text: borrowed unless it holds escapes, which must be
/// Unicode scalars.
#[derive(Deserialize)]
pub(crate) struct Text<'a>(#[serde(borrow)] pub(crate) Cow<'a, str>);

/// Declares a borrowed struct read from a JSON object: each listed key is read into its field,
/// a repeated key overwriting the earlier value (the last wins); other members are skipped.
macro_rules! json_object {
    ($(#[$doc:meta])* $vis:vis struct $name:ident<$a:lifetime> {
        $($(#[$field_doc:meta])* $key:literal => $field:ident: $ty:ty,)*
    }) => {
        $(#[$doc])*
        #[derive(Debug, Default)]
        $vis struct $name<$a> {
            $($(#[$field_doc])* $vis $field: $ty,)*
        }

        impl<'de> ::serde::Deserialize<'de> for $name<'de> {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Members;
                impl<'de> ::serde::de::Visitor<'de> for Members {
                    type Value = $name<'de>;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a JSON object")
                    }
                    fn visit_map<M: ::serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                        let mut value = $name::default();
                        while let Some(key) = map.next_key::<$crate::json::Text<'de>>()? {
                            match &*key.0 {
                                $($key => value.$field = map.next_value()?,)*
                                _ => {
                                    map.next_value::<::serde::de::IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(value)
                    }
                }
                deserializer.deserialize_map(Members)
            }
        }
    };
}
pub(crate) use json_object;

/// A member kept as its JSON text (validated, without the whitespace around it), typed when
/// read; `null` and absence are the same. The typing methods take the key to name it in their
/// error.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(transparent)]
pub(crate) struct Raw<'a>(#[serde(borrow)] Option<&'a RawValue>);

impl<'a> Raw<'a> {
    /// The raw value; `None` when absent or `null`.
    pub(crate) fn raw(self) -> Option<&'a str> {
        self.0.map(RawValue::get)
    }

    /// Whether the value is an object.
    pub(crate) fn is_object(self) -> bool {
        self.raw().is_some_and(|raw| raw.starts_with('{'))
    }

    /// A string.
    pub(crate) fn str(self, key: &str) -> Result<Option<Cow<'a, str>>, JsonFieldError> {
        self.raw()
            .map(|raw| {
                serde_json::from_str::<Text<'a>>(raw).map(|t| t.0).map_err(|_| JsonFieldError::new(key, "a string"))
            })
            .transpose()
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

    /// A number as an exact decimal, read from its text (never through `f64`); a numeric
    /// string is accepted.
    pub(crate) fn decimal(self, key: &str) -> Result<Option<Decimal>, JsonFieldError> {
        self.raw()
            .map(|raw| {
                let text = if raw.starts_with('"') {
                    self.str(key).map_err(|_| JsonFieldError::new(key, "a number"))?.unwrap_or_default()
                } else {
                    Cow::Borrowed(raw)
                };
                parse_decimal(&text).ok_or_else(|| JsonFieldError::new(key, "a decimal number"))
            })
            .transpose()
    }

    /// An object, read from the raw value.
    pub(crate) fn object<T: Deserialize<'a>>(self, key: &str) -> Result<Option<T>, JsonFieldError> {
        self.raw().map(|raw| serde_json::from_str(raw).map_err(|_| JsonFieldError::new(key, "an object"))).transpose()
    }
}

/// A member meant to be an object, read in the same pass as its parent. Another JSON type is not
/// an error of the document: it is kept as [`Wrong`](Nested::Wrong), for the typing to report.
#[derive(Debug, Default)]
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
#[derive(Debug, Default)]
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

/// Reads a value of any JSON type, for [`Nested`] (`ITEMS = false`) and [`Items`] (`true`): an
/// object or an array is read as the member expects it or skipped, anything else is parsed
/// (a string as text, a number as a number) and found wrong.
struct Found<T, const ITEMS: bool>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for Found<T, false> {
    type Value = Nested<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Nested::Present)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Nested::Wrong)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Nested::Absent)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Nested::Wrong)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Nested::Wrong)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Nested::Wrong)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Nested::Wrong)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Nested::Wrong)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Found<T, true> {
    type Value = Items<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    /// Items up to the first that is not an object; the rest is skipped.
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Nested<T>>()? {
            let Nested::Present(item) = item else {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(Items::Wrong);
            };
            items.push(item);
        }
        Ok(Items::Present(items))
    }

    /// An object where an array is expected: its keys are parsed, its values skipped.
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value::<IgnoredAny>()?;
        }
        Ok(Items::Wrong)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Items::Absent)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Items::Wrong)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Items::Wrong)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Items::Wrong)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Items::Wrong)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Items::Wrong)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nested<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Found::<T, false>(PhantomData))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Items<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Found::<T, true>(PhantomData))
    }
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
mod tests {
    use serde_json::Value;

    use super::*;

    json_object! {
        /// A recursive shape: `k` raw, `o` {`k`, `o`, `a`}, `a` [{`k`, `o`, `a`}].
        struct Shape<'a> {
            "k" => k: Raw<'a>,
            "o" => o: Nested<Box<Shape<'a>>>,
            "a" => a: Items<Shape<'a>>,
        }
    }

    fn read(text: &str) -> Result<Shape<'_>, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn last_duplicate_wins_and_null_is_absent() {
        let s = read(r#"{"k":"a","o":{"k":1},"k":"b","o":null}"#).unwrap();
        assert_eq!(s.k.string("k").unwrap().as_deref(), Some("b"));
        assert!(matches!(s.o, Nested::Absent));
        let s = read(r#"{"k":"a","k":null,"o":null,"o":{"k":"\u00e9\/"},"a":7,"a":[]}"#).unwrap();
        assert_eq!(s.k.string("k").unwrap(), None);
        assert_eq!(s.o.get("o").unwrap().unwrap().k.string("k").unwrap().as_deref(), Some("é/"));
        assert_eq!(s.a.get("a").unwrap().map(<[_]>::len), Some(0));
    }

    #[test]
    fn members_are_typed_when_read() {
        let s = read(r#"{"k":12}"#).unwrap();
        assert_eq!(s.k.i64("k").unwrap(), Some(12));
        assert_eq!(s.k.text("k").unwrap().as_deref(), Some("12"));
        assert_eq!(s.k.str("k").unwrap_err().to_string(), "k is not a string");
        let s = read(r#"{"k":"plain","o":{"k":"a\"b"}}"#).unwrap();
        assert!(matches!(s.k.str("k").unwrap(), Some(Cow::Borrowed("plain"))), "borrowed without escapes");
        assert_eq!(s.o.get("o").unwrap().unwrap().k.str("k").unwrap().as_deref(), Some("a\"b"));
        assert_eq!(s.k.i64("k").unwrap_err().to_string(), "k is not an integer");
        let s = read(r#"{"k":{"o":[1]},"o":"text","a":{"k":1}}"#).unwrap();
        assert_eq!(s.k.raw(), Some(r#"{"o":[1]}"#));
        assert!(s.k.is_object());
        assert_eq!(s.k.text("k").unwrap_err().to_string(), "k is not a string or a number");
        assert_eq!(s.o.get("o").unwrap_err().to_string(), "o is not an object");
        assert_eq!(s.a.get("a").unwrap_err().to_string(), "a is not an array of objects");
        let s = read(r#"{"k":"\ud800"}"#).unwrap();
        assert_eq!(s.k.str("k").unwrap_err().to_string(), "k is not a string", "a lone surrogate is not text");
    }

    #[test]
    fn decimals_are_exact() {
        for (text, expected) in [
            ("150.75", Some("150.75")),
            (r#""0.1""#, Some("0.1")),
            ("1e2", Some("100")),
            ("0.30000000000000004", Some("0.30000000000000004")),
            ("-0", Some("0")),
            ("true", None),
            (r#""x""#, None),
            ("1e99", None),
        ] {
            let body = format!(r#"{{"k":{text}}}"#);
            let s = read(&body).unwrap();
            let decimal = s.k.decimal("k").ok().flatten();
            assert_eq!(decimal.map(|d| d.normalize().to_string()).as_deref(), expected, "{text}");
        }
        let s = read(r#"{"k":"\ud800"}"#).unwrap();
        assert_eq!(s.k.decimal("k").unwrap_err().to_string(), "k is not a number");
    }

    #[test]
    fn raw_objects_are_read_on_demand() {
        let s = read(r#"{"k":{"k":1,"k":"two","x":[]}}"#).unwrap();
        let inner = s.k.object::<Shape<'_>>("k").unwrap().unwrap();
        assert_eq!(inner.k.string("k").unwrap().as_deref(), Some("two"));
        for not_an_object in ["1", "[]", r#""{}""#, r#"{"\ud800":1}"#, "1e400"] {
            let body = format!(r#"{{"k":{not_an_object}}}"#);
            let s = read(&body).unwrap();
            assert_eq!(s.k.object::<Shape<'_>>("k").unwrap_err().to_string(), "k is not an object", "{not_an_object}");
        }
    }

    type Flat = Vec<(String, Option<String>)>;

    /// Every member the shape names, by path, as `serde_json::Value` has it (the last of a
    /// repeated key): `None` when absent or `null`, `"<wrong>"` for a wrong type.
    fn reference(o: &Value, path: &str, out: &mut Flat) {
        let member = |key: &str| o.get(key).filter(|v| !v.is_null());
        out.push((format!("{path}k"), member("k").map(Value::to_string)));
        match member("o") {
            Some(Value::Object(_)) => reference(&o["o"], &format!("{path}o."), out),
            None => out.push((format!("{path}o"), None)),
            Some(_) => out.push((format!("{path}o"), Some("<wrong>".into()))),
        }
        match member("a") {
            Some(Value::Array(items)) if items.iter().all(Value::is_object) => {
                for (i, item) in items.iter().enumerate() {
                    reference(item, &format!("{path}a{i}."), out);
                }
            }
            None => out.push((format!("{path}a"), None)),
            Some(_) => out.push((format!("{path}a"), Some("<wrong>".into()))),
        }
    }

    fn flatten(s: &Shape<'_>, path: &str, out: &mut Flat) {
        let k = s.k.raw().map(|raw| serde_json::from_str::<Value>(raw).unwrap().to_string());
        out.push((format!("{path}k"), k));
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
    fn one_pass_read_agrees_with_serde_json_values() {
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
            reference(&serde_json::from_str(text).unwrap(), "", &mut expected);
            let mut found = Vec::new();
            flatten(&read(text).unwrap(), "", &mut found);
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
            assert!(read(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn one_pass_read_skips_deep_values_without_recursion() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        for text in [
            format!(r#"{{"x":{deep},"k":1}}"#),
            format!(r#"{{"k":{deep}}}"#),
            format!(r#"{{"o":{deep},"k":1}}"#),
            format!(r#"{{"a":[{{}},{deep}],"k":1}}"#),
            format!(r#"{{"a":{{"x":{deep}}},"k":1}}"#),
            format!(r#"{{"o":{{"a":[{deep}]}},"k":1}}"#),
        ] {
            assert!(read(&text).is_ok());
        }
        assert!(read(&format!(r#"{{"o":{}}}"#, "{\"o\":".repeat(10_000))).is_err());
    }

    #[test]
    fn one_pass_read_checks_text_where_it_is_read() {
        // Keys of the objects read, and strings or numbers where an object or an array is read,
        // are parsed as text and numbers: a lone surrogate, or a number beyond f64, fails the
        // document in those places and only there.
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
            assert_eq!(read(text).is_ok(), ok, "{text}");
        }
        // serde_json's recursion limit: 127 levels of objects and arrays read.
        let nested = |n: usize| format!(r#"{{{}"k":1{}}}"#, r#""o":{"#.repeat(n), "}".repeat(n));
        assert!(read(&nested(126)).is_ok());
        assert!(read(&nested(127)).is_err());
        let items = |n: usize| format!(r#"{{{}"k":1{}}}"#, r#""a":[{"#.repeat(n), "}]".repeat(n));
        assert!(read(&items(63)).is_ok());
        assert!(read(&items(64)).is_err());
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
                assert_eq!(read(&variant).is_ok(), serde_ok(&variant), "{variant:?}");
                checked += 1;
            }
        }
        assert!(checked > 20_000);
    }
}
