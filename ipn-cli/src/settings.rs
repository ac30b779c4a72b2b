//! The configuration file of DESIGN.md, loaded through ipn-core, plus the ids it declares (the
//! core's key store looks keys up by id and does not list them; `sign` and `gateway` need to
//! pick a shop or an application when none is named).

use std::path::Path;

use ipn_core::{Config, FormAlgorithm, GatewayApi, KeySlot, Secret};
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

    /// The same settings with a configured shop's form IPNs confirmed with the gateway's REST API
    /// at `api` (see [`Config::confirm_with`]): for an API whose address is known only at run
    /// time, such as a simulator on a free port.
    ///
    /// # Errors
    ///
    /// No such shop, or the shop has no REST password for a mode it has a form key for (the
    /// message never holds a secret).
    pub fn confirm_with(self, shop_id: &str, api: GatewayApi) -> Result<Self, String> {
        let config = self.config.confirm_with(shop_id, api).map_err(|e| e.to_string())?;
        Ok(Self { config, ..self })
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

#[cfg(test)]
mod tests {
    use super::*;
    use ipn_core::Mode;

    const CONFIG: &str = r#"
[[shops]]
shop_id = "12345678"
accept_test_mode = true
[shops.form]
test_key = "1122334455667788"
[shops.rest]
test_password = "testpassword_SECRET"

[[shops]]
shop_id = "87654321"
[shops.form]
test_key = "8877665544332211"
"#;

    #[test]
    fn confirm_with_opts_a_configured_shop_in_and_refuses_one_that_cannot_call_the_api() {
        let api = GatewayApi::new("http://127.0.0.1:8080").unwrap();
        let settings = Settings::from_toml(CONFIG).unwrap().confirm_with("12345678", api.clone()).unwrap();
        let form = |s: &Settings, shop_id| {
            s.config().keys().lookup(KeySlot::Form { shop_id, mode: Mode::Test }).unwrap().confirmed_with().cloned()
        };
        assert_eq!(form(&settings, "12345678"), Some(api.clone()));
        assert_eq!(form(&settings, "87654321"), None, "only the shop named opts in");
        assert_eq!(settings.shop_ids(), ["12345678", "87654321"], "the ids are kept");

        let unknown = settings.clone().confirm_with("00000000", api.clone()).unwrap_err();
        assert!(unknown.contains("00000000"), "{unknown}");
        // Confirmation authenticates with the REST password: a shop without one cannot opt in.
        let no_password = settings.confirm_with("87654321", api).unwrap_err();
        assert!(no_password.contains("87654321") && !no_password.contains("SECRET"), "{no_password}");
    }
}
