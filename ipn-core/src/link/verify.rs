//! The link verification pipeline: signature headers parsed (within bounds) and their coverage
//! checked, `Date` inside the window, body digest, then the application's key, the signing
//! string and the HMAC with the application secret; only then is the body typed.

use super::dates::parse_http_date;
use super::digest;
use super::notification::LinkNotification;
use super::signature::{ALGORITHM, RawParams, first_uncovered, write_signing_string};
use crate::error::Error;
use crate::keys::{KeySlot, KeyStore};
use crate::policy::Policy;
use crate::request::{HeaderMemo, RequestView, same_name};
use crate::types::Scheme;

fn header_str<'a>(name: &str, value: &'a [u8]) -> Result<&'a str, Error> {
    std::str::from_utf8(value).map_err(|_| Error::malformed(Scheme::Link, format!("the {name} header is not UTF-8")))
}

/// The signatures received: `Signature` and/or `Authorization: Signature ...` (both must verify
/// when both are present, and they must name the same key).
fn received_signatures<'a>(headers: &mut HeaderMemo<'a, '_>) -> Result<[Option<RawParams<'a>>; 2], Error> {
    let mut out = [None, None];
    let mut signature = None;
    if let [Some(value), second] = headers.first_two("signature") {
        if second.is_some() {
            return Err(Error::malformed(Scheme::Link, "several Signature headers"));
        }
        let value = header_str("Signature", value)?;
        out[0] = Some(RawParams::parse(value, "Signature")?);
        signature = Some(value);
    }
    if let [Some(value), second] = headers.first_two("authorization") {
        if second.is_some() {
            return Err(Error::malformed(Scheme::Link, "several Authorization headers"));
        }
        if let Some(params) = RawParams::authorization_params(header_str("Authorization", value)?) {
            // The same text as `Signature` (CentralBill's example sends both) parses the same.
            out[1] = match signature {
                Some(signature) if signature.trim_start() == params.trim_start() => out[0],
                _ => Some(RawParams::parse(params, "Authorization")?),
            };
        }
    }
    match &out {
        [None, None] => Err(Error::MissingHeader { header: "signature".into() }),
        [Some(first), Some(second)] if first.key_id != second.key_id => {
            Err(Error::malformed(Scheme::Link, "Signature and Authorization name different keys"))
        }
        _ => Ok(out),
    }
}

/// The `Date` header must be within the policy's window of now, in either direction.
pub(crate) fn check_date(headers: &mut HeaderMemo<'_, '_>, policy: &Policy) -> Result<(), Error> {
    let [first, second] = headers.first_two("date");
    let value = first.ok_or_else(|| Error::MissingHeader { header: "date".into() })?;
    if second.is_some() {
        return Err(Error::malformed(Scheme::Link, "several Date headers"));
    }
    let date = parse_http_date(header_str("Date", value)?)
        .ok_or_else(|| Error::malformed(Scheme::Link, "the Date header is not an HTTP date"))?;
    let skew = date - policy.clock.now();
    if skew.unsigned_abs() > policy.max_clock_skew {
        return Err(Error::StaleRequest { skew_s: skew.whole_seconds(), window_s: policy.max_clock_skew.as_secs() });
    }
    Ok(())
}

/// Authenticates a link notification, then types it.
pub(crate) async fn verify(
    request: RequestView<'_>,
    keys: &dyn KeyStore,
    policy: &Policy,
) -> Result<LinkNotification, Error> {
    // Checks that need no secret first, all bounded by the request's size: the signature headers
    // (parsed within the bounds of `super::bounds`), the algorithm, the coverage, the `Date`,
    // the body's digest. Every header is looked up once.
    let mut headers = HeaderMemo::new(request);
    let signatures = received_signatures(&mut headers)?;
    // The same parameters twice (CentralBill's own example sends both headers) sign the same
    // string and claim the same MAC: checking one checks both. Different ones are both checked.
    let signatures = match signatures {
        [Some(first), Some(second)] if first.same_signature(&second) => [Some(first), None],
        other => other,
    };
    for params in signatures.iter().flatten() {
        if !same_name(params.algorithm, ALGORITHM) {
            return Err(Error::unsupported_algorithm(params.algorithm));
        }
        let components: Vec<&str> = params.components().collect();
        if let Some(missing) = first_uncovered(&components, &policy.link_required) {
            return Err(Error::NotCovered { component: missing.clone() });
        }
    }
    check_date(&mut headers, policy)?;
    digest::check(&mut headers)?;

    // Then the key, and only for a known one the signing strings (bounded) and their HMACs.
    let application_id = signatures.iter().flatten().map(|params| params.key_id).next().unwrap_or_default();
    let credentials = keys
        .credentials(KeySlot::Application { application_id })
        .await
        .map_err(Error::KeyStore)?
        .ok_or_else(|| Error::unknown_application(application_id))?;
    let mut signing_string = String::new();
    for params in signatures.iter().flatten() {
        write_signing_string(&mut headers, params.components(), &mut signing_string)?;
        params.verify(signing_string.as_bytes(), credentials.secrets())?;
    }

    // The notification keeps the body: a slice of the request's buffer when it is shared, a
    // copy otherwise.
    let body = request.body_text().ok_or_else(|| Error::malformed(Scheme::Link, "the body is not UTF-8"))?;
    LinkNotification::from_json(application_id.to_owned(), body)
}
