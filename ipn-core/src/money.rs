//! Money without floating point: integer minor units (form, REST) or exact decimals (CentralBill),
//! always with an ISO 4217 currency.

use std::fmt;

use rust_decimal::Decimal;

/// An ISO 4217 currency, or a code this library does not know (kept as received).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Currency {
    /// A known ISO 4217 currency.
    Iso(iso_currency::Currency),
    /// An unknown code, as received (alpha or numeric).
    Unknown(String),
}

impl Currency {
    /// From an ISO 4217 numeric code as the form notifications send it (`"978"` is EUR).
    pub fn from_numeric(code: &str) -> Self {
        code.parse::<u16>()
            .ok()
            .and_then(iso_currency::Currency::from_numeric)
            .map_or_else(|| Currency::Unknown(code.to_owned()), Currency::Iso)
    }

    /// From an ISO 4217 alpha code as the REST and CentralBill notifications send it (`"EUR"`).
    pub fn from_alpha(code: &str) -> Self {
        iso_currency::Currency::from_code(code).map_or_else(|| Currency::Unknown(code.to_owned()), Currency::Iso)
    }

    /// The alpha code (`EUR`), or the unknown code as received.
    pub fn code(&self) -> &str {
        match self {
            Currency::Iso(c) => c.code(),
            Currency::Unknown(code) => code,
        }
    }

    /// The numeric code (978), when known.
    pub fn numeric(&self) -> Option<u16> {
        match self {
            Currency::Iso(c) => Some(c.numeric()),
            Currency::Unknown(_) => None,
        }
    }

    /// The number of decimals of the minor unit (2 for EUR, 0 for XOF and XPF), when known.
    pub fn exponent(&self) -> Option<u16> {
        match self {
            Currency::Iso(c) => c.exponent(),
            Currency::Unknown(_) => None,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money, as the notification expressed it.
///
/// ```
/// use ipn_core::{Amount, Currency};
/// let paid = Amount::Minor { minor: 4525, currency: Currency::from_numeric("978") };
/// assert_eq!(paid.currency().code(), "EUR");
/// assert_eq!(paid.to_decimal().unwrap().to_string(), "45.25");
/// assert_eq!(paid.to_string(), "45.25 EUR");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Amount {
    /// Integer minor units (`4525` EUR cents = 45.25 EUR): form and REST notifications.
    Minor {
        /// The amount in the currency's smallest unit.
        minor: i64,
        /// The currency.
        currency: Currency,
    },
    /// An exact decimal in major units (`150.75` XOF): CentralBill notifications.
    Decimal {
        /// The amount in major units, exactly as received.
        value: Decimal,
        /// The currency.
        currency: Currency,
    },
}

impl Amount {
    /// The currency.
    pub fn currency(&self) -> &Currency {
        match self {
            Amount::Minor { currency, .. } | Amount::Decimal { currency, .. } => currency,
        }
    }

    /// The amount in major units; `None` for minor units of a currency whose exponent is unknown.
    pub fn to_decimal(&self) -> Option<Decimal> {
        match self {
            Amount::Minor { minor, currency } => Some(Decimal::new(*minor, u32::from(currency.exponent()?))),
            Amount::Decimal { value, .. } => Some(*value),
        }
    }

    /// The amount in minor units; `None` when a decimal amount has more decimals than the
    /// currency's minor unit, or the exponent is unknown.
    pub fn to_minor(&self) -> Option<i64> {
        match self {
            Amount::Minor { minor, .. } => Some(*minor),
            Amount::Decimal { value, currency } => {
                let scaled = value.checked_mul(Decimal::from(10_i64.checked_pow(u32::from(currency.exponent()?))?))?;
                if scaled.fract().is_zero() { i64::try_from(scaled).ok() } else { None }
            }
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self, self.to_decimal()) {
            (_, Some(value)) => write!(f, "{value} {}", self.currency()),
            (Amount::Minor { minor, currency }, None) => {
                write!(f, "{minor} (minor units) {currency}")
            }
            (Amount::Decimal { value, currency }, None) => write!(f, "{value} {currency}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn numeric_and_alpha_codes() {
        assert_eq!(Currency::from_numeric("978").code(), "EUR");
        assert_eq!(Currency::from_numeric("840").code(), "USD");
        assert_eq!(Currency::from_numeric("953").code(), "XPF");
        assert_eq!(Currency::from_numeric("953").exponent(), Some(0));
        assert_eq!(Currency::from_alpha("XOF").numeric(), Some(952));
        assert_eq!(Currency::from_numeric("999999"), Currency::Unknown("999999".into()));
        assert_eq!(Currency::from_alpha("ZZZ").code(), "ZZZ");
    }

    #[test]
    fn conversions_are_exact() {
        let fee =
            Amount::Decimal { value: Decimal::from_str("150.75").unwrap(), currency: Currency::from_alpha("EUR") };
        assert_eq!(fee.to_minor(), Some(15075));
        let xof =
            Amount::Decimal { value: Decimal::from_str("150.75").unwrap(), currency: Currency::from_alpha("XOF") };
        assert_eq!(xof.to_minor(), None, "XOF has no minor unit");
        let xpf = Amount::Minor { minor: 1000, currency: Currency::from_numeric("953") };
        assert_eq!(xpf.to_string(), "1000 XPF");
    }
}
