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
}
