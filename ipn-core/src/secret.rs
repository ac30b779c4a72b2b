//! The one type that holds key material: redacted in `Debug`, zeroized on drop, compared only in
//! constant time.

use std::fmt;

use serde::{Deserialize, Deserializer};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A shop key, a REST password or HMAC key, or an application secret.
///
/// The bytes are wiped when the last copy is dropped, `Debug` never shows them, and equality is
/// constant time. There is deliberately no `Display` and no `Serialize`.
///
/// ```
/// use ipn_core::Secret;
/// let key = Secret::new("1122334455667788");
/// assert_eq!(format!("{key:?}"), "Secret(<redacted>)");
/// assert_eq!(key.expose(), b"1122334455667788");
/// ```
#[derive(Clone)]
pub struct Secret(Zeroizing<Box<[u8]>>);

impl Secret {
    /// Wraps key material. The bytes are used as given (a form key is its ASCII text, not hex).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(Zeroizing::new(bytes.into().into_boxed_slice()))
    }

    /// The raw key bytes, for computing a MAC. Never log them.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Whether the secret is empty (a configuration mistake the builder rejects).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Secret {}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        Ok(Self::new(text.as_bytes()))
    }
}

/// Constant-time equality of two byte strings (the lengths are not secret).
///
/// The differences are gathered eight bytes at a time, every chunk read whatever the earlier
/// ones held, and only the total is compared (by `subtle`): `subtle`'s own slice comparison puts
/// an optimisation barrier on every byte, about 13 instructions a byte, which a 64-byte digest
/// felt.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_chunks, b_chunks) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut tail = [0_u8; 8];
    for (slot, (x, y)) in tail.iter_mut().zip(a_chunks.remainder().iter().zip(b_chunks.remainder())) {
        *slot = x ^ y;
    }
    let mut difference = u64::from_le_bytes(tail);
    for (x, y) in a_chunks.zip(b_chunks) {
        let word = |chunk: &[u8]| u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        difference = std::hint::black_box(difference | (word(x) ^ word(y)));
    }
    difference.ct_eq(&0).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2-key");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{s:#?}").contains("hunter2"));
    }

    #[test]
    fn ct_eq_agrees_with_equality() {
        let base: Vec<u8> = (0..70_u8).map(|i| i.wrapping_mul(37)).collect();
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(ct_eq(a, a), "{len}");
            assert!(!ct_eq(a, &base[..len + 1]), "{len}");
            // One bit changed anywhere, in the chunks or the tail.
            for at in 0..len {
                for bit in [0x01, 0x80] {
                    let mut b = a.to_vec();
                    b[at] ^= bit;
                    assert!(!ct_eq(a, &b), "{len} {at} {bit}");
                    assert!(!ct_eq(&b, a), "{len} {at} {bit}");
                }
            }
        }
        assert!(ct_eq(b"", b""));
        assert!(!ct_eq(b"", b"\0"));
    }

    #[test]
    fn equality_compares_bytes() {
        assert_eq!(Secret::new("a"), Secret::from("a"));
        assert_ne!(Secret::new("a"), Secret::new("b"));
        assert_ne!(Secret::new("a"), Secret::new("ab"));
    }
}
