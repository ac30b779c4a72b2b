//! `kr-hash` (PROTOCOLS 2): lowercase hex HMAC-SHA-256 of `kr-answer` with every `\/` read as
//! `/`. The pieces between escapes are streamed into the MAC: the unescaped answer is never built.

use hmac::Mac;

use crate::error::Error;
use crate::secret::{HmacSha256, Secret, hmac_matches, hmac_sha256_keyed};

/// The only `kr-hash-algorithm`.
pub(crate) const ALGORITHM: &str = "sha256_hmac";

/// `mac` (keyed) fed the answer with every `\/` read as `/`.
fn mac(mut mac: HmacSha256, answer: &str) -> HmacSha256 {
    let bytes = answer.as_bytes();
    let mut start = 0;
    // Every backslash followed by `/` is one (`\/` cannot overlap itself): a one-byte search
    // is cheaper than a two-byte one.
    for escape in memchr::memchr_iter(b'\\', bytes).filter(|&at| bytes.get(at + 1) == Some(&b'/')) {
        // Drop the backslash only: its `/` starts the next run, one update per run.
        mac.update(&bytes[start..escape]);
        start = escape + 1;
    }
    mac.update(&bytes[start..]);
    mac
}

/// `kr-hash` of an answer: lowercase hex HMAC-SHA-256 of the answer with every `\/` read as `/`.
///
/// `key` is the shop's REST API password (IPN) or its REST HMAC-SHA-256 key (browser return).
///
/// ```
/// assert_eq!(
///     ipn_core::rest::kr_hash("", b"ktM7bSeTJpclvpm4eEE9N0LIyoxUvsQ9AAYbQI1xQx7Qh"),
///     "a95c2b13d50d57858ff38e7abd76c39d644fd5d1cfdcc360e4c61f2fc48d4a5e"
/// );
/// ```
pub fn kr_hash(answer: &str, key: &[u8]) -> String {
    hex::encode(mac(hmac_sha256_keyed(key), answer).finalize().into_bytes())
}

/// Checks a received `kr-hash` against every key of the slot (rotation), in constant time.
pub(crate) fn verify(answer: &str, received: &str, keys: &[Secret]) -> Result<(), Error> {
    let mut expected = [0_u8; 32];
    // Wrong length or not hex: it cannot match; no detail for the sender.
    hex::decode_to_slice(received, &mut expected).map_err(|_| Error::SignatureMismatch)?;
    if keys.iter().any(|key| hmac_matches(mac(key.hmac_sha256(), answer), &expected)) {
        Ok(())
    } else {
        Err(Error::SignatureMismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_equals_unescaped_string() {
        let escaped = r#"{"a":"V4\/Payment","b":"\/\/x\/","c":"\\\/"}"#;
        let unescaped = escaped.replace("\\/", "/");
        let mut reference = <HmacSha256 as Mac>::new_from_slice(b"k").unwrap();
        reference.update(unescaped.as_bytes());
        assert_eq!(kr_hash(escaped, b"k"), hex::encode(reference.finalize().into_bytes()));
        assert_eq!(kr_hash(r#"{"t":"V4\/Payment"}"#, b"k"), kr_hash(r#"{"t":"V4/Payment"}"#, b"k"));
    }

    #[test]
    fn streamed_equals_unescaped_string_for_every_short_text() {
        // Every text of up to 6 characters over `\`, `/` and `a`: the runs between escapes
        // give the MAC of the text with every `\/` replaced, left to right.
        let mut texts = vec![String::new()];
        for _ in 0..7 {
            let longer: Vec<String> = texts.iter().flat_map(|t| ['\\', '/', 'a'].map(|c| format!("{t}{c}"))).collect();
            for text in &texts {
                let mut reference = <HmacSha256 as Mac>::new_from_slice(b"k").unwrap();
                reference.update(text.replace("\\/", "/").as_bytes());
                assert_eq!(kr_hash(text, b"k"), hex::encode(reference.finalize().into_bytes()), "{text}");
            }
            texts = longer;
        }
    }

    #[test]
    fn any_key_of_the_slot_matches() {
        let hash = kr_hash("{}", b"new");
        assert!(verify("{}", &hash, &[Secret::new("old"), Secret::new("new")]).is_ok());
        assert!(matches!(verify("{}", &hash, &[Secret::new("old")]), Err(Error::SignatureMismatch)));
        assert!(verify("{ }", &hash, &[Secret::new("new")]).is_err());
    }

    #[test]
    fn malformed_hashes_never_match() {
        let keys = [Secret::new("k")];
        let hash = kr_hash("{}", b"k");
        for bad in ["", "zz", &hash[..63], &format!("{hash}0"), &format!("{}g", &hash[..63])] {
            assert!(matches!(verify("{}", bad, &keys), Err(Error::SignatureMismatch)), "{bad}");
        }
        assert!(verify("{}", &hash.to_uppercase(), &keys).is_ok(), "hex case carries no meaning");
    }
}
