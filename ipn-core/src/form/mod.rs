//! Form notifications (`vads_*`), PROTOCOLS section 1: decoding, signature, typed notification.

mod decode;
mod notification;
mod signature;

pub use decode::{FormError, FormFields};
pub use notification::{BackOfficeOperation, FormNotification, Nature, Source};
pub use signature::{SIGNED_PREFIX, sign, signing_payload};

use crate::error::Error;
use crate::keys::{KeySlot, KeyStore};
use crate::types::{Endpoint, Mode, Scheme};
use crate::verifier::Policy;

/// The shop and mode a form notification claims (`vads_site_id`, `vads_ctx_mode`), read before
/// authentication to pick the key.
fn slot<'a>(site_id: Option<&'a str>, ctx_mode: Option<&str>) -> Result<KeySlot<'a>, Error> {
    let shop_id =
        site_id.filter(|s| !s.is_empty()).ok_or(Error::MissingField { scheme: Scheme::Form, field: "vads_site_id" })?;
    let mode = ctx_mode.ok_or(Error::MissingField { scheme: Scheme::Form, field: "vads_ctx_mode" })?;
    let mode = Mode::parse(mode)
        .ok_or_else(|| Error::malformed(Scheme::Form, "vads_ctx_mode is neither TEST nor PRODUCTION"))?;
    Ok(KeySlot::Form { shop_id, mode })
}

/// Authenticates decoded form fields, then types them.
pub(crate) async fn verify(
    fields: FormFields,
    keys: &dyn KeyStore,
    policy: &Policy,
) -> Result<FormNotification, Error> {
    let [signature, ctx_mode, hash, site_id] =
        fields.get_sorted(["signature", "vads_ctx_mode", "vads_hash", "vads_site_id"]);
    let slot = slot(site_id, ctx_mode)?;
    let KeySlot::Form { shop_id, mode } = slot else { unreachable!("form::slot returns a form slot") };
    let signature = signature.ok_or(Error::MissingField { scheme: Scheme::Form, field: "signature" })?;
    let credentials = crate::keys::lookup(keys, slot)
        .await
        .map_err(Error::KeyStore)?
        .ok_or_else(|| Error::UnknownShop { shop_id: shop_id.to_owned() })?;
    signature::verify(&fields, signature, credentials.secrets(), credentials.algorithm())?;

    match (policy.endpoint, hash.is_some()) {
        (Endpoint::Ipn, false) => {
            return Err(Error::WrongEndpoint("a browser return (no vads_hash) was posted to the IPN endpoint"));
        }
        (Endpoint::Return, true) => {
            return Err(Error::WrongEndpoint("a server notification (vads_hash) was posted to the return endpoint"));
        }
        _ => {}
    }
    policy.check_mode(mode, &credentials)?;
    FormNotification::from_fields(fields, mode)
}
