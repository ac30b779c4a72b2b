//! One type over the three schemes, with a common view a handler can use without caring which
//! gateway sent the notification.

use crate::fingerprint::Fingerprint;
use crate::form::{FormNotification, Nature};
use crate::link::LinkNotification;
use crate::money::Amount;
use crate::rest::RestNotification;
use crate::types::{Mode, Scheme, StatusClass};

/// An authenticated, typed notification of any scheme.
///
/// Match on it for the scheme's full detail, or use the common view: [`merchant_id`](Self::merchant_id),
/// [`order_id`](Self::order_id), [`amount`](Self::amount), [`status_class`](Self::status_class),
/// [`fingerprint`](Self::fingerprint)...
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Notification {
    /// A form notification (`vads_*`).
    Form(FormNotification),
    /// A REST notification (`kr-*`).
    Rest(RestNotification),
    /// A CentralBill link notification.
    Link(LinkNotification),
}

impl Notification {
    /// Which wire format it came in.
    pub fn scheme(&self) -> Scheme {
        match self {
            Notification::Form(_) => Scheme::Form,
            Notification::Rest(_) => Scheme::Rest,
            Notification::Link(_) => Scheme::Link,
        }
    }

    /// The shop id (form, REST) or the CentralBill application id (link).
    pub fn merchant_id(&self) -> &str {
        match self {
            Notification::Form(n) => n.shop_id(),
            Notification::Rest(n) => n.shop_id(),
            Notification::Link(n) => n.application_id(),
        }
    }

    /// TEST or PRODUCTION; CentralBill does not say.
    pub fn mode(&self) -> Option<Mode> {
        match self {
            Notification::Form(n) => Some(n.mode()),
            Notification::Rest(n) => n.mode(),
            Notification::Link(_) => None,
        }
    }

    /// The merchant's order reference: `vads_order_id`, `orderDetails.orderId`, the invoice id.
    pub fn order_id(&self) -> Option<&str> {
        match self {
            Notification::Form(n) => n.order_id(),
            Notification::Rest(n) => n.order_id(),
            Notification::Link(n) => n.order_id(),
        }
    }

    /// The gateway's transaction reference: `vads_trans_uuid`, the first transaction's `uuid`,
    /// the notification `id`.
    pub fn transaction_id(&self) -> Option<&str> {
        match self {
            Notification::Form(n) => n.trans_uuid(),
            Notification::Rest(n) => n.transaction_id(),
            Notification::Link(n) => Some(n.id()),
        }
    }

    /// The amount: `vads_amount` with its currency, the REST transaction (or order) amount, the
    /// invoice total.
    pub fn amount(&self) -> Option<Amount> {
        match self {
            Notification::Form(n) => n.amount(),
            Notification::Rest(n) => n.amount(),
            Notification::Link(n) => n.amount(),
        }
    }

    /// The status as received (`vads_trans_status`, `detailedStatus` or `orderStatus`,
    /// `result.status`).
    pub fn status(&self) -> Option<&str> {
        match self {
            Notification::Form(n) => n.status().map(|s| s.as_str()),
            Notification::Rest(n) => n.status(),
            Notification::Link(n) => Some(n.status().as_str()),
        }
    }

    /// The coarse meaning of the status.
    pub fn status_class(&self) -> StatusClass {
        match self {
            Notification::Form(n) => n.status().map_or(StatusClass::Unknown, |s| s.class()),
            Notification::Rest(n) => n.status_class(),
            Notification::Link(n) => n.status().class(),
        }
    }

    /// Why it was sent: end of payment, back-office operation, retry... (CentralBill sends only
    /// payment results; a REST answer names the operation, not the trigger: see
    /// [`RestNotification::nature`]).
    pub fn nature(&self) -> Nature {
        match self {
            Notification::Form(n) => n.nature(),
            Notification::Rest(n) => n.nature(),
            Notification::Link(_) => Nature::Payment,
        }
    }

    /// The idempotency fingerprint: a retry of the same notification has the same one.
    pub fn fingerprint(&self) -> Fingerprint {
        match self {
            Notification::Form(n) => n.fingerprint(),
            Notification::Rest(n) => n.fingerprint(),
            Notification::Link(n) => n.fingerprint(),
        }
    }

    /// The form notification, if it is one.
    pub fn as_form(&self) -> Option<&FormNotification> {
        match self {
            Notification::Form(n) => Some(n),
            _ => None,
        }
    }

    /// The REST notification, if it is one.
    pub fn as_rest(&self) -> Option<&RestNotification> {
        match self {
            Notification::Rest(n) => Some(n),
            _ => None,
        }
    }

    /// The link notification, if it is one.
    pub fn as_link(&self) -> Option<&LinkNotification> {
        match self {
            Notification::Link(n) => Some(n),
            _ => None,
        }
    }
}

/// Converts a [`Notification`] into one scheme's type: what the adapters' `Ipn<T>` extractors use.
// The error hands the notification back unchanged; boxing it would cost an allocation per call.
#[allow(clippy::result_large_err)]
pub trait FromNotification: Sized {
    /// The scheme this type holds, `None` for [`Notification`] itself.
    const SCHEME: Option<Scheme>;
    /// The scheme's value, or the notification back when it is of another scheme.
    ///
    /// # Errors
    ///
    /// Returns the notification unchanged when it is of another scheme.
    fn from_notification(notification: Notification) -> Result<Self, Notification>;
}

impl FromNotification for Notification {
    const SCHEME: Option<Scheme> = None;
    fn from_notification(notification: Notification) -> Result<Self, Notification> {
        Ok(notification)
    }
}

impl FromNotification for FormNotification {
    const SCHEME: Option<Scheme> = Some(Scheme::Form);
    fn from_notification(notification: Notification) -> Result<Self, Notification> {
        match notification {
            Notification::Form(n) => Ok(n),
            other => Err(other),
        }
    }
}

impl FromNotification for RestNotification {
    const SCHEME: Option<Scheme> = Some(Scheme::Rest);
    fn from_notification(notification: Notification) -> Result<Self, Notification> {
        match notification {
            Notification::Rest(n) => Ok(n),
            other => Err(other),
        }
    }
}

impl FromNotification for LinkNotification {
    const SCHEME: Option<Scheme> = Some(Scheme::Link);
    fn from_notification(notification: Notification) -> Result<Self, Notification> {
        match notification {
            Notification::Link(n) => Ok(n),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification moves from the verifier through the middleware into the handler's future:
    /// each scheme keeps its fields behind one box, so that what moves is a pointer and a tag.
    #[test]
    fn a_notification_moves_as_a_pointer() {
        let word = std::mem::size_of::<usize>();
        assert_eq!(std::mem::size_of::<FormNotification>(), word);
        assert_eq!(std::mem::size_of::<RestNotification>(), word);
        assert_eq!(std::mem::size_of::<LinkNotification>(), word);
        assert!(std::mem::size_of::<Notification>() <= 2 * word);
    }
}
