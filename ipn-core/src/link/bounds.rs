//! The bounds on what a received link signature may ask of the verifier. They are checked while
//! the signature headers are read, before any signing string is built or any HMAC computed, so
//! that one request costs time and memory in proportion to its size, whatever it holds.

use std::fmt;

use crate::error::Error;

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

/// Which bound a received link signature went past (see the constants of [`link`](crate::link)).
/// Each is reported as [`Error::LinkBound`], answered like any malformed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LinkBound {
    /// A signature header longer than [`MAX_SIGNATURE_HEADER_LEN`].
    HeaderLength {
        /// The header (`Signature`, `Authorization`, `Signature-Input`).
        header: &'static str,
    },
    /// More parameters than [`MAX_SIGNATURE_PARAMETERS`].
    Parameters,
    /// More covered components than [`MAX_SIGNED_COMPONENTS`].
    Components,
    /// A component covered twice: it only makes the signing string longer.
    RepeatedComponent,
    /// A signing string or signature base longer than [`MAX_SIGNING_STRING_LEN`].
    SigningString,
}

impl fmt::Display for LinkBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkBound::HeaderLength { header } => {
                write!(f, "the {header} header is longer than {MAX_SIGNATURE_HEADER_LEN} bytes")
            }
            LinkBound::Parameters => write!(f, "more than {MAX_SIGNATURE_PARAMETERS} signature parameters"),
            LinkBound::Components => write!(f, "more than {MAX_SIGNED_COMPONENTS} signed components"),
            LinkBound::RepeatedComponent => f.write_str("a signed component is listed twice"),
            LinkBound::SigningString => write!(f, "the signing string would exceed {MAX_SIGNING_STRING_LEN} bytes"),
        }
    }
}

impl From<LinkBound> for Error {
    fn from(bound: LinkBound) -> Self {
        Error::LinkBound(bound)
    }
}

/// Appends `piece` to a signing string, unless the string would then exceed
/// [`MAX_SIGNING_STRING_LEN`].
pub(crate) fn push_bounded(out: &mut String, piece: &str) -> Result<(), Error> {
    if out.len().saturating_add(piece.len()) > MAX_SIGNING_STRING_LEN {
        return Err(LinkBound::SigningString.into());
    }
    out.push_str(piece);
    Ok(())
}
