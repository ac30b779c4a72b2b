//! The shop's database: orders and the history of the notifications received for them, in
//! SQLite (one file, nothing to install) or PostgreSQL, with the schema created at start-up.
//!
//! The same SQL runs on both (`$1` placeholders, `RETURNING`, `ON CONFLICT`); only the
//! migrations differ where the dialects do (auto-increment keys). The notification store of
//! ipn-core shares the pool.

use std::path::PathBuf;
use std::str::FromStr;

use ipn_core::store::{PostgresStore, SqliteStore};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPool;
use sqlx::sqlite::SqlitePool;
use sqlx::{AssertSqlSafe, Row};

use crate::web::now;

/// Where the database is, parsed from `--db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL URL. Its `Debug` and the errors never show it: it may hold a password.
    Postgres(PostgresUrl),
}

/// A PostgreSQL connection URL, kept out of logs and messages.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresUrl(..)")
    }
}

impl FromStr for DbUrl {
    type Err = String;

    /// `postgres://...` or `postgresql://...`; `sqlite:PATH`, `sqlite://PATH` or a plain path.
    fn from_str(text: &str) -> Result<Self, String> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(PostgresUrl(text.to_owned())));
        }
        let path = text.strip_prefix("sqlite://").or_else(|| text.strip_prefix("sqlite:")).unwrap_or(text);
        if path.is_empty() {
            return Err("the database path is empty".to_owned());
        }
        if path.contains("://") {
            return Err("unsupported database URL: give a SQLite file path, sqlite:PATH or postgres://...".to_owned());
        }
        Ok(DbUrl::Sqlite(PathBuf::from(path)))
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(path) => write!(f, "SQLite file {}", path.display()),
            DbUrl::Postgres(_) => f.write_str("PostgreSQL"),
        }
    }
}

/// A database failure, without the URL.
#[derive(Debug, thiserror::Error)]
#[error("database ({operation}): {source}")]
pub struct DbError {
    operation: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

fn db(operation: &'static str) -> impl FnOnce(sqlx::Error) -> DbError {
    move |source| DbError { operation, source: source.into() }
}

/// The connection pool, SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub enum Db {
    /// An embedded SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL server.
    Postgres(PgPool),
}

/// Runs the same code on either pool: `$pool` is the concrete pool in `$body`.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            Db::Sqlite($pool) => $body,
            Db::Postgres($pool) => $body,
        }
    };
}

macro_rules! insert_notification {
    ($executor:expr, $new:expr) => {{
        let new: NewNotification = $new;
        let sql = format!(
            "INSERT INTO notifications (order_id, received_at, route, scheme, source, nature, status, transaction_id,
                 amount, effect, reply_status, reply)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             RETURNING {NOTIFICATION_COLUMNS}"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(new.order_id)
            .bind(now())
            .bind(new.route)
            .bind(new.scheme)
            .bind(new.source)
            .bind(new.nature)
            .bind(new.status)
            .bind(new.transaction_id)
            .bind(new.amount)
            .bind(new.effect)
            .bind(i64::from(new.reply_status))
            .bind(new.reply)
            .fetch_one($executor)
            .await
            .and_then(|row| -> Result<NotificationRow, sqlx::Error> { Ok(notification_from_row!(row)) })
            .map_err(db("record notification"))
    }};
}

/// The schema version the migrations below bring a database to.
pub const SCHEMA_VERSION: i64 = 1;

/// Version 1; `{id}` is the dialect's auto-increment key.
const V1: &str = "
CREATE TABLE IF NOT EXISTS orders (
    order_id TEXT PRIMARY KEY,
    product TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    flag TEXT,
    token TEXT,
    installments BIGINT NOT NULL DEFAULT 0,
    refunded_minor BIGINT NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notifications (
    id {id},
    order_id TEXT,
    received_at TEXT NOT NULL,
    route TEXT NOT NULL,
    scheme TEXT NOT NULL,
    source TEXT NOT NULL,
    nature TEXT NOT NULL,
    status TEXT,
    transaction_id TEXT,
    amount TEXT,
    effect TEXT NOT NULL,
    reply_status BIGINT NOT NULL,
    reply TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_order ON notifications (order_id, id);
";

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// The shop's reference, sent to the gateway as `vads_order_id` / `orderId` / invoice id.
    pub order_id: String,
    /// The product bought.
    pub product: String,
    /// The price in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 alphabetic code.
    pub currency: String,
    /// `pending`, `awaiting_validation`, `paid`, `refused`, `cancelled`, `refunded`,
    /// `partially_refunded`.
    pub status: String,
    /// Why the order needs a person's attention (an amount that differs...).
    pub flag: Option<String>,
    /// The payment token the gateway registered.
    pub token: Option<String>,
    /// Subscription installments paid.
    pub installments: i64,
    /// Refunded so far, in minor units.
    pub refunded_minor: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// One notification the handler processed (or failed to), with the reply it sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRow {
    /// Insertion order.
    pub id: i64,
    /// The order it names (it may name no known order).
    pub order_id: Option<String>,
    /// RFC 3339, UTC.
    pub received_at: String,
    /// `/ipn`, `/ipn/return`, `/ipn/centralbill`.
    pub route: String,
    /// `form`, `rest`, `link`.
    pub scheme: String,
    /// `vads_url_check_src` / `kr-src` as received (`PAY`, `RETRY`, `MERCH_BO`...), `-` when absent.
    pub source: String,
    /// Why it was sent (`payment`, `back-office refund`, `retry`...).
    pub nature: String,
    /// The gateway's status (`AUTHORISED`, `REFUSED`, `COMPLETED`...).
    pub status: Option<String>,
    /// The gateway's transaction reference.
    pub transaction_id: Option<String>,
    /// The amount as received (`45.25 EUR`).
    pub amount: Option<String>,
    /// What the shop did with it.
    pub effect: String,
    /// The HTTP status answered.
    pub reply_status: i64,
    /// The body answered (what the gateway stores).
    pub reply: String,
}

/// The changes a notification makes to an order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OrderUpdate {
    /// The new status, if it changes.
    pub status: Option<String>,
    /// A flag to set.
    pub flag: Option<String>,
    /// A token to store.
    pub token: Option<String>,
    /// Installments to add.
    pub installments: i64,
    /// Minor units refunded to add.
    pub refunded_minor: i64,
}

const ORDER_COLUMNS: &str = "order_id, product, amount_minor, currency, status, flag, token, installments, \
                             refunded_minor, created_at, updated_at";
const NOTIFICATION_COLUMNS: &str = "id, order_id, received_at, route, scheme, source, nature, status, transaction_id, amount, effect, reply_status, reply";

macro_rules! order_from_row {
    ($row:expr) => {{
        let row = $row;
        Order {
            order_id: row.try_get("order_id")?,
            product: row.try_get("product")?,
            amount_minor: row.try_get("amount_minor")?,
            currency: row.try_get("currency")?,
            status: row.try_get("status")?,
            flag: row.try_get("flag")?,
            token: row.try_get("token")?,
            installments: row.try_get("installments")?,
            refunded_minor: row.try_get("refunded_minor")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        }
    }};
}

macro_rules! notification_from_row {
    ($row:expr) => {{
        let row = $row;
        NotificationRow {
            id: row.try_get("id")?,
            order_id: row.try_get("order_id")?,
            received_at: row.try_get("received_at")?,
            route: row.try_get("route")?,
            scheme: row.try_get("scheme")?,
            source: row.try_get("source")?,
            nature: row.try_get("nature")?,
            status: row.try_get("status")?,
            transaction_id: row.try_get("transaction_id")?,
            amount: row.try_get("amount")?,
            effect: row.try_get("effect")?,
            reply_status: row.try_get("reply_status")?,
            reply: row.try_get("reply")?,
        }
    }};
}

impl Db {
    /// Connects (creating a SQLite file if missing) and runs the migrations.
    ///
    /// # Errors
    ///
    /// The database cannot be opened or reached, or the migrations fail. The message never holds
    /// the URL.
    pub async fn connect(url: &DbUrl) -> Result<Self, DbError> {
        // The notification store's constructors open the pool with the settings it needs (WAL,
        // busy timeout, bounded waits); the shop's tables share it.
        let opened = |source: ipn_core::StoreError| DbError { operation: "open", source: source.into() };
        let db = match url {
            DbUrl::Sqlite(path) => Db::Sqlite(SqliteStore::open(path).await.map_err(opened)?.pool().clone()),
            DbUrl::Postgres(PostgresUrl(url)) => {
                Db::Postgres(PostgresStore::connect(url).await.map_err(opened)?.pool().clone())
            }
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Brings the schema to [`SCHEMA_VERSION`]: a `shop_schema` table holds the version; each
    /// step runs once, in a transaction.
    ///
    /// # Errors
    ///
    /// The statements fail.
    pub async fn migrate(&self) -> Result<(), DbError> {
        let id = match self {
            Db::Sqlite(_) => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Db::Postgres(_) => "BIGSERIAL PRIMARY KEY",
        };
        let v1 = V1.replace("{id}", id);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db("migrate"))?;
            if let Db::Postgres(_) = self {
                // Instances starting together on one server take turns.
                sqlx::query("SELECT pg_advisory_xact_lock(7412093)").execute(&mut *tx).await.map_err(db("migrate"))?;
            }
            sqlx::raw_sql("CREATE TABLE IF NOT EXISTS shop_schema (version BIGINT NOT NULL)")
                .execute(&mut *tx)
                .await
                .map_err(db("migrate"))?;
            let version: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM shop_schema")
                .fetch_one(&mut *tx)
                .await
                .and_then(|row| row.try_get("v"))
                .map_err(db("migrate"))?;
            if version.unwrap_or(0) < 1 {
                sqlx::raw_sql(AssertSqlSafe(v1.clone())).execute(&mut *tx).await.map_err(db("migrate"))?;
                sqlx::query("INSERT INTO shop_schema (version) VALUES ($1)")
                    .bind(1_i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(db("migrate"))?;
            }
            tx.commit().await.map_err(db("migrate"))?;
        });
        Ok(())
    }

    /// The schema version recorded in the database.
    ///
    /// # Errors
    ///
    /// The query fails.
    pub async fn schema_version(&self) -> Result<i64, DbError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT MAX(version) AS v FROM shop_schema")
                .fetch_one(pool)
                .await
                .and_then(|row| row.try_get::<Option<i64>, _>("v"))
                .map(Option::unwrap_or_default)
                .map_err(db("schema version"))
        })
    }

    /// Inserts a new pending order.
    ///
    /// # Errors
    ///
    /// The insert fails (a duplicate id among them).
    pub async fn create_order(
        &self,
        order_id: &str,
        product: &str,
        amount_minor: i64,
        currency: &str,
    ) -> Result<Order, DbError> {
        let at = now();
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO orders (order_id, product, amount_minor, currency, status, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, 'pending', $5, $5)",
            )
            .bind(order_id)
            .bind(product)
            .bind(amount_minor)
            .bind(currency)
            .bind(&at)
            .execute(pool)
            .await
            .map_err(db("create order"))?;
        });
        Ok(Order {
            order_id: order_id.to_owned(),
            product: product.to_owned(),
            amount_minor,
            currency: currency.to_owned(),
            status: "pending".to_owned(),
            flag: None,
            token: None,
            installments: 0,
            refunded_minor: 0,
            created_at: at.clone(),
            updated_at: at,
        })
    }

    /// One order.
    ///
    /// # Errors
    ///
    /// The query fails.
    pub async fn order(&self, order_id: &str) -> Result<Option<Order>, DbError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = $1");
        on_pool!(self, pool => {
            let row = sqlx::query(AssertSqlSafe(sql)).bind(order_id).fetch_optional(pool).await.map_err(db("read order"))?;
            row.map(|row| -> Result<Order, sqlx::Error> { Ok(order_from_row!(row)) }).transpose().map_err(db("read order"))
        })
    }

    /// The most recent orders, newest first.
    ///
    /// # Errors
    ///
    /// The query fails.
    pub async fn recent_orders(&self, limit: i64) -> Result<Vec<Order>, DbError> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM orders ORDER BY created_at DESC, order_id DESC LIMIT $1");
        on_pool!(self, pool => {
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await.map_err(db("list orders"))?;
            rows.into_iter()
                .map(|row| -> Result<Order, sqlx::Error> { Ok(order_from_row!(row)) })
                .collect::<Result<_, _>>()
                .map_err(db("list orders"))
        })
    }

    /// The notifications recorded for an order, oldest first.
    ///
    /// # Errors
    ///
    /// The query fails.
    pub async fn notifications_for(&self, order_id: &str) -> Result<Vec<NotificationRow>, DbError> {
        let sql = format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications WHERE order_id = $1 ORDER BY id");
        on_pool!(self, pool => {
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(order_id).fetch_all(pool).await.map_err(db("list notifications"))?;
            rows.into_iter()
                .map(|row| -> Result<NotificationRow, sqlx::Error> { Ok(notification_from_row!(row)) })
                .collect::<Result<_, _>>()
                .map_err(db("list notifications"))
        })
    }

    /// The most recent notifications, newest first.
    ///
    /// # Errors
    ///
    /// The query fails.
    pub async fn recent_notifications(&self, limit: i64) -> Result<Vec<NotificationRow>, DbError> {
        let sql = format!("SELECT {NOTIFICATION_COLUMNS} FROM notifications ORDER BY id DESC LIMIT $1");
        on_pool!(self, pool => {
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(limit).fetch_all(pool).await.map_err(db("list notifications"))?;
            rows.into_iter()
                .map(|row| -> Result<NotificationRow, sqlx::Error> { Ok(notification_from_row!(row)) })
                .collect::<Result<_, _>>()
                .map_err(db("list notifications"))
        })
    }

    /// How many notifications are recorded in all.
    ///
    /// # Errors
    ///
    /// The query fails.
    pub async fn notification_count(&self) -> Result<i64, DbError> {
        on_pool!(self, pool => {
            sqlx::query("SELECT COUNT(*) AS n FROM notifications")
                .fetch_one(pool)
                .await
                .and_then(|row| row.try_get("n"))
                .map_err(db("count notifications"))
        })
    }

    /// Records a notification and applies its update to the order, in one transaction: the
    /// history never shows an update that did not happen, nor the reverse. `decide` sees the
    /// order as it is inside the transaction (locked on PostgreSQL).
    ///
    /// # Errors
    ///
    /// A statement fails; nothing is written then.
    pub async fn apply<F>(&self, order_id: Option<&str>, decide: F) -> Result<NotificationRow, DbError>
    where
        F: FnOnce(Option<&Order>) -> (OrderUpdate, NewNotification),
    {
        let lock = match self {
            Db::Sqlite(_) => "",
            Db::Postgres(_) => " FOR UPDATE",
        };
        let select = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = $1{lock}");
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db("begin"))?;
            let order = match order_id {
                Some(id) => {
                    let row = sqlx::query(AssertSqlSafe(select))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(db("read order"))?;
                    row.map(|row| -> Result<Order, sqlx::Error> { Ok(order_from_row!(row)) })
                        .transpose()
                        .map_err(db("read order"))?
                }
                None => None,
            };
            let (update, new) = decide(order.as_ref());
            if let Some(order) = &order {
                sqlx::query(
                    "UPDATE orders SET status = COALESCE($2, status), flag = COALESCE($3, flag),
                         token = COALESCE($4, token), installments = installments + $5,
                         refunded_minor = refunded_minor + $6, updated_at = $7
                     WHERE order_id = $1",
                )
                .bind(&order.order_id)
                .bind(update.status)
                .bind(update.flag)
                .bind(update.token)
                .bind(update.installments)
                .bind(update.refunded_minor)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(db("update order"))?;
            }
            let row = insert_notification!(&mut *tx, new)?;
            tx.commit().await.map_err(db("commit"))?;
            Ok(row)
        })
    }

    /// Records a notification without touching its order (a failed update).
    ///
    /// # Errors
    ///
    /// The insert fails.
    pub async fn record(&self, new: NewNotification) -> Result<NotificationRow, DbError> {
        on_pool!(self, pool => insert_notification!(pool, new))
    }

    /// The notification store of ipn-core on this pool (table `ipn_notifications`), or on
    /// another table of it.
    ///
    /// # Errors
    ///
    /// The table name is not a plain identifier, or the store's table cannot be created.
    pub async fn notification_store(&self, table: &str) -> Result<Store, ipn_core::StoreError> {
        match self {
            Db::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone()).table(table)?;
                store.migrate().await?;
                Ok(Store::Sqlite(store))
            }
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone()).table(table)?;
                store.migrate().await?;
                Ok(Store::Postgres(store))
            }
        }
    }
}

/// The notification store on the shop's database.
#[derive(Debug)]
pub enum Store {
    /// On the SQLite file.
    Sqlite(SqliteStore),
    /// On the PostgreSQL server.
    Postgres(PostgresStore),
}

/// A notification to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// The order it names.
    pub order_id: Option<String>,
    /// The route it arrived on.
    pub route: String,
    /// `form`, `rest`, `link`.
    pub scheme: String,
    /// The raw source (`PAY`, `RETRY`...), `-` when absent.
    pub source: String,
    /// Why it was sent.
    pub nature: String,
    /// The gateway's status.
    pub status: Option<String>,
    /// The gateway's transaction reference.
    pub transaction_id: Option<String>,
    /// The amount as received.
    pub amount: Option<String>,
    /// What the shop did.
    pub effect: String,
    /// The HTTP status answered.
    pub reply_status: u16,
    /// The body answered.
    pub reply: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls() {
        assert_eq!("shop.sqlite".parse(), Ok(DbUrl::Sqlite("shop.sqlite".into())));
        assert_eq!("sqlite:/tmp/a.db".parse(), Ok(DbUrl::Sqlite("/tmp/a.db".into())));
        assert_eq!("sqlite:///tmp/a.db".parse(), Ok(DbUrl::Sqlite("/tmp/a.db".into())));
        let pg: DbUrl = "postgres://u:secret@h/db".parse().unwrap();
        assert!(matches!(pg, DbUrl::Postgres(_)));
        assert!(!format!("{pg:?} {pg}").contains("secret"));
        assert!("mysql://h/db".parse::<DbUrl>().is_err());
        assert!("sqlite:".parse::<DbUrl>().is_err());
    }

    #[tokio::test]
    async fn migrations_run_once_and_record_the_version() {
        let path = std::env::temp_dir().join(format!("actix-shop-migrate-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let url = DbUrl::Sqlite(path.clone());
        let db = Db::connect(&url).await.unwrap();
        db.create_order("A1", "cup", 1250, "EUR").await.unwrap();
        db.migrate().await.unwrap();
        drop(db);
        let db = Db::connect(&url).await.unwrap();
        assert_eq!(db.schema_version().await.unwrap(), SCHEMA_VERSION);
        assert_eq!(db.order("A1").await.unwrap().map(|o| o.amount_minor), Some(1250));
        let _ = std::fs::remove_file(&path);
    }
}
