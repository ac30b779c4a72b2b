//! A complete request as owned parts: what the builders produce, what the CLI reads from a
//! capture, and what can be written back as HTTP/1.1 text.

use std::fmt;

use crate::request::RequestView;

/// A whole HTTP request: method, target (path and query as sent), headers in order, body.
#[derive(Clone, PartialEq, Eq)]
pub struct RawRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    /// A request from its parts.
    pub fn new(
        method: impl Into<String>,
        target: impl Into<String>,
        headers: Vec<(String, String)>,
        body: impl Into<Vec<u8>>,
    ) -> Self {
        Self { method: method.into(), target: target.into(), headers, body: body.into() }
    }

    /// A POST to `target` with a `Content-Type` header and a body.
    pub fn post(target: impl Into<String>, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::new("POST", target, vec![("Content-Type".to_owned(), content_type.to_owned())], body)
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path and query, as sent.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Changes the target (the link signature covers it: sign after).
    pub fn set_target(&mut self, target: impl Into<String>) {
        self.target = target.into();
    }

    /// The headers, in order, names as given.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Replaces every value of a header with one value (appended when absent).
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.remove_header(name);
        self.headers.push((name.to_owned(), value.into()));
    }

    /// Removes every value of a header.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Replaces the body (a signature over it must be made again).
    pub fn set_body(&mut self, body: impl Into<Vec<u8>>) {
        self.body = body.into();
    }

    /// The view a [`Verifier`](crate::Verifier) reads.
    pub fn view(&self) -> RequestView<'_> {
        RequestView::new(&self.method, &self.target, &self.headers, &self.body)
    }

    /// The request as HTTP/1.1 text, CRLF line ends: request line, `Host` (when given and not
    /// already there), the headers, `Content-Length` (replacing any), an empty line, the body.
    pub fn to_http(&self, host: Option<&str>) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        if let Some(host) = host.filter(|_| self.header("host").is_none()) {
            out.extend_from_slice(format!("Host: {host}\r\n").as_bytes());
        }
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("content-length") {
                out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }
}

impl fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_http_with_one_content_length() {
        let mut r = RawRequest::post("/ipn", "application/json", "{}");
        r.set_header("content-length", "99");
        let text = String::from_utf8(r.to_http(Some("shop.test"))).unwrap();
        assert_eq!(
            text,
            "POST /ipn HTTP/1.1\r\nHost: shop.test\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        );
        assert_eq!(r.view().header("CONTENT-TYPE"), Some(&b"application/json"[..]));
    }
}
