//! Form notifications (`vads_*`), PROTOCOLS section 1: decoding, signature, typed notification.

mod decode;
mod dictionary;
mod notification;
mod signature;

pub use crate::policy::ExtraFields;
pub use decode::{FormError, FormFields};
pub use dictionary::{
    FIELDS, FieldFormat, IPN_ONLY, REQUIRED, Strictness, check_with, field_format, field_format_with,
    product_line_families, requirements, structural_names,
};
pub use notification::{BackOfficeOperation, FormNotification, Nature, Source};
use notification::{RawTyped, Typed};
pub use signature::{SIGNED_PREFIX, sign, signing_payload};

use crate::error::Error;
use crate::keys::{KeySlot, KeyStore};
use crate::policy::Policy;
use crate::types::{GatewayApi, Mode, Scheme};

/// The shop and mode a form notification claims (`vads_site_id`, `vads_ctx_mode`), read before
/// authentication to pick the key.
fn claimed<'a>(site_id: Option<&'a str>, ctx_mode: Option<&str>) -> Result<(&'a str, Mode), Error> {
    // `let ... else`, not `ok_or`: the error is built only when it is returned (clippy takes
    // `ok_or_else` for a needless closure here, and `ok_or` built and dropped it every time).
    let Some(shop_id) = site_id.filter(|s| !s.is_empty()) else {
        return Err(Error::MissingField { scheme: Scheme::Form, field: "vads_site_id" });
    };
    let Some(mode) = ctx_mode else {
        return Err(Error::MissingField { scheme: Scheme::Form, field: "vads_ctx_mode" });
    };
    let mode = Mode::parse(mode)
        .ok_or_else(|| Error::malformed(Scheme::Form, "vads_ctx_mode is neither TEST nor PRODUCTION"))?;
    Ok((shop_id, mode))
}

/// What a verification reads of the fields.
pub(crate) struct Read<'a> {
    signature: Option<&'a str>,
    ctx_mode: Option<&'a str>,
    site_id: Option<&'a str>,
    /// What the notification types.
    pub(crate) typed: RawTyped<'a>,
}

/// Reads the fields a verification needs.
pub(crate) fn read(fields: &FormFields) -> Read<'_> {
    let get = |name| fields.get(name);
    let (signature, ctx_mode, site_id) = (get("signature"), get("vads_ctx_mode"), get("vads_site_id"));
    let typed = RawTyped {
        amount: get("vads_amount"),
        effective_amount: get("vads_effective_amount"),
        operation_type: get("vads_operation_type"),
        recurrence_number: get("vads_recurrence_number"),
        sequence_number: get("vads_sequence_number"),
        trans_date: get("vads_trans_date"),
        status: get("vads_trans_status"),
        source: get("vads_url_check_src"),
    };
    Read { signature, ctx_mode, site_id, typed }
}

/// Authenticates decoded form fields, then types them; with the gateway API the shop confirms
/// its notifications with, if it opted in.
pub(crate) async fn verify(
    fields: FormFields,
    keys: &dyn KeyStore,
    policy: &Policy,
) -> Result<(FormNotification, Option<GatewayApi>), Error> {
    dictionary::check(&fields, policy.endpoint, &policy.extra_form_fields)?;
    let Read { signature, ctx_mode, site_id, typed } = read(&fields);
    let (shop_id, mode) = claimed(site_id, ctx_mode)?;
    let slot = KeySlot::Form { shop_id, mode };
    let Some(signature) = signature else {
        return Err(Error::MissingField { scheme: Scheme::Form, field: "signature" });
    };
    let credentials =
        keys.credentials(slot).await.map_err(Error::KeyStore)?.ok_or_else(|| Error::unknown_shop(shop_id))?;
    signature::verify(&fields, signature, credentials.secrets(), credentials.algorithm())?;
    if !policy.accepts_mode(mode, &credentials) {
        return Err(Error::TestModeRefused);
    }
    let typed = Typed::parse(typed)?;
    Ok((FormNotification::new(fields, mode, typed), credentials.confirmed_with().cloned()))
}
