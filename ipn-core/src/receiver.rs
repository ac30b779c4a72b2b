//! Everything a web adapter needs to receive a notification, so that the adapters stay thin
//! twins: the [`Verifier`], the reply table, and the steps in the order every request takes them.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::fingerprint::Fingerprint;
use crate::notification::Notification;
use crate::reply::{Outcome, Replies, Reply};
use crate::request::{RequestView, media_type_of};
use crate::store::{Claim, ClaimToken, NotificationStore};
use crate::verifier::Verifier;

/// A request refused before the handler ran: the error (for logs) and the reply to write.
#[derive(Debug)]
pub struct Rejected {
    /// Why, in detail. Never shown to the gateway as is.
    pub error: Error,
    /// The status and message to answer.
    pub reply: Reply,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.error, self.reply)
    }
}

impl std::error::Error for Rejected {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// How long reading a request's body may take by default: 10 s, well inside the gateway's 35 s
/// timeout, so a stalled or endless stream cannot hold a connection and its buffer.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a claim is held by default: 60 s, longer than the gateway's 35 s timeout, so a
/// delivery still being processed is not taken over by the gateway's retry.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);
/// The most a [`BodyBuffer`] reserves up front, whatever the client announces.
pub const MAX_RESERVED_BYTES: usize = 64 * 1024;

/// One request's body being read, chunk by chunk, under the receiver's limit: the one buffering
/// mechanism both adapters use. Built by [`Receiver::body_buffer`].
///
/// ```
/// use ipn_core::{Keys, Outcome, Receiver, Verifier};
/// let receiver = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(8));
/// let mut buffer = receiver.body_buffer(Some(u64::MAX));
/// buffer.push(b"vads_").unwrap();
/// assert_eq!(buffer.len(), 5);
/// let refused = buffer.push(b"amount").unwrap_err();
/// assert_eq!((refused.error.outcome(), refused.reply.status()), (Outcome::BodyTooLarge, 413));
///
/// let mut buffer = receiver.body_buffer(None);
/// buffer.push(b"a=1").unwrap();
/// assert_eq!(buffer.finish(), b"a=1");
/// ```
#[derive(Debug)]
pub struct BodyBuffer {
    bytes: Vec<u8>,
    // Reserved on the first chunk, so that a body kept as one chunk by a [`ChunkBuffer`] never
    // allocates.
    reserve: usize,
    limit: usize,
    // The receiver's reply for an oversized body, overrides included.
    too_large: Reply,
    // Once the limit is crossed the buffer refuses every chunk.
    exceeded: bool,
}

impl BodyBuffer {
    /// Appends a chunk.
    ///
    /// # Errors
    ///
    /// [`Error::BodyTooLarge`] (with the receiver's reply, `413` by default) as soon as the body
    /// would exceed the limit; the chunk is not kept, and the caller should stop reading.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Rejected> {
        self.admit(chunk.len())?;
        if self.bytes.capacity() == 0 {
            self.bytes.reserve_exact(self.reserve.max(chunk.len()));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Whether `len` more bytes fit under the limit; once refused, always refused.
    fn admit(&mut self, len: usize) -> Result<(), Rejected> {
        if !self.exceeded && len <= self.limit - self.bytes.len() {
            return Ok(());
        }
        self.exceeded = true;
        Err(Rejected { error: Error::BodyTooLarge { limit: self.limit }, reply: self.too_large.clone() })
    }

    /// The bytes read so far.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing was read yet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The whole body (adapters turn it into `Bytes` without copying).
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

/// A body read as the shared chunks a framework hands out (`Bytes`), under the receiver's limit:
/// while the body is one chunk (a notification usually arrives with its headers) that chunk is
/// kept as it is, without copying; a second chunk joins them in a [`BodyBuffer`]. Built by
/// [`Receiver::chunk_buffer`].
///
/// ```
/// use ipn_core::adapter::Buffered;
/// use ipn_core::{Keys, Receiver, Verifier};
/// let receiver = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(8));
/// let mut one = receiver.chunk_buffer(Some(3));
/// one.push(&b"a=1"[..]).unwrap();
/// assert!(matches!(one.finish(), Buffered::Chunk(b"a=1")));
///
/// let mut two = receiver.chunk_buffer(None);
/// two.push(&b"a=1"[..]).unwrap();
/// two.push(&b"&b=2"[..]).unwrap();
/// assert!(two.push(&b"&c=3"[..]).is_err());
///
/// let mut joined = receiver.chunk_buffer::<Vec<u8>>(None);
/// joined.push(b"a=1".to_vec()).unwrap();
/// joined.push(b"&b=2".to_vec()).unwrap();
/// assert_eq!(joined.finish().into_chunk(), b"a=1&b=2");
/// ```
#[derive(Debug)]
pub struct ChunkBuffer<C> {
    single: Option<C>,
    joined: BodyBuffer,
}

/// A whole body read by a [`ChunkBuffer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Buffered<C> {
    /// Nothing was read.
    Empty,
    /// The body arrived as this one chunk.
    Chunk(C),
    /// The chunks, joined.
    Joined(Vec<u8>),
}

impl<C: From<Vec<u8>> + Default> Buffered<C> {
    /// The whole body as one chunk of the framework's type: the chunk itself, the joined bytes
    /// turned into one (without copying, for `Bytes`), or an empty one.
    pub fn into_chunk(self) -> C {
        match self {
            Buffered::Chunk(chunk) => chunk,
            Buffered::Joined(bytes) => C::from(bytes),
            Buffered::Empty => C::default(),
        }
    }
}

impl<C: AsRef<[u8]>> ChunkBuffer<C> {
    /// Appends a chunk.
    ///
    /// # Errors
    ///
    /// As [`BodyBuffer::push`]: [`Error::BodyTooLarge`] as soon as the body would exceed the limit.
    pub fn push(&mut self, chunk: C) -> Result<(), Rejected> {
        if chunk.as_ref().is_empty() {
            return self.joined.admit(0);
        }
        if self.single.is_none() && self.joined.is_empty() {
            self.joined.admit(chunk.as_ref().len())?;
            self.single = Some(chunk);
            return Ok(());
        }
        if let Some(first) = self.single.take() {
            self.joined.push(first.as_ref())?;
        }
        self.joined.push(chunk.as_ref())
    }

    /// Appends a borrowed chunk, copied (a frame that is not one shared chunk).
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push).
    pub fn push_slice(&mut self, chunk: &[u8]) -> Result<(), Rejected> {
        if let Some(first) = self.single.take() {
            self.joined.push(first.as_ref())?;
        }
        self.joined.push(chunk)
    }

    /// The bytes read so far.
    pub fn len(&self) -> usize {
        self.single.as_ref().map_or(self.joined.len(), |chunk| chunk.as_ref().len())
    }

    /// Whether nothing was read yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole body.
    pub fn finish(self) -> Buffered<C> {
        match self.single {
            Some(chunk) => Buffered::Chunk(chunk),
            None if self.joined.is_empty() => Buffered::Empty,
            None => Buffered::Joined(self.joined.finish()),
        }
    }
}

/// The adapters' shared core: verify, then map every outcome to its reply.
///
/// Each option is set once, where it belongs: what is accepted on the [`Verifier`], how
/// deliveries are answered and recorded here (replies, store, lease, read timeout). The web
/// adapters (`ipn-tower`, `ipn-actix`) are built from a receiver (or a verifier) and add none. Around the handler they call [`admit`](Self::admit) and
/// [`complete`](Self::complete), which do the exactly-once bookkeeping when a
/// [`store`](Self::store) is set.
///
/// ```
/// use ipn_core::{Keys, Outcome, Receiver, Verifier};
/// let receiver = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(16 * 1024))
///     .reply(Outcome::Processed, 200, "OK-Accepted payment, order has been updated.");
/// assert_eq!(receiver.max_body_bytes_limit(), 16 * 1024);
/// let refused = receiver.precheck("GET", None, None).unwrap_err();
/// assert_eq!(refused.reply.status(), 405);
/// ```
#[derive(Debug, Clone)]
pub struct Receiver {
    verifier: Verifier,
    replies: Replies,
    store: Option<Arc<dyn NotificationStore>>,
    lease: Duration,
    read_timeout: Duration,
}

impl From<Verifier> for Receiver {
    fn from(verifier: Verifier) -> Self {
        Receiver::new(verifier)
    }
}

impl Receiver {
    /// A receiver with the default replies and no notification store.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            verifier,
            replies: Replies::default(),
            store: None,
            lease: DEFAULT_LEASE,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }

    /// How long the whole body may take to arrive, counted from the start of reading
    /// ([`DEFAULT_READ_TIMEOUT`]). The adapters stop reading when it expires and answer
    /// [`Outcome::RequestTimeout`] (`408`, the gateway retries): a stalled or endless stream
    /// without `Content-Length` cannot hold a connection. It is a deadline, not an idle timeout,
    /// so a byte every few seconds does not keep a request alive.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The read timeout in force (see [`read_timeout`](Self::read_timeout)).
    pub fn read_timeout_limit(&self) -> Duration {
        self.read_timeout
    }

    /// The rejection of a body that did not arrive within the read timeout:
    /// [`Error::ReadTimeout`], answered `408`.
    pub fn body_timed_out(&self) -> Rejected {
        self.reject(Error::ReadTimeout { timeout_ms: self.read_timeout.as_millis() })
    }

    /// Processes each notification once: claims it in this store before the handler runs
    /// (see [`admit`](Self::admit)). Pass an `Arc` to share one store between receivers.
    ///
    /// How long records are kept is the store's setting (its `retention`, 7 days by default).
    pub fn store(mut self, store: impl NotificationStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// How long a claim is held before another delivery may take it over ([`DEFAULT_LEASE`]).
    /// Make it longer than the handler can take.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Overrides the status and message of one outcome.
    pub fn reply(mut self, outcome: Outcome, status: u16, message: impl Into<Cow<'static, str>>) -> Self {
        self.replies = self.replies.set(outcome, status, message);
        self
    }

    /// Replaces the whole reply table.
    pub fn replies(mut self, replies: Replies) -> Self {
        self.replies = replies;
        self
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The notification store, if any.
    pub fn notification_store(&self) -> Option<&Arc<dyn NotificationStore>> {
        self.store.as_ref()
    }

    /// The body limit in force.
    pub fn max_body_bytes_limit(&self) -> usize {
        self.verifier.policy().max_body_bytes()
    }

    /// The reply for an outcome, overrides applied.
    pub fn reply_for(&self, outcome: Outcome) -> Reply {
        self.replies.reply(outcome)
    }

    /// The override of an outcome's reply, if one is set: the adapters rewrite a handler's reply
    /// for that outcome only then (otherwise it already is the default reply).
    pub fn reply_override(&self, outcome: Outcome) -> Option<&Reply> {
        self.replies.overridden(outcome)
    }

    /// Wraps an error with its reply.
    pub fn reject(&self, error: Error) -> Rejected {
        let reply = self.replies.reply(error.outcome());
        Rejected { error, reply }
    }

    /// What can be refused before reading the body: method, content type (the raw header
    /// value), declared length.
    ///
    /// # Errors
    ///
    /// The rejection to answer.
    pub fn precheck(
        &self,
        method: &str,
        content_type: Option<&[u8]>,
        content_length: Option<u64>,
    ) -> Result<(), Rejected> {
        let media_type = content_type.map(media_type_of);
        self.verifier.precheck(method, media_type.as_deref(), content_length).map_err(|e| self.reject(e))
    }

    /// A buffer for one request's body, enforcing the limit while reading.
    ///
    /// `size_hint` is what the client announced (`Content-Length`, a body's size hint): it only
    /// sizes the first reservation, never more than the limit nor than [`MAX_RESERVED_BYTES`].
    pub fn body_buffer(&self, size_hint: Option<u64>) -> BodyBuffer {
        let limit = self.max_body_bytes_limit();
        let reserve =
            size_hint.map_or(0, |hint| usize::try_from(hint).unwrap_or(usize::MAX)).min(limit).min(MAX_RESERVED_BYTES);
        let too_large = self.reply_for(Outcome::BodyTooLarge);
        BodyBuffer { bytes: Vec::new(), reserve, limit, too_large, exceeded: false }
    }

    /// A buffer for one request's body read as shared chunks (`Bytes`), enforcing the limit
    /// while reading; a body that arrives in one chunk is not copied. `size_hint` as for
    /// [`body_buffer`](Self::body_buffer), used once a second chunk arrives.
    pub fn chunk_buffer<C: AsRef<[u8]>>(&self, size_hint: Option<u64>) -> ChunkBuffer<C> {
        ChunkBuffer { single: None, joined: self.body_buffer(size_hint) }
    }

    /// The rejection of a body that could not be read to its end (the client went away, the
    /// stream broke): [`Error::BodyUnreadable`], answered with the malformed reply.
    pub fn body_unreadable(&self, reason: impl fmt::Display) -> Rejected {
        self.reject(Error::BodyUnreadable { reason: crate::text::printable_owned(reason.to_string()) })
    }

    /// Verifies a buffered request.
    ///
    /// # Errors
    ///
    /// The rejection to answer.
    pub async fn receive(&self, request: RequestView<'_>) -> Result<Notification, Rejected> {
        self.verifier.verify(request).await.map_err(|e| self.reject(e))
    }

    /// Verifies a buffered request, then claims its notification before the handler runs: the
    /// first of the two steps an adapter takes around the handler ([`complete`](Self::complete)
    /// is the second).
    ///
    /// Without a store, the [`Delivery`] does nothing. With one:
    ///
    /// - won the claim: the [`Delivery`] to pass to [`complete`](Self::complete) once the handler
    ///   answered;
    /// - processed before: rejected with [`Error::AlreadyProcessed`] and the reply recorded then
    ///   (2xx, so the gateway stops);
    /// - being processed by another delivery: [`Error::InProgress`], `409` (the gateway retries);
    /// - store unreachable: [`Error::Store`], `503`. The handler must not run: nothing is processed
    ///   without being recorded.
    ///
    /// # Errors
    ///
    /// The rejection to answer instead of calling the handler.
    pub async fn admit(&self, request: RequestView<'_>) -> Result<(Notification, Delivery), Rejected> {
        let notification = self.receive(request).await?;
        let Some(store) = &self.store else { return Ok((notification, Delivery { claim: None })) };
        let fingerprint = notification.fingerprint();
        let delivery = self.claimed(fingerprint, store.claim(fingerprint, self.lease).await)?;
        Ok((notification, delivery))
    }

    fn claimed(
        &self,
        fingerprint: Fingerprint,
        claim: Result<Claim, crate::store::StoreError>,
    ) -> Result<Delivery, Rejected> {
        match claim {
            Ok(Claim::Acquired(token)) => Ok(Delivery { claim: Some((fingerprint, token)) }),
            Ok(Claim::Done(reply)) => {
                tracing::debug!(%fingerprint, "duplicate notification: replaying the recorded reply");
                Err(Rejected { error: Error::AlreadyProcessed { fingerprint }, reply })
            }
            Ok(Claim::InProgress) => {
                tracing::debug!(%fingerprint, "notification claimed by another delivery");
                Err(self.reject(Error::InProgress { fingerprint }))
            }
            Err(error) => {
                tracing::warn!(%fingerprint, error = %error, source = ?std::error::Error::source(&error).map(ToString::to_string), "notification store unavailable");
                Err(self.reject(Error::Store(error)))
            }
        }
    }

    /// Records how the handler ended, the second step around the handler: an acknowledged status
    /// ([`Reply::is_acknowledged`]: 2xx) completes the claim with the reply of the handler's
    /// outcome (overrides included; the [`Outcome::Processed`] one when it is unknown), so a
    /// duplicate gets the same answer; any other status releases it, so the gateway's retry is
    /// processed. Without a claim it does nothing.
    ///
    /// Store errors are logged (`tracing` warning), not returned: the reply is already decided.
    /// A completion that could not be recorded leaves the claim until its lease expires, after
    /// which a retry or replay may be processed again, so handlers should stay idempotent on
    /// their own data too (for example: update an order only from "pending").
    pub async fn complete(&self, delivery: Delivery, status: u16, outcome: Option<Outcome>) {
        let (Some(store), Some((fingerprint, token))) = (&self.store, delivery.claim) else { return };
        Self::record(&**store, fingerprint, token, self.recorded_reply(status, outcome)).await;
    }

    /// The reply a store records: the status sent, the outcome's message (the processed one when
    /// unknown), borrowed when it is a default one.
    fn recorded_reply(&self, status: u16, outcome: Option<Outcome>) -> Reply {
        let outcome = outcome.unwrap_or(Outcome::Processed);
        let body = match self.replies.overridden(outcome) {
            Some(reply) => Cow::Owned(reply.body().to_owned()),
            None => Cow::Borrowed(outcome.default_message()),
        };
        Reply::new(status, body)
    }

    fn not_completed(fingerprint: Fingerprint, error: &crate::store::StoreError) {
        tracing::warn!(%fingerprint, error = %error, "processed notification not recorded; the claim expires with its lease");
    }

    fn not_released(fingerprint: Fingerprint, error: &crate::store::StoreError) {
        tracing::warn!(%fingerprint, error = %error, "failed notification not released; a retry is processed once the lease expires");
    }

    async fn record(store: &dyn NotificationStore, fingerprint: Fingerprint, token: ClaimToken, reply: Reply) {
        if reply.is_acknowledged() {
            if let Err(error) = store.complete(fingerprint, &token, &reply).await {
                Self::not_completed(fingerprint, &error);
            }
        } else if let Err(error) = store.release(fingerprint, &token).await {
            Self::not_released(fingerprint, &error);
        }
    }
}

/// A delivery between [`Receiver::admit`] and [`Receiver::complete`]: the claim it holds, if a
/// store is set.
///
/// Pass it to [`Receiver::complete`] once the handler answered. Dropped without `finish` (the
/// handler panicked, the client went away), its claim stays until the lease expires, after which
/// a retry is processed.
#[derive(Debug)]
#[must_use = "pass the delivery to Receiver::complete once the handler answered"]
pub struct Delivery {
    claim: Option<(Fingerprint, ClaimToken)>,
}

impl Delivery {
    /// The claimed fingerprint (`None` without a store).
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.claim.map(|(fingerprint, _)| fingerprint)
    }

    /// Whether a claim is held.
    pub fn is_claimed(&self) -> bool {
        self.claim.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keys;

    #[test]
    fn precheck_order_and_replies() {
        let r = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(10));
        assert!(r.precheck("POST", Some(b"application/x-www-form-urlencoded; charset=UTF-8"), Some(10)).is_ok());
        assert_eq!(r.precheck("POST", Some(b"text/plain"), None).unwrap_err().reply.status(), 415);
        assert_eq!(r.precheck("POST", None, Some(11)).unwrap_err().reply.status(), 413);
        assert_eq!(r.precheck("PUT", None, None).unwrap_err().reply.status(), 405);
        let custom = r.reply(Outcome::BodyTooLarge, 413, "too big");
        assert_eq!(custom.precheck("POST", None, Some(11)).unwrap_err().reply.body(), "too big");
    }

    #[test]
    fn body_buffer_accepts_up_to_the_limit_and_refuses_past_it_with_the_receivers_reply() {
        let r = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(10)).reply(
            Outcome::BodyTooLarge,
            413,
            "KO-big",
        );
        let mut buffer = r.body_buffer(Some(10));
        buffer.push(b"12345").unwrap();
        buffer.push(b"").unwrap();
        buffer.push(b"67890").unwrap();
        let refused = buffer.push(b"x").unwrap_err();
        assert!(matches!(refused.error, Error::BodyTooLarge { limit: 10 }));
        assert_eq!((refused.reply.status(), refused.reply.body()), (413, "KO-big"));
        assert_eq!(buffer.finish(), b"1234567890");
    }

    #[test]
    fn body_buffer_stays_refused_once_the_limit_was_crossed() {
        let r = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(4));
        let mut buffer = r.body_buffer(None);
        assert!(buffer.push(b"12345").is_err());
        assert!(buffer.push(b"1").is_err(), "a smaller chunk after a refused one must not slip in");
        assert!(buffer.is_empty());
    }

    #[test]
    fn body_buffer_reserves_neither_past_the_limit_nor_past_64_kib() {
        let small = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(100));
        let mut buffer = small.body_buffer(Some(u64::MAX));
        buffer.push(b"1").unwrap();
        assert!(buffer.bytes.capacity() < 1024);
        let huge = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(usize::MAX));
        let mut buffer = huge.body_buffer(Some(u64::MAX));
        assert_eq!(buffer.bytes.capacity(), 0, "nothing is reserved before the first chunk");
        buffer.push(b"1").unwrap();
        assert!(buffer.bytes.capacity() <= 2 * MAX_RESERVED_BYTES);
        let mut buffer = huge.body_buffer(None);
        buffer.push(b"12").unwrap();
        assert!(buffer.bytes.capacity() < 1024);
    }

    #[test]
    fn chunk_buffer_keeps_one_chunk_and_joins_several_under_the_same_limit() {
        let r = Receiver::new(Verifier::new(Keys::default()).max_body_bytes(10));
        let mut one = r.chunk_buffer::<Vec<u8>>(Some(10));
        one.push(Vec::new()).unwrap();
        one.push(b"1234567890".to_vec()).unwrap();
        one.push(Vec::new()).unwrap();
        assert_eq!(one.len(), 10);
        assert_eq!(one.finish(), Buffered::Chunk(b"1234567890".to_vec()));

        let mut several = r.chunk_buffer::<&[u8]>(None);
        several.push(b"123").unwrap();
        several.push_slice(b"45").unwrap();
        several.push(b"67890").unwrap();
        assert!(several.push(b"x").is_err());
        assert!(several.push(b"").is_err(), "refused once, refused for good");
        assert_eq!(several.finish(), Buffered::Joined(b"1234567890".to_vec()));

        let mut too_large = r.chunk_buffer::<&[u8]>(None);
        assert!(too_large.push(b"12345678901").is_err());
        assert!(too_large.push(b"1").is_err());
        assert!(too_large.is_empty());
        assert_eq!(r.chunk_buffer::<&[u8]>(None).finish(), Buffered::Empty);
    }

    #[test]
    fn unreadable_body_is_answered_as_malformed() {
        let r = Receiver::new(Verifier::new(Keys::default()));
        let refused = r.body_unreadable("connection reset");
        assert_eq!(refused.error.outcome(), Outcome::Malformed);
        assert_eq!(refused.reply, Reply::for_outcome(Outcome::Malformed));
        assert!(refused.error.to_string().contains("connection reset"));
    }
}
