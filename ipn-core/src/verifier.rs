//! The one entry point: [`Verifier::verify`] takes a request view, recognises the scheme, finds
//! the secret, authenticates the exact received bytes, and only then types the notification.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::config::Config;
use crate::confirm::{ApiTransport, Confirmer};
use crate::error::Error;
use crate::form::{self, FormFields};
use crate::keys::KeyStore;
use crate::link;
use crate::notification::Notification;
use crate::policy::{ExtraFields, JSON_MEDIA_TYPE, Limits, Policy};
use crate::request::RequestView;
use crate::rest;
use crate::types::{Endpoint, Scheme};

/// Verifies notifications of every scheme against a [`KeyStore`].
///
/// Cheap to clone (its parts are shared); configure it by chaining methods that take `self`.
///
/// ```
/// use ipn_core::{Endpoint, Keys, Mode, Notification, RequestView, ShopKeys, Verifier};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     let waker = std::task::Waker::noop();
/// #     let mut cx = std::task::Context::from_waker(&waker);
/// #     let mut f = std::pin::pin!(f);
/// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
/// # }
/// let keys = Keys::builder()
///     // A TEST notification is refused unless its shop opts in (or the verifier accepts TEST
///     // for every shop with `.accept_test_mode(true)`).
///     .shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788").accept_test_mode(true))
///     .build()
///     .unwrap();
/// let verifier = Verifier::new(keys).endpoint(Endpoint::Ipn);
///
/// let body = "vads_amount=4525&vads_ctx_mode=TEST&vads_currency=978&\
///             vads_hash=0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7&\
///             vads_order_id=ORDER-1042&\
///             vads_site_id=12345678&vads_trans_date=20261120101500&vads_trans_status=AUTHORISED&\
///             vads_url_check_src=PAY&vads_version=V2&signature=dNXpd7XTJvun3rkCjydZ6FfX%2B%2FWwnJzRUy3Ra5QfLGk%3D";
/// let headers = [("content-type", "application/x-www-form-urlencoded")];
/// let request = RequestView::new("POST", "/ipn", &headers, body.as_bytes());
///
/// let notification = block_on(verifier.verify(request)).unwrap();
/// assert_eq!(notification.order_id(), Some("ORDER-1042"));
/// assert_eq!(notification.amount().unwrap().to_string(), "45.25 EUR");
/// assert!(matches!(notification, Notification::Form(_)));
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    keys: Arc<dyn KeyStore>,
    policy: Policy,
    confirmer: Confirmer,
}

impl Verifier {
    /// A verifier for the IPN endpoint with the default policy: TEST-mode notifications refused
    /// except for the shops that opted in (see [`accept_test_mode`](Self::accept_test_mode)),
    /// 64 KiB bodies, a 300 s window for signed dates, the system clock.
    pub fn new(keys: impl KeyStore + 'static) -> Self {
        Self::with_key_store(Arc::new(keys))
    }

    /// A verifier over a shared key store.
    pub fn with_key_store(keys: Arc<dyn KeyStore>) -> Self {
        Self { keys, policy: Policy::default(), confirmer: Confirmer::default() }
    }

    /// A verifier over a loaded configuration's keys and limits.
    pub fn from_config(config: Config) -> Self {
        let extra = config.extra_form_fields().clone();
        let (keys, limits) = config.into_parts();
        let mut verifier = Self::new(keys).limits(limits);
        verifier.policy.extra_form_fields = extra;
        verifier
    }

    /// Which endpoint this verifier serves (IPN by default).
    pub fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.policy.endpoint = endpoint;
        self
    }

    /// Decides TEST mode for every shop, whatever each shop's own setting says: `true` accepts
    /// the TEST-mode notifications of every configured shop (a development server), `false`
    /// refuses them all (a production server that must never take a TEST payment as paid, even
    /// if a shop's configuration opts in).
    ///
    /// Not called (the default), each shop decides: a TEST-mode notification is refused with
    /// [`Error::TestModeRefused`] (`403`) unless its shop opted in, with
    /// [`ShopKeys::accept_test_mode(true)`](crate::ShopKeys::accept_test_mode) or
    /// `accept_test_mode = true` in its `[[shops]]` table. The signature is checked first: a
    /// forged TEST notification is a bad signature, not a refusal.
    pub fn accept_test_mode(mut self, accept: bool) -> Self {
        self.policy.accept_test_mode = Some(accept);
        self
    }

    /// The largest body accepted (default 64 KiB). The adapters enforce it while reading.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.policy.max_body_bytes = limit;
        self
    }

    /// The accepted distance between a link notification's signed `Date` and now (default 300 s).
    pub fn max_clock_skew(mut self, window: Duration) -> Self {
        self.policy.max_clock_skew = window;
        self
    }

    /// Applies configured limits.
    pub fn limits(self, limits: Limits) -> Self {
        self.max_body_bytes(limits.max_body_bytes).max_clock_skew(Duration::from_secs(limits.max_clock_skew_s))
    }

    /// The clock used for date checks (the system clock by default).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.policy.clock = Arc::new(clock);
        self
    }

    /// The components a link signature must cover, at least (default: `(request-target)`,
    /// `date`, `digest`). Names are lowercased.
    pub fn link_required_components<S: AsRef<str>>(mut self, components: impl IntoIterator<Item = S>) -> Self {
        self.policy.link_required = components.into_iter().map(|c| c.as_ref().to_ascii_lowercase()).collect();
        self
    }

    /// The accepted media types (default: form and JSON). A request without `Content-Type` is
    /// recognised by its body.
    pub fn media_types<S: AsRef<str>>(mut self, media_types: impl IntoIterator<Item = S>) -> Self {
        self.policy.media_types = media_types.into_iter().map(|c| c.as_ref().to_ascii_lowercase()).collect();
        self
    }

    /// Form field names to accept beyond the gateway's documented ones ([`form::FIELDS`]), read as
    /// free text: a field the gateway started sending after this release, or the merchant's own
    /// `vads_ext_info_*` fields. Default: none. Every other name is refused, since form field
    /// names are not signed (see the crate's security notes).
    pub fn extra_form_fields<S: AsRef<str>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.policy.extra_form_fields = ExtraFields::new(names);
        self
    }

    /// How the form IPNs of the shops that opted in ([`ShopKeys::confirm_with`](crate::ShopKeys::confirm_with))
    /// reach their gateway's REST API. Default: `confirm::HttpTransport`
    /// with the `gateway-api` feature; without it and without a transport, such a notification
    /// is answered `503` ([`Error::ConfirmationUnavailable`]). Confirmations are remembered by the
    /// verifier and its clones; setting a transport starts afresh.
    pub fn gateway_transport(mut self, transport: impl ApiTransport + 'static) -> Self {
        self.confirmer = Confirmer::with_transport(Arc::new(transport));
        self
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The key store.
    pub fn key_store(&self) -> &Arc<dyn KeyStore> {
        &self.keys
    }

    /// Checks method, size and media type: what an adapter can answer before reading the body
    /// (with `content_length` when known).
    ///
    /// # Errors
    ///
    /// `MethodNotAllowed`, `UnsupportedMediaType`, `BodyTooLarge`.
    pub fn precheck(&self, method: &str, media_type: Option<&str>, content_length: Option<u64>) -> Result<(), Error> {
        if method != "POST" {
            return Err(Error::method_not_allowed(method));
        }
        if let Some(media_type) = media_type
            && !self.policy.accepts_media_type(media_type)
        {
            return Err(Error::unsupported_media_type(media_type));
        }
        if content_length.is_some_and(|len| len > self.policy.max_body_bytes as u64) {
            return Err(Error::BodyTooLarge { limit: self.policy.max_body_bytes });
        }
        Ok(())
    }

    /// Authenticates and types a notification.
    ///
    /// # Errors
    ///
    /// Every [`Error`] says at which stage it stopped; [`Error::outcome`] gives the reply.
    pub async fn verify(&self, request: RequestView<'_>) -> Result<Notification, Error> {
        let media_type = request.media_type();
        self.precheck(request.method(), media_type.as_deref(), None)?;
        let body = request.body();
        if body.len() > self.policy.max_body_bytes {
            return Err(Error::BodyTooLarge { limit: self.policy.max_body_bytes });
        }
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::EmptyBody);
        }
        let looks_like_json = media_type.as_deref().map_or_else(
            || body.trim_ascii_start().starts_with(b"{"),
            |m| m == JSON_MEDIA_TYPE || m.ends_with("+json"),
        );
        let result = if looks_like_json {
            link::verify(request, &*self.keys, &self.policy).await.map(Notification::Link)
        } else {
            let fields = FormFields::decode(body, request.shared_body())
                .map_err(|e| Error::malformed(Scheme::Form, e.to_string()))?;
            // REST is what `kr-hash` signs, not any `kr-` name (a form body with a `kr-` field is
            // read as a form, whose dictionary refuses it), and a body never passes for both
            // schemes.
            let form = fields.has_prefix(form::SIGNED_PREFIX);
            if fields.get(rest::HASH_FIELD).is_some() {
                if form {
                    Err(Error::malformed(Scheme::Rest, "kr-hash beside vads_ fields: a body carries one scheme"))
                } else {
                    rest::verify(&fields, &*self.keys, &self.policy).await.map(Notification::Rest)
                }
            } else if form {
                self.verify_form(fields).await.map(Notification::Form)
            } else if fields.has_prefix("kr-") {
                Err(Error::MissingField { scheme: Scheme::Rest, field: rest::HASH_FIELD })
            } else {
                Err(Error::UnknownScheme)
            }
        };
        if let Err(error) = &result {
            tracing::debug!(%error, outcome = ?error.outcome(), "notification rejected");
        }
        result
    }

    /// A form notification: its signature, then, for an IPN of a shop that opted in, the
    /// gateway's confirmation. A browser return is not confirmed: it only tells which page to show.
    async fn verify_form(&self, fields: FormFields) -> Result<form::FormNotification, Error> {
        let (notification, confirm_with) = form::verify(fields, &*self.keys, &self.policy).await?;
        if let Some(api) = confirm_with
            && self.policy.endpoint == Endpoint::Ipn
        {
            self.confirmer.confirm(&notification, &api, &*self.keys).await?;
        }
        Ok(notification)
    }
}
