//! The JSON lexer the one-pass readers share (`json`, `json_pick`): whitespace, strings (sixteen
//! bytes at a time) and numbers, checked as RFC 8259 has them, and the skipping of the values
//! they do not keep ([`skip_values`]).
//!
//! `JsonIndex`, test-only, is the reference `json_pick` is compared with: a validating one-pass
//! index of a document, every value's span and kind in one flat list, so that members are found
//! without re-parsing. Of repeated keys the last wins; strings are unescaped only when they hold
//! escapes. It accepts what `serde_json` accepts when it skips a value (RFC 8259, any `\uXXXX`
//! escape until the string is read as text), at any depth, with no recursion; reading a value as
//! an object checks its keys as `serde_json` reads keys: escapes must be Unicode scalars.

#![allow(dead_code, reason = "only the reference typing of link::notification reads it")]

#[cfg(test)]
use std::borrow::Cow;

use wide::u8x16;

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    String,
    Number,
    Bool,
    Null,
}

#[cfg(test)]
/// One value: its kind, its raw span, the key it is the member of (in an object) and the index
/// of the node after it and its descendants.
#[derive(Debug, Clone, Copy)]
struct Node {
    kind: Kind,
    /// The string (or key) holds a backslash escape.
    escaped: bool,
    key_escaped: bool,
    /// For an object: one of its keys holds a backslash escape (only then must reading it as an
    /// object look at its keys).
    escaped_keys: bool,
    /// The key without its quotes (empty span outside objects).
    key_start: usize,
    key_end: usize,
    /// The raw value (quotes included for strings).
    start: usize,
    end: usize,
    /// The next sibling's node index.
    next: usize,
}

/// The text is not one well-formed JSON value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// The byte offset where reading stopped.
    pub(crate) at: usize,
}

#[cfg(test)]
/// An indexed JSON document.
#[derive(Debug, Clone)]
pub(crate) struct JsonIndex<'a> {
    text: &'a str,
    nodes: Vec<Node>,
}

#[cfg(test)]
/// A value of an indexed document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonValue<'i, 'a> {
    index: &'i JsonIndex<'a>,
    id: usize,
}

#[cfg(test)]
/// An object of an indexed document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonObject<'i, 'a> {
    value: JsonValue<'i, 'a>,
}

/// Bytes that end the fast scan of a string: `"`, `\` and control characters.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Skips JSON whitespace (space, `\t`, `\n`, `\r`) from `i` (shared with [`json::read`](crate::json)).
#[inline]
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    // Compact JSON has no whitespace: one comparison says so for any byte above the space.
    if b.get(i).is_some_and(|&c| c > b' ') {
        return i;
    }
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// Scans a string whose opening quote is at `i`; returns the index after the closing quote and
/// whether it holds escapes. Any `\uXXXX` is accepted, as `serde_json` does when it skips a string.
///
/// Most strings hold no escape: that path is inlined in the scanners' loops, the rest is not.
#[inline(always)]
pub(crate) fn scan_string(b: &[u8], i: usize) -> Result<(usize, bool), SyntaxError> {
    let end = skip_plain(b, i + 1);
    if b.get(end) == Some(&b'"') { Ok((end + 1, false)) } else { scan_escaped(b, end) }
}

/// The rest of a string from `i`, a byte that is not plain (see [`scan_string`]).
#[inline(never)]
fn scan_escaped(b: &[u8], mut i: usize) -> Result<(usize, bool), SyntaxError> {
    let mut escaped = false;
    loop {
        match b.get(i) {
            Some(b'"') => return Ok((i + 1, escaped)),
            Some(b'\\') => {
                escaped = true;
                match b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let digits = b.get(i + 2..i + 6).ok_or(SyntaxError { at: b.len() })?;
                        if !digits.iter().all(|&c| is_hex(c)) {
                            return Err(SyntaxError { at: i });
                        }
                        i += 6;
                    }
                    _ => return Err(SyntaxError { at: i }),
                }
            }
            _ => return Err(SyntaxError { at: i }),
        }
        i = skip_plain(b, i);
    }
}

/// Skips the bytes of a string that need no attention: sixteen at a time while sixteen remain
/// (three vector compares and a mask), then eight at a time (a word holding none of `"`, `\` or
/// a control character costs a few operations, where the byte loop costs a few per byte), then
/// byte by byte.
#[inline(always)]
fn skip_plain(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<16>) {
        let bytes = u8x16::new(*chunk);
        // Below 0x20 exactly when the unsigned minimum with 0x1f leaves the byte unchanged.
        let control = bytes.min(u8x16::splat(0x1f)).simd_eq(bytes);
        let stops = control | bytes.simd_eq(u8x16::splat(b'"')) | bytes.simd_eq(u8x16::splat(b'\\'));
        let mask = stops.to_bitmask();
        if mask != 0 {
            return i + mask.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(chunk) = b.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // The high bit of each byte below 0x20 or equal to `"` (flipping bit 1 sends `"`, 0x22,
        // to 0x20 and keeps control characters below it: all are below 0x21), or equal to `\`
        // (zero once xored). The high bit of `!word` keeps ASCII bytes only. A borrow can set a
        // bit above such a byte too, never below the first: the lowest bit set marks the first
        // byte that stops the scan.
        let quote_or_control = (word ^ (ONES * 0x02)).wrapping_sub(ONES * 0x21);
        let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
        let stops = (quote_or_control | backslash) & !word & HIGH;
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while b.get(i).is_some_and(|&c| !STRING_STOP[usize::from(c)]) {
        i += 1;
    }
    i
}

fn scan_digits(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

/// Scans a number starting at `i` (RFC 8259 grammar); returns the index after it.
#[inline]
pub(crate) fn scan_number(b: &[u8], mut i: usize) -> Result<usize, SyntaxError> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = scan_digits(b, i + 1),
        _ => return Err(SyntaxError { at: i }),
    }
    if b.get(i) == Some(&b'.') {
        let after = scan_digits(b, i + 1);
        if after == i + 1 {
            return Err(SyntaxError { at: after });
        }
        i = after;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let after = scan_digits(b, i);
        if after == i {
            return Err(SyntaxError { at: after });
        }
        i = after;
    }
    Ok(i)
}

/// Reads `"key" :` at `i` (after whitespace) in a skipped object, any `\uXXXX` accepted; returns
/// the index after the colon.
#[inline(always)]
pub(crate) fn skip_key(b: &[u8], i: usize) -> Result<usize, SyntaxError> {
    let i = skip_ws(b, i);
    if b.get(i) != Some(&b'"') {
        return Err(SyntaxError { at: i });
    }
    let colon = skip_ws(b, scan_string(b, i)?.0);
    if b.get(colon) != Some(&b':') {
        return Err(SyntaxError { at: colon });
    }
    Ok(colon + 1)
}

/// The containers open in a skipped value, innermost last: one bit each, set for an object. The
/// innermost 64 levels or fewer live in one word; deeper ones spill, a word at a time.
#[derive(Debug, Default)]
pub(crate) struct Open {
    depth: usize,
    word: u64,
    outer: Vec<u64>,
}

impl Open {
    pub(crate) fn push(&mut self, object: bool) {
        if self.depth > 0 && self.depth.is_multiple_of(64) {
            self.outer.push(self.word);
            self.word = 0;
        }
        self.word = (self.word << 1) | u64::from(object);
        self.depth += 1;
    }

    /// Whether the innermost open container is an object; `None` when none is open.
    pub(crate) fn last(&self) -> Option<bool> {
        (self.depth > 0).then_some(self.word & 1 == 1)
    }

    pub(crate) fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.word >>= 1;
        if self.depth > 0 && self.depth.is_multiple_of(64) {
            self.word = self.outer.pop().unwrap_or_default();
        }
    }

    /// Whether no container is open.
    pub(crate) fn is_empty(&self) -> bool {
        self.depth == 0
    }
}

/// Skips values from `i` until the containers open in `open`, and those the values open, are
/// closed; starts right after a value when `after_value`. Returns the index after the last value
/// (or container) skipped. Validated as RFC 8259, any `\uXXXX` accepted in strings, at any depth,
/// without recursion: the one skipper of the one-pass readers ([`json::read`](crate::json) and
/// [`json_pick`](crate::json_pick)). Inlined into each: it is their hot loop over what they do
/// not keep.
#[inline(always)]
pub(crate) fn skip_values(
    b: &[u8],
    mut i: usize,
    open: &mut Open,
    mut after_value: bool,
) -> Result<usize, SyntaxError> {
    loop {
        if !after_value {
            i = skip_ws(b, i);
            match b.get(i) {
                Some(&bracket @ (b'{' | b'[')) => {
                    let object = bracket == b'{';
                    i = skip_ws(b, i + 1);
                    if b.get(i) == Some(if object { &b'}' } else { &b']' }) {
                        i += 1;
                    } else {
                        open.push(object);
                        if object {
                            i = skip_key(b, i)?;
                        }
                        continue;
                    }
                }
                Some(b'"') => i = scan_string(b, i)?.0,
                Some(b'-' | b'0'..=b'9') => i = scan_number(b, i)?,
                Some(b't') if b[i..].starts_with(b"true") => i += 4,
                Some(b'f') if b[i..].starts_with(b"false") => i += 5,
                Some(b'n') if b[i..].starts_with(b"null") => i += 4,
                _ => return Err(SyntaxError { at: i }),
            }
        }
        after_value = false;
        // After a value: the ends of containers, then a separator or the end of the skip.
        loop {
            let Some(object) = open.last() else {
                return Ok(i);
            };
            i = skip_ws(b, i);
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    if object {
                        i = skip_key(b, i)?;
                    }
                    break;
                }
                Some(b'}') if object => {}
                Some(b']') if !object => {}
                _ => return Err(SyntaxError { at: i }),
            }
            i += 1;
            open.pop();
        }
    }
}

#[cfg(test)]
/// A JSON string token (quotes included) unescaped: borrowed when it holds no escapes. `None`
/// for an escape that is not a Unicode scalar (a lone surrogate).
fn unescape(raw: &str, escaped: bool) -> Option<Cow<'_, str>> {
    if escaped {
        serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
    } else {
        raw.get(1..raw.len().saturating_sub(1)).map(Cow::Borrowed)
    }
}

#[cfg(test)]
impl<'a> JsonIndex<'a> {
    /// Indexes a document: one JSON value, optionally surrounded by whitespace.
    pub(crate) fn parse(text: &'a str) -> Result<Self, SyntaxError> {
        let b = text.as_bytes();
        let mut nodes: Vec<Node> = Vec::with_capacity(b.len() / 24 + 4);
        let mut open: Vec<usize> = Vec::new();
        let mut i = 0;
        // The key of the value about to be read, inside an object.
        let (mut key_start, mut key_end, mut key_escaped) = (0, 0, false);
        loop {
            // A value.
            i = skip_ws(b, i);
            let start = i;
            let id = nodes.len();
            let mut node = Node {
                kind: Kind::Null,
                escaped: false,
                key_escaped,
                escaped_keys: false,
                key_start,
                key_end,
                start,
                end: 0,
                next: id + 1,
            };
            let mut container = false;
            match b.get(i) {
                Some(b'{') => {
                    node.kind = Kind::Object;
                    container = true;
                }
                Some(b'[') => {
                    node.kind = Kind::Array;
                    container = true;
                }
                Some(b'"') => {
                    let (end, escaped) = scan_string(b, i)?;
                    node.kind = Kind::String;
                    node.escaped = escaped;
                    i = end;
                }
                Some(b'-' | b'0'..=b'9') => {
                    node.kind = Kind::Number;
                    i = scan_number(b, i)?;
                }
                Some(b't') if b[i..].starts_with(b"true") => {
                    node.kind = Kind::Bool;
                    i += 4;
                }
                Some(b'f') if b[i..].starts_with(b"false") => {
                    node.kind = Kind::Bool;
                    i += 5;
                }
                Some(b'n') if b[i..].starts_with(b"null") => i += 4,
                _ => return Err(SyntaxError { at: i }),
            }
            node.end = i;
            nodes.push(node);
            if container {
                open.push(id);
                i = skip_ws(b, i + 1);
                let close = if node.kind == Kind::Object { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    // Empty: closed below, as after a last member.
                } else {
                    if node.kind == Kind::Object {
                        (key_start, key_end, key_escaped, i) = Self::key(text, i)?;
                        if let Some(object) = nodes.last_mut() {
                            object.escaped_keys |= key_escaped;
                        }
                    } else {
                        (key_start, key_end, key_escaped) = (0, 0, false);
                    }
                    continue;
                }
            }
            // After a value: a separator, the end of containers, or the end of the document.
            loop {
                i = skip_ws(b, i);
                let Some(&parent) = open.last() else {
                    return if i == b.len() { Ok(Self { text, nodes }) } else { Err(SyntaxError { at: i }) };
                };
                let is_object = nodes[parent].kind == Kind::Object;
                match b.get(i) {
                    Some(b',') => {
                        i = skip_ws(b, i + 1);
                        if is_object {
                            (key_start, key_end, key_escaped, i) = Self::key(text, i)?;
                            nodes[parent].escaped_keys |= key_escaped;
                        }
                        break;
                    }
                    Some(b'}') if is_object => {}
                    Some(b']') if !is_object => {}
                    _ => return Err(SyntaxError { at: i }),
                }
                i += 1;
                let count = nodes.len();
                let node = &mut nodes[parent];
                node.end = i;
                node.next = count;
                open.pop();
            }
        }
    }

    /// Reads `"key" :` at `i`; returns the key span, whether it is escaped, and the index after
    /// the colon.
    fn key(text: &str, i: usize) -> Result<(usize, usize, bool, usize), SyntaxError> {
        let b = text.as_bytes();
        if b.get(i) != Some(&b'"') {
            return Err(SyntaxError { at: i });
        }
        let (end, escaped) = scan_string(b, i)?;
        let colon = skip_ws(b, end);
        if b.get(colon) != Some(&b':') {
            return Err(SyntaxError { at: colon });
        }
        Ok((i + 1, end - 1, escaped, colon + 1))
    }

    /// The document's value.
    pub(crate) fn root(&self) -> JsonValue<'_, 'a> {
        JsonValue { index: self, id: 0 }
    }

    fn node(&self, id: usize) -> Option<&Node> {
        self.nodes.get(id)
    }
}

#[cfg(test)]
impl<'i, 'a> JsonValue<'i, 'a> {
    fn node(&self) -> Node {
        self.index.node(self.id).copied().unwrap_or(Node {
            kind: Kind::Null,
            escaped: false,
            key_escaped: false,
            escaped_keys: false,
            key_start: 0,
            key_end: 0,
            start: 0,
            end: 0,
            next: self.id + 1,
        })
    }

    /// The JSON type.
    pub(crate) fn kind(&self) -> Kind {
        self.node().kind
    }

    /// The value's text exactly as in the document.
    pub(crate) fn raw(&self) -> &'a str {
        let node = self.node();
        self.index.text.get(node.start..node.end).unwrap_or("")
    }

    /// A string's text, unescaped; `None` for another type or an escape that is not a Unicode
    /// scalar.
    pub(crate) fn str(&self) -> Option<Cow<'a, str>> {
        let node = self.node();
        if node.kind != Kind::String {
            return None;
        }
        unescape(self.raw(), node.escaped)
    }

    /// The value as an object; `None` for another type, or when a key holds an escape that is
    /// not a Unicode scalar (`serde_json` refuses to read such an object).
    pub(crate) fn object(&self) -> Option<JsonObject<'i, 'a>> {
        if self.kind() != Kind::Object {
            return None;
        }
        let object = JsonObject { value: *self };
        let readable = !self.node().escaped_keys
            || object.members().all(|(node, _)| !node.key_escaped || object.key(&node).is_some());
        readable.then_some(object)
    }
}

#[cfg(test)]
impl<'i, 'a> JsonObject<'i, 'a> {
    /// The members in order: key (raw, without its quotes; escapes kept) and value.
    fn members(&self) -> impl Iterator<Item = (Node, JsonValue<'i, 'a>)> + '_ {
        let index = self.value.index;
        let end = self.value.node().next;
        let mut id = self.value.id + 1;
        std::iter::from_fn(move || {
            if id >= end {
                return None;
            }
            let node = *index.node(id)?;
            let value = JsonValue { index, id };
            id = node.next.max(id + 1);
            Some((node, value))
        })
    }

    /// A member's key, unescaped.
    fn key(&self, node: &Node) -> Option<Cow<'a, str>> {
        let quoted = self.value.index.text.get(node.key_start.checked_sub(1)?..node.key_end + 1)?;
        unescape(quoted, node.key_escaped)
    }

    /// The value of a member (the last one when the key is repeated).
    pub(crate) fn get(&self, key: &str) -> Option<JsonValue<'i, 'a>> {
        let [value] = self.get_many([key]);
        value
    }

    /// The values of several members in one pass over the object (the last one of each key
    /// when a key is repeated).
    pub(crate) fn get_many<const N: usize>(&self, keys: [&str; N]) -> [Option<JsonValue<'i, 'a>>; N] {
        let index = self.value.index;
        let bytes = index.text.as_bytes();
        let mut found = [None; N];
        let end = self.value.node().next;
        let mut id = self.value.id + 1;
        while id < end {
            let Some(node) = index.nodes.get(id) else { break };
            let value = JsonValue { index, id };
            if node.key_escaped {
                if let Some(key) = self.key(node) {
                    for (slot, wanted) in found.iter_mut().zip(keys) {
                        if key == wanted {
                            *slot = Some(value);
                        }
                    }
                }
            } else if let Some(key) = bytes.get(node.key_start..node.key_end) {
                for (slot, wanted) in found.iter_mut().zip(keys) {
                    if key == wanted.as_bytes() {
                        *slot = Some(value);
                    }
                }
            }
            id = node.next.max(id + 1);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    type RawObject<'a> = std::collections::HashMap<String, &'a serde_json::value::RawValue>;

    #[test]
    fn the_open_containers_spill_and_come_back_in_order() {
        let mut open = Open::default();
        let kinds: Vec<bool> = (0..300).map(|i| i % 3 == 0 || i % 7 == 0).collect();
        for &object in &kinds {
            open.push(object);
            assert_eq!(open.last(), Some(object));
        }
        for &object in kinds.iter().rev() {
            assert_eq!(open.last(), Some(object));
            open.pop();
        }
        assert_eq!(open.last(), None);
    }

    fn root(text: &str) -> JsonIndex<'_> {
        JsonIndex::parse(text).unwrap()
    }

    #[test]
    fn accepts_exactly_what_serde_json_accepts() {
        let cases = [
            "{}",
            " { } ",
            "[]",
            "[1,2]",
            "0",
            "-0.5e+3",
            "1E9",
            r#""a\u00e9\n""#,
            r#"{"a":[{"b":null},true,false,"x\"y"],"c":{"d":{}}}"#,
            "\t{\"a\" : 1 ,\r\n \"b\":[ ] }\n",
            r#"{"\ud800":1}"#,
            r#"{"a":{"\ud800":1}}"#,
            r#"{"a\u0062":1}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a\u0062":1}"#,
            "",
            " ",
            "{",
            "}",
            "{,}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "[1,]",
            "[,1]",
            "{\"a\":1 \"b\":2}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "+1",
            "tru",
            "nul",
            "truex",
            "\"\u{1}\"",
            r#""\x""#,
            r#""\u12""#,
            r#""\u12g4""#,
            "\"abc",
            "[1] [2]",
            "{} x",
            "[}",
            "{]",
            "\u{feff}{}",
            "{\"a\":1}}",
            "[[[]]]]",
        ];
        for case in cases {
            let ours = JsonIndex::parse(case).is_ok();
            let theirs = serde_json::from_str::<&serde_json::value::RawValue>(case).is_ok();
            assert_eq!(ours, theirs, "{case:?}");
            // As an object, keys are read strictly.
            let ours = JsonIndex::parse(case).ok().is_some_and(|index| index.root().object().is_some());
            assert_eq!(ours, serde_json::from_str::<RawObject<'_>>(case).is_ok(), "{case:?} as an object");
        }
    }

    #[test]
    fn any_depth_without_recursion() {
        assert!(JsonIndex::parse(&"[".repeat(100_000)).is_err());
        let deep = format!("{{\"a\":{}1{}}}", "[{\"b\":".repeat(50_000), "}]".repeat(50_000));
        assert!(serde_json::from_str::<RawObject<'_>>(&deep).is_ok());
        let index = JsonIndex::parse(&deep).unwrap();
        assert_eq!(index.root().object().unwrap().get("a").unwrap().kind(), Kind::Array);
    }

    #[test]
    fn last_duplicate_wins_and_nested_members_are_not_top_level() {
        let index = root(r#"{"id":"a","o":{"id":"inner","k":[{"id":0}]},"id":"b","e":{}}"#);
        let object = index.root().object().unwrap();
        assert_eq!(object.get("id").unwrap().str().unwrap(), "b");
        let inner = object.get("o").unwrap().object().unwrap();
        assert_eq!(inner.get("id").unwrap().str().unwrap(), "inner");
        assert_eq!(inner.get("k").unwrap().raw(), r#"[{"id":0}]"#);
        assert!(inner.get("missing").is_none());
        assert_eq!(object.get("e").unwrap().raw(), "{}");
        assert!(object.get("e").unwrap().object().unwrap().get("id").is_none());
        assert!(object.get("k").is_none());
        let [id, o, missing] = object.get_many(["id", "o", "missing"]);
        assert_eq!(id.unwrap().str().unwrap(), "b");
        assert_eq!(o.unwrap().raw(), r#"{"id":"inner","k":[{"id":0}]}"#);
        assert!(missing.is_none());
    }

    #[test]
    fn strings_and_keys_are_unescaped() {
        let index = root(r#"{"i\u0064":"\u00e9\/\"","s":"\ud800","p":"\ud83d\ude00","n":1}"#);
        let object = index.root().object().unwrap();
        assert_eq!(object.get("id").unwrap().str().unwrap(), "é/\"");
        assert!(matches!(object.get("id").unwrap().str(), Some(Cow::Owned(_))));
        assert!(object.get("s").unwrap().str().is_none());
        assert_eq!(object.get("p").unwrap().str().unwrap(), "😀");
        assert!(object.get("n").unwrap().str().is_none());
        assert_eq!(object.get("n").unwrap().kind(), Kind::Number);
        assert!(object.get("n").unwrap().object().is_none());
    }

    #[test]
    fn a_key_that_is_not_a_scalar_spoils_its_own_object_wherever_it_is() {
        for (text, root_ok, inner_ok) in [
            (r#"{"o":{"a":1,"\udfff":2}}"#, true, false),
            (r#"{"o":{"\udfff":2,"a":1}}"#, true, false),
            (r#"{"o":{"a\u0062":1,"c":{"\ud800":1}}}"#, true, true),
            (r#"{"o":{"a":1},"\udfff":2}"#, false, true),
            (r#"{"\ud800":1,"o":{"a":1}}"#, false, true),
            (r#"{"o":{"a":[{"\ud800":1}]},"x":{"\udc00":2}}"#, true, true),
        ] {
            let index = root(text);
            assert_eq!(index.root().object().is_some(), root_ok, "{text}");
            let inner = JsonObject { value: index.root() }.get("o").unwrap();
            assert_eq!(inner.object().is_some(), inner_ok, "{text}");
            assert_eq!(serde_json::from_str::<RawObject<'_>>(inner.raw()).is_ok(), inner_ok, "{text}");
        }
    }

    #[test]
    fn long_strings_stop_at_quotes_escapes_and_control_characters() {
        for n in 0..20 {
            let pad = "é".repeat(n % 4) + &"a".repeat(n);
            for (tail, ok) in
                [("\"", true), ("\\n\"", true), ("\u{1}\"", false), ("\u{1f}\"", false), ("\u{7f}\"", true)]
            {
                let text = format!("[\"{pad}{tail}, 1]");
                assert_eq!(JsonIndex::parse(&text).is_ok(), ok, "{text:?}");
                assert_eq!(serde_json::from_str::<&serde_json::value::RawValue>(&text).is_ok(), ok, "{text:?}");
            }
        }
    }

    #[test]
    fn the_word_scan_stops_where_the_byte_scan_does() {
        // Every stop byte at every offset of the first words, after every kind of plain byte.
        let byte_scan = |b: &[u8], mut i: usize| {
            while b.get(i).is_some_and(|&c| !STRING_STOP[usize::from(c)]) {
                i += 1;
            }
            i
        };
        let stops = [b'"', b'\\', 0x00, 0x01, 0x1f, b'\n'];
        for plain in [b'a', b' ', 0x7f, 0x80, 0xff, b'!', b'#', b'[', b']', 0x5d, 0x20] {
            for (stop, later) in stops.iter().flat_map(|&s| stops.map(|l| (s, l))) {
                for len in 0..40 {
                    for at in 0..=len {
                        let mut text = vec![plain; len];
                        if at < len {
                            // A stop later in the same word must not hide the first.
                            text[len - 1] = later;
                            text[at] = stop;
                        }
                        for start in 0..=len.min(3) {
                            assert_eq!(skip_plain(&text, start), byte_scan(&text, start), "{text:?} {start}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_word_scan_classifies_every_byte_alone_and_next_to_a_stop() {
        let byte_scan = |b: &[u8]| b.iter().position(|&c| STRING_STOP[usize::from(c)]).unwrap_or(b.len());
        for byte in 0..=u8::MAX {
            for at in 0..40 {
                let mut text = vec![b'a'; 41];
                text[at] = byte;
                assert_eq!(skip_plain(&text, 0), byte_scan(&text), "{byte:#x} at {at}");
                for stop in [b'"', b'\\', 0x00, 0x1f] {
                    let mut before = text.clone();
                    before[at + 1] = stop;
                    assert_eq!(skip_plain(&before, 0), byte_scan(&before), "{byte:#x} then {stop:#x}");
                    let mut after = vec![b'a'; 41];
                    after[at] = stop;
                    after[at + 1] = byte;
                    assert_eq!(skip_plain(&after, 0), byte_scan(&after), "{stop:#x} then {byte:#x}");
                }
            }
        }
    }

    #[test]
    fn agrees_with_serde_json_on_members() {
        let text = r#" {"a" : { "b" : [1, {"c": "d"}], "b": 2.50 } , "x":[] , "a2":"\t" } "#;
        let index = root(text);
        let ours = index.root().object().unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        let a = ours.get("a").unwrap().object().unwrap();
        assert_eq!(a.get("b").unwrap().raw(), "2.50");
        assert_eq!(ours.get("x").unwrap().raw(), "[]");
        assert_eq!(ours.get("a2").unwrap().str().unwrap(), theirs["a2"].as_str().unwrap());
    }
}
