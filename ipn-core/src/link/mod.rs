//! CentralBill link notifications (PROTOCOLS section 3): a JSON body authenticated with
//! draft-cavage HTTP Signatures (`hmac-sha256`, the application secret) and a body digest.
//!
//! [`Verifier::verify`](crate::Verifier::verify) routes JSON bodies here. In order, without any
//! secret: the `Signature` and/or `Authorization: Signature ...` parameters (both must verify
//! when both are present), within the bounds below, their algorithm, their coverage of the
//! required components (by default [`DEFAULT_REQUIRED_COMPONENTS`]), the `Date` window, and the
//! `Digest` / `Content-Digest` of the body. Then the `keyId` selects the application's secrets,
//! and only then is the signing string built and its HMAC checked in constant time. Only then is
//! the body typed into a [`LinkNotification`].
//!
//! Bounds, so that a request costs time and memory in proportion to its size whatever it holds
//! (each refusal is an [`Error::LinkBound`](crate::Error::LinkBound), answered as malformed): a
//! signature header of at most [`MAX_SIGNATURE_HEADER_LEN`] bytes, with at most
//! [`MAX_SIGNATURE_PARAMETERS`] parameters (unknown ones counted) and
//! [`MAX_SIGNED_COMPONENTS`] components, none listed twice; a signing string of at most
//! [`MAX_SIGNING_STRING_LEN`] bytes. The parameters are read in one pass, and every instance of
//! a header in one pass.
//!
//! RFC 9421 signatures (the standard successor, `hmac-sha256` profile) can be checked with
//! [`rfc9421_verify`], within the same bounds; the verifier does not route to them, since no
//! gateway sends them yet.
//!
//! The signing helpers ([`signing_string`], [`signature`], [`signature_header`], [`sign`],
//! [`digest_header`], [`digest_header_hex`]) build what CentralBill sends, for tests and the CLI:
//!
//! ```
//! use ipn_core::{FixedClock, Keys, RequestView, Verifier};
//! use ipn_core::link;
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let waker = std::task::Waker::noop();
//! #     let mut cx = std::task::Context::from_waker(&waker);
//! #     let mut f = std::pin::pin!(f);
//! #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
//! # }
//! let app = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
//! let keys = Keys::builder().application(app, "app!secret").build().unwrap();
//! let date = "Thu, 01 Dec 2022 19:08:22 GMT";
//! let verifier = Verifier::new(keys).clock(FixedClock::from_http_date(date).unwrap());
//!
//! let body = r#"{"id":"63a3","invoice":{"id":"INV-42","totalAmount":{"amount":150.75,"currency":"XOF"}},
//!               "result":{"status":"COMPLETED"}}"#;
//! let mut headers = vec![
//!     ("content-type".to_owned(), "application/json".to_owned()),
//!     ("date".to_owned(), date.to_owned()),
//!     ("digest".to_owned(), link::digest_header(body.as_bytes())),
//! ];
//! let unsigned = RequestView::new("POST", "/ipn/link", &headers, body.as_bytes());
//! let components = ["(request-target)", "content-type", "date", "digest"];
//! let signature = link::sign(unsigned, app, b"app!secret", &components).unwrap();
//! headers.push(("signature".to_owned(), signature));
//!
//! let request = RequestView::new("POST", "/ipn/link", &headers, body.as_bytes());
//! let notification = block_on(verifier.verify(request)).unwrap();
//! let link = notification.as_link().unwrap();
//! assert_eq!(link.application_id(), app);
//! assert_eq!(link.order_id(), Some("INV-42"));
//! assert_eq!(link.amount().unwrap().to_string(), "150.75 XOF");
//! assert_eq!(link.status(), &link::LinkStatus::Completed);
//! ```

mod bounds;
pub(crate) use crate::dates;
mod digest;
mod notification;
mod rfc9421;
mod signature;
mod verify;

pub use crate::dates::parse_http_date;
pub use crate::error::LinkBound;
pub use crate::policy::{
    DEFAULT_REQUIRED_COMPONENTS, MAX_SIGNATURE_HEADER_LEN, MAX_SIGNATURE_PARAMETERS, MAX_SIGNED_COMPONENTS,
    MAX_SIGNING_STRING_LEN,
};
pub use digest::{content_digest_header, digest_header, digest_header_hex};
pub use notification::{
    Application, Invoice, LinkNotification, LinkResult, LinkStatus, PaidAmount, Payment, PaymentType,
};
pub use rfc9421::{RFC9421_ALGORITHM, rfc9421_key_id, rfc9421_signature, rfc9421_signature_base, rfc9421_verify};
pub use signature::{ALGORITHM, REQUEST_TARGET, SignatureParams, sign, signature, signature_header, signing_string};

pub(crate) use verify::verify;
