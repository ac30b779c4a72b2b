//! Hostile input through both adapters over real HTTP on loopback: axum served with
//! `axum::serve`, actix-web with `HttpServer`, both on 127.0.0.1:0, clients on raw
//! `std::net::TcpStream`s so that every byte is ours. Each case gets its reply, and afterwards
//! both servers still answer a valid notification with 200.
//!
//! Where the request reaches the library, both adapters must answer the same status and body.
//! A NUL in a header value never reaches it: both HTTP stacks refuse it first (400).

#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ipn_core::testkit::{FormBuilder, FormTemplate, LinkBuilder, LinkTemplate, RawRequest, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, FormAlgorithm, Keys, Mode, Outcome, Receiver, Reply, RequestView, ShopKeys, Verifier};

const SHOP: &str = "12345678";
const FORM_KEY: &str = "1122334455667788";
const REST_PASSWORD: &str = "testpassword_hostile";
const APP: &str = "fbab3ccc-719e-11ed-93ad-02420a0003c1";
const APP_SECRET: &str = "app!secret-hostile";
const LIMIT: usize = 16 * 1024;
const READ_TIMEOUT: Duration = Duration::from_millis(400);

fn receiver() -> Receiver {
    let keys = Keys::builder()
        .shop(
            ShopKeys::new(SHOP)
                .form_key(Mode::Test, FORM_KEY)
                .rest_password(Mode::Test, REST_PASSWORD)
                .accept_test_mode(true),
        )
        .application(APP, APP_SECRET)
        .build()
        .unwrap();
    Receiver::new(Verifier::new(keys).accept_test_mode(true).max_body_bytes(LIMIT)).read_timeout(READ_TIMEOUT)
}

mod tower_app {
    use ipn_core::Notification;
    use ipn_tower::{Ipn, IpnReply};

    pub(crate) async fn handler(Ipn(_n): Ipn<Notification>) -> IpnReply {
        IpnReply::order_updated()
    }
}

mod actix_app {
    use ipn_actix::{Ipn, IpnReply};
    use ipn_core::Notification;

    pub(crate) async fn handler(Ipn(_n): Ipn<Notification>) -> IpnReply {
        IpnReply::order_updated()
    }
}

fn axum_server() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let layer = ipn_tower::IpnLayer::new(receiver());
            let app = axum::Router::new().route("/ipn", axum::routing::post(tower_app::handler).layer(layer));
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn actix_server() -> SocketAddr {
    use actix_web::{App, HttpServer, web};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(|| {
                App::new().service(
                    web::resource("/ipn")
                        .wrap(ipn_actix::IpnMiddleware::new(receiver()))
                        .route(web::post().to(actix_app::handler)),
                )
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .unwrap();
            tx.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    rx.recv().unwrap()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adapter {
    Axum,
    Actix,
}

fn servers() -> &'static [(Adapter, SocketAddr); 2] {
    static SERVERS: OnceLock<[(Adapter, SocketAddr); 2]> = OnceLock::new();
    SERVERS.get_or_init(|| [(Adapter::Axum, axum_server()), (Adapter::Actix, actix_server())])
}

#[derive(Debug)]
struct Answer {
    status: u16,
    body: String,
}

/// Sends the bytes (write errors ignored: a server may answer and close before reading them all)
/// and reads the answer until the server closes the connection.
fn exchange(addr: SocketAddr, request: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = stream.write_all(request);
    read_answer(stream)
}

/// Reads until the answer is complete (its `Content-Length`, or the end of the connection):
/// actix-web keeps the connection open while a client still sends a body it will not read.
fn read_answer(mut stream: TcpStream) -> Answer {
    let mut raw = Vec::new();
    let mut chunk = [0_u8; 4096];
    while !complete(&raw) {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            // A reset after the answer (the server closed with unread request bytes).
            Err(_) if !raw.is_empty() => break,
            Err(e) => panic!("no answer: {e}"),
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not HTTP: {text:?}"));
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    Answer { status, body }
}

fn complete(raw: &[u8]) -> bool {
    let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return false };
    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
    let length = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok());
    length.is_some_and(|n: usize| raw.len() >= end + 4 + n)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// `RawRequest` as HTTP/1.1 with `Connection: close`.
fn http(request: &RawRequest) -> Vec<u8> {
    let mut request = request.clone();
    request.set_header("Connection", "close");
    request.to_http(Some("127.0.0.1"))
}

fn valid_form() -> RawRequest {
    FormBuilder::new(FormTemplate::Accepted, SHOP).sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256)
}

fn form_post(body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST /ipn HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Both servers still answer a valid notification with 200.
fn assert_still_serving() {
    for (adapter, addr) in servers() {
        let answer = exchange(*addr, &http(&valid_form()));
        assert_eq!(answer.status, 200, "{adapter:?} stopped serving: {answer:?}");
        assert_eq!(answer.body, "Order successfully updated.");
    }
}

/// Sends the same bytes to both adapters: both answer `outcome`'s default reply.
fn assert_both(request: &[u8], outcome: Outcome) {
    let expected = Reply::for_outcome(outcome);
    for (adapter, addr) in servers() {
        let answer = exchange(*addr, request);
        assert_eq!((answer.status, answer.body.as_str()), (expected.status(), expected.body()), "{adapter:?}");
        assert!(answer.body.len() <= ipn_core::MAX_REPLY_BYTES);
    }
    assert_still_serving();
}

#[test]
fn a_valid_notification_is_answered_200_by_both_servers() {
    assert_still_serving();
}

#[test]
fn a_body_one_byte_over_the_limit_is_answered_413() {
    let valid = valid_form();
    let mut body = valid.body().to_vec();
    body.extend(std::iter::repeat_n(b'a', LIMIT + 1 - body.len()));
    body[valid.body().len()] = b'&';
    assert_both(&form_post(&body), Outcome::BodyTooLarge);
    // Exactly at the limit it is read and checked: the field after the signature is not one the
    // gateway sends, so it is refused (not answered 413).
    body.pop();
    assert_both(&form_post(&body), Outcome::Malformed);
}

#[test]
fn a_chunked_body_over_the_limit_without_content_length_is_answered_413() {
    let mut request = b"POST /ipn HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..(LIMIT / 1000 + 1) {
        request.extend_from_slice(format!("{:x}\r\n{}\r\n", 1000, "a".repeat(1000)).as_bytes());
    }
    request.extend_from_slice(b"0\r\n\r\n");
    assert_both(&request, Outcome::BodyTooLarge);
}

/// Headers, then a chunk every 20 ms for as long as the server reads (never the last chunk).
fn endless(addr: SocketAddr) -> (Answer, Duration) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
        .write_all(b"POST /ipn HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let started = Instant::now();
    let trickle = std::thread::spawn(move || {
        while started.elapsed() < Duration::from_secs(5) {
            if writer.write_all(b"1\r\na\r\n").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let answer = read_answer(stream);
    let elapsed = started.elapsed();
    let _ = trickle.join();
    (answer, elapsed)
}

#[test]
fn an_endless_stream_without_content_length_is_cut_by_the_read_timeout_with_408() {
    let expected = Reply::for_outcome(Outcome::RequestTimeout);
    assert_eq!(expected.status(), 408);
    for (adapter, addr) in servers() {
        let (answer, elapsed) = endless(*addr);
        assert_eq!((answer.status, answer.body.as_str()), (408, expected.body()), "{adapter:?}");
        assert!(elapsed >= READ_TIMEOUT && elapsed < READ_TIMEOUT * 6, "{adapter:?} answered after {elapsed:?}");
    }
    assert_still_serving();
}

#[test]
fn a_stalled_body_shorter_than_its_content_length_is_answered_408() {
    for (adapter, addr) in servers() {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        stream.write_all(&form_post(&[b'a'; 100])[..150]).unwrap();
        let answer = read_answer(stream);
        assert_eq!(answer.status, 408, "{adapter:?}: {answer:?}");
        assert!(started.elapsed() < READ_TIMEOUT * 6);
    }
    assert_still_serving();
}

#[test]
fn thousands_of_tiny_fields_are_answered_400_quickly() {
    let body: String = (0..3000).map(|i| format!("{i:x}&")).collect();
    assert!(body.len() <= LIMIT);
    let started = Instant::now();
    assert_both(&form_post(body.as_bytes()), Outcome::Malformed);
    let body: String = (0..1200).map(|i| format!("vads_{i}=x&")).collect();
    assert!(body.len() <= LIMIT);
    assert_both(&form_post(body.as_bytes()), Outcome::Malformed);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn thousands_of_signed_fields_are_accepted() {
    let mut builder = FormBuilder::new(FormTemplate::Accepted, SHOP);
    for i in 0..500 {
        builder = builder.set(format!("vads_product_label{i}"), "x");
    }
    let request = builder.sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256);
    assert_both(&http(&request), Outcome::Processed);
}

fn deep(depth: usize) -> String {
    format!("{{\"shopId\":\"{SHOP}\",\"deep\":{}{}}}", "[".repeat(depth), "]".repeat(depth))
}

#[test]
fn deeply_nested_json_signed_with_the_right_key_is_answered_400() {
    // REST: the nesting is inside a correctly signed kr-answer.
    let answer = deep(5000);
    let body = format!(
        "kr-hash={}&kr-hash-algorithm=sha256_hmac&kr-hash-key=password&kr-answer-type=V4%2FPayment&kr-answer={}",
        ipn_core::rest::kr_hash(&answer, REST_PASSWORD.as_bytes()),
        answer.replace('{', "%7B").replace('}', "%7D").replace('"', "%22").replace(':', "%3A").replace(',', "%2C")
    );
    assert_both(&form_post(body.as_bytes()), Outcome::Malformed);

    // Link: a correctly signed, digested body.
    let body = deep(5000);
    let date = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap();
    let mut headers = vec![
        ("Content-Type".to_owned(), "application/json".to_owned()),
        ("Date".to_owned(), date),
        ("Digest".to_owned(), ipn_core::link::digest_header(body.as_bytes())),
    ];
    let components = [ipn_core::link::REQUEST_TARGET, "content-type", "date", "digest"];
    let view = RequestView::new("POST", "/ipn", &headers, body.as_bytes());
    let signature = ipn_core::link::sign(view, APP, APP_SECRET.as_bytes(), &components).unwrap();
    headers.push(("Signature".to_owned(), signature));
    let request = RawRequest::new("POST", "/ipn", headers, body.into_bytes());
    assert_both(&http(&request), Outcome::Malformed);
}

#[test]
fn invalid_utf8_is_answered_400() {
    assert_both(&form_post(b"vads_site_id=%FF%FE&vads_ctx_mode=TEST"), Outcome::Malformed);
    assert_both(&form_post(b"vads_site_id=\xff\xfe&vads_ctx_mode=TEST"), Outcome::Malformed);
    // Valid UTF-8 split by percent-encoding across a field boundary is still invalid per field.
    assert_both(&form_post(b"vads_a=%C3&vads_b=%A9"), Outcome::Malformed);
}

#[test]
fn a_duplicated_vads_field_is_answered_400() {
    let mut body = valid_form().body().to_vec();
    body.extend_from_slice(b"&vads_amount=1");
    assert_both(&form_post(&body), Outcome::Malformed);
}

#[test]
fn a_64_kib_header_gets_an_answer_and_the_servers_keep_serving() {
    let mut request = valid_form();
    request.set_header("X-Padding", "a".repeat(64 * 1024));
    for (adapter, addr) in servers() {
        let answer = exchange(*addr, &http(&request));
        // Both HTTP stacks take it; the unsigned header is ignored, the notification is valid.
        assert_eq!((answer.status, answer.body.as_str()), (200, "Order successfully updated."), "{adapter:?}");
    }
    assert_still_serving();
}

#[test]
fn nul_bytes_are_refused_even_in_a_signed_value() {
    // No documented format holds a control character but tab and line breaks.
    let request = FormBuilder::new(FormTemplate::Accepted, SHOP)
        .set("vads_order_info", "a\0b")
        .sign(FORM_KEY.as_bytes(), FormAlgorithm::HmacSha256);
    assert_both(&http(&request), Outcome::Malformed);
    assert_both(&form_post(b"\0\0\0\0"), Outcome::Malformed);
    // A NUL shop id is not a shop id: refused before any key lookup.
    assert_both(&form_post(b"vads_site_id=\0&vads_ctx_mode=TEST&signature=\0"), Outcome::Malformed);
    // A NUL in a header value is refused by both HTTP stacks before the middleware.
    let mut raw = http(&valid_form());
    let at = raw.windows(6).position(|w| w == b"close\r").unwrap();
    raw[at] = 0;
    for (adapter, addr) in servers() {
        let answer = exchange(*addr, &raw);
        assert_eq!(answer.status, 400, "{adapter:?}: {answer:?}");
    }
    assert_still_serving();
}

#[test]
fn rest_and_link_notifications_are_accepted_by_both_servers() {
    let rest = RestBuilder::new(RestTemplate::Payment, SHOP).sign(REST_PASSWORD.as_bytes(), Endpoint::Ipn);
    assert_both(&http(&rest), Outcome::Processed);
    let mut link = LinkBuilder::new(LinkTemplate::ALL[0], APP).target("/ipn").sign(APP_SECRET.as_bytes()).unwrap();
    link.set_target("/ipn");
    assert_both(&http(&link), Outcome::Processed);
}
