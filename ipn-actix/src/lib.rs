#![doc = include_str!("../README.md")]

mod extract;
mod headers;
mod middleware;
mod response;

pub use extract::{Ipn, IpnRejection};
pub use headers::HttpHeaders;
pub use middleware::{IpnMiddleware, IpnService};
pub use response::{IpnError, IpnReply};

/// Re-exported: the verifier, keys, notifications and replies.
pub use ipn_core;
