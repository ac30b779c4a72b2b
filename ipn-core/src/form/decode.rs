//! `application/x-www-form-urlencoded` decoding into one buffer, sorted by name for the signing
//! string and for lookups; a repeated name is an error.

use std::ops::Range;

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
    /// The name's first 16 bytes, zero-padded, as a big-endian integer: comparing keys orders
    /// names as their bytes do, except that equal keys need the full names compared.
    key: u128,
    name: Range<usize>,
    value: Range<usize>,
}

/// The sort key of a name (see [`Span::key`]).
fn name_key(name: &[u8]) -> u128 {
    let mut prefix = [0_u8; 16];
    let len = name.len().min(16);
    prefix[..len].copy_from_slice(&name[..len]);
    u128::from_be_bytes(prefix)
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
        let mut i = 0;
        while i < body.len() {
            if body[i] == b'&' {
                i += 1; // an empty pair (`&&`)
                continue;
            }
            let name_start = buf.len();
            i = decode_until(body, i, &mut buf, true);
            let name = name_start..buf.len();
            let value_start = buf.len();
            if body.get(i) == Some(&b'=') {
                i = decode_until(body, i + 1, &mut buf, false);
            }
            let value = value_start..buf.len();
            spans.push(Span { key: name_key(&buf[name.clone()]), name, value });
            // `i` is at a `&` or at the end: step over it.
            i += 1;
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
        let bytes = buf.as_bytes();
        spans
            .sort_unstable_by(|a, b| a.key.cmp(&b.key).then_with(|| bytes[a.name.clone()].cmp(&bytes[b.name.clone()])));
        if let Some(w) =
            spans.windows(2).find(|w| w[0].key == w[1].key && buf[w[0].name.clone()] == buf[w[1].name.clone()])
        {
            return Err(FormError::DuplicateField { name: buf[w[0].name.clone()].to_owned() });
        }
        Ok(Self { buf, spans })
    }

    /// The value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        let key = name_key(name.as_bytes());
        let bytes = self.buf.as_bytes();
        let i = self
            .spans
            .binary_search_by(|s| s.key.cmp(&key).then_with(|| bytes[s.name.clone()].cmp(name.as_bytes())))
            .ok()?;
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

/// How [`decode_until`] treats a byte.
const PLAIN: u8 = 0;
const AMPERSAND: u8 = 1;
const EQUALS: u8 = 2;
const PLUS: u8 = 3;
const PERCENT: u8 = 4;

const CLASSES: [u8; 256] = {
    let mut classes = [PLAIN; 256];
    classes[b'&' as usize] = AMPERSAND;
    classes[b'=' as usize] = EQUALS;
    classes[b'+' as usize] = PLUS;
    classes[b'%' as usize] = PERCENT;
    classes
};

/// The length of the leading run of bytes that decode to themselves, 8 bytes at a time: each
/// word is tested for the four special bytes at once (SWAR); the first match found this way is
/// exact (a false positive can only follow a true match, in a higher byte).
fn plain_prefix(bytes: &[u8]) -> usize {
    const LOW: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Bytes of `word` equal to `byte` get their high bit set.
    let matches = |word: u64, byte: u8| {
        let x = word ^ (LOW * u64::from(byte));
        x.wrapping_sub(LOW) & !x & HIGH
    };
    let mut i = 0;
    while let Some(&chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let word = u64::from_le_bytes(chunk);
        let special = matches(word, b'&') | matches(word, b'=') | matches(word, b'+') | matches(word, b'%');
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + bytes[i..].iter().position(|&b| CLASSES[usize::from(b)] != PLAIN).unwrap_or(bytes.len() - i)
}

/// Decodes `body[i..]` into `buf` up to the next `&` (or, for a name, `=`), and returns the
/// index of that delimiter (or the end). Runs of plain bytes are copied whole; `+` is a space,
/// `%XX` a byte, any other `%` stays.
fn decode_until(body: &[u8], mut i: usize, buf: &mut Vec<u8>, is_name: bool) -> usize {
    loop {
        let run = i;
        i += plain_prefix(&body[i..]);
        buf.extend_from_slice(&body[run..i]);
        let Some(&byte) = body.get(i) else { return i };
        match CLASSES[usize::from(byte)] {
            AMPERSAND => return i,
            EQUALS if is_name => return i,
            PLUS => {
                buf.push(b' ');
                i += 1;
            }
            PERCENT => match (body.get(i + 1).copied().and_then(hex), body.get(i + 2).copied().and_then(hex)) {
                (Some(high), Some(low)) => {
                    buf.push(high << 4 | low);
                    i += 3;
                }
                _ => {
                    buf.push(b'%');
                    i += 1;
                }
            },
            // `=` inside a value is data.
            _ => {
                buf.push(byte);
                i += 1;
            }
        }
    }
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
        let body = b"&vads_x=a%2Bb+c&vads_y=%E2%82%AC&k%5B%5D=v&z=%41%42&p=%zz%4&q=%%2541+%2b&&r&s==&=&";
        let ours: Vec<(String, String)> =
            FormFields::parse(body).unwrap().iter().map(|(a, b)| (a.into(), b.into())).collect();
        let mut reference: Vec<(String, String)> =
            form_urlencoded::parse(body).map(|(a, b)| (a.into_owned(), b.into_owned())).collect();
        reference.sort();
        assert_eq!(ours, reference);
    }

    #[test]
    fn plain_prefix_stops_at_the_first_special_byte_wherever_it_is() {
        for len in 0..40 {
            let plain = vec![b'a'; len];
            assert_eq!(plain_prefix(&plain), len);
            for at in 0..len {
                for special in [b'&', b'=', b'+', b'%'] {
                    let mut bytes = plain.clone();
                    bytes[at] = special;
                    // A byte just above or below a special one must not count.
                    if at + 1 < len {
                        bytes[at + 1] = special + 1;
                    }
                    assert_eq!(plain_prefix(&bytes), at, "{len} {at} {special}");
                }
            }
        }
        assert_eq!(plain_prefix(b"\x01\x00\x24\x27\x80\xff&"), 6);
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
    fn prefix_ranges() {
        let f = FormFields::parse(b"vads_b=2&signature=s&vads_a=1&vadsx=3&kr-hash=h").unwrap();
        let v: Vec<_> = f.with_prefix("vads_").collect();
        assert_eq!(v, [("vads_a", "1"), ("vads_b", "2")]);
        assert_eq!(f.with_prefix("zz").count(), 0);
    }
}
