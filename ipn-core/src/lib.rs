#![doc = include_str!("../README.md")]

pub mod adapter;
mod clock;
mod config;
pub mod confirm;
mod dates;
mod error;
mod extract;
mod fingerprint;
pub mod form;
mod json;
mod keys;
pub mod link;
mod money;
mod notification;
mod policy;
mod receiver;
mod reply;
mod request;
pub mod rest;
mod secret;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
mod text;
pub mod trace;
mod types;
mod verifier;

pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{Config, ConfigError};
pub use error::Error;
pub use fingerprint::Fingerprint;
pub use form::FormNotification;
pub use keys::{Credentials, FormAlgorithm, KeySlot, KeyStore, KeyStoreError, Keys, KeysBuilder, KeysError, ShopKeys};
pub use link::LinkNotification;
pub use money::{Amount, Currency};
pub use notification::{FromNotification, Notification};
pub use policy::{FORM_MEDIA_TYPE, JSON_MEDIA_TYPE, Limits, Policy};
pub use receiver::{DEFAULT_LEASE, DEFAULT_READ_TIMEOUT, Receiver};
pub use reply::{MAX_REPLY_BYTES, Outcome, Replies, Reply};
pub use request::{Headers, RequestView};
pub use rest::RestNotification;
pub use secret::Secret;
pub use store::{Claim, ClaimToken, MemoryStore, NotificationStore, StoreError};
pub use types::{Endpoint, GatewayApi, Mode, OperationType, Scheme, StatusClass, TransactionStatus};
pub use verifier::Verifier;

/// Re-exported so implementors of [`KeyStore`] use the same macro version.
pub use async_trait::async_trait;
/// Re-exported: exact decimal amounts.
pub use rust_decimal::Decimal;
