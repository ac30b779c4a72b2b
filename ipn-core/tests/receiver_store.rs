#![allow(clippy::unwrap_used, missing_docs)]
//! `Receiver::admit` / `Receiver::complete`: the exactly-once steps the web adapters call around
//! the handler, over a notification store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ipn_core::adapter::{Delivery, Rejected};
use ipn_core::store::{Claim, ClaimToken, MemoryStore, NotificationStore, StoreError};
use ipn_core::{
    Endpoint, Error, Fingerprint, Keys, Mode, Outcome, Receiver, Reply, RequestView, ShopKeys, Verifier, async_trait,
};

const BODY: &str = "vads_amount=4525&vads_ctx_mode=TEST&vads_currency=978&\
                    vads_hash=0d8b1a8f4ba7b1e6f1e7a4b6c1d9e3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b7&\
                    vads_order_id=ORDER-1042&\
                    vads_site_id=12345678&vads_trans_date=20261120101500&vads_trans_status=AUTHORISED&\
                    vads_url_check_src=PAY&vads_version=V2&signature=dNXpd7XTJvun3rkCjydZ6FfX%2B%2FWwnJzRUy3Ra5QfLGk%3D";

fn verifier() -> Verifier {
    let keys =
        Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788")).build().unwrap();
    Verifier::new(keys).endpoint(Endpoint::Ipn).accept_test_mode(true)
}

const HEADERS: [(&str, &str); 1] = [("content-type", "application/x-www-form-urlencoded")];

fn request() -> RequestView<'static> {
    RequestView::new("POST", "/ipn", &HEADERS, BODY.as_bytes())
}

/// The delivery of the one notification these tests send.
async fn admit(receiver: &Receiver) -> Result<Delivery, Rejected> {
    receiver.admit(request()).await.map(|(_, delivery)| delivery)
}

async fn fingerprint() -> Fingerprint {
    Receiver::new(verifier()).receive(request()).await.unwrap().fingerprint()
}

#[tokio::test]
async fn without_a_store_every_delivery_goes_to_the_handler() {
    let receiver = Receiver::new(verifier());
    let delivery = admit(&receiver).await.unwrap();
    assert!(!delivery.is_claimed());
    assert_eq!(delivery.fingerprint(), None);
    receiver.complete(delivery, 200, None).await;
    assert!(!admit(&receiver).await.unwrap().is_claimed());
}

#[tokio::test]
async fn processed_once_then_duplicates_get_the_recorded_reply() {
    let store = Arc::new(MemoryStore::new());
    let receiver = Receiver::new(verifier()).store(store.clone()).reply(
        Outcome::Processed,
        200,
        "OK-Accepted payment, order has been updated.",
    );
    let fingerprint = fingerprint().await;

    let delivery = admit(&receiver).await.unwrap();
    assert_eq!(delivery.fingerprint(), Some(fingerprint));
    // A copy arriving on another instance meanwhile: 409, the gateway retries.
    let copy = admit(&receiver).await.unwrap_err();
    assert!(matches!(copy.error, Error::InProgress { fingerprint: held } if held == fingerprint));
    assert_eq!(copy.reply, Reply::for_outcome(Outcome::InProgress));
    assert_eq!(copy.reply.status(), 409);

    receiver.complete(delivery, 200, Some(Outcome::Processed)).await;
    let replay = admit(&receiver).await.unwrap_err();
    assert!(matches!(replay.error, Error::AlreadyProcessed { .. }));
    assert_eq!(replay.error.outcome(), Outcome::AlreadyProcessed);
    assert_eq!(replay.reply, Reply::new(200, "OK-Accepted payment, order has been updated."));
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn a_failed_handler_releases_the_claim_so_the_retry_is_processed() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new());
    let first = admit(&receiver).await.unwrap();
    receiver.complete(first, 500, Some(Outcome::ProcessingFailed)).await;
    let retry = admit(&receiver).await.unwrap();
    assert!(retry.is_claimed());
    receiver.complete(retry, 200, None).await;
    assert_eq!(admit(&receiver).await.unwrap_err().reply, Reply::order_updated());
}

#[tokio::test]
async fn an_unknown_body_is_recorded_as_the_processed_message() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new()).reply(
        Outcome::Processed,
        200,
        "OK-Accepted payment, order has been updated.",
    );
    let delivery = admit(&receiver).await.unwrap();
    receiver.complete(delivery, 202, None).await;
    assert_eq!(
        admit(&receiver).await.unwrap_err().reply,
        Reply::new(202, "OK-Accepted payment, order has been updated.")
    );
}

#[tokio::test]
async fn a_dropped_delivery_is_retried_after_the_lease() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new()).lease(Duration::from_millis(1000));
    drop(admit(&receiver).await.unwrap());
    assert_eq!(admit(&receiver).await.unwrap_err().reply.status(), 409);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(admit(&receiver).await.unwrap().is_claimed());
}

/// A store that can be "down": every operation fails while `down` is set.
#[derive(Debug, Default)]
struct Flaky {
    inner: MemoryStore,
    down: AtomicBool,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) { Err(StoreError::Config("simulated outage".into())) } else { Ok(()) }
    }
}

#[async_trait]
impl NotificationStore for Flaky {
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError> {
        self.check()?;
        self.inner.claim(fingerprint, lease).await
    }
    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError> {
        self.check()?;
        self.inner.complete(fingerprint, token, reply).await
    }
    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError> {
        self.check()?;
        self.inner.release(fingerprint, token).await
    }
    async fn purge(&self, retention: Duration) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.purge(retention).await
    }
}

#[tokio::test]
async fn store_down_gives_503_and_processing_resumes_after() {
    let store = Arc::new(Flaky::default());
    let receiver = Receiver::new(verifier()).store(store.clone()).lease(Duration::from_millis(1000));

    store.down.store(true, Ordering::SeqCst);
    let refused = admit(&receiver).await.unwrap_err();
    assert!(matches!(refused.error, Error::Store(_)));
    assert_eq!(refused.reply.status(), 503);
    assert!(store.inner.is_empty(), "nothing claimed while down");

    store.down.store(false, Ordering::SeqCst);
    let delivery = admit(&receiver).await.unwrap();
    // Down again when the handler finished: logged, not recorded; the lease frees the claim.
    store.down.store(true, Ordering::SeqCst);
    receiver.complete(delivery, 200, None).await;
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(admit(&receiver).await.unwrap_err().reply.status(), 409);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let retry = admit(&receiver).await.unwrap();
    receiver.complete(retry, 200, None).await;
    assert_eq!(admit(&receiver).await.unwrap_err().reply, Reply::order_updated());
}

#[tokio::test]
async fn admit_and_complete_futures_are_send_for_multi_threaded_servers() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    let receiver = Receiver::new(verifier()).store(MemoryStore::new());
    let (_, delivery) = assert_send(receiver.admit(request())).await.unwrap();
    assert_send(receiver.complete(delivery, 200, None)).await;
    assert_eq!(admit(&receiver).await.unwrap_err().reply, Reply::order_updated());
}

#[tokio::test]
async fn complete_records_the_outcomes_reply_with_its_override() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new()).reply(Outcome::Processed, 200, "OK-updated");
    let delivery = admit(&receiver).await.unwrap();
    receiver.complete(delivery, 200, Some(Outcome::Processed)).await;
    assert_eq!(admit(&receiver).await.unwrap_err().reply, Reply::new(200, "OK-updated"));

    let receiver = Receiver::new(verifier()).store(MemoryStore::new());
    let delivery = admit(&receiver).await.unwrap();
    receiver.complete(delivery, 500, Some(Outcome::ProcessingFailed)).await;
    assert!(admit(&receiver).await.unwrap().is_claimed(), "a failure releases the claim");
}

#[tokio::test]
async fn a_refused_request_claims_nothing() {
    let store = Arc::new(MemoryStore::new());
    let receiver = Receiver::new(verifier()).store(store.clone());
    let forged = BODY.replace("AUTHORISED", "CAPTURED");
    let refused = receiver.admit(RequestView::new("POST", "/ipn", &HEADERS, forged.as_bytes())).await.unwrap_err();
    assert_eq!(refused.reply.status(), 401);
    assert!(store.is_empty());
}
