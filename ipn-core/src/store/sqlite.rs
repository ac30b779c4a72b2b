//! [`SqliteStore`]: claims and replies in an SQLite table (WAL mode), for one machine.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row};

use crate::fingerprint::Fingerprint;
use crate::reply::Reply;
use crate::store::shared::{PurgeSchedule, check_table_name, millis, recorded_reply};
use crate::store::{Claim, ClaimToken, DEFAULT_RETENTION, NotificationStore, StoreError};

const BACKEND: &str = "sqlite";
const DEFAULT_TABLE: &str = "ipn_notifications";

/// A notification store in an SQLite database file: exactly-once across the processes of one
/// machine, surviving restarts (feature `sqlite`, needs a tokio runtime).
///
/// [`open`](Self::open) turns on WAL mode (readers do not block the writer) and waits up to 5 s
/// for a lock. A claim is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING`
/// statement: SQLite runs writes one at a time, so exactly one claimant inserts or takes over the
/// row; the others read it back.
///
/// The table, created by [`migrate`](Self::migrate) (times are Unix milliseconds of the
/// application's clock):
///
/// ```sql
/// CREATE TABLE IF NOT EXISTS ipn_notifications (
///     fingerprint BLOB NOT NULL PRIMARY KEY,            -- 32 bytes
///     state       TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
///     token       BLOB,                                 -- 16 bytes while claimed
///     lease_until INTEGER NOT NULL,
///     status      INTEGER,                              -- the recorded reply, once done
///     body        TEXT,
///     updated_at  INTEGER NOT NULL                      -- claimed or completed at
/// );
/// CREATE INDEX IF NOT EXISTS ipn_notifications_updated_at ON ipn_notifications (updated_at);
/// ```
///
/// Completed records older than the retention (7 days by default) are forgotten and deleted,
/// lazily during claims at most once a minute.
///
/// ```no_run
/// # async fn example() -> Result<(), ipn_core::StoreError> {
/// use ipn_core::store::SqliteStore;
/// let store = SqliteStore::open("/var/lib/shop/ipn.sqlite").await?;
/// # Ok(()) }
/// ```
pub struct SqliteStore {
    pool: SqlitePool,
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
                    fingerprint BLOB NOT NULL PRIMARY KEY,
                    state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
                    token BLOB,
                    lease_until INTEGER NOT NULL,
                    status INTEGER,
                    body TEXT,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX IF NOT EXISTS {t}_updated_at ON {t} (updated_at);"
            )
            .into(),
            // ?1 fingerprint, ?2 token, ?3 now, ?4 lease, ?5 retention (ms).
            claim: format!(
                "INSERT INTO {t} (fingerprint, state, token, lease_until, status, body, updated_at)
                 VALUES (?1, 'claimed', ?2, ?3 + ?4, NULL, NULL, ?3)
                 ON CONFLICT (fingerprint) DO UPDATE SET
                     state = 'claimed', token = excluded.token, lease_until = excluded.lease_until,
                     status = NULL, body = NULL, updated_at = excluded.updated_at
                 WHERE ({t}.state = 'claimed' AND {t}.lease_until <= excluded.updated_at)
                    OR ({t}.state = 'done' AND {t}.updated_at < excluded.updated_at - ?5)
                 RETURNING token"
            )
            .into(),
            read: format!("SELECT state, status, body FROM {t} WHERE fingerprint = ?1").into(),
            complete: format!(
                "UPDATE {t} SET state = 'done', token = NULL, status = ?3, body = ?4, updated_at = ?5, lease_until = ?5
                 WHERE fingerprint = ?1 AND state = 'claimed' AND token = ?2"
            )
            .into(),
            release: format!("DELETE FROM {t} WHERE fingerprint = ?1 AND state = 'claimed' AND token = ?2").into(),
            purge: format!("DELETE FROM {t} WHERE updated_at < ?1 AND (state = 'done' OR lease_until < ?1)").into(),
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, millis)
}

fn backend(operation: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| StoreError::backend(BACKEND, operation, error)
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file in WAL mode and creates the table
    /// `ipn_notifications` if it does not exist.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or the table cannot be created.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(backend("open"))?;
        let store = Self::new(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store on an existing pool (configure WAL mode and a busy timeout on it), table
    /// `ipn_notifications`. Call [`migrate`](Self::migrate) once before use.
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            table: DEFAULT_TABLE.to_owned(),
            sql: Statements::for_table(DEFAULT_TABLE),
            retention: DEFAULT_RETENTION,
            schedule: PurgeSchedule::default(),
        }
    }

    /// Uses another table (a plain identifier: letters, digits, `_`).
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
    /// [type documentation](Self)).
    ///
    /// # Errors
    ///
    /// When the database cannot be reached or the statements fail.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::raw_sql(AssertSqlSafe(self.sql.create.clone())).execute(&self.pool).await.map_err(backend("migrate"))?;
        Ok(())
    }

    /// The pool, e.g. to close it on shutdown.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    async fn try_claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Option<Claim>, StoreError> {
        let token = ClaimToken::generate()?;
        let won = sqlx::query(AssertSqlSafe(self.sql.claim.clone()))
            .bind(fingerprint.as_bytes().as_slice())
            .bind(token.as_bytes().as_slice())
            .bind(now_ms())
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
                let status: Option<i64> = row.try_get("status").map_err(backend("claim"))?;
                let body: Option<String> = row.try_get("body").map_err(backend("claim"))?;
                Ok(Some(Claim::Done(recorded_reply(fingerprint, status, body)?)))
            }
            _ => Err(StoreError::Corrupt { fingerprint, reason: format!("unknown state {state:?}") }),
        }
    }
}

#[async_trait]
impl NotificationStore for SqliteStore {
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
            .bind(i64::from(reply.status()))
            .bind(reply.body())
            .bind(now_ms())
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
            .bind(now_ms().saturating_sub(millis(retention)))
            .execute(&self.pool)
            .await
            .map_err(backend("purge"))?;
        Ok(done.rows_affected())
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("filename", &self.pool.connect_options().get_filename())
            .field("table", &self.table)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}
