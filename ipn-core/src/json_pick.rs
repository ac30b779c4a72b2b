//! One validating pass over a JSON document that keeps only the members a fixed [`Shape`] names:
//! their kind and raw span, the last one of a repeated key. Everything else is checked and
//! skipped, at any depth, without recursion and without allocating (until 64 skipped containers
//! are open inside one another).
//!
//! Accepts exactly what `json_index`'s `JsonIndex` (now the tests' reference) accepts, and reads
//! the kept members as its objects do (the tests here and in `link::notification` compare the
//! two): RFC 8259, any `\uXXXX` escape until a string is read as text, keys of the shape's
//! objects unescaped as `serde_json` reads keys. The index records every value of the document
//! (a node of some fifty bytes each) and then searches each object for its members; a reader
//! that knows what it wants needs neither.

use std::borrow::Cow;

use crate::json_index::{Kind, Open, SyntaxError, scan_string, skip_values, skip_ws};

/// The most objects a shape may have.
pub(crate) const MAX_OBJECTS: usize = 8;
/// The most members a shape's object may name.
pub(crate) const MAX_MEMBERS: usize = 6;

/// The objects whose members a pass keeps; object 0 is the document itself.
pub(crate) type Shape = [ShapeObject];

/// One object of a [`Shape`]: the members kept, each with the object of the shape its value is
/// read as when it is an object (`None`: kept raw, whatever it holds).
#[derive(Debug)]
pub(crate) struct ShapeObject {
    pub(crate) members: &'static [(&'static str, Option<usize>)],
}

/// Where a kept member's value is; an empty slot is an absent member.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    kind: Option<Kind>,
    /// A string holding a backslash escape.
    escaped: bool,
    start: usize,
    end: usize,
}

/// What a pass kept of a document.
#[derive(Debug, Clone)]
pub(crate) struct Picked<'a> {
    text: &'a str,
    slots: [[Slot; MAX_MEMBERS]; MAX_OBJECTS],
    /// Whether every key of the object (of its last occurrence in the document) unescapes as
    /// `serde_json` reads a key: otherwise it cannot be read as an object.
    readable: [bool; MAX_OBJECTS],
}

/// A kept member's value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PickedValue<'a> {
    kind: Kind,
    escaped: bool,
    raw: &'a str,
}

impl<'a> PickedValue<'a> {
    /// The JSON type.
    pub(crate) fn kind(&self) -> Kind {
        self.kind
    }

    /// The value's text exactly as in the document.
    pub(crate) fn raw(&self) -> &'a str {
        self.raw
    }

    /// A string's text, unescaped; `None` for another type or an escape that is not a Unicode
    /// scalar.
    pub(crate) fn str(&self) -> Option<Cow<'a, str>> {
        if self.kind != Kind::String {
            return None;
        }
        if self.escaped {
            serde_json::from_str::<String>(self.raw).ok().map(Cow::Owned)
        } else {
            self.raw.get(1..self.raw.len().saturating_sub(1)).map(Cow::Borrowed)
        }
    }
}

impl<'a> Picked<'a> {
    /// Member `member` (its index in the shape's list) of the shape's object `object`, as last
    /// read in the document.
    pub(crate) fn get(&self, object: usize, member: usize) -> Option<PickedValue<'a>> {
        let slot = self.slots.get(object)?.get(member)?;
        Some(PickedValue { kind: slot.kind?, escaped: slot.escaped, raw: self.text.get(slot.start..slot.end)? })
    }

    /// Whether the shape's object `object`, when present, can be read as an object (its keys are
    /// text).
    pub(crate) fn readable(&self, object: usize) -> bool {
        self.readable.get(object).copied().unwrap_or(false)
    }
}

/// Reads a document that must be an object; `None` when it is not JSON, not an object, or an
/// object whose keys are not all text.
///
/// A shape must have at most [`MAX_OBJECTS`] objects, each naming at most [`MAX_MEMBERS`]
/// members, and list each object after its parent: debug builds assert it (a fixed shape is
/// checked by its tests); release builds would not keep the members beyond the limits.
pub(crate) fn pick<'a>(text: &'a str, shape: &Shape) -> Option<Picked<'a>> {
    debug_assert!(shape.len() <= MAX_OBJECTS);
    debug_assert!(shape.iter().enumerate().all(|(object, o)| o.members.len() <= MAX_MEMBERS
        && o.members.iter().all(|(_, child)| child.is_none_or(|child| child > object && child < shape.len()))));
    let start = skip_ws(text.as_bytes(), 0);
    let mut pass = Pass {
        text,
        shape,
        picked: Picked { text, slots: [[Slot::default(); MAX_MEMBERS]; MAX_OBJECTS], readable: [true; MAX_OBJECTS] },
        open: Open::default(),
    };
    if text.as_bytes().get(start) != Some(&b'{') {
        return None;
    }
    let end = pass.object(0, start).ok()?;
    let done = skip_ws(text.as_bytes(), end) == text.len() && pass.picked.readable(0);
    done.then_some(pass.picked)
}

/// A pass in progress.
struct Pass<'a, 's> {
    text: &'a str,
    shape: &'s Shape,
    picked: Picked<'a>,
    open: Open,
}

impl Pass<'_, '_> {
    /// Reads the object of the shape whose `{` is at `i`; returns the index after its `}`.
    /// Children come after their parent in the shape, so the recursion is as deep as the shape,
    /// no deeper.
    fn object(&mut self, object: usize, i: usize) -> Result<usize, SyntaxError> {
        let members = self.shape.get(object).map_or(&[][..], |object| object.members);
        // Filled here and stored when the object closes: of a repeated key, the last object is
        // the one read, afresh.
        let mut slots = [Slot::default(); MAX_MEMBERS];
        let mut readable = true;
        let b = self.text.as_bytes();
        let mut i = skip_ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            self.close(object, slots, readable);
            return Ok(i + 1);
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return Err(SyntaxError { at: i });
            }
            let (end, escaped) = scan_string(b, i)?;
            let member = match member(self.text, members, i, end, escaped) {
                Ok(member) => member,
                Err(NotText) => {
                    readable = false;
                    None
                }
            };
            let colon = skip_ws(b, end);
            if b.get(colon) != Some(&b':') {
                return Err(SyntaxError { at: colon });
            }
            let start = skip_ws(b, colon + 1);
            let child = member.and_then(|m| members.get(m)?.1);
            let (end, kind, escaped) = match child {
                Some(child) if b.get(start) == Some(&b'{') => (self.object(child, start)?, Kind::Object, false),
                _ => self.skip(start)?,
            };
            if let Some(slot) = member.and_then(|m| slots.get_mut(m)) {
                *slot = Slot { kind: Some(kind), escaped, start, end };
            }
            i = skip_ws(b, end);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => {
                    self.close(object, slots, readable);
                    return Ok(i + 1);
                }
                _ => return Err(SyntaxError { at: i }),
            }
        }
    }

    /// Stores what was read of the shape's object `object`.
    fn close(&mut self, object: usize, slots: [Slot; MAX_MEMBERS], readable: bool) {
        if let (Some(kept), Some(flag)) = (self.picked.slots.get_mut(object), self.picked.readable.get_mut(object)) {
            *kept = slots;
            *flag = readable;
        }
    }

    /// Skips the value at `i`, validated, however deep; returns the index after it, its kind
    /// and, for a string, whether it holds an escape.
    fn skip(&mut self, i: usize) -> Result<(usize, Kind, bool), SyntaxError> {
        let b = self.text.as_bytes();
        let first = match b.get(i) {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => {
                let (end, escaped) = scan_string(b, i)?;
                return Ok((end, Kind::String, escaped));
            }
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            Some(b't' | b'f') => Kind::Bool,
            _ => Kind::Null,
        };
        debug_assert!(self.open.is_empty(), "skips do not nest");
        Ok((skip_values(b, i, &mut self.open, false)?, first, false))
    }
}

/// A key that is not text (an escape that is not a Unicode scalar): its object cannot be read.
struct NotText;

/// The index in `members` of the key at `start..end` of `text` (quotes included), if it names
/// one of them.
#[inline(always)]
fn member(
    text: &str,
    members: &[(&'static str, Option<usize>)],
    start: usize,
    end: usize,
    escaped: bool,
) -> Result<Option<usize>, NotText> {
    if escaped {
        let quoted = text.get(start..end).ok_or(NotText)?;
        let key = serde_json::from_str::<String>(quoted).map_err(|_| NotText)?;
        Ok(members.iter().position(|(wanted, _)| *wanted == key))
    } else {
        let key = text.as_bytes().get(start + 1..end - 1).unwrap_or_default();
        Ok(members.iter().position(|(wanted, _)| same_key(wanted.as_bytes(), key)))
    }
}

/// `a == b`, compared in line with two overlapping words for the short keys of JSON objects (a
/// call to `bcmp`, and the registers it needs saved, costs several times as much).
#[inline(always)]
fn same_key(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match (a.first_chunk::<8>(), b.first_chunk::<8>(), a.last_chunk::<8>(), b.last_chunk::<8>()) {
        (Some(a_head), Some(b_head), Some(a_tail), Some(b_tail)) => {
            a_head == b_head && a_tail == b_tail && (a.len() <= 16 || a == b)
        }
        _ => match (a.first_chunk::<4>(), b.first_chunk::<4>(), a.last_chunk::<4>(), b.last_chunk::<4>()) {
            (Some(a_head), Some(b_head), Some(a_tail), Some(b_tail)) => a_head == b_head && a_tail == b_tail,
            _ => a.iter().zip(b).all(|(x, y)| x == y),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_index::JsonIndex;

    /// `{"a": {"b": ..}, "c": ..}`: one nested object and a raw member.
    static SHAPE: [ShapeObject; 2] =
        [ShapeObject { members: &[("a", Some(1)), ("c", None)] }, ShapeObject { members: &[("b", None)] }];

    #[test]
    fn accepts_and_keeps_what_the_index_does() {
        for text in [
            "{}",
            " { } ",
            "[]",
            "0",
            "\"a\"",
            "{\"a\":1}",
            r#"{"a":{"b":[1,{"b":2}]},"c":"\ud800"}"#,
            r#"{"a":{"b":1},"a":{"x":2}}"#,
            r#"{"a":{"\ud800":1}}"#,
            r#"{"a":{"\ud800":1},"a":{"b":3}}"#,
            r#"{"\u0061":{"b":"x"},"c":null}"#,
            r#"{"c":{"\ud800":1}}"#,
            r#"{"\ud800":1}"#,
            r#"{"a":[{"b":1}]}"#,
            "\t{\"a\" : { \"b\" : true } ,\r\n \"c\":[ ] }\n",
            "{\"a\":1,}",
            "{\"a\"}",
            "{\"a\":}",
            "{a:1}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":-}",
            "{\"a\":tru}",
            "{\"a\":\"\u{1}\"}",
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12g4"}"#,
            "{\"a\":{\"b\":1}",
            "{\"a\":[}",
            "{\"a\":{]}",
            "{} x",
            "{}}",
            "\u{feff}{}",
            "",
        ] {
            let picked = pick(text, &SHAPE);
            let index = JsonIndex::parse(text).ok();
            let root = index.as_ref().and_then(|index| index.root().object());
            assert_eq!(picked.is_some(), root.is_some(), "{text:?}");
            let (Some(picked), Some(root)) = (picked, root) else { continue };
            let raw = |value: Option<PickedValue<'_>>| value.map(|v| v.raw().to_owned());
            assert_eq!(raw(picked.get(0, 1)), root.get("c").map(|c| c.raw().to_owned()), "{text:?}");
            let a = root.get("a");
            assert_eq!(raw(picked.get(0, 0)), a.map(|a| a.raw().to_owned()), "{text:?}");
            if let Some(a) = a.and_then(|a| a.object()) {
                assert!(picked.readable(1), "{text:?}");
                assert_eq!(raw(picked.get(1, 0)), a.get("b").map(|b| b.raw().to_owned()), "{text:?}");
            } else if a.is_some_and(|a| a.kind() == Kind::Object) {
                assert!(!picked.readable(1), "{text:?}");
            }
        }
    }

    #[test]
    fn same_key_is_equality() {
        for len in 0..40_usize {
            let a: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(same_key(&a, &a.clone()));
            assert!(!same_key(&a, &[&a[..], b"a"].concat()));
            assert!(len == 0 || !same_key(&a, &a[1..]));
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_key(&a, &b), "{len} {at}");
            }
        }
    }
}
