//! A local gateway simulator for development: it serves a payment page for a signed hosted
//! payment form (`vads_*` fields and `signature`, checked with the shop key) or a CentralBill
//! payment link (PROTOCOLS 3.3), lets a person accept, refuse or abandon, sends the IPN to the
//! shop with the gateway's retry schedule, and offers back-office actions (refund, cancel,
//! validate, replay) on past payments.
//!
//! It also serves the REST API's `V4/Transaction/Get` (`POST /api-payment/V4/Transaction/Get`,
//! HTTP Basic with the shop id and the REST API password of a mode, body `{"uuid":"…"}`), as the
//! vendor's API answers it, for every transaction it notified with a form IPN, in the state it
//! last notified: a shop confirming a form IPN with the gateway can be tested against it.
//! [`Gateway::api_outage`] (or `POST /api-payment/outage/{n}`) makes the next calls answer 503;
//! [`Gateway::api_calls`] counts them.
//!
//! It is a library type so that example shops and tests can start it in-process:
//! [`Gateway::router`] is an axum router, and [`Gateway::start_form_payment`],
//! [`Gateway::complete`] and [`Gateway::back_office`] drive it without a browser.
//!
//! ```no_run
//! # async fn run(settings: ipn_cli::Settings) -> std::io::Result<()> {
//! use ipn_cli::gateway::Gateway;
//! let gateway = Gateway::new(settings, "http://127.0.0.1:3000/ipn".to_owned());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, gateway.router()).await
//! # }
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use ipn_core::testkit::{
    FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RawRequest, fresh_hex, payment_link_signature,
};
use ipn_core::{Currency, KeySlot, Mode, Secret, form};
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::send::{self, Delivery, Resign, RetryPolicy};
use crate::settings::Settings;

/// Why the simulator refuses a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// A field or parameter is missing or invalid.
    #[error("{0}")]
    BadRequest(String),
    /// No key is configured for the shop or application.
    #[error("no key configured: {0}")]
    UnknownKey(String),
    /// The payment request's signature does not verify.
    #[error("the signature of the payment request does not match")]
    BadSignature,
    /// No payment has this id.
    #[error("no payment {0}")]
    UnknownPayment(u64),
    /// The action does not apply to the payment in its state.
    #[error("{0}")]
    NotAllowed(String),
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status = match self {
            GatewayError::BadSignature | GatewayError::UnknownKey(_) => StatusCode::FORBIDDEN,
            GatewayError::UnknownPayment(_) => StatusCode::NOT_FOUND,
            GatewayError::NotAllowed(_) => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        };
        (status, page("Error", &format!("<p>{}</p><p><a href=\"/\">Back office</a></p>", escape(&self.to_string()))))
            .into_response()
    }
}

/// The buyer's choice on the payment page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The payment is accepted.
    Accept,
    /// The bank refuses it.
    Refuse,
    /// The buyer leaves.
    Abandon,
}

/// A back-office action on a past payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Refund an accepted payment (`MERCH_BO`, `CREDIT`).
    Refund,
    /// Cancel an accepted payment (`MERCH_BO`, `CANCELLED`).
    Cancel,
    /// Validate a payment waiting for validation (`MERCH_BO`, `AUTHORISED`).
    Validate,
    /// Send the last notification again (`BO` for a form payment).
    Replay,
}

impl Action {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "refund" => Some(Action::Refund),
            "cancel" => Some(Action::Cancel),
            "validate" => Some(Action::Validate),
            "replay" => Some(Action::Replay),
            _ => None,
        }
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Waiting for the buyer's choice.
    Pending,
    /// Accepted (authorised).
    Accepted,
    /// Accepted, waiting for the merchant's validation (`vads_validation_mode=1`).
    ToValidate,
    /// Refused by the bank.
    Refused,
    /// Abandoned by the buyer.
    Abandoned,
    /// Refunded from the back office.
    Refunded,
    /// Cancelled from the back office.
    Cancelled,
}

#[derive(Debug, Clone)]
enum Kind {
    Form { shop_id: String, mode: Mode, fields: Vec<(String, String)>, trans_uuid: String },
    Link { application_id: String, invoice_id: String, customer_id: String, amount: String, currency: String },
}

/// One delivery of a notification, for the back office.
#[derive(Debug, Clone)]
pub struct DeliveryRecord {
    /// What was sent (`payment accepted`, `refund`, `replay`...).
    pub label: String,
    /// The attempts and their answers.
    pub delivery: Delivery,
}

#[derive(Debug, Clone)]
struct Payment {
    id: u64,
    kind: Kind,
    status: PaymentStatus,
    last_request: Option<RawRequest>,
    deliveries: Vec<DeliveryRecord>,
}

/// A summary of a payment, for tests and the back office.
#[derive(Debug, Clone)]
pub struct PaymentSummary {
    /// The simulator's id.
    pub id: u64,
    /// Where it stands.
    pub status: PaymentStatus,
    /// The order id (`vads_order_id`) or the invoice id.
    pub order_id: String,
    /// The notifications sent for it, in order.
    pub deliveries: Vec<DeliveryRecord>,
    /// The uuids (`vads_trans_uuid`) of the transactions notified for it, oldest first: the
    /// payment's, then a refund's. Empty for a CentralBill payment.
    pub transactions: Vec<String>,
}

/// What the gateway knows of a transaction, for `Transaction/Get`: the fields of the last form
/// IPN that notified it.
#[derive(Debug, Clone)]
struct Transaction {
    payment: u64,
    /// Creation order, to list a payment's transactions.
    seq: usize,
    created: OffsetDateTime,
    shop_id: String,
    mode: Mode,
    /// The refunded transaction, for a refund.
    parent: Option<String>,
    /// The signed fields, without `signature`.
    fields: Vec<(String, String)>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    notify: String,
    payments: Mutex<(u64, HashMap<u64, Payment>)>,
    /// By `vads_trans_uuid`. Never locked while `payments` is.
    transactions: Mutex<HashMap<String, Transaction>>,
    /// `Transaction/Get` calls left to answer 503.
    api_outage: AtomicU32,
    api_calls: AtomicU64,
}

/// The gateway simulator. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
    retries: u32,
    interval: Duration,
}

impl Gateway {
    /// A simulator signing with the configuration's keys and notifying `notify`; retries as the
    /// gateway does (4 more attempts, 15 minutes apart) unless changed.
    pub fn new(settings: Settings, notify: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                settings,
                notify,
                payments: Mutex::new((0, HashMap::new())),
                transactions: Mutex::new(HashMap::new()),
                api_outage: AtomicU32::new(0),
                api_calls: AtomicU64::new(0),
            }),
            retries: send::DEFAULT_RETRIES,
            interval: send::DEFAULT_RETRY_INTERVAL,
        }
    }

    /// Automatic retries after a failed notification (default 4). Set it before calling
    /// [`router`](Self::router): the router holds a copy.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The wait between attempts (default 15 minutes). Set it before calling
    /// [`router`](Self::router).
    pub fn retry_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    fn lock(&self) -> MutexGuard<'_, (u64, HashMap<u64, Payment>)> {
        // A panic while holding the lock leaves consistent data (each update is one insert).
        self.inner.payments.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn transactions(&self) -> MutexGuard<'_, HashMap<String, Transaction>> {
        // As for `lock`: each update is one insert or one assignment.
        self.inner.transactions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes the next `n` `Transaction/Get` calls answer 503 (as an unreachable API would, to
    /// test that a shop answers its IPN 503 so that the gateway retries). Replaces any outage
    /// under way; 0 ends it.
    pub fn api_outage(&self, n: u32) {
        self.inner.api_outage.store(n, Ordering::SeqCst);
    }

    /// The `Transaction/Get` calls received so far, whatever their answer (503 during an outage,
    /// 401, 413... included): to check that a cache avoided a call.
    pub fn api_calls(&self) -> u64 {
        self.inner.api_calls.load(Ordering::SeqCst)
    }

    /// Records the signed fields of a form IPN as the state of its transaction
    /// (`vads_trans_uuid`): a new transaction for a new uuid (a payment, a refund), an update
    /// otherwise (a cancellation, a validation, a replay, which keeps the parent).
    fn record(&self, payment: u64, shop_id: &str, mode: Mode, fields: &[(String, String)], parent: Option<String>) {
        let Some(uuid) = field(fields, "vads_trans_uuid").filter(|u| !u.is_empty()) else {
            return;
        };
        let mut transactions = self.transactions();
        let seq = transactions.len();
        let entry = transactions.entry(uuid.to_owned()).or_insert_with(|| Transaction {
            payment,
            seq,
            created: OffsetDateTime::now_utc(),
            shop_id: shop_id.to_owned(),
            mode,
            parent: None,
            fields: Vec::new(),
        });
        entry.fields = fields.to_vec();
        if parent.is_some() {
            entry.parent = parent;
        }
    }

    fn insert(&self, kind: Kind) -> u64 {
        let mut guard = self.lock();
        guard.0 += 1;
        let id = guard.0;
        guard.1.insert(
            id,
            Payment { id, kind, status: PaymentStatus::Pending, last_request: None, deliveries: Vec::new() },
        );
        id
    }

    fn payment(&self, id: u64) -> Result<Payment, GatewayError> {
        self.lock().1.get(&id).cloned().ok_or(GatewayError::UnknownPayment(id))
    }

    /// The payments, by id.
    pub fn payments(&self) -> Vec<PaymentSummary> {
        let mut transactions: HashMap<u64, Vec<(usize, String)>> = HashMap::new();
        for (uuid, t) in self.transactions().iter() {
            transactions.entry(t.payment).or_default().push((t.seq, uuid.clone()));
        }
        let guard = self.lock();
        let mut list: Vec<_> = guard
            .1
            .values()
            .map(|p| PaymentSummary {
                id: p.id,
                status: p.status,
                order_id: match &p.kind {
                    Kind::Form { fields, .. } => field(fields, "vads_order_id").unwrap_or_default().to_owned(),
                    Kind::Link { invoice_id, .. } => invoice_id.clone(),
                },
                deliveries: p.deliveries.clone(),
                transactions: {
                    let mut list = transactions.remove(&p.id).unwrap_or_default();
                    list.sort_unstable();
                    list.into_iter().map(|(_, uuid)| uuid).collect()
                },
            })
            .collect();
        list.sort_by_key(|p| p.id);
        list
    }

    /// Starts a payment from a hosted payment form (the `vads_*` fields and `signature` a shop
    /// posts), after checking its signature with the shop's key.
    ///
    /// # Errors
    ///
    /// Missing fields, unknown shop, bad signature.
    pub fn start_form_payment(&self, fields: Vec<(String, String)>) -> Result<u64, GatewayError> {
        let get = |name: &str| field(&fields, name).map(str::to_owned);
        let shop_id = get("vads_site_id").ok_or_else(|| GatewayError::BadRequest("vads_site_id is missing".into()))?;
        let mode = get("vads_ctx_mode")
            .as_deref()
            .and_then(Mode::parse)
            .ok_or_else(|| GatewayError::BadRequest("vads_ctx_mode must be TEST or PRODUCTION".into()))?;
        for required in ["vads_amount", "vads_currency"] {
            if get(required).is_none() {
                return Err(GatewayError::BadRequest(format!("{required} is missing")));
            }
        }
        let received = get("signature").ok_or_else(|| GatewayError::BadRequest("signature is missing".into()))?;
        let slot = KeySlot::Form { shop_id: &shop_id, mode };
        let (key, algorithm) =
            self.inner.settings.signing_key(slot).ok_or_else(|| GatewayError::UnknownKey(slot.to_string()))?;
        let expected = form::sign(fields.iter().map(|(n, v)| (n.as_str(), v.as_str())), key.expose(), algorithm);
        // Constant-time comparison, as a real gateway would.
        if Secret::new(expected) != Secret::new(received) {
            return Err(GatewayError::BadSignature);
        }
        let trans_uuid = fresh_hex(32);
        Ok(self.insert(Kind::Form { shop_id, mode, fields, trans_uuid }))
    }

    /// Starts a payment from a CentralBill payment link's parameters (`applicationId`,
    /// `invoiceId`, `customerId`, `amount`, `currency`, `signature`).
    ///
    /// # Errors
    ///
    /// Missing parameters, unknown application, bad signature.
    pub fn start_link_payment(&self, query: &HashMap<String, String>) -> Result<u64, GatewayError> {
        let get = |name: &str| {
            query.get(name).cloned().ok_or_else(|| GatewayError::BadRequest(format!("the link has no {name}")))
        };
        let (application_id, invoice_id, customer_id, amount, currency, received) = (
            get("applicationId")?,
            get("invoiceId")?,
            get("customerId")?,
            get("amount")?,
            get("currency")?,
            get("signature")?,
        );
        let slot = KeySlot::Application { application_id: &application_id };
        let (secret, _) =
            self.inner.settings.signing_key(slot).ok_or_else(|| GatewayError::UnknownKey(slot.to_string()))?;
        let expected =
            payment_link_signature(&application_id, &invoice_id, &customer_id, &amount, &currency, secret.expose());
        if Secret::new(expected) != Secret::new(received.to_ascii_lowercase()) {
            return Err(GatewayError::BadSignature);
        }
        Ok(self.insert(Kind::Link { application_id, invoice_id, customer_id, amount, currency }))
    }

    /// The buyer's choice: updates the payment and sends its notification (with retries),
    /// returning the delivery once done.
    ///
    /// # Errors
    ///
    /// Unknown payment, a payment already completed, no key to sign.
    pub async fn complete(&self, id: u64, choice: Choice) -> Result<Delivery, GatewayError> {
        let payment = self.payment(id)?;
        if payment.status != PaymentStatus::Pending {
            return Err(GatewayError::NotAllowed(format!("payment {id} is already completed")));
        }
        let (request, status) = match &payment.kind {
            Kind::Form { fields, trans_uuid, .. } => {
                let to_validate = field(fields, "vads_validation_mode") == Some("1");
                let (template, status) = match choice {
                    Choice::Accept if to_validate => (FormTemplate::Accepted, PaymentStatus::ToValidate),
                    Choice::Accept => (FormTemplate::Accepted, PaymentStatus::Accepted),
                    Choice::Refuse => (FormTemplate::Refused, PaymentStatus::Refused),
                    Choice::Abandon => (FormTemplate::Abandoned, PaymentStatus::Abandoned),
                };
                let mut builder = form_ipn(template, &payment.kind, fields, trans_uuid);
                if status == PaymentStatus::ToValidate {
                    builder = builder.set("vads_trans_status", "AUTHORISED_TO_VALIDATE");
                }
                (builder, status)
            }
            Kind::Link { .. } => {
                let (template, status) = match choice {
                    Choice::Accept => (LinkTemplate::Completed, PaymentStatus::Accepted),
                    Choice::Refuse => (LinkTemplate::Refused, PaymentStatus::Refused),
                    Choice::Abandon => (LinkTemplate::Canceled, PaymentStatus::Abandoned),
                };
                return self.send_link(payment, template, status, "payment").await;
            }
        };
        let label = format!("payment {}", request.get("vads_trans_status").unwrap_or_default().to_lowercase());
        self.send_form(payment, request, status, &label, None).await
    }

    /// A back-office action on a past payment: updates it and sends the notification.
    ///
    /// # Errors
    ///
    /// Unknown payment, an action that does not apply (refund of a refused payment, validation
    /// of a payment not waiting for it, anything but a replay for a link).
    pub async fn back_office(&self, id: u64, action: Action) -> Result<Delivery, GatewayError> {
        let payment = self.payment(id)?;
        let status = payment.status;
        if action == Action::Replay {
            let Some(last) = payment.last_request.clone() else {
                return Err(GatewayError::NotAllowed(format!("payment {id} has no notification to replay")));
            };
            return match &payment.kind {
                Kind::Form { .. } => {
                    let builder = FormBuilder::from_request(&last)
                        .map_err(|e| GatewayError::BadRequest(e.to_string()))?
                        .set("vads_url_check_src", "BO");
                    self.send_form(payment, builder, status, "replay", None).await
                }
                Kind::Link { .. } => {
                    let body: Value =
                        serde_json::from_slice(last.body()).map_err(|e| GatewayError::BadRequest(e.to_string()))?;
                    let application_id = match &payment.kind {
                        Kind::Link { application_id, .. } => application_id.clone(),
                        Kind::Form { .. } => String::new(),
                    };
                    let request = self.sign_link(LinkBuilder::from_body(body, &application_id), &application_id)?;
                    self.deliver(payment, request, status, "replay").await
                }
            };
        }
        let Kind::Form { fields, trans_uuid, .. } = &payment.kind else {
            return Err(GatewayError::NotAllowed(
                "CentralBill notifies payment results only: replay is the one back-office action".into(),
            ));
        };
        let (template, new_status, allowed) = match action {
            Action::Refund => (FormTemplate::Refund, PaymentStatus::Refunded, status == PaymentStatus::Accepted),
            Action::Cancel => (
                FormTemplate::Cancellation,
                PaymentStatus::Cancelled,
                matches!(status, PaymentStatus::Accepted | PaymentStatus::ToValidate),
            ),
            Action::Validate => {
                (FormTemplate::Validation, PaymentStatus::Accepted, status == PaymentStatus::ToValidate)
            }
            // Handled above; kept total so that no input can panic.
            Action::Replay => (FormTemplate::Accepted, status, false),
        };
        if !allowed {
            return Err(GatewayError::NotAllowed(format!("{action:?} does not apply to a payment {status:?}")));
        }
        // A refund is a new transaction; a cancellation or validation updates the payment.
        let uuid = if action == Action::Refund { None } else { Some(trans_uuid.as_str()) };
        let builder = form_ipn(template, &payment.kind, fields, uuid.unwrap_or(""));
        let builder = if uuid.is_none() { builder.set("vads_trans_uuid", fresh_hex(32)) } else { builder };
        let label = format!("{action:?}").to_lowercase();
        let parent = uuid.is_none().then(|| trans_uuid.clone());
        self.send_form(payment, builder, new_status, &label, parent).await
    }

    fn sign_link(&self, builder: LinkBuilder, application_id: &str) -> Result<RawRequest, GatewayError> {
        let slot = KeySlot::Application { application_id };
        let (secret, _) =
            self.inner.settings.signing_key(slot).ok_or_else(|| GatewayError::UnknownKey(slot.to_string()))?;
        let target = send::url_target(&self.inner.notify).unwrap_or("/");
        builder.target(target).sign(secret.expose()).map_err(|e| GatewayError::BadRequest(e.to_string()))
    }

    async fn send_link(
        &self,
        payment: Payment,
        template: LinkTemplate,
        status: PaymentStatus,
        label: &str,
    ) -> Result<Delivery, GatewayError> {
        let Kind::Link { application_id, invoice_id, customer_id, amount, currency } = &payment.kind else {
            return Err(GatewayError::NotAllowed("not a link payment".into()));
        };
        let amount_json: Value = amount
            .parse::<serde_json::Number>()
            .map(Value::Number)
            .map_err(|_| GatewayError::BadRequest(format!("the amount {amount:?} is not a number")))?;
        let set =
            |b: LinkBuilder, path: &str, v: Value| b.set(path, v).map_err(|e| GatewayError::BadRequest(e.to_string()));
        let mut builder = LinkBuilder::new(template, application_id);
        builder = set(builder, "invoice.id", Value::String(invoice_id.clone()))?;
        builder = set(builder, "invoice.customerId", Value::String(customer_id.clone()))?;
        builder = set(builder, "invoice.totalAmount.amount", amount_json.clone())?;
        builder = set(builder, "invoice.totalAmount.currency", Value::String(currency.clone()))?;
        let paid = if template == LinkTemplate::Completed { amount_json } else { Value::from(0) };
        builder = set(builder, "payment.totalAmountAlreadyPaid.amount", paid)?;
        builder = set(builder, "payment.totalAmountAlreadyPaid.currency", Value::String(currency.clone()))?;
        builder = set(builder, "paymentFee.currency", Value::String(currency.clone()))?;
        let request = self.sign_link(builder, application_id)?;
        self.deliver(payment, request, status, &format!("{label} {}", template.status().to_lowercase())).await
    }

    async fn send_form(
        &self,
        payment: Payment,
        builder: FormBuilder,
        status: PaymentStatus,
        label: &str,
        parent: Option<String>,
    ) -> Result<Delivery, GatewayError> {
        let Kind::Form { shop_id, mode, .. } = &payment.kind else {
            return Err(GatewayError::NotAllowed("not a form payment".into()));
        };
        let slot = KeySlot::Form { shop_id, mode: *mode };
        let (key, algorithm) =
            self.inner.settings.signing_key(slot).ok_or_else(|| GatewayError::UnknownKey(slot.to_string()))?;
        // The transaction is in its new state at the gateway whether or not the shop hears of it.
        self.record(payment.id, shop_id, *mode, builder.fields(), parent);
        let request = builder.target(send::url_target(&self.inner.notify).unwrap_or("/")).sign(key.expose(), algorithm);
        self.deliver(payment, request, status, label).await
    }

    async fn deliver(
        &self,
        payment: Payment,
        request: RawRequest,
        status: PaymentStatus,
        label: &str,
    ) -> Result<Delivery, GatewayError> {
        {
            let mut guard = self.lock();
            if let Some(p) = guard.1.get_mut(&payment.id) {
                p.status = status;
                p.last_request = Some(request.clone());
            }
        }
        let resign = match &payment.kind {
            Kind::Form { shop_id, mode, .. } => self
                .inner
                .settings
                .signing_key(KeySlot::Form { shop_id, mode: *mode })
                .map(|(key, algorithm)| Resign { key, algorithm }),
            Kind::Link { .. } => None,
        };
        let policy = RetryPolicy { retries: self.retries, interval: self.interval, resign };
        let url = self.inner.notify.clone();
        let delivery = tokio::task::spawn_blocking(move || send::deliver(&url, &request, &policy, |_| {}))
            .await
            .map_err(|e| GatewayError::BadRequest(format!("delivery task failed: {e}")))?
            .map_err(GatewayError::BadRequest)?;
        if let Some(p) = self.lock().1.get_mut(&payment.id) {
            p.deliveries.push(DeliveryRecord { label: label.to_owned(), delivery: delivery.clone() });
        }
        Ok(delivery)
    }

    /// The web interface: `GET /` (back office), `POST /vads-payment/` (hosted payment form),
    /// `GET /link` (CentralBill payment link), `POST /pay/{id}` (the buyer's choice),
    /// `POST /payments/{id}/{action}` (refund, cancel, validate, replay), and the REST API:
    /// `POST /api-payment/V4/Transaction/Get`, `POST /api-payment/outage/{n}` (the next `n`
    /// calls answer 503, as [`api_outage`](Self::api_outage)).
    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(back_office_page))
            .route("/vads-payment/", post(form_payment_page))
            .route("/link", get(link_payment_page))
            .route("/pay/{id}", post(choose))
            .route("/payments/{id}/{action}", post(action))
            .route(TRANSACTION_GET, post(transaction_get))
            .route("/api-payment/outage/{n}", post(outage))
            .with_state(self.clone())
    }

    /// The shop and the modes whose REST API password the `Authorization` header holds (both
    /// when the shop uses one password for both), or `None`.
    fn authenticate(&self, headers: &HeaderMap) -> Option<(String, Vec<Mode>)> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, credentials) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("Basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD.decode(credentials.trim()).ok()?;
        let colon = decoded.iter().position(|&b| b == b':')?;
        let (shop_id, password) = (std::str::from_utf8(&decoded[..colon]).ok()?, &decoded[colon + 1..]);
        let password = Secret::new(password);
        // Both modes are compared (constant time each), whichever matches.
        let modes: Vec<Mode> = [Mode::Test, Mode::Production]
            .into_iter()
            .filter(|&mode| {
                let slot = KeySlot::RestPassword { shop_id, mode };
                self.inner.settings.signing_key(slot).is_some_and(|(key, _)| key == password)
            })
            .collect();
        (!modes.is_empty()).then(|| (shop_id.to_owned(), modes))
    }
}

/// The path of the REST API's `Transaction/Get`.
const TRANSACTION_GET: &str = "/api-payment/V4/Transaction/Get";

/// The largest `Transaction/Get` request body read; a larger one is answered 413.
pub const API_BODY_LIMIT: usize = 4096;

/// A `V4/WebService/WebServiceError` answer.
fn api_error(code: &str, message: &str) -> Value {
    json!({
        "errorCode": code,
        "errorMessage": message,
        "detailedErrorCode": null,
        "detailedErrorMessage": null,
        "_type": "V4/WebService/WebServiceError",
    })
}

/// A `V4/WebService/Response` of `Transaction/Get`, as JSON.
fn api_response(code: StatusCode, document: &Value) -> Response {
    (code, [(header::CONTENT_TYPE, "application/json;charset=UTF-8")], document.to_string()).into_response()
}

/// An instant as the API writes it: RFC 3339, UTC, to the second (`2026-11-20T10:15:00+00:00`).
fn api_date(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]+00:00");
    at.to_offset(time::UtcOffset::UTC).format(format).unwrap_or_default()
}

/// The envelope of an authenticated call's answer.
fn envelope(server_url: &str, mode: Mode, success: bool, answer: Value) -> Value {
    json!({
        "webService": "Transaction/Get",
        "version": "V4",
        "applicationVersion": "ipn-gateway",
        "status": if success { "SUCCESS" } else { "ERROR" },
        "answer": answer,
        "ticket": null,
        "serverDate": api_date(OffsetDateTime::now_utc()),
        "applicationProvider": "LYRA",
        "metadata": null,
        "mode": mode.as_str(),
        "serverUrl": server_url,
        "_type": "V4/WebService/Response",
    })
}

/// The REST API's coarse `status` for a `detailedStatus` (the form's `vads_trans_status`), as the
/// vendor's status reference groups them: PAID once the amount is authorised or captured,
/// UNPAID when the payment failed or ended unpaid (refused, cancelled, abandoned, expired),
/// RUNNING while it waits for something (a manual validation, an authorisation, a check).
fn coarse_status(detailed: &str) -> &'static str {
    match detailed {
        "ACCEPTED" | "AUTHORISED" | "CAPTURED" | "PARTIALLY_AUTHORISED" => "PAID",
        "REFUSED" | "CANCELLED" | "ABANDONED" | "EXPIRED" | "ERROR" | "CAPTURE_FAILED" | "NOT_CREATED" => "UNPAID",
        _ => "RUNNING",
    }
}

/// A `V4/Transaction` from the fields of the last IPN that notified it.
fn transaction_json(uuid: &str, t: &Transaction) -> Value {
    let get = |name: &str| field(&t.fields, name).filter(|v| !v.is_empty());
    let minor = |name: &str| get(name).and_then(|v| v.parse::<u64>().ok());
    let alpha = |name: &str| get(name).map(|c| Currency::from_numeric(c).code().to_owned());
    let (amount, currency) = (minor("vads_amount"), alpha("vads_currency"));
    let effective_amount = minor("vads_effective_amount").or(amount);
    let effective_currency = alpha("vads_effective_currency").or_else(|| currency.clone());
    let detailed = get("vads_trans_status").unwrap_or_default();
    let operation = get("vads_operation_type").unwrap_or("DEBIT");
    json!({
        "shopId": t.shop_id,
        "uuid": uuid,
        "amount": amount,
        "currency": currency,
        "paymentMethodType": "CARD",
        "paymentMethodToken": null,
        "status": coarse_status(detailed),
        "detailedStatus": detailed,
        "operationType": operation,
        "effectiveStrongAuthentication": "DISABLED",
        "creationDate": api_date(t.created),
        "errorCode": null,
        "errorMessage": null,
        "detailedErrorCode": null,
        "detailedErrorMessage": null,
        "metadata": null,
        "transactionDetails": {
            "liabilityShift": "NO",
            "effectiveAmount": effective_amount,
            "effectiveCurrency": effective_currency,
            "creationContext": if operation == "CREDIT" { "REFUND" } else { "CHARGE" },
            "cardDetails": {
                "effectiveBrand": get("vads_card_brand"),
                "pan": get("vads_card_number"),
                "_type": "V4/CardDetails",
            },
            "parentTransactionUuid": t.parent,
            "_type": "V4/TransactionDetails",
        },
        "orderDetails": {
            "orderTotalAmount": amount,
            "orderEffectiveAmount": effective_amount,
            "orderCurrency": currency,
            "mode": t.mode.as_str(),
            "orderId": get("vads_order_id"),
            "metadata": null,
            "_type": "V4/OrderDetails",
        },
        "customer": { "email": get("vads_cust_email"), "reference": null, "_type": "V4/Customer/Customer" },
        "_type": "V4/Transaction",
    })
}

/// `POST /api-payment/V4/Transaction/Get`: body `{"uuid":"…"}`, HTTP Basic with the shop id and
/// the REST API password of the mode whose transactions it sees.
async fn transaction_get(State(gateway): State<Gateway>, request: axum::extract::Request) -> Response {
    #[derive(serde::Deserialize)]
    struct Request {
        uuid: String,
    }

    gateway.inner.api_calls.fetch_add(1, Ordering::SeqCst);
    if gateway.inner.api_outage.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
        return (StatusCode::SERVICE_UNAVAILABLE, "503 Service Unavailable (simulated outage)").into_response();
    }
    let (parts, body) = request.into_parts();
    let headers = &parts.headers;
    // A body declared too large is refused before it is read; one that grows beyond the limit
    // while read (or breaks off) too.
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = (StatusCode::PAYLOAD_TOO_LARGE, format!("the request body is limited to {API_BODY_LIMIT} bytes\n"));
    if declared.is_some_and(|length| length > API_BODY_LIMIT as u64) {
        return too_large.into_response();
    }
    let Ok(body) = axum::body::to_bytes(body, API_BODY_LIMIT).await else {
        return too_large.into_response();
    };
    let Some((shop_id, modes)) = gateway.authenticate(headers) else {
        let document = json!({
            "webService": "Transaction/Get",
            "version": "V4",
            "status": "ERROR",
            "answer": api_error("INT_905", "invalid authentication"),
            "mode": null,
            "_type": "V4/WebService/Response",
        });
        return api_response(StatusCode::UNAUTHORIZED, &document);
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    let server_url = format!("http://{host}");
    let mode = modes.first().copied().unwrap_or(Mode::Test);
    let Ok(Request { uuid }) = serde_json::from_slice::<Request>(&body) else {
        let answer = api_error("INT_902", "web-service input data validation error");
        return api_response(StatusCode::OK, &envelope(&server_url, mode, false, answer));
    };
    let found = gateway
        .transactions()
        .get(&uuid)
        .filter(|t| t.shop_id == shop_id && modes.contains(&t.mode))
        .map(|t| (t.mode, transaction_json(&uuid, t)));
    let document = match found {
        Some((mode, answer)) => envelope(&server_url, mode, true, answer),
        None => envelope(&server_url, mode, false, api_error("PSP_010", "transaction not found")),
    };
    api_response(StatusCode::OK, &document)
}

/// `POST /api-payment/outage/{n}`: the next `n` `Transaction/Get` calls answer 503.
async fn outage(State(gateway): State<Gateway>, Path(n): Path<u32>) -> String {
    gateway.api_outage(n);
    format!("the next {n} Transaction/Get calls answer 503\n")
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// Fields of the payment request the gateway echoes in its notification.
fn echoed(name: &str) -> bool {
    name.starts_with("vads_")
        && !name.starts_with("vads_url_")
        && !name.starts_with("vads_redirect_")
        && !matches!(name, "vads_return_mode" | "vads_theme_config" | "vads_shop_name" | "vads_shop_url")
}

/// A form notification for a payment: the template, the shop's request fields echoed, the
/// payment's transaction reference.
fn form_ipn(template: FormTemplate, kind: &Kind, fields: &[(String, String)], trans_uuid: &str) -> FormBuilder {
    let (shop_id, mode) = match kind {
        Kind::Form { shop_id, mode, .. } => (shop_id.as_str(), *mode),
        Kind::Link { .. } => ("", Mode::Test),
    };
    let mut builder = FormBuilder::new(template, shop_id).mode(mode);
    for (name, value) in fields.iter().filter(|(n, _)| echoed(n)) {
        builder = builder.set(name.as_str(), value.as_str());
    }
    for (from, to) in [("vads_amount", "vads_effective_amount"), ("vads_currency", "vads_effective_currency")] {
        if builder.get(to).is_some()
            && let Some(value) = field(fields, from)
        {
            builder = builder.set(to, value);
        }
    }
    if !trans_uuid.is_empty() {
        builder = builder.set("vads_trans_uuid", trans_uuid);
    }
    builder
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t} - ipn gateway simulator</title></head><body><h1>{t}</h1>{body}</body></html>",
        t = escape(title)
    ))
}

fn choice_form(id: u64, summary: &str) -> Html<String> {
    let mut body = format!("<p>{}</p><form method=\"post\" action=\"/pay/{id}\">", escape(summary));
    for (value, label) in [("accept", "Accept the payment"), ("refuse", "Refuse (bank)"), ("abandon", "Abandon")] {
        let _ = write!(body, "<button name=\"choice\" value=\"{value}\">{label}</button> ");
    }
    body.push_str("</form>");
    page("Payment", &body)
}

async fn form_payment_page(State(gateway): State<Gateway>, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let summary = format!(
        "Order {} - {} (currency {}) - shop {} ({})",
        field(&fields, "vads_order_id").unwrap_or("-"),
        field(&fields, "vads_amount").unwrap_or("?"),
        field(&fields, "vads_currency").unwrap_or("?"),
        field(&fields, "vads_site_id").unwrap_or("?"),
        field(&fields, "vads_ctx_mode").unwrap_or("?"),
    );
    match gateway.start_form_payment(fields) {
        Ok(id) => choice_form(id, &summary).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn link_payment_page(State(gateway): State<Gateway>, Query(query): Query<HashMap<String, String>>) -> Response {
    let summary = format!(
        "Invoice {} - {} {} - customer {}",
        query.get("invoiceId").map_or("-", String::as_str),
        query.get("amount").map_or("?", String::as_str),
        query.get("currency").map_or("?", String::as_str),
        query.get("customerId").map_or("-", String::as_str),
    );
    match gateway.start_link_payment(&query) {
        Ok(id) => choice_form(id, &summary).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn choose(
    State(gateway): State<Gateway>,
    Path(id): Path<u64>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let choice = match form.get("choice").map(String::as_str) {
        Some("accept") => Choice::Accept,
        Some("refuse") => Choice::Refuse,
        Some("abandon") => Choice::Abandon,
        _ => return GatewayError::BadRequest("choose accept, refuse or abandon".into()).into_response(),
    };
    if let Err(e) = gateway.payment(id) {
        return e.into_response();
    }
    // The buyer does not wait for the notification and its retries.
    tokio::spawn(async move {
        let _ = gateway.complete(id, choice).await;
    });
    Redirect::to("/").into_response()
}

async fn action(State(gateway): State<Gateway>, Path((id, name)): Path<(u64, String)>) -> Response {
    let Some(action) = Action::parse(&name) else {
        return GatewayError::BadRequest(format!("unknown action {name:?}")).into_response();
    };
    if let Err(e) = gateway.payment(id) {
        return e.into_response();
    }
    tokio::spawn(async move {
        let _ = gateway.back_office(id, action).await;
    });
    Redirect::to("/").into_response()
}

async fn back_office_page(State(gateway): State<Gateway>) -> Html<String> {
    let mut body = format!(
        "<p>Notifications go to <code>{}</code>. Post a signed payment form to <code>/vads-payment/</code> or open a CentralBill link on <code>/link?...</code>.</p><p>The REST API answers for the transactions of form payments: <code>curl -u SHOP_ID:REST_PASSWORD -H 'Content-Type: application/json' -d '{{\"uuid\":\"UUID\"}}' http://HOST{TRANSACTION_GET}</code> (the password of the transaction's mode).</p><table border=\"1\"><tr><th>#</th><th>order</th><th>status</th><th>transactions (uuid)</th><th>notifications</th><th>actions</th></tr>",
        escape(&gateway.inner.notify)
    );
    for p in gateway.payments() {
        let mut log = String::new();
        for record in &p.deliveries {
            for a in &record.delivery.attempts {
                let result = a.status.map_or_else(|| a.error.clone().unwrap_or_default(), |s| s.to_string());
                let _ = write!(
                    log,
                    "{}: attempt {} -> {} {}<br>",
                    escape(&record.label),
                    a.number,
                    escape(&result),
                    escape(&a.stored)
                );
            }
        }
        let mut actions = String::new();
        for name in ["refund", "cancel", "validate", "replay"] {
            let _ = write!(
                actions,
                "<form method=\"post\" action=\"/payments/{}/{name}\" style=\"display:inline\"><button>{name}</button></form> ",
                p.id
            );
        }
        let uuids: Vec<String> = p.transactions.iter().map(|u| format!("<code>{}</code>", escape(u))).collect();
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{log}</td><td>{actions}</td></tr>",
            p.id,
            escape(&p.order_id),
            p.status,
            uuids.join("<br>")
        );
    }
    body.push_str("</table>");
    page("Back office", &body)
}
