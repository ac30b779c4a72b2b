//! `application/x-www-form-urlencoded` decoding, sorted by name for the signing string and for
//! lookups; a repeated name is an error.

use bytes::Bytes;
use bytestring::ByteString;
use memchr::{memchr, memchr2};

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

/// The largest body decoded: offsets into it are `u32`.
const MAX_BODY: usize = (1 << 30) - 1;

/// Where a name or value is: `start..end` of the received body (it needed no decoding) or of
/// the decoded text.
#[derive(Debug, Clone, Copy)]
enum Piece {
    Body(u32, u32),
    Decoded(u32, u32),
}

/// Decoded form fields, sorted by name in byte order, names unique.
///
/// Decoding follows the URL standard: pairs split on `&` (empty pairs skipped), name and value
/// split on the first `=` (a pair without `=` has an empty value), `+` is a space, `%XX` a byte,
/// a `%` not followed by two hex digits is kept as is. Every name and value must be UTF-8 once
/// decoded.
///
/// A UTF-8 body is kept as received and the names and values without `%` or `+` are slices of
/// it; the others are decoded into one side buffer.
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
    /// The body as received, when it is UTF-8 (empty otherwise, every piece then decoded): the
    /// request's own buffer when it was shared ([`FormFields::parse_shared`]), a copy otherwise.
    body: ByteString,
    /// The names and values that needed decoding, decoded, one after another.
    decoded: String,
    /// Name and value of each field, sorted by name.
    pairs: Vec<(Piece, Piece)>,
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
        // A UTF-8 body splits into UTF-8 pieces (the delimiters are ASCII), which can be kept as
        // they are when they hold nothing to decode; in any other body every piece is decoded,
        // and so checked.
        let utf8 = text.is_some();
        let mut decoded = Vec::new();
        let mut piece = |start: usize, end: usize, encoded: bool| {
            if utf8 && !encoded {
                Some(Piece::Body(start as u32, end as u32))
            } else {
                decode_into(&body[start..end], &mut decoded)
            }
        };
        let mut pairs = Vec::with_capacity(64);
        let encoded = |start: usize, end: usize| memchr2(b'%', b'+', &body[start..end]).is_some();
        let mut start = 0;
        while start <= body.len() {
            let end = memchr(b'&', &body[start..]).map_or(body.len(), |i| start + i);
            if end > start {
                let split = memchr(b'=', &body[start..end]).map_or(end, |i| start + i);
                // A pair without `=` has an empty value, at its end.
                let value = (split + 1).min(end);
                let (Some(name), Some(value)) =
                    (piece(start, split, encoded(start, split)), piece(value, end, encoded(value, end)))
                else {
                    return Err(FormError::InvalidUtf8);
                };
                pairs.push((name, value));
            }
            start = end + 1;
        }
        // Each decoded piece is UTF-8, so is their concatenation.
        let decoded = String::from_utf8(decoded).map_err(|_| FormError::InvalidUtf8)?;
        let mut fields = Self { body: text.unwrap_or_default(), decoded, pairs: Vec::new() };
        let name = |pair: &(Piece, Piece)| fields.bytes(pair.0);
        // Gateways send fields in descending order, which the sort reverses in one pass.
        pairs.sort_unstable_by(|a, b| name(a).cmp(name(b)));
        if let Some(repeated) = pairs.windows(2).find(|w| name(&w[0]) == name(&w[1])) {
            return Err(FormError::DuplicateField { name: fields.text(repeated[0].0).to_owned() });
        }
        fields.pairs = pairs;
        Ok(fields)
    }

    fn text(&self, piece: Piece) -> &str {
        match piece {
            Piece::Body(start, end) => &self.body[start as usize..end as usize],
            Piece::Decoded(start, end) => &self.decoded[start as usize..end as usize],
        }
    }

    /// [`text`](Self::text) as bytes, for comparisons: the same order, without the checks that
    /// the piece's ends are character boundaries.
    fn bytes(&self, piece: Piece) -> &[u8] {
        let (buffer, start, end) = match piece {
            Piece::Body(start, end) => (self.body.as_bytes().as_ref(), start, end),
            Piece::Decoded(start, end) => (self.decoded.as_bytes(), start, end),
        };
        &buffer[start as usize..end as usize]
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        let at = self.pairs.binary_search_by(|&(n, _)| self.bytes(n).cmp(name.as_bytes())).ok()?;
        Some(self.text(self.pairs[at].1))
    }

    /// Whether a field is present (even with an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every field, sorted by name in byte order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.pairs.iter().map(|&(name, value)| (self.text(name), self.text(value)))
    }

    /// The fields whose name starts with `prefix`, sorted by name in byte order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        // They follow the names below `prefix`, in a run.
        let start = self.pairs.partition_point(|&(n, _)| self.bytes(n) < prefix.as_bytes());
        self.pairs[start..]
            .iter()
            .map(|&(name, value)| (self.text(name), self.text(value)))
            .take_while(move |(name, _)| name.starts_with(prefix))
    }

    /// Whether some name starts with `prefix`.
    pub(crate) fn has_prefix(&self, prefix: &str) -> bool {
        self.with_prefix(prefix).next().is_some()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The values of the fields named with `prefix`, in name order, each followed by `+`: the
    /// form signing string without its key.
    pub(crate) fn joined_values(&self, prefix: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + self.decoded.len());
        for (_, value) in self.with_prefix(prefix) {
            out.extend_from_slice(value.as_bytes());
            out.push(b'+');
        }
        out
    }
}

/// Decodes `raw` to the end of `decoded`: `+` is a space, `%XX` a byte, any other `%` stays.
/// `None` unless it is UTF-8 once decoded.
fn decode_into(raw: &[u8], decoded: &mut Vec<u8>) -> Option<Piece> {
    let from = decoded.len();
    decoded.reserve(raw.len());
    let hex = |digit: u8| char::from(digit).to_digit(16);
    let mut rest = raw;
    // The runs between escapes are copied whole.
    while let Some(at) = memchr2(b'%', b'+', rest) {
        decoded.extend_from_slice(&rest[..at]);
        let taken = match rest[at..] {
            [b'+', ..] => {
                decoded.push(b' ');
                1
            }
            [b'%', high, low, ..] if let (Some(high), Some(low)) = (hex(high), hex(low)) => {
                decoded.push((high << 4 | low) as u8);
                3
            }
            // A `%` that does not start an escape stands for itself.
            _ => {
                decoded.push(b'%');
                1
            }
        };
        rest = &rest[at + taken..];
    }
    decoded.extend_from_slice(rest);
    std::str::from_utf8(&decoded[from..]).ok()?;
    Some(Piece::Decoded(from as u32, decoded.len() as u32))
}

impl std::fmt::Debug for FormFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

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
    fn an_encoded_name_ends_where_its_value_starts() {
        // The decoded value follows the decoded name in the side buffer.
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
                // Short and long prefixes, with a NUL byte, with non-ASCII.
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

        /// Long bodies: runs of plain bytes, each after a delimiter or an escape.
        #[test]
        fn agrees_with_form_urlencoded_on_long_runs(runs in proptest::collection::vec((proptest::sample::select(
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
        /// `form_urlencoded` does.
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
            // Every prefix of every name, and some of none.
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
