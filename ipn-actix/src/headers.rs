//! The bridge from actix's header map to the core's [`Headers`] lookup, so the verifier reads the
//! received headers without copying them.

use actix_web::http::header::{HeaderMap, HeaderValue};
use ipn_core::Headers;

/// A borrowed actix [`HeaderMap`] seen as [`ipn_core::Headers`]: values in the order received,
/// names matched case-insensitively (the core passes them lowercase). For a handler that calls
/// the core itself; the middleware uses it.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use ipn_actix::HttpHeaders;
/// use ipn_core::Headers;
/// let mut map = HeaderMap::new();
/// map.append(HeaderName::from_static("digest"), HeaderValue::from_static("a"));
/// map.append(HeaderName::from_static("digest"), HeaderValue::from_static("b"));
/// let headers = HttpHeaders(&map);
/// assert_eq!(headers.get("digest", 1), Some(&b"b"[..]));
/// assert_eq!(headers.get("date", 0), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct HttpHeaders<'a>(pub &'a HeaderMap);

impl Headers for HttpHeaders<'_> {
    fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
        self.0.get_all(name).nth(nth).map(HeaderValue::as_bytes)
    }

    /// Both values from one lookup of the name.
    fn first_two(&self, name: &str) -> [Option<&[u8]>; 2] {
        let mut values = self.0.get_all(name).map(HeaderValue::as_bytes);
        [values.next(), values.next()]
    }

    /// Every value from one lookup of the name, in one pass.
    fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
        Box::new(self.0.get_all(name).map(HeaderValue::as_bytes))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderName;
    use ipn_core::RequestView;

    use super::*;

    #[test]
    fn finds_every_value_of_a_header_in_order_whatever_the_case() {
        let mut map = HeaderMap::new();
        map.append(HeaderName::from_static("digest"), HeaderValue::from_static("a"));
        map.append(HeaderName::from_static("x-other"), HeaderValue::from_static("1"));
        map.append(HeaderName::from_static("digest"), HeaderValue::from_static("b"));
        let headers = HttpHeaders(&map);
        let view = RequestView::new("POST", "/ipn", &headers, b"");
        assert_eq!(view.header("Digest"), Some(&b"a"[..]));
        assert_eq!(view.header_values("DIGEST").collect::<Vec<_>>(), vec![&b"a"[..], &b"b"[..]]);
        assert_eq!(view.header("content-type"), None);
        assert_eq!(Headers::get(&headers, "digest", 2), None);
        assert_eq!(headers.first_two("Digest"), [Some(&b"a"[..]), Some(&b"b"[..])]);
        assert_eq!(headers.first_two("x-other"), [Some(&b"1"[..]), None]);
        assert_eq!(headers.first_two("date"), [None, None]);
        assert_eq!(headers.first_two("not a header name"), [None, None]);
        assert_eq!(headers.get_all("DIGEST").collect::<Vec<_>>(), [&b"a"[..], b"b"]);
        assert_eq!(headers.get_all("not a header name").count(), 0);
    }
}
