//! The header lookup the core verifier reads, over an `http::HeaderMap` without copying.

use http::HeaderMap;

/// An [`ipn_core::Headers`] view of an [`http::HeaderMap`].
///
/// ```
/// use ipn_core::Headers;
/// use ipn_tower::HttpHeaders;
/// let mut map = http::HeaderMap::new();
/// map.append("digest", "a".parse().unwrap());
/// map.append("Digest", "b".parse().unwrap());
/// let headers = HttpHeaders(&map);
/// assert_eq!(headers.get("digest", 1), Some(&b"b"[..]));
/// assert_eq!(headers.get("date", 0), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl ipn_core::Headers for HttpHeaders<'_> {
    fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
        // `HeaderMap` compares names case-insensitively; an invalid name simply matches nothing.
        self.0.get_all(name).iter().nth(nth).map(|value| value.as_bytes())
    }

    /// Both values from one lookup of the name.
    fn first_two(&self, name: &str) -> [Option<&[u8]>; 2] {
        let mut values = self.0.get_all(name).iter().map(|value| value.as_bytes());
        [values.next(), values.next()]
    }

    /// Every value from one lookup of the name, in one pass.
    fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
        Box::new(self.0.get_all(name).iter().map(|value| value.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipn_core::Headers;

    #[test]
    fn lookup_ignores_case_keeps_order_and_tolerates_invalid_names() {
        let mut map = HeaderMap::new();
        map.append("signature", "one".parse().unwrap());
        map.append("Signature", "two".parse().unwrap());
        let headers = HttpHeaders(&map);
        assert_eq!(headers.get("signature", 0), Some(&b"one"[..]));
        assert_eq!(headers.get("SIGNATURE", 1), Some(&b"two"[..]));
        assert_eq!(headers.get("signature", 2), None);
        assert_eq!(headers.get("not a header name", 0), None);
        assert_eq!(headers.get("", 0), None);
        assert_eq!(headers.first_two("Signature"), [Some(&b"one"[..]), Some(&b"two"[..])]);
        assert_eq!(headers.first_two("not a header name"), [None, None]);
        map.append("date", "d".parse().unwrap());
        assert_eq!(HttpHeaders(&map).first_two("date"), [Some(&b"d"[..]), None]);
        assert_eq!(HttpHeaders(&map).first_two("digest"), [None, None]);
        let headers = HttpHeaders(&map);
        assert_eq!(headers.get_all("SIGNATURE").collect::<Vec<_>>(), [&b"one"[..], b"two"]);
        assert_eq!(headers.get_all("not a header name").count(), 0);
    }
}
