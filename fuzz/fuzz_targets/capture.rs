//! The CLI's raw HTTP request parser (`ipn verify captured.http`), then the verifier on what it
//! parsed. The module is included from `ipn-cli` by path so that the fuzz build does not pull the
//! CLI's web stack.
#![no_main]

#[allow(dead_code, unreachable_pub)]
#[path = "../../ipn-cli/src/capture.rs"]
mod capture;

use ipn_core::FormAlgorithm;
use ipn_fuzz::{verifier, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match capture::parse_request(data) {
        Ok(request) => {
            let _ = (request.method(), request.target(), request.headers().len(), format!("{request:?}"));
            let _ = request.to_http(Some("localhost"));
            let _ = verify(&verifier(FormAlgorithm::HmacSha256, false), request.view());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
