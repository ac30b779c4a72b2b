//! One reply vocabulary: every outcome of a delivery maps to one HTTP status and one short stage
//! message, which the gateway stores (it keeps the first 256 bytes of the response).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// The gateway stores at most this many bytes of a response body.
pub const MAX_REPLY_BYTES: usize = 256;

/// Every way a delivery can end. Each maps to a [`Reply`] through [`Replies`].
///
/// The policy: a notification that could not be processed gets a non-2xx status, so the gateway
/// retries it and nothing is lost; a processed one, or a duplicate of a processed one, gets 2xx,
/// so the gateway stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The notification was read and authenticated (`200 Data received.`).
    Received,
    /// The body was empty, often a redirect that lost the POST (`400 POST is empty.`).
    EmptyPost,
    /// The request was not a POST (`405`).
    MethodNotAllowed,
    /// The content type is not one a gateway sends (`415`).
    UnsupportedMediaType,
    /// The body exceeded the configured limit (`413`).
    BodyTooLarge,
    /// The body did not arrive within the read timeout (`408`: the gateway retries).
    RequestTimeout,
    /// The body is not a notification of any known scheme, or is malformed (`400`).
    Malformed,
    /// No key is configured for the shop or application (`403`).
    UnknownShop,
    /// The signature did not verify (`401 An error occurred while computing the signature.`).
    BadSignature,
    /// The signed `Date` is outside the accepted window: a replay or a skewed clock (`401`).
    StaleRequest,
    /// An authentic TEST-mode notification refused by policy (`403`).
    TestModeRefused,
    /// A browser return posted to the IPN endpoint, or the reverse (`400`).
    WrongEndpoint,
    /// The handler updated the order (`200 Order successfully updated.`).
    Processed,
    /// The notification was processed before; nothing was done again (`200`).
    AlreadyProcessed,
    /// Another delivery of the same notification is being processed right now (`409`: retry).
    InProgress,
    /// The handler failed (`500 An error occurred while updating the order.`: the gateway retries).
    ProcessingFailed,
    /// The key store or notification store could not be reached (`503`: the gateway retries).
    StoreUnavailable,
    /// The gateway's REST API contradicts the form notification: forged or re-labelled (`401`).
    NotConfirmed,
    /// The gateway's REST API could not confirm the notification now (`503`: the gateway retries).
    GatewayUnavailable,
}

impl Outcome {
    /// Every outcome, for tables and tests.
    pub const ALL: [Outcome; 19] = [
        Outcome::Received,
        Outcome::EmptyPost,
        Outcome::MethodNotAllowed,
        Outcome::UnsupportedMediaType,
        Outcome::BodyTooLarge,
        Outcome::RequestTimeout,
        Outcome::Malformed,
        Outcome::UnknownShop,
        Outcome::BadSignature,
        Outcome::StaleRequest,
        Outcome::TestModeRefused,
        Outcome::WrongEndpoint,
        Outcome::Processed,
        Outcome::AlreadyProcessed,
        Outcome::InProgress,
        Outcome::ProcessingFailed,
        Outcome::StoreUnavailable,
        Outcome::NotConfirmed,
        Outcome::GatewayUnavailable,
    ];

    /// The default HTTP status.
    pub const fn default_status(self) -> u16 {
        match self {
            Outcome::Received | Outcome::Processed | Outcome::AlreadyProcessed => 200,
            Outcome::EmptyPost | Outcome::Malformed | Outcome::WrongEndpoint => 400,
            Outcome::BadSignature | Outcome::StaleRequest | Outcome::NotConfirmed => 401,
            Outcome::UnknownShop | Outcome::TestModeRefused => 403,
            Outcome::MethodNotAllowed => 405,
            Outcome::RequestTimeout => 408,
            Outcome::InProgress => 409,
            Outcome::BodyTooLarge => 413,
            Outcome::UnsupportedMediaType => 415,
            Outcome::ProcessingFailed => 500,
            Outcome::StoreUnavailable | Outcome::GatewayUnavailable => 503,
        }
    }

    /// The default stage message (the documented ones where the gateways document one).
    pub const fn default_message(self) -> &'static str {
        match self {
            Outcome::Received => "Data received.",
            Outcome::EmptyPost => "POST is empty.",
            Outcome::MethodNotAllowed => "Notifications must be sent with POST.",
            Outcome::UnsupportedMediaType => "Unsupported content type for a notification.",
            Outcome::BodyTooLarge => "Notification body too large.",
            Outcome::RequestTimeout => "Timed out reading the notification body.",
            Outcome::Malformed => "Invalid IPN request received.",
            Outcome::UnknownShop => "Unknown shop or application: no key configured.",
            Outcome::BadSignature => "An error occurred while computing the signature.",
            Outcome::StaleRequest => "Request date outside the accepted window.",
            Outcome::TestModeRefused => "TEST mode notifications are not accepted.",
            Outcome::WrongEndpoint => "Notification sent to the wrong endpoint.",
            Outcome::Processed => "Order successfully updated.",
            Outcome::AlreadyProcessed => "Notification already processed.",
            Outcome::InProgress => "Notification being processed; retry later.",
            Outcome::ProcessingFailed => "An error occurred while updating the order.",
            Outcome::StoreUnavailable => "Service unavailable; retry later.",
            Outcome::NotConfirmed => "Notification not confirmed by the payment gateway.",
            Outcome::GatewayUnavailable => "Payment gateway API unavailable; retry later.",
        }
    }

    /// Whether the gateway counts this outcome as delivered (2xx): it will not retry.
    pub fn is_acknowledged(self) -> bool {
        (200..300).contains(&self.default_status())
    }
}

/// What the server answers: an HTTP status and a body of at most [`MAX_REPLY_BYTES`] bytes, sent
/// as `text/plain; charset=utf-8`.
///
/// ```
/// use ipn_core::Reply;
/// let reply = Reply::order_updated();
/// assert_eq!((reply.status(), reply.body()), (200, "Order successfully updated."));
/// let long = Reply::new(500, "é".repeat(200));
/// assert!(long.body().len() <= 256);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    status: u16,
    body: Cow<'static, str>,
}

impl Reply {
    /// The content type every reply is sent with.
    pub const CONTENT_TYPE: &'static str = "text/plain; charset=utf-8";

    /// A reply with any status and message; the message is cut to 256 bytes on a character
    /// boundary. A status outside 100..=999 becomes 500.
    pub fn new(status: u16, body: impl Into<Cow<'static, str>>) -> Self {
        let status = if (100..=999).contains(&status) { status } else { 500 };
        Self { status, body: truncate(body.into()) }
    }

    /// The default reply for an outcome.
    pub const fn for_outcome(outcome: Outcome) -> Self {
        Self { status: outcome.default_status(), body: Cow::Borrowed(outcome.default_message()) }
    }

    /// `200 Order successfully updated.`
    pub const fn order_updated() -> Self {
        Self::for_outcome(Outcome::Processed)
    }

    /// `200 Notification already processed.`
    pub const fn already_processed() -> Self {
        Self::for_outcome(Outcome::AlreadyProcessed)
    }

    /// `500 An error occurred while updating the order.` (the gateway retries).
    pub const fn update_failed() -> Self {
        Self::for_outcome(Outcome::ProcessingFailed)
    }

    /// `200 Data received.`
    pub const fn received() -> Self {
        Self::for_outcome(Outcome::Received)
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body text (at most 256 bytes).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The body when it is a `&'static str` (the default messages, overrides given as literals),
    /// so that adapters can send it without copying.
    pub fn static_body(&self) -> Option<&'static str> {
        match self.body {
            Cow::Borrowed(body) => Some(body),
            Cow::Owned(_) => None,
        }
    }

    /// Whether the gateway will count this reply as delivered (it retries otherwise).
    pub fn is_acknowledged(&self) -> bool {
        matches!(self.status, 200..=206 | 301 | 302 | 303 | 307 | 308)
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reply({} {:?})", self.status, self.body)
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

fn truncate(body: Cow<'static, str>) -> Cow<'static, str> {
    if body.len() <= MAX_REPLY_BYTES {
        return body;
    }
    let mut end = MAX_REPLY_BYTES;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    match body {
        Cow::Borrowed(s) => Cow::Borrowed(&s[..end]),
        Cow::Owned(mut s) => {
            s.truncate(end);
            Cow::Owned(s)
        }
    }
}

/// The reply table: the default status and message of every [`Outcome`], with the user's
/// overrides.
///
/// ```
/// use ipn_core::{Outcome, Replies};
/// let replies = Replies::default().set(Outcome::Processed, 200, "OK-Accepted payment, order has been updated.");
/// assert_eq!(replies.reply(Outcome::Processed).body(), "OK-Accepted payment, order has been updated.");
/// assert_eq!(replies.reply(Outcome::EmptyPost).status(), 400);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Replies {
    overrides: HashMap<Outcome, Reply>,
}

impl Replies {
    /// Overrides the status and message of one outcome (the message is cut to 256 bytes).
    pub fn set(mut self, outcome: Outcome, status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        self.overrides.insert(outcome, Reply::new(status, message));
        self
    }

    /// The reply for an outcome.
    pub fn reply(&self, outcome: Outcome) -> Reply {
        self.overrides.get(&outcome).cloned().unwrap_or(Reply::for_outcome(outcome))
    }

    /// The override of an outcome's reply, if one is set.
    pub fn overridden(&self, outcome: Outcome) -> Option<&Reply> {
        self.overrides.get(&outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_reply_fits_and_follows_the_retry_policy() {
        for outcome in Outcome::ALL {
            let reply = Reply::for_outcome(outcome);
            assert!(reply.body().len() <= MAX_REPLY_BYTES, "{outcome:?}");
            assert!(!reply.body().is_empty());
            let acknowledged = matches!(outcome, Outcome::Received | Outcome::Processed | Outcome::AlreadyProcessed);
            assert_eq!(reply.is_acknowledged(), acknowledged, "{outcome:?}");
            assert_eq!(outcome.is_acknowledged(), acknowledged, "{outcome:?}");
        }
    }

    #[test]
    fn documented_stage_messages() {
        assert_eq!(Reply::received().body(), "Data received.");
        assert_eq!(Reply::for_outcome(Outcome::EmptyPost).body(), "POST is empty.");
        assert_eq!(
            Reply::for_outcome(Outcome::BadSignature).body(),
            "An error occurred while computing the signature."
        );
        assert_eq!(Reply::order_updated().body(), "Order successfully updated.");
        assert_eq!(Reply::update_failed().body(), "An error occurred while updating the order.");
        assert_eq!(Reply::update_failed().status(), 500);
        assert_eq!(Reply::order_updated().static_body(), Some("Order successfully updated."));
        assert_eq!(Reply::new(200, String::from("owned")).static_body(), None);
    }

    #[test]
    fn long_messages_are_cut_on_a_char_boundary_at_256_bytes() {
        for len in [255, 256, 257, 1000] {
            let ascii = Reply::new(200, "a".repeat(len));
            assert_eq!(ascii.body().len(), len.min(256));
        }
        // 3-byte characters: 85 * 3 = 255 fits, the 86th would cross 256.
        let wide = Reply::new(200, "€".repeat(100));
        assert_eq!(wide.body().len(), 255);
        assert!(wide.body().chars().all(|c| c == '€'));
        let borrowed = Reply::new(200, Cow::Borrowed(&*"é".repeat(300).leak()));
        assert_eq!(borrowed.body().len(), 256);
    }

    #[test]
    fn overrides_apply_to_one_outcome() {
        let replies = Replies::default().set(Outcome::BadSignature, 403, "KO-Invalid IPN request received.");
        assert_eq!(replies.reply(Outcome::BadSignature).status(), 403);
        assert_eq!(replies.reply(Outcome::UnknownShop), Reply::for_outcome(Outcome::UnknownShop));
        assert_eq!(replies.overridden(Outcome::BadSignature).map(Reply::status), Some(403));
        assert_eq!(replies.overridden(Outcome::UnknownShop), None);
        assert_eq!(Reply::new(42, "x").status(), 500);
    }
}
