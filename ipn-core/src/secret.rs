//! The one type that holds key material: redacted in `Debug`, zeroized on drop, compared only in
//! constant time.

use std::fmt;
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Deserializer};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A shop key, a REST password or HMAC key, or an application secret.
///
/// The bytes are wiped when the last copy is dropped, `Debug` never shows them, and equality is
/// constant time. There is deliberately no `Display` and no `Serialize`.
///
/// The first HMAC-SHA-256 made with a secret keeps its keyed state (the hashes of the key's
/// inner and outer pads, which hold as much as the key does): every later HMAC starts from a
/// copy of it instead of hashing the pads again, about 0.1 µs of each verification. It is
/// overwritten when the secret is dropped, as the bytes are.
///
/// ```
/// use ipn_core::Secret;
/// let key = Secret::new("1122334455667788");
/// assert_eq!(format!("{key:?}"), "Secret(<redacted>)");
/// assert_eq!(key.expose(), b"1122334455667788");
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Box<[u8]>>,
    keyed: OnceLock<KeyedHmac>,
}

/// HMAC-SHA-256 keyed with a secret, before any message.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// A [`Secret`]'s keyed HMAC state, overwritten on drop (`hmac` offers no zeroizing).
#[derive(Clone)]
struct KeyedHmac(HmacSha256);

impl Drop for KeyedHmac {
    fn drop(&mut self) {
        self.0 = hmac_sha256_keyed(&[]);
        // The store must happen although nothing reads the state after it.
        std::hint::black_box(&self.0);
    }
}

/// A fresh HMAC-SHA-256 keyed with `key`.
pub(crate) fn hmac_sha256_keyed(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

impl Secret {
    /// Wraps key material. The bytes are used as given (a form key is its ASCII text, not hex).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self { bytes: Zeroizing::new(bytes.into().into_boxed_slice()), keyed: OnceLock::new() }
    }

    /// The raw key bytes, for computing a MAC. Never log them.
    pub fn expose(&self) -> &[u8] {
        &self.bytes
    }

    /// An HMAC-SHA-256 keyed with this secret, ready for the message: a copy of the keyed state,
    /// computed once.
    pub(crate) fn hmac_sha256(&self) -> HmacSha256 {
        self.keyed.get_or_init(|| KeyedHmac(hmac_sha256_keyed(&self.bytes))).0.clone()
    }

    /// Whether the secret is empty (a configuration mistake the builder rejects).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Whether the secret starts or ends with whitespace (Unicode whitespace when the bytes are
    /// UTF-8, ASCII otherwise): a pasted key or a file read with its newline, which the builder
    /// rejects since the gateway's keys hold none.
    pub(crate) fn has_surrounding_whitespace(&self) -> bool {
        match std::str::from_utf8(&self.bytes) {
            Ok(text) => text.trim() != text,
            Err(_) => {
                let edge = |b: Option<&u8>| b.is_some_and(u8::is_ascii_whitespace);
                edge(self.bytes.first()) || edge(self.bytes.last())
            }
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
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

/// Whether a MAC's tag is `expected`, in constant time (`Mac::verify_slice`, which compares
/// with `subtle`).
pub(crate) fn hmac_matches(mac: HmacSha256, expected: &[u8]) -> bool {
    mac.verify_slice(expected).is_ok()
}

/// Constant-time equality of two byte strings (the lengths are not secret), by `subtle`.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
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
    fn the_kept_hmac_state_is_the_keys() {
        let message = b"vads_amount+vads_currency+";
        for key in [&b""[..], b"1122334455667788", &[0xA5; 64], &[0x5A; 65], &[7; 200]] {
            let secret = Secret::new(key);
            for _ in 0..2 {
                let mut kept = secret.hmac_sha256();
                kept.update(message);
                let mut fresh = <HmacSha256 as Mac>::new_from_slice(key).unwrap();
                fresh.update(message);
                assert_eq!(kept.finalize().into_bytes(), fresh.finalize().into_bytes(), "{}", key.len());
            }
            // A copy made after the state is kept shares it, and a copy made before computes its own.
            assert_eq!(
                secret.clone().hmac_sha256().finalize().into_bytes(),
                hmac_sha256_keyed(key).finalize().into_bytes()
            );
        }
        let before = Secret::new("k");
        let copy = before.clone();
        let _ = before.hmac_sha256();
        assert_eq!(copy.hmac_sha256().finalize().into_bytes(), hmac_sha256_keyed(b"k").finalize().into_bytes());
        assert_eq!(format!("{before:?}"), "Secret(<redacted>)");
    }

    #[test]
    fn equality_compares_bytes() {
        assert_eq!(Secret::new("a"), Secret::from("a"));
        assert_ne!(Secret::new("a"), Secret::new("b"));
        assert_ne!(Secret::new("a"), Secret::new("ab"));
    }
}
