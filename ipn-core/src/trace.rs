//! What every adapter tells `tracing` about a delivery, so that logs read the same whatever the
//! framework: one `ipn` span per request, its fields, the rejection warning and the end event.

use std::time::Instant;

use tracing::Span;
use tracing::field::{Empty, debug};

use crate::notification::Notification;
use crate::receiver::Rejected;
use crate::reply::Outcome;
use crate::text::printable;
pub use crate::text::{MAX_PRINTED_CHARS, Printable};

/// One delivery's `ipn` span (at info level) and its start time.
///
/// The span's fields: `scheme`, `merchant_id`, `order_id`, `transaction_id` (recorded from the
/// verified notification), `outcome`, `status`, `duration_ms` (recorded when the reply is known).
/// A rejection is a warning carrying the outcome and the core error's message, which never holds
/// a secret nor a signature; the end is an info event `notification answered`. Every value that
/// came from the request is [`Printable`]: one event is one line, whatever was received.
///
/// ```
/// use ipn_core::{Keys, Outcome, Receiver, Verifier, trace::Trace};
/// let receiver = Receiver::new(Verifier::new(Keys::default()));
/// let trace = Trace::start();
/// let refused = receiver.precheck("GET", None, None).unwrap_err();
/// trace.rejected(&refused);
/// trace.answered(Some(refused.error.outcome()), refused.reply.status());
/// ```
#[derive(Debug, Clone)]
pub struct Trace {
    span: Span,
    // `None` when the span is disabled (no subscriber wants it): `duration_ms` is never recorded
    // then, so the clock is not read.
    started: Option<Instant>,
}

impl Trace {
    /// Opens the `ipn` span, fields empty, and starts the clock.
    pub fn start() -> Self {
        let span = tracing::info_span!(
            "ipn",
            scheme = Empty,
            merchant_id = Empty,
            order_id = Empty,
            transaction_id = Empty,
            outcome = Empty,
            status = Empty,
            duration_ms = Empty,
        );
        let started = (!span.is_disabled()).then(Instant::now);
        Self { span, started }
    }

    /// The span, for adapters to enter or instrument their future with.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Records the verified notification's scheme, merchant, order and transaction.
    pub fn notification(&self, notification: &Notification) {
        // A disabled span (no subscriber wants it) records nothing: skip reading the fields.
        if !self.span.is_disabled() {
            self.span.record("scheme", notification.scheme().as_str());
            // Authenticated, yet written by whoever filled the payment form: printed escaped.
            self.span.record("merchant_id", &*printable(notification.merchant_id()));
            if let Some(order_id) = notification.order_id() {
                self.span.record("order_id", &*printable(order_id));
            }
            if let Some(transaction_id) = notification.transaction_id() {
                self.span.record("transaction_id", &*printable(transaction_id));
            }
        }
        tracing::debug!(parent: &self.span, "notification verified; calling the handler");
    }

    /// A warning for a request refused before the handler ran.
    pub fn rejected(&self, rejected: &Rejected) {
        let outcome = rejected.error.outcome();
        // Core errors never carry a secret nor a computed or received signature, and print
        // received text escaped.
        if outcome.is_acknowledged() {
            // A duplicate answered from the store: expected, not a refusal.
            tracing::info!(parent: &self.span, ?outcome, "notification answered without calling the handler");
        } else {
            tracing::warn!(parent: &self.span, ?outcome, error = %rejected.error, "notification rejected");
        }
    }

    /// Records the outcome (when known), the status and the duration, then the end event.
    pub fn answered(&self, outcome: Option<Outcome>, status: u16) {
        if let Some(started) = self.started {
            if let Some(outcome) = outcome {
                self.span.record("outcome", debug(outcome));
            }
            self.span.record("status", status);
            self.span.record("duration_ms", u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        tracing::info!(parent: &self.span, status, outcome = outcome.map(debug), "notification answered");
    }
}
