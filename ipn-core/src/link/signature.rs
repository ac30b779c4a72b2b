//! draft-cavage HTTP Signatures with `hmac-sha256` (PROTOCOLS 3.1): the parameters of the
//! `Signature` / `Authorization: Signature` header, the signing string built from the received
//! request, and the HMAC computed or checked (in constant time) with the application secret.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::Mac;
use memchr::memchr;

use super::bounds::push_bounded;
use crate::error::Error;
use crate::error::LinkBound;
use crate::policy::{
    MAX_SIGNATURE_HEADER_LEN, MAX_SIGNATURE_PARAMETERS, MAX_SIGNED_COMPONENTS, MAX_SIGNING_STRING_LEN,
};
use crate::request::{HeaderMemo, RequestView, same_name};
use crate::secret::{HmacSha256, Secret, hmac_matches, hmac_sha256_keyed};
use crate::types::Scheme;

/// The one signature algorithm accepted.
pub const ALGORITHM: &str = "hmac-sha256";

/// The pseudo-header naming the method and the target.
pub const REQUEST_TARGET: &str = "(request-target)";

fn malformed(reason: impl Into<String>) -> Error {
    Error::malformed(Scheme::Link, reason)
}

/// The parameters of a received signature: `keyId`, `algorithm`, `headers`, `signature`.
///
/// `Debug` shows everything but the signature value.
///
/// ```
/// use ipn_core::link::SignatureParams;
/// let params = SignatureParams::parse(
///     r#"keyId="app-1", algorithm="hmac-sha256",headers="(request-target) Date digest",signature="c2ln""#,
/// ).unwrap();
/// assert_eq!(params.key_id(), "app-1");
/// assert_eq!(params.components(), ["(request-target)", "date", "digest"]);
/// assert!(params.covers("date"));
/// assert!(!format!("{params:?}").contains("c2ln"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SignatureParams {
    key_id: String,
    algorithm: String,
    components: Vec<String>,
    signature: String,
}

impl fmt::Debug for SignatureParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignatureParams")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("components", &self.components)
            .field("signature", &"<redacted>")
            .finish()
    }
}

impl SignatureParams {
    /// Parses comma-separated `name="value"` pairs (whitespace around commas tolerated; a bare
    /// token value such as `created=1402170695` is read too), in one pass. `keyId`, `algorithm`,
    /// `headers` and `signature` are required; unknown parameters are ignored (but counted);
    /// any repeated parameter is an error. Component names in `headers` are lowercased.
    ///
    /// # Errors
    ///
    /// [`Error::Malformed`] when the syntax is wrong, a parameter is repeated or a required one
    /// is missing or empty; [`Error::LinkBound`] for a value longer than
    /// [`MAX_SIGNATURE_HEADER_LEN`](super::MAX_SIGNATURE_HEADER_LEN), more parameters than
    /// [`MAX_SIGNATURE_PARAMETERS`](super::MAX_SIGNATURE_PARAMETERS), more components than
    /// [`MAX_SIGNED_COMPONENTS`](super::MAX_SIGNED_COMPONENTS), or a component listed twice.
    pub fn parse(value: &str) -> Result<Self, Error> {
        RawParams::parse(value, "Signature").map(|raw| Self::from_raw(&raw))
    }

    /// Parses an `Authorization` value of the `Signature` scheme; `None` when the header is of
    /// another scheme (`Basic`, `Bearer`...).
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse).
    pub fn parse_authorization(value: &str) -> Option<Result<Self, Error>> {
        RawParams::parse_authorization(value).map(|raw| raw.map(|raw| Self::from_raw(&raw)))
    }

    fn from_raw(raw: &RawParams<'_>) -> Self {
        Self {
            key_id: raw.key_id.to_owned(),
            algorithm: raw.algorithm.to_owned(),
            components: raw.components().map(str::to_ascii_lowercase).collect(),
            signature: raw.signature.to_owned(),
        }
    }

    /// The received `signature` parameter (base64), for diagnostics: it is not a secret, but
    /// `Debug` leaves it out of logs.
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The key id: the CentralBill application id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The algorithm named (only [`ALGORITHM`] is accepted).
    pub fn algorithm(&self) -> &str {
        &self.algorithm
    }

    /// The signed components, in order, lowercased (the `headers` parameter).
    pub fn components(&self) -> &[String] {
        &self.components
    }

    /// Whether a component (lowercase) is signed.
    pub fn covers(&self, component: &str) -> bool {
        self.components.iter().any(|c| c == component)
    }

    /// Checks the signature of a signing string against each secret (rotation: any may match),
    /// in constant time.
    #[cfg(test)]
    pub(crate) fn verify(&self, signing_string: &str, secrets: &[Secret]) -> Result<(), Error> {
        verify_signature(&self.signature, signing_string.as_bytes(), secrets)
    }
}

/// The parameters of a received signature, borrowed from the header value: what the verifier
/// reads, without copying. `Debug` leaves the signature out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawParams<'v> {
    pub(crate) key_id: &'v str,
    pub(crate) algorithm: &'v str,
    /// The `headers` parameter as received (names in any case, separated by whitespace).
    headers: &'v str,
    signature: &'v str,
}

impl fmt::Debug for RawParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawParams")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("headers", &self.headers)
            .field("signature", &"<redacted>")
            .finish()
    }
}

impl<'v> RawParams<'v> {
    /// As [`SignatureParams::parse`], for the value of the header `header` (named in errors).
    pub(crate) fn parse(value: &'v str, header: &'static str) -> Result<Self, Error> {
        if value.len() > MAX_SIGNATURE_HEADER_LEN {
            return Err(LinkBound::HeaderLength { header }.into());
        }
        // Names of unknown parameters seen so far (the known ones are tracked by their slots):
        // at most `MAX_SIGNATURE_PARAMETERS`, so looking a name up among them is bounded.
        let mut seen: Vec<&str> = Vec::new();
        let mut count = 0;
        let (mut key_id, mut algorithm, mut headers, mut signature) = (None, None, None, None);
        let mut rest = value.trim_start();
        while !rest.is_empty() {
            count += 1;
            if count > MAX_SIGNATURE_PARAMETERS {
                return Err(LinkBound::Parameters.into());
            }
            // Usually `name=` directly: one pass over the name finds the `=`; anything else
            // (spaces before `=`, a bad name, no `=`) is read the long way, with its errors.
            let plain = rest.bytes().take_while(|&b| is_name_byte(b)).count();
            let (name, after) = match rest.as_bytes().get(plain) {
                Some(b'=') if plain > 0 => (&rest[..plain], plain + 1),
                _ => {
                    let eq = memchr(b'=', rest.as_bytes())
                        .ok_or_else(|| malformed("a signature parameter is not name=value"))?;
                    let name = rest[..eq].trim_end();
                    if name.is_empty() || !name.bytes().all(is_name_byte) {
                        return Err(malformed("a signature parameter has an invalid name"));
                    }
                    (name, eq + 1)
                }
            };
            rest = rest[after..].trim_start();
            let param_value = if let Some(quoted) = rest.strip_prefix('"') {
                let end =
                    memchr(b'"', quoted.as_bytes()).ok_or_else(|| malformed("unterminated signature parameter"))?;
                rest = &quoted[end + 1..];
                &quoted[..end]
            } else {
                let end = memchr(b',', rest.as_bytes()).unwrap_or(rest.len());
                let token = rest[..end].trim_end();
                rest = &rest[end..];
                token
            };
            let slot = match name {
                "keyId" => Some(&mut key_id),
                "algorithm" => Some(&mut algorithm),
                "headers" => Some(&mut headers),
                "signature" => Some(&mut signature),
                _ => None,
            };
            let repeated = match slot {
                Some(slot) => slot.replace(param_value).is_some(),
                None if seen.contains(&name) => true,
                None => {
                    seen.push(name);
                    false
                }
            };
            if repeated {
                return Err(malformed(format!("the signature parameter {name} is repeated")));
            }
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start();
                if rest.is_empty() {
                    return Err(malformed("a trailing comma in the signature parameters"));
                }
            } else if !rest.is_empty() {
                return Err(malformed("signature parameters must be separated by commas"));
            }
        }
        fn required<'v>(value: Option<&'v str>, name: &str) -> Result<&'v str, Error> {
            value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| malformed(format!("the signature parameter {name} is missing")))
        }
        let key_id = required(key_id, "keyId")?;
        let algorithm = required(algorithm, "algorithm")?;
        let headers = required(headers, "headers")?;
        check_components(headers)?;
        let signature = required(signature, "signature")?;
        Ok(Self { key_id, algorithm, headers, signature })
    }

    /// Parses an `Authorization` value of the `Signature` scheme; `None` for another scheme.
    pub(crate) fn parse_authorization(value: &'v str) -> Option<Result<Self, Error>> {
        Self::authorization_params(value).map(|params| Self::parse(params, "Authorization"))
    }

    /// The parameters of an `Authorization` value of the `Signature` scheme, unparsed; `None`
    /// for another scheme.
    pub(crate) fn authorization_params(value: &'v str) -> Option<&'v str> {
        let value = value.trim_start();
        let (scheme, params) = value.split_once(|c: char| c.is_ascii_whitespace())?;
        scheme.eq_ignore_ascii_case("Signature").then_some(params)
    }

    /// The signed components, in order, as received (compare them ignoring ASCII case).
    pub(crate) fn components(&self) -> Components<'v> {
        Components(self.headers)
    }

    /// Whether a component (lowercase) is signed: the tests' reference for [`first_uncovered`].
    #[cfg(test)]
    pub(crate) fn covers(&self, component: &str) -> bool {
        self.components().any(|c| same_name(c, component))
    }

    /// Whether two signatures sign the same string with the same key and claim the same MAC,
    /// so that checking one checks both.
    pub(crate) fn same_signature(&self, other: &Self) -> bool {
        self.key_id == other.key_id
            && self.algorithm == other.algorithm
            && self.signature == other.signature
            && (self.headers == other.headers || {
                let (mut mine, mut theirs) = (self.components(), other.components());
                loop {
                    match (mine.next(), theirs.next()) {
                        (None, None) => break true,
                        (Some(a), Some(b)) if same_name(a, b) => {}
                        _ => break false,
                    }
                }
            })
    }

    /// Checks the signature of a signing string against each secret, in constant time.
    pub(crate) fn verify(&self, signing_string: &[u8], secrets: &[Secret]) -> Result<(), Error> {
        verify_signature(self.signature, signing_string, secrets)
    }
}

/// The first of the `required` components (lowercase) that the signed `components` leave out,
/// if any: one pass over the components, not one per requirement. Past 64 requirements, each
/// further one is looked for on its own.
pub(crate) fn first_uncovered<'r, R: AsRef<str>>(components: &[&str], required: &'r [R]) -> Option<&'r R> {
    let mut covered = 0_u64;
    for component in components {
        for (i, wanted) in required.iter().enumerate().take(64) {
            if same_name(component, wanted.as_ref()) {
                covered |= 1 << i;
            }
        }
    }
    let covers = |wanted: &str| components.iter().any(|component| same_name(component, wanted));
    required
        .iter()
        .enumerate()
        .find(|(i, wanted)| if *i < 64 { covered & (1 << i) == 0 } else { !covers(wanted.as_ref()) })
        .map(|(_, wanted)| wanted)
}

/// The `headers` parameter lists at least one component, at most [`MAX_SIGNED_COMPONENTS`], none
/// twice (ignoring ASCII case): each is compared with those before it, a bounded count.
fn check_components(headers: &str) -> Result<(), Error> {
    let mut listed = [""; MAX_SIGNED_COMPONENTS];
    let mut count = 0;
    for component in Components(headers) {
        let (before, free) = listed.split_at_mut(count);
        let slot = free.first_mut().ok_or(LinkBound::Components)?;
        if before.iter().any(|c| same_name(c, component)) {
            return Err(LinkBound::RepeatedComponent.into());
        }
        *slot = component;
        count += 1;
    }
    if count == 0 {
        return Err(malformed("the signature parameter headers is empty"));
    }
    Ok(())
}

/// A byte of a signature parameter's name.
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The names of the `headers` parameter, split on ASCII whitespace.
#[derive(Debug, Clone)]
pub(crate) struct Components<'v>(&'v str);

impl<'v> Iterator for Components<'v> {
    type Item = &'v str;

    fn next(&mut self) -> Option<&'v str> {
        let bytes = self.0.as_bytes();
        let mut start = 0;
        while bytes.get(start).is_some_and(u8::is_ascii_whitespace) {
            start += 1;
        }
        if start == bytes.len() {
            self.0 = "";
            return None;
        }
        let mut end = start + 1;
        while bytes.get(end).is_some_and(|b| !b.is_ascii_whitespace()) {
            end += 1;
        }
        // Both ends sit next to ASCII whitespace or at an end: char boundaries.
        let (item, rest) = self.0.split_at_checked(end)?;
        self.0 = rest;
        item.get(start..)
    }
}

/// Checks a base64 signature of a signing string against each secret (rotation: any may match),
/// in constant time.
fn verify_signature(signature: &str, signing_string: &[u8], secrets: &[Secret]) -> Result<(), Error> {
    let mut received = [0_u8; 32];
    match BASE64.decode_slice(signature, &mut received) {
        Ok(32) => {}
        _ => return Err(Error::SignatureMismatch),
    }
    let matches = secrets.iter().any(|secret| hmac_matches(mac(secret.hmac_sha256(), signing_string), &received));
    if matches { Ok(()) } else { Err(Error::SignatureMismatch) }
}

/// `mac` (keyed) fed a signing string, in one update over contiguous bytes.
fn mac(mut mac: HmacSha256, signing_string: &[u8]) -> HmacSha256 {
    mac.update(signing_string);
    mac
}

/// The `signature` parameter for a signing string: base64 of HMAC-SHA-256 with the application
/// secret.
///
/// ```
/// let s = "(request-target): post /ipn/link\ndate: Thu, 01 Dec 2022 19:08:22 +0000";
/// assert_eq!(ipn_core::link::signature(s, b"app!secret").len(), 44);
/// ```
pub fn signature(signing_string: &str, secret: &[u8]) -> String {
    BASE64.encode(mac(hmac_sha256_keyed(secret), signing_string.as_bytes()).finalize().into_bytes())
}

/// The signing string of a request for the given components, as the sender builds it: one line
/// `name: value` per component, in order, joined with `\n`. `(request-target)` is the lowercased
/// method, a space and the target as received; other names are header names (lowercased), their
/// values trimmed, several instances joined with `, `.
///
/// ```
/// use ipn_core::RequestView;
/// let headers = [("Date", " Thu, 01 Dec 2022 19:08:22 GMT "), ("x-a", "1"), ("X-A", "2")];
/// let request = RequestView::new("POST", "/ipn?x=%20", &headers, b"{}");
/// assert_eq!(
///     ipn_core::link::signing_string(request, &["(request-target)", "Date", "x-a"]).unwrap(),
///     "(request-target): post /ipn?x=%20\ndate: Thu, 01 Dec 2022 19:08:22 GMT\nx-a: 1, 2"
/// );
/// ```
///
/// # Errors
///
/// [`Error::MissingHeader`] for a listed header the request lacks; [`Error::Malformed`] for a
/// header value that is not UTF-8 or an unsupported pseudo-header such as `(created)`;
/// [`Error::LinkBound`] when the string would be longer than
/// [`MAX_SIGNING_STRING_LEN`](super::MAX_SIGNING_STRING_LEN).
pub fn signing_string<S: AsRef<str>>(request: RequestView<'_>, components: &[S]) -> Result<String, Error> {
    let mut out = String::new();
    write_signing_string(&mut HeaderMemo::new(request), components.iter().map(AsRef::as_ref), &mut out)?;
    Ok(out)
}

/// Writes the signing string of a request into `out` (cleared first): one buffer, sized once,
/// never past [`MAX_SIGNING_STRING_LEN`] (each piece is measured before it is copied). The
/// headers are read through the verifier's memo.
pub(crate) fn write_signing_string<'a: 'c, 'c>(
    headers: &mut HeaderMemo<'a, 'c>,
    components: impl Iterator<Item = &'c str> + Clone,
    out: &mut String,
) -> Result<(), Error> {
    let request = headers.view();
    out.clear();
    let estimate = components.clone().map(|c| c.len() + 64).sum::<usize>() + request.target().len();
    out.reserve(estimate.min(MAX_SIGNING_STRING_LEN));
    for (i, component) in components.enumerate() {
        if i > 0 {
            push_bounded(out, "\n")?;
        }
        if same_name(component, REQUEST_TARGET) {
            push_bounded(out, REQUEST_TARGET)?;
            push_bounded(out, ": ")?;
            push_bounded(out, request.method())?;
            lowercase_tail(out, request.method().len());
            push_bounded(out, " ")?;
            push_bounded(out, request.target())?;
            continue;
        }
        if component.starts_with('(') {
            return Err(malformed(format!("the signed component {} is not supported", component.to_ascii_lowercase())));
        }
        // Names arrive lowercase (the sender lowercases them); others are looked up unmemoized.
        if component.bytes().any(|b| b.is_ascii_uppercase()) {
            let name = component.to_ascii_lowercase();
            push_header_line(out, &name, request.lowercase_values(&name))?;
        } else {
            push_header_line(out, component, headers.values(component))?;
        }
    }
    Ok(())
}

/// `name: value` with the values trimmed and joined with `, `.
fn push_header_line<'v>(out: &mut String, name: &str, mut values: impl Iterator<Item = &'v [u8]>) -> Result<(), Error> {
    push_bounded(out, name)?;
    push_bounded(out, ": ")?;
    let Some(first) = values.next() else {
        return Err(Error::MissingHeader { header: name.to_owned() });
    };
    let utf8 = |value| std::str::from_utf8(value).map_err(|_| malformed(format!("the {name} header is not UTF-8")));
    push_bounded(out, utf8(first)?.trim())?;
    for value in values {
        push_bounded(out, ", ")?;
        push_bounded(out, utf8(value)?.trim())?;
    }
    Ok(())
}

/// Lowercases (ASCII) the last `len` bytes of `out`, in place (no per-char re-encoding).
fn lowercase_tail(out: &mut str, len: usize) {
    if let Some(tail) = out.len().checked_sub(len).and_then(|start| out.get_mut(start..)) {
        tail.make_ascii_lowercase();
    }
}

/// The `Signature` header value (also the parameters of `Authorization: Signature ...`):
/// `keyId="..",algorithm="hmac-sha256",headers="..",signature=".."`.
///
/// ```
/// assert_eq!(
///     ipn_core::link::signature_header("app-1", &["date"], "c2ln").unwrap(),
///     r#"keyId="app-1",algorithm="hmac-sha256",headers="date",signature="c2ln""#
/// );
/// ```
///
/// # Errors
///
/// [`Error::Malformed`] when a value cannot be quoted (it contains `"` or a control character)
/// or no component is given.
pub fn signature_header<S: AsRef<str>>(key_id: &str, components: &[S], signature: &str) -> Result<String, Error> {
    let headers = components.iter().map(|c| c.as_ref().to_ascii_lowercase()).collect::<Vec<_>>().join(" ");
    if headers.is_empty() {
        return Err(malformed("a signature must cover at least one component"));
    }
    for value in [key_id, &headers, signature] {
        if value.is_empty() || value.chars().any(|c| c == '"' || c.is_control()) {
            return Err(malformed("a signature parameter cannot be quoted"));
        }
    }
    Ok(format!(r#"keyId="{key_id}",algorithm="{ALGORITHM}",headers="{headers}",signature="{signature}""#))
}

/// Signs a request: the `Signature` header value for these components with this secret (what
/// CentralBill sends, for tests and the CLI). Put the `Date` and `Digest` headers on the request
/// first.
///
/// # Errors
///
/// As [`signing_string`] and [`signature_header`].
pub fn sign<S: AsRef<str>>(
    request: RequestView<'_>,
    key_id: &str,
    secret: &[u8],
    components: &[S],
) -> Result<String, Error> {
    let signing_string = signing_string(request, components)?;
    signature_header(key_id, components, &signature(&signing_string, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"keyId="k",algorithm="hmac-sha256",headers="(request-target) date",signature="c2ln""#;

    #[test]
    fn parses_with_whitespace_and_unknown_parameters() {
        let p = SignatureParams::parse(
            r#" keyId="k" , algorithm="hmac-sha256",created=1402170695,  headers="A  b" ,signature="s=",x="""#,
        )
        .unwrap();
        assert_eq!(p.key_id(), "k");
        assert_eq!(p.algorithm(), "hmac-sha256");
        assert_eq!(p.components(), ["a", "b"]);
        assert_eq!(p.signature, "s=");
        assert_eq!(SignatureParams::parse(VALID).unwrap().components().len(), 2);
    }

    #[test]
    fn names_are_read_the_same_with_or_without_space_before_the_equals_sign() {
        for spaced in [
            r#"keyId ="k",algorithm="hmac-sha256",headers="date",signature="s""#,
            "keyId\u{a0}=\"k\",algorithm\t=\"hmac-sha256\",headers  =\"date\",signature=\"s\"",
            r#"keyId="k",x-y_Z9 = 1,algorithm="hmac-sha256",headers="date",signature="s""#,
        ] {
            let p = SignatureParams::parse(spaced).unwrap();
            assert_eq!((p.key_id(), p.algorithm(), p.components()), ("k", "hmac-sha256", &["date".to_owned()][..]));
        }
        let reason = |value: &str| match RawParams::parse(value, "Signature") {
            Err(Error::Malformed { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        for (value, expected) in [
            (r#"keyId="k",x.y="1""#, "a signature parameter has an invalid name"),
            (r#"keyId="k",é="1""#, "a signature parameter has an invalid name"),
            (r#"keyId="k", ="1""#, "a signature parameter has an invalid name"),
            (r#"keyId="k",x y="1""#, "a signature parameter has an invalid name"),
            (r#"keyId="k",xy"#, "a signature parameter is not name=value"),
            (r#"keyId="k",keyId ="j""#, "the signature parameter keyId is repeated"),
        ] {
            assert_eq!(reason(value), expected, "{value}");
        }
    }

    #[test]
    fn rejects_repeated_missing_and_broken_parameters() {
        let cases = [
            format!("{VALID},keyId=\"other\""),
            format!("{VALID},x=\"1\",x=\"2\""),
            r#"algorithm="hmac-sha256",headers="date",signature="s""#.to_owned(),
            r#"keyId="k",algorithm="hmac-sha256",headers="",signature="s""#.to_owned(),
            r#"keyId="k",algorithm="hmac-sha256",headers="date",signature="#.to_owned(),
            r#"keyId="k",algorithm="hmac-sha256",headers="date""#.to_owned(),
            format!("{VALID},"),
            format!("{VALID},,x=\"1\""),
            r#"keyId="k" algorithm="hmac-sha256""#.to_owned(),
            r#"keyId="k,algorithm="hmac-sha256""#.to_owned(),
            r#"keyId"#.to_owned(),
            r#"="v""#.to_owned(),
            r#"k y="v""#.to_owned(),
            String::new(),
        ];
        for case in cases {
            assert!(matches!(SignatureParams::parse(&case), Err(Error::Malformed { .. })), "{case}");
        }
    }

    fn bound_of(value: &str) -> Option<LinkBound> {
        match RawParams::parse(value, "Signature") {
            Err(Error::LinkBound(bound)) => Some(bound),
            _ => None,
        }
    }

    #[test]
    fn rejects_repeated_components_in_any_case() {
        for headers in ["date date", "(request-target) Date digest DATE", "a b c d e f g h i j k l m n o p a"] {
            let value = format!(r#"keyId="k",algorithm="hmac-sha256",headers="{headers}",signature="s""#);
            assert_eq!(bound_of(&value), Some(LinkBound::RepeatedComponent), "{headers}");
            assert!(matches!(SignatureParams::parse(&value), Err(Error::LinkBound(LinkBound::RepeatedComponent))));
        }
    }

    #[test]
    fn caps_components_parameters_and_length() {
        let with_components = |n: usize| {
            let names: Vec<String> = (0..n).map(|i| format!("h{i}")).collect();
            format!(r#"keyId="k",algorithm="hmac-sha256",headers="{}",signature="s""#, names.join(" "))
        };
        assert_eq!(
            RawParams::parse(&with_components(MAX_SIGNED_COMPONENTS), "Signature").unwrap().components().count(),
            32
        );
        assert_eq!(bound_of(&with_components(MAX_SIGNED_COMPONENTS + 1)), Some(LinkBound::Components));

        let with_parameters = |n: usize| format!("{VALID}{}", (4..n).map(|i| format!(",p{i}=1")).collect::<String>());
        assert!(RawParams::parse(&with_parameters(MAX_SIGNATURE_PARAMETERS), "Signature").is_ok());
        assert_eq!(bound_of(&with_parameters(MAX_SIGNATURE_PARAMETERS + 1)), Some(LinkBound::Parameters));
        // A repeated unknown parameter is still refused as a repeat.
        assert!(matches!(RawParams::parse(&format!("{VALID},x=1,x=1"), "Signature"), Err(Error::Malformed { .. })));

        let padded = |len: usize| format!("{VALID},x=\"{}\"", "a".repeat(len - VALID.len() - 5));
        assert_eq!(padded(MAX_SIGNATURE_HEADER_LEN).len(), MAX_SIGNATURE_HEADER_LEN);
        assert!(RawParams::parse(&padded(MAX_SIGNATURE_HEADER_LEN), "Signature").is_ok());
        assert_eq!(
            bound_of(&padded(MAX_SIGNATURE_HEADER_LEN + 1)),
            Some(LinkBound::HeaderLength { header: "Signature" })
        );
        let authorization = format!("Signature {}", padded(MAX_SIGNATURE_HEADER_LEN + 1));
        assert!(matches!(
            SignatureParams::parse_authorization(&authorization),
            Some(Err(Error::LinkBound(LinkBound::HeaderLength { header: "Authorization" })))
        ));
        // Another scheme is not read, however long.
        assert!(SignatureParams::parse_authorization(&format!("Bearer {}", "a".repeat(100_000))).is_none());
    }

    #[test]
    fn the_signing_string_stops_at_its_bound() {
        let value = "v".repeat(MAX_SIGNING_STRING_LEN / 2);
        let headers = [("x-a", value.as_str()), ("x-b", value.as_str())];
        let request = RequestView::new("POST", "/", &headers, b"");
        assert!(matches!(signing_string(request, &["x-a"]), Ok(s) if s.len() < MAX_SIGNING_STRING_LEN));
        assert!(matches!(signing_string(request, &["x-a", "x-b"]), Err(Error::LinkBound(LinkBound::SigningString))));
        let headers = vec![("x-a", "v"); MAX_SIGNING_STRING_LEN / 3];
        let request = RequestView::new("POST", "/", &headers, b"");
        assert!(matches!(signing_string(request, &["x-a"]), Err(Error::LinkBound(LinkBound::SigningString))));
        let target = format!("/{}", "t".repeat(MAX_SIGNING_STRING_LEN));
        let request = RequestView::new("POST", &target, &headers, b"");
        assert!(matches!(signing_string(request, &[REQUEST_TARGET]), Err(Error::LinkBound(LinkBound::SigningString))));
    }

    #[test]
    fn components_split_like_split_ascii_whitespace() {
        for headers in ["a", " a  B\tc\n", "(request-target) date", "é x\u{a0}y", "", "  \t "] {
            let ours: Vec<&str> = Components(headers).collect();
            assert_eq!(ours, headers.split_ascii_whitespace().collect::<Vec<_>>(), "{headers:?}");
        }
    }

    #[test]
    fn same_signature_needs_the_same_components_in_order() {
        let parse = |v: &'static str| RawParams::parse(v, "Signature").unwrap();
        let a = parse(r#"keyId="k",algorithm="hmac-sha256",headers="(request-target) date",signature="c2ln""#);
        let b = parse(r#"keyId="k", algorithm="hmac-sha256", headers="(Request-Target)  DATE", signature="c2ln""#);
        assert!(a.same_signature(&b) && b.same_signature(&a));
        for other in [
            r#"keyId="k",algorithm="hmac-sha256",headers="date (request-target)",signature="c2ln""#,
            r#"keyId="k",algorithm="hmac-sha256",headers="(request-target) date digest",signature="c2ln""#,
            r#"keyId="k",algorithm="hmac-sha256",headers="(request-target)",signature="c2ln""#,
            r#"keyId="k",algorithm="hmac-sha256",headers="(request-target) date",signature="c2lm""#,
            r#"keyId="j",algorithm="hmac-sha256",headers="(request-target) date",signature="c2ln""#,
            r#"keyId="k",algorithm="HMAC-SHA256",headers="(request-target) date",signature="c2ln""#,
        ] {
            assert!(!a.same_signature(&parse(other)), "{other}");
        }
    }

    #[test]
    fn first_uncovered_agrees_with_covers() {
        let params = RawParams::parse(
            r#"keyId="k",algorithm="hmac-sha256",headers=" (Request-Target)  date\tDIGEST host",signature="c2ln""#,
            "Signature",
        )
        .unwrap();
        let mut many: Vec<String> = (0..70).map(|i| format!("x-{i}")).collect();
        many.extend(["date".into(), "content-type".into()]);
        for required in [
            vec![],
            vec!["(request-target)".to_owned(), "date".into(), "digest".into()],
            vec!["date".into(), "content-type".into(), "x".into()],
            vec!["host".into(), "host".into(), "dat".into()],
            many.clone(),
            many[..64].iter().cloned().chain(["date".into(), "content-type".into()]).collect(),
        ] {
            let expected = required.iter().find(|c| !params.covers(c));
            assert_eq!(first_uncovered(&params.components().collect::<Vec<_>>(), &required), expected, "{required:?}");
        }
        // More requirements than the mask holds, all covered (by more components than a received
        // signature may list: the function does not depend on that bound).
        let all: Vec<String> = (0..70).map(|i| format!("h{i}")).collect();
        let components: Vec<&str> = all.iter().map(String::as_str).collect();
        assert_eq!(first_uncovered(&components, &all), None);
        let more = [&all[..], &["h70".to_owned()]].concat();
        assert_eq!(first_uncovered(&components, &more).map(String::as_str), Some("h70"));
    }

    #[test]
    fn authorization_scheme_is_recognised() {
        assert!(SignatureParams::parse_authorization(&format!("Signature {VALID}")).unwrap().is_ok());
        assert!(SignatureParams::parse_authorization(&format!("signature  {VALID}")).unwrap().is_ok());
        assert!(SignatureParams::parse_authorization("Basic dXNlcjpwYXNz").is_none());
        assert!(SignatureParams::parse_authorization("Signature").is_none());
        assert!(SignatureParams::parse_authorization("Signature x").unwrap().is_err());
    }

    #[test]
    fn signing_string_lists_components_in_order() {
        let headers = [("digest", "SHA-256=x"), ("date", "d")];
        let request = RequestView::new("Post", "/a%2Fb?q=1", &headers, b"");
        assert_eq!(
            signing_string(request, &["date", "(request-target)", "digest"]).unwrap(),
            "date: d\n(request-target): post /a%2Fb?q=1\ndigest: SHA-256=x"
        );
        assert!(matches!(signing_string(request, &["host"]), Err(Error::MissingHeader { header }) if header == "host"));
        assert!(matches!(signing_string(request, &["(created)"]), Err(Error::Malformed { .. })));
        let latin1: [(&str, &[u8]); 1] = [("date", b"\xe9")];
        let request = RequestView::new("POST", "/", &latin1, b"");
        assert!(matches!(signing_string(request, &["date"]), Err(Error::Malformed { .. })));
    }

    #[test]
    fn verifies_any_rotated_secret_and_nothing_else() {
        let headers = [("date", "d")];
        let request = RequestView::new("POST", "/", &headers, b"");
        let header = sign(request, "k", b"new", &["date"]).unwrap();
        let params = SignatureParams::parse(&header).unwrap();
        let string = signing_string(request, params.components()).unwrap();
        assert!(params.verify(&string, &[Secret::new("old"), Secret::new("new")]).is_ok());
        assert!(matches!(params.verify(&string, &[Secret::new("old")]), Err(Error::SignatureMismatch)));
        assert!(matches!(params.verify("date: e", &[Secret::new("new")]), Err(Error::SignatureMismatch)));
        for bad in ["c2ln", "!!!!", "", &"A".repeat(400)] {
            let mut params = params.clone();
            params.signature = bad.to_owned();
            assert!(matches!(params.verify(&string, &[Secret::new("new")]), Err(Error::SignatureMismatch)));
        }
    }

    #[test]
    fn header_builder_refuses_unquotable_values() {
        assert!(signature_header("a\"b", &["date"], "s").is_err());
        assert!(signature_header("k", &[] as &[&str], "s").is_err());
        assert!(signature_header("", &["date"], "s").is_err());
        assert!(signature_header("k\n", &["date"], "s").is_err());
    }
}
