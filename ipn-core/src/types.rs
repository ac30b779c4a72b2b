//! The small vocabularies shared by the schemes: scheme, mode, endpoint, transaction status and
//! its class, operation type. Every enum read from the wire keeps unknown values.

use std::fmt;

/// The three wire formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Lyra-family hosted payment form notification (`vads_*` fields).
    Form,
    /// Lyra-family REST API V4 notification (`kr-*` fields, `kr-answer` JSON).
    Rest,
    /// CentralBill payment link notification (JSON with HTTP Signatures).
    Link,
}

impl Scheme {
    /// `form`, `rest` or `link`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Form => "form",
            Scheme::Rest => "rest",
            Scheme::Link => "link",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// TEST or PRODUCTION: selects the key, and the merchant decides whether TEST is accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mode {
    /// `TEST`
    Test,
    /// `PRODUCTION`
    Production,
}

impl Mode {
    /// Reads `TEST` or `PRODUCTION` (exactly, as the gateways send them).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "TEST" => Some(Mode::Test),
            "PRODUCTION" => Some(Mode::Production),
            _ => None,
        }
    }

    /// `TEST` or `PRODUCTION`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "TEST",
            Mode::Production => "PRODUCTION",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the route receiving the notification is for. It decides which REST key is expected and
/// whether a form post must be a server-to-server notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Endpoint {
    /// The notification URL (IPN): form posts must carry `vads_hash`; REST answers are signed
    /// with the REST API password.
    #[default]
    Ipn,
    /// The buyer's browser return: form posts carry no `vads_hash`; REST answers are signed with
    /// the REST HMAC-SHA-256 key.
    Return,
}

impl Endpoint {
    /// `ipn` or `return`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Endpoint::Ipn => "ipn",
            Endpoint::Return => "return",
        }
    }
}

/// The coarse meaning of a status, what most handlers branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusClass {
    /// Paid, or authorised and going to be captured.
    Accepted,
    /// Not decided yet (waiting for authorisation, validation, the buyer, the acquirer).
    Pending,
    /// Abandoned or cancelled.
    Cancelled,
    /// Refused, expired, failed.
    Failed,
    /// A status this library does not know; read the raw value.
    Unknown,
}

impl StatusClass {
    /// `accepted`, `pending`, `cancelled`, `failed` or `unknown`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusClass::Accepted => "accepted",
            StatusClass::Pending => "pending",
            StatusClass::Cancelled => "cancelled",
            StatusClass::Failed => "failed",
            StatusClass::Unknown => "unknown",
        }
    }
}

impl fmt::Display for StatusClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares a wire enum: known values, an `Unknown(String)` arm, `parse`, `as_str`, `Display`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[doc = concat!("`", $wire, "`")] $variant,)*
            /// A value this library does not know, kept as received.
            Unknown(String),
        }

        impl $name {
            /// Reads the wire value; an unknown value is kept, never an error.
            pub fn parse(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// A transaction's status: `vads_trans_status` in form notifications, `detailedStatus` in
    /// REST answers (the same vocabulary).
    TransactionStatus {
        Authorised = "AUTHORISED",
        Captured = "CAPTURED",
        Accepted = "ACCEPTED",
        PartiallyAuthorised = "PARTIALLY_AUTHORISED",
        Initial = "INITIAL",
        WaitingAuthorisation = "WAITING_AUTHORISATION",
        AuthorisedToValidate = "AUTHORISED_TO_VALIDATE",
        WaitingAuthorisationToValidate = "WAITING_AUTHORISATION_TO_VALIDATE",
        UnderVerification = "UNDER_VERIFICATION",
        WaitingForPayment = "WAITING_FOR_PAYMENT",
        Suspended = "SUSPENDED",
        PreAuthorised = "PRE_AUTHORISED",
        CapturePending = "CAPTURE_PENDING",
        Pending = "PENDING",
        RefundToRetry = "REFUND_TO_RETRY",
        Abandoned = "ABANDONED",
        NotCreated = "NOT_CREATED",
        Cancelled = "CANCELLED",
        Refused = "REFUSED",
        Expired = "EXPIRED",
        CaptureFailed = "CAPTURE_FAILED",
    }
}

impl TransactionStatus {
    /// The class of the status (PROTOCOLS 1.5).
    pub fn class(&self) -> StatusClass {
        use TransactionStatus::*;
        match self {
            Authorised | Captured | Accepted | PartiallyAuthorised => StatusClass::Accepted,
            Initial
            | WaitingAuthorisation
            | AuthorisedToValidate
            | WaitingAuthorisationToValidate
            | UnderVerification
            | WaitingForPayment
            | Suspended
            | PreAuthorised
            | CapturePending
            | Pending
            | RefundToRetry => StatusClass::Pending,
            Abandoned | NotCreated | Cancelled => StatusClass::Cancelled,
            Refused | Expired | CaptureFailed => StatusClass::Failed,
            Unknown(_) => StatusClass::Unknown,
        }
    }

    /// Whether the transaction waits for the merchant's validation.
    pub fn is_to_validate(&self) -> bool {
        matches!(self, Self::AuthorisedToValidate | Self::WaitingAuthorisationToValidate)
    }
}

wire_enum! {
    /// Debit (a payment) or credit (a refund): `vads_operation_type`, REST `operationType`.
    OperationType {
        Debit = "DEBIT",
        Credit = "CREDIT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_classify() {
        for (wire, class) in [
            ("AUTHORISED", StatusClass::Accepted),
            ("CAPTURED", StatusClass::Accepted),
            ("AUTHORISED_TO_VALIDATE", StatusClass::Pending),
            ("REFUND_TO_RETRY", StatusClass::Pending),
            ("ABANDONED", StatusClass::Cancelled),
            ("CAPTURE_FAILED", StatusClass::Failed),
            ("SOMETHING_NEW", StatusClass::Unknown),
        ] {
            let status = TransactionStatus::parse(wire);
            assert_eq!(status.as_str(), wire);
            assert_eq!(status.class(), class, "{wire}");
        }
        assert_eq!(TransactionStatus::parse("NEW_ONE"), TransactionStatus::Unknown("NEW_ONE".into()));
    }

    #[test]
    fn mode_is_exact() {
        assert_eq!(Mode::parse("TEST"), Some(Mode::Test));
        assert_eq!(Mode::parse("PRODUCTION"), Some(Mode::Production));
        assert_eq!(Mode::parse("test"), None);
    }
}

/// The base URL of a gateway's REST API (`https://api.payzen.eu`, `https://api.systempay.fr`...),
/// where a shop that opts in has its form notifications confirmed
/// ([`ShopKeys::confirm_with`](crate::ShopKeys::confirm_with)).
///
/// The REST password travels to it in every call, so it must be `https`; plain `http` is
/// accepted only on the loopback interface, for a local simulator (`ipn gateway`).
///
/// ```
/// use ipn_core::GatewayApi;
/// let api = GatewayApi::new("https://api.payzen.eu/").unwrap();
/// assert_eq!(api.as_str(), "https://api.payzen.eu");
/// assert!(GatewayApi::new("http://127.0.0.1:8080").is_ok());
/// assert!(GatewayApi::new("http://api.payzen.eu").is_err());
/// assert!(GatewayApi::new("https://user:pw@api.payzen.eu").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GatewayApi(std::sync::Arc<str>);

impl GatewayApi {
    /// Checks and keeps a base URL (a trailing `/` is dropped).
    ///
    /// # Errors
    ///
    /// Why the URL is refused: not `https` (nor `http` on loopback), no host, credentials, a query,
    /// a fragment or a character outside a URL. The message never repeats the URL, which may
    /// hold a password.
    pub fn new(url: &str) -> Result<Self, String> {
        let url = url.strip_suffix('/').unwrap_or(url);
        let (rest, loopback_only) = if let Some(rest) = url.strip_prefix("https://") {
            (rest, false)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (rest, true)
        } else {
            return Err("the gateway API URL must start with https://".into());
        };
        let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        };
        let host_ok = !host.is_empty()
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-[]:".contains(&b))
            && !authority.contains('@');
        let path_ok = path.bytes().all(|b| b.is_ascii_graphic() && !b"?#@\\".contains(&b));
        if !host_ok || !path_ok {
            return Err("the gateway API URL must be a plain base URL: host, optional port and path".into());
        }
        if loopback_only && !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err("the gateway API URL must use https (plain http on loopback only)".into());
        }
        Ok(Self(url.into()))
    }

    /// The base URL, without a trailing `/`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GatewayApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
