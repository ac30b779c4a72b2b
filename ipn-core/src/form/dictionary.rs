//! The gateway's form fields, as data: every documented `vads_*` name the gateway posts back (to
//! the IPN URL or in the browser return) with the format of its value.
//!
//! The form signature covers the sorted values, not the names (PROTOCOLS 1.1 item 8): whoever
//! holds one signed message can rename its fields while the order of the values holds, split a
//! value at a `+`, or merge neighbours. Refusing names the gateway does not send and values their
//! format forbids (closed formats never hold a `+`) leaves such a re-labelling very few moves.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use super::FormFields;
use crate::error::Error;
use crate::policy::ExtraFields;
use crate::text::printable_owned;
use crate::types::{Endpoint, Scheme};

/// The format of a field's value. An empty value is always accepted (the gateway sends empty
/// fields it has no value for) unless the field is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldFormat {
    /// ASCII digits, `min..=max` of them.
    Digits {
        /// The fewest digits.
        min: u8,
        /// The most digits.
        max: u8,
    },
    /// Exactly `len` lowercase or uppercase hexadecimal digits.
    Hex {
        /// The length.
        len: u8,
    },
    /// A word: an ASCII letter, then letters, digits, `_`, `-`, `.`, at most `max` in all
    /// (statuses, sources, brands, countries, languages). The typed vocabularies keep values
    /// they do not know.
    Token {
        /// The longest value.
        max: u16,
    },
    /// ASCII letters and digits, `min..=max` of them.
    Alnum {
        /// The fewest characters.
        min: u8,
        /// The most characters.
        max: u8,
    },
    /// One of a closed set of values.
    OneOf(&'static [&'static str]),
    /// A reference: printable ASCII or space, but no `+`, at most `max` (order ids, contract
    /// numbers, masked card numbers, lists such as `CB;VISA`).
    Reference {
        /// The longest value.
        max: u16,
    },
    /// `YYYYMMDDHHMMSS`, a valid UTC date and time.
    DateTime,
    /// `YYYYMMDD`, a valid date.
    Date,
    /// Digits with at most one `.` (rates).
    Decimal {
        /// The longest value.
        max: u8,
    },
    /// Standard base64 (`A-Z a-z 0-9 + / =`), at most `max` (3-D Secure cryptograms).
    Base64 {
        /// The longest value.
        max: u16,
    },
    /// An `http` or `https` URL without white space or control characters.
    Url,
    /// An e-mail address: one `@`, no white space or control characters, at most 254 bytes.
    Email,
    /// Free text: any character but the control characters other than tab and line breaks (an
    /// address may hold several lines), at most `max` characters.
    Text {
        /// The most characters.
        max: u16,
    },
    /// [`Text`](FieldFormat::Text) that does not start or end with white space and whose every
    /// `+` has white space on both sides (`Zoë + Œdipe`): merging neighbours (`A+B`) leaves a
    /// bare `+`, and cutting at a `+` leaves pieces that end or start with a space.
    Line {
        /// The most characters.
        max: u16,
    },
    /// A telephone number: an optional leading `+`, then digits, spaces and `.-()/`, at most
    /// `max` characters.
    Phone {
        /// The most characters.
        max: u8,
    },
    /// A JSON object or array written by the gateway: starts with `{` or `[` and ends with `}`
    /// or `]`, no control characters, at most `max` characters. Its `+` cannot cut it in two
    /// values that both have this format.
    Json {
        /// The most characters.
        max: u16,
    },
    /// An e-mail address whose `+` (sub-addressing) is in the local part only: one `@`, a domain
    /// of letters, digits, `-` and `.` holding a `.`, no white space, at most 254 bytes.
    Mailbox,
    /// [`Url`](FieldFormat::Url) without `+`, at most 1024 bytes.
    Link,
    /// [`Base64`](FieldFormat::Base64) in whole groups of four characters, `=` only as the
    /// final padding: a `+` joining two values leaves a group broken or padding inside.
    PaddedBase64 {
        /// The longest value.
        max: u16,
    },
}

impl FieldFormat {
    /// Whether a received value has this format (an empty value always has).
    ///
    /// ```
    /// use ipn_core::form::FieldFormat;
    /// assert!(FieldFormat::Digits { min: 1, max: 12 }.accepts("4525"));
    /// assert!(!FieldFormat::Digits { min: 1, max: 12 }.accepts("45.25"));
    /// ```
    pub fn accepts(self, value: &str) -> bool {
        value.is_empty() || self.mismatch(value).is_none()
    }

    /// Why `value` does not have this format, or `None` when it does. `value` is not empty.
    fn mismatch(self, value: &str) -> Option<&'static str> {
        let bytes = value.as_bytes();
        let chars_at_most = |max: u16| value.chars().count() <= usize::from(max);
        let all = |ok: fn(&u8) -> bool| bytes.iter().all(ok);
        match self {
            FieldFormat::Digits { min, max } => (!(usize::from(min)..=usize::from(max)).contains(&bytes.len())
                || !all(u8::is_ascii_digit))
            .then_some("expected digits"),
            FieldFormat::Hex { len } => {
                (bytes.len() != usize::from(len) || !all(u8::is_ascii_hexdigit)).then_some("expected hexadecimal")
            }
            FieldFormat::Token { max } => (bytes.len() > usize::from(max)
                || !bytes[0].is_ascii_alphabetic()
                || !all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
            .then_some("expected a word"),
            FieldFormat::Alnum { min, max } => (!(usize::from(min)..=usize::from(max)).contains(&bytes.len())
                || !all(u8::is_ascii_alphanumeric))
            .then_some("expected letters and digits"),
            FieldFormat::OneOf(values) => (!values.contains(&value)).then_some("not one of the documented values"),
            FieldFormat::Reference { max } => (bytes.len() > usize::from(max)
                || !all(|b| (b.is_ascii_graphic() || *b == b' ') && *b != b'+'))
            .then_some("expected a reference (printable ASCII, no +)"),
            FieldFormat::DateTime => {
                super::notification::parse_trans_date(value).is_none().then_some("expected YYYYMMDDHHMMSS")
            }
            FieldFormat::Date => {
                let valid = bytes.len() == 8
                    && all(u8::is_ascii_digit)
                    && super::notification::parse_trans_date(&format!("{value}000000")).is_some();
                (!valid).then_some("expected YYYYMMDD")
            }
            FieldFormat::Decimal { max } => (bytes.len() > usize::from(max)
                || bytes.iter().filter(|b| **b == b'.').count() > 1
                || !all(|b| b.is_ascii_digit() || *b == b'.'))
            .then_some("expected a decimal number"),
            FieldFormat::Base64 { max } => (bytes.len() > usize::from(max)
                || !all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
            .then_some("expected base64"),
            FieldFormat::Url => {
                let scheme = value.starts_with("https://") || value.starts_with("http://");
                (!scheme || bytes.len() > 2048 || !all(u8::is_ascii_graphic)).then_some("expected an http(s) URL")
            }
            FieldFormat::Email => {
                let one_at = bytes.iter().filter(|b| **b == b'@').count() == 1;
                let clean = value.chars().all(|c| !c.is_whitespace() && !c.is_control());
                (!one_at || !clean || bytes.len() > 254).then_some("expected an e-mail address")
            }
            FieldFormat::Text { max } => {
                let control = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
                (!chars_at_most(max) || value.chars().any(control)).then_some("expected text")
            }
            FieldFormat::Line { max } => {
                let spaced = |at: usize| {
                    let around = (bytes.get(at.wrapping_sub(1)), bytes.get(at + 1));
                    matches!(around, (Some(b), Some(a)) if b.is_ascii_whitespace() && a.is_ascii_whitespace())
                };
                let edges = value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace);
                let bare_plus = value.match_indices('+').any(|(at, _)| !spaced(at));
                (edges || bare_plus || FieldFormat::Text { max }.mismatch(value).is_some())
                    .then_some("expected text (a + between spaces, no space at either end)")
            }
            FieldFormat::Phone { max } => {
                let rest = value.strip_prefix('+').unwrap_or(value);
                (bytes.len() > usize::from(max)
                    || !rest
                        .bytes()
                        .all(|b| b.is_ascii_digit() || matches!(b, b' ' | b'.' | b'-' | b'(' | b')' | b'/')))
                .then_some("expected a telephone number")
            }
            FieldFormat::Json { max } => {
                let framed = matches!(bytes.first(), Some(b'{' | b'[')) && matches!(bytes.last(), Some(b'}' | b']'));
                (!framed || bytes.len() < 2 || !chars_at_most(max) || value.chars().any(char::is_control))
                    .then_some("expected a JSON object or array")
            }
            FieldFormat::Mailbox => {
                let domain_ok = |d: &str| {
                    d.contains('.')
                        && !d.starts_with('.')
                        && !d.ends_with('.')
                        && d.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
                };
                let valid = FieldFormat::Email.mismatch(value).is_none()
                    && value.split_once('@').is_some_and(|(local, domain)| {
                        !local.is_empty() && !local.starts_with('+') && !local.ends_with('+') && domain_ok(domain)
                    });
                (!valid).then_some("expected an e-mail address")
            }
            FieldFormat::Link => {
                (value.contains('+') || bytes.len() > 1024 || FieldFormat::Url.mismatch(value).is_some())
                    .then_some("expected an http(s) URL without +")
            }
            FieldFormat::PaddedBase64 { max } => {
                let body = value.trim_end_matches('=');
                let padded = bytes.len().is_multiple_of(4) && bytes.len() - body.len() <= 2 && !body.contains('=');
                (!padded || FieldFormat::Base64 { max }.mismatch(value).is_some()).then_some("expected base64")
            }
        }
    }
}

impl fmt::Display for FieldFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldFormat::Digits { min, max } if min == max => write!(f, "{min} digits"),
            FieldFormat::Digits { min, max } => write!(f, "{min} to {max} digits"),
            FieldFormat::Hex { len } => write!(f, "{len} hexadecimal digits"),
            FieldFormat::Token { max } => write!(f, "a word of at most {max} characters"),
            FieldFormat::Alnum { min, max } if min == max => write!(f, "{min} letters or digits"),
            FieldFormat::Alnum { min, max } => write!(f, "{min} to {max} letters or digits"),
            FieldFormat::OneOf(values) => write!(f, "one of {}", values.join(", ")),
            FieldFormat::Reference { max } => write!(f, "a reference of at most {max} characters"),
            FieldFormat::DateTime => f.write_str("YYYYMMDDHHMMSS"),
            FieldFormat::Date => f.write_str("YYYYMMDD"),
            FieldFormat::Decimal { max } => write!(f, "a decimal number of at most {max} characters"),
            FieldFormat::Base64 { max } => write!(f, "base64 of at most {max} characters"),
            FieldFormat::Url => f.write_str("an http(s) URL"),
            FieldFormat::Email => f.write_str("an e-mail address"),
            FieldFormat::Text { max } => write!(f, "text of at most {max} characters"),
            FieldFormat::Line { max } => write!(f, "text of at most {max} characters, a + between spaces"),
            FieldFormat::Phone { max } => write!(f, "a telephone number of at most {max} characters"),
            FieldFormat::Json { max } => write!(f, "a JSON object or array of at most {max} characters"),
            FieldFormat::Mailbox => f.write_str("an e-mail address"),
            FieldFormat::Link => f.write_str("an http(s) URL without +"),
            FieldFormat::PaddedBase64 { max } => write!(f, "padded base64 of at most {max} characters"),
        }
    }
}

use FieldFormat::{
    Alnum, Base64, Date, DateTime, Decimal, Digits, Email, Hex, Json, Line, Link, Mailbox, OneOf, PaddedBase64, Phone,
    Reference, Text, Token, Url,
};

const AMOUNT: FieldFormat = Digits { min: 1, max: 12 };
const CURRENCY: FieldFormat = Digits { min: 3, max: 3 };
const COUNTRY: FieldFormat = Token { max: 3 };
const NAME: FieldFormat = Text { max: 127 };
const ADDRESS: FieldFormat = Text { max: 255 };
const FREE: FieldFormat = Text { max: 255 };

/// The documented fields the gateway posts back, sorted by name (a test checks the order).
///
/// Sources: the gateways' field dictionary, the vendor's own form SDK (which declares each field
/// with a pattern), PROTOCOLS 1.4 and the conformance vectors. Fields only a payment form carries
/// and the gateway never echoes (the card security code) are left out.
pub const FIELDS: &[(&str, FieldFormat)] = &[
    ("vads_acquirer_network", Token { max: 32 }),
    ("vads_acquirer_transient_data", FREE),
    ("vads_action_mode", OneOf(&["INTERACTIVE", "SILENT", "IFRAME", "REST"])),
    ("vads_amount", AMOUNT),
    ("vads_auth_mode", Token { max: 8 }),
    ("vads_auth_number", Reference { max: 16 }),
    ("vads_auth_result", Reference { max: 8 }),
    ("vads_available_languages", Reference { max: 255 }),
    ("vads_avs_result", Token { max: 8 }),
    ("vads_bank_code", Reference { max: 16 }),
    ("vads_bank_label", NAME),
    ("vads_bank_product", Reference { max: 8 }),
    ("vads_birth_day", Digits { min: 1, max: 2 }),
    ("vads_birth_month", Digits { min: 1, max: 2 }),
    ("vads_birth_year", Digits { min: 4, max: 4 }),
    ("vads_brand_management", Text { max: 1024 }),
    ("vads_capture_delay", Digits { min: 1, max: 3 }),
    ("vads_card_brand", Token { max: 64 }),
    ("vads_card_country", COUNTRY),
    ("vads_card_holder_name", NAME),
    ("vads_card_number", Reference { max: 40 }),
    ("vads_change_rate", Decimal { max: 16 }),
    ("vads_contract_used", Reference { max: 255 }),
    ("vads_contracts", Reference { max: 255 }),
    ("vads_contrib", FREE),
    ("vads_ctx_mode", OneOf(&["TEST", "PRODUCTION"])),
    ("vads_currency", CURRENCY),
    ("vads_cust_address", ADDRESS),
    ("vads_cust_address2", ADDRESS),
    ("vads_cust_address_number", Text { max: 64 }),
    ("vads_cust_antecedents", Token { max: 16 }),
    ("vads_cust_cell_phone", Text { max: 32 }),
    ("vads_cust_city", NAME),
    ("vads_cust_country", COUNTRY),
    ("vads_cust_district", NAME),
    ("vads_cust_email", Email),
    ("vads_cust_first_name", NAME),
    ("vads_cust_id", Text { max: 63 }),
    ("vads_cust_last_name", NAME),
    ("vads_cust_legal_name", NAME),
    ("vads_cust_name", NAME),
    ("vads_cust_national_id", Text { max: 255 }),
    ("vads_cust_phone", Text { max: 32 }),
    ("vads_cust_state", NAME),
    ("vads_cust_status", Token { max: 16 }),
    ("vads_cust_title", Text { max: 63 }),
    ("vads_cust_zip", Text { max: 64 }),
    ("vads_effective_amount", AMOUNT),
    ("vads_effective_creation_date", DateTime),
    ("vads_effective_currency", CURRENCY),
    ("vads_expiry_month", Digits { min: 1, max: 2 }),
    ("vads_expiry_year", Digits { min: 4, max: 4 }),
    ("vads_extra_result", Reference { max: 16 }),
    ("vads_hash", Hex { len: 64 }),
    ("vads_identifier", Reference { max: 50 }),
    ("vads_identifier_status", Token { max: 32 }),
    ("vads_initial_issuer_transaction_identifier", Reference { max: 64 }),
    ("vads_insurance_amount", AMOUNT),
    ("vads_language", Token { max: 5 }),
    ("vads_nb_products", Digits { min: 1, max: 3 }),
    ("vads_occurrence_type", OneOf(&["UNITAIRE", "RECURRENT_INITIAL", "RECURRENT_INTERMEDIAIRE", "RECURRENT_FINAL"])),
    ("vads_operation_type", OneOf(&["DEBIT", "CREDIT"])),
    ("vads_order_id", Reference { max: 64 }),
    ("vads_order_info", FREE),
    ("vads_order_info2", FREE),
    ("vads_order_info3", FREE),
    (
        "vads_page_action",
        OneOf(&[
            "PAYMENT",
            "REGISTER",
            "REGISTER_UPDATE",
            "REGISTER_PAY",
            "REGISTER_SUBSCRIBE",
            "REGISTER_PAY_SUBSCRIBE",
            "SUBSCRIBE",
            "REGISTER_UPDATE_PAY",
            "ASK_REGISTER_PAY",
            "CUSTOMER_WALLET",
        ]),
    ),
    ("vads_payment_cards", Reference { max: 255 }),
    ("vads_payment_certificate", Hex { len: 40 }),
    ("vads_payment_config", Reference { max: 255 }),
    ("vads_payment_error", Reference { max: 8 }),
    ("vads_payment_option_code", FREE),
    ("vads_payment_seq", Text { max: 4096 }),
    ("vads_payment_src", Token { max: 16 }),
    ("vads_pays_ip", COUNTRY),
    ("vads_presentation_date", DateTime),
    ("vads_recurrence_number", Digits { min: 1, max: 4 }),
    ("vads_recurrence_status", Token { max: 32 }),
    ("vads_result", Reference { max: 4 }),
    ("vads_return_mode", OneOf(&["NONE", "GET", "POST"])),
    ("vads_risk_analysis_result", Reference { max: 512 }),
    ("vads_risk_assessment_result", Reference { max: 512 }),
    ("vads_risk_control", Reference { max: 512 }),
    ("vads_sequence_number", Digits { min: 1, max: 3 }),
    ("vads_ship_to_city", NAME),
    ("vads_ship_to_country", COUNTRY),
    ("vads_ship_to_delay", Token { max: 16 }),
    ("vads_ship_to_delivery_company_name", NAME),
    ("vads_ship_to_district", NAME),
    ("vads_ship_to_first_name", NAME),
    ("vads_ship_to_last_name", NAME),
    ("vads_ship_to_legal_name", NAME),
    ("vads_ship_to_name", NAME),
    ("vads_ship_to_phone_num", Text { max: 32 }),
    ("vads_ship_to_speed", Token { max: 16 }),
    ("vads_ship_to_state", NAME),
    ("vads_ship_to_status", Token { max: 16 }),
    ("vads_ship_to_street", ADDRESS),
    ("vads_ship_to_street2", ADDRESS),
    ("vads_ship_to_street_number", Text { max: 64 }),
    ("vads_ship_to_type", Token { max: 32 }),
    ("vads_ship_to_zip", Text { max: 64 }),
    ("vads_shipping_amount", AMOUNT),
    ("vads_shop_name", NAME),
    ("vads_shop_url", Url),
    ("vads_site_id", Digits { min: 8, max: 8 }),
    ("vads_sub_amount", AMOUNT),
    ("vads_sub_currency", CURRENCY),
    ("vads_sub_desc", FREE),
    ("vads_sub_effect_date", Date),
    ("vads_sub_init_amount", AMOUNT),
    ("vads_sub_init_amount_number", Digits { min: 1, max: 3 }),
    ("vads_subscription", Reference { max: 50 }),
    ("vads_tax_amount", AMOUNT),
    ("vads_tax_rate", Decimal { max: 8 }),
    ("vads_threeds_auth_type", Token { max: 32 }),
    ("vads_threeds_cavv", Base64 { max: 64 }),
    ("vads_threeds_cavvAlgorithm", Digits { min: 1, max: 1 }),
    ("vads_threeds_eci", Digits { min: 1, max: 2 }),
    ("vads_threeds_enrolled", Token { max: 1 }),
    ("vads_threeds_error_code", Reference { max: 8 }),
    ("vads_threeds_exit_status", Digits { min: 1, max: 3 }),
    ("vads_threeds_mpi", Digits { min: 1, max: 1 }),
    ("vads_threeds_sign_valid", Digits { min: 1, max: 1 }),
    ("vads_threeds_status", Token { max: 2 }),
    ("vads_threeds_xid", Base64 { max: 64 }),
    ("vads_tid", Reference { max: 16 }),
    ("vads_totalamount_vat", AMOUNT),
    ("vads_trans_date", DateTime),
    ("vads_trans_id", Alnum { min: 6, max: 6 }),
    ("vads_trans_status", Token { max: 64 }),
    ("vads_trans_uuid", Hex { len: 32 }),
    ("vads_url_cancel", Url),
    ("vads_url_check", Url),
    ("vads_url_check_src", Token { max: 16 }),
    ("vads_url_error", Url),
    ("vads_url_referral", Url),
    ("vads_url_refused", Url),
    ("vads_url_return", Url),
    ("vads_url_success", Url),
    ("vads_user_info", FREE),
    ("vads_validation_mode", Digits { min: 1, max: 1 }),
    ("vads_version", OneOf(&["V2"])),
    ("vads_wallet", Reference { max: 64 }),
    ("vads_warranty_result", Token { max: 16 }),
];

/// The indexed product lines (`vads_product_label0`, `vads_product_amount1`...): a documented
/// family, the index being 0 to 999.
const PRODUCT_LINES: &[(&str, FieldFormat)] = &[
    ("vads_product_amount", AMOUNT),
    ("vads_product_ext_id", Reference { max: 100 }),
    ("vads_product_label", FREE),
    ("vads_product_qty", Digits { min: 1, max: 12 }),
    ("vads_product_ref", Reference { max: 64 }),
    ("vads_product_type", Token { max: 32 }),
    ("vads_product_vat", Decimal { max: 12 }),
];

/// Where the verifier reads a field more narrowly than its documented class in [`FIELDS`]
/// (see [`Strictness`]), sorted by name; a product line family applies to its every index.
///
/// Free text holds a `+` only between spaces, and no space at either end (a bare `+` is what
/// lets a value absorb its neighbours or be cut into other fields): the vendor's own form SDK
/// declares names `[A-Za-z0-9]`; refusing `a+b` in an address, an order note or the user info
/// is a judgement (such a notification is refused, SECURITY.md says so). A `+` stays where a buyer types one and the gateway echoes it: the e-mail's local
/// part (sub-addressing) and a telephone number's leading `+`; and in the gateway's own JSON
/// and base64 values, framed so that a cut leaves no valid piece. URLs hold no `+` either (a
/// merchant's URL spells a space `%20`). The notification's source and a token's status are the
/// closed sets PROTOCOLS 1.3 lists: a source the gateway adds later is refused until it is added
/// here, a judgement that keeps buyer text from posing as one. The 3-D Secure cryptograms are
/// padded base64, so a `+` joining neighbours cannot hide in them.
const TIGHTER: &[(&str, FieldFormat)] = &[
    ("vads_acquirer_transient_data", Line { max: 255 }),
    ("vads_bank_label", Line { max: 127 }),
    ("vads_brand_management", Json { max: 1024 }),
    ("vads_card_holder_name", Line { max: 127 }),
    ("vads_contrib", Line { max: 255 }),
    ("vads_cust_address", Line { max: 255 }),
    ("vads_cust_address2", Line { max: 255 }),
    ("vads_cust_address_number", Line { max: 64 }),
    ("vads_cust_cell_phone", Phone { max: 32 }),
    ("vads_cust_city", Line { max: 127 }),
    ("vads_cust_district", Line { max: 127 }),
    ("vads_cust_email", Mailbox),
    ("vads_cust_first_name", Line { max: 127 }),
    ("vads_cust_id", Line { max: 63 }),
    ("vads_cust_last_name", Line { max: 127 }),
    ("vads_cust_legal_name", Line { max: 127 }),
    ("vads_cust_name", Line { max: 127 }),
    ("vads_cust_national_id", Line { max: 255 }),
    ("vads_cust_phone", Phone { max: 32 }),
    ("vads_cust_state", Line { max: 127 }),
    ("vads_cust_title", Line { max: 63 }),
    ("vads_cust_zip", Line { max: 64 }),
    ("vads_identifier_status", OneOf(&["CREATED", "NOT_CREATED", "UPDATED", "NOT_UPDATED", "ABANDONED"])),
    ("vads_order_info", Line { max: 255 }),
    ("vads_order_info2", Line { max: 255 }),
    ("vads_order_info3", Line { max: 255 }),
    ("vads_payment_option_code", Line { max: 255 }),
    ("vads_payment_seq", Json { max: 4096 }),
    ("vads_product_label", Line { max: 255 }),
    ("vads_ship_to_city", Line { max: 127 }),
    ("vads_ship_to_delivery_company_name", Line { max: 127 }),
    ("vads_ship_to_district", Line { max: 127 }),
    ("vads_ship_to_first_name", Line { max: 127 }),
    ("vads_ship_to_last_name", Line { max: 127 }),
    ("vads_ship_to_legal_name", Line { max: 127 }),
    ("vads_ship_to_name", Line { max: 127 }),
    ("vads_ship_to_phone_num", Phone { max: 32 }),
    ("vads_ship_to_state", Line { max: 127 }),
    ("vads_ship_to_street", Line { max: 255 }),
    ("vads_ship_to_street2", Line { max: 255 }),
    ("vads_ship_to_street_number", Line { max: 64 }),
    ("vads_ship_to_zip", Line { max: 64 }),
    ("vads_shop_name", Line { max: 127 }),
    ("vads_shop_url", Link),
    ("vads_sub_desc", Line { max: 255 }),
    ("vads_threeds_cavv", PaddedBase64 { max: 64 }),
    ("vads_threeds_xid", PaddedBase64 { max: 64 }),
    ("vads_url_cancel", Link),
    ("vads_url_check", Link),
    (
        "vads_url_check_src",
        OneOf(&["PAY", "BO", "BATCH", "BATCH_AUTO", "DCF", "MERCH_BO", "PAYMENT_ORDER", "REC", "RETRY"]),
    ),
    ("vads_url_error", Link),
    ("vads_url_referral", Link),
    ("vads_url_refused", Link),
    ("vads_url_return", Link),
    ("vads_url_success", Link),
    ("vads_user_info", Line { max: 255 }),
];

/// Fields that only the gateway's server-to-server notification carries (PROTOCOLS 1.2): required
/// at the IPN endpoint, refused at the return endpoint.
pub const IPN_ONLY: [&str; 2] = ["vads_hash", "vads_url_check_src"];

/// Fields every form notification carries, IPN or browser return.
pub const REQUIRED: [&str; 4] = ["vads_ctx_mode", "vads_site_id", "vads_trans_date", "vads_version"];

/// Fields that come together: an amount is meaningless without its currency, and a currency
/// without its amount is an amount renamed away.
const PAIRED: [(&str, &str); 2] =
    [("vads_amount", "vads_currency"), ("vads_effective_amount", "vads_effective_currency")];

/// Fields the gateway never sends without another: a transaction always says its amount,
/// operation and status, and the order's details come with the order's reference. Without these
/// rules a re-labelling could rename them away into a free-text neighbour.
///
/// A token comes with its status (PROTOCOLS 1.3): the gateway's documented token messages all
/// carry both, and a `vads_identifier` alone is refused, a judgement that keeps a neighbour's
/// value (the language, a reference) from posing as a token.
const REQUIRES: [(&str, &str); 7] = [
    ("vads_identifier", "vads_identifier_status"),
    ("vads_trans_uuid", "vads_amount"),
    ("vads_trans_uuid", "vads_operation_type"),
    ("vads_trans_uuid", "vads_trans_status"),
    ("vads_order_info", "vads_order_id"),
    ("vads_order_info2", "vads_order_id"),
    ("vads_order_info3", "vads_order_id"),
];

/// How narrowly values are read.
///
/// The verifier reads them [`Tightened`](Strictness::Tightened). [`Documented`](Strictness::Documented)
/// is the documentation's broad format classes alone (`ans..255` for free text...), kept so that
/// the re-labelling search can measure what the tightening closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strictness {
    /// The broad format classes of [`FIELDS`] and the documented structure.
    Documented,
    /// [`Documented`](Strictness::Documented) narrowed where the documentation allows it: closed
    /// sets, lengths, `+` only where a buyer or the gateway puts one, and the rules that keep
    /// free text from absorbing other fields.
    Tightened,
}

/// The format of a documented field, or `None` for a name the gateway does not send.
///
/// ```
/// use ipn_core::form::{FieldFormat, field_format};
/// assert_eq!(field_format("vads_trans_uuid"), Some(FieldFormat::Hex { len: 32 }));
/// assert_eq!(field_format("vads_product_amount3"), field_format("vads_amount"));
/// assert_eq!(field_format("vads_amount_bis"), None);
/// ```
pub fn field_format(name: &str) -> Option<FieldFormat> {
    field_format_with(name, Strictness::Tightened)
}

/// The format of a documented field read with `strictness`.
pub fn field_format_with(name: &str, strictness: Strictness) -> Option<FieldFormat> {
    let known = match strictness {
        Strictness::Tightened => tightened().get(name).map(|&(format, _)| format),
        Strictness::Documented => FIELDS.binary_search_by(|(known, _)| known.cmp(&name)).ok().map(|at| FIELDS[at].1),
    };
    if known.is_some() {
        return known;
    }
    let (prefix, format) = product_line(name)?;
    match strictness {
        Strictness::Tightened => Some(TIGHTER.iter().find(|(n, _)| *n == prefix).map_or(format, |(_, f)| *f)),
        Strictness::Documented => Some(format),
    }
}

/// The documented fields with the tightened formats in place: one lookup per received field,
/// where two searches of the tables cost more than the rest of the verification.
fn tightened() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| FIELDS.iter().chain(TIGHTER).map(|&(name, format)| (name, (format, rule_bit(name)))).collect())
}

/// Each documented name with its tightened format and its bit among [`rule_names`] (0 for none).
type Table = HashMap<&'static str, (FieldFormat, u64), foldhash::fast::FixedState>;

/// The presence rules with each name's bit: what [`check_with`] tests once the fields are read.
struct Rules {
    required: Vec<Named>,
    paired: Vec<(Named, Named)>,
    requires: Vec<(Named, Named)>,
    ipn_only: Vec<Named>,
}

/// A name with its bit.
type Named = (u64, &'static str);

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let named = |name: &'static str| (rule_bit(name), name);
        let pair = |&(a, b): &(&'static str, &'static str)| (named(a), named(b));
        Rules {
            required: REQUIRED.into_iter().map(named).collect(),
            paired: PAIRED.iter().map(pair).collect(),
            requires: REQUIRES.iter().map(pair).collect(),
            ipn_only: IPN_ONLY.into_iter().map(named).collect(),
        }
    })
}

/// The bit of a name the presence rules speak of, 0 for any other.
fn rule_bit(name: &str) -> u64 {
    rule_names().binary_search(&name).map_or(0, |at| 1 << at)
}

/// The names the presence rules speak of (required, paired, required by another, IPN only),
/// sorted: at most 64, one bit each.
fn rule_names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = REQUIRED.into_iter().chain(IPN_ONLY).collect();
        names.extend(PAIRED.iter().chain(&REQUIRES).flat_map(|(a, b)| [*a, *b]));
        names.sort_unstable();
        names.dedup();
        assert!(names.len() <= 64, "one bit per rule name");
        names
    })
}

/// The family of an indexed product line (`vads_product_label3`: `vads_product_label`).
fn product_line(name: &str) -> Option<(&'static str, FieldFormat)> {
    PRODUCT_LINES.iter().find_map(|(prefix, format)| {
        let index = name.strip_prefix(prefix)?;
        let indexed = (1..=3).contains(&index.len()) && index.bytes().all(|b| b.is_ascii_digit());
        indexed.then_some((*prefix, *format))
    })
}

/// The families of indexed product lines (`vads_product_label` for `vads_product_label0` to
/// `vads_product_label999`).
pub fn product_line_families() -> impl Iterator<Item = &'static str> {
    PRODUCT_LINES.iter().map(|(prefix, _)| *prefix)
}

/// The names the structural rules read (required, paired, required together, IPN-only): a
/// re-labelling that moves a value into or out of one of them changes what the rules see.
pub fn structural_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = REQUIRED.iter().chain(&IPN_ONLY).copied().collect();
    names.extend(PAIRED.iter().chain(&REQUIRES).flat_map(|(a, b)| [*a, *b]));
    names.sort_unstable();
    names.dedup();
    names
}

/// The presence rules as (with, needs): a message with a value in `with` must hold one in
/// `needs` (an amount and its currency both ways, and the documented requirements); the
/// re-labelling search prunes with them.
pub fn requirements() -> impl Iterator<Item = (&'static str, &'static str)> {
    PAIRED.iter().flat_map(|(a, b)| [(*a, *b), (*b, *a)]).chain(REQUIRES)
}

impl ExtraFields {
    /// The format `name` is read with: its documented one, or free text for an added name.
    pub fn format(&self, name: &str, strictness: Strictness) -> Option<FieldFormat> {
        field_format_with(name, strictness).or_else(|| {
            self.names().binary_search_by(|known| known.as_str().cmp(name)).is_ok().then_some(Text { max: 4096 })
        })
    }
}

/// A received name for an error: its first 64 characters, [`printable`] (control characters
/// escaped), so that what an attacker sent cannot forge a log line or flood one.
fn shown(text: &str) -> String {
    let mut out = printable_owned(text.chars().take(64).collect());
    if text.chars().nth(64).is_some() {
        out.push('…');
    }
    out
}

/// Checks every received name and value against the dictionary, and the fields the endpoint
/// requires or refuses. Runs before the signature check: it reads nothing for meaning.
///
/// # Errors
///
/// `UnknownField` for a name outside the dictionary and `extra`; `InvalidField` for a value its
/// format forbids; `MissingField` for a required field absent or empty; `WrongEndpoint` for an
/// IPN-only field at the return endpoint.
pub(crate) fn check(fields: &FormFields, endpoint: Endpoint, extra: &ExtraFields) -> Result<(), Error> {
    check_with(fields, endpoint, extra, Strictness::Tightened)
}

/// The dictionary check the verifier runs before the signature, read with `strictness`: what the
/// re-labelling search runs its candidates through.
///
/// # Errors
///
/// As the verifier's check.
pub fn check_with(
    fields: &FormFields,
    endpoint: Endpoint,
    extra: &ExtraFields,
    strictness: Strictness,
) -> Result<(), Error> {
    // Which of the names the rules below speak of are here (`sent`) and hold a value
    // (`filled`), noted while each field is checked: the rules then need no lookup.
    let (mut sent, mut filled) = (0_u64, 0_u64);
    for (name, value) in fields.iter() {
        if name == "signature" {
            continue;
        }
        // One lookup gives the format and the name's bit among the rules' names.
        let known = match strictness {
            Strictness::Tightened => tightened().get(name).copied(),
            Strictness::Documented => None,
        };
        let Some((format, bit)) = known.or_else(|| Some((extra.format(name, strictness)?, rule_bit(name)))) else {
            return Err(Error::UnknownField { name: shown(name) });
        };
        if let Some(reason) = (!value.is_empty()).then(|| format.mismatch(value)).flatten() {
            let name = FIELDS.iter().chain(PRODUCT_LINES).find(|(known, _)| *known == name).map_or(name, |(k, _)| k);
            return Err(Error::InvalidField { name: shown(name), reason });
        }
        sent |= bit;
        if !value.is_empty() {
            filled |= bit;
        }
    }
    let rules = rules();
    let present = |(bit, _): &(u64, &str)| filled & bit != 0;
    let missing = |(_, field): &(u64, &'static str)| Error::MissingField { scheme: Scheme::Form, field };
    if let Some(name) = rules.required.iter().find(|name| !present(name)) {
        return Err(missing(name));
    }
    for (amount, currency) in &rules.paired {
        match (present(amount), present(currency)) {
            (true, false) => return Err(missing(currency)),
            (false, true) => return Err(missing(amount)),
            _ => {}
        }
    }
    if let Some((_, field)) = rules.requires.iter().find(|(with, field)| present(with) && !present(field)) {
        return Err(missing(field));
    }
    match endpoint {
        Endpoint::Ipn => match rules.ipn_only.iter().find(|name| !present(name)) {
            Some(&(_, name)) => Err(Error::WrongEndpoint(if name == "vads_hash" {
                "a browser return or payment form (no vads_hash) was posted to the IPN endpoint"
            } else {
                "a notification without vads_url_check_src was posted to the IPN endpoint"
            })),
            None => Ok(()),
        },
        Endpoint::Return if rules.ipn_only.iter().any(|(bit, _)| sent & bit != 0) => Err(Error::WrongEndpoint(
            "a server notification (vads_hash or vads_url_check_src) was posted to the return endpoint",
        )),
        Endpoint::Return => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dictionary_is_sorted_and_prefixed() {
        for pair in FIELDS.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (name, _) in FIELDS.iter().chain(PRODUCT_LINES) {
            assert!(name.starts_with(super::super::SIGNED_PREFIX), "{name}");
        }
        for name in IPN_ONLY.iter().chain(&REQUIRED) {
            assert!(field_format(name).is_some(), "{name}");
        }
    }

    #[test]
    fn tightenings_are_sorted_and_documented() {
        for pair in TIGHTER.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} before {}", pair[0].0, pair[1].0);
        }
        for (name, _) in TIGHTER {
            let family = PRODUCT_LINES.iter().any(|(p, _)| p == name);
            assert!(family || field_format_with(name, Strictness::Documented).is_some(), "{name}");
        }
    }

    #[test]
    fn tightened_formats() {
        let ok = |f: FieldFormat, v: &str| f.mismatch(v).is_none();
        assert!(ok(Mailbox, "jeanne.dupont+shop@example.com"));
        assert!(!ok(Mailbox, "jeanne@example.com+V2"), "no + in the domain");
        assert!(!ok(Mailbox, "+x@example.com"));
        assert!(ok(Phone { max: 32 }, "+33 6 12 34 56 78"));
        assert!(!ok(Phone { max: 32 }, "+33+612345678"));
        assert!(ok(Json { max: 64 }, r#"{"brand":"CB"}"#));
        assert!(!ok(Json { max: 64 }, r#"{"brand":"CB"}+V2"#));
        assert!(ok(Line { max: 64 }, "Banque de démo"));
        assert!(ok(Line { max: 64 }, "Zoë + Œdipe"));
        assert!(!ok(Line { max: 64 }, "a+b"));
        assert!(!ok(Line { max: 64 }, "Zoë "), "the piece a cut at ' + ' leaves");
        assert!(!ok(Line { max: 64 }, " Œdipe"));
        assert!(ok(Link, "https://shop.example/return?order=ORDER-1042"));
        assert!(!ok(Link, "https://shop.example/return+V2"));
        assert!(ok(PaddedBase64 { max: 64 }, "Q2F2dkNhdnZDYXZ2Q2F2dkNhdnY="));
        assert!(ok(PaddedBase64 { max: 64 }, "Q2F2+kNhdnZDYXZ2Q2F2dkNhdnY="));
        assert!(!ok(PaddedBase64 { max: 64 }, "CHALLENGE+Q2F2dkNhdnZDYXZ2Q2F2dkNhdnY=+2+05"), "padding inside");
        assert!(!ok(PaddedBase64 { max: 64 }, "05+Y++10+1"), "a broken group");
        let source = field_format("vads_url_check_src").unwrap();
        assert!(ok(source, "MERCH_BO") && !ok(source, "V2"));
        let token_status = field_format("vads_identifier_status").unwrap();
        assert!(ok(token_status, "NOT_CREATED") && !ok(token_status, "CREDIT"));
    }

    #[test]
    fn a_token_comes_with_its_status() {
        let fields = |body: &str| FormFields::parse(body.as_bytes()).unwrap();
        let base = "vads_ctx_mode=TEST&vads_site_id=12345678&vads_trans_date=20261120101500&vads_version=V2";
        let alone = fields(&format!("{base}&vads_identifier=fr"));
        assert!(matches!(
            check(&alone, Endpoint::Return, &ExtraFields::default()),
            Err(Error::MissingField { field: "vads_identifier_status", .. })
        ));
        let with_status = fields(&format!("{base}&vads_identifier=fr&vads_identifier_status=CREATED"));
        assert!(check(&with_status, Endpoint::Return, &ExtraFields::default()).is_ok());
    }

    #[test]
    fn closed_formats_never_hold_a_plus() {
        for (name, format) in FIELDS.iter().chain(PRODUCT_LINES) {
            if !matches!(format, Text { .. } | Email | Url | Base64 { .. }) {
                assert!(format.mismatch("A+B").is_some() && format.mismatch("1+2").is_some(), "{name}");
            }
        }
    }

    #[test]
    fn formats() {
        let ok = |f: FieldFormat, v: &str| f.mismatch(v).is_none();
        assert!(ok(Digits { min: 8, max: 8 }, "12345678"));
        assert!(!ok(Digits { min: 8, max: 8 }, "1234567"));
        assert!(!ok(AMOUNT, "12.5"));
        assert!(!ok(AMOUNT, "-1"));
        assert!(ok(Hex { len: 4 }, "0aF9"));
        assert!(!ok(Hex { len: 4 }, "0aF"));
        assert!(!ok(Hex { len: 4 }, "0aFg"));
        assert!(ok(Token { max: 16 }, "MERCH_BO"));
        assert!(!ok(Token { max: 16 }, "MERCH BO"));
        assert!(!ok(Token { max: 3 }, "ABCD"));
        assert!(!ok(Token { max: 16 }, "4525"), "a word starts with a letter");
        assert!(ok(Alnum { min: 6, max: 6 }, "a1B2c3"));
        assert!(!ok(Alnum { min: 6, max: 6 }, "a1B2c"));
        assert!(ok(OneOf(&["TEST", "PRODUCTION"]), "TEST"));
        assert!(!ok(OneOf(&["TEST", "PRODUCTION"]), "test"));
        assert!(ok(Reference { max: 64 }, "ORDER-1042"));
        assert!(!ok(Reference { max: 64 }, "ORDER+1042"));
        assert!(ok(Reference { max: 64 }, "ORDER 1042"));
        assert!(!ok(Reference { max: 64 }, "ORDER\t1042"));
        assert!(!ok(Reference { max: 64 }, "COMMANDE-É"));
        assert!(ok(DateTime, "20261120101500"));
        assert!(!ok(DateTime, "20261320101500"));
        assert!(ok(Date, "20240229"));
        assert!(!ok(Date, "20230229"));
        assert!(!ok(Date, "2023022"));
        assert!(ok(Decimal { max: 8 }, "19.6"));
        assert!(!ok(Decimal { max: 8 }, "1.9.6"));
        assert!(ok(Base64 { max: 64 }, "Q2F2dkNhdnZDYXZ2Q2F2dkNhdnY="));
        assert!(ok(Url, "https://shop.example/return?a=b"));
        assert!(!ok(Url, "javascript:alert(1)"));
        assert!(!ok(Url, "https://shop.example/a b"));
        assert!(ok(Email, "jeanne.dupont+shop@example.com"));
        assert!(!ok(Email, "jeanne"));
        assert!(!ok(Email, "a@b@c"));
        assert!(ok(Text { max: 5 }, "é+à b"));
        assert!(!ok(Text { max: 5 }, "abcdef"));
        assert!(ok(Text { max: 50 }, "2 rue X\r\nBât. B"));
        assert!(!ok(Text { max: 50 }, "bell\u{7}"));
        assert!(!ok(Text { max: 50 }, "nul\u{0}"));
    }

    #[test]
    fn product_lines_are_indexed() {
        assert_eq!(field_format("vads_product_label0"), Some(Line { max: 255 }));
        assert_eq!(field_format_with("vads_product_label0", Strictness::Documented), Some(FREE));
        assert_eq!(field_format("vads_product_qty999"), Some(Digits { min: 1, max: 12 }));
        assert_eq!(field_format("vads_product_qty1000"), None);
        assert_eq!(field_format("vads_product_qty"), None);
        assert_eq!(field_format("vads_product_qtyx"), None);
    }

    #[test]
    fn extra_fields_are_signed_names_only() {
        let extra = ExtraFields::new(["vads_ext_info_note", "utm_source", "vads_", "vads_a b", "signature"]);
        assert_eq!(extra.names(), ["vads_ext_info_note"]);
        assert_eq!(extra.format("utm_source", Strictness::Tightened), None);
        assert_eq!(extra.format("vads_ext_info_note", Strictness::Tightened), Some(Text { max: 4096 }));
    }

    #[test]
    fn shown_text_is_bounded_and_escaped() {
        assert_eq!(shown("vads_a\nb"), "vads_a\\nb");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 65);
    }
}
