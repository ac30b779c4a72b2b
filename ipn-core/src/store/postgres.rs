//! [`PostgresStore`]: claims and replies in a PostgreSQL table, shared by several instances.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};

use crate::fingerprint::Fingerprint;
use crate::reply::Reply;
use crate::store::shared::{PurgeSchedule, check_table_name, millis, recorded_reply};
use crate::store::{Claim, ClaimToken, DEFAULT_RETENTION, NotificationStore, StoreError};

const BACKEND: &str = "postgres";
const DEFAULT_TABLE: &str = "ipn_notifications";
/// Serializes concurrent migrations of several instances starting at once
/// (`CREATE TABLE IF NOT EXISTS` alone can race on the catalog).
const MIGRATION_LOCK: i64 = 0x6970_6e5f_7374_6f72; // "ipn_stor"

/// A notification store in a PostgreSQL table: exactly-once across every instance using the
/// database (feature `postgres`, needs a tokio runtime).
///
/// A claim is one statement, `INSERT ... ON CONFLICT (fingerprint) DO UPDATE ... WHERE ...
/// RETURNING`: PostgreSQL inserts the row or locks the existing one and re-checks the condition
/// (claim expired, or record older than the retention) on its latest version, so exactly one
/// concurrent claimant gets a row back; the others read the row. Times come from the database
/// server's clock, so instances with skewed clocks agree on leases.
///
/// The table, created by [`migrate`](Self::migrate):
///
/// ```sql
/// CREATE TABLE IF NOT EXISTS ipn_notifications (
///     fingerprint BYTEA PRIMARY KEY,                    -- 32 bytes
///     state       TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
///     token       BYTEA,                                -- 16 bytes while claimed
///     lease_until TIMESTAMPTZ NOT NULL,
///     status      INTEGER,                              -- the recorded reply, once done
///     body        TEXT,
///     updated_at  TIMESTAMPTZ NOT NULL                  -- claimed or completed at
/// );
/// CREATE INDEX IF NOT EXISTS ipn_notifications_updated_at ON ipn_notifications (updated_at);
/// ```
///
/// Completed records older than the retention (7 days by default) are forgotten and deleted,
/// lazily during claims at most once a minute per instance.
///
/// The connection URL is not kept; `Debug` shows the host, port and database only. sqlx is built
/// without TLS: enable one of sqlx's `tls-*` features in your own `Cargo.toml` to connect over
/// TLS.
///
/// ```no_run
/// # async fn example() -> Result<(), ipn_core::StoreError> {
/// use ipn_core::store::PostgresStore;
/// let url = std::env::var("DATABASE_URL").unwrap_or_default();
/// let store = PostgresStore::connect(&url).await?;
/// # Ok(()) }
/// ```
pub struct PostgresStore {
    pool: PgPool,
    table: String,
    sql: Statements,
    retention: Duration,
    schedule: PurgeSchedule,
}

#[derive(Debug, Clone)]
struct Statements {
    create: Arc<str>,
    claim: Arc<str>,
    read: Arc<str>,
    complete: Arc<str>,
    release: Arc<str>,
    purge: Arc<str>,
}

impl Statements {
    fn for_table(t: &str) -> Self {
        Self {
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (
                    fingerprint BYTEA PRIMARY KEY,
                    state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
                    token BYTEA,
                    lease_until TIMESTAMPTZ NOT NULL,
                    status INTEGER,
                    body TEXT,
                    updated_at TIMESTAMPTZ NOT NULL
                );
                CREATE INDEX IF NOT EXISTS {t}_updated_at ON {t} (updated_at);"
            )
            .into(),
            // $1 fingerprint, $2 token, $3 lease, $4 retention (ms).
            claim: format!(
                "INSERT INTO {t} AS r (fingerprint, state, token, lease_until, updated_at)
                 VALUES ($1, 'claimed', $2, clock_timestamp() + $3::float8 * interval '1 millisecond', clock_timestamp())
                 ON CONFLICT (fingerprint) DO UPDATE SET
                     state = 'claimed', token = EXCLUDED.token, lease_until = EXCLUDED.lease_until,
                     status = NULL, body = NULL, updated_at = EXCLUDED.updated_at
                 WHERE (r.state = 'claimed' AND r.lease_until <= EXCLUDED.updated_at)
                    OR (r.state = 'done' AND r.updated_at < EXCLUDED.updated_at - $4::float8 * interval '1 millisecond')
                 RETURNING r.token"
            )
            .into(),
            read: format!("SELECT state, status, body FROM {t} WHERE fingerprint = $1").into(),
            complete: format!(
                "UPDATE {t} SET state = 'done', token = NULL, status = $3, body = $4,
                     updated_at = clock_timestamp(), lease_until = clock_timestamp()
                 WHERE fingerprint = $1 AND state = 'claimed' AND token = $2"
            )
            .into(),
            release: format!("DELETE FROM {t} WHERE fingerprint = $1 AND state = 'claimed' AND token = $2").into(),
            purge: format!(
                "DELETE FROM {t} WHERE updated_at < clock_timestamp() - $1::float8 * interval '1 millisecond'
                     AND (state = 'done' OR lease_until < clock_timestamp() - $1::float8 * interval '1 millisecond')"
            )
            .into(),
        }
    }
}

fn backend(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| StoreError::backend(BACKEND, operation, error)
}

impl PostgresStore {
    /// Connects a pool (at most 10 connections, 5 s to get one) and creates the table
    /// `ipn_notifications` if it does not exist.
    ///
    /// # Errors
    ///
    /// When the URL is invalid, the server cannot be reached, or the table cannot be created.
    /// The message never contains the URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(backend("connect"))?;
        let store = Self::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store on an existing pool (for example the application's own), table
    /// `ipn_notifications`. Call [`migrate`](Self::migrate) once before use.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            table: DEFAULT_TABLE.to_owned(),
            sql: Statements::for_table(DEFAULT_TABLE),
            retention: DEFAULT_RETENTION,
            schedule: PurgeSchedule::default(),
        }
    }

    /// Uses another table (a plain identifier: letters, digits, `_`; it may not be
    /// schema-qualified: set the connection's `search_path` instead).
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for a name that is not a plain identifier.
    pub fn table(mut self, name: &str) -> Result<Self, StoreError> {
        check_table_name(name)?;
        self.table = name.to_owned();
        self.sql = Statements::for_table(name);
        Ok(self)
    }

    /// How long completed records are kept ([`DEFAULT_RETENTION`]).
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Creates the table and its index if they do not exist (the SQL is in the
    /// [type documentation](Self)), under a transaction-scoped advisory lock so that instances
    /// starting together do not race.
    ///
    /// # Errors
    ///
    /// When the database cannot be reached or the statements fail.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend("migrate"))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(backend("migrate"))?;
        sqlx::raw_sql(AssertSqlSafe(self.sql.create.clone())).execute(&mut *tx).await.map_err(backend("migrate"))?;
        tx.commit().await.map_err(backend("migrate"))?;
        Ok(())
    }

    /// The pool, e.g. to close it on shutdown.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn try_claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Option<Claim>, StoreError> {
        let token = ClaimToken::generate()?;
        let won = sqlx::query(AssertSqlSafe(self.sql.claim.clone()))
            .bind(fingerprint.as_bytes().as_slice())
            .bind(token.as_bytes().as_slice())
            .bind(millis(lease))
            .bind(millis(self.retention))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("claim"))?;
        if won.is_some() {
            return Ok(Some(Claim::Acquired(token)));
        }
        let row = sqlx::query(AssertSqlSafe(self.sql.read.clone()))
            .bind(fingerprint.as_bytes().as_slice())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend("claim"))?;
        let Some(row) = row else { return Ok(None) };
        let state: String = row.try_get("state").map_err(backend("claim"))?;
        match state.as_str() {
            "claimed" => Ok(Some(Claim::InProgress)),
            "done" => {
                let status: Option<i32> = row.try_get("status").map_err(backend("claim"))?;
                let body: Option<String> = row.try_get("body").map_err(backend("claim"))?;
                Ok(Some(Claim::Done(recorded_reply(fingerprint, status.map(i64::from), body)?)))
            }
            _ => Err(StoreError::Corrupt { fingerprint, reason: format!("unknown state {state:?}") }),
        }
    }
}

#[async_trait]
impl NotificationStore for PostgresStore {
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError> {
        if self.schedule.due()
            && let Err(error) = self.purge(self.retention).await
        {
            tracing::warn!(error = %error, "lazy purge of the notification store failed");
        }
        // The row can vanish between the upsert and the read (released meanwhile): try again.
        for _ in 0..3 {
            if let Some(claim) = self.try_claim(fingerprint, lease).await? {
                return Ok(claim);
            }
        }
        Ok(Claim::InProgress)
    }

    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError> {
        let done = sqlx::query(AssertSqlSafe(self.sql.complete.clone()))
            .bind(fingerprint.as_bytes().as_slice())
            .bind(token.as_bytes().as_slice())
            .bind(i32::from(reply.status()))
            .bind(reply.body())
            .execute(&self.pool)
            .await
            .map_err(backend("complete"))?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::ClaimLost { fingerprint }) }
    }

    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError> {
        let done = sqlx::query(AssertSqlSafe(self.sql.release.clone()))
            .bind(fingerprint.as_bytes().as_slice())
            .bind(token.as_bytes().as_slice())
            .execute(&self.pool)
            .await
            .map_err(backend("release"))?;
        if done.rows_affected() == 1 { Ok(()) } else { Err(StoreError::ClaimLost { fingerprint }) }
    }

    async fn purge(&self, retention: Duration) -> Result<u64, StoreError> {
        let done = sqlx::query(AssertSqlSafe(self.sql.purge.clone()))
            .bind(millis(retention))
            .execute(&self.pool)
            .await
            .map_err(backend("purge"))?;
        Ok(done.rows_affected())
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let options = self.pool.connect_options();
        f.debug_struct("PostgresStore")
            .field("host", &options.get_host())
            .field("port", &options.get_port())
            .field("database", &options.get_database())
            .field("table", &self.table)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}
