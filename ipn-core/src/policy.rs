//! What a verifier accepts, as data the schemes read: the bounds on link signatures.

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
