//! Helpers shared by the integration tests: temp files, running the built binary, configuration
//! files generated from the conformance vectors.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ipn-cli-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `ipn` with arguments.
pub fn ipn<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_ipn")).args(args).stdin(Stdio::null()).output().unwrap()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", stdout(output), stderr(output)))
}

/// The conformance vectors directory of ipn-core.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ipn-core/tests/vectors")
}

/// Every vector that holds a whole request (`form`, `rest`, `link`).
pub fn request_vectors() -> Vec<Value> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(vectors_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if v.get("request").is_some() && matches!(v["scheme"].as_str(), Some("form" | "rest" | "link")) {
            out.push(v);
        }
    }
    out
}

/// A raw HTTP/1.1 request from a vector's `request` (CRLF, with a Content-Length).
pub fn raw_request(request: &Value) -> Vec<u8> {
    let mut out = format!(
        "{} {} HTTP/1.1\r\nHost: shop.example\r\n",
        request["method"].as_str().unwrap(),
        request["target"].as_str().unwrap()
    );
    for header in request["headers"].as_array().unwrap() {
        out.push_str(&format!("{}: {}\r\n", header[0].as_str().unwrap(), header[1].as_str().unwrap()));
    }
    let body = request["body"].as_str().unwrap();
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

fn toml_string(s: &str) -> String {
    // JSON string escapes are valid TOML basic-string escapes.
    serde_json::to_string(s).unwrap()
}

/// The TOML configuration for a vector's `config`.
pub fn toml_config(config: &Value) -> String {
    let mut out = String::new();
    for shop in config["shops"].as_array().into_iter().flatten() {
        out.push_str(&format!("[[shops]]\nshop_id = {}\n", toml_string(shop["shop_id"].as_str().unwrap())));
        // The vectors are TEST notifications, and their configurations predate the opt-in: read
        // them as saying `accept_test_mode = true` unless they say otherwise.
        let accept = shop.get("accept_test_mode").and_then(Value::as_bool).unwrap_or(true);
        out.push_str(&format!("accept_test_mode = {accept}\n"));
        for section in ["form", "rest"] {
            if let Some(table) = shop.get(section).and_then(Value::as_object) {
                out.push_str(&format!("[shops.{section}]\n"));
                for (name, value) in table {
                    out.push_str(&format!("{name} = {}\n", toml_string(value.as_str().unwrap())));
                }
            }
        }
    }
    for app in config["applications"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "[[applications]]\napplication_id = {}\nsecret = {}\n",
            toml_string(app["application_id"].as_str().unwrap()),
            toml_string(app["secret"].as_str().unwrap())
        ));
    }
    if let Some(skew) = config.get("max_clock_skew_s").and_then(Value::as_u64) {
        out.push_str(&format!("[limits]\nmax_clock_skew_s = {skew}\n"));
    }
    out
}

/// A configuration with every kind of key, for sign/send/gateway tests.
pub const CONFIG: &str = r#"
[[shops]]
shop_id = "12345678"
accept_test_mode = true
[shops.form]
algorithm = "hmac-sha256"
test_key = "1122334455667788"
production_key = "8877665544332211"
[shops.rest]
test_password = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M"
production_password = "prodpassword_DEMOPRIVATEKEY"
test_hmac_key = "38453613e7f44dc58732bad3dca2bca3"
production_hmac_key = "prod-hmac-key-0000"

[[applications]]
application_id = "fbab3ccc-719e-11ed-93ad-02420a0003c1"
secret = "app!secret"

[form]
extra_fields = ["vads_ext_info_x"]
"#;

/// Every secret of [`CONFIG`], to check none is ever printed.
pub const SECRETS: [&str; 7] = [
    "1122334455667788",
    "8877665544332211",
    "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M",
    "prodpassword_DEMOPRIVATEKEY",
    "38453613e7f44dc58732bad3dca2bca3",
    "prod-hmac-key-0000",
    "app!secret",
];
