//! `ipn send`: POST a request like the gateway does: success decided by the status alone
//! (PROTOCOLS 1.6), the first 256 bytes of the answer stored, failed deliveries retried, a form
//! retry marked `vads_url_check_src=RETRY` and signed again.

use std::io::Read as _;
use std::time::Duration;

use ipn_core::testkit::{FormBuilder, RawRequest};
use ipn_core::{FormAlgorithm, Secret};

/// How many bytes of an answer the gateway stores.
pub const STORED_BYTES: usize = 256;
/// How long the gateway waits for an answer.
pub const TIMEOUT: Duration = Duration::from_secs(35);
/// Automatic retries after a failed delivery.
pub const DEFAULT_RETRIES: u32 = 4;
/// The gateway retries at the next quarter hour.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Whether a status counts as delivered: 200–206, 301, 302, 303, 307, 308.
pub fn is_delivered(status: u16) -> bool {
    matches!(status, 200..=206 | 301 | 302 | 303 | 307 | 308)
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 1 for the first.
    pub number: u32,
    /// The status received; `None` when the connection failed or timed out.
    pub status: Option<u16>,
    /// The first 256 bytes of the answer, as the gateway stores them (lossy UTF-8).
    pub stored: String,
    /// Why no status was received.
    pub error: Option<String>,
    /// `vads_url_check_src` of the request sent, for form notifications.
    pub source: Option<String>,
}

impl Attempt {
    /// Whether this attempt delivered the notification.
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(is_delivered)
    }

    /// A one-line progress report.
    pub fn progress_line(&self, total: u32, url: &str) -> String {
        let src = self.source.as_deref().map(|s| format!(" [vads_url_check_src={s}]")).unwrap_or_default();
        match (self.status, &self.error) {
            (Some(status), _) => format!(
                "attempt {}/{total}: POST {url}{src} -> {status} {}; stored answer: {:?}",
                self.number,
                if is_delivered(status) { "delivered" } else { "FAILED" },
                self.stored
            ),
            (None, error) => format!(
                "attempt {}/{total}: POST {url}{src} -> FAILED: {}",
                self.number,
                error.as_deref().unwrap_or("no answer")
            ),
        }
    }
}

/// The key to sign form retries with.
#[derive(Debug, Clone)]
pub struct Resign {
    /// The shop key for the notification's mode.
    pub key: Secret,
    /// The shop's algorithm.
    pub algorithm: FormAlgorithm,
}

/// The retry policy.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts after the first.
    pub retries: u32,
    /// The wait between attempts.
    pub interval: Duration,
    /// For form notifications: sign retries again (required to send a form retry).
    pub resign: Option<Resign>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { retries: DEFAULT_RETRIES, interval: DEFAULT_RETRY_INTERVAL, resign: None }
    }
}

/// The outcome of a delivery with its retries.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
}

impl Delivery {
    /// Whether the last attempt delivered the notification.
    pub fn delivered(&self) -> bool {
        self.attempts.last().is_some_and(Attempt::delivered)
    }
}

/// The path and query of an `http://` URL (`/` when it has none); `None` for another scheme.
///
/// ```
/// assert_eq!(ipn_cli::send::url_target("http://127.0.0.1:3000/ipn?x=1"), Some("/ipn?x=1"));
/// assert_eq!(ipn_cli::send::url_target("http://shop.test"), Some("/"));
/// assert_eq!(ipn_cli::send::url_target("https://shop.test/ipn"), None);
/// ```
pub fn url_target(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://")?;
    Some(rest.find('/').map_or("/", |i| &rest[i..]))
}

/// Whether a request is a form notification (its retries must be signed again).
pub fn is_form(request: &RawRequest) -> bool {
    let body = request.body();
    !body.trim_ascii_start().starts_with(b"{") && form_urlencoded::parse(body).any(|(n, _)| n.starts_with("vads_"))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// Headers that describe the connection, not the notification: the client sets its own.
const HOP_HEADERS: [&str; 6] = ["host", "content-length", "connection", "transfer-encoding", "keep-alive", "expect"];

/// One POST of `request` to `url`.
pub fn post_once(url: &str, request: &RawRequest, number: u32) -> Attempt {
    let source =
        form_urlencoded::parse(request.body()).find(|(n, _)| n == "vads_url_check_src").map(|(_, v)| v.into_owned());
    let mut builder = agent().post(url);
    for (name, value) in request.headers() {
        if !HOP_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            builder = builder.header(name.as_str(), value.as_str());
        }
    }
    match builder.send(request.body()) {
        Ok(response) => {
            let status = response.status().as_u16();
            let mut stored = Vec::with_capacity(STORED_BYTES);
            let mut reader = response.into_body().into_reader().take(STORED_BYTES as u64);
            // A body cut short still counts: the status decides.
            let _ = reader.read_to_end(&mut stored);
            Attempt {
                number,
                status: Some(status),
                stored: String::from_utf8_lossy(&stored).into_owned(),
                error: None,
                source,
            }
        }
        Err(e) => Attempt { number, status: None, stored: String::new(), error: Some(e.to_string()), source },
    }
}

/// The request of the next retry: for a form notification, `vads_url_check_src=RETRY` and a
/// fresh signature; other schemes are sent again unchanged.
///
/// # Errors
///
/// A form notification without a key to sign it, or whose body does not decode.
pub fn retry_request(request: &RawRequest, resign: Option<&Resign>) -> Result<RawRequest, String> {
    if !is_form(request) {
        return Ok(request.clone());
    }
    let resign = resign.ok_or("a form retry must be signed again: give --config with the shop's key")?;
    let builder = FormBuilder::from_request(request).map_err(|e| e.to_string())?.set("vads_url_check_src", "RETRY");
    let mut retry = builder.sign(resign.key.expose(), resign.algorithm);
    for (name, value) in request.headers() {
        if retry.header(name).is_none() && !HOP_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
            retry.set_header(name, value.as_str());
        }
    }
    Ok(retry)
}

/// Delivers with retries, calling `progress` after each attempt.
///
/// # Errors
///
/// A retry that cannot be prepared (see [`retry_request`]); the attempts made so far are lost
/// only in that case, which `ipn send` prevents by checking before the first attempt.
pub fn deliver(
    url: &str,
    request: &RawRequest,
    policy: &RetryPolicy,
    mut progress: impl FnMut(&Attempt),
) -> Result<Delivery, String> {
    let mut attempts = Vec::new();
    let mut current = request.clone();
    for number in 1..=policy.retries.saturating_add(1) {
        if number > 1 {
            std::thread::sleep(policy.interval);
            current = retry_request(request, policy.resign.as_ref())?;
        }
        let attempt = post_once(url, &current, number);
        progress(&attempt);
        let delivered = attempt.delivered();
        attempts.push(attempt);
        if delivered {
            break;
        }
    }
    Ok(Delivery { attempts })
}

/// Parses a duration: a number and a unit (`ms`, `s`, `m`, `h`), possibly several (`1m30s`).
///
/// # Errors
///
/// Not a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration (examples: 15m, 30s, 200ms, 1h)");
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let value: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(value.saturating_mul(60)),
            "h" => Duration::from_secs(value.saturating_mul(3600)),
            _ => return Err(bad()),
        };
        total = total.saturating_add(unit);
        rest = &rest[unit_len..];
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_statuses_are_the_documented_ones() {
        let delivered: Vec<u16> = (100..600).filter(|s| is_delivered(*s)).collect();
        assert_eq!(delivered, [200, 201, 202, 203, 204, 205, 206, 301, 302, 303, 307, 308]);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        for bad in ["", "15", "m", "1x", "-1s", "1.5s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
