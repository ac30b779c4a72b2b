//! Starting the shop and its gateway simulators on loopback, on a fresh database, and speaking
//! HTTP to them.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use actix_shop::db::{Db, DbUrl, NotificationRow, Order};
use actix_shop::demo::Demo;
use actix_shop::{DEMO_CONFIG, Options};
use ipn_cli::Settings;
use ipn_core::Mode;

/// Every secret of the demo configuration: none may appear in a page, a reply or the output.
pub const SECRETS: [&str; 4] = [
    "1122334455667788",
    "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M",
    "38453613e7f44dc58732bad3dca2bca3",
    "app!secret",
];

fn fresh_name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("actix_shop_{tag}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// A fresh SQLite file in the temp directory.
pub fn sqlite_url(tag: &str) -> DbUrl {
    let path: PathBuf = std::env::temp_dir().join(format!("{}.sqlite", fresh_name(tag)));
    DbUrl::Sqlite(path)
}

/// A fresh schema on the test PostgreSQL server (`IPN_TEST_POSTGRES_URL`) and its name; `None` (with a
/// message) when unset outside CI; a failure under CI.
pub async fn postgres_url(tag: &str) -> Option<(DbUrl, String)> {
    let Ok(base) = std::env::var("IPN_TEST_POSTGRES_URL") else {
        assert!(std::env::var_os("CI").is_none(), "IPN_TEST_POSTGRES_URL must be set under CI (scripts/test.sh)");
        eprintln!("skipped: IPN_TEST_POSTGRES_URL is not set (scripts/test-services.sh starts PostgreSQL)");
        return None;
    };
    let schema = fresh_name(tag);
    let pool = sqlx::PgPool::connect(&base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&pool).await.unwrap();
    pool.close().await;
    let separator = if base.contains('?') { '&' } else { '?' };
    Some((format!("{base}{separator}options[search_path]={schema}").parse().unwrap(), schema))
}

/// Drops a schema made by [`postgres_url`].
pub async fn drop_schema(schema: &str) {
    let pool = sqlx::PgPool::connect(&std::env::var("IPN_TEST_POSTGRES_URL").unwrap()).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&pool).await.unwrap();
    pool.close().await;
}

pub fn options(db: DbUrl) -> Options {
    Options {
        settings: Settings::from_toml(DEMO_CONFIG).unwrap(),
        db,
        bind: "127.0.0.1:0".to_owned(),
        gateway: "http://127.0.0.1:9".to_owned(),
        centralbill: "http://127.0.0.1:9".to_owned(),
        public_url: None,
        mode: Mode::Test,
        fault_injector: false,
    }
}

/// The shop and its simulators on a fresh SQLite file.
pub async fn demo(tag: &str) -> Demo {
    actix_shop::demo::start(options(sqlite_url(tag))).await.unwrap()
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into()
}

/// GET: status, `Location`, body.
pub async fn get(url: String) -> (u16, Option<String>, String) {
    tokio::task::spawn_blocking(move || {
        let mut response = agent().get(&url).call().unwrap();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), location, response.body_mut().read_to_string().unwrap())
    })
    .await
    .unwrap()
}

/// POST a form: status, `Location`, body.
pub async fn post_form(url: String, fields: Vec<(String, String)>) -> (u16, Option<String>, String) {
    tokio::task::spawn_blocking(move || {
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let mut response = agent().post(&url).send_form(pairs).unwrap();
        let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), location, response.body_mut().read_to_string().unwrap())
    })
    .await
    .unwrap()
}

/// POST a raw request like the gateway: status and stored answer.
pub async fn post_raw(url: String, request: ipn_core::testkit::RawRequest) -> (u16, String) {
    let attempt = tokio::task::spawn_blocking(move || ipn_cli::send::post_once(&url, &request, 1)).await.unwrap();
    (attempt.status.unwrap(), attempt.stored)
}

/// Everything the shop stores: the orders, the notifications, and the number of claims in the
/// notification stores.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub orders: Vec<Order>,
    pub notifications: Vec<NotificationRow>,
    pub claims: i64,
}

pub async fn snapshot(db: &Db) -> Snapshot {
    let mut orders = db.recent_orders(1000).await.unwrap();
    orders.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    let notifications = db.recent_notifications(1000).await.unwrap();
    let count = "SELECT (SELECT COUNT(*) FROM ipn_notifications) + (SELECT COUNT(*) FROM ipn_browser_returns) AS n";
    let claims = match db {
        Db::Sqlite(pool) => sqlx::Row::get(&sqlx::query(count).fetch_one(pool).await.unwrap(), "n"),
        Db::Postgres(pool) => sqlx::Row::get(&sqlx::query(count).fetch_one(pool).await.unwrap(), "n"),
    };
    Snapshot { orders, notifications, claims }
}

/// The hidden `name`/`value` pairs of the checkout page's payment form, in order.
pub fn hidden_fields(page: &str) -> Vec<(String, String)> {
    let form = &page[page.find("id=\"payment-form\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    form.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|input| {
            let attr = |name: &str| {
                let start = input.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                unescape(&input[start..start + input[start..].find('"').unwrap()])
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

/// The `href` of an element with an id.
pub fn href(page: &str, id: &str) -> String {
    let element = &page[page.find(&format!("id=\"{id}\"")).unwrap()..];
    let start = element.find("href=\"").unwrap() + 6;
    unescape(&element[start..start + element[start..].find('"').unwrap()])
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
