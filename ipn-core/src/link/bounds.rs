//! The bounds on what a received link signature may ask of the verifier. They are checked while
//! the signature headers are read, before any signing string is built or any HMAC computed, so
//! that one request costs time and memory in proportion to its size, whatever it holds.

use crate::error::{Error, LinkBound};
use crate::policy::MAX_SIGNING_STRING_LEN;

/// Appends `piece` to a signing string, unless the string would then exceed
/// [`MAX_SIGNING_STRING_LEN`].
pub(crate) fn push_bounded(out: &mut String, piece: &str) -> Result<(), Error> {
    if out.len().saturating_add(piece.len()) > MAX_SIGNING_STRING_LEN {
        return Err(LinkBound::SigningString.into());
    }
    out.push_str(piece);
    Ok(())
}
