//! The form signature (PROTOCOLS 1.1): the values of every received `vads_*` field, sorted by
//! name, joined with `+`, then `+` and the shop key; HMAC-SHA-256 (base64) or SHA-1 (hex).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::Mac;
use sha1::Sha1;
use sha2::digest::Digest;

use super::FormFields;
use crate::error::Error;
use crate::keys::FormAlgorithm;
use crate::secret::{HmacSha256, Secret, ct_eq, hmac_matches, hmac_sha256_keyed};

/// The prefix of signed fields.
pub const SIGNED_PREFIX: &str = "vads_";

/// The HMAC of `payload` then `key`.
fn hmac_sha256(payload: &[u8], key: &[u8]) -> HmacSha256 {
    finish_with_key(hmac_sha256_keyed(key), key, |mac| Mac::update(mac, payload))
}

/// `mac` (keyed with `key`) fed what `feed` writes, then `key`.
fn finish_with_key(mut mac: HmacSha256, key: &[u8], feed: impl FnOnce(&mut HmacSha256)) -> HmacSha256 {
    feed(&mut mac);
    Mac::update(&mut mac, key);
    mac
}

fn sha1(payload: &[u8], key: &[u8]) -> Sha1 {
    let mut hasher = Sha1::new();
    Digest::update(&mut hasher, payload);
    Digest::update(&mut hasher, key);
    hasher
}

/// The signature of a set of fields with a key, as the gateway computes it. Fields without the
/// `vads_` prefix are ignored; the order given does not matter.
///
/// ```
/// use ipn_core::form::sign;
/// use ipn_core::FormAlgorithm;
/// let fields = [("vads_amount", "1524"), ("vads_action_mode", "INTERACTIVE"), ("vads_ctx_mode", "TEST"),
///     ("vads_currency", "978"), ("vads_page_action", "PAYMENT"), ("vads_payment_config", "SINGLE"),
///     ("vads_site_id", "12345678"), ("vads_trans_date", "20090501193530"), ("vads_trans_id", "654321"),
///     ("vads_version", "V2")];
/// assert_eq!(sign(fields, b"1122334455667788", FormAlgorithm::Sha1), "606b369759fac4f0864144c803c73676cbe470ff");
/// assert_eq!(sign(fields, b"1122334455667788", FormAlgorithm::HmacSha256), "O1ycab+xOkAmToSWeEE2hj39aAKCQ2IxGK+JxKv8iUI=");
/// ```
pub fn sign<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>, key: &[u8], algorithm: FormAlgorithm) -> String {
    let mut signed: Vec<(&str, &str)> = fields.into_iter().filter(|(n, _)| n.starts_with(SIGNED_PREFIX)).collect();
    signed.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut payload = Vec::with_capacity(signed.iter().map(|(_, v)| v.len() + 1).sum());
    for (_, value) in signed {
        payload.extend_from_slice(value.as_bytes());
        payload.push(b'+');
    }
    match algorithm {
        FormAlgorithm::HmacSha256 => BASE64.encode(hmac_sha256(&payload, key).finalize().into_bytes()),
        FormAlgorithm::Sha1 => hex::encode(sha1(&payload, key).finalize()),
    }
}

/// The signing string without the key: the sorted `vads_*` values joined with `+`, with the
/// trailing `+` before which the key goes. For diagnostics: the key never appears.
pub fn signing_payload(fields: &FormFields) -> String {
    String::from_utf8(fields.joined_values(SIGNED_PREFIX)).unwrap_or_else(|_| unreachable!("decoded fields are UTF-8"))
}

/// The shape of a received signature.
enum Received {
    Hmac([u8; 32]),
    Sha1([u8; 20]),
}

fn classify(signature: &str) -> Option<Received> {
    match signature.len() {
        40 => {
            let mut out = [0_u8; 20];
            hex::decode_to_slice(signature, &mut out).ok()?;
            Some(Received::Sha1(out))
        }
        44 => {
            let mut out = [0_u8; 32];
            (BASE64.decode_slice(signature, &mut out).ok()? == 32).then_some(Received::Hmac(out))
        }
        _ => None,
    }
}

/// Checks a received signature against every key of the slot (rotation), in constant time.
pub(crate) fn verify(
    fields: &FormFields,
    signature: &str,
    keys: &[Secret],
    algorithm: FormAlgorithm,
) -> Result<(), Error> {
    match (classify(signature), algorithm) {
        (Some(Received::Hmac(expected)), FormAlgorithm::HmacSha256) => {
            let payload = fields.joined_values(SIGNED_PREFIX);
            let mac = |key: &Secret| finish_with_key(key.hmac_sha256(), key.expose(), |mac| Mac::update(mac, &payload));
            let ok = keys.iter().any(|key| hmac_matches(mac(key), &expected));
            if ok { Ok(()) } else { Err(Error::SignatureMismatch) }
        }
        (Some(Received::Sha1(expected)), FormAlgorithm::Sha1) => {
            let payload = fields.joined_values(SIGNED_PREFIX);
            let ok = keys.iter().any(|key| ct_eq(&sha1(&payload, key.expose()).finalize(), &expected));
            if ok { Ok(()) } else { Err(Error::SignatureMismatch) }
        }
        (Some(Received::Sha1(_)), FormAlgorithm::HmacSha256) => Err(Error::Sha1NotAllowed),
        (Some(Received::Hmac(_)), FormAlgorithm::Sha1) => {
            Err(Error::UnsupportedAlgorithm { algorithm: "hmac-sha256".into() })
        }
        (None, _) => Err(Error::SignatureMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> FormFields {
        FormFields::parse(body.as_bytes()).unwrap()
    }

    #[test]
    fn empty_values_still_count() {
        let f = fields("vads_b=&vads_a=1&vads_c=");
        assert_eq!(signing_payload(&f), "1+++");
    }

    #[test]
    fn streamed_equals_built_string() {
        let f = fields("vads_z=%2B%26&vads_a=%C3%A9+x&other=1&vads_threeds_cavvAlgorithm=2&vads_threeds_cavv=");
        let key = b"k3y";
        let mut built = signing_payload(&f).into_bytes();
        built.extend_from_slice(key);
        let mut mac = <HmacSha256 as Mac>::new_from_slice(key).unwrap();
        Mac::update(&mut mac, &built);
        let expected = BASE64.encode(mac.finalize().into_bytes());
        assert_eq!(sign(f.iter(), key, FormAlgorithm::HmacSha256), expected);
        assert!(verify(&f, &expected, &[Secret::new(&key[..])], FormAlgorithm::HmacSha256).is_ok());
    }

    #[test]
    fn sha1_only_when_configured() {
        let f = fields("vads_a=1");
        let sha = sign(f.iter(), b"k", FormAlgorithm::Sha1);
        let keys = [Secret::new("k")];
        assert!(verify(&f, &sha, &keys, FormAlgorithm::Sha1).is_ok());
        assert!(matches!(verify(&f, &sha, &keys, FormAlgorithm::HmacSha256), Err(Error::Sha1NotAllowed)));
        let hmac = sign(f.iter(), b"k", FormAlgorithm::HmacSha256);
        assert!(verify(&f, &hmac, &keys, FormAlgorithm::Sha1).is_err());
    }

    #[test]
    fn rotation_any_key_matches() {
        let f = fields("vads_a=1");
        let sig = sign(f.iter(), b"new", FormAlgorithm::HmacSha256);
        assert!(verify(&f, &sig, &[Secret::new("old"), Secret::new("new")], FormAlgorithm::HmacSha256).is_ok());
        assert!(verify(&f, &sig, &[Secret::new("old")], FormAlgorithm::HmacSha256).is_err());
        assert!(verify(&f, "garbage", &[Secret::new("new")], FormAlgorithm::HmacSha256).is_err());
        assert!(verify(&f, "", &[Secret::new("new")], FormAlgorithm::HmacSha256).is_err());
    }
}
