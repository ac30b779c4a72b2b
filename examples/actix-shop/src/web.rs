//! The shop's pages (server-rendered with minijinja templates compiled into the binary), the
//! read-only JSON API, and the router that puts them together with the notification routes.

use std::collections::VecDeque;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::http::header::{ContentType, LOCATION};
use actix_web::web::{self, Data, Form, Json, Path, ServiceConfig};
use actix_web::{HttpResponse, ResponseError, middleware};
use ipn_actix::IpnMiddleware;
use ipn_core::{Config, Endpoint, Mode, Receiver, Verifier};
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

    fn render(&self, name: &str, ctx: minijinja::Value) -> HttpResponse {
        match self.inner.templates.get_template(name).and_then(|t| t.render(ctx)) {
            Ok(html) => HttpResponse::Ok().content_type(ContentType::html()).body(html),
            Err(e) => {
                tracing::error!(template = name, error = %e, "cannot render");
                text(StatusCode::INTERNAL_SERVER_ERROR, "The page cannot be rendered.")
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

/// A plain-text response.
fn text(status: StatusCode, body: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).content_type(ContentType::plaintext()).body(body.into())
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageError::NotFound(what) => write!(f, "{what} not found"),
            PageError::BadRequest(why) => f.write_str(why),
            // The database error stays in the log; the buyer gets the general message.
            PageError::Db(_) => f.write_str("The database is unavailable; try again."),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::NotFound(_) => StatusCode::NOT_FOUND,
            PageError::BadRequest(_) => StatusCode::BAD_REQUEST,
            PageError::Db(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::Db(e) = self {
            tracing::error!(error = %e, "database");
        }
        text(self.status_code(), self.to_string())
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

async fn catalog(app: Data<AppState>) -> Result<HttpResponse, PageError> {
    let orders = app.db().recent_orders(20).await?;
    let products: Vec<_> = CATALOG
        .iter()
        .map(|p| context! { id => p.id, name => p.name, price => format_minor(p.price_minor, crate::orders::CURRENCY) })
        .collect();
    let orders: Vec<_> = orders.iter().map(view).collect();
    Ok(app.render("catalog.html", context! { products, orders => ser(&orders) }))
}

async fn product_page(app: Data<AppState>, id: Path<String>) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
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

async fn create_order(app: Data<AppState>, form: Form<CheckoutForm>) -> Result<HttpResponse, PageError> {
    let p = product(&form.product).ok_or_else(|| PageError::BadRequest(format!("no product {:?}", form.product)))?;
    let order_id = new_order_id()?;
    app.db().create_order(&order_id, p.name, p.price_minor, crate::orders::CURRENCY).await?;
    Ok(HttpResponse::SeeOther().insert_header((LOCATION, format!("/checkout/{order_id}"))).finish())
}

async fn checkout_page(app: Data<AppState>, id: Path<String>) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let order = app.db().order(&id).await?.ok_or_else(|| PageError::NotFound(format!("order {id:?}")))?;
    let merchant = app.merchant();
    let fields = merchant.payment_form(&order, &[]);
    let link = merchant.payment_link(&order, "guest");
    Ok(app.render(
        "checkout.html",
        context! { order => ser(&view(&order)), fields => ser(&fields), form_url => &merchant.payment_page_url, link },
    ))
}

async fn order_page(app: Data<AppState>, id: Path<String>) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let order = app.db().order(&id).await?.ok_or_else(|| PageError::NotFound(format!("order {id:?}")))?;
    let notifications = app.db().notifications_for(&id).await?;
    Ok(app.render("order.html", context! { order => ser(&view(&order)), notifications => ser(&notifications) }))
}

async fn notifications_page(app: Data<AppState>) -> Result<HttpResponse, PageError> {
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

async fn order_json(app: Data<AppState>, id: Path<String>) -> Result<Json<OrderJson>, PageError> {
    let id = id.into_inner();
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
async fn fail_next(app: Data<AppState>) -> HttpResponse {
    match app.fault() {
        Some(fault) => {
            fault.store(true, std::sync::atomic::Ordering::SeqCst);
            text(StatusCode::OK, "Demo fault injector armed: the next order update fails once.\n")
        }
        None => text(StatusCode::NOT_FOUND, "The fault injector exists only in the demo.\n"),
    }
}

/// The verifier of the notification routes: the configuration's keys and limits, and TEST-mode
/// notifications accepted when the shop runs in TEST (the demo), refused when it runs in
/// PRODUCTION whatever the configuration's `accept_test_mode` says: a production shop never takes
/// a TEST payment, signed with the less guarded TEST key, as paid.
fn verifier(config: Config, mode: Mode) -> Verifier {
    Verifier::from_config(config).accept_test_mode(mode == Mode::Test)
}

fn with_store(verifier: Verifier, store: Store) -> IpnMiddleware {
    let receiver = Receiver::new(verifier);
    IpnMiddleware::new(match store {
        Store::Sqlite(s) => receiver.store(s),
        Store::Postgres(s) => receiver.store(s),
    })
}

/// The whole application, to pass to `App::configure` in the `HttpServer` factory (it is cloned
/// for each worker): pages, API, and the three notification routes wrapped by the IPN middleware
/// (IPN key for `/ipn` and `/ipn/centralbill`, REST HMAC key for `/ipn/return`), each claiming
/// notifications in the notification store on the shop's database.
///
/// # Errors
///
/// The notification store's tables cannot be created.
pub async fn routes(
    app: AppState,
    config: Config,
) -> Result<impl Fn(&mut ServiceConfig) + Clone + Send + 'static, StartError> {
    let ipn_store = app.db().notification_store("ipn_notifications").await?;
    let return_store = app.db().notification_store("ipn_browser_returns").await?;
    let mode = app.merchant().mode;
    let ipn_middleware = with_store(verifier(config.clone(), mode), ipn_store);
    // Returns have their own claims: a REST return and its IPN carry the same payment, and each
    // must be answered in its own way.
    let return_middleware = with_store(verifier(config, mode).endpoint(Endpoint::Return), return_store);
    Ok(move |cfg: &mut ServiceConfig| {
        let notifications = web::scope("/ipn")
            .wrap(middleware::from_fn(notify::log_delivery))
            .service(web::resource("").wrap(ipn_middleware.clone()).route(web::post().to(notify::ipn)))
            .service(
                web::resource("/centralbill").wrap(ipn_middleware.clone()).route(web::post().to(notify::centralbill)),
            )
            .service(
                web::resource("/return").wrap(return_middleware.clone()).route(web::post().to(notify::browser_return)),
            );
        cfg.app_data(Data::new(app.clone()))
            .route("/", web::get().to(catalog))
            .route("/products/{id}", web::get().to(product_page))
            .route("/checkout", web::post().to(create_order))
            .route("/checkout/{order_id}", web::get().to(checkout_page))
            .route("/orders/{order_id}", web::get().to(order_page))
            .route("/notifications", web::get().to(notifications_page))
            .route("/api/orders/{order_id}", web::get().to(order_json))
            .route("/demo/fail-next", web::post().to(fail_next))
            .service(notifications);
    })
}
