//! `IpnLayer` in a plain tower stack, without axum: `http_body_util::Full` bodies, a
//! `service_fn` handler, readiness, and the replies a service writes itself.
#![allow(clippy::unwrap_used)]

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use common::{FORM, Vector};
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use std::time::Duration;

use ipn_core::store::{Claim, ClaimToken, MemoryStore, NotificationStore, StoreError};
use ipn_core::{
    Credentials, Fingerprint, KeySlot, KeyStore, KeyStoreError, Keys, Notification, Outcome, Reply, Verifier,
};
use ipn_tower::{IpnLayer, IpnReply};
use tower::{Service, ServiceBuilder, ServiceExt};

fn request(vector: &Vector, method: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri("/ipn")
        .header("content-type", FORM)
        .body(Full::new(Bytes::from(vector.body().to_owned())))
        .unwrap()
}

async fn read(response: Response<Full<Bytes>>) -> (u16, String) {
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn plain_tower_service_gets_the_notification_in_extensions_and_the_body() {
    let vector = Vector::load("form-ipn-pay-accepted");
    let service = ServiceBuilder::new().layer(IpnLayer::new(vector.verifier())).service_fn(
        |request: Request<Full<Bytes>>| async move {
            let order = request.extensions().get::<Notification>().and_then(|n| n.order_id().map(str::to_owned));
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let text = format!("{} {}", order.unwrap_or_default(), body.len());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
        },
    );
    let (status, body) = read(service.oneshot(request(&vector, "POST")).await.unwrap()).await;
    assert_eq!((status, body), (200, format!("ORDER-1042 {}", vector.body().len())));
}

#[tokio::test]
async fn get_is_405_with_the_reply_when_the_layer_wraps_a_whole_service() {
    let vector = Vector::load("form-ipn-pay-accepted");
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let service =
        ServiceBuilder::new().layer(IpnLayer::new(vector.verifier())).service_fn(move |_: Request<Full<Bytes>>| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Ok::<_, Infallible>(IpnReply::order_updated().into_http_response::<Full<Bytes>>()) }
        });
    let (status, body) = read(service.oneshot(request(&vector, "GET")).await.unwrap()).await;
    assert_eq!((status, body.as_str()), (405, "Notifications must be sent with POST."));
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn handler_reply_of_an_outcome_gets_the_layer_override() {
    let vector = Vector::load("form-ipn-pay-accepted");
    let layer = IpnLayer::new(ipn_core::Receiver::new(vector.verifier()).reply(
        Outcome::AlreadyProcessed,
        200,
        "OK-Already registered.",
    ));
    let service = ServiceBuilder::new().layer(layer).service_fn(|_: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(IpnReply::already_processed().into_http_response::<Full<Bytes>>())
    });
    let (status, body) = read(service.oneshot(request(&vector, "POST")).await.unwrap()).await;
    assert_eq!((status, body.as_str()), (200, "OK-Already registered."));
}

/// Ready only once per clone: calling a clone that was not polled ready is a bug it reports.
#[derive(Debug, Default)]
struct ReadyOnce {
    ready: bool,
}

impl Clone for ReadyOnce {
    fn clone(&self) -> Self {
        Self { ready: false }
    }
}

impl Service<Request<Full<Bytes>>> for ReadyOnce {
    type Response = Response<Full<Bytes>>;
    type Error = &'static str;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Full<Bytes>>) -> Self::Future {
        let ready = std::mem::replace(&mut self.ready, false);
        std::future::ready(if ready {
            Ok(Response::new(Full::new(Bytes::from_static(b"called"))))
        } else {
            Err("not ready")
        })
    }
}

#[tokio::test]
async fn the_inner_service_called_is_the_one_polled_ready() {
    let vector = Vector::load("form-ipn-pay-accepted");
    let mut service = tower::Layer::layer(&IpnLayer::new(vector.verifier()), ReadyOnce::default());
    for _ in 0..2 {
        let response = service.ready().await.unwrap().call(request(&vector, "POST")).await.unwrap();
        assert_eq!(read(response).await, (200, "called".to_owned()));
    }
}

/// In-memory keys behind a lookup that waits once, as a vault on the network does.
#[derive(Debug)]
struct WaitingKeys(Keys);

#[ipn_core::async_trait]
impl KeyStore for WaitingKeys {
    async fn credentials(&self, slot: KeySlot<'_>) -> Result<Option<Credentials>, KeyStoreError> {
        tokio::task::yield_now().await;
        self.0.credentials(slot).await
    }
}

/// A memory store whose every operation waits once, as a database does.
#[derive(Debug, Default)]
struct WaitingStore(MemoryStore);

#[ipn_core::async_trait]
impl NotificationStore for WaitingStore {
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError> {
        tokio::task::yield_now().await;
        self.0.claim(fingerprint, lease).await
    }
    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.0.complete(fingerprint, token, reply).await
    }
    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError> {
        tokio::task::yield_now().await;
        self.0.release(fingerprint, token).await
    }
    async fn purge(&self, retention: Duration) -> Result<u64, StoreError> {
        self.0.purge(retention).await
    }
}

#[tokio::test]
async fn key_and_notification_stores_that_wait_are_waited_for() {
    let vector = Vector::load("form-ipn-pay-accepted");
    let layer = IpnLayer::new(
        ipn_core::Receiver::new(Verifier::new(WaitingKeys(vector.keys()))).store(WaitingStore::default()),
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let service = ServiceBuilder::new().layer(layer).service_fn(move |request: Request<Full<Bytes>>| {
        assert!(request.extensions().get::<Notification>().is_some());
        counted.fetch_add(1, Ordering::SeqCst);
        async { Ok::<_, Infallible>(IpnReply::order_updated().into_http_response::<Full<Bytes>>()) }
    });
    for _ in 0..2 {
        let (status, body) = read(service.clone().oneshot(request(&vector, "POST")).await.unwrap()).await;
        assert_eq!((status, body.as_str()), (200, "Order successfully updated."));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "the duplicate is answered from the store");
}
