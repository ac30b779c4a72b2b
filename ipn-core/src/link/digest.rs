//! The body digest (PROTOCOLS 3.1 step 6), always checked against the received body: `Digest`
//! (RFC 3230: `SHA-256=<base64>` of the raw hash, or of its lowercase hex as CentralBill's own
//! example shows) and `Content-Digest` (RFC 9530, a structured dictionary read with `sfv`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sfv::{BareItem, Dictionary, ListEntry, Parser};
use sha2::{Digest, Sha256, Sha512};

use crate::error::Error;
use crate::request::HeaderMemo;
use crate::secret::ct_eq;
use crate::types::Scheme;

/// The `Digest` header value for a body, RFC 3230 form: `SHA-256=` and the base64 of the raw
/// SHA-256.
///
/// ```
/// assert_eq!(ipn_core::link::digest_header(b""), "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
/// ```
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(Sha256::digest(body)))
}

/// The `Digest` header value in the form CentralBill's own example shows: `SHA-256=` and the
/// base64 of the lowercase hex SHA-256 (accepted by the verifier like the RFC 3230 form).
///
/// ```
/// assert_eq!(
///     ipn_core::link::digest_header_hex(b""),
///     "SHA-256=ZTNiMGM0NDI5OGZjMWMxNDlhZmJmNGM4OTk2ZmI5MjQyN2FlNDFlNDY0OWI5MzRjYTQ5NTk5MWI3ODUyYjg1NQ=="
/// );
/// ```
pub fn digest_header_hex(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(hex::encode(Sha256::digest(body))))
}

/// The `Content-Digest` header value for a body (RFC 9530): `sha-256=:<base64>:`.
///
/// ```
/// assert_eq!(
///     ipn_core::link::content_digest_header(b""),
///     "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
/// );
/// ```
pub fn content_digest_header(body: &[u8]) -> String {
    format!("sha-256=:{}:", BASE64.encode(Sha256::digest(body)))
}

/// The hashes of the body we can check, computed at most once each.
struct BodyHashes<'a> {
    body: &'a [u8],
    sha256: Option<[u8; 32]>,
    sha512: Option<[u8; 64]>,
}

impl<'a> BodyHashes<'a> {
    fn new(body: &'a [u8]) -> Self {
        Self { body, sha256: None, sha512: None }
    }

    /// The raw hash for an algorithm name (any case), `None` when we do not implement it.
    fn get(&mut self, algorithm: &str) -> Option<&[u8]> {
        let body = self.body;
        if algorithm.eq_ignore_ascii_case("sha-256") {
            Some(self.sha256.get_or_insert_with(|| Sha256::digest(body).into()))
        } else if algorithm.eq_ignore_ascii_case("sha-512") {
            Some(self.sha512.get_or_insert_with(|| Sha512::digest(body).into()))
        } else {
            None
        }
    }
}

/// A header value as text.
fn text_of<'v>(name: &str, value: &'v [u8]) -> Result<&'v str, Error> {
    std::str::from_utf8(value).map_err(|_| Error::malformed(Scheme::Link, format!("the {name} header is not UTF-8")))
}

/// Checks every digest header present against the body.
///
/// At least one of `Digest` and `Content-Digest` must be present; every entry with an algorithm
/// we implement (SHA-256, SHA-512) must match; entries with other algorithms are ignored as long
/// as one entry could be checked. Several instances of a header are read one after the other,
/// as their values joined with `, ` would be (a `Content-Digest` key repeated across instances
/// is checked in each), without copying them.
pub(crate) fn check(headers: &mut HeaderMemo<'_, '_>) -> Result<(), Error> {
    let [digest, _] = headers.first_two("digest");
    let [content_digest, _] = headers.first_two("content-digest");
    if digest.is_none() && content_digest.is_none() {
        return Err(Error::MissingHeader { header: "digest".into() });
    }
    let mut hashes = BodyHashes::new(headers.view().body());
    let mut checked = 0_usize;
    let mut unsupported = None;

    for value in headers.values("digest") {
        for entry in text_of("Digest", value)?.split(',') {
            let entry = entry.trim();
            let (algorithm, value) = entry
                .split_once('=')
                .ok_or_else(|| Error::malformed(Scheme::Link, "a Digest entry is not algorithm=value"))?;
            let algorithm = algorithm.trim();
            let Some(expected) = hashes.get(algorithm) else {
                unsupported = Some(algorithm.to_ascii_lowercase());
                continue;
            };
            checked += 1;
            if !digest_value_matches(value.trim(), expected) {
                return Err(Error::DigestMismatch);
            }
        }
    }

    for value in headers.values("content-digest") {
        let dictionary: Dictionary = Parser::new(text_of("Content-Digest", value)?)
            .parse()
            .map_err(|_| Error::malformed(Scheme::Link, "Content-Digest is not a structured dictionary"))?;
        for (algorithm, entry) in &dictionary {
            // Structured-field keys are lowercase already.
            let Some(expected) = hashes.get(algorithm.as_str()).filter(|_| is_lowercase(algorithm.as_str())) else {
                unsupported = Some(algorithm.as_str().to_owned());
                continue;
            };
            let ListEntry::Item(item) = entry else {
                return Err(Error::malformed(Scheme::Link, "a Content-Digest value is not a byte sequence"));
            };
            let BareItem::ByteSequence(received) = &item.bare_item else {
                return Err(Error::malformed(Scheme::Link, "a Content-Digest value is not a byte sequence"));
            };
            checked += 1;
            if !ct_eq(received, expected) {
                return Err(Error::DigestMismatch);
            }
        }
    }

    if checked == 0 {
        let algorithm = unsupported.unwrap_or_else(|| "none".into());
        return Err(Error::unsupported_algorithm(&format!("{algorithm} (body digest)")));
    }
    Ok(())
}

fn is_lowercase(text: &str) -> bool {
    !text.bytes().any(|b| b.is_ascii_uppercase())
}

/// The longest hash form we can match: the hex of a SHA-512 (128 bytes).
const MAX_DECODED: usize = 128;

/// A `Digest` value: base64 of the raw hash (RFC 3230) or of its lowercase hex (CentralBill).
///
/// The decoder (padding required, no stray bits) reads exactly one text as each byte string, and
/// its length tells the form: a value matches exactly when it is our hash encoded in the form of
/// its length. Encoding ours costs about half of decoding theirs.
fn digest_value_matches(value: &str, expected: &[u8]) -> bool {
    let mut hex = [0_u8; MAX_DECODED];
    let form = if value.len() == encoded_len(expected.len()) {
        expected
    } else if value.len() == encoded_len(expected.len() * 2) {
        let Some(hex) = hex.get_mut(..expected.len() * 2) else {
            return false;
        };
        if hex::encode_to_slice(expected, hex).is_err() {
            return false;
        }
        hex
    } else {
        return false;
    };
    let mut encoded = [0_u8; MAX_ENCODED];
    match BASE64.encode_slice(form, &mut encoded) {
        Ok(len) => encoded.get(..len).is_some_and(|encoded| ct_eq(value.as_bytes(), encoded)),
        Err(_) => false,
    }
}

/// The length of the padded base64 of `len` bytes.
fn encoded_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// The longest base64 we encode: the hex of a SHA-512.
const MAX_ENCODED: usize = MAX_DECODED.div_ceil(3) * 4;

/// [`digest_value_matches`] as it was, decoding the value: the tests' reference.
#[cfg(test)]
fn digest_value_matches_decoding(value: &str, expected: &[u8]) -> bool {
    // Room for the decoder's estimate of any value we could match; longer ones cannot match.
    let mut decoded = [0_u8; MAX_DECODED + 3];
    let Ok(len) = BASE64.decode_slice(value, &mut decoded) else {
        return false;
    };
    let decoded = &decoded[..len];
    if decoded.len() == expected.len() {
        return ct_eq(decoded, expected);
    }
    let mut hex = [0_u8; MAX_DECODED];
    let Some(hex) = hex.get_mut(..expected.len() * 2) else {
        return false;
    };
    if hex::encode_to_slice(expected, hex).is_err() {
        return false;
    }
    ct_eq(decoded, hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestView;

    const BODY: &[u8] = br#"{"id":"1"}"#;

    fn check_with(headers: &[(&str, &str)], body: &[u8]) -> Result<(), Error> {
        let headers = headers.to_vec();
        check(&mut HeaderMemo::new(RequestView::new("POST", "/", &headers, body)))
    }

    fn hex_form(body: &[u8]) -> String {
        format!("SHA-256={}", BASE64.encode(hex::encode(Sha256::digest(body))))
    }

    #[test]
    fn encoding_ours_matches_what_decoding_theirs_did() {
        let sha256 = Sha256::digest(BODY);
        let sha512 = Sha512::digest(BODY);
        let other = Sha256::digest(b"other");
        let mut values = vec![String::new(), "=".into(), "====".into(), "AAAA".into()];
        for hash in [&sha256[..], &sha512[..], &other[..], &sha256[..31], b"", b"a"] {
            for form in [hash.to_vec(), hex::encode(hash).into_bytes(), hex::encode_upper(hash).into_bytes()] {
                let good = BASE64.encode(&form);
                values.push(good.clone());
                values.push(good.trim_end_matches('=').to_owned());
                values.push(format!("{good}="));
                values.push(format!(" {good}"));
                values.push(base64::engine::general_purpose::URL_SAFE.encode(&form));
                for at in 0..good.len() {
                    // Every character changed, to another base64 character (stray bits included)
                    // and to one that is not; every prefix.
                    for replacement in ['A', 'B', 'Q', 'g', 'w', '/', '+', '=', '-', '*'] {
                        let mut changed = good.clone().into_bytes();
                        changed[at] = replacement as u8;
                        values.push(String::from_utf8(changed).unwrap());
                    }
                    values.push(good[..at].to_owned());
                }
            }
        }
        for value in &values {
            for expected in [&sha256[..], &sha512[..]] {
                assert_eq!(
                    digest_value_matches(value, expected),
                    digest_value_matches_decoding(value, expected),
                    "{value:?} {}",
                    expected.len()
                );
            }
        }
        assert!(digest_value_matches(&BASE64.encode(sha256), &sha256));
        assert!(digest_value_matches(&BASE64.encode(hex::encode(sha512)), &sha512));
    }

    #[test]
    fn accepts_raw_and_hex_forms() {
        assert!(check_with(&[("Digest", &digest_header(BODY))], BODY).is_ok());
        assert!(check_with(&[("digest", &hex_form(BODY))], BODY).is_ok());
        assert!(check_with(&[("digest", &digest_header(BODY).replace("SHA-256", "sha-256"))], BODY).is_ok());
    }

    #[test]
    fn rejects_a_changed_body() {
        for header in [digest_header(BODY), hex_form(BODY)] {
            assert!(matches!(check_with(&[("digest", &header)], b"{}"), Err(Error::DigestMismatch)));
        }
        let cd = content_digest_header(BODY);
        assert!(matches!(check_with(&[("content-digest", &cd)], b"{}"), Err(Error::DigestMismatch)));
    }

    #[test]
    fn content_digest_and_both_forms_must_all_match() {
        let cd = content_digest_header(BODY);
        assert!(check_with(&[("content-digest", &cd)], BODY).is_ok());
        assert!(check_with(&[("digest", &digest_header(BODY)), ("content-digest", &cd)], BODY).is_ok());
        let wrong = content_digest_header(b"other");
        let both = [("digest", digest_header(BODY)), ("content-digest", wrong)];
        let both: Vec<(&str, &str)> = both.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert!(matches!(check_with(&both, BODY), Err(Error::DigestMismatch)));
    }

    #[test]
    fn sha512_is_checked_too() {
        let cd = format!("sha-512=:{}:", BASE64.encode(Sha512::digest(BODY)));
        assert!(check_with(&[("content-digest", &cd)], BODY).is_ok());
        assert!(matches!(check_with(&[("content-digest", &cd)], b"x"), Err(Error::DigestMismatch)));
    }

    #[test]
    fn unknown_algorithms_need_a_usable_companion() {
        assert!(matches!(check_with(&[("digest", "MD5=abc")], BODY), Err(Error::UnsupportedAlgorithm { .. })));
        let header = format!("MD5=abc, {}", digest_header(BODY));
        assert!(check_with(&[("digest", &header)], BODY).is_ok());
        assert!(matches!(
            check_with(&[("content-digest", "md5=:AAAA:")], BODY),
            Err(Error::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn hex_form_of_sha512_and_oversized_values() {
        let hex512 = format!("SHA-512={}", BASE64.encode(hex::encode(Sha512::digest(BODY))));
        assert!(check_with(&[("digest", &hex512)], BODY).is_ok());
        assert!(matches!(check_with(&[("digest", &hex512)], b"x"), Err(Error::DigestMismatch)));
        let long = format!("SHA-256={}", BASE64.encode([7_u8; 300]));
        assert!(matches!(check_with(&[("digest", &long)], BODY), Err(Error::DigestMismatch)));
        let joined = [("digest", "MD5=abc"), ("Digest", &digest_header(BODY))];
        assert!(check_with(&joined, BODY).is_ok());
    }

    #[test]
    fn every_instance_of_a_digest_header_is_checked() {
        let (good, bad) = (digest_header(BODY), digest_header(b"other"));
        assert!(check_with(&[("digest", &good), ("Digest", &hex_form(BODY))], BODY).is_ok());
        assert!(matches!(check_with(&[("digest", &good), ("digest", &bad)], BODY), Err(Error::DigestMismatch)));
        let (good, bad) = (content_digest_header(BODY), content_digest_header(b"other"));
        assert!(check_with(&[("content-digest", &good), ("content-digest", "md5=:AA==:")], BODY).is_ok());
        // A key repeated across instances is checked in each, not overridden by the last.
        for pair in [[&good, &bad], [&bad, &good]] {
            let headers = [("content-digest", pair[0].as_str()), ("content-digest", pair[1].as_str())];
            assert!(matches!(check_with(&headers, BODY), Err(Error::DigestMismatch)));
        }
        let many = vec![("digest", digest_header(BODY)); 5_000];
        let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (*n, v.as_str())).collect();
        assert!(check_with(&many, BODY).is_ok());
    }

    #[test]
    fn missing_or_malformed_headers() {
        assert!(matches!(check_with(&[], BODY), Err(Error::MissingHeader { .. })));
        assert!(matches!(check_with(&[("digest", "SHA-256")], BODY), Err(Error::Malformed { .. })));
        assert!(matches!(check_with(&[("digest", "SHA-256=!!!")], BODY), Err(Error::DigestMismatch)));
        assert!(matches!(check_with(&[("content-digest", "sha-256=(")], BODY), Err(Error::Malformed { .. })));
        assert!(matches!(check_with(&[("content-digest", "sha-256=1")], BODY), Err(Error::Malformed { .. })));
        assert!(matches!(check_with(&[("content-digest", "sha-256=(:AA:)")], BODY), Err(Error::Malformed { .. })));
    }
}
