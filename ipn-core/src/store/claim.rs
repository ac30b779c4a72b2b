//! What a claim returns: the winner's [`ClaimToken`], the reply recorded by an earlier delivery,
//! or "someone else holds it".

use std::fmt;

use crate::reply::Reply;
use crate::store::StoreError;

/// The result of [`NotificationStore::claim`](crate::store::NotificationStore::claim).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Claim {
    /// This caller won the claim: process the notification, then
    /// [`complete`](crate::store::NotificationStore::complete) or
    /// [`release`](crate::store::NotificationStore::release) with this token.
    Acquired(ClaimToken),
    /// The notification was processed before: the reply that was sent then.
    Done(Reply),
    /// Another delivery holds the claim and its lease has not expired.
    InProgress,
}

/// A random token naming one claim, so that only its holder can complete or release it (a
/// process whose lease expired and was taken over cannot overwrite the new holder's work).
///
/// Not a secret (it authorizes nothing outside the store), shown in hex. Shared back-ends use
/// 128 random bits from the operating system ([`generate`](Self::generate)); the in-memory store,
/// where uniqueness within the process is enough, numbers its claims.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClaimToken([u8; 16]);

impl ClaimToken {
    /// A fresh random token.
    ///
    /// # Errors
    ///
    /// [`StoreError::Random`] when the operating system cannot provide randomness.
    pub fn generate() -> Result<Self, StoreError> {
        let mut bytes = [0_u8; 16];
        getrandom::fill(&mut bytes).map_err(StoreError::Random)?;
        Ok(Self(bytes))
    }

    /// A token from its bytes (as read back from a store).
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the 32-character hex form.
    pub fn from_hex(hex_text: &str) -> Option<Self> {
        let mut out = [0_u8; 16];
        hex::decode_to_slice(hex_text, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Display for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClaimToken({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_round_trip_through_hex() {
        let a = ClaimToken::generate().unwrap();
        let b = ClaimToken::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(ClaimToken::from_hex(&a.to_string()), Some(a));
        assert_eq!(ClaimToken::from_bytes(*a.as_bytes()), a);
        assert_eq!(ClaimToken::from_hex("zz"), None);
    }
}
