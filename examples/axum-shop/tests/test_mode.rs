//! The shop's mode decides TEST-mode notifications: started for PRODUCTION, the shop refuses them
//! (403) on every notification route, even with a configuration that opts in to them (the
//! demo's, `accept_test_mode = true`); in TEST (the demo's mode) it accepts them. Outside the
//! demo, a shop started without `--mode` runs in PRODUCTION.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use axum_shop::{Args, DEMO_CONFIG, Options, RunningShop};
use clap::Parser;
use common::{post_raw, snapshot, sqlite_url};
use ipn_cli::Settings;
use ipn_core::testkit::{FormBuilder, FormTemplate, RawRequest, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, FormAlgorithm, Mode};

const SHOP: &str = "12345678";
const TEST_KEY: &str = "1122334455667788";
const PRODUCTION_KEY: &str = "8877665544332211";
const REST_PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
const REST_HMAC_KEY: &str = "38453613e7f44dc58732bad3dca2bca3";

/// The demo's configuration, which opts in to TEST mode, with a PRODUCTION form key added so that
/// the shop can start in either mode.
async fn start(tag: &str, mode: Mode) -> RunningShop {
    let test_key = format!("test_key = \"{TEST_KEY}\"");
    let config = DEMO_CONFIG.replace(&test_key, &format!("{test_key}\nproduction_key = \"{PRODUCTION_KEY}\""));
    assert!(config.contains("accept_test_mode = true") && config.contains(PRODUCTION_KEY), "{config}");
    let options = Options { settings: Settings::from_toml(&config).unwrap(), mode, ..common::options(sqlite_url(tag)) };
    axum_shop::start(options).await.unwrap()
}

/// A TEST-mode notification for each notification route of the shop's gateway.
fn test_notifications() -> [(&'static str, RawRequest); 3] {
    let form = FormBuilder::new(FormTemplate::Accepted, SHOP).mode(Mode::Test);
    let rest = RestBuilder::new(RestTemplate::Payment, SHOP).mode(Mode::Test);
    [
        ("/ipn", form.sign(TEST_KEY.as_bytes(), FormAlgorithm::HmacSha256)),
        ("/ipn", rest.clone().sign(REST_PASSWORD.as_bytes(), Endpoint::Ipn)),
        ("/ipn/return", rest.target("/ipn/return").sign(REST_HMAC_KEY.as_bytes(), Endpoint::Return)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_started_for_production_refuses_test_notifications_on_every_route() {
    let shop = start("production-refuses-test", Mode::Production).await;
    let db = shop.state.db().clone();
    let before = snapshot(&db).await;
    for (route, request) in test_notifications() {
        let (status, stored) = post_raw(format!("{}{route}", shop.url), request).await;
        assert_eq!((status, stored.as_str()), (403, "TEST mode notifications are not accepted."), "{route}");
    }
    assert_eq!(snapshot(&db).await, before, "a refused TEST notification changed the database");
    // The shop's own PRODUCTION notifications are verified and processed.
    let production = FormBuilder::new(FormTemplate::Accepted, SHOP)
        .mode(Mode::Production)
        .sign(PRODUCTION_KEY.as_bytes(), FormAlgorithm::HmacSha256);
    let (status, stored) = post_raw(format!("{}/ipn", shop.url), production).await;
    assert!(status != 401 && status != 403, "{status} {stored}");
    assert_ne!(snapshot(&db).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_in_test_mode_accepts_test_notifications() {
    let shop = start("test-accepts-test", Mode::Test).await;
    for (route, request) in test_notifications() {
        let (status, stored) = post_raw(format!("{}{route}", shop.url), request).await;
        assert!(status != 401 && status != 403, "{route}: {status} {stored}");
    }
}

#[test]
fn without_mode_the_shop_runs_in_production_and_the_demo_in_test() {
    let mode = |args: &[&str]| {
        Args::try_parse_from(std::iter::once("axum-shop").chain(args.iter().copied())).unwrap().mode().unwrap()
    };
    assert_eq!(mode(&["--config", "ipn.toml"]), Mode::Production);
    assert_eq!(mode(&["--demo"]), Mode::Test);
    assert_eq!(mode(&["--config", "ipn.toml", "--mode", "TEST"]), Mode::Test);
    assert_eq!(mode(&["--demo", "--mode", "PRODUCTION"]), Mode::Production);
    assert!(Args::try_parse_from(["axum-shop", "--mode", "LIVE"]).is_err());
}
