//! [`RedisStore`]: claims and replies as Redis keys with expiry, shared by several instances.

use std::fmt;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, Script};
use async_trait::async_trait;

use crate::fingerprint::Fingerprint;
use crate::reply::Reply;
use crate::store::shared::{millis, recorded_reply};
use crate::store::{Claim, ClaimToken, DEFAULT_RETENTION, NotificationStore, StoreError};

const BACKEND: &str = "redis";
const DEFAULT_PREFIX: &str = "ipn:notification:";

/// Claims the key for this token unless it exists (`SET NX PX`); returns the key's value either
/// way, in one round trip.
const CLAIM: &str = r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return ARGV[1]
end
return redis.call('GET', KEYS[1])
";

/// Records the reply if the key still holds this token's claim.
const COMPLETE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
local t = redis.call('TIME')
redis.call('SET', KEYS[1], string.format('d:%d%03d:', t[1], math.floor(t[2] / 1000)) .. ARGV[2], 'PX', ARGV[3])
return 1
";

/// Deletes the key if it still holds this token's claim.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end
redis.call('DEL', KEYS[1])
return 1
";

/// Deletes the given completed records older than ARGV[1] milliseconds.
const PURGE: &str = r"
local t = redis.call('TIME')
local cutoff = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - tonumber(ARGV[1])
local deleted = 0
for _, key in ipairs(KEYS) do
    local value = redis.call('GET', key)
    if value then
        local at = tonumber(string.match(value, '^d:(%d+):'))
        if at and at < cutoff then
            redis.call('DEL', key)
            deleted = deleted + 1
        end
    end
end
return deleted
";

/// A notification store in Redis: exactly-once across every instance using the server
/// (feature `redis`, needs a tokio runtime).
///
/// One key per notification, `{prefix}{fingerprint hex}` (prefix `ipn:notification:` by
/// default):
///
/// - claimed: `c:{token hex}`, set with `SET NX PX lease`, so exactly one claimant creates it
///   and an abandoned claim disappears when its lease ends;
/// - done: `d:{completed at, Unix ms}:{status}:{body}`, expiring after the retention (7 days by
///   default), so completed records never need a purge.
///
/// Claim, complete and release are Lua scripts (one round trip each, atomic): complete and
/// release act only while the key holds the caller's token. [`purge`](NotificationStore::purge)
/// walks the prefix with `SCAN`, for a retention shorter than the configured one.
///
/// ```no_run
/// # async fn example() -> Result<(), ipn_core::StoreError> {
/// use ipn_core::store::RedisStore;
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?.key_prefix("shop1:ipn:");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    retention: Duration,
    claim: Script,
    complete: Script,
    release: Script,
    purge: Script,
}

fn backend(operation: &'static str) -> impl FnOnce(::redis::RedisError) -> StoreError {
    move |error| StoreError::backend(BACKEND, operation, error)
}

impl RedisStore {
    /// Connects a [`ConnectionManager`] (reconnects by itself; 2 s to connect, 2 s per
    /// response).
    ///
    /// # Errors
    ///
    /// When the URL is invalid or the server cannot be reached. The message never contains the
    /// URL.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = Client::open(url).map_err(backend("connect"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config).await.map_err(backend("connect"))?;
        Ok(Self::new(connection))
    }

    /// A store on an existing connection manager.
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: DEFAULT_PREFIX.to_owned(),
            retention: DEFAULT_RETENTION,
            claim: Script::new(CLAIM),
            complete: Script::new(COMPLETE),
            release: Script::new(RELEASE),
            purge: Script::new(PURGE),
        }
    }

    /// The key prefix (`ipn:notification:` by default), to share a server between applications.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long completed records are kept ([`DEFAULT_RETENTION`]): their expiry.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    fn key(&self, fingerprint: Fingerprint) -> String {
        format!("{}{fingerprint}", self.prefix)
    }

    fn claim_value(token: &ClaimToken) -> String {
        format!("c:{token}")
    }
}

/// Escapes the glob characters of a literal prefix for `SCAN MATCH`.
fn glob_escape(literal: &str) -> String {
    let mut out = String::with_capacity(literal.len() + 1);
    for c in literal.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('*');
    out
}

fn parse_done(fingerprint: Fingerprint, value: &str) -> Result<Reply, StoreError> {
    let corrupt = || StoreError::Corrupt { fingerprint, reason: "unreadable completed record".to_owned() };
    let rest = value.strip_prefix("d:").ok_or_else(corrupt)?;
    let (_at, rest) = rest.split_once(':').ok_or_else(corrupt)?;
    let (status, body) = rest.split_once(':').ok_or_else(corrupt)?;
    let status: i64 = status.parse().map_err(|_| corrupt())?;
    recorded_reply(fingerprint, Some(status), Some(body.to_owned()))
}

#[async_trait]
impl NotificationStore for RedisStore {
    async fn claim(&self, fingerprint: Fingerprint, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::generate()?;
        let mine = Self::claim_value(&token);
        let mut connection = self.connection.clone();
        let value: Option<String> = self
            .claim
            .key(self.key(fingerprint))
            .arg(&mine)
            .arg(millis(lease).max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(backend("claim"))?;
        match value {
            Some(value) if value == mine => Ok(Claim::Acquired(token)),
            Some(value) if value.starts_with("c:") => Ok(Claim::InProgress),
            Some(value) => Ok(Claim::Done(parse_done(fingerprint, &value)?)),
            None => Err(StoreError::Corrupt { fingerprint, reason: "key is not a string".to_owned() }),
        }
    }

    async fn complete(&self, fingerprint: Fingerprint, token: &ClaimToken, reply: &Reply) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let done: i64 = self
            .complete
            .key(self.key(fingerprint))
            .arg(Self::claim_value(token))
            .arg(format!("{}:{}", reply.status(), reply.body()))
            .arg(millis(self.retention).max(1))
            .invoke_async(&mut connection)
            .await
            .map_err(backend("complete"))?;
        if done == 1 { Ok(()) } else { Err(StoreError::ClaimLost { fingerprint }) }
    }

    async fn release(&self, fingerprint: Fingerprint, token: &ClaimToken) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let done: i64 = self
            .release
            .key(self.key(fingerprint))
            .arg(Self::claim_value(token))
            .invoke_async(&mut connection)
            .await
            .map_err(backend("release"))?;
        if done == 1 { Ok(()) } else { Err(StoreError::ClaimLost { fingerprint }) }
    }

    async fn purge(&self, retention: Duration) -> Result<u64, StoreError> {
        let mut connection = self.connection.clone();
        let pattern = glob_escape(&self.prefix);
        let mut cursor = 0_u64;
        let mut deleted = 0_u64;
        loop {
            let (next, keys): (u64, Vec<String>) = ::redis::cmd("SCAN")
                .cursor_arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(500)
                .query_async(&mut connection)
                .await
                .map_err(backend("purge"))?;
            if !keys.is_empty() {
                let mut invocation = self.purge.prepare_invoke();
                for key in &keys {
                    invocation.key(key);
                }
                let n: u64 =
                    invocation.arg(millis(retention)).invoke_async(&mut connection).await.map_err(backend("purge"))?;
                deleted += n;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.prefix)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_pattern_escapes_the_prefix() {
        assert_eq!(glob_escape("ipn:n*[x]?\\"), "ipn:n\\*\\[x\\]\\?\\\\*");
    }

    #[test]
    fn completed_values_parse_back() {
        let fp = Fingerprint::from_bytes([1; 32]);
        assert_eq!(parse_done(fp, "d:1700000000123:200:OK: done").unwrap(), Reply::new(200, "OK: done"));
        assert!(matches!(parse_done(fp, "d:17:xx:OK"), Err(StoreError::Corrupt { .. })));
        assert!(matches!(parse_done(fp, "c:00"), Err(StoreError::Corrupt { .. })));
    }
}
