//! Reading authenticated JSON without re-serializing and without floats: an object's members are
//! kept as raw JSON text and typed only when read; of duplicated keys the last wins (CentralBill's
//! own example repeats a key); numbers meant as money are parsed as exact decimals.

use std::borrow::Cow;
use std::fmt;

use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A JSON object whose members are still raw.
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

impl fmt::Display for JsonFieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not {}", self.key, self.expected)
    }
}

impl fmt::Debug for RawObject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.members.iter().map(|(k, v)| (k, v.get()))).finish()
    }
}

impl<'a> RawObject<'a> {
    /// Parses a JSON document that must be an object.
    pub(crate) fn parse(text: &'a str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    fn err(key: &str, expected: &'static str) -> JsonFieldError {
        JsonFieldError { key: key.to_owned(), expected }
    }

    /// The raw value of a member (the last one when the key is repeated); `null` counts as absent.
    pub(crate) fn raw(&self, key: &str) -> Option<&'a RawValue> {
        self.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| *v).filter(|v| v.get() != "null")
    }

    /// A string member.
    pub(crate) fn str(&self, key: &str) -> Result<Option<Cow<'a, str>>, JsonFieldError> {
        self.raw(key)
            .map(|raw| {
                let s: Cow<'a, str> = de_cow(raw).ok_or_else(|| Self::err(key, "a string"))?;
                Ok(s)
            })
            .transpose()
    }

    /// A string member, owned.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, JsonFieldError> {
        Ok(self.str(key)?.map(Cow::into_owned))
    }

    /// A string or a number, as text (ids are sometimes sent either way).
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, JsonFieldError> {
        match self.raw(key) {
            None => Ok(None),
            Some(raw) if raw.get().starts_with('"') => self.string(key),
            Some(raw) if is_number(raw.get()) => Ok(Some(raw.get().to_owned())),
            Some(_) => Err(Self::err(key, "a string or a number")),
        }
    }

    /// An integer member.
    pub(crate) fn i64(&self, key: &str) -> Result<Option<i64>, JsonFieldError> {
        self.raw(key).map(|raw| raw.get().parse::<i64>().map_err(|_| Self::err(key, "an integer"))).transpose()
    }

    /// A number member as an exact decimal (never through `f64`); a numeric string is accepted.
    pub(crate) fn decimal(&self, key: &str) -> Result<Option<Decimal>, JsonFieldError> {
        self.raw(key)
            .map(|raw| {
                let text = raw.get();
                let text = if text.starts_with('"') {
                    de_cow(raw).ok_or_else(|| Self::err(key, "a number"))?
                } else {
                    Cow::Borrowed(text)
                };
                parse_decimal(&text).ok_or_else(|| Self::err(key, "a decimal number"))
            })
            .transpose()
    }

    /// An object member.
    pub(crate) fn object(&self, key: &str) -> Result<Option<RawObject<'a>>, JsonFieldError> {
        self.raw(key).map(|raw| RawObject::deserialize(raw).map_err(|_| Self::err(key, "an object"))).transpose()
    }

    /// An array of objects, their members raw: one pass over the array, where reading it
    /// with [`array`](Self::array) and then each item would scan it twice.
    pub(crate) fn objects(&self, key: &str) -> Result<Option<Vec<RawObject<'a>>>, JsonFieldError> {
        self.raw(key)
            .map(|raw| <Vec<RawObject<'a>>>::deserialize(raw).map_err(|_| Self::err(key, "an array of objects")))
            .transpose()
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
        assert_eq!(o.i64("n").unwrap(), Some(12));
        assert_eq!(o.string("s").unwrap().as_deref(), Some("é/"));
        assert!(o.i64("id").is_err());
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
    fn nested_and_arrays() {
        let o = RawObject::parse(r#"{"o":{"k":"v"},"a":[{"k":1},{"k":2}],"t":7}"#).unwrap();
        assert_eq!(o.object("o").unwrap().unwrap().string("k").unwrap().as_deref(), Some("v"));
        let items = o.objects("a").unwrap().unwrap();
        assert_eq!(items.iter().map(|i| i.i64("k").unwrap().unwrap()).collect::<Vec<_>>(), [1, 2]);
        assert!(o.objects("o").is_err());
        assert!(RawObject::parse(r#"{"a":[{},1]}"#).unwrap().objects("a").is_err());
        assert_eq!(o.text("t").unwrap().as_deref(), Some("7"));
        assert!(o.object("t").is_err());
        assert!(RawObject::parse("[1]").is_err());
        assert!(RawObject::parse(&"[".repeat(10_000)).is_err());
    }
}
