//! Reading a captured request: a raw HTTP/1.1 request as a proxy or `tcpdump` saved it (request
//! line, headers, empty line, body; CRLF or LF line ends), parsed with `httparse`.

use ipn_core::testkit::RawRequest;

/// Why a capture cannot be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// The request line or the headers do not parse.
    #[error("not an HTTP/1.1 request: {0}")]
    Syntax(String),
    /// The file ends before the end of the headers.
    #[error("the request ends before the empty line that closes the headers")]
    Incomplete,
    /// `Content-Length` is not a number, or promises more bytes than the file holds.
    #[error("{0}")]
    Length(String),
    /// A chunked body (not supported: save the decoded body with a Content-Length).
    #[error("chunked bodies are not supported: save the request with its decoded body")]
    Chunked,
}

const MAX_HEADERS: usize = 256;

/// Parses a captured request. The body is `Content-Length` bytes when the header is present
/// (extra bytes are ignored), else the rest of the input, exactly.
///
/// # Errors
///
/// See [`CaptureError`].
pub fn parse_request(bytes: &[u8]) -> Result<RawRequest, CaptureError> {
    let mut headers = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let header_len = match request.parse(bytes) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Err(CaptureError::Incomplete),
        Err(e) => return Err(CaptureError::Syntax(e.to_string())),
    };
    let method = request.method.unwrap_or_default().to_owned();
    let target = request.path.unwrap_or_default().to_owned();
    let mut list = Vec::with_capacity(request.headers.len());
    for header in request.headers.iter() {
        let value = std::str::from_utf8(header.value)
            .map_err(|_| CaptureError::Syntax(format!("the {} header is not UTF-8", header.name)))?;
        list.push((header.name.to_owned(), value.to_owned()));
    }
    let rest = &bytes[header_len..];
    let find = |name: &str| list.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
    if find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        return Err(CaptureError::Chunked);
    }
    let body = match find("content-length") {
        Some(value) => {
            let len: usize =
                value.parse().map_err(|_| CaptureError::Length(format!("Content-Length {value:?} is not a number")))?;
            rest.get(..len).ok_or_else(|| {
                CaptureError::Length(format!("Content-Length is {len} but only {} body bytes follow", rest.len()))
            })?
        }
        None => rest,
    };
    Ok(RawRequest::new(method, target, list, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_and_lf_with_and_without_length() {
        let crlf = parse_request(b"POST /ipn?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcdef").unwrap();
        assert_eq!((crlf.method(), crlf.target(), crlf.body()), ("POST", "/ipn?a=1", &b"abc"[..]));
        let lf = parse_request(b"POST /ipn HTTP/1.1\nContent-Type: text/plain\n\nbody\n").unwrap();
        assert_eq!(lf.body(), b"body\n");
        assert_eq!(lf.header("content-type"), Some("text/plain"));
    }

    #[test]
    fn clear_errors() {
        assert!(matches!(parse_request(b"POST /ipn HTTP/1.1\r\nHost: x\r\n"), Err(CaptureError::Incomplete)));
        assert!(matches!(parse_request(b"\x00\x01 nonsense\r\n\r\n"), Err(CaptureError::Syntax(_))));
        let short = parse_request(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab").unwrap_err();
        assert!(short.to_string().contains("only 2"), "{short}");
        assert!(matches!(parse_request(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"), Err(CaptureError::Length(_))));
        assert!(matches!(
            parse_request(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            Err(CaptureError::Chunked)
        ));
    }
}
