//! The shop's pages (server-rendered with minijinja templates compiled into the binary), the
//! read-only JSON API, and the router that puts them together with the notification routes.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use ipn_core::{Config, Endpoint, Mode, Receiver, Verifier};
use ipn_tower::IpnLayer;
use minijinja::{Environment, context};
use serde::{Deserialize, Serialize};

use crate::StartError;
use crate::checkout::Merchant;
use crate::db::{Db, NotificationRow, Order, Store};
use crate::notify::{self, DeliveryEntry};
use crate::orders::{CATALOG, format_minor, product};

/// The current time, RFC 3339, UTC, to the second.
pub fn now() -> String {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[derive(Debug)]
struct Inner {
    db: Db,
    merchant: Merchant,
    templates: Environment<'static>,
    deliveries: Mutex<VecDeque<DeliveryEntry>>,
    fault: Option<Arc<AtomicBool>>,
}

/// The shop's shared state. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

const TEMPLATES: [(&str, &str); 6] = [
    ("base.html", include_str!("../templates/base.html")),
    ("catalog.html", include_str!("../templates/catalog.html")),
    ("product.html", include_str!("../templates/product.html")),
    ("checkout.html", include_str!("../templates/checkout.html")),
    ("order.html", include_str!("../templates/order.html")),
    ("notifications.html", include_str!("../templates/notifications.html")),
];

impl AppState {
    /// The state over a database and the merchant's identity; `fault` is the demo's fault
    /// injector (`None` outside the demo).
    ///
    /// # Errors
    ///
    /// A template does not compile (a bug caught by every test).
    pub fn new(db: Db, merchant: Merchant, fault: Option<Arc<AtomicBool>>) -> Result<Self, StartError> {
        let mut templates = Environment::new();
        for (name, source) in TEMPLATES {
            templates.add_template(name, source).map_err(|e| StartError::Config(format!("template {name}: {e}")))?;
        }
        let inner = Inner { db, merchant, templates, deliveries: Mutex::new(VecDeque::new()), fault };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The merchant's identity and signing keys.
    pub fn merchant(&self) -> &Merchant {
        &self.inner.merchant
    }

    /// The demo's fault injector, when enabled: set, the next order update fails once.
    pub fn fault(&self) -> Option<&AtomicBool> {
        self.inner.fault.as_deref()
    }

    fn deliveries(&self) -> MutexGuard<'_, VecDeque<DeliveryEntry>> {
        // Each update is one push: a panic elsewhere cannot leave it half-written.
        self.inner.deliveries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Logs a delivery to a notification route.
    pub fn push_delivery(&self, entry: DeliveryEntry) {
        notify::push_bounded(&mut self.deliveries(), entry);
    }

    /// The logged deliveries, newest first.
    pub fn recent_deliveries(&self) -> Vec<DeliveryEntry> {
        self.deliveries().iter().rev().cloned().collect()
    }

    fn render(&self, name: &str, ctx: minijinja::Value) -> Response {
        match self.inner.templates.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(template = name, error = %e, "cannot render");
                (StatusCode::INTERNAL_SERVER_ERROR, "The page cannot be rendered.").into_response()
            }
        }
    }
}

/// A page-level failure: the database is unreachable, or the thing asked for does not exist.
#[derive(Debug)]
enum PageError {
    NotFound(String),
    BadRequest(String),
    Db(crate::db::DbError),
}

impl From<crate::db::DbError> for PageError {
    fn from(e: crate::db::DbError) -> Self {
        PageError::Db(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound(what) => (StatusCode::NOT_FOUND, format!("{what} not found")).into_response(),
            PageError::BadRequest(why) => (StatusCode::BAD_REQUEST, why).into_response(),
            PageError::Db(e) => {
                tracing::error!(error = %e, "database");
                (StatusCode::SERVICE_UNAVAILABLE, "The database is unavailable; try again.").into_response()
            }
        }
    }
}

fn ser<T: Serialize>(value: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(value))
}

/// An order for templates and the API: the stored fields and the amounts for people.
#[derive(Debug, Serialize)]
struct OrderView<'a> {
    #[serde(flatten)]
    order: &'a Order,
    amount: String,
    refunded: String,
}

fn view(order: &Order) -> OrderView<'_> {
    OrderView {
        order,
        amount: format_minor(order.amount_minor, &order.currency),
        refunded: format_minor(order.refunded_minor, &order.currency),
    }
}

async fn catalog(State(app): State<AppState>) -> Result<Response, PageError> {
    let orders = app.db().recent_orders(20).await?;
    let products: Vec<_> = CATALOG
        .iter()
        .map(|p| context! { id => p.id, name => p.name, price => format_minor(p.price_minor, crate::orders::CURRENCY) })
        .collect();
    let orders: Vec<_> = orders.iter().map(view).collect();
    Ok(app.render("catalog.html", context! { products, orders => ser(&orders) }))
}

async fn product_page(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let p = product(&id).ok_or_else(|| PageError::NotFound(format!("product {id:?}")))?;
    let price = format_minor(p.price_minor, crate::orders::CURRENCY);
    Ok(app.render("product.html", context! { product => ser(p), price }))
}

/// The checkout form.
#[derive(Debug, Deserialize)]
struct CheckoutForm {
    product: String,
}

/// A fresh order reference: 12 uppercase hex characters (valid as `vads_order_id`, a REST
/// `orderId` and a CentralBill invoice id).
fn new_order_id() -> Result<String, PageError> {
    let mut bytes = [0_u8; 6];
    getrandom::fill(&mut bytes).map_err(|e| PageError::BadRequest(format!("no randomness for an order id: {e}")))?;
    Ok(format!("ORD-{}", bytes.iter().map(|b| format!("{b:02X}")).collect::<String>()))
}

async fn create_order(State(app): State<AppState>, Form(form): Form<CheckoutForm>) -> Result<Response, PageError> {
    let p = product(&form.product).ok_or_else(|| PageError::BadRequest(format!("no product {:?}", form.product)))?;
    let order_id = new_order_id()?;
    app.db().create_order(&order_id, p.name, p.price_minor, crate::orders::CURRENCY).await?;
    Ok(Redirect::to(&format!("/checkout/{order_id}")).into_response())
}

async fn checkout_page(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let order = app.db().order(&id).await?.ok_or_else(|| PageError::NotFound(format!("order {id:?}")))?;
    let merchant = app.merchant();
    let fields = merchant.payment_form(&order, &[]);
    let link = merchant.payment_link(&order, "guest");
    Ok(app.render(
        "checkout.html",
        context! { order => ser(&view(&order)), fields => ser(&fields), form_url => &merchant.payment_page_url, link },
    ))
}

async fn order_page(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let order = app.db().order(&id).await?.ok_or_else(|| PageError::NotFound(format!("order {id:?}")))?;
    let notifications = app.db().notifications_for(&id).await?;
    Ok(app.render("order.html", context! { order => ser(&view(&order)), notifications => ser(&notifications) }))
}

async fn notifications_page(State(app): State<AppState>) -> Result<Response, PageError> {
    let notifications = app.db().recent_notifications(100).await?;
    let deliveries = app.recent_deliveries();
    Ok(app.render(
        "notifications.html",
        context! { notifications => ser(&notifications), deliveries => ser(&deliveries) },
    ))
}

/// `GET /api/orders/{order_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrderJson {
    /// The order reference.
    pub order_id: String,
    /// Where it stands.
    pub status: String,
    /// The price in minor units.
    pub amount_minor: i64,
    /// ISO 4217 alphabetic code.
    pub currency: String,
    /// Why it needs attention, if it does.
    pub flag: Option<String>,
    /// Refunded so far, in minor units.
    pub refunded_minor: i64,
    /// The payment token stored, if any.
    pub token: Option<String>,
    /// Subscription installments paid.
    pub installments: i64,
    /// Every notification recorded for it, oldest first.
    pub notifications: Vec<NotificationRow>,
}

async fn order_json(State(app): State<AppState>, Path(id): Path<String>) -> Result<Json<OrderJson>, PageError> {
    let order = app.db().order(&id).await?.ok_or_else(|| PageError::NotFound(format!("order {id:?}")))?;
    let notifications = app.db().notifications_for(&id).await?;
    Ok(Json(OrderJson {
        order_id: order.order_id,
        status: order.status,
        amount_minor: order.amount_minor,
        currency: order.currency,
        flag: order.flag,
        refunded_minor: order.refunded_minor,
        token: order.token,
        installments: order.installments,
        notifications,
    }))
}

/// `POST /demo/fail-next` (demo only): the next order update fails once.
async fn fail_next(State(app): State<AppState>) -> Response {
    match app.fault() {
        Some(fault) => {
            fault.store(true, std::sync::atomic::Ordering::SeqCst);
            "Demo fault injector armed: the next order update fails once.\n".into_response()
        }
        None => (StatusCode::NOT_FOUND, "The fault injector exists only in the demo.\n").into_response(),
    }
}

/// The verifier of the notification routes: the configuration's keys and limits, and TEST-mode
/// notifications accepted when the shop runs in TEST (the demo), refused when it runs in
/// PRODUCTION whatever the configuration's `accept_test_mode` says: a production shop never takes
/// a TEST payment, signed with the less guarded TEST key, as paid.
fn verifier(config: Config, mode: Mode) -> Verifier {
    Verifier::from_config(config).accept_test_mode(mode == Mode::Test)
}

fn with_store(verifier: Verifier, store: Store) -> IpnLayer {
    let receiver = Receiver::new(verifier);
    IpnLayer::new(match store {
        Store::Sqlite(s) => receiver.store(s),
        Store::Postgres(s) => receiver.store(s),
    })
}

/// The whole application: pages, API, and the three notification routes wrapped by the IPN
/// layer (IPN key for `/ipn` and `/ipn/centralbill`, REST HMAC key for `/ipn/return`), each
/// claiming notifications in the notification store on the shop's database.
///
/// # Errors
///
/// The notification store's tables cannot be created.
pub async fn router(app: AppState, config: Config) -> Result<Router, StartError> {
    let ipn_store = app.db().notification_store("ipn_notifications").await?;
    let return_store = app.db().notification_store("ipn_browser_returns").await?;
    let mode = app.merchant().mode;
    let ipn_layer = with_store(verifier(config.clone(), mode), ipn_store);
    // Returns have their own claims: a REST return and its IPN carry the same payment, and each
    // must be answered in its own way.
    let return_layer = with_store(verifier(config, mode).endpoint(Endpoint::Return), return_store);
    let notifications = Router::new()
        .route("/ipn", post(notify::ipn).route_layer(ipn_layer.clone()))
        .route("/ipn/centralbill", post(notify::centralbill).route_layer(ipn_layer))
        .route("/ipn/return", post(notify::browser_return).route_layer(return_layer))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), notify::log_delivery));
    Ok(Router::new()
        .route("/", get(catalog))
        .route("/products/{id}", get(product_page))
        .route("/checkout", post(create_order))
        .route("/checkout/{order_id}", get(checkout_page))
        .route("/orders/{order_id}", get(order_page))
        .route("/notifications", get(notifications_page))
        .route("/api/orders/{order_id}", get(order_json))
        .route("/demo/fail-next", post(fail_next))
        .merge(notifications)
        .with_state(app))
}
