#![doc = include_str!("../README.md")]

mod future;
mod headers;
mod layer;
mod response;
mod service;

#[cfg(feature = "axum")]
mod extract;

#[cfg(feature = "axum")]
pub use extract::{Ipn, IpnRejection};
pub use future::ResponseFuture;
pub use headers::HttpHeaders;
pub use layer::IpnLayer;
pub use response::{IpnError, IpnReply};
pub use service::IpnService;

/// Re-exported: the core this adapter forwards to.
pub use ipn_core;
