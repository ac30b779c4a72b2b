//! Where secrets come from: the [`KeyStore`] trait (async, so a vault or a database of shops can
//! implement it) and [`Keys`], the in-memory store built with [`KeysBuilder`] or from TOML.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::secret::Secret;
use crate::types::{GatewayApi, Mode};

/// The signature algorithm of a shop's form notifications, chosen in its Back Office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FormAlgorithm {
    /// `base64(HMAC-SHA-256(key, string))` (recommended, the default).
    #[default]
    HmacSha256,
    /// `hex(SHA-1(string))`: deprecated and weak, accepted only when a shop opts in.
    Sha1,
}

impl FormAlgorithm {
    /// `hmac-sha256` or `sha1`, as in the configuration file.
    pub const fn as_str(self) -> &'static str {
        match self {
            FormAlgorithm::HmacSha256 => "hmac-sha256",
            FormAlgorithm::Sha1 => "sha1",
        }
    }
}

/// Keys that cannot be used: the configuration's [`ConfigError`](crate::ConfigError) carries
/// the same two cases. The message names the setting, never its value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// A value is not acceptable (duplicate shop, empty secret...).
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A key, password or secret starts or ends with whitespace. The gateway's keys hold none: it
    /// was pasted with a space or read with its newline, and would never verify.
    #[error("invalid configuration: {setting} starts or ends with whitespace (a pasted key?); remove it")]
    Whitespace {
        /// Where the key is set (`shops[ID].form.test_key`, `applications[ID].secret`). Never the key.
        setting: String,
    },
}

/// Which secret a notification needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySlot<'a> {
    /// A shop's form key (`vads_*` signatures) for a mode.
    Form {
        /// The shop id (`vads_site_id`).
        shop_id: &'a str,
        /// The mode (`vads_ctx_mode`).
        mode: Mode,
    },
    /// A shop's REST API password (signs REST IPNs).
    RestPassword {
        /// The shop id (`shopId`).
        shop_id: &'a str,
        /// The mode.
        mode: Mode,
    },
    /// A shop's REST HMAC-SHA-256 key (signs browser returns).
    RestHmacKey {
        /// The shop id (`shopId`).
        shop_id: &'a str,
        /// The mode.
        mode: Mode,
    },
    /// A CentralBill application's secret.
    Application {
        /// The application id (the signature's `keyId`).
        application_id: &'a str,
    },
}

impl fmt::Display for KeySlot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySlot::Form { shop_id, mode } => write!(f, "form {mode} key of shop {shop_id}"),
            KeySlot::RestPassword { shop_id, mode } => {
                write!(f, "REST {mode} password of shop {shop_id}")
            }
            KeySlot::RestHmacKey { shop_id, mode } => {
                write!(f, "REST {mode} HMAC-SHA-256 key of shop {shop_id}")
            }
            KeySlot::Application { application_id } => {
                write!(f, "secret of application {application_id}")
            }
        }
    }
}

/// What a [`KeyStore`] returns for a slot: one or more secrets (any may match, for rotation) and
/// the policy that goes with them.
#[derive(Debug, Clone)]
pub struct Credentials {
    secrets: Arc<[Secret]>,
    form_algorithm: FormAlgorithm,
    accept_test_mode: bool,
    confirm_with: Option<GatewayApi>,
}

impl Credentials {
    /// Credentials with these secrets, HMAC-SHA-256 and TEST mode refused.
    pub fn new(secrets: impl Into<Arc<[Secret]>>) -> Self {
        Self {
            secrets: secrets.into(),
            form_algorithm: FormAlgorithm::default(),
            accept_test_mode: false,
            confirm_with: None,
        }
    }

    /// Confirms this shop's form IPNs with its gateway's REST API before the handler runs (see
    /// [`ShopKeys::confirm_with`]); meaningful on form credentials.
    pub fn confirm_with(mut self, api: GatewayApi) -> Self {
        self.confirm_with = Some(api);
        self
    }

    /// The gateway API this shop's form IPNs are confirmed with, if it opted in.
    pub fn confirmed_with(&self) -> Option<&GatewayApi> {
        self.confirm_with.as_ref()
    }

    /// Sets the form signature algorithm.
    pub fn form_algorithm(mut self, algorithm: FormAlgorithm) -> Self {
        self.form_algorithm = algorithm;
        self
    }

    /// Sets whether TEST-mode notifications are accepted for this shop (default: no). A
    /// verifier's own [`accept_test_mode`](crate::Verifier::accept_test_mode), when set, decides
    /// instead.
    pub fn accept_test_mode(mut self, accept: bool) -> Self {
        self.accept_test_mode = accept;
        self
    }

    /// The secrets; a signature made with any one of them is valid.
    pub fn secrets(&self) -> &[Secret] {
        &self.secrets
    }

    /// The form signature algorithm.
    pub fn algorithm(&self) -> FormAlgorithm {
        self.form_algorithm
    }

    /// Whether TEST-mode notifications are accepted for this shop (unless the verifier decides
    /// for every shop).
    pub fn accepts_test_mode(&self) -> bool {
        self.accept_test_mode
    }
}

/// A key store failed (not "no such key": that is `Ok(None)`). The verifier answers 503 so the
/// gateway retries.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct KeyStoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl KeyStoreError {
    /// An error with a message (never put a secret in it).
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None }
    }

    /// An error caused by another.
    pub fn with_source(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self { message: message.into(), source: Some(Box::new(source)) }
    }
}

/// A source of secrets. Implement it to read keys from a vault or a database of shops; the
/// in-memory [`Keys`] is the default.
#[async_trait]
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// The credentials for a slot, `Ok(None)` when none is configured.
    ///
    /// # Errors
    ///
    /// When the store cannot be reached; the delivery is then answered 503 and retried.
    async fn credentials(&self, slot: KeySlot<'_>) -> Result<Option<Credentials>, KeyStoreError>;
}

#[async_trait]
impl<K: KeyStore + ?Sized> KeyStore for Arc<K> {
    async fn credentials(&self, slot: KeySlot<'_>) -> Result<Option<Credentials>, KeyStoreError> {
        (**self).credentials(slot).await
    }
}

/// The hasher of the maps of shops and applications: foldhash, where the standard SipHash took
/// about a fifth of a verification's key lookup. The maps are built from the configuration, so a
/// sender choosing the ids it claims cannot make their entries collide; the seed is random per
/// map all the same.
type IdHasher = foldhash::fast::RandomState;

const MODES: usize = 2;

fn mode_index(mode: Mode) -> usize {
    match mode {
        Mode::Test => 0,
        Mode::Production => 1,
    }
}

#[derive(Debug, Clone, Default)]
struct ShopEntry {
    form: [Option<Credentials>; MODES],
    rest_password: [Option<Credentials>; MODES],
    rest_hmac_key: [Option<Credentials>; MODES],
}

/// The in-memory key store: shops and CentralBill applications, built once at start-up.
///
/// ```
/// use ipn_core::{Keys, Mode, ShopKeys};
/// let keys = Keys::builder()
///     .shop(ShopKeys::new("12345678").form_key(Mode::Test, "1122334455667788").accept_test_mode(true))
///     .application("fbab3ccc-719e-11ed-93ad-02420a0003c1", "app!secret")
///     .build()
///     .unwrap();
/// assert_eq!(keys.shop_count(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Keys {
    shops: HashMap<String, ShopEntry, IdHasher>,
    applications: HashMap<String, Credentials, IdHasher>,
}

impl Keys {
    /// Starts a builder.
    pub fn builder() -> KeysBuilder {
        KeysBuilder::default()
    }

    /// The number of shops configured.
    pub fn shop_count(&self) -> usize {
        self.shops.len()
    }

    /// The number of CentralBill applications configured.
    pub fn application_count(&self) -> usize {
        self.applications.len()
    }

    /// Opts a shop in to confirmation with its gateway after building (see
    /// [`ShopKeys::confirm_with`]).
    ///
    /// # Errors
    ///
    /// No such shop, or a shop without the REST password of a mode it has a form key for.
    pub fn confirm_with(mut self, shop_id: &str, api: GatewayApi) -> Result<Self, KeysError> {
        let Some(entry) = self.shops.get_mut(shop_id) else {
            return Err(KeysError::Invalid(format!("confirm_with: no shop {shop_id} is configured")));
        };
        for mode in [Mode::Test, Mode::Production] {
            let i = mode_index(mode);
            if entry.form[i].is_some() && entry.rest_password[i].is_none() {
                return Err(missing_password(shop_id, mode));
            }
            if let Some(form) = &mut entry.form[i] {
                form.confirm_with = Some(api.clone());
            }
        }
        Ok(self)
    }

    /// The same lookup as [`KeyStore::credentials`], synchronous (the in-memory store never waits).
    pub fn lookup(&self, slot: KeySlot<'_>) -> Option<&Credentials> {
        match slot {
            KeySlot::Form { shop_id, mode } => self.shops.get(shop_id)?.form[mode_index(mode)].as_ref(),
            KeySlot::RestPassword { shop_id, mode } => {
                self.shops.get(shop_id)?.rest_password[mode_index(mode)].as_ref()
            }
            KeySlot::RestHmacKey { shop_id, mode } => self.shops.get(shop_id)?.rest_hmac_key[mode_index(mode)].as_ref(),
            KeySlot::Application { application_id } => self.applications.get(application_id),
        }
    }
}

#[async_trait]
impl KeyStore for Keys {
    async fn credentials(&self, slot: KeySlot<'_>) -> Result<Option<Credentials>, KeyStoreError> {
        Ok(self.lookup(slot).cloned())
    }
}

/// One shop's keys, for [`KeysBuilder::shop`]. Calling a key method twice for the same slot adds
/// a second key (rotation: either verifies).
#[derive(Debug, Clone)]
pub struct ShopKeys {
    shop_id: String,
    accept_test_mode: bool,
    confirm_with: Option<GatewayApi>,
    form_algorithm: FormAlgorithm,
    form: [Vec<Secret>; MODES],
    rest_password: [Vec<Secret>; MODES],
    rest_hmac_key: [Vec<Secret>; MODES],
}

impl ShopKeys {
    /// A shop with no keys yet; TEST mode refused, HMAC-SHA-256 form signatures.
    pub fn new(shop_id: impl Into<String>) -> Self {
        Self {
            shop_id: shop_id.into(),
            accept_test_mode: false,
            confirm_with: None,
            form_algorithm: FormAlgorithm::HmacSha256,
            form: Default::default(),
            rest_password: Default::default(),
            rest_hmac_key: Default::default(),
        }
    }

    /// Adds a form key (the "certificate" of the Back Office) for a mode.
    pub fn form_key(mut self, mode: Mode, key: impl Into<Secret>) -> Self {
        self.form[mode_index(mode)].push(key.into());
        self
    }

    /// Sets the form signature algorithm (SHA-1 is an explicit opt-in).
    pub fn form_algorithm(mut self, algorithm: FormAlgorithm) -> Self {
        self.form_algorithm = algorithm;
        self
    }

    /// Adds a REST API password (signs REST IPNs) for a mode.
    pub fn rest_password(mut self, mode: Mode, password: impl Into<Secret>) -> Self {
        self.rest_password[mode_index(mode)].push(password.into());
        self
    }

    /// Adds a REST HMAC-SHA-256 key (signs browser returns) for a mode.
    pub fn rest_hmac_key(mut self, mode: Mode, key: impl Into<Secret>) -> Self {
        self.rest_hmac_key[mode_index(mode)].push(key.into());
        self
    }

    /// Whether this shop's TEST-mode notifications are accepted (default: no, they are refused
    /// with `403`); `accept_test_mode = true` in the shop's `[[shops]]` table is the same opt-in.
    /// A verifier's own [`accept_test_mode`](crate::Verifier::accept_test_mode), when set,
    /// decides for every shop instead. Opt in where TEST payments are made (development,
    /// acceptance), not on a production server: TEST keys are less guarded.
    pub fn accept_test_mode(mut self, accept: bool) -> Self {
        self.accept_test_mode = accept;
        self
    }

    /// Confirms each of this shop's form IPNs with its gateway before the handler runs: the
    /// verifier asks `api` (`https://api.payzen.eu`, `https://api.systempay.fr`...) for the
    /// transaction (`V4/Transaction/Get`, authenticated with the shop id and its REST password
    /// for the notification's mode, which the shop must then have) and compares status, amount,
    /// currency, order id, operation and mode. A notification the gateway contradicts is refused
    /// ([`Error::NotConfirmed`](crate::Error::NotConfirmed), `401`); an API that cannot answer gets
    /// `503`, so the gateway retries. Confirmations are remembered, so a retry or a duplicate does
    /// not call the API again. `confirm_with = "https://..."` in the shop's `[[shops]]` table is
    /// the same opt-in.
    ///
    /// Worth it for shops whose form notifications echo text a buyer typed (see the crate's
    /// security notes); the REST notification format needs none. A notification that names no
    /// transaction (a token registered without payment) cannot be confirmed and is refused.
    pub fn confirm_with(mut self, api: GatewayApi) -> Self {
        self.confirm_with = Some(api);
        self
    }

    fn into_entry(self) -> Result<(String, ShopEntry), KeysError> {
        let shop_id = self.shop_id;
        if shop_id.is_empty() {
            return Err(KeysError::Invalid("a shop has an empty shop_id".into()));
        }
        let (algorithm, accept) = (self.form_algorithm, self.accept_test_mode);
        if self.confirm_with.is_some() {
            for mode in [Mode::Test, Mode::Production] {
                let i = mode_index(mode);
                if !self.form[i].is_empty() && self.rest_password[i].is_empty() {
                    return Err(missing_password(&shop_id, mode));
                }
            }
        }
        let confirm_with = self.confirm_with.clone();
        // `setting` names the slot as the TOML does (`form.{mode}_key`...), for the errors.
        let slots = |secrets: [Vec<Secret>; MODES],
                     what: &str,
                     setting: &str|
         -> Result<[Option<Credentials>; MODES], KeysError> {
            let mut out: [Option<Credentials>; MODES] = Default::default();
            for (i, list) in secrets.into_iter().enumerate() {
                if list.iter().any(Secret::is_empty) {
                    return Err(KeysError::Invalid(format!("shop {shop_id}: an empty {what}")));
                }
                if list.iter().any(Secret::has_surrounding_whitespace) {
                    let mode = [Mode::Test, Mode::Production][i].as_str().to_ascii_lowercase();
                    let setting = format!("shops[{shop_id}].{}", setting.replace("{mode}", &mode));
                    return Err(KeysError::Whitespace { setting });
                }
                if !list.is_empty() {
                    let mut credentials = Credentials::new(list).form_algorithm(algorithm).accept_test_mode(accept);
                    credentials.confirm_with = confirm_with.clone();
                    out[i] = Some(credentials);
                }
            }
            Ok(out)
        };
        let entry = ShopEntry {
            form: slots(self.form, "form key", "form.{mode}_key")?,
            rest_password: slots(self.rest_password, "REST password", "rest.{mode}_password")?,
            rest_hmac_key: slots(self.rest_hmac_key, "REST HMAC key", "rest.{mode}_hmac_key")?,
        };
        Ok((shop_id, entry))
    }
}

fn missing_password(shop_id: &str, mode: Mode) -> KeysError {
    let mode = mode.as_str().to_ascii_lowercase();
    KeysError::Invalid(format!(
        "shop {shop_id}: confirm_with needs the REST password of every mode with a form key (rest.{mode}_password)"
    ))
}

/// Builds [`Keys`]. Reads as a sentence: `Keys::builder().shop(..).application(..).build()`.
#[derive(Debug, Default)]
pub struct KeysBuilder {
    shops: Vec<ShopKeys>,
    applications: Vec<(String, Secret)>,
}

impl KeysBuilder {
    /// Adds a shop.
    pub fn shop(mut self, shop: ShopKeys) -> Self {
        self.shops.push(shop);
        self
    }

    /// Adds a CentralBill application secret; adding the same id twice adds a second secret
    /// (rotation).
    pub fn application(mut self, application_id: impl Into<String>, secret: impl Into<Secret>) -> Self {
        self.applications.push((application_id.into(), secret.into()));
        self
    }

    /// Checks and freezes the configuration.
    ///
    /// # Errors
    ///
    /// A shop or application configured twice, an empty id, an empty secret, or a secret that
    /// starts or ends with whitespace ([`KeysError::Whitespace`], naming the slot).
    pub fn build(self) -> Result<Keys, KeysError> {
        let mut keys = Keys::default();
        for shop in self.shops {
            let (id, entry) = shop.into_entry()?;
            match keys.shops.entry(id) {
                Entry::Occupied(e) => {
                    return Err(KeysError::Invalid(format!("shop {} configured twice", e.key())));
                }
                Entry::Vacant(e) => {
                    e.insert(entry);
                }
            }
        }
        let mut applications: HashMap<String, Vec<Secret>> = HashMap::new();
        for (id, secret) in self.applications {
            if id.is_empty() {
                return Err(KeysError::Invalid("an application has an empty application_id".into()));
            }
            if secret.is_empty() {
                return Err(KeysError::Invalid(format!("application {id}: an empty secret")));
            }
            if secret.has_surrounding_whitespace() {
                return Err(KeysError::Whitespace { setting: format!("applications[{id}].secret") });
            }
            applications.entry(id).or_default().push(secret);
        }
        keys.applications = applications.into_iter().map(|(id, secrets)| (id, Credentials::new(secrets))).collect();
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_by_slot() {
        let keys = Keys::builder()
            .shop(
                ShopKeys::new("1")
                    .form_key(Mode::Test, "t1")
                    .form_key(Mode::Test, "t2")
                    .rest_password(Mode::Production, "p")
                    .form_algorithm(FormAlgorithm::Sha1)
                    .accept_test_mode(false),
            )
            .application("app", "s")
            .build()
            .unwrap();
        let form = keys.lookup(KeySlot::Form { shop_id: "1", mode: Mode::Test }).unwrap();
        assert_eq!(form.secrets().len(), 2);
        assert_eq!(form.algorithm(), FormAlgorithm::Sha1);
        assert!(!form.accepts_test_mode());
        assert!(keys.lookup(KeySlot::Form { shop_id: "1", mode: Mode::Production }).is_none());
        assert!(keys.lookup(KeySlot::RestPassword { shop_id: "1", mode: Mode::Production }).is_some());
        assert!(keys.lookup(KeySlot::RestHmacKey { shop_id: "1", mode: Mode::Production }).is_none());
        assert!(keys.lookup(KeySlot::Form { shop_id: "2", mode: Mode::Test }).is_none());
        assert!(keys.lookup(KeySlot::Application { application_id: "app" }).is_some());
    }

    #[test]
    fn rejects_duplicates_and_empty_secrets() {
        assert!(Keys::builder().shop(ShopKeys::new("1")).shop(ShopKeys::new("1")).build().is_err());
        assert!(Keys::builder().shop(ShopKeys::new("1").form_key(Mode::Test, "")).build().is_err());
        assert!(Keys::builder().application("a", "").build().is_err());
        assert!(Keys::builder().shop(ShopKeys::new("")).build().is_err());
    }

    #[test]
    fn debug_never_shows_a_secret() {
        let keys = Keys::builder().shop(ShopKeys::new("1").form_key(Mode::Test, "topsecretkey")).build().unwrap();
        assert!(!format!("{keys:?}").contains("topsecretkey"));
    }
}
