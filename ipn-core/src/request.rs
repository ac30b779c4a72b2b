//! The borrowed view of an HTTP request that the verifier reads: both web adapters build one
//! without copying, and the core never sees a framework type.

use std::borrow::Cow;
use std::fmt;

use bytes::Bytes;
use bytestring::ByteString;

/// Header lookup, implemented by each adapter over its framework's header map.
///
/// Names are passed lowercase; implementations must match case-insensitively (HTTP header names
/// are). Values are the raw bytes as received.
pub trait Headers {
    /// The `nth` (0-based) value of the header `name`, in the order received.
    fn get(&self, name: &str, nth: usize) -> Option<&[u8]>;

    /// The first two values of the header `name`: what most readers need (the value, and
    /// whether the header is repeated). Override it when both can be found in one lookup; the
    /// default asks [`get`](Self::get) for each.
    fn first_two(&self, name: &str) -> [Option<&[u8]>; 2] {
        match self.get(name, 0) {
            Some(first) => [Some(first), self.get(name, 1)],
            None => [None, None],
        }
    }

    /// Every value of the header `name`, in the order received. Override it to walk them in one
    /// pass: the default asks [`get`](Self::get) for each, which costs quadratic time in the
    /// number of instances when `get` scans (a request may repeat a header thousands of times).
    fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
        Box::new((0..).map_while(move |nth| self.get(name, nth)))
    }
}

impl<H: Headers + ?Sized> Headers for &H {
    fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
        (**self).get(name, nth)
    }

    fn first_two(&self, name: &str) -> [Option<&[u8]>; 2] {
        (**self).first_two(name)
    }

    fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
        (**self).get_all(name)
    }
}

/// Headers as a list of `(name, value)` pairs: what the CLI and tests build.
impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for [(N, V)] {
    fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
        self.iter().filter(|(n, _)| same_name(n.as_ref(), name)).nth(nth).map(|(_, v)| v.as_ref())
    }

    /// One scan of the list, stopping at the second match.
    fn first_two(&self, name: &str) -> [Option<&[u8]>; 2] {
        let mut found = [None, None];
        let mut matches = self.iter().filter(|(n, _)| same_name(n.as_ref(), name));
        for slot in &mut found {
            let Some((_, value)) = matches.next() else { break };
            *slot = Some(value.as_ref());
        }
        found
    }

    /// One scan of the list.
    fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
        Box::new(self.iter().filter(move |(n, _)| same_name(n.as_ref(), name)).map(|(_, v)| v.as_ref()))
    }
}

/// Names (of headers, components, algorithms) compared ignoring ASCII case; an exact match (they
/// usually arrive in the expected case) is checked first, with one `memcmp` rather than byte by
/// byte.
pub(crate) fn same_name(received: &str, wanted: &str) -> bool {
    received.len() == wanted.len() && (received == wanted || received.eq_ignore_ascii_case(wanted))
}

impl<N: AsRef<str>, V: AsRef<[u8]>, const LEN: usize> Headers for [(N, V); LEN] {
    fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
        Headers::get(self.as_slice(), name, nth)
    }

    fn first_two(&self, name: &str) -> [Option<&[u8]>; 2] {
        Headers::first_two(self.as_slice(), name)
    }

    fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
        Headers::get_all(self.as_slice(), name)
    }
}

impl<N: AsRef<str>, V: AsRef<[u8]>> Headers for Vec<(N, V)> {
    fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
        Headers::get(self.as_slice(), name, nth)
    }

    fn first_two(&self, name: &str) -> [Option<&[u8]>; 2] {
        Headers::first_two(self.as_slice(), name)
    }

    fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
        Headers::get_all(self.as_slice(), name)
    }
}

/// What the verifier needs of a request: method, target (path and query exactly as received),
/// headers and the buffered body.
///
/// The headers are `Sync` so that a verification future holding the view is `Send`, as
/// multi-threaded servers (tokio, axum) require.
///
/// ```
/// use ipn_core::RequestView;
/// let headers = [("content-type", "application/x-www-form-urlencoded")];
/// let view = RequestView::new("POST", "/ipn", &headers, b"vads_site_id=12345678");
/// assert_eq!(view.header("Content-Type"), Some(&b"application/x-www-form-urlencoded"[..]));
/// ```
#[derive(Clone, Copy)]
pub struct RequestView<'a> {
    method: &'a str,
    target: &'a str,
    headers: &'a (dyn Headers + Sync),
    body: &'a [u8],
    /// The body's shared buffer, when the caller has one.
    shared: Option<&'a Bytes>,
}

impl<'a> RequestView<'a> {
    /// A view over borrowed parts. The notification verified from it copies the body text it
    /// keeps; [`shared`](Self::shared) avoids that copy.
    pub fn new(method: &'a str, target: &'a str, headers: &'a (dyn Headers + Sync), body: &'a [u8]) -> Self {
        Self { method, target, headers, body, shared: None }
    }

    /// A view whose body is a shared buffer (as the frameworks buffer it): the notification
    /// verified from it keeps a reference-counted slice of that buffer instead of a copy of the
    /// body, so a request's body is held once while both live. The slice keeps the whole buffer
    /// alive, which a framework may have made larger than the body: a notification kept long
    /// after its request holds on to it (copy out what you keep).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use ipn_core::RequestView;
    /// let body = Bytes::from_static(b"vads_site_id=12345678");
    /// let view = RequestView::shared("POST", "/ipn", &[("content-type", "application/x-www-form-urlencoded")], &body);
    /// assert_eq!(view.body(), &body[..]);
    /// ```
    pub fn shared(method: &'a str, target: &'a str, headers: &'a (dyn Headers + Sync), body: &'a Bytes) -> Self {
        Self { method, target, headers, body, shared: Some(body) }
    }

    /// The body's shared buffer, if the view was made with [`shared`](Self::shared).
    pub(crate) fn shared_body(&self) -> Option<&'a Bytes> {
        self.shared
    }

    /// The body as text to keep (see [`body_text`]); `None` when it is not UTF-8.
    #[inline]
    pub(crate) fn body_text(&self) -> Option<ByteString> {
        body_text(self.body, self.shared)
    }

    /// The request method, as received (`POST`).
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The path and query, exactly as received (not decoded).
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The body bytes.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers.get(&lowercase(name), 0)
    }

    /// Every value of a header, in the order received.
    pub fn header_values(&self, name: &str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers.get_all(&lowercase(name)).collect::<Vec<_>>().into_iter()
    }

    /// Every value of a header whose name is already lowercase, in the order received, in one
    /// pass.
    pub(crate) fn lowercase_values<'n>(&self, lowercase_name: &'n str) -> Box<dyn Iterator<Item = &'a [u8]> + 'n>
    where
        'a: 'n,
    {
        debug_assert!(!lowercase_name.bytes().any(|b| b.is_ascii_uppercase()));
        self.headers.get_all(lowercase_name)
    }

    /// The media type of `Content-Type`, lowercased, without parameters (`application/json`).
    /// Borrowed from the header unless it had to be lowercased.
    pub fn media_type(&self) -> Option<Cow<'a, str>> {
        self.header("content-type").map(media_type_of)
    }
}

/// How many header names a [`HeaderMemo`] remembers (link verification reads six or seven).
const MEMO_LEN: usize = 8;

/// A request's headers read by lowercase name, each name looked up once however often it is
/// read: link verification reads `Date` and `Digest` for the signing string and again to check
/// them, and asks of most headers whether they are repeated. Each lookup of the underlying
/// [`Headers`] scans or hashes; a hit here compares a few short names.
///
/// Names past the first [`MEMO_LEN`] are looked up every time (correct, only slower).
pub(crate) struct HeaderMemo<'a: 'n, 'n> {
    view: RequestView<'a>,
    entries: [(&'n str, [Option<&'a [u8]>; 2]); MEMO_LEN],
    len: usize,
}

impl<'a: 'n, 'n> HeaderMemo<'a, 'n> {
    pub(crate) fn new(view: RequestView<'a>) -> Self {
        Self { view, entries: [("", [None, None]); MEMO_LEN], len: 0 }
    }

    /// The request.
    pub(crate) fn view(&self) -> RequestView<'a> {
        self.view
    }

    /// The first two values of a header whose name is already lowercase.
    pub(crate) fn first_two(&mut self, lowercase_name: &'n str) -> [Option<&'a [u8]>; 2] {
        debug_assert!(!lowercase_name.bytes().any(|b| b.is_ascii_uppercase()));
        let known = self.entries.get(..self.len).unwrap_or_default();
        if let Some((_, found)) = known.iter().find(|(name, _)| *name == lowercase_name) {
            return *found;
        }
        let found = self.view.headers.first_two(lowercase_name);
        if let Some(entry) = self.entries.get_mut(self.len) {
            *entry = (lowercase_name, found);
            self.len += 1;
        }
        found
    }

    /// Every value of a header whose name is already lowercase, in the order received: the
    /// memo's first two, then (rare) the rest in one more pass.
    pub(crate) fn values(&mut self, lowercase_name: &'n str) -> impl Iterator<Item = &'a [u8]> + use<'a, 'n> {
        let [first, second] = self.first_two(lowercase_name);
        let view = self.view;
        let rest = second.map(|_| view.lowercase_values(lowercase_name).skip(2));
        first.into_iter().chain(second).chain(rest.into_iter().flatten())
    }
}

impl fmt::Debug for RequestView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestView")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// A body as text a notification keeps: a slice of `shared` (the same bytes as `body`) when
/// there is one, a copy otherwise; `None` when it is not UTF-8.
#[inline]
pub(crate) fn body_text(body: &[u8], shared: Option<&Bytes>) -> Option<ByteString> {
    match shared {
        Some(shared) => ByteString::try_from(shared.clone()).ok(),
        None => std::str::from_utf8(body).ok().map(ByteString::from),
    }
}

/// The media type of a `Content-Type` value: lowercased, parameters dropped; a value that is not
/// UTF-8 yields an empty string (refused). Borrowed unless it had to be lowercased.
pub(crate) fn media_type_of(content_type: &[u8]) -> Cow<'_, str> {
    let Ok(text) = std::str::from_utf8(content_type) else { return Cow::Borrowed("") };
    lowercase(text.split(';').next().unwrap_or_default().trim())
}

/// `text` in ASCII lowercase, borrowed when it already is.
fn lowercase(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lookup_is_case_insensitive_and_ordered() {
        let headers = vec![("Digest", "a"), ("X", "1"), ("digest", "b")];
        let view = RequestView::new("POST", "/", &headers, b"");
        assert_eq!(view.header("DIGEST"), Some(&b"a"[..]));
        let all: Vec<_> = view.header_values("digest").collect();
        assert_eq!(all, vec![&b"a"[..], &b"b"[..]]);
        assert_eq!(view.header("missing"), None);
    }

    /// Headers that only implement `get`: the default `first_two`.
    struct OnlyGet(Vec<(&'static str, &'static str)>);

    impl Headers for OnlyGet {
        fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
            Headers::get(self.0.as_slice(), name, nth)
        }
    }

    const REPEATED: [(&str, &str); 8] = [
        ("Date", "d1"),
        ("digest", "a"),
        ("DIGEST", "b"),
        ("x-one", "1"),
        ("Digest", "c"),
        ("date", "d2"),
        ("dat", "no"),
        ("dates", "no"),
    ];

    #[test]
    fn first_two_finds_the_first_two_values_in_order() {
        let only_get = OnlyGet(REPEATED.to_vec());
        for name in ["date", "digest", "x-one", "missing", "dat"] {
            let expected = [REPEATED.get(name, 0), REPEATED.get(name, 1)];
            assert_eq!(REPEATED.first_two(name), expected, "{name}");
            assert_eq!(REPEATED.to_vec().first_two(name), expected, "{name}");
            assert_eq!((&REPEATED.as_slice()).first_two(name), expected, "{name}");
            assert_eq!(only_get.first_two(name), expected, "{name}");
        }
        assert_eq!(REPEATED.first_two("digest"), [Some(&b"a"[..]), Some(&b"b"[..])]);
        assert_eq!(REPEATED.first_two("x-one"), [Some(&b"1"[..]), None]);
    }

    #[test]
    fn the_memo_answers_as_the_headers_do() {
        let only_get = OnlyGet(REPEATED.to_vec());
        for headers in [&REPEATED as &(dyn Headers + Sync), &only_get] {
            let view = RequestView::new("POST", "/", headers, b"");
            let mut memo = HeaderMemo::new(view);
            // More names than the memo keeps, each read twice: the answers do not change.
            let names = ["date", "digest", "x-one", "missing", "dat", "dates", "a", "b", "c", "d", "digest", "date"];
            for _ in 0..2 {
                for name in names {
                    let expected: Vec<_> = view.header_values(name).collect();
                    assert_eq!(memo.values(name).collect::<Vec<_>>(), expected, "{name}");
                    let first_two = [expected.first().copied(), expected.get(1).copied()];
                    assert_eq!(memo.first_two(name), first_two, "{name}");
                }
            }
            assert_eq!(memo.values("digest").collect::<Vec<_>>(), [&b"a"[..], b"b", b"c"]);
        }
    }

    /// Headers that count the entries their lookups visit.
    struct Counted {
        list: Vec<(String, String)>,
        visited: std::sync::atomic::AtomicUsize,
    }

    impl Counted {
        fn visit(&self) {
            self.visited.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }

        fn take(&self) -> usize {
            self.visited.swap(0, std::sync::atomic::Ordering::Relaxed)
        }
    }

    impl Headers for Counted {
        fn get(&self, name: &str, nth: usize) -> Option<&[u8]> {
            self.list
                .iter()
                .inspect(|_| self.visit())
                .filter(|(n, _)| same_name(n, name))
                .nth(nth)
                .map(|(_, v)| v.as_bytes())
        }

        fn get_all<'s: 'n, 'n>(&'s self, name: &'n str) -> Box<dyn Iterator<Item = &'s [u8]> + 'n> {
            Box::new(
                self.list
                    .iter()
                    .inspect(|_| self.visit())
                    .filter(move |(n, _)| same_name(n, name))
                    .map(|(_, v)| v.as_bytes()),
            )
        }
    }

    #[test]
    fn thousands_of_instances_of_a_header_are_read_in_one_pass() {
        let mut list = vec![("date".to_owned(), "d".to_owned())];
        list.extend((0..5_000).map(|i| ("X-A".to_owned(), i.to_string())));
        let headers = Counted { list, visited: 0.into() };
        let len = headers.list.len();
        let view = RequestView::new("POST", "/", &headers, b"");
        let mut memo = HeaderMemo::new(view);
        assert_eq!(memo.values("x-a").count(), 5_000);
        // The memo's first two values, then one pass for all of them.
        assert!(headers.take() <= 3 * len, "quadratic");
        assert_eq!(view.header_values("X-A").last(), Some(&b"4999"[..]));
        assert!(headers.take() <= len, "quadratic");
        assert_eq!(view.lowercase_values("x-a").count(), 5_000);
        assert!(headers.take() <= len, "quadratic");
        // Every implementation in this crate walks the list once.
        let plain: Vec<(String, String)> = headers.list.clone();
        assert_eq!(Headers::get_all(&plain, "x-a").count(), 5_000);
        assert_eq!(Headers::get_all(plain.as_slice(), "x-a").nth(4_999), Some(&b"4999"[..]));
    }

    #[test]
    fn media_type_drops_parameters() {
        let headers = [("content-type", "Application/JSON; charset=utf-8")];
        let view = RequestView::new("POST", "/", &headers, b"");
        assert_eq!(view.media_type().as_deref(), Some("application/json"));
        let headers = [("content-type", " application/x-www-form-urlencoded ;charset=UTF-8")];
        let view = RequestView::new("POST", "/", &headers, b"");
        assert!(matches!(view.media_type(), Some(Cow::Borrowed("application/x-www-form-urlencoded"))));
        assert_eq!(media_type_of(b"\xff/x"), "");
    }

    /// The byte-wise cut and trim give what `split(';')` and `trim` give, whatever the value.
    #[test]
    fn media_type_is_the_first_part_trimmed_as_str_trim_does() {
        let reference = |value: &[u8]| {
            let text = std::str::from_utf8(value).unwrap_or("");
            text.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
        };
        let pieces: [&[u8]; 17] = [
            b"",
            b" ",
            b"\t",
            b"\x0b",
            b"\x0c",
            b"\r\n",
            b"\x1c",
            b"\xc2\xa0",
            b"\xe2\x80\x83",
            b";",
            b"a",
            b"Application/JSON",
            b"application/x-www-form-urlencoded",
            b"application/json",
            b"charset=UTF-8",
            b"\xff",
            b"\xc3\xa9",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let value = [a, b, c].concat();
                    assert_eq!(media_type_of(&value), reference(&value), "{value:?}");
                }
            }
        }
    }
}
