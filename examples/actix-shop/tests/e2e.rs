//! End to end over real HTTP on loopback: the shop, the in-process gateway simulators, the
//! database checked after each notification.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::collections::HashMap;

use actix_shop::demo::{Demo, StepResult};
use common::{SECRETS, get, post_form, post_raw, snapshot};
use ipn_cli::gateway::{Action, Choice};
use ipn_core::testkit::{FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RestBuilder, RestTemplate, fresh_hex};
use ipn_core::{Endpoint, FormAlgorithm};
use serde_json::json;

fn step<'a>(steps: &'a [StepResult], name: &str) -> &'a StepResult {
    steps.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no step {name:?}"))
}

/// The scenario, asserted order by order, and the database after it.
async fn assert_scenario(demo: &Demo) {
    let steps = demo.play().await.unwrap();
    let table = actix_shop::demo::table(&steps);
    for s in &steps {
        assert!(s.ok(), "step {:?} did not match: {:?}\n{table}", s.name, s.mismatches);
    }
    assert_eq!(steps.len(), 13, "{table}");

    let paid = step(&steps, "accepted payment (form)");
    let first = &paid.order.as_ref().unwrap().notifications[0];
    assert_eq!((first.route.as_str(), first.scheme.as_str(), first.source.as_str()), ("/ipn", "form", "PAY"));
    assert_eq!((first.status.as_deref(), first.effect.as_str()), (Some("AUTHORISED"), "paid"));
    assert_eq!((first.reply_status, first.reply.as_str()), (200, "Order successfully updated."));
    assert_eq!(first.amount.as_deref(), Some("45.25 EUR"));

    let rest = step(&steps, "REST payment").order.clone().unwrap();
    assert_eq!((rest.status.as_str(), rest.notifications[0].scheme.as_str()), ("paid", "rest"));
    let link = step(&steps, "CentralBill payment link").order.clone().unwrap();
    assert_eq!(link.notifications[0].route, "/ipn/centralbill");
    assert_eq!(
        (link.notifications[0].scheme.as_str(), link.notifications[0].status.as_deref()),
        ("link", Some("COMPLETED"))
    );

    let refund = step(&steps, "back-office refund").order.clone().unwrap();
    assert_eq!((refund.status.as_str(), refund.refunded_minor), ("refunded", 4525));
    let last = refund.notifications.last().unwrap();
    assert_eq!((last.source.as_str(), last.nature.as_str()), ("MERCH_BO", "back-office refund"));

    let validated = step(&steps, "back-office validation").order.clone().unwrap();
    let effects: Vec<_> = validated.notifications.iter().map(|n| n.effect.as_str()).collect();
    assert_eq!(effects, ["accepted, awaiting validation", "validated: paid"]);

    let retried = step(&steps, "handler failure, automatic retry");
    let sources: Vec<_> = retried.attempts.iter().map(|a| a.source.as_deref()).collect();
    assert_eq!(sources, [Some("PAY"), Some("RETRY")]);
    assert_eq!(retried.attempts[0].stored, "An error occurred while updating the order.");
    let history = &retried.order.as_ref().unwrap().notifications;
    let rows: Vec<_> = history.iter().map(|n| (n.source.as_str(), n.reply_status)).collect();
    assert_eq!(rows, [("PAY", 500), ("RETRY", 200)], "the failed delivery and its retry are both in the history");
    assert!(history[0].effect.contains("demo fault injector"), "{}", history[0].effect);

    let duplicate = step(&steps, "duplicate delivery (replay)");
    assert_eq!(duplicate.attempts[0].source.as_deref(), Some("BO"));
    assert_eq!(duplicate.attempts[0].stored, "Order successfully updated.", "the store replays the recorded reply");
    assert_eq!(duplicate.order.as_ref().unwrap().notifications.len(), 2, "payment and refund only");

    let short = step(&steps, "amount differs from the order").order.clone().unwrap();
    assert_eq!(short.status, "pending");
    assert_eq!(short.flag.as_deref(), Some("amount mismatch: received 1.00 EUR, order is 45.25 EUR"));

    let forged = step(&steps, "forged notification");
    assert_eq!(forged.attempts[0].stored, "An error occurred while computing the signature.");
    let refused = forged.order.as_ref().unwrap();
    assert_eq!((refused.status.as_str(), refused.notifications.len()), ("refused", 1));

    // Correctly signed, but the gateway has the transaction as REFUSED: refused before the
    // handler, which records nothing.
    let relabelled = step(&steps, "forged notification not confirmed");
    assert_eq!(relabelled.attempts[0].stored, "Notification not confirmed by the payment gateway.");
    let refused = relabelled.order.as_ref().unwrap();
    assert_eq!((refused.status.as_str(), refused.notifications.len()), ("refused", 1));

    // The API down: 503 before the handler (unlike a handler failure, nothing is recorded), then
    // the gateway's retry is confirmed and pays the order once.
    let outage = step(&steps, "gateway API down, the retry succeeds");
    let sources: Vec<_> = outage.attempts.iter().map(|a| a.source.as_deref()).collect();
    assert_eq!(sources, [Some("PAY"), Some("RETRY")]);
    assert_eq!(outage.attempts[0].stored, "Payment gateway API unavailable; retry later.");
    let rows: Vec<_> =
        outage.order.as_ref().unwrap().notifications.iter().map(|n| (n.source.as_str(), n.reply_status)).collect();
    assert_eq!(rows, [("RETRY", 200)]);

    // One call per form IPN confirmed (the payment, the refusal, the refund, the payment to
    // validate and its validation, the handler failure's first attempt, the amount mismatch), one
    // for the forgery, two for the outage: the handler failure's retry and the replay are
    // confirmed from the cache.
    assert_eq!(demo.gateway.api_calls(), 10);

    // The database agrees with the API, and holds exactly the recorded rows.
    let db = demo.shop.state.db();
    let mut last_seen = HashMap::new();
    for s in &steps {
        last_seen.insert(s.order_id.clone(), s.order.clone().unwrap());
    }
    for (order_id, seen) in last_seen {
        let stored = db.order(&order_id).await.unwrap().unwrap();
        assert_eq!((stored.status, stored.flag), (seen.status, seen.flag), "{order_id}");
        assert_eq!(db.notifications_for(&order_id).await.unwrap(), seen.notifications);
    }
    let rows: i64 = steps.iter().map(|s| s.new_rows).sum();
    assert_eq!(db.notification_count().await.unwrap(), rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_scenario_matches_order_by_order_on_sqlite() {
    let demo = common::demo("scenario").await;
    assert_scenario(&demo).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_scenario_matches_order_by_order_on_postgres() {
    let Some((url, schema)) = common::postgres_url("scenario").await else { return };
    let demo = actix_shop::demo::start(common::options(url)).await.unwrap();
    assert!(matches!(demo.shop.state.db(), actix_shop::db::Db::Postgres(_)));
    assert_eq!(demo.shop.state.db().schema_version().await.unwrap(), actix_shop::db::SCHEMA_VERSION);
    assert_scenario(&demo).await;
    if let actix_shop::db::Db::Postgres(pool) = demo.shop.state.db() {
        pool.close().await;
    }
    common::drop_schema(&schema).await;
}

/// The shop's checkout page, posted to the simulator as a browser would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checkout_hands_the_buyer_to_the_gateway_and_the_database_follows_each_notification() {
    let demo = common::demo("checkout").await;
    let db = demo.shop.state.db().clone();
    let (status, location, _) =
        post_form(format!("{}/checkout", demo.shop.url), vec![("product".into(), "beans".into())]).await;
    assert_eq!(status, 303);
    let order_id = location.unwrap().strip_prefix("/checkout/").unwrap().to_owned();
    let order = db.order(&order_id).await.unwrap().unwrap();
    assert_eq!((order.status.as_str(), order.amount_minor, order.currency.as_str()), ("pending", 2490, "EUR"));
    assert!(db.notifications_for(&order_id).await.unwrap().is_empty());

    let (status, _, page) = get(format!("{}/checkout/{order_id}", demo.shop.url)).await;
    assert_eq!(status, 200);
    for secret in SECRETS {
        assert!(!page.contains(secret), "the checkout page shows a key");
    }
    let fields = common::hidden_fields(&page);
    let names: Vec<_> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"vads_amount") && names.last() == Some(&"signature"), "{names:?}");
    let signature = ipn_core::form::sign(
        fields.iter().filter(|(n, _)| n != "signature").map(|(n, v)| (n.as_str(), v.as_str())),
        b"1122334455667788",
        FormAlgorithm::HmacSha256,
    );
    assert_eq!(fields.last().unwrap().1, signature, "the form's signature is the form key's HMAC-SHA-256");
    let (status, _, gateway_page) = post_form(format!("{}/vads-payment/", demo.gateway_url), fields).await;
    assert_eq!(status, 200, "the simulator checked the shop's signature: {gateway_page}");
    assert!(gateway_page.contains(&order_id) && gateway_page.contains("2490 (currency 978)"), "{gateway_page}");

    // The CentralBill link is signed too (PROTOCOLS 3.3) and accepted by its simulator.
    let link = common::href(&page, "payment-link");
    assert!(link.starts_with(&format!("{}/link?", demo.centralbill_url)), "{link}");
    let (status, _, link_page) = get(link).await;
    assert_eq!(status, 200, "{link_page}");

    // Pay through the simulator's buttons, then refund: the database after each notification.
    let payment = demo.gateway.payments().into_iter().find(|p| p.order_id == order_id).unwrap().id;
    let (status, _, _) =
        post_form(format!("{}/pay/{payment}", demo.gateway_url), vec![("choice".into(), "accept".into())]).await;
    assert_eq!(status, 303);
    let mut rows = Vec::new();
    for _ in 0..200 {
        rows = db.notifications_for(&order_id).await.unwrap();
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rows.len(), 1);
    assert_eq!(db.order(&order_id).await.unwrap().unwrap().status, "paid");

    assert!(demo.gateway.back_office(payment, Action::Refund).await.unwrap().delivered());
    let order = db.order(&order_id).await.unwrap().unwrap();
    assert_eq!((order.status.as_str(), order.refunded_minor), ("refunded", 2490));
    let rows = db.notifications_for(&order_id).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[1].nature.as_str(), rows[1].effect.as_str()), ("back-office refund", "refunded 24.90 EUR"));

    // A cancellation after the refund does not apply: the simulator refuses it, nothing changes.
    assert!(demo.gateway.back_office(payment, Action::Cancel).await.is_err());
    assert_eq!(db.notifications_for(&order_id).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_notifications_of_every_scheme_leave_the_database_untouched() {
    let demo = common::demo("forged").await;
    let order_id = demo.order("cup").await.unwrap();
    let id = demo
        .gateway
        .start_form_payment(
            demo.shop
                .state
                .merchant()
                .payment_form(&demo.shop.state.db().order(&order_id).await.unwrap().unwrap(), &[]),
        )
        .unwrap();
    demo.gateway.complete(id, Choice::Refuse).await.unwrap();
    let uuid = demo.gateway.payments().into_iter().find(|p| p.id == id).unwrap().transactions[0].clone();
    let db = demo.shop.state.db().clone();
    let before = snapshot(&db).await;
    assert_eq!(before.notifications.len(), 1);

    let form = FormBuilder::new(FormTemplate::Accepted, "12345678")
        .set("vads_order_id", order_id.as_str())
        .set("vads_amount", "1250")
        .target("/ipn");
    let rest = RestBuilder::new(RestTemplate::Payment, "12345678")
        .set("orderDetails.orderId", json!(order_id))
        .unwrap()
        .set("transactions.0.amount", json!(1250))
        .unwrap()
        .target("/ipn");
    let link = LinkBuilder::new(LinkTemplate::Completed, "fbab3ccc-719e-11ed-93ad-02420a0003c1")
        .set("invoice.id", json!(order_id))
        .unwrap()
        .target("/ipn/centralbill");
    // Signed with a wrong key, with the key of another endpoint, or altered after signing.
    let mut tampered = form.sign(b"1122334455667788", FormAlgorithm::HmacSha256);
    let body = String::from_utf8(tampered.body().to_vec()).unwrap().replace("vads_amount=1250", "vads_amount=1");
    tampered.set_body(body);
    let forged = [
        ("/ipn", form.sign(b"0000000000000000", FormAlgorithm::HmacSha256), 401),
        ("/ipn", tampered, 401),
        ("/ipn", rest.sign(b"wrong-password", Endpoint::Ipn), 401),
        ("/ipn", rest.sign(b"38453613e7f44dc58732bad3dca2bca3", Endpoint::Ipn), 401),
        ("/ipn/return", rest.clone().target("/ipn/return").sign(b"wrong-hmac-key", Endpoint::Return), 401),
        ("/ipn/centralbill", link.sign(b"not-the-secret").unwrap(), 401),
        (
            "/ipn",
            form.clone().set("vads_site_id", "99999999").sign(b"1122334455667788", FormAlgorithm::HmacSha256),
            403,
        ),
        // Signed with the shop's key, but the gateway has this transaction as REFUSED.
        (
            "/ipn",
            form.clone().set("vads_trans_uuid", uuid.as_str()).sign(b"1122334455667788", FormAlgorithm::HmacSha256),
            401,
        ),
    ];
    for (route, request, expected) in forged {
        let (status, stored) = post_raw(format!("{}{route}", demo.shop.url), request).await;
        assert_eq!(status, expected, "{route}: {stored}");
        for secret in SECRETS {
            assert!(!stored.contains(secret));
        }
        assert_eq!(snapshot(&db).await, before, "{route} changed the database");
    }
    // Not a notification at all.
    let (status, _, _) = post_form(format!("{}/ipn", demo.shop.url), vec![]).await;
    assert_eq!(status, 400);
    assert_eq!(snapshot(&db).await, before);
    // The refusals are visible to the merchant, in memory only.
    let (_, _, page) = get(format!("{}/notifications", demo.shop.url)).await;
    assert_eq!(page.matches("An error occurred while computing the signature.").count(), 6, "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rest_browser_return_updates_the_order_once_and_sends_the_buyer_to_it() {
    let demo = common::demo("return").await;
    let order_id = demo.order("beans").await.unwrap();
    let answer = |b: RestBuilder| {
        b.set("orderDetails.orderId", json!(order_id))
            .unwrap()
            .set("transactions.0.amount", json!(2490))
            .unwrap()
            .target("/ipn/return")
    };
    let request = answer(RestBuilder::new(RestTemplate::Payment, "12345678"));
    // The return is signed with the REST HMAC key; the IPN password does not verify there.
    let (status, _) = post_raw(
        format!("{}/ipn/return", demo.shop.url),
        request.sign(b"testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M", Endpoint::Return),
    )
    .await;
    assert_eq!(status, 401);
    let signed = request.sign(b"38453613e7f44dc58732bad3dca2bca3", Endpoint::Return);
    let url = format!("{}/ipn/return", demo.shop.url);
    let response = tokio::task::spawn_blocking({
        let (url, signed) = (url.clone(), signed.clone());
        move || {
            let pairs: Vec<(String, String)> = form_pairs(signed.body());
            let refs: Vec<(&str, &str)> = pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let response = common::agent().post(&url).send_form(refs).unwrap();
            (response.status().as_u16(), response.headers()["location"].to_str().unwrap().to_owned())
        }
    })
    .await
    .unwrap();
    assert_eq!(response, (303, format!("/orders/{order_id}")));
    // The delivery log (the `from_fn` middleware around the notification scope) saw both: the
    // refused one without an order, the processed one with its order (from the request extensions).
    let log: Vec<_> = demo
        .shop
        .state
        .recent_deliveries()
        .into_iter()
        .map(|d| (d.route, d.status, d.reply, d.order_id, d.content_type))
        .collect();
    let form = "application/x-www-form-urlencoded".to_owned();
    assert_eq!(
        log,
        [
            ("/ipn/return".to_owned(), 303, String::new(), Some(order_id.clone()), form.clone()),
            (
                "/ipn/return".to_owned(),
                401,
                "An error occurred while computing the signature.".to_owned(),
                None,
                form.clone()
            ),
        ]
    );
    let order = demo.order_json(&order_id).await.unwrap();
    assert_eq!(order.status, "paid");
    assert_eq!(order.notifications.len(), 1);
    assert_eq!(order.notifications[0].route, "/ipn/return");
    assert_eq!(order.notifications[0].reply, format!("See Other: /orders/{order_id}"));
    // The same return again (the buyer reloads): answered from the store, recorded once.
    let (status, _) = post_raw(url, signed).await;
    assert!(status < 400, "{status}");
    assert_eq!(demo.order_json(&order_id).await.unwrap().notifications.len(), 1);
}

fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_api_answer_bad_input_with_clear_errors() {
    let demo = common::demo("pages").await;
    let base = demo.shop.url.clone();
    let (status, _, page) = get(format!("{base}/")).await;
    assert!(status == 200 && page.contains("Hand grinder") && page.contains("45.25 EUR"), "{page}");
    assert_eq!(get(format!("{base}/products/grinder")).await.0, 200);
    let (status, _, body) = get(format!("{base}/products/nope")).await;
    assert_eq!((status, body.as_str()), (404, "product \"nope\" not found"));
    let (status, _, body) = post_form(format!("{base}/checkout"), vec![("product".into(), "nope".into())]).await;
    assert_eq!((status, body.as_str()), (400, "no product \"nope\""));
    // actix-web's `web::Form` answers a form it cannot deserialize with 400 (axum says 422).
    let (status, _, body) = post_form(format!("{base}/checkout"), vec![]).await;
    assert!(status == 400 && body.contains("missing field `product`"), "{status} {body}");
    assert_eq!(get(format!("{base}/api/orders/nope")).await.0, 404);
    assert_eq!(get(format!("{base}/orders/%3Cscript%3E")).await.0, 404);
    assert_eq!(get(format!("{base}/ipn")).await.0, 405);

    // An order page escapes what it shows and never shows a key.
    let order_id = demo.order("cup").await.unwrap();
    let (status, _, page) = get(format!("{base}/orders/{order_id}")).await;
    assert!(status == 200 && page.contains("id=\"order-status\"") && page.contains("No notification yet."), "{page}");
    let (status, _, json) = get(format!("{base}/api/orders/{order_id}")).await;
    assert_eq!(status, 200);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["order_id"], order_id.as_str());
    assert_eq!(
        (json["status"].as_str(), json["amount_minor"].as_i64(), json["currency"].as_str()),
        (Some("pending"), Some(1250), Some("EUR"))
    );
    assert_eq!(json["notifications"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fault_injector_exists_only_in_the_demo() {
    let shop = actix_shop::start(common::options(common::sqlite_url("nofault"))).await.unwrap();
    let (status, _, _) = post_form(format!("{}/demo/fail-next", shop.url), vec![]).await;
    assert_eq!(status, 404);
}

#[test]
fn the_demo_command_plays_the_scenario_and_exits_zero_without_a_terminal() {
    let dir = std::env::temp_dir().join(format!("actix-shop-demo-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_actix-shop"))
        .args(["--demo", "--demo-exit", "--bind", "127.0.0.1:0"])
        .env("CI", "true")
        .env("TMPDIR", &dir)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Every step matched its expectation."), "{stdout}");
    assert_eq!(stdout.matches(" yes ").count(), 13, "{stdout}");
    for secret in SECRETS {
        assert!(!stdout.contains(secret) && !stderr.contains(secret), "a key was printed");
    }
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "the demo left its temporary database behind: {left:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_shop_refuses_to_start_without_a_configuration_or_with_a_bad_database_url() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_actix-shop"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let output = run(&["--bind", "127.0.0.1:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--config FILE is required"));
    let output = run(&["--demo", "--demo-exit", "--db", "mysql://u:hunter2@h/db"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unsupported database URL") && !stderr.contains("hunter2"), "{stderr}");
    let output = run(&["--config", "/nonexistent/ipn.toml"]);
    assert_eq!(output.status.code(), Some(2));
}

/// The simulator notifies neither token creations nor installments, so the demo's shop, which
/// confirms its form IPNs with it, would refuse these hand-signed ones: this shop does not confirm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_registration_and_subscription_installments_update_the_order() {
    let shop = actix_shop::start(common::options(common::sqlite_url("token"))).await.unwrap();
    let db = shop.state.db();
    let (status, location, _) =
        post_form(format!("{}/checkout", shop.url), vec![("product".into(), "beans".into())]).await;
    assert_eq!(status, 303);
    let order_id = location.unwrap().strip_prefix("/checkout/").unwrap().to_owned();
    let url = format!("{}/ipn", shop.url);
    let key = b"1122334455667788";
    let payment = FormBuilder::new(FormTemplate::Accepted, "12345678")
        .set("vads_order_id", order_id.as_str())
        .set("vads_amount", "2490")
        .set("vads_effective_amount", "2490")
        .set("vads_trans_uuid", fresh_hex(32))
        .target("/ipn");
    assert_eq!(post_raw(url.clone(), payment.sign(key, FormAlgorithm::HmacSha256)).await.0, 200);

    let token = FormBuilder::new(FormTemplate::TokenCreation, "12345678")
        .set("vads_order_id", order_id.as_str())
        .set("vads_identifier", "4d3f2c1b0a99887766554433221100ff")
        .target("/ipn");
    assert_eq!(post_raw(url.clone(), token.sign(key, FormAlgorithm::HmacSha256)).await.0, 200);
    let stored = db.order(&order_id).await.unwrap().unwrap();
    assert_eq!(stored.token.as_deref(), Some("4d3f2c1b0a99887766554433221100ff"));
    assert_eq!((stored.status.as_str(), stored.flag), ("paid", None));

    let installment = |amount: &str| {
        FormBuilder::new(FormTemplate::Accepted, "12345678")
            .set("vads_order_id", order_id.as_str())
            .set("vads_url_check_src", "REC")
            .set("vads_amount", amount)
            .set("vads_effective_amount", amount)
            .set("vads_subscription", "SUB-1")
            .target("/ipn")
            .sign(key, FormAlgorithm::HmacSha256)
    };
    assert_eq!(post_raw(url.clone(), installment("2490")).await, (200, "Order successfully updated.".to_owned()));
    let stored = db.order(&order_id).await.unwrap().unwrap();
    assert_eq!((stored.installments, stored.flag), (1, None));
    let (status, stored_reply) = post_raw(url, installment("2000")).await;
    assert_eq!((status, stored_reply.as_str()), (200, "Total paid is different from order amount."));
    let stored = db.order(&order_id).await.unwrap().unwrap();
    assert_eq!(stored.installments, 1);
    assert_eq!(stored.flag.as_deref(), Some("amount mismatch: received 20.00 EUR, order is 24.90 EUR"));
    let natures: Vec<_> = db.notifications_for(&order_id).await.unwrap().into_iter().map(|n| n.nature).collect();
    assert_eq!(natures, ["payment", "back-office token creation", "recurring installment", "recurring installment"]);
}
