//! Verifies the conformance notifications shipped with the crate and prints what a handler would
//! see, and the reply the gateway would store for each.
//!
//! `cargo run -p ipn-core --example verify [VECTOR.json ...]`

use std::path::{Path, PathBuf};

use ipn_core::{Config, FixedClock, Notification, Receiver, Reply, RequestView, Verifier};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
        paths = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
        paths.sort();
    }
    println!("{:<34} {:<6} {:<4} {:<40} reply", "notification", "scheme", "ok", "order / amount / status");
    for path in paths {
        let vector: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
        let Some(request) = vector.get("request").filter(|_| vector["scheme"] != "rfc9421") else { continue };
        let receiver = receiver_for(&vector)?;
        let headers: Vec<(String, String)> = request["headers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| Some((h[0].as_str()?.to_owned(), h[1].as_str()?.to_owned())))
            .collect();
        let view = RequestView::new(
            request["method"].as_str().unwrap_or("POST"),
            request["target"].as_str().unwrap_or("/"),
            &headers,
            request["body"].as_str().unwrap_or("").as_bytes(),
        );
        let id = vector["id"].as_str().unwrap_or("?");
        match pollster::block_on(receiver.receive(view)) {
            Ok(n) => {
                println!("{id:<34} {:<6} {:<4} {:<40} {}", n.scheme().as_str(), "yes", summary(&n), Reply::received())
            }
            Err(rejected) => {
                let scheme = vector["scheme"].as_str().unwrap_or("?");
                println!("{id:<34} {scheme:<6} {:<4} {:<40} {}", "no", rejected.error.to_string(), rejected.reply)
            }
        }
    }
    Ok(())
}

/// The vector's configuration, written as the TOML file a merchant would use.
fn receiver_for(vector: &serde_json::Value) -> Result<Receiver, Box<dyn std::error::Error>> {
    let config = &vector["config"];
    let mut toml = String::new();
    for shop in config["shops"].as_array().into_iter().flatten() {
        // The vectors are TEST notifications: their shops opt in, as a test server's would.
        toml += &format!("[[shops]]\nshop_id = {}\naccept_test_mode = true\n", shop["shop_id"]);
        for section in ["form", "rest"] {
            if let Some(table) = shop[section].as_object() {
                toml += &format!("[shops.{section}]\n");
                for (k, v) in table {
                    toml += &format!("{k} = {v}\n");
                }
            }
        }
    }
    for app in config["applications"].as_array().into_iter().flatten() {
        toml += &format!("[[applications]]\napplication_id = {}\nsecret = {}\n", app["application_id"], app["secret"]);
    }
    let mut verifier = Verifier::from_config(Config::from_toml(&toml)?);
    if let Some(clock) = config["now"].as_str().and_then(FixedClock::from_http_date) {
        verifier = verifier.clock(clock);
    }
    if vector["expect"]["endpoint"] == "return" {
        verifier = verifier.endpoint(ipn_core::Endpoint::Return);
    }
    Ok(Receiver::new(verifier))
}

fn summary(n: &Notification) -> String {
    let amount = n.amount().map_or_else(|| "-".to_owned(), |a| a.to_string());
    format!("{} / {} / {}", n.order_id().unwrap_or("-"), amount, n.status().unwrap_or("-"))
}
