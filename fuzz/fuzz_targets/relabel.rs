//! Form re-labelling: the first byte picks a genuine signed message (an IPN of every template,
//! with and without adversarial buyer text, a browser return, a payment form), the rest drives
//! signature-preserving changes (renames keeping the order, splits at `+`, merges). What still
//! verifies as an IPN must mean what the genuine IPN meant; a return or a payment form never does.
#![no_main]

use std::sync::OnceLock;

use ipn_core::testkit::relabel::{Seed, SeedKind, posted, protected, relabel, seeds};
use ipn_core::{Endpoint, FormAlgorithm, Keys, Mode, ShopKeys, Verifier};
use libfuzzer_sys::fuzz_target;

const SHOP: &str = "12345678";
const KEY: &str = "1122334455667788";

struct Fixture {
    verifier: Verifier,
    seeds: Vec<(Seed, Option<String>)>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let keys = Keys::builder()
            .shop(ShopKeys::new(SHOP).form_key(Mode::Test, KEY).form_algorithm(FormAlgorithm::HmacSha256))
            .build()
            .expect("keys");
        let verifier = Verifier::new(keys).endpoint(Endpoint::Ipn).accept_test_mode(true);
        let at = time::OffsetDateTime::from_unix_timestamp(1_795_169_700).expect("date");
        let seeds = seeds(SHOP, KEY.as_bytes(), at)
            .into_iter()
            .map(|seed| {
                let meaning = (seed.kind == SeedKind::Ipn).then(|| {
                    let n = pollster::block_on(verifier.verify(seed.request().view())).expect("a genuine IPN");
                    protected(&n)
                });
                (seed, meaning)
            })
            .collect();
        Fixture { verifier, seeds }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, choices)) = data.split_first() else { return };
    let fixture = fixture();
    let (seed, meaning) = &fixture.seeds[usize::from(pick) % fixture.seeds.len()];
    let fields = relabel(&seed.fields, choices);
    if let Ok(n) = pollster::block_on(fixture.verifier.verify(posted(&fields, &seed.signature).view())) {
        assert_eq!(Some(protected(&n)), *meaning, "{}: {fields:?}", seed.name);
    }
});
