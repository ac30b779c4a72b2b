//! Cross-crate tests of the IPN workspace; no library code. `tests/parity.rs` runs one case matrix
//! against `ipn-tower` (axum) and `ipn-actix` and asserts both answer the same status, content type
//! and body.
