//! `application/x-www-form-urlencoded` decoding into one buffer, sorted by name for the signing
//! string and for lookups; a repeated name is an error.

use std::ops::Range;

use memchr::{memchr, memchr_iter, memchr2};

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
}

#[derive(Debug, Clone)]
struct Span {
    name: Range<usize>,
    value: Range<usize>,
}

/// Decoded form fields, sorted by name in byte order, names unique.
///
/// Decoding follows the URL standard: pairs split on `&` (empty pairs skipped), name and value
/// split on the first `=` (a pair without `=` has an empty value), `+` is a space, `%XX` a byte,
/// a `%` not followed by two hex digits is kept as is. The result must be UTF-8.
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
    buf: String,
    spans: Vec<Span>,
}

impl FormFields {
    /// Decodes a body.
    ///
    /// # Errors
    ///
    /// Invalid UTF-8 after decoding, or a repeated field name.
    pub fn parse(body: &[u8]) -> Result<Self, FormError> {
        let mut buf = Vec::with_capacity(body.len());
        let mut spans = Vec::with_capacity(64);
        let mut start = 0;
        for end in memchr_iter(b'&', body).chain(std::iter::once(body.len())) {
            let pair = &body[start..end];
            start = end + 1;
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match memchr(b'=', pair) {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &pair[pair.len()..]),
            };
            let name = decode_into(&mut buf, name);
            let value = decode_into(&mut buf, value);
            spans.push(Span { name, value });
        }
        let buf = String::from_utf8(buf).map_err(|_| FormError::InvalidUtf8)?;
        // Every piece must be UTF-8 on its own, not only their concatenation.
        let boundaries_ok = spans
            .iter()
            .all(|s| [s.name.start, s.name.end, s.value.start, s.value.end].iter().all(|&i| buf.is_char_boundary(i)));
        if !boundaries_ok {
            return Err(FormError::InvalidUtf8);
        }
        // Gateways send fields in descending order: the sort sees one run and reverses it.
        spans.sort_unstable_by(|a, b| buf.as_bytes()[a.name.clone()].cmp(&buf.as_bytes()[b.name.clone()]));
        if let Some(w) = spans.windows(2).find(|w| buf[w[0].name.clone()] == buf[w[1].name.clone()]) {
            return Err(FormError::DuplicateField { name: buf[w[0].name.clone()].to_owned() });
        }
        Ok(Self { buf, spans })
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        let i = self.spans.binary_search_by(|s| self.buf.as_bytes()[s.name.clone()].cmp(name.as_bytes())).ok()?;
        Some(&self.buf[self.spans[i].value.clone()])
    }

    /// Whether a field is present (even with an empty value).
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Every field, sorted by name in byte order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.spans.iter().map(|s| (&self.buf[s.name.clone()], &self.buf[s.value.clone()]))
    }

    /// The fields whose name starts with `prefix`, sorted by name in byte order.
    pub fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let p = prefix.as_bytes();
        let start = self.spans.partition_point(|s| &self.buf.as_bytes()[s.name.clone()] < p);
        self.spans[start..]
            .iter()
            .map(|s| (&self.buf[s.name.clone()], &self.buf[s.value.clone()]))
            .take_while(move |(n, _)| n.starts_with(prefix))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl std::fmt::Debug for FormFields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Appends the decoded bytes of `input` to `buf` and returns their range: runs without `+` or `%`
/// are copied whole (found with SIMD), `+` is a space, `%XX` a byte, any other `%` stays.
fn decode_into(buf: &mut Vec<u8>, mut input: &[u8]) -> Range<usize> {
    let start = buf.len();
    while let Some(i) = memchr2(b'+', b'%', input) {
        buf.extend_from_slice(&input[..i]);
        let escaped = match input[i] {
            b'+' => Some((b' ', 1)),
            _ => match (input.get(i + 1).copied().and_then(hex), input.get(i + 2).copied().and_then(hex)) {
                (Some(high), Some(low)) => Some((high << 4 | low, 3)),
                _ => None,
            },
        };
        let (byte, width) = escaped.unwrap_or((b'%', 1));
        buf.push(byte);
        input = &input[i + width..];
    }
    buf.extend_from_slice(input);
    start..buf.len()
}

fn hex(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
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
        let body = b"vads_x=a%2Bb+c&vads_y=%E2%82%AC&k%5B%5D=v&z=%41%42&p=%zz%4&q=%%2541+%2b&&r&s==";
        let ours: Vec<(String, String)> =
            FormFields::parse(body).unwrap().iter().map(|(a, b)| (a.into(), b.into())).collect();
        let mut reference: Vec<(String, String)> =
            form_urlencoded::parse(body).map(|(a, b)| (a.into_owned(), b.into_owned())).collect();
        reference.sort();
        assert_eq!(ours, reference);
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
    fn prefix_ranges() {
        let f = FormFields::parse(b"vads_b=2&signature=s&vads_a=1&vadsx=3&kr-hash=h").unwrap();
        let v: Vec<_> = f.with_prefix("vads_").collect();
        assert_eq!(v, [("vads_a", "1"), ("vads_b", "2")]);
        assert_eq!(f.with_prefix("zz").count(), 0);
    }
}
