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

/// Feeds named parts unambiguously (each part length-prefixed) into SHA-256.
///
/// A form notification is about 55 fields, so 5 pieces each (name and value, their lengths, the
/// presence byte): the pieces are gathered in a buffer and hashed [`BUFFER`] bytes at a time,
/// rather than passed to the hasher one by one (its per-call bookkeeping, and one compression call
/// per block, cost about as much as the hashing of such short pieces). The bytes hashed are the
/// same.
#[derive(Debug, Clone)]
pub(crate) struct FingerprintBuilder {
    hasher: Sha256,
    buffer: [u8; BUFFER],
    len: usize,
}

/// The bytes gathered before hashing: a multiple of the SHA-256 block (64 bytes), so that each
/// flush is whole blocks for the hasher.
const BUFFER: usize = 512;

/// Copies `piece` to `out` at `at` without a call for the short pieces of a notification: up to
/// 16 bytes as two overlapping words (or half-words, or single bytes), as `memcpy` itself does
/// inside, where a call to it per piece costs more than the piece's hashing.
#[inline(always)]
fn put(out: &mut [u8], at: usize, piece: &[u8]) {
    let n = piece.len();
    let Some(to) = out.get_mut(at..at + n) else { unreachable!("the caller made room") };
    match (piece.first_chunk::<8>(), piece.last_chunk::<8>()) {
        (Some(head), Some(tail)) if n <= 16 => {
            to[..8].copy_from_slice(head);
            to[n - 8..].copy_from_slice(tail);
        }
        (Some(_), Some(_)) => to.copy_from_slice(piece),
        _ => match (piece.first_chunk::<4>(), piece.last_chunk::<4>()) {
            (Some(head), Some(tail)) => {
                to[..4].copy_from_slice(head);
                to[n - 4..].copy_from_slice(tail);
            }
            _ => {
                if let (Some(&first), Some(&last)) = (piece.first(), piece.last()) {
                    to[0] = first;
                    to[n / 2] = piece[n / 2];
                    to[n - 1] = last;
                }
            }
        },
    }
}

impl FingerprintBuilder {
    /// Starts a fingerprint for a scheme (the scheme is part of it).
    pub(crate) fn new(scheme: crate::types::Scheme) -> Self {
        let mut b = Self { hasher: Sha256::new(), buffer: [0; BUFFER], len: 0 };
        b.part(scheme.as_str());
        b
    }

    /// Appends bytes to the hashed input.
    fn write(&mut self, bytes: &[u8]) {
        if let Some(free) = self.buffer.get_mut(self.len..self.len + bytes.len()) {
            free.copy_from_slice(bytes);
            self.len += bytes.len();
            return;
        }
        self.flush();
        if bytes.len() < BUFFER {
            self.buffer[..bytes.len()].copy_from_slice(bytes);
            self.len = bytes.len();
        } else {
            self.hasher.update(bytes);
        }
    }

    fn flush(&mut self) {
        self.hasher.update(&self.buffer[..self.len]);
        self.len = 0;
    }

    fn part(&mut self, value: &str) {
        self.write(&(value.len() as u64).to_be_bytes());
        self.write(value.as_bytes());
    }

    /// Adds a named value; `None` is distinct from an empty string.
    pub(crate) fn field(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        // The usual case, a present value with room for the whole field: its five pieces written
        // straight into the buffer, the short ones without a call to `memcpy`.
        let end = self.len + 17 + name.len() + value.map_or(0, str::len);
        if let Some(value) = value
            && end <= BUFFER
        {
            let out = &mut self.buffer[self.len..end];
            out[..8].copy_from_slice(&(name.len() as u64).to_be_bytes());
            put(out, 8, name.as_bytes());
            let at = 8 + name.len();
            out[at] = 1;
            out[at + 1..at + 9].copy_from_slice(&(value.len() as u64).to_be_bytes());
            put(out, at + 9, value.as_bytes());
            self.len = end;
            return self;
        }
        self.part(name);
        match value {
            Some(v) => {
                self.write(&[1]);
                self.part(v);
            }
            None => self.write(&[0]),
        }
        self
    }

    /// The fingerprint.
    pub(crate) fn finish(mut self) -> Fingerprint {
        self.flush();
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

    /// The buffering changes nothing: the same bytes as feeding each piece to SHA-256, whether
    /// the pieces fill the buffer exactly, cross it, or are longer than it.
    #[test]
    fn buffered_pieces_hash_as_the_plain_encoding() {
        let reference = |fields: &[(String, Option<String>)]| {
            fn part(hasher: &mut Sha256, value: &str) {
                hasher.update((value.len() as u64).to_be_bytes());
                hasher.update(value.as_bytes());
            }
            let mut hasher = Sha256::new();
            part(&mut hasher, "form");
            for (name, value) in fields {
                part(&mut hasher, name);
                match value {
                    Some(v) => {
                        hasher.update([1]);
                        part(&mut hasher, v);
                    }
                    None => hasher.update([0]),
                }
            }
            Fingerprint(hasher.finalize().into())
        };
        for len in [0, 1, 7, 8, 63, 64, 100, 475, 476, 477, 511, 512, 513, 1024, 3000] {
            let fields: Vec<(String, Option<String>)> = (0..60)
                .map(|i| (format!("vads_{i}"), (i % 7 != 3).then(|| "x".repeat((len + i) % (len + 1)))))
                .collect();
            let mut builder = FingerprintBuilder::new(crate::types::Scheme::Form);
            for (name, value) in &fields {
                builder.field(name, value.as_deref());
            }
            assert_eq!(builder.finish(), reference(&fields), "values of up to {len} bytes");
        }
    }
}
