//! Shared by the integration tests: the conformance vectors of `ipn-core`, the keys they need,
//! and small request helpers.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use http_body::Frame;
use ipn_core::{FormAlgorithm, Keys, Mode, ShopKeys, Verifier};
use serde_json::Value;

pub const FORM: &str = "application/x-www-form-urlencoded";

/// One `form` vector: a whole request, the keys it needs, the verdict.
#[derive(Debug, Clone)]
pub struct Vector {
    pub id: String,
    pub json: Value,
}

impl Vector {
    pub fn load(id: &str) -> Self {
        let path = vectors_dir().join(format!("{id}.json"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Self { id: id.to_owned(), json: serde_json::from_str(&text).unwrap() }
    }

    /// Every form vector holding a request (the `form-signature` kind holds none).
    pub fn all_form_requests() -> Vec<Self> {
        let mut ids: Vec<String> = std::fs::read_dir(vectors_dir())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with("form-") && name.ends_with(".json"))
            .map(|name| name.trim_end_matches(".json").to_owned())
            .collect();
        ids.sort();
        ids.into_iter().map(|id| Self::load(&id)).filter(|v| v.json["scheme"] == "form").collect()
    }

    pub fn valid(&self) -> bool {
        self.json["expect"]["valid"].as_bool().unwrap()
    }

    pub fn body(&self) -> &str {
        self.json["request"]["body"].as_str().unwrap()
    }

    /// `expect.fields`: wire name -> value.
    pub fn expected_fields(&self) -> Vec<(String, String)> {
        match self.json["expect"]["fields"].as_object() {
            Some(fields) => fields.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect(),
            None => Vec::new(),
        }
    }

    /// The request exactly as the vector describes it.
    pub fn request(&self) -> Request<Body> {
        let request = &self.json["request"];
        let mut builder =
            Request::builder().method(request["method"].as_str().unwrap()).uri(request["target"].as_str().unwrap());
        for header in request["headers"].as_array().unwrap() {
            builder = builder.header(header[0].as_str().unwrap(), header[1].as_str().unwrap());
        }
        builder.body(Body::from(self.body().to_owned())).unwrap()
    }

    /// `config.shops[]` as an in-memory key store.
    pub fn keys(&self) -> Keys {
        let mut builder = Keys::builder();
        for shop in self.json["config"]["shops"].as_array().unwrap() {
            let mut keys = ShopKeys::new(shop["shop_id"].as_str().unwrap());
            let form = &shop["form"];
            if let Some(key) = form["test_key"].as_str() {
                keys = keys.form_key(Mode::Test, key);
            }
            if let Some(key) = form["production_key"].as_str() {
                keys = keys.form_key(Mode::Production, key);
            }
            keys = keys.form_algorithm(match form["algorithm"].as_str() {
                Some("sha1") => FormAlgorithm::Sha1,
                Some("hmac-sha256") | None => FormAlgorithm::HmacSha256,
                Some(other) => panic!("unknown algorithm {other}"),
            });
            // The vectors are TEST notifications, and their configurations predate the opt-in:
            // read them as saying `accept_test_mode = true` unless they say otherwise.
            keys = keys.accept_test_mode(shop["accept_test_mode"].as_bool().unwrap_or(true));
            builder = builder.shop(keys);
        }
        builder.build().unwrap()
    }

    pub fn verifier(&self) -> Verifier {
        Verifier::new(self.keys())
    }
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ipn-core/tests/vectors")
}

pub fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri).header("content-type", content_type).body(body.into()).unwrap()
}

pub async fn read(response: Response<Body>) -> (u16, String) {
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// A body sent in chunks, of unknown length (as a chunked upload is).
#[derive(Debug)]
pub struct Chunked(pub VecDeque<Result<Bytes, std::io::Error>>);

impl Chunked {
    pub fn body(chunks: impl IntoIterator<Item = Result<Bytes, std::io::Error>>) -> Body {
        Body::new(Chunked(chunks.into_iter().collect()))
    }
}

impl http_body::Body for Chunked {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.get_mut().0.pop_front().map(|chunk| chunk.map(Frame::data)))
    }
}
