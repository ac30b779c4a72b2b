//! Shared pieces of the fuzz targets: a key store that answers every slot with one key (so that a
//! fuzzed shop id or application id still reaches the signature check and, when the target signs
//! its input itself, the typing behind it), a tolerant request splitter, and a blocking executor.

use std::time::Duration;

use ipn_core::{
    Credentials, FixedClock, FormAlgorithm, KeySlot, KeyStore, KeyStoreError, Notification, RequestView, Secret,
    Verifier, async_trait,
};

/// The key of every slot.
pub const KEY: &[u8] = b"fuzz-key-1122334455667788";

/// Answers every slot with [`KEY`], accepting TEST mode, with the form algorithm chosen.
#[derive(Debug, Clone, Copy)]
pub struct AnyKey(pub FormAlgorithm);

#[async_trait]
impl KeyStore for AnyKey {
    async fn credentials(&self, _slot: KeySlot<'_>) -> Result<Option<Credentials>, KeyStoreError> {
        let secrets: Vec<Secret> = vec![Secret::new(KEY)];
        Ok(Some(Credentials::new(secrets).form_algorithm(self.0).accept_test_mode(true)))
    }
}

/// The instant the link targets verify at (the seeds are dated there).
pub const NOW: &str = "Thu, 01 Dec 2022 19:08:22 GMT";

/// A verifier over [`AnyKey`], test mode accepted, at [`NOW`]; `wide_window` lifts the `Date`
/// window so that a fuzzed date still reaches the digest and the HMAC.
pub fn verifier(algorithm: FormAlgorithm, wide_window: bool) -> Verifier {
    let clock = FixedClock::from_http_date(NOW).expect("NOW is an HTTP date");
    let verifier = Verifier::new(AnyKey(algorithm)).accept_test_mode(true).clock(clock);
    if wide_window { verifier.max_clock_skew(Duration::from_secs(1 << 40)) } else { verifier }
}

/// Verifies and, on success, touches every accessor a handler would (they must not panic).
pub fn verify(verifier: &Verifier, request: RequestView<'_>) -> Result<Notification, ipn_core::Error> {
    let result = pollster::block_on(verifier.verify(request));
    match &result {
        Ok(n) => {
            let _ = (n.scheme(), n.merchant_id(), n.mode(), n.order_id(), n.transaction_id(), n.amount());
            let _ = (n.status(), n.status_class(), n.nature(), n.fingerprint());
            let _ = format!("{n:?}");
        }
        Err(e) => {
            let _ = (e.outcome(), e.to_string(), format!("{e:?}"));
        }
    }
    result
}

/// A request cut out of arbitrary bytes, without any HTTP syntax rule: the first line is
/// `METHOD TARGET`, then `name: value` lines up to an empty line, then the body. Header values
/// stay bytes (they may be anything but `\n`).
#[derive(Debug, Clone)]
pub struct Split {
    /// The method.
    pub method: String,
    /// The target.
    pub target: String,
    /// The headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Split {
    /// Cuts `data`; `None` when the request line or a header name is not UTF-8.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let mut rest = data;
        let mut line = || -> Option<&[u8]> {
            let end = rest.iter().position(|&b| b == b'\n')?;
            let (line, tail) = rest.split_at(end);
            rest = &tail[1..];
            Some(line.strip_suffix(b"\r").unwrap_or(line))
        };
        let request_line = std::str::from_utf8(line()?).ok()?;
        let (method, target) = request_line.split_once(' ').unwrap_or((request_line, "/"));
        let mut headers = Vec::new();
        loop {
            let Some(header) = line() else { break };
            if header.is_empty() {
                break;
            }
            let colon = header.iter().position(|&b| b == b':').unwrap_or(header.len());
            let name = std::str::from_utf8(&header[..colon]).ok()?.trim().to_owned();
            let value = header.get(colon + 1..).unwrap_or_default();
            headers.push((name, value.trim_ascii_start().to_vec()));
        }
        Some(Self { method: method.to_owned(), target: target.to_owned(), headers, body: rest.to_vec() })
    }

    /// The request view.
    pub fn view(&self) -> RequestView<'_> {
        RequestView::new(&self.method, &self.target, &self.headers, &self.body)
    }

    /// Replaces every instance of a header by one value (or removes it with `None`).
    pub fn set_header(&mut self, name: &str, value: Option<Vec<u8>>) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        if let Some(value) = value {
            self.headers.push((name.to_owned(), value));
        }
    }

    /// Serializes back to the format [`Split::parse`] reads (for seeds).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {}\n", self.method, self.target).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }
}
