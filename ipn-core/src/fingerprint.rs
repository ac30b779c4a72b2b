//! The idempotency fingerprint: a SHA-256 over a notification's business content, excluding
//! delivery fields, so that a retry or a replay of the same notification has the same
//! fingerprint and a different event (a refund, a status change) does not.

use std::fmt;

use sha2::{Digest, Sha256};

/// A stable identifier of a notification's content, for exactly-once processing.
///
/// ```
/// # use ipn_core::Fingerprint;
/// # let fp = Fingerprint::from_bytes([0xab; 32]);
/// assert_eq!(fp.to_string().len(), 64); // lowercase hex
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// From raw bytes (as stored by a notification store).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses the 64-character lowercase hex form.
    pub fn from_hex(hex_text: &str) -> Option<Self> {
        let mut out = [0_u8; 32];
        hex::decode_to_slice(hex_text, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// Builds a [`Fingerprint`]: each piece is fed to SHA-256 prefixed with its length, so that no
/// two sequences of fields hash the same input.
#[derive(Debug, Clone)]
pub(crate) struct FingerprintBuilder {
    hasher: Sha256,
}

impl FingerprintBuilder {
    /// Starts a fingerprint for a scheme (the scheme is part of it).
    pub(crate) fn new(scheme: crate::types::Scheme) -> Self {
        let mut b = Self { hasher: Sha256::new() };
        b.part(scheme.as_str());
        b
    }

    fn part(&mut self, value: &str) {
        self.hasher.update((value.len() as u64).to_be_bytes());
        self.hasher.update(value.as_bytes());
    }

    /// Adds a named value; `None` is distinct from an empty string.
    pub(crate) fn field(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        self.part(name);
        match value {
            Some(v) => {
                self.hasher.update([1]);
                self.part(v);
            }
            None => self.hasher.update([0]),
        }
        self
    }

    /// The fingerprint.
    pub(crate) fn finish(self) -> Fingerprint {
        Fingerprint(self.hasher.finalize().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The encoding is what stores keep: a change would make a retry after an upgrade look new.
    #[test]
    fn the_encoding_is_pinned() {
        let mut b = FingerprintBuilder::new(crate::types::Scheme::Form);
        b.field("vads_amount", Some("4525")).field("vads_order_id", None).field("", Some(""));
        assert_eq!(b.finish().to_string(), "dacf76853fa3d3d35883c8b6606bf0e4271d369969da0d0f7c43189999c65997");
    }
}
