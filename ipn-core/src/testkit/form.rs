//! Form notifications (`vads_*`): templates of what the gateway posts to the IPN URL, and the
//! builder that changes fields and signs them with the shop key.

use time::OffsetDateTime;
use time::macros::format_description;

use super::{BuildError, RawRequest, fresh_digits, fresh_hex};
use crate::form::{self, FormError, FormFields};
use crate::keys::FormAlgorithm;
use crate::policy::FORM_MEDIA_TYPE;
use crate::types::Mode;

/// A realistic form notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FormTemplate {
    /// An accepted card payment at the end of the payment page (`PAY`, `AUTHORISED`), with the
    /// ~55 fields a real one carries (card, 3-D Secure, customer, warranty...).
    Accepted,
    /// A refused card payment (`PAY`, `REFUSED`, bank result `05`).
    Refused,
    /// A payment abandoned by the buyer (`PAY`, `ABANDONED`).
    Abandoned,
    /// A refund made in the Back Office (`MERCH_BO`, `CREDIT`).
    Refund,
    /// A cancellation made in the Back Office (`MERCH_BO`, `CANCELLED`).
    Cancellation,
    /// A manual validation made in the Back Office (`MERCH_BO`, `AUTHORISED`, validation mode 1).
    Validation,
    /// A token (card alias) created in the Back Office (`MERCH_BO`, `vads_identifier_status=CREATED`).
    TokenCreation,
}

impl FormTemplate {
    /// Every template.
    pub const ALL: [FormTemplate; 7] = [
        FormTemplate::Accepted,
        FormTemplate::Refused,
        FormTemplate::Abandoned,
        FormTemplate::Refund,
        FormTemplate::Cancellation,
        FormTemplate::Validation,
        FormTemplate::TokenCreation,
    ];

    /// The template's name: `accepted`, `refused`, `abandoned`, `refund`, `cancellation`,
    /// `validation`, `token-creation`.
    pub const fn name(self) -> &'static str {
        match self {
            FormTemplate::Accepted => "accepted",
            FormTemplate::Refused => "refused",
            FormTemplate::Abandoned => "abandoned",
            FormTemplate::Refund => "refund",
            FormTemplate::Cancellation => "cancellation",
            FormTemplate::Validation => "validation",
            FormTemplate::TokenCreation => "token-creation",
        }
    }

    /// The template with this name.
    ///
    /// # Errors
    ///
    /// [`BuildError::UnknownTemplate`], listing the known names.
    pub fn from_name(name: &str) -> Result<Self, BuildError> {
        Self::ALL.into_iter().find(|t| t.name() == name).ok_or_else(|| BuildError::UnknownTemplate {
            scheme: "form",
            name: name.to_owned(),
            known: Self::ALL.map(Self::name).join(", "),
        })
    }
}

pub(super) fn wire_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.format(format_description!("[year][month][day][hour][minute][second]")).unwrap_or_default()
}

/// The fields of a template, in the order a gateway sends them.
fn template_fields(template: FormTemplate, shop_id: &str, at: OffsetDateTime) -> Vec<(String, String)> {
    let date = wire_date(at);
    let presentation = wire_date(at + time::Duration::seconds(2));
    let uuid = fresh_hex(32);
    let trans_id = fresh_digits(6);
    let hash = fresh_hex(64);
    let certificate = fresh_hex(40);
    let fields: Vec<(&str, String)> = match template {
        FormTemplate::Accepted | FormTemplate::Refused => {
            let accepted = template == FormTemplate::Accepted;
            let bank_result = if accepted { "00" } else { "05" };
            vec![
                ("vads_action_mode", "INTERACTIVE".into()),
                ("vads_amount", "4525".into()),
                ("vads_auth_mode", "FULL".into()),
                ("vads_auth_number", if accepted { "3fb0de".into() } else { String::new() }),
                ("vads_auth_result", bank_result.into()),
                ("vads_bank_label", "Banque de démo et de l'innovation".into()),
                ("vads_bank_product", "F".into()),
                ("vads_brand_management", r#"{"userChoice":false,"brandList":"CB|VISA","brand":"CB"}"#.into()),
                ("vads_capture_delay", "0".into()),
                ("vads_card_brand", "CB".into()),
                ("vads_card_country", "FR".into()),
                ("vads_card_number", "497010XXXXXX0055".into()),
                ("vads_contract_used", "5785350".into()),
                ("vads_ctx_mode", "TEST".into()),
                ("vads_currency", "978".into()),
                ("vads_cust_country", "FR".into()),
                ("vads_cust_email", "jeanne.dupont+shop@example.com".into()),
                ("vads_cust_first_name", "Jeanne".into()),
                ("vads_cust_last_name", "Dupont".into()),
                ("vads_effective_amount", "4525".into()),
                ("vads_effective_creation_date", presentation.clone()),
                ("vads_effective_currency", "978".into()),
                ("vads_expiry_month", "6".into()),
                ("vads_expiry_year", "2029".into()),
                ("vads_extra_result", String::new()),
                ("vads_hash", hash),
                ("vads_language", "fr".into()),
                ("vads_operation_type", "DEBIT".into()),
                ("vads_order_id", "ORDER-1042".into()),
                ("vads_page_action", "PAYMENT".into()),
                ("vads_payment_certificate", if accepted { certificate } else { String::new() }),
                ("vads_payment_config", "SINGLE".into()),
                ("vads_payment_src", "EC".into()),
                ("vads_pays_ip", "FR".into()),
                ("vads_presentation_date", presentation),
                ("vads_result", bank_result.into()),
                ("vads_sequence_number", "1".into()),
                ("vads_site_id", shop_id.into()),
                ("vads_threeds_auth_type", "CHALLENGE".into()),
                ("vads_threeds_cavv", "Q2F2dkNhdnZDYXZ2Q2F2dkNhdnY=".into()),
                ("vads_threeds_cavvAlgorithm", "2".into()),
                ("vads_threeds_eci", "05".into()),
                ("vads_threeds_enrolled", "Y".into()),
                ("vads_threeds_error_code", String::new()),
                ("vads_threeds_exit_status", "10".into()),
                ("vads_threeds_sign_valid", "1".into()),
                ("vads_threeds_status", "Y".into()),
                ("vads_threeds_xid", String::new()),
                ("vads_tid", "001".into()),
                ("vads_trans_date", date),
                ("vads_trans_id", trans_id),
                ("vads_trans_status", if accepted { "AUTHORISED".into() } else { "REFUSED".into() }),
                ("vads_trans_uuid", uuid),
                ("vads_url_check_src", "PAY".into()),
                ("vads_validation_mode", "0".into()),
                ("vads_version", "V2".into()),
                ("vads_warranty_result", if accepted { "YES".into() } else { String::new() }),
            ]
        }
        FormTemplate::Abandoned => vec![
            ("vads_action_mode", "INTERACTIVE".into()),
            ("vads_amount", "4525".into()),
            ("vads_ctx_mode", "TEST".into()),
            ("vads_currency", "978".into()),
            ("vads_cust_email", "jeanne.dupont+shop@example.com".into()),
            ("vads_hash", hash),
            ("vads_language", "fr".into()),
            ("vads_operation_type", "DEBIT".into()),
            ("vads_order_id", "ORDER-1042".into()),
            ("vads_page_action", "PAYMENT".into()),
            ("vads_payment_config", "SINGLE".into()),
            ("vads_site_id", shop_id.into()),
            ("vads_trans_date", date),
            ("vads_trans_id", trans_id),
            ("vads_trans_status", "ABANDONED".into()),
            ("vads_trans_uuid", uuid),
            ("vads_url_check_src", "PAY".into()),
            ("vads_version", "V2".into()),
        ],
        FormTemplate::Refund | FormTemplate::Cancellation | FormTemplate::Validation => {
            let (operation, status, validation) = match template {
                FormTemplate::Refund => ("CREDIT", "AUTHORISED", "0"),
                FormTemplate::Cancellation => ("DEBIT", "CANCELLED", "0"),
                _ => ("DEBIT", "AUTHORISED", "1"),
            };
            vec![
                ("vads_amount", "4525".into()),
                ("vads_auth_mode", "FULL".into()),
                ("vads_auth_result", "00".into()),
                ("vads_capture_delay", "0".into()),
                ("vads_card_brand", "CB".into()),
                ("vads_card_number", "497010XXXXXX0055".into()),
                ("vads_ctx_mode", "TEST".into()),
                ("vads_currency", "978".into()),
                ("vads_effective_amount", "4525".into()),
                ("vads_effective_currency", "978".into()),
                ("vads_expiry_month", "6".into()),
                ("vads_expiry_year", "2029".into()),
                ("vads_hash", hash),
                ("vads_operation_type", operation.into()),
                ("vads_order_id", "ORDER-1042".into()),
                ("vads_payment_config", "SINGLE".into()),
                ("vads_payment_src", "BO".into()),
                ("vads_result", "00".into()),
                ("vads_sequence_number", "1".into()),
                ("vads_site_id", shop_id.into()),
                ("vads_trans_date", date),
                ("vads_trans_id", trans_id),
                ("vads_trans_status", status.into()),
                ("vads_trans_uuid", uuid),
                ("vads_url_check_src", "MERCH_BO".into()),
                ("vads_user_info", "merchant@example.com".into()),
                ("vads_validation_mode", validation.into()),
                ("vads_version", "V2".into()),
            ]
        }
        FormTemplate::TokenCreation => vec![
            ("vads_action_mode", "INTERACTIVE".into()),
            ("vads_card_brand", "CB".into()),
            ("vads_card_number", "497010XXXXXX0055".into()),
            ("vads_ctx_mode", "TEST".into()),
            ("vads_cust_email", "jeanne.dupont+shop@example.com".into()),
            ("vads_expiry_month", "6".into()),
            ("vads_expiry_year", "2029".into()),
            ("vads_hash", hash),
            ("vads_identifier", fresh_hex(32)),
            ("vads_identifier_status", "CREATED".into()),
            ("vads_page_action", "REGISTER".into()),
            ("vads_site_id", shop_id.into()),
            ("vads_trans_date", date),
            ("vads_url_check_src", "MERCH_BO".into()),
            ("vads_user_info", "merchant@example.com".into()),
            ("vads_version", "V2".into()),
        ],
    };
    fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

/// Builds a signed form notification from a [`FormTemplate`] or from fields.
///
/// The body is signed over exactly the fields it carries, and written in the gateway's order:
/// the names in descending byte order, then `signature` (as in the conformance vectors,
/// `ipn-core/tests/vectors`).
/// [`in_given_order`](Self::in_given_order) writes them as given instead, which
/// [`from_request`](Self::from_request) does too. [`set`](Self::set) replaces a value in place
/// or appends a field.
#[derive(Debug, Clone)]
pub struct FormBuilder {
    fields: Vec<(String, String)>,
    target: String,
    /// Whether the body keeps the order of `fields` rather than the gateway's.
    given_order: bool,
}

impl FormBuilder {
    /// A template for a shop, dated now, with fresh transaction references, in TEST mode.
    pub fn new(template: FormTemplate, shop_id: &str) -> Self {
        Self::at(template, shop_id, OffsetDateTime::now_utc())
    }

    /// A template dated `at` (`vads_trans_date` and the related dates).
    pub fn at(template: FormTemplate, shop_id: &str, at: OffsetDateTime) -> Self {
        Self { fields: template_fields(template, shop_id, at), target: "/ipn".to_owned(), given_order: false }
    }

    /// Arbitrary fields (a `signature` field is dropped: signing adds it).
    pub fn from_fields<N: Into<String>, V: Into<String>>(fields: impl IntoIterator<Item = (N, V)>) -> Self {
        let fields = fields.into_iter().map(|(n, v)| (n.into(), v.into())).filter(|(n, _)| n != "signature").collect();
        Self { fields, target: "/ipn".to_owned(), given_order: false }
    }

    /// The merchant's hosted-payment request for an order, as a shop posts it to the payment page
    /// (`vads_page_action=PAYMENT`, 45.25 EUR, TEST mode, dated 2026-11-20 10:15:00): change
    /// fields with [`set`](Self::set), then take [`signed_fields`](Self::signed_fields).
    pub fn payment_request(shop_id: &str, order_id: &str) -> Self {
        Self::from_fields([
            ("vads_action_mode", "INTERACTIVE"),
            ("vads_amount", "4525"),
            ("vads_ctx_mode", "TEST"),
            ("vads_currency", "978"),
            ("vads_order_id", order_id),
            ("vads_page_action", "PAYMENT"),
            ("vads_payment_config", "SINGLE"),
            ("vads_site_id", shop_id),
            ("vads_trans_date", "20261120101500"),
            ("vads_trans_id", "000042"),
            ("vads_version", "V2"),
        ])
    }

    /// The fields of a received form request, to change and sign again (a retry, a replay), in
    /// their order.
    ///
    /// # Errors
    ///
    /// The body does not decode.
    pub fn from_request(request: &RawRequest) -> Result<Self, FormError> {
        // Decoding checks UTF-8 and duplicates; the pairs are then read again in their order.
        FormFields::parse(request.body())?;
        let fields = form_urlencoded::parse(request.body()).map(|(n, v)| (n.into_owned(), v.into_owned()));
        Ok(Self { target: request.target().to_owned(), given_order: true, ..Self::from_fields(fields) })
    }

    /// Sets `vads_ctx_mode`.
    pub fn mode(self, mode: Mode) -> Self {
        self.set("vads_ctx_mode", mode.as_str())
    }

    /// Sets a field, in place when present, appended otherwise.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(field) => field.1 = value,
            None => self.fields.push((name, value)),
        }
        self
    }

    /// Removes a field.
    pub fn remove(mut self, name: &str) -> Self {
        self.fields.retain(|(n, _)| n != name);
        self
    }

    /// Makes it a browser return: without `vads_hash` and `vads_url_check_src`.
    pub fn browser_return(self) -> Self {
        self.remove("vads_hash").remove("vads_url_check_src")
    }

    /// Writes the body in the order of [`fields`](Self::fields) (then `signature`) instead of
    /// the gateway's.
    pub fn in_given_order(mut self) -> Self {
        self.given_order = true;
        self
    }

    /// The request target (default `/ipn`).
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// A field's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The fields, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The `signature` of the fields with a key.
    pub fn signature(&self, key: &[u8], algorithm: FormAlgorithm) -> String {
        form::sign(self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str())), key, algorithm)
    }

    /// The fields, in order, then their `signature`: a signed payment request as a form posts it.
    pub fn signed_fields(&self, key: &[u8], algorithm: FormAlgorithm) -> Vec<(String, String)> {
        let mut fields = self.fields.clone();
        fields.push(("signature".to_owned(), self.signature(key, algorithm)));
        fields
    }

    /// The signed request: a form POST of the fields and their `signature`, in the gateway's
    /// order unless [`in_given_order`](Self::in_given_order).
    pub fn sign(&self, key: &[u8], algorithm: FormAlgorithm) -> RawRequest {
        let signature = self.signature(key, algorithm);
        let mut fields: Vec<&(String, String)> = self.fields.iter().collect();
        if !self.given_order {
            fields.sort_by(|a, b| b.0.as_bytes().cmp(a.0.as_bytes()));
        }
        let mut body = form_urlencoded::Serializer::new(String::new());
        for (name, value) in fields {
            body.append_pair(name, value);
        }
        body.append_pair("signature", &signature);
        RawRequest::post(self.target.clone(), &format!("{FORM_MEDIA_TYPE}; charset=UTF-8"), body.finish())
    }
}

/// The naive form check, as the performance issue describes it and as integrations are often
/// written: the body decoded into a list of owned pairs (`form_urlencoded`), the `vads_*` pairs
/// filtered and sorted by name, their values joined with `+` and the key appended, HMAC-SHA-256
/// of that, base64, and a string comparison with `signature`.
///
/// It is the baseline the benchmarks measure the verifier against (ipn-core's criterion
/// benchmark, the load benchmark's `naive` route), not a verifier: it reads no shop, mode or
/// algorithm, lets a repeated name through, and compares in variable time. Verify with
/// [`Verifier`](crate::Verifier).
///
/// ```
/// use ipn_core::FormAlgorithm;
/// use ipn_core::testkit::{FormBuilder, FormTemplate, naive_form_check};
///
/// let request = FormBuilder::new(FormTemplate::Accepted, "12345678").sign(b"key", FormAlgorithm::HmacSha256);
/// assert!(naive_form_check(request.body(), b"key"));
/// assert!(!naive_form_check(request.body(), b"another key"));
/// ```
pub fn naive_form_check(body: &[u8], key: &[u8]) -> bool {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};

    let pairs: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let mut signed: Vec<&(String, String)> =
        pairs.iter().filter(|(name, _)| name.starts_with(form::SIGNED_PREFIX)).collect();
    signed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut string = signed.iter().map(|(_, value)| value.as_str()).collect::<Vec<_>>().join("+").into_bytes();
    string.push(b'+');
    string.extend_from_slice(key);
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key) else { return false };
    mac.update(&string);
    let computed = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    pairs.iter().any(|(name, value)| name == "signature" && *value == computed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_template_is_realistic_and_unique() {
        let a = FormBuilder::new(FormTemplate::Accepted, "12345678");
        let b = FormBuilder::new(FormTemplate::Accepted, "12345678");
        assert!(a.fields().len() >= 55, "{}", a.fields().len());
        assert_ne!(a.get("vads_trans_uuid"), b.get("vads_trans_uuid"));
        assert_eq!(a.get("vads_trans_uuid").map(str::len), Some(32));
        assert_eq!(a.get("vads_trans_id").map(str::len), Some(6));
        assert_eq!(a.get("vads_trans_date").map(str::len), Some(14));
    }

    #[test]
    fn names_round_trip_and_unknown_lists_known() {
        for t in FormTemplate::ALL {
            assert_eq!(FormTemplate::from_name(t.name()), Ok(t));
        }
        let err = FormTemplate::from_name("nope").unwrap_err().to_string();
        assert!(err.contains("token-creation"), "{err}");
    }

    #[test]
    fn from_request_keeps_fields_and_resigns() {
        let first = FormBuilder::new(FormTemplate::Refund, "1").sign(b"k", FormAlgorithm::HmacSha256);
        let again = FormBuilder::from_request(&first).unwrap().sign(b"k", FormAlgorithm::HmacSha256);
        assert_eq!(first.body(), again.body());
        let retry = FormBuilder::from_request(&first).unwrap().set("vads_url_check_src", "RETRY");
        assert_eq!(retry.get("vads_url_check_src"), Some("RETRY"));
        assert_ne!(retry.sign(b"k", FormAlgorithm::HmacSha256).body(), first.body());
    }

    /// The names of a body, in order.
    fn names(request: &RawRequest) -> Vec<String> {
        form_urlencoded::parse(request.body()).map(|(n, _)| n.into_owned()).collect()
    }

    #[test]
    fn bodies_are_in_the_gateway_order_unless_asked() {
        for t in FormTemplate::ALL {
            let builder = FormBuilder::new(t, "1").set("vads_a_late_field", "x");
            // As the vectors have them: names in descending byte order, `signature` last.
            let sent = names(&builder.sign(b"k", FormAlgorithm::HmacSha256));
            assert_eq!(sent.last().map(String::as_str), Some("signature"));
            assert!(sent.windows(2).all(|w| w[0].as_bytes() > w[1].as_bytes()), "{t:?}: {sent:?}");
            // As given: the template's order, the appended field, `signature`.
            let given = names(&builder.clone().in_given_order().sign(b"k", FormAlgorithm::HmacSha256));
            let expected: Vec<&str> = builder.fields().iter().map(|(n, _)| n.as_str()).chain(["signature"]).collect();
            assert_eq!(given, expected);
        }
    }

    /// The naive check accepts what the builder signs, in either order, and refuses a changed
    /// value or another key.
    #[test]
    fn the_naive_check_agrees_with_the_signature() {
        let key = b"1122334455667788";
        for t in FormTemplate::ALL {
            let builder = FormBuilder::new(t, "12345678");
            let signed = builder.sign(key, FormAlgorithm::HmacSha256);
            assert!(naive_form_check(signed.body(), key), "{t:?}");
            assert!(naive_form_check(
                builder.clone().in_given_order().sign(key, FormAlgorithm::HmacSha256).body(),
                key
            ));
            assert!(!naive_form_check(signed.body(), b"8877665544332211"), "{t:?}");
            let body = String::from_utf8(signed.body().to_vec()).unwrap();
            let tampered = body.replacen("vads_ctx_mode=TEST", "vads_ctx_mode=PRODUCTION", 1);
            assert_ne!(tampered, body, "{t:?}");
            assert!(!naive_form_check(tampered.as_bytes(), key), "{t:?}");
        }
    }

    #[test]
    fn from_request_keeps_the_order_received() {
        let fields = [("vads_b", "1"), ("vads_c", "2"), ("vads_a", "3")];
        let first = FormBuilder::from_fields(fields).in_given_order().sign(b"k", FormAlgorithm::HmacSha256);
        let replay = FormBuilder::from_request(&first).unwrap().sign(b"k", FormAlgorithm::HmacSha256);
        assert_eq!(names(&replay), ["vads_b", "vads_c", "vads_a", "signature"]);
        assert_eq!(replay.body(), first.body());
    }
}
