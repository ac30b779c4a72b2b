#![allow(clippy::unwrap_used, missing_docs)]
//! `Receiver::begin` / `Receiver::finish`: the exactly-once steps the web adapters call around the
//! handler, over a notification store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ipn_core::store::{Claim, ClaimToken, MemoryStore, NotificationStore, StoreError};
use ipn_core::{
    Credentials, Endpoint, Error, Fingerprint, KeySlot, KeyStore, KeyStoreError, Keys, Mode, Notification, Outcome,
    Receiver, Reply, RequestView, ShopKeys, Verifier, async_trait,
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

async fn notification() -> Notification {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let request = RequestView::new("POST", "/ipn", &headers, BODY.as_bytes());
    Receiver::new(verifier()).receive(request).await.unwrap()
}

#[tokio::test]
async fn without_a_store_every_delivery_goes_to_the_handler() {
    let receiver = Receiver::new(verifier());
    let n = notification().await;
    let delivery = receiver.begin(&n).await.unwrap();
    assert!(!delivery.is_claimed());
    assert_eq!(delivery.fingerprint(), None);
    receiver.finish(delivery, 200, None).await;
    assert!(!receiver.begin(&n).await.unwrap().is_claimed());
}

#[tokio::test]
async fn processed_once_then_duplicates_get_the_recorded_reply() {
    let store = Arc::new(MemoryStore::new());
    let receiver = Receiver::new(verifier()).store(store.clone());
    let n = notification().await;

    let delivery = receiver.begin(&n).await.unwrap();
    assert_eq!(delivery.fingerprint(), Some(n.fingerprint()));
    // A copy arriving on another instance meanwhile: 409, the gateway retries.
    let copy = receiver.begin(&n).await.unwrap_err();
    assert!(matches!(copy.error, Error::InProgress { fingerprint } if fingerprint == n.fingerprint()));
    assert_eq!(copy.reply, Reply::for_outcome(Outcome::InProgress));
    assert_eq!(copy.reply.status(), 409);

    receiver.finish(delivery, 200, Some("OK-Accepted payment, order has been updated.")).await;
    let replay = receiver.begin(&n).await.unwrap_err();
    assert!(matches!(replay.error, Error::AlreadyProcessed { .. }));
    assert_eq!(replay.error.outcome(), Outcome::AlreadyProcessed);
    assert_eq!(replay.reply, Reply::new(200, "OK-Accepted payment, order has been updated."));
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn a_failed_handler_releases_the_claim_so_the_retry_is_processed() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new());
    let n = notification().await;
    let first = receiver.begin(&n).await.unwrap();
    receiver.finish(first, 500, Some("An error occurred while updating the order.")).await;
    let retry = receiver.begin(&n).await.unwrap();
    assert!(retry.is_claimed());
    receiver.finish(retry, 200, None).await;
    assert_eq!(receiver.begin(&n).await.unwrap_err().reply, Reply::order_updated());
}

#[tokio::test]
async fn an_unknown_body_is_recorded_as_the_processed_message() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new()).reply(
        Outcome::Processed,
        200,
        "OK-Accepted payment, order has been updated.",
    );
    let n = notification().await;
    let delivery = receiver.begin(&n).await.unwrap();
    receiver.finish(delivery, 202, None).await;
    assert_eq!(
        receiver.begin(&n).await.unwrap_err().reply,
        Reply::new(202, "OK-Accepted payment, order has been updated.")
    );
}

#[tokio::test]
async fn a_dropped_delivery_is_retried_after_the_lease() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new()).lease(Duration::from_millis(1000));
    let n = notification().await;
    drop(receiver.begin(&n).await.unwrap());
    assert_eq!(receiver.begin(&n).await.unwrap_err().reply.status(), 409);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(receiver.begin(&n).await.unwrap().is_claimed());
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
    let n = notification().await;

    store.down.store(true, Ordering::SeqCst);
    let refused = receiver.begin(&n).await.unwrap_err();
    assert!(matches!(refused.error, Error::Store(_)));
    assert_eq!(refused.reply.status(), 503);
    assert!(store.inner.is_empty(), "nothing claimed while down");

    store.down.store(false, Ordering::SeqCst);
    let delivery = receiver.begin(&n).await.unwrap();
    // Down again when the handler finished: logged, not recorded; the lease frees the claim.
    store.down.store(true, Ordering::SeqCst);
    receiver.finish(delivery, 200, None).await;
    store.down.store(false, Ordering::SeqCst);
    assert_eq!(receiver.begin(&n).await.unwrap_err().reply.status(), 409);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let retry = receiver.begin(&n).await.unwrap();
    receiver.finish(retry, 200, None).await;
    assert_eq!(receiver.begin(&n).await.unwrap_err().reply, Reply::order_updated());
}

#[tokio::test]
async fn begin_and_finish_futures_are_send_for_multi_threaded_servers() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    let receiver = Receiver::new(verifier()).store(MemoryStore::new());
    let n = notification().await;
    let delivery = assert_send(receiver.begin(&n)).await.unwrap();
    assert_send(receiver.finish(delivery, 200, None)).await;
    assert_eq!(receiver.begin(&n).await.unwrap_err().reply, Reply::order_updated());
}

/// Keys that make every lookup wait once (a vault on the network), saying or not that they never
/// wait.
#[derive(Debug)]
struct Waiting {
    keys: Keys,
    claims_never_to_wait: bool,
}

#[async_trait]
impl KeyStore for Waiting {
    async fn credentials(&self, slot: KeySlot<'_>) -> Result<Option<Credentials>, KeyStoreError> {
        tokio::task::yield_now().await;
        self.keys.credentials(slot).await
    }

    fn never_waits(&self) -> bool {
        self.claims_never_to_wait
    }
}

fn waiting(claims_never_to_wait: bool) -> Receiver {
    let keys =
        Keys::builder().shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788")).build().unwrap();
    Receiver::new(Verifier::new(Waiting { keys, claims_never_to_wait }).accept_test_mode(true))
}

#[tokio::test]
async fn receive_now_verifies_in_place_only_when_the_key_store_never_waits() {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let request = RequestView::new("POST", "/ipn", &headers, BODY.as_bytes());
    let in_place = Receiver::new(verifier()).receive_now(request).expect("in-memory keys never wait");
    assert_eq!(in_place.unwrap().order_id(), Some("ORDER-1042"));
    let refused = Receiver::new(verifier()).receive_now(RequestView::new("POST", "/ipn", &headers, b" ")).unwrap();
    assert_eq!(refused.unwrap_err().reply.status(), 400);

    // A store that waits is left to `receive`; one that waits after saying it never does too.
    for claims_never_to_wait in [false, true] {
        let receiver = waiting(claims_never_to_wait);
        assert!(receiver.receive_now(request).is_none());
        assert_eq!(receiver.receive(request).await.unwrap().order_id(), Some("ORDER-1042"));
    }
}

#[tokio::test]
async fn begin_now_and_finish_now_work_in_place_with_the_memory_store_only() {
    let n = notification().await;
    let without_store = Receiver::new(verifier());
    let delivery = without_store.begin_now(&n).unwrap().unwrap();
    assert!(!delivery.is_claimed());
    without_store.finish_now(delivery, 200, None).unwrap();

    let receiver = Receiver::new(verifier()).store(MemoryStore::new());
    let delivery = receiver.begin_now(&n).unwrap().unwrap();
    assert_eq!(receiver.begin_now(&n).unwrap().unwrap_err().reply.status(), 409);
    receiver.finish_now(delivery, 200, Some(Outcome::Processed)).unwrap();
    assert_eq!(receiver.begin_now(&n).unwrap().unwrap_err().reply, Reply::order_updated());

    // A store without in-place operations: nothing is claimed nor recorded in place.
    let flaky = Arc::new(Flaky::default());
    let receiver = Receiver::new(verifier()).store(flaky.clone());
    assert!(receiver.begin_now(&n).is_none());
    assert!(flaky.inner.is_empty());
    let delivery = receiver.begin(&n).await.unwrap();
    let delivery = receiver.finish_now(delivery, 200, None).unwrap_err();
    receiver.finish_outcome(delivery, 200, None).await;
    assert_eq!(receiver.begin(&n).await.unwrap_err().reply, Reply::order_updated());
}

#[tokio::test]
async fn finish_outcome_records_the_outcomes_reply_with_its_override() {
    let receiver = Receiver::new(verifier()).store(MemoryStore::new()).reply(Outcome::Processed, 200, "OK-updated");
    let n = notification().await;
    let delivery = receiver.begin(&n).await.unwrap();
    receiver.finish_outcome(delivery, 200, Some(Outcome::Processed)).await;
    assert_eq!(receiver.begin(&n).await.unwrap_err().reply, Reply::new(200, "OK-updated"));

    let receiver = Receiver::new(verifier()).store(MemoryStore::new());
    let delivery = receiver.begin(&n).await.unwrap();
    receiver.finish_now(delivery, 500, Some(Outcome::ProcessingFailed)).unwrap();
    assert!(receiver.begin(&n).await.unwrap().is_claimed(), "a failure releases the claim");
}
