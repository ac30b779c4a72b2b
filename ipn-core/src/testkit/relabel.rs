//! Signature-preserving re-labellings of a signed form message (PROTOCOLS 1.1 item 8): what
//! someone holding one signed message can post without the key. The form signature covers the
//! sorted values joined with `+`, so renaming a field while the order of the values holds,
//! splitting a value at a `+` into two fields, or merging two neighbours with a `+` leaves it
//! valid. The relabel property test and fuzz target drive [`relabel`] from arbitrary bytes and
//! check that what still verifies means what the genuine message meant.

pub mod search;

use time::OffsetDateTime;

use super::{FormBuilder, FormTemplate, RawRequest};
use crate::form::{self, FIELDS};
use crate::keys::FormAlgorithm;
use crate::notification::Notification;
use crate::policy::FORM_MEDIA_TYPE;

/// What a signed message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SeedKind {
    /// The gateway's server-to-server notification.
    Ipn,
    /// The signed fields of the buyer's browser return.
    BrowserReturn,
    /// The merchant's own signed payment form, which every buyer receives.
    PaymentForm,
}

/// A genuine signed message to re-label.
#[derive(Debug, Clone)]
pub struct Seed {
    /// What it is.
    pub kind: SeedKind,
    /// A name for reports.
    pub name: String,
    /// Its signed fields, sorted by name.
    pub fields: Vec<(String, String)>,
    /// Its signature.
    pub signature: String,
}

impl Seed {
    fn new(kind: SeedKind, name: String, builder: FormBuilder, key: &[u8]) -> Self {
        let signature = builder.signature(key, FormAlgorithm::HmacSha256);
        let mut fields: Vec<(String, String)> =
            builder.fields().iter().filter(|(n, _)| n.starts_with(form::SIGNED_PREFIX)).cloned().collect();
        fields.sort();
        Self { kind, name, fields, signature }
    }

    /// The seed's fields posted with its signature.
    pub fn request(&self) -> RawRequest {
        posted(&self.fields, &self.signature)
    }
}

/// `fields` (in their order) and `signature` as a form POST to `/ipn`.
pub fn posted(fields: &[(String, String)], signature: &str) -> RawRequest {
    let mut body = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        body.append_pair(name, value);
    }
    body.append_pair("signature", signature);
    RawRequest::post("/ipn", FORM_MEDIA_TYPE, body.finish())
}

/// Text a buyer chose, which the merchant signs into its payment form and the gateway echoes:
/// a plus-addressed e-mail whose pieces look like the fields an attacker wants to forge, a
/// telephone number with its leading `+`, and names, addresses, order notes and user info that
/// look like shop ids, statuses, sources, amounts, dates, uuids and `V2` (free text holds no `+`
/// in the dictionary: see `form::FIELDS`).
pub const BUYER_TEXT: [(&str, &str); 10] = [
    (
        "vads_cust_email",
        "x+AUTHORISED+PAY+0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7+20261120101500+CREDIT+y@example.com",
    ),
    ("vads_cust_first_name", "12345678"),
    ("vads_cust_last_name", "AUTHORISED"),
    ("vads_cust_address", "4b5053b3b1fe4b02a07753e7a3f2c1d0"),
    ("vads_cust_city", "PAY"),
    ("vads_cust_phone", "+33612345678"),
    ("vads_order_info", "CREDIT"),
    ("vads_order_info2", "4525"),
    ("vads_order_info3", "20261120101500"),
    ("vads_user_info", "V2"),
];

/// The worked example: a buyer's account e-mail, pre-filled by the merchant into the
/// signed payment form for the buyer's own order, built to be split into the fields of an
/// AUTHORISED IPN for that order (hash, operation, order, shop, date, number, status, uuid,
/// source); the genuine values that follow are left for a late free-text field to absorb.
pub fn worked_example_email(shop_id: &str, trans_date: &str) -> String {
    format!(
        "x+0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7+DEBIT+ORDER-1042+{shop_id}+{trans_date}+\
         654321+AUTHORISED+4b5053b3b1fe4b02a07753e7a3f2c1d0+PAY+y@example.com"
    )
}

/// The documented kinds of IPN the templates do not cover, as changes to the accepted one: a
/// subscription created with the payment, the first installment of a payment in several, a
/// token registered with the payment.
fn more_ipns(accepted: &FormBuilder) -> [(&'static str, FormBuilder); 3] {
    [
        (
            "subscription",
            accepted
                .clone()
                .set("vads_page_action", "REGISTER_PAY_SUBSCRIBE")
                .set("vads_identifier", "9f3c1e2d4b5a69788796a5b4c3d2e1f0")
                .set("vads_identifier_status", "CREATED")
                .set("vads_sub_amount", "1990")
                .set("vads_sub_currency", "978")
                .set("vads_sub_desc", "RRULE:FREQ=MONTHLY;COUNT=12")
                .set("vads_sub_effect_date", "20261201")
                .set("vads_subscription", "SUB-77"),
        ),
        (
            "multi-installment",
            accepted
                .clone()
                .set("vads_payment_config", "MULTI:first=1525;count=3;period=30")
                .set("vads_sequence_number", "1"),
        ),
        (
            "token registration with payment",
            accepted
                .clone()
                .set("vads_page_action", "REGISTER_PAY")
                .set("vads_identifier", "9f3c1e2d4b5a69788796a5b4c3d2e1f0")
                .set("vads_identifier_status", "CREATED"),
        ),
    ]
}

/// The genuine messages of a shop: every IPN template and the documented kinds they lack
/// (subscription, several installments, token registration with payment), each also with buyer
/// text holding `+` and field-shaped values; browser returns; and payment forms, one of them
/// the worked example. All signed with `key` (HMAC-SHA-256), in TEST mode, dated `at`.
pub fn seeds(shop_id: &str, key: &[u8], at: OffsetDateTime) -> Vec<Seed> {
    let mut seeds = Vec::new();
    let accepted = FormBuilder::at(FormTemplate::Accepted, shop_id, at);
    let templates = FormTemplate::ALL.map(|t| (t.name(), FormBuilder::at(t, shop_id, at)));
    for (name, ipn) in templates.into_iter().chain(more_ipns(&accepted)) {
        seeds.push(Seed::new(SeedKind::Ipn, format!("ipn {name}"), ipn.clone(), key));
        let buyer = BUYER_TEXT.iter().fold(ipn.clone(), |b, (n, v)| b.set(*n, *v));
        let buyer = if buyer.get("vads_order_id").is_none() { buyer.set("vads_order_id", "ORDER-1042") } else { buyer };
        seeds.push(Seed::new(SeedKind::Ipn, format!("ipn {name} with buyer text"), buyer, key));
        seeds.push(Seed::new(SeedKind::BrowserReturn, format!("return {name}"), ipn.browser_return(), key));
    }
    let trans_date = super::form::wire_date(at);
    let payment_form = FormBuilder::payment_request(shop_id, "ORDER-1042")
        .set("vads_trans_date", trans_date.as_str())
        .set("vads_trans_id", "123456")
        .set("vads_url_return", "https://shop.example/return?order=ORDER-1042");
    seeds.push(Seed::new(SeedKind::PaymentForm, "payment form".into(), payment_form.clone(), key));
    let example = payment_form.clone().set("vads_cust_email", worked_example_email(shop_id, &trans_date));
    seeds.push(Seed::new(SeedKind::PaymentForm, "payment form, worked example".into(), example, key));
    let buyer = BUYER_TEXT.iter().fold(payment_form, |b, (n, v)| b.set(*n, *v));
    seeds.push(Seed::new(SeedKind::PaymentForm, "payment form with buyer text".into(), buyer, key));
    seeds
}

/// Names a re-labelling may use between `low` and `high` (exclusive): the dictionary's, and a
/// few it does not know.
fn names_between<'a>(low: Option<&'a str>, high: Option<&'a str>) -> impl Iterator<Item = String> + 'a {
    let invented = low.map(|l| format!("{l}x")).into_iter().chain(low.map(|l| format!("{l}_")));
    FIELDS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .chain(invented)
        .filter(move |n| low.is_none_or(|l| l < n.as_str()) && high.is_none_or(|h| n.as_str() < h))
}

/// Reads choices from `bytes`, 0 once they run out.
struct Choices<'a>(std::slice::Iter<'a, u8>);

impl Choices<'_> {
    fn next(&mut self, below: usize) -> usize {
        let byte = usize::from(self.0.next().copied().unwrap_or(0));
        if below == 0 { 0 } else { byte % below }
    }
}

/// Applies to `fields` (sorted by name) the re-labellings that `choices` picks, each keeping
/// the signature: renames that keep the names sorted, splits of a value at a `+`, merges of two
/// neighbours. The result is sorted by name and joins its values as `fields` does.
pub fn relabel(fields: &[(String, String)], choices: &[u8]) -> Vec<(String, String)> {
    let mut fields = fields.to_vec();
    let mut choices = Choices(choices.iter());
    let moves = 1 + choices.next(6);
    for _ in 0..moves {
        if fields.is_empty() {
            break;
        }
        let at = choices.next(fields.len());
        let low = at.checked_sub(1).map(|i| fields[i].0.clone());
        match choices.next(3) {
            0 => {
                let high = fields.get(at + 1).map(|f| f.0.clone());
                let names: Vec<String> = names_between(low.as_deref(), high.as_deref()).collect();
                if !names.is_empty() {
                    fields[at].0 = names[choices.next(names.len())].clone();
                }
            }
            1 => {
                let pluses: Vec<usize> = fields[at].1.match_indices('+').map(|(i, _)| i).collect();
                if pluses.is_empty() {
                    continue;
                }
                let cut = pluses[choices.next(pluses.len())];
                let high = fields.get(at + 1).map(|f| f.0.clone());
                let names: Vec<String> = names_between(Some(&fields[at].0), high.as_deref()).collect();
                if names.is_empty() {
                    continue;
                }
                let name = names[choices.next(names.len())].clone();
                let right = fields[at].1.split_off(cut + 1);
                fields[at].1.pop();
                fields.insert(at + 1, (name, right));
            }
            _ => {
                if at + 1 >= fields.len() {
                    continue;
                }
                let (name, right) = fields.remove(at + 1);
                if choices.next(2) == 1 {
                    fields[at].0 = name;
                }
                fields[at].1.push('+');
                fields[at].1.push_str(&right);
            }
        }
    }
    fields
}

/// What a notification means, for comparing a re-labelled one with its genuine original: shop,
/// mode, order, transaction, amounts, currency, status, operation, source, IPN or return, and
/// the idempotency fingerprint.
pub fn identity(notification: &Notification) -> String {
    let form = notification.as_form();
    format!(
        "shop={} mode={:?} order={:?} transaction={:?} amount={:?} effective={:?} status={:?} operation={:?} \
         source={:?} ipn={:?} fingerprint={}",
        notification.merchant_id(),
        notification.mode(),
        notification.order_id(),
        notification.transaction_id(),
        notification.amount().map(|a| a.to_string()),
        form.and_then(|f| f.effective_amount()).map(|a| a.to_string()),
        notification.status(),
        form.and_then(|f| f.operation_type()).map(|o| o.as_str().to_owned()),
        form.and_then(|f| f.source()).map(|s| s.as_str().to_owned()),
        form.map(|f| f.is_ipn()),
        notification.fingerprint(),
    )
}

/// What the dictionary and its rules protect today: shop, mode, transaction, amount, status,
/// operation, source, IPN or not, and, for a transaction, the idempotency fingerprint. The
/// order id, the effective amount, and the fields of a token registered without payment, can
/// still be renamed away by some re-labellings ([`identity`] holds them too; SECURITY.md lists
/// what remains).
pub fn protected(notification: &Notification) -> String {
    let form = notification.as_form();
    format!(
        "shop={} mode={:?} transaction={:?} amount={:?} status={:?} operation={:?} source={:?} ipn={:?} \
         fingerprint={:?}",
        notification.merchant_id(),
        notification.mode(),
        notification.transaction_id(),
        notification.amount().map(|a| a.to_string()),
        notification.status(),
        form.and_then(|f| f.operation_type()).map(|o| o.as_str().to_owned()),
        form.and_then(|f| f.source()).map(|s| s.as_str().to_owned()),
        form.map(|f| f.is_ipn()),
        form.and_then(|f| f.trans_uuid()).map(|_| notification.fingerprint()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn joined(fields: &[(String, String)]) -> String {
        fields.iter().map(|(_, v)| format!("{v}+")).collect()
    }

    #[test]
    fn relabellings_keep_the_signing_string_and_the_order() {
        let at = OffsetDateTime::from_unix_timestamp(1_795_169_700).unwrap();
        for seed in seeds("12345678", b"key", at) {
            for round in 0..200_u16 {
                let choices: Vec<u8> = (0..24).map(|i| (round.wrapping_mul(31) + i * 7) as u8 ^ (i as u8)).collect();
                let out = relabel(&seed.fields, &choices);
                assert_eq!(joined(&out), joined(&seed.fields), "{}", seed.name);
                assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "{}: {out:?}", seed.name);
                let key: &[u8] = b"key";
                let resigned =
                    form::sign(out.iter().map(|(n, v)| (n.as_str(), v.as_str())), key, FormAlgorithm::HmacSha256);
                assert_eq!(resigned, seed.signature, "{}", seed.name);
            }
        }
    }
}
