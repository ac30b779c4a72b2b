//! Received text cannot forge a log line nor drive a terminal: values holding `\n`, `\r`, an
//! ANSI escape or a Unicode line separator, in a field, a shop id, an order id, a field name, a
//! method, a media type or a header, are logged escaped (one event, one line) and kept out of the
//! replies; an error message stays short whatever the size of the value it names.

#![cfg(feature = "testkit")]
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ipn_core::rest::kr_hash;
use ipn_core::trace::{Printable, Trace};
use ipn_core::{Error, Keys, Mode, Receiver, RequestView, ShopKeys, Verifier};

const SHOP: &str = "69876357";
const PASSWORD: &str = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M";
const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";

/// What an attacker appends to a value: a new line that reads as another event, a carriage
/// return that overwrites the line on a terminal, colours, a line separator, a reversed text.
const FORGED: &str = "x\nWARN ipn: notification accepted forged=1\r\u{1b}[31mred\u{1b}[0m\u{2028}\u{202e}";

fn receiver() -> Receiver {
    let keys = Keys::builder()
        .shop(ShopKeys::new(SHOP).rest_password(Mode::Test, PASSWORD).accept_test_mode(true))
        .application(APP, "app!secret")
        .build()
        .unwrap();
    Receiver::new(Verifier::new(keys).accept_test_mode(true))
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn answer(shop_id: &str, order_id: &str) -> String {
    let json = |s: &str| serde_json::to_string(s).unwrap();
    format!(
        r#"{{"shopId":{},"orderCycle":"CLOSED","orderStatus":"PAID",
        "orderDetails":{{"orderTotalAmount":4525,"orderCurrency":"EUR","mode":"TEST","orderId":{}}},
        "transactions":[{{"uuid":"017574bda28e4f1d8413b97fc65c8197","amount":4525,"currency":"EUR",
        "detailedStatus":"CAPTURED","operationType":"DEBIT"}}],"_type":"V4/Payment"}}"#,
        json(shop_id),
        json(order_id)
    )
}

fn rest_body(answer: &str, extra: &str) -> String {
    format!(
        "kr-hash={}&kr-hash-algorithm=sha256_hmac&kr-hash-key=password&kr-answer={}{extra}",
        kr_hash(answer, PASSWORD.as_bytes()),
        encode(answer)
    )
}

/// A request: method, content type, extra headers, body.
struct Hostile {
    method: String,
    headers: Vec<(String, String)>,
    body: String,
}

fn post(body: String) -> Hostile {
    Hostile {
        method: "POST".into(),
        headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
        body,
    }
}

fn requests() -> Vec<Hostile> {
    let f = encode(FORGED);
    let form = |site: &str| {
        format!(
            "vads_amount=4525&vads_ctx_mode=TEST&vads_currency=978&vads_hash=0d8b&vads_order_id={}\
             &vads_site_id={site}&vads_trans_status=AUTHORISED&vads_url_check_src=PAY&signature=AAAA",
            f
        )
    };
    let mut requests = vec![
        // Field values: the shop id that chooses the key, an order id beside it.
        post(form(&f)),
        post(form("12345678")),
        // A field name, repeated (the decoder names it).
        post(format!("vads_a{f}=1&vads_a{f}=2")),
        post(format!("kr-a{f}=1&kr-a{f}=2")),
        // REST delivery fields around a genuine signed answer.
        post(rest_body(&answer(SHOP, "ORDER-1"), &format!("&kr-answer-type={f}"))),
        post(rest_body(&answer(SHOP, "ORDER-1"), &format!("&kr-src={f}"))),
        post(rest_body(&answer(SHOP, "ORDER-1"), "").replace("kr-hash-key=password", &format!("kr-hash-key={f}"))),
        post(rest_body(&answer(SHOP, "ORDER-1"), "").replace("sha256_hmac", &f)),
        // Claims inside the answer: an unknown shop; a genuine answer whose order id is hostile.
        post(rest_body(&answer(FORGED, "ORDER-1"), "")),
        post(rest_body(&answer(SHOP, FORGED), "")),
        // The request line and the headers.
        Hostile { method: format!("GET{FORGED}"), ..post(form("12345678")) },
        Hostile { headers: vec![("content-type".into(), format!("text/plain{FORGED}"))], ..post(form("12345678")) },
    ];
    // A link notification whose signature names a hostile key id, and one whose headers list
    // names a hostile header.
    for signature in [
        format!(r#"keyId="{FORGED}",algorithm="hmac-sha256",headers="(request-target) date digest",signature="AAAA""#),
        format!(
            r#"keyId="{APP}",algorithm="hmac-sha256",headers="(request-target) date digest x{FORGED}",signature="AAAA""#
        ),
        format!(r#"keyId="{APP}",algorithm="{FORGED}",headers="(request-target) date digest",signature="AAAA""#),
    ] {
        requests.push(Hostile {
            method: "POST".into(),
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("date".into(), "Tue, 07 Jun 2022 20:51:35 GMT".into()),
                ("digest".into(), "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=".into()),
                ("signature".into(), signature),
            ],
            body: "{}".into(),
        });
    }
    requests
}

/// Everything the subscriber writes, and how many events it wrote (one writer per event).
#[derive(Clone, Default)]
struct Captured {
    bytes: Arc<Mutex<Vec<u8>>>,
    events: Arc<AtomicUsize>,
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A character that would break or colour a line: a control character but the line ends, or a
/// Unicode line separator or bidirectional control.
fn breaks_a_line(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[test]
fn hostile_values_are_logged_one_event_per_line_without_control_characters() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .without_time()
        .with_writer(move || {
            writer.events.fetch_add(1, Ordering::SeqCst);
            writer.clone()
        })
        .finish();
    let receiver = receiver();
    let mut rejected = 0;
    tracing::subscriber::with_default(subscriber, || {
        for request in requests() {
            let headers: Vec<(&str, &str)> = request.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let view = RequestView::new(&request.method, "/ipn", &headers, request.body.as_bytes());
            let trace = Trace::start();
            let _entered = trace.span().enter();
            match pollster::block_on(receiver.receive(view)) {
                Ok(notification) => {
                    trace.notification(&notification);
                    trace.answered(None, 200);
                }
                Err(refused) => {
                    rejected += 1;
                    let (reply, message) = (refused.reply.body(), refused.error.to_string());
                    assert!(!reply.contains("forged") && !reply.chars().any(breaks_a_line), "reply {reply:?}");
                    assert!(!message.chars().any(breaks_a_line), "error message {message:?}");
                    trace.rejected(&refused);
                    trace.answered(Some(refused.error.outcome()), refused.reply.status());
                }
            }
        }
    });
    // Accepted: the genuine answers with a hostile kr-src or order id; the rest is refused.
    assert_eq!(rejected, requests().len() - 2);

    let text = String::from_utf8(captured.bytes.lock().unwrap().clone()).unwrap();
    let events = captured.events.load(Ordering::SeqCst);
    assert!(events > 2 * requests().len(), "the subscriber captured too little: {text}");
    assert_eq!(text.matches('\n').count(), events, "one line per event:\n{text}");
    for line in text.lines() {
        let level = line.trim_start().split(' ').next().unwrap();
        assert!(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&level), "a line that is no event: {line:?}");
    }
    let raw: Vec<char> = text.chars().filter(|&c| breaks_a_line(c)).collect();
    assert!(raw.is_empty(), "raw control characters {raw:?} in:\n{text}");
    // The values were logged, escaped.
    assert!(text.contains(r"x\nWARN ipn: notification accepted forged=1\r\u{1b}[31mred"), "{text}");
}

#[test]
fn an_error_names_a_huge_value_in_a_bounded_message() {
    let huge = "9".repeat(60_000);
    for request in [
        post(format!("vads_site_id={huge}&vads_ctx_mode=TEST&vads_hash=0d8b&signature=AAAA")),
        post(rest_body(&answer(&huge, "ORDER-1"), "")),
        post(format!("kr-{huge}=1&kr-{huge}=2")),
        Hostile { method: format!("GET{huge}"), ..post("a=1".into()) },
    ] {
        let headers: Vec<(&str, &str)> = request.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let view = RequestView::new(&request.method, "/ipn", &headers, request.body.as_bytes());
        let refused = pollster::block_on(receiver().receive(view)).unwrap_err();
        let message = refused.error.to_string();
        assert!(message.len() < 1024, "{} bytes: {}...", message.len(), &message[..80]);
        if let Error::UnknownShop { shop_id } | Error::MethodNotAllowed { method: shop_id } = &refused.error {
            assert!(shop_id.len() < 1024, "the field holds {} bytes", shop_id.len());
        }
    }
}

#[test]
fn printable_is_what_the_errors_print() {
    let error = Error::UnknownShop { shop_id: FORGED.to_owned() };
    // Built by hand with raw text, the message is still one escaped line.
    assert_eq!(error.to_string(), format!("no key configured for shop {}", Printable(FORGED)));
    assert!(!error.to_string().contains('\n'));
}
