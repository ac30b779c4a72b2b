//! The one-command demo: the shop on a fresh embedded database, the gateway simulator of
//! `ipn gateway` in-process (one instance for the hosted payment page, one for CentralBill
//! links, each notifying its route), and a scenario played against them over real HTTP, step by
//! step, each with its expectation.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use ipn_cli::Settings;
use ipn_cli::gateway::{Action, Choice, Gateway};
use ipn_cli::send::{self, Attempt, RetryPolicy};
use ipn_core::testkit::{FormBuilder, FormTemplate, RawRequest, RestBuilder, RestTemplate};
use ipn_core::{Endpoint, GatewayApi, KeySlot};
use serde_json::json;

use crate::web::OrderJson;
use crate::{Options, RunningShop, StartError};

/// The retry interval of the demo's gateway (the real one waits for the next quarter hour).
pub const DEMO_RETRY_INTERVAL: Duration = Duration::from_millis(300);

/// The shop and the two gateway simulators it pays through.
#[derive(Debug)]
pub struct Demo {
    /// The shop.
    pub shop: RunningShop,
    /// The hosted payment page simulator, notifying `/ipn`.
    pub gateway: Gateway,
    /// Its base URL.
    pub gateway_url: String,
    /// The CentralBill simulator, notifying `/ipn/centralbill`.
    pub centralbill: Gateway,
    /// Its base URL.
    pub centralbill_url: String,
    settings: Settings,
}

/// Starts the gateway simulators and the shop pointing at each other. `options.gateway` and
/// `options.centralbill` are replaced by the simulators' addresses; the fault injector is on; the
/// configuration's first shop confirms its form IPNs with the payment page simulator's REST API.
///
/// # Errors
///
/// The shop cannot start (a shop without a REST password for its form key's mode cannot
/// confirm), or a simulator cannot bind.
pub async fn start(mut options: Options) -> Result<Demo, StartError> {
    let bind = |source| StartError::Bind { addr: "127.0.0.1:0".to_owned(), source };
    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(bind)?;
    let centralbill_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(bind)?;
    let gateway_url = format!("http://{}", gateway_listener.local_addr().map_err(bind)?);
    let centralbill_url = format!("http://{}", centralbill_listener.local_addr().map_err(bind)?);
    options.gateway = gateway_url.clone();
    options.centralbill = centralbill_url.clone();
    options.fault_injector = true;
    // The shop (the configuration's first, as `crate::merchant` picks it) confirms its form IPNs
    // with the simulator's REST API, whose address is known only now.
    let shop_id = options
        .settings
        .shop_ids()
        .first()
        .cloned()
        .ok_or_else(|| StartError::Config("the configuration has no shop".to_owned()))?;
    let api = GatewayApi::new(&gateway_url).map_err(StartError::Config)?;
    options.settings = options.settings.confirm_with(&shop_id, api).map_err(StartError::Config)?;
    let settings = options.settings.clone();
    let shop = crate::start(options).await?;
    let simulator =
        |notify: String| Gateway::new(settings.clone(), notify).retries(4).retry_interval(DEMO_RETRY_INTERVAL);
    let gateway = simulator(format!("{}/ipn", shop.url));
    let centralbill = simulator(format!("{}/ipn/centralbill", shop.url));
    for (listener, router) in [(gateway_listener, gateway.router()), (centralbill_listener, centralbill.router())] {
        tokio::spawn(async move { axum::serve(listener, router).await });
    }
    Ok(Demo { shop, gateway, gateway_url, centralbill, centralbill_url, settings })
}

/// One step of the scenario, as it happened.
#[derive(Debug, Clone)]
pub struct StepResult {
    /// What the step does.
    pub name: &'static str,
    /// The order it is about.
    pub order_id: String,
    /// Each delivery attempt: status (none when the connection failed), the answer the gateway
    /// stored, `vads_url_check_src` sent.
    pub attempts: Vec<Attempt>,
    /// The order after the step, read from `GET /api/orders/{id}`.
    pub order: Option<OrderJson>,
    /// Notifications recorded in the database by this step.
    pub new_rows: i64,
    /// What was expected: the order status, the statuses of the attempts, the rows recorded.
    pub expected: Expected,
    /// Why it did not match; empty when it did.
    pub mismatches: Vec<String>,
}

impl StepResult {
    /// Whether the step matched its expectation.
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// A step's expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The order's status after the step.
    pub status: &'static str,
    /// Whether the order is flagged.
    pub flagged: bool,
    /// The HTTP status of each delivery attempt.
    pub attempts: Vec<u16>,
    /// How many notifications the step records in the database.
    pub new_rows: i64,
}

/// Why a step could not be played (not a mismatch: the scenario itself broke).
#[derive(Debug, thiserror::Error)]
#[error("{step}: {reason}")]
pub struct DemoError {
    step: &'static str,
    reason: String,
}

fn fail(step: &'static str) -> impl Fn(String) -> DemoError {
    move |reason| DemoError { step, reason }
}

fn http() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f).await.map_err(|e| format!("task failed: {e}"))?
}

impl Demo {
    /// Creates an order through the shop's checkout (`POST /checkout`), returning its id.
    ///
    /// # Errors
    ///
    /// The shop did not redirect to the new order's checkout page.
    pub async fn order(&self, product: &'static str) -> Result<String, String> {
        let url = format!("{}/checkout", self.shop.url);
        blocking(move || {
            let response = http().post(&url).send_form([("product", product)]).map_err(|e| e.to_string())?;
            let location = response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
            location
                .strip_prefix("/checkout/")
                .map(str::to_owned)
                .ok_or_else(|| format!("checkout answered {} without an order", response.status()))
        })
        .await
    }

    /// The order as the JSON API shows it.
    ///
    /// # Errors
    ///
    /// The API does not answer with the order.
    pub async fn order_json(&self, order_id: &str) -> Result<OrderJson, String> {
        let url = format!("{}/api/orders/{order_id}", self.shop.url);
        blocking(move || {
            let mut response = http().get(&url).call().map_err(|e| e.to_string())?;
            if response.status() != 200 {
                return Err(format!("GET {url}: {}", response.status()));
            }
            let text = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
            serde_json::from_str::<OrderJson>(&text).map_err(|e| e.to_string())
        })
        .await
    }

    async fn stored_order(&self, order_id: &str) -> Result<crate::db::Order, String> {
        self.shop
            .state
            .db()
            .order(order_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("order {order_id} is not in the database"))
    }

    /// Starts a hosted-form payment at the simulator with the form the checkout page shows.
    async fn form_payment(&self, order_id: &str, extra: &[(&str, &str)]) -> Result<u64, String> {
        let order = self.stored_order(order_id).await?;
        self.start_form_payment(&order, extra)
    }

    /// Starts a hosted-form payment for another amount than the order's, as a payment form
    /// signed before the order changed would: the gateway really takes that amount.
    async fn form_payment_of(&self, order_id: &str, amount_minor: i64) -> Result<u64, String> {
        let order = crate::db::Order { amount_minor, ..self.stored_order(order_id).await? };
        self.start_form_payment(&order, &[])
    }

    fn start_form_payment(&self, order: &crate::db::Order, extra: &[(&str, &str)]) -> Result<u64, String> {
        let fields = self.shop.state.merchant().payment_form(order, extra);
        self.gateway.start_form_payment(fields).map_err(|e| e.to_string())
    }

    /// The uuid of a form payment's transaction at the simulator.
    fn trans_uuid(&self, payment: u64) -> Result<String, String> {
        self.gateway
            .payments()
            .into_iter()
            .find(|p| p.id == payment)
            .and_then(|p| p.transactions.into_iter().next())
            .ok_or_else(|| format!("payment {payment} has no transaction at the simulator"))
    }

    /// Starts a CentralBill payment with the link the checkout page shows.
    async fn link_payment(&self, order_id: &str) -> Result<u64, String> {
        let order = self.stored_order(order_id).await?;
        let params = self
            .shop
            .state
            .merchant()
            .payment_link_params(&order, "guest")
            .ok_or("no CentralBill application configured")?;
        self.centralbill.start_link_payment(&params.into_iter().collect::<HashMap<_, _>>()).map_err(|e| e.to_string())
    }

    /// POSTs a request to a shop route like the gateway does (status decides, 256 bytes stored).
    async fn post(&self, route: &str, request: RawRequest) -> Result<Attempt, String> {
        let url = format!("{}{route}", self.shop.url);
        blocking(move || Ok(send::post_once(&url, &request, 1))).await
    }

    /// Delivers with the gateway's retries.
    async fn deliver(&self, route: &str, request: RawRequest) -> Result<Vec<Attempt>, String> {
        let url = format!("{}{route}", self.shop.url);
        let policy = RetryPolicy { retries: 4, interval: DEMO_RETRY_INTERVAL, resign: None };
        blocking(move || send::deliver(&url, &request, &policy, |_| {}).map(|d| d.attempts)).await
    }

    fn key(&self, slot: KeySlot<'_>) -> Result<ipn_core::Secret, String> {
        self.settings.signing_key(slot).map(|(key, _)| key).ok_or_else(|| format!("no key for {slot}"))
    }

    /// A REST payment as the embedded form's gateway notifies it, signed with the REST password.
    fn rest_payment(&self, order: &OrderJson) -> Result<RawRequest, String> {
        let shop_id = self.shop.state.merchant().shop_id.clone();
        let mode = self.shop.state.merchant().mode;
        let password = self.key(KeySlot::RestPassword { shop_id: &shop_id, mode })?;
        let mut builder = RestBuilder::new(RestTemplate::Payment, &shop_id).mode(mode);
        for (path, value) in [
            ("orderDetails.orderId", json!(order.order_id)),
            ("orderDetails.orderTotalAmount", json!(order.amount_minor)),
            ("orderDetails.orderEffectiveAmount", json!(order.amount_minor)),
            ("orderDetails.orderCurrency", json!(order.currency)),
            ("transactions.0.amount", json!(order.amount_minor)),
            ("transactions.0.currency", json!(order.currency)),
            ("transactions.0.transactionDetails.effectiveAmount", json!(order.amount_minor)),
            ("transactions.0.transactionDetails.effectiveCurrency", json!(order.currency)),
        ] {
            builder = builder.set(path, value).map_err(|e| e.to_string())?;
        }
        Ok(builder.target("/ipn").sign(password.expose(), Endpoint::Ipn))
    }

    /// A form notification of an accepted payment for `amount_minor` of transaction `trans_uuid`
    /// (the template's when `None`), signed with `key`.
    fn form_notification(&self, order_id: &str, amount_minor: i64, trans_uuid: Option<&str>, key: &[u8]) -> RawRequest {
        let merchant = self.shop.state.merchant();
        let mut builder = FormBuilder::new(FormTemplate::Accepted, &merchant.shop_id)
            .mode(merchant.mode)
            .set("vads_order_id", order_id)
            .set("vads_amount", amount_minor.to_string())
            .set("vads_effective_amount", amount_minor.to_string());
        if let Some(uuid) = trans_uuid {
            builder = builder.set("vads_trans_uuid", uuid);
        }
        builder.target("/ipn").sign(key, merchant.algorithm)
    }

    async fn notification_count(&self) -> Result<i64, String> {
        self.shop.state.db().notification_count().await.map_err(|e| e.to_string())
    }

    async fn arm_fault(&self) -> Result<(), String> {
        let url = format!("{}/demo/fail-next", self.shop.url);
        blocking(move || {
            let status = http().post(&url).send_empty().map_err(|e| e.to_string())?.status();
            if status == 200 { Ok(()) } else { Err(format!("the fault injector answered {status}")) }
        })
        .await
    }

    /// Plays the scenario. Each step is checked after it ran; a step that cannot be played at
    /// all (the shop down...) stops the scenario with an error.
    ///
    /// # Errors
    ///
    /// A step could not be played.
    pub async fn play(&self) -> Result<Vec<StepResult>, DemoError> {
        let mut steps = Vec::new();
        let expect = |status, attempts: &[u16], new_rows| Expected {
            status,
            flagged: false,
            attempts: attempts.to_vec(),
            new_rows,
        };

        let step = "accepted payment (form)";
        let paid = self.order("grinder").await.map_err(fail(step))?;
        let paid_payment = self.form_payment(&paid, &[]).await.map_err(fail(step))?;
        let run = async {
            Ok(self.gateway.complete(paid_payment, Choice::Accept).await.map_err(|e| e.to_string())?.attempts)
        };
        steps.push(self.check(step, &paid, expect("paid", &[200], 1), run).await?);

        let step = "refused payment (form)";
        let refused = self.order("cup").await.map_err(fail(step))?;
        let refused_payment = self.form_payment(&refused, &[]).await.map_err(fail(step))?;
        let run = async {
            Ok(self.gateway.complete(refused_payment, Choice::Refuse).await.map_err(|e| e.to_string())?.attempts)
        };
        steps.push(self.check(step, &refused, expect("refused", &[200], 1), run).await?);

        let step = "REST payment";
        let rest = self.order("beans").await.map_err(fail(step))?;
        let order = self.order_json(&rest).await.map_err(fail(step))?;
        let request = self.rest_payment(&order).map_err(fail(step))?;
        let run = self.deliver("/ipn", request);
        steps.push(self.check(step, &rest, expect("paid", &[200], 1), run).await?);

        let step = "CentralBill payment link";
        let link = self.order("cup").await.map_err(fail(step))?;
        let id = self.link_payment(&link).await.map_err(fail(step))?;
        let run =
            async { Ok(self.centralbill.complete(id, Choice::Accept).await.map_err(|e| e.to_string())?.attempts) };
        steps.push(self.check(step, &link, expect("paid", &[200], 1), run).await?);

        let step = "back-office refund";
        let run = async {
            Ok(self.gateway.back_office(paid_payment, Action::Refund).await.map_err(|e| e.to_string())?.attempts)
        };
        steps.push(self.check(step, &paid, expect("refunded", &[200], 1), run).await?);

        let step = "payment awaiting manual validation";
        let validated = self.order("beans").await.map_err(fail(step))?;
        let id = self.form_payment(&validated, &[("vads_validation_mode", "1")]).await.map_err(fail(step))?;
        let run = async { Ok(self.gateway.complete(id, Choice::Accept).await.map_err(|e| e.to_string())?.attempts) };
        steps.push(self.check(step, &validated, expect("awaiting_validation", &[200], 1), run).await?);
        let run =
            async { Ok(self.gateway.back_office(id, Action::Validate).await.map_err(|e| e.to_string())?.attempts) };
        steps.push(self.check("back-office validation", &validated, expect("paid", &[200], 1), run).await?);

        let step = "handler failure, automatic retry";
        let retried = self.order("grinder").await.map_err(fail(step))?;
        let id = self.form_payment(&retried, &[]).await.map_err(fail(step))?;
        let run = async {
            self.arm_fault().await?;
            Ok(self.gateway.complete(id, Choice::Accept).await.map_err(|e| e.to_string())?.attempts)
        };
        steps.push(self.check(step, &retried, expect("paid", &[500, 200], 2), run).await?);

        let step = "duplicate delivery (replay)";
        let run = async {
            Ok(self.gateway.back_office(paid_payment, Action::Replay).await.map_err(|e| e.to_string())?.attempts)
        };
        steps.push(self.check(step, &paid, expect("refunded", &[200], 0), run).await?);

        let step = "amount differs from the order";
        let short = self.order("grinder").await.map_err(fail(step))?;
        let id = self.form_payment_of(&short, 100).await.map_err(fail(step))?;
        let run = async { Ok(self.gateway.complete(id, Choice::Accept).await.map_err(|e| e.to_string())?.attempts) };
        let flagged = Expected { flagged: true, ..expect("pending", &[200], 1) };
        steps.push(self.check(step, &short, flagged, run).await?);

        let step = "forged notification";
        let request = self.form_notification(&refused, 1250, None, b"not-the-shop-key");
        let run = async { Ok(vec![self.post("/ipn", request).await?]) };
        steps.push(self.check(step, &refused, expect("refused", &[401], 0), run).await?);

        // Signed with the shop's key, as a genuine signed message re-labelled by an attacker
        // would be, and claiming AUTHORISED for the refused payment's real transaction: only the
        // gateway's record, read before the handler runs, tells it apart.
        let step = "forged notification not confirmed";
        let uuid = self.trans_uuid(refused_payment).map_err(fail(step))?;
        let merchant = self.shop.state.merchant();
        let request = self.form_notification(&refused, 1250, Some(&uuid), merchant.form_key.expose());
        let run = async { Ok(vec![self.post("/ipn", request).await?]) };
        steps.push(self.check(step, &refused, expect("refused", &[401], 0), run).await?);

        let step = "gateway API down, the retry succeeds";
        let outage = self.order("beans").await.map_err(fail(step))?;
        let id = self.form_payment(&outage, &[]).await.map_err(fail(step))?;
        let run = async {
            self.gateway.api_outage(1);
            Ok(self.gateway.complete(id, Choice::Accept).await.map_err(|e| e.to_string())?.attempts)
        };
        steps.push(self.check(step, &outage, expect("paid", &[503, 200], 1), run).await?);

        Ok(steps)
    }

    /// Runs one step and compares the outcome with the expectation.
    async fn check(
        &self,
        name: &'static str,
        order_id: &str,
        expected: Expected,
        run: impl std::future::Future<Output = Result<Vec<Attempt>, String>>,
    ) -> Result<StepResult, DemoError> {
        let before = self.notification_count().await.map_err(fail(name))?;
        let attempts = run.await.map_err(fail(name))?;
        let new_rows = self.notification_count().await.map_err(fail(name))? - before;
        let order = self.order_json(order_id).await.ok();
        let mut mismatches = Vec::new();
        let statuses: Vec<u16> = attempts.iter().map(|a| a.status.unwrap_or(0)).collect();
        if statuses != expected.attempts {
            mismatches.push(format!("attempts answered {statuses:?}, expected {:?}", expected.attempts));
        }
        match &order {
            Some(o) if o.status != expected.status => {
                mismatches.push(format!("order is {}, expected {}", o.status, expected.status));
            }
            Some(o) if o.flag.is_some() != expected.flagged => {
                mismatches.push(format!("order flag is {:?}, expected flagged: {}", o.flag, expected.flagged));
            }
            Some(_) => {}
            None => mismatches.push("the order cannot be read".to_owned()),
        }
        if new_rows != expected.new_rows {
            mismatches.push(format!("{new_rows} notifications recorded, expected {}", expected.new_rows));
        }
        Ok(StepResult { name, order_id: order_id.to_owned(), attempts, order, new_rows, expected, mismatches })
    }
}

/// The table the demo prints: one line per step, with every attempt's answer as the gateway
/// stored it.
pub fn table(steps: &[StepResult]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<3} {:<36} {:<16} {:<20} {:<4} answers stored by the gateway (status [source] body)",
        "#", "step", "order", "order status", "ok"
    );
    for (i, step) in steps.iter().enumerate() {
        let status = step.order.as_ref().map_or("?".to_owned(), |o| {
            if o.flag.is_some() { format!("{} (flagged)", o.status) } else { o.status.clone() }
        });
        let answers: Vec<String> = step
            .attempts
            .iter()
            .map(|a| {
                let code = a.status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
                let source = a.source.as_deref().map(|s| format!(" [{s}]")).unwrap_or_default();
                format!("{code}{source} {:?}", a.stored)
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<3} {:<36} {:<16} {:<20} {:<4} {}",
            i + 1,
            step.name,
            step.order_id,
            status,
            if step.ok() { "yes" } else { "NO" },
            answers.join(" then ")
        );
        for mismatch in &step.mismatches {
            let _ = writeln!(out, "    mismatch: {mismatch}");
        }
    }
    out
}
