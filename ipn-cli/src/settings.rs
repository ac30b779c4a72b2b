//! The configuration file of DESIGN.md, loaded through ipn-core, plus the ids it declares (the
//! core's key store looks keys up by id and does not list them; `sign` and `gateway` need to
//! pick a shop or an application when none is named).

use std::path::Path;

use ipn_core::{Config, FormAlgorithm, KeySlot, Secret};
use serde::Deserialize;

#[derive(Deserialize)]
struct Ids {
    #[serde(default)]
    shops: Vec<ShopId>,
    #[serde(default)]
    applications: Vec<ApplicationId>,
}

#[derive(Deserialize)]
struct ShopId {
    shop_id: String,
}

#[derive(Deserialize)]
struct ApplicationId {
    application_id: String,
}

/// A loaded configuration and the ids it declares.
#[derive(Debug, Clone)]
pub struct Settings {
    config: Config,
    shop_ids: Vec<String>,
    application_ids: Vec<String>,
}

impl Settings {
    /// Reads and checks a configuration file.
    ///
    /// # Errors
    ///
    /// The file cannot be read or is not a valid configuration (the message never holds a
    /// secret).
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses configuration text.
    ///
    /// # Errors
    ///
    /// Not a valid configuration.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let config = Config::from_toml(text).map_err(|e| e.to_string())?;
        // Config::from_toml has validated the shape; this second read only collects the ids.
        let ids: Ids = toml::from_str(text).map_err(|e| format!("invalid configuration: {}", e.message()))?;
        Ok(Self {
            config,
            shop_ids: ids.shops.into_iter().map(|s| s.shop_id).collect(),
            application_ids: ids.applications.into_iter().map(|a| a.application_id).collect(),
        })
    }

    /// The core configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configured shop ids.
    pub fn shop_ids(&self) -> &[String] {
        &self.shop_ids
    }

    /// The configured CentralBill application ids.
    pub fn application_ids(&self) -> &[String] {
        &self.application_ids
    }

    /// The shop to use: the one named, or the only one configured.
    ///
    /// # Errors
    ///
    /// Unknown, absent or ambiguous.
    pub fn shop(&self, requested: Option<&str>) -> Result<String, String> {
        pick("shop", "--shop", requested, &self.shop_ids)
    }

    /// The application to use: the one named, or the only one configured.
    ///
    /// # Errors
    ///
    /// Unknown, absent or ambiguous.
    pub fn application(&self, requested: Option<&str>) -> Result<String, String> {
        pick("application", "--application", requested, &self.application_ids)
    }

    /// The key to sign with for a slot (the last configured, the newest in a rotation) and the
    /// shop's form algorithm.
    pub fn signing_key(&self, slot: KeySlot<'_>) -> Option<(Secret, FormAlgorithm)> {
        let credentials = self.config.keys().lookup(slot)?;
        Some((credentials.secrets().last()?.clone(), credentials.algorithm()))
    }

    /// Every key of a slot.
    pub fn keys(&self, slot: KeySlot<'_>) -> Vec<Secret> {
        self.config.keys().lookup(slot).map(|c| c.secrets().to_vec()).unwrap_or_default()
    }

    /// The form algorithm configured for a shop (HMAC-SHA-256 when the shop has no form key).
    pub fn form_algorithm(&self, shop_id: &str, mode: ipn_core::Mode) -> FormAlgorithm {
        self.config.keys().lookup(KeySlot::Form { shop_id, mode }).map_or(FormAlgorithm::HmacSha256, |c| c.algorithm())
    }
}

fn pick(what: &str, flag: &str, requested: Option<&str>, ids: &[String]) -> Result<String, String> {
    match (requested, ids) {
        (Some(id), _) if ids.iter().any(|i| i == id) => Ok(id.to_owned()),
        (Some(id), _) => Err(format!("no {what} {id} in the configuration")),
        (None, [only]) => Ok(only.clone()),
        (None, []) => Err(format!("the configuration has no {what}")),
        (None, _) => Err(format!("the configuration has several {what}s: name one with {flag}")),
    }
}
