//! Form re-labelling (PROTOCOLS 1.1 item 8): from genuine signed messages (every IPN template,
//! with and without buyer text holding `+` and field-shaped values; browser returns; payment
//! forms), only signature-preserving changes: renames keeping the order, splits at `+`, merges.
//! Whatever still verifies as an IPN means what the genuine IPN meant, and no payment form or
//! browser return ever verifies as an IPN. The return endpoint is not held to this: a browser
//! return is for display and never updates an order (SECURITY.md says what remains there).
#![allow(clippy::unwrap_used, missing_docs)]

use ipn_core::testkit::relabel::{Seed, SeedKind, identity, posted, protected, relabel, seeds};
use ipn_core::{Endpoint, Error, FormAlgorithm, Keys, Mode, Notification, ShopKeys, Verifier};
use std::sync::OnceLock;

use proptest::prelude::*;
use time::OffsetDateTime;

const SHOP: &str = "12345678";
const KEY: &str = "1122334455667788";

fn verifier(endpoint: Endpoint) -> Verifier {
    let keys = Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, KEY)
                .form_algorithm(FormAlgorithm::HmacSha256)
                .accept_test_mode(true),
        )
        .build()
        .unwrap();
    Verifier::new(keys).endpoint(endpoint).accept_test_mode(true)
}

fn at() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_795_169_700).unwrap()
}

fn all_seeds() -> Vec<Seed> {
    seeds(SHOP, KEY.as_bytes(), at())
}

fn verify(endpoint: Endpoint, fields: &[(String, String)], signature: &str) -> Result<Notification, Error> {
    pollster::block_on(verifier(endpoint).verify(posted(fields, signature).view()))
}

/// What the genuine message means at the endpoint it is meant for.
fn genuine(seed: &Seed, identity: fn(&Notification) -> String) -> Option<String> {
    let endpoint = match seed.kind {
        SeedKind::Ipn => Endpoint::Ipn,
        SeedKind::BrowserReturn => Endpoint::Return,
        _ => return None,
    };
    let notification = verify(endpoint, &seed.fields, &seed.signature)
        .unwrap_or_else(|e| panic!("the genuine {} does not verify: {e}", seed.name));
    Some(identity(&notification))
}

/// Checks one re-labelling of `seed`; returns a description of what went wrong.
fn check(
    seed: &Seed,
    meaning: Option<&str>,
    choices: &[u8],
    identity: fn(&Notification) -> String,
) -> Result<(), String> {
    let fields = relabel(&seed.fields, choices);
    let Ok(notification) = verify(Endpoint::Ipn, &fields, &seed.signature) else { return Ok(()) };
    let expected = if seed.kind == SeedKind::Ipn { meaning } else { None };
    let got = identity(&notification);
    if expected == Some(got.as_str()) {
        return Ok(());
    }
    Err(format!(
        "{} re-labelled verifies as an IPN meaning\n  {got}\nwhere the genuine message means\n  {expected:?}\n\
         fields: {fields:?}",
        seed.name
    ))
}

#[test]
fn every_genuine_seed_verifies_where_it_belongs_and_nowhere_else() {
    for seed in all_seeds() {
        genuine(&seed, protected);
        // A payment form is shaped like a browser return: the return endpoint, which must never
        // update an order, cannot tell them apart (see SECURITY.md).
        let wrong: &[Endpoint] = match seed.kind {
            SeedKind::Ipn => &[Endpoint::Return],
            _ => &[Endpoint::Ipn],
        };
        for endpoint in wrong {
            let result = verify(*endpoint, &seed.fields, &seed.signature);
            assert!(result.is_err(), "{} verifies at the {endpoint:?} endpoint", seed.name);
        }
    }
}

/// The attacks of the security review, written out: each verified before the dictionary.
#[test]
fn known_relabellings_are_refused() {
    let seeds = all_seeds();
    let ipn = seeds.iter().find(|s| s.name == "ipn accepted").unwrap();
    let rename = |from: &str, to: &str| -> Vec<(String, String)> {
        let mut fields = ipn.fields.clone();
        fields.iter_mut().filter(|(n, _)| n == from).for_each(|(n, _)| *n = to.to_owned());
        fields.sort();
        fields
    };
    // An invented name that keeps the order, in place of an unimportant field: a new fingerprint
    // for a replay, before. Refused: the gateway sends no such field.
    let invented = rename("vads_tid", "vads_tid_x");
    assert!(matches!(verify(Endpoint::Ipn, &invented, &ipn.signature), Err(Error::UnknownField { .. })));
    // The amount becomes the contract number: every field from vads_amount up to the contract
    // takes an invented name that sorts between vads_action_mode and vads_amount, and the contract's value takes
    // vads_amount. The order of the values holds, so the signature does; the invented names are
    // refused.
    let contract = ipn.fields.iter().position(|(n, _)| n == "vads_contract_used").unwrap();
    let amount = ipn.fields.iter().position(|(n, _)| n == "vads_amount").unwrap();
    let mut swapped = ipn.fields.clone();
    for (i, field) in swapped[amount..contract].iter_mut().enumerate() {
        field.0 = format!("vads_ad{i:02}");
    }
    swapped[contract].0 = "vads_amount".into();
    assert!(swapped.windows(2).all(|w| w[0].0 < w[1].0), "the order of the values holds");
    assert!(matches!(verify(Endpoint::Ipn, &swapped, &ipn.signature), Err(Error::UnknownField { .. })));
    // A browser return and a payment form never pass as an IPN, whatever is renamed.
    for seed in seeds.iter().filter(|s| s.kind != SeedKind::Ipn) {
        assert!(verify(Endpoint::Ipn, &seed.fields, &seed.signature).is_err(), "{}", seed.name);
    }
}

/// Checks one re-labelling of the seed `index` picks (the seeds are signed once per test binary).
fn check_seed(index: usize, choices: &[u8], identity: fn(&Notification) -> String) -> Result<(), String> {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    let seeds = SEEDS.get_or_init(all_seeds);
    let seed = &seeds[index % seeds.len()];
    check(seed, genuine(seed, identity).as_deref(), choices, identity)
}

fn cases() -> u32 {
    std::env::var("IPN_RELABEL_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2048)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn relabelled_messages_mean_what_the_genuine_one_meant(
        seed_index in any::<usize>(),
        choices in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        if let Err(report) = check_seed(seed_index, &choices, protected) {
            prop_assert!(false, "{}", report);
        }
    }

    /// The whole identity, the order id and token fields included: known to find re-labellings
    /// today (see `protected`); the work on a re-labelling search and gateway confirmation
    /// closes them.
    #[test]
    #[ignore = "finds the residual re-labellings listed in SECURITY.md"]
    fn full_identity_is_kept(
        seed_index in any::<usize>(),
        choices in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        if let Err(report) = check_seed(seed_index, &choices, identity) {
            prop_assert!(false, "{}", report);
        }
    }
}
