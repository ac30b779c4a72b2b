//! `ipn send` against a local server: the status decides, 256 bytes are stored, failures are
//! retried, and a form retry carries `vads_url_check_src=RETRY` with a valid fresh signature.
#![allow(clippy::unwrap_used, missing_docs)]

mod common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::*;

/// A tiny HTTP server answering the scripted statuses in turn (the last one repeats); returns
/// its URL and the raw requests it received.
fn server(statuses: Vec<u16>, answer_body: String) -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/shop/ipn?x=1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut raw = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap();
                }
                raw.extend_from_slice(line.as_bytes());
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            raw.extend_from_slice(&body);
            log.lock().unwrap().push(raw);
            let status = *statuses.get(i).or(statuses.last()).unwrap();
            let answer = format!("{status}:{answer_body}");
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    (url, seen)
}

#[test]
fn retries_a_failed_form_notification_with_retry_source_and_fresh_signatures() {
    let dir = TempDir::new("send");
    let config = dir.write("ipn.toml", CONFIG);
    let signed = ipn(["sign", "--config", config.to_str().unwrap(), "--scheme", "form", "--target", "/shop/ipn?x=1"]);
    let request = dir.write("accepted.http", &signed.stdout);
    let long = "x".repeat(400);
    let (url, seen) = server(vec![500, 503, 200], long);

    let output = ipn([
        "send",
        &url,
        request.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "--retry-interval",
        "50ms",
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}{}", stderr(&output));
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("attempt ")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("attempt 1/5")
            && lines[0].contains("-> 500 FAILED")
            && lines[0].contains("[vads_url_check_src=PAY]"),
        "{text}"
    );
    assert!(lines[1].contains("-> 503 FAILED") && lines[1].contains("[vads_url_check_src=RETRY]"), "{text}");
    assert!(lines[2].contains("-> 200 delivered"), "{text}");
    // The stored answer is the first 256 bytes.
    let stored = lines[2].split("stored answer: ").nth(1).unwrap();
    let stored: String = serde_json::from_str(stored).unwrap();
    assert_eq!(stored.len(), 256);
    assert!(stored.starts_with("200:xxx"));
    assert!(text.contains("delivered after 3 attempt(s)"), "{text}");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let mut fingerprints = Vec::new();
    for (i, raw) in seen.iter().enumerate() {
        let path = dir.write(&format!("seen-{i}.http"), raw);
        let out = ipn(["verify", "--config", config.to_str().unwrap(), path.to_str().unwrap()]);
        let doc = json(&out);
        assert_eq!(doc["valid"], true, "attempt {}: {doc}", i + 1);
        let expected = if i == 0 { "PAY" } else { "RETRY" };
        assert_eq!(doc["fields"]["vads_url_check_src"], expected);
        assert_eq!(doc["notification"]["nature"], if i == 0 { "payment" } else { "retry" });
        fingerprints.push(doc["notification"]["fingerprint"].clone());
        let text = String::from_utf8_lossy(raw);
        assert!(text.starts_with("POST /shop/ipn?x=1 HTTP/1.1\r\n"), "{text}");
    }
    assert!(fingerprints.windows(2).all(|w| w[0] == w[1]), "a retry is the same notification");
    let bodies: Vec<_> =
        seen.iter().map(|r| String::from_utf8_lossy(r).split("\r\n\r\n").nth(1).unwrap().to_owned()).collect();
    assert_ne!(bodies[0], bodies[1], "the retry is signed again");
}

#[test]
fn gives_up_after_the_retries_and_exits_1() {
    let dir = TempDir::new("send-fail");
    let config = dir.write("ipn.toml", CONFIG);
    let signed = ipn(["sign", "--config", config.to_str().unwrap(), "--scheme", "rest"]);
    let request = dir.write("rest.http", &signed.stdout);
    let (url, seen) = server(vec![404], String::new());
    // REST retries are sent again unchanged: no configuration needed.
    let output = ipn(["send", &url, request.to_str().unwrap(), "--retries", "1", "--retry-interval", "10ms"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("not delivered after 2 attempt(s)"));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    let body = |raw: &Vec<u8>| String::from_utf8_lossy(raw).split("\r\n\r\n").nth(1).unwrap().to_owned();
    assert_eq!(body(&seen[0]), body(&seen[1]));
}

#[test]
fn redirects_count_as_delivered_and_are_not_followed() {
    let dir = TempDir::new("send-302");
    let config = dir.write("ipn.toml", CONFIG);
    let signed = ipn(["sign", "--config", config.to_str().unwrap(), "--scheme", "link"]);
    let request = dir.write("link.http", &signed.stdout);
    let (url, seen) = server(vec![302], String::new());
    let output = ipn(["send", &url, request.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("-> 302 delivered"));
    assert!(stderr(&output).contains("(request-target)"), "warns that the link target differs: {}", stderr(&output));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn a_form_retry_without_configuration_is_a_usage_error_and_nothing_is_sent() {
    let dir = TempDir::new("send-noconf");
    let config = dir.write("ipn.toml", CONFIG);
    let signed = ipn(["sign", "--config", config.to_str().unwrap(), "--scheme", "form"]);
    let request = dir.write("form.http", &signed.stdout);
    let (url, seen) = server(vec![200], String::new());
    let output = ipn(["send", &url, request.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("--config"), "{}", stderr(&output));
    assert!(seen.lock().unwrap().is_empty());
    for bad in [
        vec!["send", "ftp://x/", request.to_str().unwrap()],
        vec!["send", &url, request.to_str().unwrap(), "--retry-interval", "soon"],
    ] {
        assert_eq!(ipn(&bad).status.code(), Some(2), "{bad:?}");
    }
    // A refused connection is a failed attempt, not a crash.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/ipn", closed.local_addr().unwrap());
    drop(closed);
    let output = ipn(["send", &dead, request.to_str().unwrap(), "--retries", "0"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("FAILED"), "{}", stdout(&output));
}
