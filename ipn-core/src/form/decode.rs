//! `application/x-www-form-urlencoded` decoding into one buffer, sorted by name for the signing
//! string and for lookups; a repeated name is an error.

use bytes::Bytes;
use bytestring::ByteString;
use wide::u8x16;

use crate::request::body_text;

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

/// A field name the crate reads, with its keys computed at compile time, for
/// [`FormFields::get_sorted`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct KnownName {
    name: &'static str,
    /// [`Span::key`] of the name.
    key: u128,
    /// The key of its bytes after the first 16 (0 when there are none).
    tail: u128,
}

impl KnownName {
    /// The keys of `name`, which must be at most 32 bytes (a compile-time error otherwise).
    pub(crate) const fn new(name: &'static str) -> Self {
        /// The key of the at most 16 bytes of `bytes` from `from`.
        const fn key_from(bytes: &[u8], from: usize) -> u128 {
            let mut key = 0_u128;
            let mut i = 0;
            while i < 16 {
                let byte = if from + i < bytes.len() { bytes[from + i] } else { 0 };
                key = key << 8 | byte as u128;
                i += 1;
            }
            key
        }
        let bytes = name.as_bytes();
        assert!(bytes.len() <= 32, "a known name has at most 32 bytes");
        Self { name, key: key_from(bytes, 0), tail: key_from(bytes, 16) }
    }
}

/// The sort key of a name (see [`Span::key`]), from at most two 8-byte loads.
fn name_key(name: &[u8]) -> u128 {
    let high = |bytes: &[u8; 8]| u128::from(u64::from_be_bytes(*bytes)) << 64;
    match (name.first_chunk::<16>(), name.first_chunk::<8>(), name.last_chunk::<8>()) {
        (Some(first), _, _) => u128::from_be_bytes(*first),
        // 8 to 15 bytes: the last 8 overlap the first 8; shifted, they leave bytes 8.. on top of
        // the low half, zeros after.
        (None, Some(first), Some(last)) => {
            let low = u64::from_be_bytes(*last).checked_shl(8 * (16 - name.len() as u32)).unwrap_or(0);
            high(first) | u128::from(low)
        }
        _ => u128::from(short_word(name)) << 64,
    }
}

/// The bytes of a name of at most 7 bytes at the top of a big-endian word, zeros after, from
/// overlapping loads: a copy into a zeroed buffer read back as a word stalls (the load waits
/// for the bytes stored one by one), and the names compared past their key have such tails.
#[inline]
fn short_word(name: &[u8]) -> u64 {
    let len = name.len() as u32;
    match (name.first_chunk::<4>(), name.last_chunk::<4>()) {
        // 4 to 7 bytes: the last 4 overlap the first 4, placed right after them.
        (Some(first), Some(last)) => {
            u64::from(u32::from_be_bytes(*first)) << 32 | u64::from(u32::from_be_bytes(*last)) << (32 - 8 * (len - 4))
        }
        _ => match name {
            [] => 0,
            // 1 to 3 bytes: the first, middle and last (some of them the same byte).
            [first, .., last] | [first @ last] => {
                let at = |byte: u8, i: u32| u64::from(byte) << (56 - 8 * i);
                at(*first, 0) | at(name[name.len() / 2], len / 2) | at(*last, len - 1)
            }
        },
    }
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

/// The partition point of `below` (true, then false, over `spans`), found by steps doubling
/// from the start, then a binary search within the last step: a point near the start costs a
/// comparison or two, where a binary search over a notification's fields takes six, and a point
/// anywhere costs at most about twice as many.
fn partition_from_start(spans: &[Span], below: impl Fn(&Span) -> bool) -> usize {
    let mut bound = 1;
    while bound <= spans.len() && below(&spans[bound - 1]) {
        bound *= 2;
    }
    // `spans[..bound / 2]` are below; `spans[bound - 1]`, if any, is not.
    let (low, high) = (bound / 2, bound.min(spans.len()));
    low + spans[low..high].partition_point(below)
}

/// [`partition_from_start`] from the end: a point near the end costs a comparison or two.
fn partition_from_end(spans: &[Span], below: impl Fn(&Span) -> bool) -> usize {
    let len = spans.len();
    let mut bound = 1;
    while bound <= len && !below(&spans[len - bound]) {
        bound *= 2;
    }
    // `spans[len - bound / 2..]` are not below; `spans[len - bound]`, if any, is.
    let (low, high) = (if bound <= len { len - bound + 1 } else { 0 }, len - bound / 2);
    low + spans[low..high].partition_point(below)
}

/// The mask that keeps a prefix's bytes of a key, when keys alone order names against the
/// prefix: the prefix fits in a key and has no NUL byte. Then a name is below the prefix exactly
/// when its masked key is (a name shorter than the prefix reads as zeros there, and the
/// prefix's bytes are not zero), and starts with it exactly when its masked key equals the
/// prefix's.
fn prefix_mask(prefix: &str) -> Option<u128> {
    (prefix.len() <= 16 && !prefix.as_bytes().contains(&0))
        .then(|| !(u128::MAX.checked_shr(prefix.len() as u32 * 8).unwrap_or(0)))
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
    /// The body as received, when it is UTF-8 (otherwise every piece is in `decoded`): the
    /// request's own buffer when it was shared ([`FormFields::parse_shared`]), a copy otherwise.
    body: ByteString,
    /// The pieces that needed decoding, decoded.
    decoded: String,
    /// Sorted by name.
    spans: Vec<Span>,
}

/// Where the bytes that matter are in a 64-byte block of the body, one bit per byte (the lowest
/// bit for the first byte).
#[derive(Clone, Copy)]
struct Marks {
    /// `&`: a pair ends there.
    amp: u64,
    /// `=`: the first of a pair splits it.
    equals: u64,
    /// `%` and `+`: the piece they are in needs decoding.
    encoded: u64,
}

impl Marks {
    /// Classifies a block 16 bytes at a time (SSE2 on x86-64, through `wide`).
    #[inline(always)]
    fn of(block: &[u8; 64]) -> Self {
        let mut marks = Self { amp: 0, equals: 0, encoded: 0 };
        for (i, chunk) in block.as_chunks::<16>().0.iter().enumerate() {
            let bytes = u8x16::new(*chunk);
            let amp = bytes.simd_eq(u8x16::splat(b'&'));
            let shift = 16 * i;
            marks.amp |= u64::from(amp.to_bitmask()) << shift;
            marks.equals |= u64::from(bytes.simd_eq(u8x16::splat(b'=')).to_bitmask()) << shift;
            marks.encoded |= u64::from(encoded_bytes(bytes)) << shift;
        }
        marks
    }

    /// Whether a block holds neither `&` nor `=`: cheaper than [`Marks::of`].
    #[inline(always)]
    fn no_stops(block: &[u8; 64]) -> bool {
        let stops = block.as_chunks::<16>().0.iter().fold(u8x16::splat(0), |stops, chunk| {
            let bytes = u8x16::new(*chunk);
            stops | bytes.simd_eq(u8x16::splat(b'&')) | bytes.simd_eq(u8x16::splat(b'='))
        });
        stops.to_bitmask() == 0
    }
}

/// The bits of the `%` and `+` of 16 bytes.
#[inline(always)]
fn encoded_bytes(bytes: u8x16) -> u32 {
    (bytes.simd_eq(u8x16::splat(b'%')) | bytes.simd_eq(u8x16::splat(b'+'))).to_bitmask()
}

/// `Scanner::equals` when no `=` is known at or after the pair's start.
const NONE: usize = usize::MAX;

/// Which pieces of a pair the `encoded` bits of the block at `base` are in, its first `=` being
/// at `equals` (at or after the bits when it is [`NONE`] or past them): 1 for the name, 2 for
/// the value. Out of line (a few pieces in a notification are encoded), and given values, not
/// the scanner: a scanner passed by reference would live in memory, every field of it read and
/// written there for every pair.
#[inline(never)]
fn encoded_pieces(equals: usize, base: usize, encoded: u64) -> u32 {
    let in_name = match equals.checked_sub(base) {
        // The `=` is in an earlier block: all value.
        None => 0,
        Some(at) if at >= 64 => encoded,
        Some(at) => encoded & ((1 << at) - 1),
    };
    u32::from(in_name != 0) | (u32::from(encoded & !in_name != 0) << 1)
}

/// The state of [`scan`]: the spans found, and the pair being read.
struct Scanner<'a> {
    body: &'a [u8],
    spans: Vec<Span>,
    /// Where the pair being read starts.
    start: usize,
    /// The first `=` at or after `start` in the blocks read so far, or [`NONE`]: the pair's
    /// split when it comes before the pair's `&`, a later pair's otherwise.
    equals: usize,
    /// Which of the pair's name (1) and value (2) hold a `%` or a `+`, in the blocks before the
    /// one being read.
    encoded: u32,
    /// The indices of the spans with an encoded piece.
    encoded_spans: Vec<u32>,
}

impl Scanner<'_> {
    /// Reads the block at `base`: each `&` ends a pair, whose split is the first `=` known at or
    /// after its start, and whose encoded bytes are those between its start and its `&`.
    #[inline(always)]
    fn block(&mut self, base: usize, marks: Marks) {
        let Marks { mut amp, equals, encoded } = marks;
        if self.equals == NONE && equals != 0 {
            self.equals = base + equals.trailing_zeros() as usize;
        }
        // The bits of the block from the pair being read on: all of them for the first pair,
        // which may have started in an earlier block.
        let mut rest = u64::MAX;
        while amp != 0 {
            let bit = amp.trailing_zeros();
            let end = base + bit as usize;
            let mine = encoded & rest & ((1 << bit) - 1);
            let marked = if mine != 0 { self.encoded | encoded_pieces(self.equals, base, mine) } else { self.encoded };
            self.end_pair(end, marked);
            rest = !1 << bit;
            if self.equals < end {
                // The pair used its `=`: the next pair's is the block's next one, or in a later
                // block.
                let next = equals & rest;
                self.equals = if next != 0 { base + next.trailing_zeros() as usize } else { NONE };
            }
            amp &= amp - 1;
        }
        let mine = encoded & rest;
        if mine != 0 {
            self.encoded |= encoded_pieces(self.equals, base, mine);
        }
    }

    /// Whether the piece being read is marked already.
    #[inline(always)]
    fn piece_marked(&self) -> bool {
        // An `=` known while a pair is being read is its own.
        let piece = if self.equals == NONE { 1 } else { 2 };
        self.encoded & piece != 0
    }

    /// A pair ends at `end` (a `&` or the end of the body), `marked` saying which of its pieces
    /// hold a `%` or a `+`: its span, keyed on its raw name. Marked pieces are [`ENCODED`] with
    /// their raw offsets, for [`decode_marked`]; the others are final. An empty pair is skipped.
    /// Offsets fit in `u32`: the body is at most [`MAX_BODY`] bytes.
    #[inline(always)]
    fn end_pair(&mut self, end: usize, marked: u32) {
        if end > self.start {
            let mark = |piece: u32| if marked & piece != 0 { ENCODED } else { 0 };
            let name_end = self.equals.min(end);
            // After the `=`; a pair without one has an empty value, at its end.
            let value_start = name_end as u32 + u32::from(self.equals < end);
            let value = Piece { start: value_start | mark(2), end: end as u32 };
            if marked != 0 {
                self.encoded_spans.push(self.spans.len() as u32);
            }
            self.spans.push(Span {
                key: name_key_at(self.body, self.start, name_end),
                name: Piece { start: self.start as u32 | mark(1), end: name_end as u32 },
                value,
            });
        }
        self.start = end + 1;
        self.encoded = 0;
    }
}

/// What [`scan`] found: the spans, in the body's order, and the indices of those with a piece
/// to decode.
struct Scanned {
    spans: Vec<Span>,
    encoded: Vec<u32>,
}

/// Cuts the body into spans in one pass, 64 bytes at a time, stopping only at each `&`. With
/// `encode_all`, every piece is marked.
fn scan(body: &[u8], encode_all: bool) -> Scanned {
    let mut scanner = Scanner {
        body,
        spans: Vec::with_capacity(64),
        start: 0,
        equals: NONE,
        encoded: 0,
        // Room for the usual few (a signature in base64 is encoded), without a reallocation.
        encoded_spans: Vec::with_capacity(16),
    };
    let (blocks, tail) = body.as_chunks::<64>();
    for (i, block) in blocks.iter().enumerate() {
        // Inside a long piece already marked (encoded JSON), a block without stops changes
        // nothing.
        if scanner.piece_marked() && Marks::no_stops(block) {
            continue;
        }
        scanner.block(64 * i, Marks::of(block));
    }
    if !tail.is_empty() {
        // Zero bytes are not special.
        let mut last = [0; 64];
        last[..tail.len()].copy_from_slice(tail);
        scanner.block(64 * blocks.len(), Marks::of(&last));
    }
    let marked = scanner.encoded;
    scanner.end_pair(body.len(), marked);
    let Scanner { mut spans, encoded_spans: mut encoded, .. } = scanner;
    if encode_all {
        // A body that is not UTF-8: every piece is decoded (and checked), names re-keyed.
        for span in &mut spans {
            span.name.start |= ENCODED;
            span.value.start |= ENCODED;
        }
        encoded = (0..spans.len() as u32).collect();
    }
    Scanned { spans, encoded }
}

/// Decodes the pieces [`scan`] marked into `decoded`, pointing them there, and re-keys the
/// names that changed.
fn decode_marked(body: &[u8], scanned: &mut Scanned) -> Vec<u8> {
    // Decoding never lengthens a piece; `decode_into` needs 32 bytes of slack.
    // A value, even an empty one, ends where its pair does.
    let pair_length = |s: &Span| (s.value.end - (s.name.start & !ENCODED)) as usize;
    let to_decode: usize = scanned.encoded.iter().map(|&i| pair_length(&scanned.spans[i as usize])).sum();
    let mut decoded = vec![0; to_decode + 32];
    let mut end = 0;
    let decode = |piece: &mut Piece, decoded: &mut [u8], end: &mut usize| {
        let from = *end;
        decode_into(body, (piece.start & !ENCODED) as usize, piece.end as usize, decoded, end);
        *piece = Piece { start: from as u32 | DECODED, end: *end as u32 };
        from
    };
    for &i in &scanned.encoded {
        let span = &mut scanned.spans[i as usize];
        if span.name.start & ENCODED != 0 {
            let from = decode(&mut span.name, &mut decoded, &mut end);
            span.key = name_key(&decoded[from..end]);
        }
        if span.value.start & ENCODED != 0 {
            decode(&mut span.value, &mut decoded, &mut end);
        }
    }
    decoded.truncate(end);
    decoded
}

/// Whether every decoded piece is UTF-8 on its own, `decoded` being UTF-8 as a whole.
fn decoded_pieces_are_utf8(scanned: &Scanned, decoded: &str) -> bool {
    let ok = |p: Piece| {
        p.start & DECODED == 0
            || (decoded.is_char_boundary((p.start & !DECODED) as usize) && decoded.is_char_boundary(p.end as usize))
    };
    scanned.encoded.iter().map(|&i| &scanned.spans[i as usize]).all(|s| ok(s.name) && ok(s.value))
}

impl FormFields {
    /// Decodes a body.
    ///
    /// # Errors
    ///
    /// A name or value that is not UTF-8 once decoded, a repeated field name, a body over 1 GiB.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        Self::decode(body, None)
    }

    /// Decodes a shared body, which the fields then borrow from (the pieces that need no
    /// decoding are slices of it) instead of copying it: the same result as
    /// [`parse`](Self::parse).
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    pub fn parse_shared(body: &Bytes) -> Result<Self, FormError> {
        Self::decode(body, Some(body))
    }

    /// Decodes `body`, borrowing from `shared` (the same bytes) when there is one.
    pub(crate) fn decode(body: &[u8], shared: Option<&Bytes>) -> Result<Self, FormError> {
        if body.len() > MAX_BODY {
            return Err(FormError::TooLarge { limit: MAX_BODY });
        }
        let text = body_text(body, shared);
        // A UTF-8 body splits into UTF-8 pieces (the delimiters are ASCII), which can then be
        // borrowed from it.
        let mut scanned = scan(body, text.is_none());
        let to_decode = !scanned.encoded.is_empty();
        let decoded = if to_decode { decode_marked(body, &mut scanned) } else { Vec::new() };
        let mut fields = Self {
            body: text.unwrap_or_default(),
            decoded: String::from_utf8(decoded).map_err(|_| FormError::InvalidUtf8)?,
            spans: Vec::new(),
        };
        if to_decode && !decoded_pieces_are_utf8(&scanned, &fields.decoded) {
            return Err(FormError::InvalidUtf8);
        }
        let mut spans = scanned.spans;
        let descending = |a: &Span, b: &Span| a.key > b.key || (a.key == b.key && fields.name(a) > fields.name(b));
        // Checked here, in a loop of its own, rather than pair by pair in the scan, whose loop
        // keeps fewer values live without it (form verify 0.99x).
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

    #[inline(always)]
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
        self.value_from(self.spans.partition_point(|s| s.key < key), key, name)
    }

    /// The values of several fields, as [`get`](Self::get) gives each, the names given in
    /// ascending byte order: one walk over the spans finds them all, where a search per name
    /// costs about as much as the walk (a verification reads a dozen fields).
    pub(crate) fn get_sorted<const N: usize>(&self, names: &[KnownName; N]) -> [Option<&str>; N] {
        debug_assert!(names.is_sorted_by_key(|n| n.name), "get_sorted takes names in ascending order");
        let mut values = [None; N];
        let mut first = 0;
        for (value, known) in values.iter_mut().zip(names) {
            // The spans before `first` are below the previous name, so below this one too.
            while self.spans.get(first).is_some_and(|s| s.key < known.key) {
                first += 1;
            }
            // Equal keys and lengths, and for a name over 16 bytes equal keys of the rest:
            // the names are equal, and none is read whole.
            let same = |s: &&Span| {
                let (start, end) = ((s.name.start & !DECODED) as usize, s.name.end as usize);
                end - start == known.name.len()
                    && (end - start <= 16 || name_key(&self.text(s.name).as_bytes()[16..]) == known.tail)
            };
            let span = self.spans[first..].iter().take_while(|s| s.key == known.key).find(same);
            *value = span.map(|s| self.text(s.value));
        }
        values
    }

    /// The value of `name`, of key `key`, `first` being the first span whose key is not below
    /// it.
    #[inline]
    fn value_from(&self, first: usize, key: u128, name: &str) -> Option<&str> {
        // Equal keys are rare (long names with a common 16-byte start): compare whole names.
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
        match prefix_mask(prefix) {
            // Both ends from keys alone, with no name compared, each searched from its own end of
            // the fields: a gateway's `vads_` fields run from the second (after `signature`) to
            // the last.
            Some(mask) => {
                let start = partition_from_start(&self.spans, |s| s.key & mask < key);
                let rest = &self.spans[start..];
                &rest[..partition_from_end(rest, |s| s.key & mask == key)]
            }
            None => {
                let start = self.spans.partition_point(|s| self.compare(s, key, prefix).is_lt());
                let rest = &self.spans[start..];
                &rest[..rest.partition_point(|s| self.name(s).starts_with(prefix))]
            }
        }
    }

    /// Whether some name starts with `prefix`.
    pub(crate) fn has_prefix(&self, prefix: &str) -> bool {
        let key = name_key(prefix.as_bytes());
        match prefix_mask(prefix) {
            Some(mask) => self
                .spans
                .get(partition_from_start(&self.spans, |s| s.key & mask < key))
                .is_some_and(|s| s.key & mask == key),
            None => !self.prefixed(prefix).is_empty(),
        }
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The values of the fields named with `prefix`, in name order, each followed by `+`: the
    /// form signing string without its key.
    pub(crate) fn joined_values(&self, prefix: &str) -> Vec<u8> {
        let mut out = Vec::new();
        self.join_values(prefix, |chunk| out.extend_from_slice(chunk));
        out
    }

    /// Writes what [`joined_values`](Self::joined_values) returns to `sink`, in chunks of at
    /// most [`JOIN_CHUNK`] bytes (a value longer than that is a chunk of its own), gathered in a
    /// buffer on the stack: a digest fed this way hashes whole blocks, and nothing is allocated.
    pub(crate) fn join_values(&self, prefix: &str, mut sink: impl FnMut(&[u8])) {
        let mut spans = self.prefixed(prefix);
        let mut buffer = [0_u8; JOIN_CHUNK + 16];
        loop {
            let (taken, j) = self.fill(spans, &mut buffer);
            sink(&buffer[..j]);
            spans = &spans[taken..];
            let Some(next) = spans.first() else { return };
            let value = self.text(next.value).as_bytes();
            if value.len() >= JOIN_CHUNK {
                sink(value);
                sink(b"+");
                spans = &spans[1..];
            }
        }
    }

    /// Writes the values of `spans` to `buffer`, each followed by `+`, while they fit in a chunk:
    /// how many it wrote, and the bytes. Apart from [`join_values`](Self::join_values), which
    /// hands the chunks on: a loop that calls nothing keeps its values in registers.
    #[inline]
    fn fill(&self, spans: &[Span], buffer: &mut [u8; JOIN_CHUNK + 16]) -> (usize, usize) {
        let (body, decoded) = (self.body.as_bytes(), self.decoded.as_bytes());
        let mut j = 0;
        for (i, span) in spans.iter().enumerate() {
            let (start, end) = ((span.value.start & !DECODED) as usize, span.value.end as usize);
            let source = if span.value.start & DECODED == 0 { body } else { decoded };
            let len = end - start;
            if j + len >= JOIN_CHUNK {
                return (i, j);
            }
            match source.get(start..).and_then(|rest| rest.first_chunk::<16>()) {
                // Most values are short: a fixed 16-byte copy, the excess overwritten next,
                // beats a call to `memcpy`.
                Some(chunk) if len <= 16 => buffer[j..j + 16].copy_from_slice(chunk),
                _ => buffer[j..j + len].copy_from_slice(&source[start..end]),
            }
            buffer[j + len] = b'+';
            j += len + 1;
        }
        (spans.len(), j)
    }
}

/// The size of the chunks [`FormFields::join_values`] writes (a multiple of the SHA block).
const JOIN_CHUNK: usize = 512;

impl std::fmt::Debug for FormFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Decodes the piece `body[start..end]` to `dst[*j..]`, advancing `*j`: `+` is a space, `%XX` a
/// byte, any other `%` stays. `dst` needs room for the piece plus 32 bytes.
///
/// The piece is read in windows of 16 bytes: a window is stored as is, then each `%` or `+` of
/// it (found by one comparison) is decoded in place and the rest of the window stored again
/// after it. Plain text costs one store per 16 bytes, and encoded JSON (an escape every few
/// bytes) a few instructions per escape.
///
/// Windows read on past the piece's end while the body goes on: only the piece's own bytes are
/// taken as escapes, the byte after a piece is `&` or `=` (not a hex digit, so no escape reads
/// a digit from beyond it), and what is decoded past the end is dropped. Only a piece within 32
/// bytes of the body's end is copied into a padded buffer first.
fn decode_into(body: &[u8], start: usize, end: usize, dst: &mut [u8], j: &mut usize) {
    let mut window = |src: &[u8; 32], len: usize, j: &mut usize| {
        let Some(out) = dst.get_mut(*j..).and_then(|rest| rest.first_chunk_mut::<32>()) else {
            unreachable!("room for the piece and 32 bytes")
        };
        let (taken, made) = decode_window(src, len, out);
        *j += made;
        taken
    };
    // A window needs 32 bytes from its start (the stores after an escape read 16 bytes): whole
    // windows while the piece has 32 bytes left, then its last bytes, in windows that read on
    // past its end.
    let mut rest = &body[start..end];
    while let Some(src) = rest.first_chunk::<32>() {
        rest = &rest[window(src, 16, j)..];
    }
    let mut k = end - rest.len();
    while k < end
        && let Some(src) = body.get(k..).and_then(|rest| rest.first_chunk::<32>())
    {
        k += window(src, (end - k).min(16), j);
    }
    if k < end {
        // The body's last bytes, padded with zeros (plain, and not hex digits) to whole
        // windows.
        let rest = &body[k..end];
        let mut padded = [0; 64];
        padded[..rest.len()].copy_from_slice(rest);
        k = 0;
        while let Some(src) = padded.get(k..).and_then(|p| p.first_chunk::<32>())
            && k < rest.len()
        {
            k += window(src, (rest.len() - k).min(16), j);
        }
        *j -= k - rest.len();
    } else {
        *j -= k - end;
    }
}

/// Decodes the window `src[..16]`, of which the first `len` bytes may be escapes (an escape's
/// digits may run past the window), to `out`. Returns how many bytes it consumed (16, or more
/// when its last escape runs past it) and how many it wrote.
#[inline(always)]
fn decode_window(src: &[u8; 32], len: usize, out: &mut [u8; 32]) -> (usize, usize) {
    let (window, _) = src.split_first_chunk::<16>().unwrap_or_else(|| unreachable!("32 bytes"));
    out[..16].copy_from_slice(window);
    let mut special = encoded_bytes(u8x16::new(*window)) & ((1 << len) - 1);
    // Bytes consumed and written so far; written ≤ consumed < 16 within the loop, which the
    // masks below only tell the compiler (no bounds checks).
    let (mut at, mut made) = (0, 0);
    while special != 0 {
        let escape = (special.trailing_zeros() & 15) as usize;
        // The plain bytes before the escape are in place already.
        made += escape - at;
        let (high, low) = (HEX[usize::from(src[escape + 1])], HEX[usize::from(src[escape + 2])]);
        let (byte, taken) = match src[escape] {
            b'+' => (b' ', 1),
            _ if high | low < 16 => (high << 4 | low, 3),
            // A `%` not followed by two hex digits stays.
            _ => (b'%', 1),
        };
        out[made & 15] = byte;
        made += 1;
        at = escape + taken;
        if at >= 16 {
            return (at, made);
        }
        special &= u32::MAX << at;
        // The rest of the window, stored again after the decoded byte.
        let made = made & 15;
        out[made..made + 16].copy_from_slice(&src[at..at + 16]);
    }
    // The plain bytes after the last escape are in place.
    (16, made + 16 - at)
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
    fn known_names_have_the_keys_of_their_bytes() {
        const NAMES: [KnownName; 4] = [
            KnownName::new(""),
            KnownName::new("vads_a"),
            KnownName::new("vads_threeds_cav"),
            KnownName::new("vads_recurrence_number"),
        ];
        for known in NAMES {
            let bytes = known.name.as_bytes();
            assert_eq!(known.key, name_key(bytes), "{}", known.name);
            assert_eq!(known.tail, name_key(bytes.get(16..).unwrap_or_default()), "{}", known.name);
        }
        let fields = FormFields::parse(
            b"vads_threeds_cavvAlgorithm=a&vads_threeds_cavv=b&vads_threeds_cav=c&vads_recurrence_numbeR=d&vads_a=e",
        )
        .unwrap();
        let names = [
            KnownName::new("vads_a"),
            KnownName::new("vads_b"),
            KnownName::new("vads_recurrence_numbeR"),
            KnownName::new("vads_recurrence_number"),
            KnownName::new("vads_threeds_cav"),
            KnownName::new("vads_threeds_cavv"),
            KnownName::new("vads_threeds_cavvAlgorithm"),
            KnownName::new("vads_threeds_cavvAlgorithn"),
        ];
        assert_eq!(
            fields.get_sorted(&names),
            [Some("e"), None, Some("d"), None, Some("c"), Some("b"), Some("a"), None]
        );
        for (known, value) in names.iter().zip(fields.get_sorted(&names)) {
            assert_eq!(fields.get(known.name), value, "{}", known.name);
        }
    }

    #[test]
    fn searches_from_either_end_find_every_partition_point() {
        for len in 0..70_u32 {
            let spans: Vec<Span> = (0..len)
                .map(|i| Span {
                    key: u128::from(i),
                    name: Piece { start: 0, end: 0 },
                    value: Piece { start: 0, end: 0 },
                })
                .collect();
            for point in 0..=len {
                let below = |s: &Span| s.key < u128::from(point);
                assert_eq!(partition_from_start(&spans, below), point as usize, "{len} {point}");
                assert_eq!(partition_from_end(&spans, below), point as usize, "{len} {point}");
            }
        }
    }

    #[test]
    fn keys_are_the_first_16_bytes_zero_padded() {
        let name = b"vads_threeds_cavvAlgorithm";
        for len in 0..=name.len() {
            let mut padded = [0_u8; 16];
            padded[..len.min(16)].copy_from_slice(&name[..len.min(16)]);
            assert_eq!(name_key(&name[..len]), u128::from_be_bytes(padded), "{len}");
            assert_eq!(name_key_at(name, 0, len), u128::from_be_bytes(padded), "{len}");
        }
    }

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
        assert_eq!(f.joined_values("vads_"), b"1++++");
    }

    /// Values that end a chunk, fill one, or are longer than one: the chunks join to the string,
    /// and only a value longer than a chunk makes a longer one.
    #[test]
    fn joined_values_in_chunks() {
        let edges = [0, 1, 15, 16, 17, JOIN_CHUNK - 2, JOIN_CHUNK - 1, JOIN_CHUNK, JOIN_CHUNK + 1, 3 * JOIN_CHUNK];
        for (i, first) in edges.iter().enumerate() {
            for second in edges {
                // Plain and encoded values (from the body and from the decoded buffer).
                let values = [
                    "a".repeat(*first),
                    "b".repeat(second),
                    "%41".repeat(second),
                    "c".repeat(edges[edges.len() - 1 - i]),
                ];
                let body: Vec<String> = values.iter().enumerate().map(|(k, v)| format!("vads_{k}={v}")).collect();
                let fields = FormFields::parse(body.join("&").as_bytes()).unwrap();
                let mut chunks = Vec::new();
                fields.join_values("vads_", |chunk| chunks.push(chunk.to_vec()));
                let expected: String = fields.with_prefix("vads_").map(|(_, v)| format!("{v}+")).collect();
                assert_eq!(chunks.concat(), expected.as_bytes(), "{first} {second}");
                assert!(chunks.iter().all(|c| c.len() <= JOIN_CHUNK || values.iter().any(|v| v.len() == c.len())));
            }
        }
    }

    /// Decodes `body` as `form_urlencoded` does, or refuses it for a repeated name or invalid
    /// UTF-8; the same from a shared buffer; lookups and prefix runs agree with the reference.
    fn agrees_with_form_urlencoded(body: &[u8]) -> Result<(), proptest::test_runner::TestCaseError> {
        let reference: Vec<(String, String)> =
            form_urlencoded::parse(body).map(|(a, b)| (a.into_owned(), b.into_owned())).collect();
        let lossless = reference.iter().all(|(n, v)| !n.contains('\u{fffd}') && !v.contains('\u{fffd}'));
        let mut names: Vec<&str> = reference.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let unique = names.windows(2).all(|w| w[0] != w[1]);
        let parsed = FormFields::parse(body);
        // The same from a shared buffer.
        let shared = FormFields::parse_shared(&Bytes::copy_from_slice(body));
        match (&parsed, &shared) {
            (Ok(a), Ok(b)) => proptest::prop_assert!(a.iter().eq(b.iter())),
            (a, b) => proptest::prop_assert_eq!(a.as_ref().err(), b.as_ref().err()),
        }
        match parsed {
            Ok(fields) => {
                proptest::prop_assert!(lossless && unique);
                let mut expected = reference.clone();
                expected.sort();
                let ours: Vec<(String, String)> = fields.iter().map(|(a, b)| (a.into(), b.into())).collect();
                proptest::prop_assert_eq!(&ours, &expected);
                for (name, value) in &expected {
                    proptest::prop_assert_eq!(fields.get(name), Some(value.as_str()));
                }
                // Prefixes ordered by keys alone, and those that are not (a NUL byte, over
                // 16 bytes).
                for prefix in ["", "a", "ab", "b_", "a\0", "\0", "é", "aaaaaaaaaaaaaaaab", "ab_ab_ab_ab_ab_a"] {
                    let with: Vec<(&str, &str)> = fields.with_prefix(prefix).collect();
                    let filtered: Vec<(&str, &str)> = expected
                        .iter()
                        .filter(|(n, _)| n.starts_with(prefix))
                        .map(|(n, v)| (n.as_str(), v.as_str()))
                        .collect();
                    proptest::prop_assert_eq!(&with, &filtered, "{:?}", prefix);
                    proptest::prop_assert_eq!(fields.has_prefix(prefix), !filtered.is_empty(), "{:?}", prefix);
                }
            }
            Err(FormError::DuplicateField { .. }) => proptest::prop_assert!(!unique),
            Err(_) => proptest::prop_assert!(!lossless),
        }
        Ok(())
    }

    proptest::proptest! {
        /// Any body over a small alphabet rich in delimiters and escapes.
        #[test]
        fn agrees_with_form_urlencoded_on_any_body(body in proptest::collection::vec(proptest::sample::select(
            b"ab_=&%+2F5C3A9xyz\xC3\xA9\xFF\0".to_vec()), 0..200)) {
            agrees_with_form_urlencoded(&body)?;
        }

        /// Bodies whose names and values run across the 64-byte blocks of the scan: runs of
        /// plain bytes, each after a delimiter or an escape.
        #[test]
        fn agrees_with_form_urlencoded_across_blocks(runs in proptest::collection::vec((proptest::sample::select(
            vec![&b"&"[..], b"=", b"+", b"%41", b"%C3%A9", b"%", b"\xFF", b"&&", b"=="]), 0_usize..150), 0..12)) {
            let body: Vec<u8> = runs.iter().flat_map(|&(delimiter, run)| {
                // Distinct runs make distinct names, so that most bodies decode.
                let plain = (0..run).map(move |i| b"abcdefghij"[(i * 7 + run) % 10]);
                delimiter.iter().copied().chain(plain)
            }).collect();
            agrees_with_form_urlencoded(&body)?;
        }
    }

    proptest::proptest! {
        /// Long values dense with escapes (as in encoded JSON), valid or not, decoded as
        /// `form_urlencoded` does: escapes straddle the 16-byte windows and the padded tail.
        #[test]
        fn long_encoded_values_agree_with_form_urlencoded(pieces in proptest::collection::vec(proptest::sample::select(
            vec![&b"a"[..], b"%22", b"%7B", b"+", b"%", b"%2", b"%zz", b"%C3%A9", b"xyz", b"%3a", b"\xC3%A9"]), 0..120)) {
            // A raw lead byte completed by an encoded one: valid once decoded, though the body
            // is not UTF-8.
            let value = pieces.concat();
            let body = [&b"b=1&v="[..], &value, b"&a=%2B", &value].concat();
            let reference: Vec<_> = form_urlencoded::parse(&body).collect();
            match FormFields::parse(&body) {
                Ok(fields) => {
                    for (name, expected) in reference {
                        proptest::prop_assert_eq!(fields.get(&name), Some(&*expected));
                    }
                }
                // `%` then `a` and `a` is the byte 0xAA: `form_urlencoded` replaces it.
                Err(error) => {
                    proptest::prop_assert_eq!(error, FormError::InvalidUtf8);
                    let lossy = reference.iter().any(|(_, v)| v.contains(char::REPLACEMENT_CHARACTER));
                    proptest::prop_assert!(lossy);
                }
            }
        }
    }

    #[test]
    fn escapes_anywhere_in_long_values_decode_like_form_urlencoded() {
        for len in 0..72 {
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
            // Every prefix of every name, and some of none: short ones are searched by keys
            // alone, those over 16 bytes or holding a NUL by names.
            let mut prefixes: Vec<String> = expected
                .iter()
                .flat_map(|n| (0..=n.len()).filter(|&i| n.is_char_boundary(i)).map(|i| n[..i].to_owned()))
                .collect();
            prefixes.extend(
                ["vads_threeds_cavw", "vads_threeds_cavvB", "b", "\0", "zzzzzzzzzzzzzzzzzzz"].map(String::from),
            );
            for prefix in &prefixes {
                let filtered: Vec<(&str, &str)> =
                    fields.iter().filter(|(n, _)| n.starts_with(prefix.as_str())).collect();
                assert_eq!(
                    fields.with_prefix(prefix).collect::<Vec<_>>(),
                    filtered,
                    "order {order}, prefix {prefix:?}"
                );
                assert_eq!(fields.has_prefix(prefix), !filtered.is_empty(), "order {order}, prefix {prefix:?}");
            }
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
    fn the_order_is_of_the_decoded_names() {
        // Raw, `vads_b` is above `vads%5Fc` (`_` is above `%`); decoded, it is below `vads_c`.
        // And the other way round.
        for (body, expected) in [
            ("vads_b=1&vads%5Fc=2&vads_a=3", ["vads_a", "vads_b", "vads_c"]),
            ("vads%5Fc=2&vads_b=1&vads_a=3", ["vads_a", "vads_b", "vads_c"]),
            ("vads_c=2&vads%5Fb=1&vads_a=3", ["vads_a", "vads_b", "vads_c"]),
        ] {
            let fields = FormFields::parse(body.as_bytes()).unwrap();
            assert_eq!(fields.iter().map(|(n, _)| n).collect::<Vec<_>>(), expected, "{body}");
            assert_eq!(fields.get("vads_b"), Some("1"), "{body}");
            assert_eq!(fields.get("vads_c"), Some("2"), "{body}");
        }
        assert!(matches!(
            FormFields::parse(b"vads_b=1&vads%5Fb=2&vads_a=3"),
            Err(FormError::DuplicateField { name }) if name == "vads_b"
        ));
    }

    #[test]
    fn a_shared_body_is_borrowed_not_copied() {
        let body = Bytes::from_static(b"vads_b=plain&vads_a=%C3%A9&signature=s");
        let fields = FormFields::parse_shared(&body).unwrap();
        let inside = |text: &str| body.as_ptr_range().contains(&text.as_ptr());
        assert!(inside(fields.get("vads_b").unwrap()) && inside(fields.get("signature").unwrap()));
        // A decoded value cannot be a slice of the body.
        assert_eq!(fields.get("vads_a"), Some("é"));
        assert!(!inside(fields.get("vads_a").unwrap()));
        // Not UTF-8: every piece is decoded, nothing is borrowed.
        let latin1 = Bytes::from_static(b"vads_a=%E9&vads_b=\xE9");
        assert_eq!(FormFields::parse_shared(&latin1).err(), FormFields::parse(&latin1).err());
        let copied = FormFields::parse(&body).unwrap();
        assert!(!inside(copied.get("vads_b").unwrap()));
    }

    #[test]
    fn prefix_ranges() {
        let f = FormFields::parse(b"vads_b=2&signature=s&vads_a=1&vadsx=3&kr-hash=h").unwrap();
        let v: Vec<_> = f.with_prefix("vads_").collect();
        assert_eq!(v, [("vads_a", "1"), ("vads_b", "2")]);
        assert_eq!(f.with_prefix("zz").count(), 0);
    }
}
