//! RFC 9421 HTTP Message Signatures, the `hmac-sha256` profile (PROTOCOLS section 4), the
//! standard successor of draft-cavage: `Signature-Input` and `Signature` are structured
//! dictionaries (read with `sfv`); the signature base is rebuilt from the received request.
//!
//! No gateway sends it today, so the [`Verifier`](crate::Verifier) does not route to it; these
//! functions let a caller check such a signature. `created` and `expires` are not checked here.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sfv::{BareItem, Dictionary, FieldType, InnerList, List, ListEntry, Parser};
use sha2::Sha256;

use super::bounds::push_bounded;
use crate::error::Error;
use crate::error::LinkBound;
use crate::policy::{MAX_SIGNATURE_HEADER_LEN, MAX_SIGNATURE_PARAMETERS, MAX_SIGNED_COMPONENTS};
use crate::request::RequestView;
use crate::secret::Secret;
use crate::types::Scheme;

/// The `alg` parameter value of the HMAC-SHA-256 profile.
pub const RFC9421_ALGORITHM: &str = "hmac-sha256";

fn malformed(reason: impl Into<String>) -> Error {
    Error::malformed(Scheme::Link, reason)
}

/// Every instance of a header joined with `, ` (at most
/// [`MAX_SIGNATURE_HEADER_LEN`] bytes), parsed as a structured dictionary.
fn dictionary(request: RequestView<'_>, name: &'static str, display: &'static str) -> Result<Dictionary, Error> {
    let (mut joined, mut found) = (String::new(), false);
    for value in request.lowercase_values(name) {
        let value = std::str::from_utf8(value).map_err(|_| malformed(format!("the {display} header is not UTF-8")))?;
        let separator = if found { ", " } else { "" };
        found = true;
        if joined.len() + separator.len() + value.len() > MAX_SIGNATURE_HEADER_LEN {
            return Err(LinkBound::HeaderLength { header: display }.into());
        }
        joined.push_str(separator);
        joined.push_str(value);
    }
    if !found {
        return Err(Error::MissingHeader { header: name.to_owned() });
    }
    Parser::new(joined.as_str())
        .parse()
        .map_err(|_| malformed(format!("the {display} header is not a structured dictionary")))
}

/// The inner list of `Signature-Input` for a label, within the bounds on its components and
/// parameters.
fn signature_input(request: RequestView<'_>, label: &str) -> Result<InnerList, Error> {
    let list = match dictionary(request, "signature-input", "Signature-Input")?.shift_remove(label) {
        Some(ListEntry::InnerList(list)) => list,
        Some(ListEntry::Item(_)) => return Err(malformed(format!("Signature-Input {label} is not an inner list"))),
        None => return Err(Error::MissingHeader { header: format!("signature-input {label}") }),
    };
    if list.items.len() > MAX_SIGNED_COMPONENTS {
        return Err(LinkBound::Components.into());
    }
    if list.params.len() > MAX_SIGNATURE_PARAMETERS {
        return Err(LinkBound::Parameters.into());
    }
    Ok(list)
}

/// Appends the value of one covered component of a request to the base.
fn push_component_value(base: &mut String, request: RequestView<'_>, name: &str) -> Result<(), Error> {
    let target = request.target();
    let (path, query) = target.split_once('?').map_or((target, None), |(p, q)| (p, Some(q)));
    match name {
        "@method" => push_bounded(base, request.method()),
        "@authority" => {
            let host = request.header("host").ok_or_else(|| Error::MissingHeader { header: "host".into() })?;
            let host = std::str::from_utf8(host).map_err(|_| malformed("the host header is not UTF-8"))?;
            push_bounded(base, host.trim())?;
            let start = base.len() - host.trim().len();
            if let Some(pushed) = base.get_mut(start..) {
                pushed.make_ascii_lowercase();
            }
            Ok(())
        }
        "@path" => push_bounded(base, if path.is_empty() { "/" } else { path }),
        "@query" => {
            push_bounded(base, "?")?;
            push_bounded(base, query.unwrap_or_default())
        }
        "@request-target" => push_bounded(base, target),
        derived if derived.starts_with('@') => {
            Err(malformed(format!("the derived component {derived} is not supported")))
        }
        field => {
            if field.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(malformed("component names must be lowercase"));
            }
            let mut values = request.lowercase_values(field);
            let Some(first) = values.next() else {
                return Err(Error::MissingHeader { header: field.to_owned() });
            };
            let utf8 =
                |value| std::str::from_utf8(value).map_err(|_| malformed(format!("the {field} header is not UTF-8")));
            push_bounded(base, utf8(first)?.trim())?;
            for value in values {
                push_bounded(base, ", ")?;
                push_bounded(base, utf8(value)?.trim())?;
            }
            Ok(())
        }
    }
}

/// The signature base, at most [`MAX_SIGNING_STRING_LEN`](super::MAX_SIGNING_STRING_LEN) bytes.
fn base_of(request: RequestView<'_>, input: &InnerList) -> Result<String, Error> {
    let mut base = String::new();
    let mut seen: Vec<&str> = Vec::with_capacity(input.items.len());
    for item in &input.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(malformed("a covered component is not a string"));
        };
        if !item.params.is_empty() {
            return Err(malformed("component parameters (sf, key, bs, req, name) are not supported"));
        }
        let name = name.as_str();
        if name == "@signature-params" {
            return Err(malformed(format!("the component {name} cannot be covered here")));
        }
        // At most `MAX_SIGNED_COMPONENTS` names: a bounded number of comparisons.
        if seen.contains(&name) {
            return Err(LinkBound::RepeatedComponent.into());
        }
        seen.push(name);
        push_bounded(&mut base, "\"")?;
        push_bounded(&mut base, name)?;
        push_bounded(&mut base, "\": ")?;
        push_component_value(&mut base, request, name)?;
        push_bounded(&mut base, "\n")?;
    }
    let params = List::from([ListEntry::InnerList(input.clone())])
        .serialize()
        .ok_or_else(|| malformed("the signature parameters cannot be serialized"))?;
    push_bounded(&mut base, "\"@signature-params\": ")?;
    push_bounded(&mut base, &params)?;
    Ok(base)
}

/// The signature base (RFC 9421 section 2.5) of the signature `label`, from the received
/// request and its `Signature-Input`.
///
/// Supported components: header fields (several instances joined with `, `) and the derived
/// `@method`, `@authority` (the `Host` header), `@path`, `@query`, `@request-target`.
///
/// ```
/// use ipn_core::RequestView;
/// let headers = [
///     ("host", "example.com"),
///     ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
///     ("signature-input", r#"sig=("@method" "@authority" "date");keyid="k""#),
/// ];
/// let request = RequestView::new("POST", "/foo?a=1", &headers, b"");
/// assert_eq!(
///     ipn_core::link::rfc9421_signature_base(request, "sig").unwrap(),
///     "\"@method\": POST\n\"@authority\": example.com\n\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\
///      \"@signature-params\": (\"@method\" \"@authority\" \"date\");keyid=\"k\""
/// );
/// ```
///
/// # Errors
///
/// [`Error::MissingHeader`] when `Signature-Input`, the label or a covered header is missing;
/// [`Error::Malformed`] for an unparsable field, an unsupported component, or a component with
/// parameters; [`Error::LinkBound`] for a repeated component, or past the bounds of
/// [`link`](crate::link) (the header's length, the number of components or parameters, the
/// base's length).
pub fn rfc9421_signature_base(request: RequestView<'_>, label: &str) -> Result<String, Error> {
    base_of(request, &signature_input(request, label)?)
}

/// The `keyid` parameter of the signature `label`, if any.
///
/// # Errors
///
/// As [`rfc9421_signature_base`] for `Signature-Input`; [`Error::Malformed`] when `keyid` is not
/// a string.
pub fn rfc9421_key_id(request: RequestView<'_>, label: &str) -> Result<Option<String>, Error> {
    match signature_input(request, label)?.params.get("keyid") {
        None => Ok(None),
        Some(BareItem::String(key_id)) => Ok(Some(key_id.as_str().to_owned())),
        Some(_) => Err(malformed("keyid is not a string")),
    }
}

/// Verifies the HMAC-SHA-256 signature `label` of a request against each secret (rotation), in
/// constant time. When an `alg` parameter is present it must be `hmac-sha256`.
///
/// # Errors
///
/// As [`rfc9421_signature_base`]; [`Error::UnsupportedAlgorithm`] for another `alg`;
/// [`Error::MissingHeader`] or [`Error::Malformed`] when `Signature` lacks the label or it is not
/// a byte sequence; [`Error::SignatureMismatch`] when no secret matches.
pub fn rfc9421_verify(request: RequestView<'_>, label: &str, secrets: &[Secret]) -> Result<(), Error> {
    let input = signature_input(request, label)?;
    match input.params.get("alg") {
        None => {}
        Some(BareItem::String(alg)) if alg.as_str() == RFC9421_ALGORITHM => {}
        Some(BareItem::String(alg)) => return Err(Error::UnsupportedAlgorithm { algorithm: alg.as_str().to_owned() }),
        Some(_) => return Err(malformed("alg is not a string")),
    }
    let received = match dictionary(request, "signature", "Signature")?.shift_remove(label) {
        Some(ListEntry::Item(item)) => match item.bare_item {
            BareItem::ByteSequence(bytes) => bytes,
            _ => return Err(malformed(format!("Signature {label} is not a byte sequence"))),
        },
        Some(ListEntry::InnerList(_)) => return Err(malformed(format!("Signature {label} is not a byte sequence"))),
        None => return Err(Error::MissingHeader { header: format!("signature {label}") }),
    };
    // Only then the base (bounded) and the HMAC.
    let base = base_of(request, &input)?;
    let matches = secrets.iter().any(|secret| {
        let mut mac = secret.hmac_sha256();
        mac.update(base.as_bytes());
        crate::secret::hmac_matches(mac, &received)
    });
    if matches { Ok(()) } else { Err(Error::SignatureMismatch) }
}

/// The `Signature` dictionary member for a signature base: `label=:<base64>:`.
///
/// ```
/// let member = ipn_core::link::rfc9421_signature("sig", "base", b"secret");
/// assert!(member.starts_with("sig=:") && member.ends_with(':'));
/// ```
pub fn rfc9421_signature(label: &str, signature_base: &str, secret: &[u8]) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(signature_base.as_bytes());
    format!("{label}=:{}:", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 9421 Appendix B.2.5.
    const SECRET_B64: &str = "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==";
    const INPUT: &str = r#"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#;
    const SIGNATURE: &str = "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:";
    const BASE: &str = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@authority\": example.com\n\"content-type\": application/json\n\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;keyid=\"test-shared-secret\"";

    fn headers(input: &str, signature: &str) -> Vec<(String, String)> {
        [
            ("host", "example.com"),
            ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
            ("content-type", "application/json"),
            ("signature-input", input),
            ("signature", signature),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
    }

    fn secret() -> Secret {
        Secret::new(base64::engine::general_purpose::STANDARD.decode(SECRET_B64).unwrap())
    }

    #[test]
    fn rfc_b25_base_and_verdict() {
        let h = headers(INPUT, SIGNATURE);
        let request = RequestView::new("POST", "/foo?param=Value&Pet=dog", &h, br#"{"hello": "world"}"#);
        assert_eq!(rfc9421_signature_base(request, "sig-b25").unwrap(), BASE);
        assert_eq!(rfc9421_key_id(request, "sig-b25").unwrap().as_deref(), Some("test-shared-secret"));
        assert!(rfc9421_verify(request, "sig-b25", &[Secret::new("other"), secret()]).is_ok());
        assert!(matches!(rfc9421_verify(request, "sig-b25", &[Secret::new("other")]), Err(Error::SignatureMismatch)));
        assert_eq!(rfc9421_signature("sig-b25", BASE, secret().expose()), SIGNATURE);
    }

    #[test]
    fn a_changed_covered_header_fails() {
        let mut h = headers(INPUT, SIGNATURE);
        h[1].1 = "Tue, 20 Apr 2021 02:07:56 GMT".into();
        let request = RequestView::new("POST", "/foo", &h, b"");
        assert!(matches!(rfc9421_verify(request, "sig-b25", &[secret()]), Err(Error::SignatureMismatch)));
    }

    #[test]
    fn derived_components() {
        let input = r#"s=("@method" "@path" "@query" "@request-target")"#;
        let h = headers(input, "s=:AA==:");
        let request = RequestView::new("POST", "/a/b?x=1&y", &h, b"");
        assert_eq!(
            rfc9421_signature_base(request, "s").unwrap(),
            "\"@method\": POST\n\"@path\": /a/b\n\"@query\": ?x=1&y\n\"@request-target\": /a/b?x=1&y\n\
             \"@signature-params\": (\"@method\" \"@path\" \"@query\" \"@request-target\")"
        );
        let request = RequestView::new("POST", "/a", &h, b"");
        assert!(rfc9421_signature_base(request, "s").unwrap().contains("\"@query\": ?\n"));
    }

    #[test]
    fn rejects_what_it_cannot_rebuild() {
        for input in [
            r#"s=("@target-uri")"#,
            r#"s=("date";sf)"#,
            r#"s=("Date")"#,
            r#"s=(date)"#,
            r#"s=("@signature-params")"#,
            r#"s="date""#,
            r#"s=("#,
        ] {
            let h = headers(input, "s=:AA==:");
            let request = RequestView::new("POST", "/", &h, b"");
            assert!(matches!(rfc9421_signature_base(request, "s"), Err(Error::Malformed { .. })), "{input}");
        }
        let h = headers(r#"s=("date" "@method" "date")"#, "s=:AA==:");
        let request = RequestView::new("POST", "/", &h, b"");
        assert!(matches!(
            rfc9421_signature_base(request, "s"),
            Err(Error::LinkBound(crate::link::LinkBound::RepeatedComponent))
        ));
        let h = headers(r#"s=("x-missing")"#, "s=:AA==:");
        let request = RequestView::new("POST", "/", &h, b"");
        assert!(matches!(rfc9421_signature_base(request, "s"), Err(Error::MissingHeader { .. })));
        assert!(matches!(rfc9421_signature_base(request, "other"), Err(Error::MissingHeader { .. })));
    }

    #[test]
    fn applies_the_link_bounds() {
        use crate::link::{LinkBound, MAX_SIGNATURE_HEADER_LEN, MAX_SIGNING_STRING_LEN};
        let bound = |input: &str, extra: &[(&str, String)]| {
            let mut h = headers(input, "s=:AA==:");
            h.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), v.clone())));
            match rfc9421_verify(RequestView::new("POST", "/", &h, b""), "s", &[secret()]) {
                Err(Error::LinkBound(bound)) => Some(bound),
                other => panic!("{input:.60}: {other:?}"),
            }
        };
        let names = |n: usize| (0..n).map(|i| format!("\"x-{i}\"")).collect::<Vec<_>>().join(" ");
        assert_eq!(bound(&format!("s=({})", names(33)), &[]), Some(LinkBound::Components));
        let parameters: String = (0..17).map(|i| format!(";p{i}=1")).collect();
        assert_eq!(bound(&format!(r#"s=("date"){parameters}"#), &[]), Some(LinkBound::Parameters));
        let long = format!(r#"s=("date");nonce="{}""#, "n".repeat(MAX_SIGNATURE_HEADER_LEN));
        assert_eq!(bound(&long, &[]), Some(LinkBound::HeaderLength { header: "Signature-Input" }));
        // Instances of a field are joined, and the joined text is bounded.
        let many = vec![("signature-input", r#"x=("date")"#.to_owned()); MAX_SIGNATURE_HEADER_LEN / 10];
        assert_eq!(bound(r#"s=("date")"#, &many), Some(LinkBound::HeaderLength { header: "Signature-Input" }));
        let big = vec![("x-big", "b".repeat(MAX_SIGNING_STRING_LEN))];
        assert_eq!(bound(r#"s=("date" "x-big")"#, &big), Some(LinkBound::SigningString));
        let instances = vec![("x-a", "a".to_owned()); MAX_SIGNING_STRING_LEN / 3];
        assert_eq!(bound(r#"s=("x-a")"#, &instances), Some(LinkBound::SigningString));
    }

    #[test]
    fn rejects_another_algorithm_or_a_malformed_signature() {
        let input = format!("{INPUT};alg=\"hmac-sha512\"");
        let h = headers(&input, SIGNATURE);
        let request = RequestView::new("POST", "/", &h, b"");
        assert!(matches!(rfc9421_verify(request, "sig-b25", &[secret()]), Err(Error::UnsupportedAlgorithm { .. })));
        for signature in ["sig-b25=abc", "sig-b25=(:AA==:)", "other=:AA==:"] {
            let h = headers(INPUT, signature);
            let request = RequestView::new("POST", "/", &h, b"");
            assert!(rfc9421_verify(request, "sig-b25", &[secret()]).is_err(), "{signature}");
        }
    }
}
