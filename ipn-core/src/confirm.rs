//! Confirmation with the gateway: a form IPN of a shop that opted in
//! ([`ShopKeys::confirm_with`](crate::ShopKeys::confirm_with)) is compared with the gateway's own
//! record of the transaction, read from its REST API (`V4/Transaction/Get`), before the handler
//! runs.
//!
//! The form signature covers the values of the fields, not their names (PROTOCOLS 1.1 item 8):
//! a signed message that carries text the buyer chose can sometimes be re-labelled into another
//! notification that still verifies. The gateway's record cannot be re-labelled. A notification
//! it contradicts is refused ([`Error::NotConfirmed`]); an API that cannot answer now gets `503`
//! ([`Error::ConfirmationUnavailable`]), so the gateway retries and nothing is lost.
//!
//! The core stays sans-IO: it builds the call ([`ApiRequest`]) and reads the answer; an
//! [`ApiTransport`] sends it. `HttpTransport` (feature `gateway-api`) is the one the verifier
//! uses unless given another ([`Verifier::gateway_transport`](crate::Verifier::gateway_transport)).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::form::FormNotification;
use crate::keys::{KeySlot, KeyStore};
use crate::money::Currency;
use crate::secret::Secret;
use crate::text::printable;
use crate::types::{GatewayApi, Mode};

/// The path of the call, under the API's base URL.
pub const TRANSACTION_GET_PATH: &str = "/api-payment/V4/Transaction/Get";
/// The most an API answer may hold; a transport stops reading past it.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;
/// How long a call may take by default: well inside the gateway's 35 s wait for the IPN's reply.
pub const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a confirmation is remembered, so that a retry or a duplicate does not call the API
/// again: longer than the gateway's retry schedule.
const CACHE_TTL: Duration = Duration::from_secs(24 * 3600);
/// The most confirmations remembered; the oldest is forgotten first.
const CACHE_CAPACITY: usize = 10_000;

/// One call to the gateway's REST API, built by the core, sent as it is by an [`ApiTransport`]:
/// `POST url`, `Authorization: authorization`, `Content-Type: application/json`, `body`.
#[derive(Clone)]
pub struct ApiRequest {
    url: String,
    authorization: Secret,
    body: String,
}

impl ApiRequest {
    /// `V4/Transaction/Get` for one transaction, authenticated with HTTP Basic: the shop id and
    /// the shop's REST API password for the transaction's mode, as the vendor's plugins call it.
    pub fn transaction_get(api: &GatewayApi, shop_id: &str, password: &Secret, uuid: &str) -> Self {
        let mut credentials = Vec::with_capacity(shop_id.len() + 1 + password.expose().len());
        credentials.extend_from_slice(shop_id.as_bytes());
        credentials.push(b':');
        credentials.extend_from_slice(password.expose());
        let mut authorization = String::from("Basic ");
        base64::engine::general_purpose::STANDARD.encode_string(&credentials, &mut authorization);
        zeroize::Zeroize::zeroize(&mut credentials);
        Self {
            url: format!("{api}{TRANSACTION_GET_PATH}"),
            authorization: Secret::new(authorization),
            body: serde_json::json!({ "uuid": uuid }).to_string(),
        }
    }

    /// The URL to POST to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `Authorization` header's value (it holds the REST password: never log it).
    pub fn authorization(&self) -> &Secret {
        &self.authorization
    }

    /// The JSON body.
    pub fn body(&self) -> &str {
        &self.body
    }
}

impl fmt::Debug for ApiRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiRequest").field("url", &self.url).field("body", &self.body).finish_non_exhaustive()
    }
}

/// What the API answered: the HTTP status and the body (at most [`MAX_ANSWER_BYTES`]).
#[derive(Debug, Clone)]
pub struct ApiResponse {
    status: u16,
    body: Vec<u8>,
}

impl ApiResponse {
    /// A response.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self { status, body: body.into() }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// The API could not be reached, or did not answer in time or within [`MAX_ANSWER_BYTES`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(String);

impl TransportError {
    /// An error with its reason (never a secret).
    pub fn new(reason: impl fmt::Display) -> Self {
        Self(reason.to_string())
    }
}

/// Sends a call to the gateway's REST API. Implement it to use another HTTP client, or to answer
/// from a fixture in tests; `HttpTransport` (feature `gateway-api`) is the default.
#[async_trait]
pub trait ApiTransport: Send + Sync + fmt::Debug {
    /// Sends the request as it is and returns the response, whatever its status.
    ///
    /// # Errors
    ///
    /// The API could not be reached, timed out, or answered more than [`MAX_ANSWER_BYTES`].
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, TransportError>;
}

/// The default transport: `reqwest` with rustls and the system's trust store, a
/// [`DEFAULT_API_TIMEOUT`] for the whole call, no redirects (a redirect would carry the password
/// elsewhere), and answers cut at [`MAX_ANSWER_BYTES`].
#[cfg(feature = "gateway-api")]
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
}

#[cfg(feature = "gateway-api")]
impl HttpTransport {
    /// A transport with the default timeout.
    ///
    /// # Errors
    ///
    /// The TLS configuration could not be built (no trust store).
    pub fn new() -> Result<Self, TransportError> {
        Self::with_timeout(DEFAULT_API_TIMEOUT)
    }

    /// A transport whose calls end after `timeout`.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn with_timeout(timeout: Duration) -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(TransportError::new)?;
        Ok(Self { client })
    }
}

#[cfg(feature = "gateway-api")]
#[async_trait]
impl ApiTransport for HttpTransport {
    async fn send(&self, request: &ApiRequest) -> Result<ApiResponse, TransportError> {
        let mut authorization = reqwest::header::HeaderValue::from_bytes(request.authorization().expose())
            .map_err(|_| TransportError::new("the REST password cannot be sent in a header"))?;
        authorization.set_sensitive(true);
        let mut response = self
            .client
            .post(request.url())
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(request.body().to_owned())
            .send()
            .await
            .map_err(TransportError::new)?;
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(TransportError::new)? {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(TransportError::new(format!("answer larger than {MAX_ANSWER_BYTES} bytes")));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(ApiResponse::new(status, body))
    }
}

/// The verifier's confirmation step: the transport and the confirmations remembered. Shared by
/// the verifier's clones.
#[derive(Clone, Default)]
pub(crate) struct Confirmer {
    transport: Arc<OnceLock<Arc<dyn ApiTransport>>>,
    cache: Arc<Cache>,
}

impl fmt::Debug for Confirmer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Confirmer").field("transport", &self.transport.get()).finish_non_exhaustive()
    }
}

impl Confirmer {
    /// A confirmer sending through `transport`.
    pub(crate) fn with_transport(transport: Arc<dyn ApiTransport>) -> Self {
        let confirmer = Self::default();
        let _ = confirmer.transport.set(transport);
        confirmer
    }

    /// The transport: the one given, else the default one, built on first use.
    fn transport(&self) -> Result<&Arc<dyn ApiTransport>, Error> {
        if let Some(transport) = self.transport.get() {
            return Ok(transport);
        }
        #[cfg(feature = "gateway-api")]
        {
            let transport = HttpTransport::new().map_err(|e| unavailable(format_args!("HTTP client: {e}")))?;
            Ok(self.transport.get_or_init(|| Arc::new(transport)))
        }
        #[cfg(not(feature = "gateway-api"))]
        Err(unavailable(
            "no transport to the gateway's API: enable ipn-core's `gateway-api` feature or set Verifier::gateway_transport",
        ))
    }

    /// Confirms a verified form IPN with the gateway's record of its transaction.
    pub(crate) async fn confirm(
        &self,
        notification: &FormNotification,
        api: &GatewayApi,
        keys: &dyn KeyStore,
    ) -> Result<(), Error> {
        let claim = Claim::read(notification)?;
        let key = claim.cache_key();
        if self.cache.contains(&key) {
            tracing::debug!(uuid = %claim.uuid, "confirmed before: the gateway's API is not called again");
            return Ok(());
        }
        let transport = self.transport()?;
        let slot = KeySlot::RestPassword { shop_id: claim.shop_id, mode: claim.mode };
        let credentials = keys.credentials(slot).await.map_err(Error::KeyStore)?;
        let Some(password) = credentials.as_ref().and_then(|c| c.secrets().last()) else {
            return Err(unavailable(format_args!("no {slot} to call the gateway's API")));
        };
        let request = ApiRequest::transaction_get(api, claim.shop_id, password, claim.uuid);
        let response = transport.send(&request).await.map_err(|e| unavailable(format_args!("{api}: {e}")))?;
        claim.compare(&read_answer(&response)?)?;
        self.cache.insert(key);
        Ok(())
    }
}

fn unavailable(reason: impl fmt::Display) -> Error {
    Error::ConfirmationUnavailable { reason: printable(&reason.to_string()).into_owned() }
}

fn not_confirmed(reason: impl fmt::Display) -> Error {
    Error::NotConfirmed { reason: printable(&reason.to_string()).into_owned() }
}

/// What the notification claims about its transaction: what the gateway's record must show.
#[derive(Debug)]
struct Claim<'a> {
    shop_id: &'a str,
    mode: Mode,
    uuid: &'a str,
    status: Option<&'a str>,
    amount: Option<&'a str>,
    currency: Option<Currency>,
    order_id: Option<&'a str>,
    operation: Option<&'a str>,
}

impl<'a> Claim<'a> {
    fn read(n: &'a FormNotification) -> Result<Self, Error> {
        let uuid = n.trans_uuid().filter(|u| !u.is_empty()).ok_or_else(|| {
            not_confirmed("the notification names no transaction (vads_trans_uuid) for the gateway to confirm")
        })?;
        let non_empty = |name| n.get(name).filter(|v| !v.is_empty());
        Ok(Self {
            shop_id: n.shop_id(),
            mode: n.mode(),
            uuid,
            status: non_empty("vads_trans_status"),
            amount: non_empty("vads_amount"),
            currency: non_empty("vads_currency").map(Currency::from_numeric),
            order_id: non_empty("vads_order_id"),
            operation: non_empty("vads_operation_type"),
        })
    }

    /// The claim as a cache key: every compared value, each prefixed with its length.
    fn cache_key(&self) -> [u8; 32] {
        let mut hash = Sha256::new();
        let parts = [
            Some(self.shop_id),
            Some(self.mode.as_str()),
            Some(self.uuid),
            self.status,
            self.amount,
            self.currency.as_ref().map(Currency::code),
            self.order_id,
            self.operation,
        ];
        for part in parts {
            match part {
                Some(value) => {
                    hash.update((value.len() as u64 + 1).to_be_bytes());
                    hash.update(value.as_bytes());
                }
                None => hash.update(0u64.to_be_bytes()),
            }
        }
        hash.finalize().into()
    }

    fn compare(&self, t: &Transaction<'_>) -> Result<(), Error> {
        let differs = |what: &str, claimed: Option<&str>, gateway: Option<&str>| {
            not_confirmed(format_args!(
                "{what}: the notification says {:?}, the gateway {:?}",
                claimed.unwrap_or(""),
                gateway.unwrap_or("")
            ))
        };
        if t.shop_id != self.shop_id {
            return Err(differs("shop", Some(self.shop_id), Some(&t.shop_id)));
        }
        if t.uuid != self.uuid {
            return Err(differs("transaction", Some(self.uuid), Some(&t.uuid)));
        }
        if let Some(mode) = t.mode.as_deref().filter(|m| *m != self.mode.as_str()) {
            return Err(differs("mode", Some(self.mode.as_str()), Some(mode)));
        }
        if !self.status.is_some_and(|claimed| status_leads_to(claimed, &t.detailed_status)) {
            return Err(differs("status", self.status, Some(&t.detailed_status)));
        }
        let amount = t.amount.to_string();
        if self.amount != Some(amount.as_str()) {
            return Err(differs("amount", self.amount, Some(&amount)));
        }
        let claimed_currency = self.currency.as_ref().map(Currency::code);
        if claimed_currency != Some(&*t.currency) {
            return Err(differs("currency", claimed_currency, Some(&t.currency)));
        }
        if self.order_id != t.order_id.as_deref() {
            return Err(differs("order", self.order_id, t.order_id.as_deref()));
        }
        if self.operation != Some(&*t.operation_type) {
            return Err(differs("operation", self.operation, Some(&t.operation_type)));
        }
        Ok(())
    }
}

/// Whether a transaction the notification says is `claimed` may now be `current`: the same
/// status, or one the claimed status leads to without another notification being due first (an
/// authorisation that was since captured, a payment to validate that was validated). A genuine
/// notification retried after such a move still confirms; any other difference (refused,
/// cancelled, another amount) means the notification does not describe the transaction the
/// gateway knows, and the gateway notifies the later state itself.
fn status_leads_to(claimed: &str, current: &str) -> bool {
    const PROGRESS: &[(&str, &[&str])] = &[
        ("AUTHORISED", &["CAPTURED"]),
        ("AUTHORISED_TO_VALIDATE", &["AUTHORISED", "CAPTURED"]),
        ("WAITING_AUTHORISATION", &["AUTHORISED", "CAPTURED"]),
        (
            "WAITING_AUTHORISATION_TO_VALIDATE",
            &["AUTHORISED_TO_VALIDATE", "WAITING_AUTHORISATION", "AUTHORISED", "CAPTURED"],
        ),
    ];
    claimed == current || PROGRESS.iter().any(|(from, to)| *from == claimed && to.contains(&current))
}

/// The answer of `V4/Transaction/Get`: the envelope, then the transaction or the error.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    status: Cow<'a, str>,
    #[serde(borrow)]
    answer: &'a RawValue,
    #[serde(default, borrow)]
    mode: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTransaction<'a> {
    #[serde(borrow)]
    shop_id: Cow<'a, str>,
    #[serde(borrow)]
    uuid: Cow<'a, str>,
    amount: i64,
    #[serde(borrow)]
    currency: Cow<'a, str>,
    #[serde(borrow)]
    detailed_status: Cow<'a, str>,
    #[serde(borrow)]
    operation_type: Cow<'a, str>,
    #[serde(default, borrow)]
    order_details: Option<OrderDetails<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct OrderDetails<'a> {
    #[serde(default, borrow)]
    order_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    mode: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireError<'a> {
    #[serde(default, borrow)]
    error_code: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    error_message: Option<Cow<'a, str>>,
}

/// The gateway's record, as compared.
#[derive(Debug)]
struct Transaction<'a> {
    shop_id: Cow<'a, str>,
    uuid: Cow<'a, str>,
    mode: Option<Cow<'a, str>>,
    amount: i64,
    currency: Cow<'a, str>,
    detailed_status: Cow<'a, str>,
    operation_type: Cow<'a, str>,
    order_id: Option<Cow<'a, str>>,
}

/// The gateway's error code for a transaction it does not know (for this shop and mode).
const NOT_FOUND: &str = "PSP_010";

/// Reads the API's answer: the transaction; [`Error::NotConfirmed`] when the gateway knows no
/// such transaction; [`Error::ConfirmationUnavailable`] for anything else (a refused password, a
/// server error, an answer that is not the API's), which the gateway's retry may get past.
fn read_answer(response: &ApiResponse) -> Result<Transaction<'_>, Error> {
    if response.status() != 200 {
        let hint = if response.status() == 401 { " (check the shop's REST password)" } else { "" };
        return Err(unavailable(format_args!("the gateway's API answered HTTP {}{hint}", response.status())));
    }
    let garbled = |e: serde_json::Error| unavailable(format_args!("unreadable answer from the gateway's API: {e}"));
    let envelope: Envelope<'_> = serde_json::from_slice(response.body()).map_err(garbled)?;
    match &*envelope.status {
        "SUCCESS" => {
            let t: WireTransaction<'_> = serde_json::from_str(envelope.answer.get()).map_err(garbled)?;
            let details = t.order_details.unwrap_or_default();
            Ok(Transaction {
                shop_id: t.shop_id,
                uuid: t.uuid,
                mode: details.mode.or(envelope.mode),
                amount: t.amount,
                currency: t.currency,
                detailed_status: t.detailed_status,
                operation_type: t.operation_type,
                order_id: details.order_id.filter(|id| !id.is_empty()),
            })
        }
        "ERROR" => {
            let e: WireError<'_> = serde_json::from_str(envelope.answer.get()).map_err(garbled)?;
            let code = e.error_code.as_deref().unwrap_or("");
            let message = e.error_message.as_deref().unwrap_or("");
            if code == NOT_FOUND {
                Err(not_confirmed(format_args!("the gateway knows no such transaction ({code} {message})")))
            } else {
                Err(unavailable(format_args!("the gateway's API refused the call: {code} {message}")))
            }
        }
        other => Err(unavailable(format_args!("the gateway's API answered status {other:?}"))),
    }
}

/// Confirmations remembered, by claim: only positive ones (a refusal is not remembered, so a
/// transaction that reaches the claimed state later is confirmed then).
#[derive(Default)]
struct Cache {
    entries: Mutex<Entries>,
}

/// When each claim was confirmed, and the claims in the order they were.
type Entries = (HashMap<[u8; 32], Instant>, VecDeque<[u8; 32]>);

impl Cache {
    fn contains(&self, key: &[u8; 32]) -> bool {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.0.get(key).is_some_and(|at| at.elapsed() < CACHE_TTL)
    }

    fn insert(&self, key: [u8; 32]) {
        let mut guard = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (map, order) = &mut *guard;
        if map.insert(key, Instant::now()).is_none() {
            order.push_back(key);
        }
        while order.len() > CACHE_CAPACITY {
            if let Some(oldest) = order.pop_front() {
                map.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &str, body: serde_json::Value) -> ApiResponse {
        let envelope = serde_json::json!({
            "webService": "Transaction/Get", "version": "V4", "status": status, "answer": body,
            "mode": "TEST", "_type": "V4/WebService/Response"
        });
        ApiResponse::new(200, envelope.to_string())
    }

    fn transaction() -> serde_json::Value {
        serde_json::json!({
            "shopId": "12345678", "uuid": "0123456789abcdef0123456789abcdef", "amount": 4525,
            "currency": "EUR", "status": "PAID", "detailedStatus": "AUTHORISED", "operationType": "DEBIT",
            "orderDetails": {"orderId": "ORDER-1042", "mode": "TEST", "_type": "V4/OrderDetails"},
            "_type": "V4/Transaction"
        })
    }

    fn claim() -> Claim<'static> {
        Claim {
            shop_id: "12345678",
            mode: Mode::Test,
            uuid: "0123456789abcdef0123456789abcdef",
            status: Some("AUTHORISED"),
            amount: Some("4525"),
            currency: Some(Currency::from_numeric("978")),
            order_id: Some("ORDER-1042"),
            operation: Some("DEBIT"),
        }
    }

    #[test]
    fn a_matching_record_confirms_and_every_compared_field_can_refuse() {
        let genuine = answer("SUCCESS", transaction());
        claim().compare(&read_answer(&genuine).unwrap()).unwrap();
        let changes: [(&str, serde_json::Value); 8] = [
            ("/shopId", "87654321".into()),
            ("/uuid", "ffffffffffffffffffffffffffffffff".into()),
            ("/amount", 1.into()),
            ("/currency", "USD".into()),
            ("/detailedStatus", "REFUSED".into()),
            ("/operationType", "CREDIT".into()),
            ("/orderDetails/orderId", serde_json::Value::Null),
            ("/orderDetails/mode", "PRODUCTION".into()),
        ];
        for (pointer, value) in changes {
            let mut t = transaction();
            *t.pointer_mut(pointer).unwrap() = value;
            let error = claim().compare(&read_answer(&answer("SUCCESS", t)).unwrap()).unwrap_err();
            assert!(matches!(error, Error::NotConfirmed { .. }), "{pointer}: {error}");
        }
    }

    #[test]
    fn a_capture_since_the_authorisation_still_confirms_a_cancellation_does_not() {
        assert!(status_leads_to("AUTHORISED", "CAPTURED"));
        assert!(status_leads_to("AUTHORISED_TO_VALIDATE", "AUTHORISED"));
        assert!(status_leads_to("REFUSED", "REFUSED"));
        assert!(!status_leads_to("AUTHORISED", "CANCELLED"));
        assert!(!status_leads_to("CAPTURED", "AUTHORISED"));
        assert!(!status_leads_to("REFUSED", "AUTHORISED"));
    }

    #[test]
    fn unknown_transactions_are_refused_other_errors_are_unavailable() {
        let not_found = answer("ERROR", serde_json::json!({"errorCode": "PSP_010", "errorMessage": "not found"}));
        assert!(matches!(read_answer(&not_found), Err(Error::NotConfirmed { .. })));
        let other = answer("ERROR", serde_json::json!({"errorCode": "INT_905", "errorMessage": "auth"}));
        assert!(matches!(read_answer(&other), Err(Error::ConfirmationUnavailable { .. })));
        for response in [
            ApiResponse::new(401, "{}"),
            ApiResponse::new(503, "busy"),
            ApiResponse::new(200, "<html>"),
            ApiResponse::new(200, r#"{"status":"SUCCESS","answer":{"uuid":"x"}}"#),
            ApiResponse::new(200, r#"{"status":"MAYBE","answer":{}}"#),
        ] {
            assert!(matches!(read_answer(&response), Err(Error::ConfirmationUnavailable { .. })), "{response:?}");
        }
    }

    #[test]
    fn the_request_authenticates_with_the_shop_id_and_the_rest_password_and_hides_it() {
        let api = GatewayApi::new("https://api.payzen.eu").unwrap();
        let request = ApiRequest::transaction_get(&api, "12345678", &Secret::new("testpassword_X"), "abc");
        assert_eq!(request.url(), "https://api.payzen.eu/api-payment/V4/Transaction/Get");
        assert_eq!(request.body(), r#"{"uuid":"abc"}"#);
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("12345678:testpassword_X"));
        assert_eq!(request.authorization().expose(), expected.as_bytes());
        assert!(!format!("{request:?}").contains(&expected[6..]));
    }

    #[test]
    fn the_cache_key_tells_every_compared_value_apart() {
        let base = claim().cache_key();
        let mut other = claim();
        other.order_id = None;
        assert_ne!(base, other.cache_key());
        let mut other = claim();
        other.status = Some("CAPTURED");
        assert_ne!(base, other.cache_key());
        let mut shifted = claim();
        (shifted.order_id, shifted.operation) = (Some("ORDER-1042D"), Some("EBIT"));
        assert_ne!(base, shifted.cache_key());
    }

    #[test]
    fn the_cache_forgets_the_oldest_past_its_capacity() {
        let cache = Cache::default();
        for i in 0..=CACHE_CAPACITY {
            let mut key = [0u8; 32];
            key[..8].copy_from_slice(&(i as u64).to_be_bytes());
            cache.insert(key);
        }
        assert!(!cache.contains(&[0u8; 32]));
        let mut last = [0u8; 32];
        last[..8].copy_from_slice(&(CACHE_CAPACITY as u64).to_be_bytes());
        assert!(cache.contains(&last));
    }
}
