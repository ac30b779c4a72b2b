//! REST notifications (`kr-*` fields), PROTOCOLS section 2: the `kr-hash` check, then the typed
//! `kr-answer`.
//!
//! `kr-hash` covers `kr-answer` only. What the notification says (shop, order, amounts, statuses,
//! the operation, hence [`nature`](RestNotification::nature) and
//! [`fingerprint`](RestNotification::fingerprint), and the answer's type) is read from the signed
//! answer. The fields posted beside it are not signed: `kr-src` is kept as
//! [`unsigned_src`](RestNotification::unsigned_src), a delivery hint that nothing else reads, and
//! `kr-answer-type`, when posted, must repeat the answer's signed `_type` (the notification is
//! refused otherwise).
//!
//! The endpoint decides the key: an IPN endpoint expects answers signed with the shop's REST API
//! password (`kr-hash-key=password`), a browser-return endpoint answers signed with its REST
//! HMAC-SHA-256 key (`kr-hash-key=sha256_hmac`); a `kr-hash-key` that disagrees is rejected, it
//! never chooses the key. `shopId` and `orderDetails.mode` are read from the answer before the
//! check, to find the key only; the JSON is typed after it. The answer is read once: that pass
//! validates the whole document and keeps, raw, only the members the payment types.
//!
//! ```
//! use ipn_core::{Keys, Mode, Notification, RequestView, ShopKeys, StatusClass, Verifier};
//! use ipn_core::rest::OrderStatus;
//!
//! let keys = Keys::builder()
//!     .shop(ShopKeys::new("69876357").rest_password(Mode::Production, "prodpassword_123"))
//!     .build()
//!     .unwrap();
//! let verifier = Verifier::new(keys);
//!
//! // What the gateway posts (here signed locally with `kr_hash`).
//! let answer = r#"{"shopId":"69876357","orderCycle":"CLOSED","orderStatus":"PAID",
//!     "orderDetails":{"orderTotalAmount":990,"orderCurrency":"EUR","mode":"PRODUCTION","orderId":"order-7"},
//!     "transactions":[{"uuid":"017574bda28e4f1d8413b97fc65c8197","amount":990,"currency":"EUR",
//!     "detailedStatus":"CAPTURED","operationType":"DEBIT"}],"_type":"V4\/Payment"}"#;
//! let hash = ipn_core::rest::kr_hash(answer, b"prodpassword_123");
//! let encoded: String = form_urlencoded::byte_serialize(answer.as_bytes()).collect();
//! let body = format!(
//!     "kr-hash={hash}&kr-hash-algorithm=sha256_hmac&kr-hash-key=password&\
//!      kr-answer-type=V4%2FPayment&kr-answer={encoded}&kr-src=PAY"
//! );
//! let headers = [("content-type", "application/x-www-form-urlencoded")];
//! let request = RequestView::new("POST", "/ipn", &headers, body.as_bytes());
//!
//! let Notification::Rest(n) = pollster::block_on(verifier.verify(request)).unwrap() else { panic!() };
//! assert_eq!(n.order_id(), Some("order-7"));
//! assert_eq!(n.amount().unwrap().to_string(), "9.90 EUR");
//! assert_eq!(n.status_class(), StatusClass::Accepted);
//! assert_eq!(n.payment().order_status(), Some(&OrderStatus::Paid));
//! assert!(n.is_final());
//! ```

mod answer;
mod notification;
mod payment;
mod signature;

pub use notification::RestNotification;
pub use payment::{AnswerType, Customer, OrderCycle, OrderDetails, OrderStatus, Payment, Transaction};
pub use signature::kr_hash;

use std::borrow::Cow;

use self::answer::Answer;
use crate::error::Error;
use crate::form::{FormFields, Source};
use crate::keys::{KeySlot, KeyStore};
use crate::policy::Policy;
use crate::text::printable;
use crate::types::{Endpoint, Mode, Scheme};

/// The signature field: its presence makes a form body a REST notification.
pub(crate) const HASH_FIELD: &str = "kr-hash";
/// `kr-hash-key` of an IPN: signed with the REST API password.
const PASSWORD: &str = "password";
/// `kr-hash-key` of a browser return: signed with the REST HMAC-SHA-256 key.
const HMAC_KEY: &str = "sha256_hmac";

/// What the answer claims before it is authenticated: enough to find the key. The members read
/// in the one pass are kept and typed after the check.
struct Claims<'a> {
    answer: Answer<'a>,
    shop_id: Cow<'a, str>,
    mode: Mode,
}

impl<'a> Claims<'a> {
    fn read(text: &'a str) -> Result<Self, Error> {
        let answer =
            Answer::read(text).map_err(|_| Error::malformed(Scheme::Rest, "kr-answer is not a JSON object"))?;
        let shop_id = answer
            .shop_id
            .str("shopId")
            .map_err(|e| payment::malformed("", e))?
            .filter(|s| !s.is_empty())
            .ok_or(Error::MissingField { scheme: Scheme::Rest, field: "shopId" })?;
        let mode = order_details(&answer)?
            .mode
            .str("mode")
            .map_err(|e| payment::malformed("orderDetails.", e))?
            .ok_or(Error::MissingField { scheme: Scheme::Rest, field: "orderDetails.mode" })?;
        let mode = Mode::parse(&mode)
            .ok_or_else(|| Error::malformed(Scheme::Rest, "orderDetails.mode is neither TEST nor PRODUCTION"))?;
        Ok(Self { answer, shop_id, mode })
    }

    /// Types the authenticated answer.
    fn payment(self) -> Result<Payment, Error> {
        Payment::from_answer(&self.answer, order_details(&self.answer)?, self.shop_id.into_owned(), self.mode)
    }
}

fn order_details<'s, 'a>(answer: &'s Answer<'a>) -> Result<&'s answer::OrderDetails<'a>, Error> {
    answer
        .order_details
        .get("orderDetails")
        .map_err(|e| payment::malformed("", e))?
        .ok_or(Error::MissingField { scheme: Scheme::Rest, field: "orderDetails" })
}

/// Authenticates the `kr-*` fields of a decoded form body, then types the answer.
pub(crate) async fn verify(
    fields: &FormFields,
    keys: &dyn KeyStore,
    policy: &Policy,
) -> Result<RestNotification, Error> {
    let required = |field| fields.get(field).ok_or(Error::MissingField { scheme: Scheme::Rest, field });
    let algorithm = required("kr-hash-algorithm")?;
    if algorithm != signature::ALGORITHM {
        return Err(Error::unsupported_algorithm(algorithm));
    }
    let hash = required(HASH_FIELD)?;
    let answer = required("kr-answer")?;
    let expected_key = match policy.endpoint {
        Endpoint::Ipn => PASSWORD,
        Endpoint::Return => HMAC_KEY,
    };
    let hash_key = required("kr-hash-key")?;
    if hash_key != expected_key {
        return Err(Error::KeyKindMismatch { expected: expected_key, received: printable(hash_key).into_owned() });
    }

    let claims = Claims::read(answer)?;
    let (shop_id, mode) = (&*claims.shop_id, claims.mode);
    let slot = match policy.endpoint {
        Endpoint::Ipn => KeySlot::RestPassword { shop_id, mode },
        Endpoint::Return => KeySlot::RestHmacKey { shop_id, mode },
    };
    let credentials =
        keys.credentials(slot).await.map_err(Error::KeyStore)?.ok_or_else(|| Error::unknown_shop(shop_id))?;
    signature::verify(answer, hash, credentials.secrets())?;
    if !policy.accepts_mode(mode, &credentials) {
        return Err(Error::TestModeRefused);
    }

    let non_empty = |name| fields.get(name).filter(|v| !v.is_empty());
    let payment = claims.payment()?;
    // `kr-answer-type` is not signed: it may only repeat the signed `_type`, never relabel it.
    if let Some(posted) = non_empty("kr-answer-type")
        && payment.answer_type().map(AnswerType::as_str) != Some(posted)
    {
        return Err(Error::malformed(
            Scheme::Rest,
            format!("kr-answer-type {posted:?} is not the signed _type of kr-answer"),
        ));
    }
    Ok(RestNotification::new(answer.to_owned(), non_empty("kr-src").map(Source::parse), payment))
}
