//! `application/x-www-form-urlencoded` decoding into one buffer, sorted by name for the signing
//! string and for lookups; a repeated name is an error.

/// Why a form body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A name or value is not UTF-8 once percent-decoded.
    #[error("a field is not valid UTF-8 once percent-decoded")]
    InvalidUtf8,
    /// The same name appears twice: the signed value and the value read could differ.
    #[error("the field {name} appears more than once")]
    DuplicateField {
        /// The repeated name.
        name: String,
    },
    /// The body is too large to be decoded at all (the endpoint's own limit is far lower).
    #[error("the form body is larger than {limit} bytes")]
    TooLarge {
        /// The largest body decoded.
        limit: usize,
    },
}

/// Where a piece of text lives: in the received body (a plain piece, the common case) or, once
/// percent-decoded, in the side buffer (the high bit of `start` says which).
#[derive(Debug, Clone, Copy)]
struct Piece {
    start: u32,
    end: u32,
}

/// Set in [`Piece::start`] when the piece is in the decoded buffer.
const DECODED: u32 = 1 << 31;
/// Set in [`Piece::start`] while parsing, when the piece is still to be decoded.
const ENCODED: u32 = 1 << 30;

/// The largest body decoded: piece offsets take 30 bits, and the decoded buffer is no longer
/// than the body.
const MAX_BODY: usize = (1 << 30) - 1;

#[derive(Debug, Clone, Copy)]
struct Span {
    /// The name's first 16 bytes, zero-padded, as a big-endian integer: comparing keys orders
    /// names as their bytes do, except that equal keys need the full names compared.
    key: u128,
    name: Piece,
    value: Piece,
}

/// The sort key of a name (see [`Span::key`]).
fn name_key(name: &[u8]) -> u128 {
    let mut prefix = [0_u8; 16];
    let len = name.len().min(16);
    prefix[..len].copy_from_slice(&name[..len]);
    u128::from_be_bytes(prefix)
}

/// The sort key of the name `bytes[start..end]`, read as one 16-byte load when the buffer
/// allows it.
fn name_key_at(bytes: &[u8], start: usize, end: usize) -> u128 {
    match bytes.get(start..).and_then(|rest| rest.first_chunk::<16>()) {
        Some(chunk) => {
            let len = end - start;
            let word = u128::from_be_bytes(*chunk);
            // Keep the name's bytes, zero the ones after it.
            if len >= 16 { word } else { word & !(u128::MAX >> (len * 8)) }
        }
        None => name_key(&bytes[start..end]),
    }
}

/// Decoded form fields, sorted by name in byte order, names unique.
///
/// Decoding follows the URL standard: pairs split on `&` (empty pairs skipped), name and value
/// split on the first `=` (a pair without `=` has an empty value), `+` is a space, `%XX` a byte,
/// a `%` not followed by two hex digits is kept as is. Every name and value must be UTF-8 once
/// decoded.
///
/// The body is kept as received and names and values are slices of it; only the pieces that
/// hold a `%` or a `+` are decoded, into one side buffer. The signed values are copied once more,
/// into the signing string, when a signature is checked.
///
/// ```
/// use ipn_core::form::FormFields;
/// let fields = FormFields::parse(b"vads_b=x+y&vads_a=%C3%A9&signature=s").unwrap();
/// assert_eq!(fields.get("vads_b"), Some("x y"));
/// let names: Vec<_> = fields.iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["signature", "vads_a", "vads_b"]);
/// ```
#[derive(Clone)]
pub struct FormFields {
    /// The body as received, when it is UTF-8 (otherwise every piece is in `decoded`).
    body: Box<str>,
    /// The pieces that needed decoding, decoded.
    decoded: String,
    /// Sorted by name.
    spans: Vec<Span>,
}

/// The candidate bytes of an 8-byte word (little-endian): `0x80` in every byte that is `&`,
/// `=`, `%` or `+`, and in some others, which the caller skips: bytes below `0x30`, and bytes
/// just above a match, where a borrow can reach. A special byte is never missed.
fn candidates(word: u64) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // `%` (0x25), `&` (0x26) and `+` (0x2b) are below 0x30; `=` is 0x3d.
    let below = word.wrapping_sub(ONES * 0x30) & !word;
    (below & HIGH) | has_byte(word, b'=')
}

/// `0x80` in the bytes of `word` equal to `byte`: the lowest is exact, and others may be
/// flagged above it (a borrow), never below.
fn has_byte(word: u64, byte: u8) -> u64 {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// A pair as [`scan`] finds it: where it starts, its first `=` (or its end), its end, and
/// which of its name (1) and value (2) hold a `%` or a `+`.
#[derive(Clone, Copy)]
struct RawPair {
    start: u32,
    equals: u32,
    end: u32,
    encoded: u32,
}

/// `RawPair::equals` before the pair's first `=`.
const NONE: u32 = u32::MAX;

/// The state of [`scan`]: the pairs found, and the one being read.
struct Scanner {
    pairs: Vec<RawPair>,
    pair: RawPair,
    /// `RawPair::encoded` of a fresh pair.
    fresh: u32,
}

impl Scanner {
    /// A `%` or `+` in the piece being read.
    #[inline(always)]
    fn encoded(&mut self) {
        self.pair.encoded |= if self.pair.equals == NONE { 1 } else { 2 };
    }

    /// A pair ends at `end` (a `&` or the end of the body); an empty pair is skipped. Offsets fit
    /// in `u32`: the body is at most MAX_BODY bytes.
    #[inline(always)]
    fn end_pair(&mut self, end: usize) {
        if end as u32 > self.pair.start {
            self.pairs.push(RawPair { end: end as u32, ..self.pair });
        }
        self.pair = RawPair { start: end as u32 + 1, equals: NONE, end: 0, encoded: self.fresh };
    }

    #[inline(always)]
    fn special(&mut self, byte: u8, at: usize) {
        match byte {
            b'&' => self.end_pair(at),
            // The first `=` splits the pair; any other is data.
            b'=' => self.pair.equals = self.pair.equals.min(at as u32),
            b'%' | b'+' => self.encoded(),
            _ => {}
        }
    }
}

/// Cuts the body into pairs in one pass over its special bytes (empty pairs skipped).
fn scan(body: &[u8], encode_all: bool) -> Vec<RawPair> {
    let fresh = if encode_all { 3 } else { 0 };
    let mut scanner = Scanner {
        pairs: Vec::with_capacity(64),
        pair: RawPair { start: 0, equals: NONE, end: 0, encoded: fresh },
        fresh,
    };
    let mut words = body.chunks_exact(8);
    let mut offset = 0;
    for word in words.by_ref() {
        let word: [u8; 8] = word.try_into().unwrap_or_else(|_| unreachable!("chunks_exact(8)"));
        let word = u64::from_le_bytes(word);
        let mut candidates = candidates(word);
        if candidates != 0 && has_byte(word, b'&') | has_byte(word, b'=') == 0 {
            // No `&` nor `=`: the word is inside one piece, which a `%` or a `+` only marks (the
            // common case in encoded JSON).
            if has_byte(word, b'%') | has_byte(word, b'+') != 0 {
                scanner.encoded();
            }
            candidates = 0;
        }
        while candidates != 0 {
            let at = offset + (candidates.trailing_zeros() / 8) as usize;
            scanner.special(body[at], at);
            candidates &= candidates - 1;
        }
        offset += 8;
    }
    for (i, &byte) in words.remainder().iter().enumerate() {
        scanner.special(byte, offset + i);
    }
    scanner.end_pair(body.len());
    scanner.pairs
}

/// The spans of the pairs, keyed on their raw names. Pieces that hold a `%` or a `+` are marked
/// [`ENCODED`] with their raw offsets, for [`decode_marked`]; the others are final. Also returns
/// the length of the pairs with marked pieces (what decoding them can take, at most).
fn spans(body: &[u8], pairs: &[RawPair]) -> (Vec<Span>, usize) {
    let mut to_decode = 0;
    let mark = |encoded: bool| if encoded { ENCODED } else { 0 };
    let spans = pairs
        .iter()
        .map(|p| {
            let name_end = p.equals.min(p.end);
            let value = if p.equals < p.end {
                Piece { start: (p.equals + 1) | mark(p.encoded & 2 != 0), end: p.end }
            } else {
                Piece { start: 0, end: 0 }
            };
            if p.encoded != 0 {
                to_decode += (p.end - p.start) as usize;
            }
            Span {
                key: name_key_at(body, p.start as usize, name_end as usize),
                name: Piece { start: p.start | mark(p.encoded & 1 != 0), end: name_end },
                value,
            }
        })
        .collect();
    (spans, to_decode)
}

/// Decodes the pieces [`scan`] marked into `decoded`, pointing them there, and re-keys the
/// names that changed.
fn decode_marked(body: &[u8], spans: &mut [Span], decoded: &mut Vec<u8>) {
    let decode = |piece: &mut Piece, decoded: &mut Vec<u8>| {
        let from = decoded.len();
        decode_into(&body[(piece.start & !ENCODED) as usize..piece.end as usize], decoded);
        *piece = Piece { start: from as u32 | DECODED, end: decoded.len() as u32 };
        from
    };
    for span in spans {
        if span.name.start & ENCODED != 0 {
            let from = decode(&mut span.name, decoded);
            span.key = name_key(&decoded[from..]);
        }
        if span.value.start & ENCODED != 0 {
            decode(&mut span.value, decoded);
        }
    }
}

/// Whether every decoded piece is UTF-8 on its own, `decoded` being UTF-8 as a whole.
fn decoded_pieces_are_utf8(spans: &[Span], decoded: &str) -> bool {
    let ok = |p: Piece| {
        p.start & DECODED == 0
            || (decoded.is_char_boundary((p.start & !DECODED) as usize) && decoded.is_char_boundary(p.end as usize))
    };
    spans.iter().all(|s| ok(s.name) && ok(s.value))
}

impl FormFields {
    /// Decodes a body.
    ///
    /// # Errors
    ///
    /// A name or value that is not UTF-8 once decoded, a repeated field name, a body over 1 GiB.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        if body.len() > MAX_BODY {
            return Err(FormError::TooLarge { limit: MAX_BODY });
        }
        // A UTF-8 body splits into UTF-8 pieces (the delimiters are ASCII), which can then be
        // borrowed from it.
        let text = std::str::from_utf8(body).ok();
        let (mut spans, to_decode) = spans(body, &scan(body, text.is_none()));
        let mut decoded = Vec::new();
        if to_decode > 0 {
            // Decoding never lengthens a piece.
            decoded.reserve_exact(to_decode + 8);
            decode_marked(body, &mut spans, &mut decoded);
        }
        let mut fields = Self {
            body: text.unwrap_or_default().into(),
            decoded: String::from_utf8(decoded).map_err(|_| FormError::InvalidUtf8)?,
            spans: Vec::new(),
        };
        if to_decode > 0 && !decoded_pieces_are_utf8(&spans, &fields.decoded) {
            return Err(FormError::InvalidUtf8);
        }
        let descending = |a: &Span, b: &Span| a.key > b.key || (a.key == b.key && fields.name(a) > fields.name(b));
        if spans.windows(2).all(|w| descending(&w[0], &w[1])) {
            // Gateways send fields in strictly descending order: names are distinct.
            spans.reverse();
        } else {
            spans.sort_unstable_by(|a, b| a.key.cmp(&b.key).then_with(|| fields.name(a).cmp(fields.name(b))));
            if let Some(w) = spans.windows(2).find(|w| w[0].key == w[1].key && fields.name(&w[0]) == fields.name(&w[1]))
            {
                return Err(FormError::DuplicateField { name: fields.name(&w[0]).to_owned() });
            }
        }
        fields.spans = spans;
        Ok(fields)
    }

    #[inline]
    fn text(&self, piece: Piece) -> &str {
        let (start, end) = ((piece.start & !DECODED) as usize, piece.end as usize);
        if piece.start & DECODED == 0 { &self.body[start..end] } else { &self.decoded[start..end] }
    }

    fn name(&self, span: &Span) -> &str {
        self.text(span.name)
    }

    /// Orders a span against a name (given with its key) by the name's bytes.
    fn compare(&self, span: &Span, key: u128, name: &str) -> std::cmp::Ordering {
        span.key.cmp(&key).then_with(|| self.name(span).as_bytes().cmp(name.as_bytes()))
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        let key = name_key(name.as_bytes());
        // Equal keys are rare (long names with a common 16-byte start): find the first, then
        // compare whole names.
        let first = self.spans.partition_point(|s| s.key < key);
        // A name shorter than 16 bytes is all in its key: equal keys and lengths are enough.
        let same = |s: &&Span| match name.len() {
            0..16 => (s.name.end - (s.name.start & !DECODED)) as usize == name.len(),
            _ => self.name(s) == name,
        };
        let span = self.spans[first..].iter().take_while(|s| s.key == key).find(same)?;
        Some(self.text(span.value))
    }

    /// Whether a field is present (even with an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every field, sorted by name in byte order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.spans.iter().map(|s| (self.text(s.name), self.text(s.value)))
    }

    /// The fields whose name starts with `prefix`, sorted by name in byte order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        self.prefixed(prefix).iter().map(|s| (self.text(s.name), self.text(s.value)))
    }

    /// The spans of the names that start with `prefix`: a run, since they are sorted.
    fn prefixed(&self, prefix: &str) -> &[Span] {
        let key = name_key(prefix.as_bytes());
        let start = self.spans.partition_point(|s| self.compare(s, key, prefix).is_lt());
        let rest = &self.spans[start..];
        let len = if prefix.len() <= 16 {
            // A name starts with a short prefix when its key does, in the prefix's bytes.
            let mask = !(u128::MAX.checked_shr(prefix.len() as u32 * 8).unwrap_or(0));
            rest.partition_point(|s| s.key & mask == key)
        } else {
            rest.partition_point(|s| self.name(s).starts_with(prefix))
        };
        &rest[..len]
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Appends the values of the fields named with `prefix`, in name order, each followed by
    /// `+`: the form signing string without its key.
    pub(crate) fn write_joined_values(&self, prefix: &str, out: &mut Vec<u8>) {
        let (body, decoded) = (self.body.as_bytes(), self.decoded.as_bytes());
        for span in self.prefixed(prefix) {
            let (start, end) = ((span.value.start & !DECODED) as usize, span.value.end as usize);
            let source = if span.value.start & DECODED == 0 { body } else { decoded };
            match source.get(start..).and_then(|rest| rest.first_chunk::<16>()) {
                // Most values are short: a fixed 16-byte copy, then the excess dropped, beats a
                // call to `memcpy`.
                Some(chunk) if end - start <= 16 => {
                    let len = out.len();
                    out.extend_from_slice(chunk);
                    out.truncate(len + end - start);
                }
                _ => out.extend_from_slice(&source[start..end]),
            }
            out.push(b'+');
        }
    }

    /// The length of the body these fields were decoded from, at most (a capacity hint).
    pub(crate) fn text_len(&self) -> usize {
        self.body.len() + self.decoded.len()
    }
}

impl std::fmt::Debug for FormFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Decodes one piece (no `&` in it) into `out`: `+` is a space, `%XX` a byte, any other `%`
/// stays.
fn decode_into(piece: &[u8], out: &mut Vec<u8>) {
    // Decoding never lengthens. Plain bytes are copied 8 at a time, the copy running ahead of
    // the next `%` or `+` (overwritten afterwards): 8 bytes of slack at the end.
    let from = out.len();
    out.resize(from + piece.len() + 8, 0);
    let dst = &mut out[from..];
    let (mut i, mut j) = (0, 0);
    while i < piece.len() {
        if let (Some(src), Some(to)) = (
            piece.get(i..).and_then(|rest| rest.first_chunk::<8>()),
            dst.get_mut(j..).and_then(|rest| rest.first_chunk_mut::<8>()),
        ) {
            *to = *src;
            let word = u64::from_le_bytes(*src);
            let special = has_byte(word, b'%') | has_byte(word, b'+');
            if special == 0 {
                i += 8;
                j += 8;
                continue;
            }
            // The lowest flag is exact.
            let plain = (special.trailing_zeros() / 8) as usize;
            i += plain;
            j += plain;
        }
        let byte = piece[i];
        i += 1;
        dst[j] = match byte {
            b'+' => b' ',
            b'%' => match piece.get(i..i + 2).and_then(|h| h.first_chunk::<2>()) {
                Some(&[high, low]) if HEX[usize::from(high)] | HEX[usize::from(low)] < 16 => {
                    i += 2;
                    HEX[usize::from(high)] << 4 | HEX[usize::from(low)]
                }
                _ => b'%',
            },
            _ => byte,
        };
        j += 1;
    }
    out.truncate(from + j);
}

/// The value of a hex digit, or `0xff`.
const HEX: [u8; 256] = {
    let mut table = [0xff_u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_the_url_standard() {
        let f =
            FormFields::parse(b"a=1+2&b=%2B%26%3D%25&c&d=&&e=%zz%4&f=%C3%A9t%C3%A9&g=a=b&h=%&i=%%41%4&j=%2").unwrap();
        assert_eq!(f.get("a"), Some("1 2"));
        assert_eq!(f.get("b"), Some("+&=%"));
        assert_eq!(f.get("c"), Some(""));
        assert_eq!(f.get("d"), Some(""));
        assert_eq!(f.get("e"), Some("%zz%4"));
        assert_eq!(f.get("f"), Some("été"));
        assert_eq!(f.get("g"), Some("a=b"));
        assert_eq!(f.get("h"), Some("%"));
        assert_eq!(f.get("i"), Some("%A%4"));
        assert_eq!(f.get("j"), Some("%2"));
        assert_eq!(f.len(), 10);
    }

    #[test]
    fn agrees_with_form_urlencoded_on_valid_utf8() {
        let body = b"&vads_x=a%2Bb+c&vads_y=%E2%82%AC&k%5B%5D=v&z=%41%42&p=%zz%4&q=%%2541+%2b&&r&s==&=&";
        let ours: Vec<(String, String)> =
            FormFields::parse(body).unwrap().iter().map(|(a, b)| (a.into(), b.into())).collect();
        let mut reference: Vec<(String, String)> =
            form_urlencoded::parse(body).map(|(a, b)| (a.into_owned(), b.into_owned())).collect();
        reference.sort();
        assert_eq!(ours, reference);
    }

    #[test]
    fn only_pieces_with_percent_or_plus_are_decoded() {
        let f = FormFields::parse(b"vads%5Fb=1&vads_a=x+y%21&c=plain&d").unwrap();
        assert_eq!(f.decoded, "vads_bx y!");
        assert_eq!(f.get("vads_b"), Some("1"));
        assert_eq!(f.get("vads_a"), Some("x y!"));
        assert_eq!(f.get("c"), Some("plain"));
        assert_eq!(f.get("d"), Some(""));
    }

    #[test]
    fn an_encoded_name_is_keyed_on_itself_only() {
        // The decoded value follows the decoded name in the side buffer: the key must stop at
        // the name's end.
        let f = FormFields::parse(b"vads%5Fa=x+y&vads_b=1&vads_a%5F=2").unwrap();
        assert_eq!(f.get("vads_a"), Some("x y"));
        assert_eq!(f.get("vads_a_"), Some("2"));
        let names: Vec<_> = f.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["vads_a", "vads_a_", "vads_b"]);
    }

    #[test]
    fn a_body_that_is_not_utf8_is_decoded_piece_by_piece() {
        // Raw bytes are kept as is: a raw lead byte completed by an encoded one is one character.
        let f = FormFields::parse(b"e=\xC3%A9&b=2&c").unwrap();
        assert_eq!(f.get("e"), Some("\u{e9}"));
        assert_eq!(f.get("b"), Some("2"));
        assert_eq!(f.get("c"), Some(""));
        assert_eq!(FormFields::parse(b"a=1&b=\xFF").unwrap_err(), FormError::InvalidUtf8);
        assert_eq!(FormFields::parse(b"a\xC3=\xA9").unwrap_err(), FormError::InvalidUtf8);
    }

    #[test]
    fn joined_values_are_the_signing_string_without_the_key() {
        let f = FormFields::parse(b"vads_b=&vads_c=%2B&signature=x&vads_a=1&vadsz=9").unwrap();
        let mut out = Vec::new();
        f.write_joined_values("vads_", &mut out);
        assert_eq!(out, b"1++++");
    }

    proptest::proptest! {
        /// Any body over a small alphabet rich in delimiters and escapes: decoded as
        /// `form_urlencoded` does, or refused for a repeated name or invalid UTF-8.
        #[test]
        fn agrees_with_form_urlencoded_on_any_body(body in proptest::collection::vec(proptest::sample::select(
            b"ab_=&%+2F5C3A9xyz\xC3\xA9\xFF".to_vec()), 0..200)) {
            let reference: Vec<(String, String)> =
                form_urlencoded::parse(&body).map(|(a, b)| (a.into_owned(), b.into_owned())).collect();
            let lossless = reference.iter().all(|(n, v)| !n.contains('\u{fffd}') && !v.contains('\u{fffd}'));
            let mut names: Vec<&str> = reference.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            let unique = names.windows(2).all(|w| w[0] != w[1]);
            match FormFields::parse(&body) {
                Ok(fields) => {
                    proptest::prop_assert!(lossless && unique);
                    let mut expected = reference.clone();
                    expected.sort();
                    let ours: Vec<(String, String)> = fields.iter().map(|(a, b)| (a.into(), b.into())).collect();
                    proptest::prop_assert_eq!(&ours, &expected);
                    for (name, value) in &expected {
                        proptest::prop_assert_eq!(fields.get(name), Some(value.as_str()));
                    }
                }
                Err(FormError::DuplicateField { .. }) => proptest::prop_assert!(!unique),
                Err(_) => proptest::prop_assert!(!lossless),
            }
        }
    }

    #[test]
    fn escapes_anywhere_in_long_values_decode_like_form_urlencoded() {
        for len in 0..40 {
            for at in 0..=len {
                for escape in ["%41", "+", "%", "%4", "%zz", "%C3%A9"] {
                    let value = format!("{}{escape}{}", "a".repeat(at), "x".repeat(len - at));
                    let body = format!("n=x&v={value}&z=%2B{value}");
                    let fields = FormFields::parse(body.as_bytes()).expect(&body);
                    for (name, expected) in form_urlencoded::parse(body.as_bytes()) {
                        assert_eq!(fields.get(&name), Some(&*expected), "{body}");
                    }
                }
            }
        }
    }

    #[test]
    fn sorts_by_byte_order_capitals_first() {
        let f =
            FormFields::parse(b"vads_threeds_cavv=1&vads_threeds_cavvAlgorithm=2&vads_threeds_auth_type=3").unwrap();
        let names: Vec<_> = f.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["vads_threeds_auth_type", "vads_threeds_cavv", "vads_threeds_cavvAlgorithm"]);
    }

    #[test]
    fn rejects_repeated_names_and_invalid_utf8() {
        assert_eq!(
            FormFields::parse(b"vads_a=1&vads_b=2&vads_a=1").unwrap_err(),
            FormError::DuplicateField { name: "vads_a".into() }
        );
        // the same name, one percent-encoded: still the same decoded name
        assert!(FormFields::parse(b"vads_a=1&vads%5Fa=1").is_err());
        assert_eq!(FormFields::parse(b"a=%FF").unwrap_err(), FormError::InvalidUtf8);
        // valid as a whole, split inside a character: still invalid
        assert_eq!(FormFields::parse(b"a%C3=%A9").unwrap_err(), FormError::InvalidUtf8);
    }

    #[test]
    fn order_and_lookups_agree_with_plain_byte_order() {
        let names = [
            "vads_threeds_cavv",
            "vads_threeds_cavvAlgorithm",
            "vads_threeds_cav",
            "vads_threeds_caw",
            "vads_",
            "vads_threeds_cavv%00x",
            "vads_threeds_cavZ",
            "a",
            "A",
            "",
            "vads_threeds_cavvAlgorithmZ",
            "zzzzzzzzzzzzzzzzzz",
        ];
        // Several orders of the same fields (a fixed permutation, reversed, as is).
        for order in 0..3 {
            let mut listed: Vec<&str> = names.to_vec();
            match order {
                0 => listed.reverse(),
                1 => listed.rotate_left(5),
                _ => {}
            }
            let body: Vec<String> = listed.iter().enumerate().map(|(i, n)| format!("{n}={i}")).collect();
            let fields = FormFields::parse(body.join("&").as_bytes()).unwrap();
            let mut expected: Vec<String> = names.iter().map(|n| n.replace("%00", "\0")).collect();
            expected.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            let got: Vec<&str> = fields.iter().map(|(n, _)| n).collect();
            assert_eq!(got, expected, "order {order}");
            for (i, name) in listed.iter().enumerate() {
                assert_eq!(fields.get(&name.replace("%00", "\0")), Some(i.to_string().as_str()), "{name}");
            }
            assert_eq!(fields.get("vads_threeds_ca"), None);
            assert_eq!(fields.get("vads_threeds_cavvAlgorithmZZ"), None);
        }
    }

    #[test]
    fn descending_bodies_are_reversed_and_still_checked_for_repeats() {
        let names = ["vads_threeds_cavvAlgorithm", "vads_threeds_cavv", "vads_threeds_cav", "vads_b", "vads_a", "a"];
        let body: Vec<String> = names.iter().map(|n| format!("{n}={n}")).collect();
        let fields = FormFields::parse(body.join("&").as_bytes()).unwrap();
        let got: Vec<&str> = fields.iter().map(|(n, _)| n).collect();
        let mut expected = names.to_vec();
        expected.reverse();
        assert_eq!(got, expected);
        for name in names {
            assert_eq!(fields.get(name), Some(name));
        }
        for repeated in ["vads_b=1&vads_b=2&vads_a=3", "vads_threeds_cavv=1&vads_threeds_cavv=2"] {
            assert!(matches!(FormFields::parse(repeated.as_bytes()), Err(FormError::DuplicateField { .. })));
        }
    }

    #[test]
    fn prefix_ranges() {
        let f = FormFields::parse(b"vads_b=2&signature=s&vads_a=1&vadsx=3&kr-hash=h").unwrap();
        let v: Vec<_> = f.with_prefix("vads_").collect();
        assert_eq!(v, [("vads_a", "1"), ("vads_b", "2")]);
        assert_eq!(f.with_prefix("zz").count(), 0);
    }
}
