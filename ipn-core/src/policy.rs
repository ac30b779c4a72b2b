//! What a verifier accepts, as data the schemes read: the [`Policy`] a
//! [`Verifier`](crate::Verifier) is configured with, the configuration's [`Limits`], the media
//! types, the form fields accepted beyond the dictionary, and the bounds on link signatures.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::clock::{Clock, SystemClock};
use crate::keys::Credentials;
use crate::types::{Endpoint, Mode};

/// The form media type.
pub const FORM_MEDIA_TYPE: &str = "application/x-www-form-urlencoded";
/// The JSON media type.
pub const JSON_MEDIA_TYPE: &str = "application/json";

/// What the verifier accepts: endpoint kind, TEST mode, limits, link signature requirements,
/// clock. Built through [`Verifier`](crate::Verifier)'s methods.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) endpoint: Endpoint,
    /// `None`: each shop's own setting decides (refused unless the shop opted in).
    pub(crate) accept_test_mode: Option<bool>,
    pub(crate) max_body_bytes: usize,
    pub(crate) max_clock_skew: Duration,
    pub(crate) link_required: Arc<[String]>,
    pub(crate) media_types: Arc<[String]>,
    pub(crate) extra_form_fields: ExtraFields,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Default for Policy {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            endpoint: Endpoint::Ipn,
            accept_test_mode: None,
            max_body_bytes: limits.max_body_bytes,
            max_clock_skew: Duration::from_secs(limits.max_clock_skew_s),
            link_required: DEFAULT_REQUIRED_COMPONENTS.iter().map(|s| (*s).to_owned()).collect(),
            media_types: [FORM_MEDIA_TYPE, JSON_MEDIA_TYPE].iter().map(|s| (*s).to_owned()).collect(),
            extra_form_fields: ExtraFields::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl Policy {
    /// The endpoint kind.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// TEST mode as decided for every shop by [`Verifier::accept_test_mode`](crate::Verifier::accept_test_mode): `Some(true)` accepts
    /// every shop's TEST notifications, `Some(false)` refuses them all, `None` (the default) leaves
    /// it to each shop, which refuses them unless it opted in
    /// ([`Credentials::accepts_test_mode`]).
    pub fn accepts_test_mode(&self) -> Option<bool> {
        self.accept_test_mode
    }

    /// The largest body accepted.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The largest distance between a signed `Date` and now.
    pub fn max_clock_skew(&self) -> Duration {
        self.max_clock_skew
    }

    /// The form field names accepted beyond the gateway's documented ones.
    pub fn extra_form_fields(&self) -> &ExtraFields {
        &self.extra_form_fields
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// Whether an authentic notification of `mode` is accepted: PRODUCTION always, TEST when this
    /// policy accepts it for every shop, or leaves it to the shop and the shop opted in.
    pub(crate) fn accepts_mode(&self, mode: Mode, credentials: &Credentials) -> bool {
        mode == Mode::Production || self.accept_test_mode.unwrap_or_else(|| credentials.accepts_test_mode())
    }

    /// Whether a media type (lowercase, without parameters) is accepted.
    pub fn accepts_media_type(&self, media_type: &str) -> bool {
        self.media_types.iter().any(|m| m == media_type)
    }
}

/// Limits applied by the adapters and the verifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The largest body accepted, in bytes (default 64 KiB).
    pub max_body_bytes: usize,
    /// The largest distance between a signed `Date` and now, in seconds (default 300).
    pub max_clock_skew_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_body_bytes: 64 * 1024, max_clock_skew_s: 300 }
    }
}

/// Names added by the configuration for fields the gateway sends that this dictionary does not
/// know yet (or the merchant's own `vads_ext_info_*` fields), read as free text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtraFields(Arc<[String]>);

impl ExtraFields {
    /// The added names. A name that is not a signed field name (`vads_`, then letters, digits,
    /// `_`) is left out: the signature does not cover such a field, so it is never accepted (the
    /// configuration file refuses it with an error).
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Self {
        let mut names: Vec<String> =
            names.into_iter().map(|n| n.as_ref().to_owned()).filter(|n| is_field_name(n)).collect();
        names.sort_unstable();
        names.dedup();
        Self(names.into())
    }

    /// The added names, sorted.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

/// The components a link signature must cover by default.
pub const DEFAULT_REQUIRED_COMPONENTS: [&str; 3] = ["(request-target)", "date", "digest"];

/// The longest `Signature` value, `Authorization: Signature` value, or RFC 9421
/// `Signature-Input` / `Signature` field read: 4 KiB. CentralBill's is about 230 bytes (a UUID
/// `keyId`, four components, a 44-character signature); 4 KiB leaves room for
/// [`MAX_SIGNED_COMPONENTS`] long header names and the draft's optional parameters, and keeps the
/// parse to microseconds.
pub const MAX_SIGNATURE_HEADER_LEN: usize = 4 * 1024;

/// The most parameters one signature may carry, unknown ones included: 16. draft-cavage defines
/// six (`keyId`, `algorithm`, `headers`, `signature`, `created`, `expires`) and RFC 9421 six
/// (`created`, `expires`, `nonce`, `alg`, `keyid`, `tag`); ten more leave room for extensions,
/// and the duplicate check (each name against those before it) stays under 120 comparisons.
pub const MAX_SIGNATURE_PARAMETERS: usize = 16;

/// The most components one signature may cover: 32. CentralBill signs four
/// (`(request-target) content-type date digest`) and the drafts' examples at most seven. Each is
/// looked up among the request's headers and compared with the others to refuse a repeat.
pub const MAX_SIGNED_COMPONENTS: usize = 32;

/// The longest signing string (draft-cavage) or signature base (RFC 9421) built: 16 KiB.
/// CentralBill's is about 200 bytes; 16 KiB holds an 8 KiB request target (the usual server
/// limit) with a few KiB of headers, and the HMAC over it takes tens of microseconds. Building
/// stops as soon as it would go past it.
pub const MAX_SIGNING_STRING_LEN: usize = 16 * 1024;

/// Whether `name` is a signed form field name: `vads_`, then ASCII letters, digits and `_`.
pub(crate) fn is_field_name(name: &str) -> bool {
    name.strip_prefix("vads_")
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}
