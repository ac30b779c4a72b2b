//! The configuration file (TOML) shared by the CLI and the example shops: shops, CentralBill
//! applications and limits. Secrets may be given inline or read from the environment (`*_env`).
//!
//! ```
//! use ipn_core::Config;
//! let config = Config::from_toml(r#"
//!     [[shops]]
//!     shop_id = "12345678"
//!     ## TEST-mode notifications are refused unless the shop opts in (default: false).
//!     accept_test_mode = true
//!     ## Optional: confirm each form IPN with the gateway's REST API (needs the REST password).
//!     confirm_with = "https://api.payzen.eu"
//!     [shops.form]
//!     algorithm = "hmac-sha256"
//!     test_key = "1122334455667788"
//!     [shops.rest]
//!     test_password = "testpassword_DEMOPRIVATEKEY23G4475zXZQ2UA5x7M"
//!
//!     [[applications]]
//!     application_id = "fbab3ccc-719e-11ed-93ad-02420a0003c1"
//!     secret = "app!secret"
//!
//!     [limits]
//!     max_body_bytes = 65536
//!     max_clock_skew_s = 300
//!
//!     [form]
//!     extra_fields = ["vads_ext_info_note"]   # names the gateway sends beyond its documented ones
//! "#).unwrap();
//! assert_eq!(config.keys().shop_count(), 1);
//! assert_eq!(config.limits().max_body_bytes, 65536);
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::keys::{FormAlgorithm, Keys, KeysError, ShopKeys};
use crate::policy::{ExtraFields, Limits};

use crate::secret::Secret;
use crate::types::{GatewayApi, Mode};

/// A configuration that cannot be used. The message names the setting, never its value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML does not parse or does not have the expected shape.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// A `*_env` setting names a variable that is not set.
    #[error("environment variable {variable} (named by {setting}) is not set")]
    MissingEnv {
        /// The variable name.
        variable: String,
        /// The setting that names it.
        setting: String,
    },
    /// A value is not acceptable (duplicate shop, empty secret, unknown algorithm...).
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A key, password or secret starts or ends with whitespace. The gateway's keys hold none: it
    /// was pasted with a space or read with its newline, and would never verify.
    #[error("invalid configuration: {setting} starts or ends with whitespace (a pasted key?); remove it")]
    Whitespace {
        /// Where the key is set: `shops[ID].form.test_key`, `applications[ID].secret`, or an
        /// `_env` setting and the variable it names. Never the key.
        setting: String,
    },
}

impl From<KeysError> for ConfigError {
    fn from(error: KeysError) -> Self {
        match error {
            KeysError::Invalid(reason) => ConfigError::Invalid(reason),
            KeysError::Whitespace { setting } => ConfigError::Whitespace { setting },
        }
    }
}

/// The loaded configuration: keys, limits, and the form fields accepted beyond the documented
/// ones (`[form] extra_fields = ["vads_ext_info_note"]`).
#[derive(Debug, Clone)]
pub struct Config {
    keys: Keys,
    limits: Limits,
    extra_form_fields: ExtraFields,
}

impl Config {
    /// Reads a TOML file; `*_env` settings are read from the process environment.
    ///
    /// # Errors
    ///
    /// See [`ConfigError`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.display().to_string(), source })?;
        Self::from_toml(&text)
    }

    /// Parses TOML text; `*_env` settings are read from the process environment.
    ///
    /// # Errors
    ///
    /// See [`ConfigError`].
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::from_toml_with_env(text, |name| std::env::var(name).ok())
    }

    /// Parses TOML text, resolving `*_env` settings through `env`.
    ///
    /// # Errors
    ///
    /// See [`ConfigError`].
    pub fn from_toml_with_env(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // toml's messages quote the offending line, which may hold a secret: keep only the
        // position and the reason.
        let file: File = toml::from_str(text).map_err(|e| ConfigError::Parse(redacted_toml_error(&e)))?;
        file.resolve(&env)
    }

    /// The keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The form field names accepted beyond the gateway's documented ones (`[form] extra_fields`).
    pub fn extra_form_fields(&self) -> &ExtraFields {
        &self.extra_form_fields
    }

    /// Opts a configured shop in to confirmation with its gateway after loading, for an API
    /// address known only at run time (a local simulator on a free port): the same as
    /// `confirm_with` in its `[[shops]]` table. See [`ShopKeys::confirm_with`].
    ///
    /// # Errors
    ///
    /// No such shop, or a shop without the REST password of a mode it has a form key for.
    pub fn confirm_with(mut self, shop_id: &str, api: GatewayApi) -> Result<Self, ConfigError> {
        self.keys = self.keys.confirm_with(shop_id, api)?;
        Ok(self)
    }

    /// Splits into keys and limits.
    pub fn into_parts(self) -> (Keys, Limits) {
        (self.keys, self.limits)
    }
}

fn redacted_toml_error(error: &toml::de::Error) -> String {
    let message = error.message();
    match error.span() {
        Some(span) => format!("{message} (at byte {})", span.start),
        None => message.to_owned(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    shops: Vec<ShopFile>,
    #[serde(default)]
    applications: Vec<ApplicationFile>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    form: FormFieldsFile,
}

/// `[form]`: the form fields accepted beyond the gateway's documented ones.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FormFieldsFile {
    #[serde(default)]
    extra_fields: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShopFile {
    shop_id: String,
    accept_test_mode: Option<bool>,
    confirm_with: Option<String>,
    form: Option<FormFile>,
    rest: Option<RestFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FormFile {
    algorithm: Option<String>,
    #[serde(default)]
    test_key: OneOrMany,
    #[serde(default)]
    test_key_env: OneOrMany,
    #[serde(default)]
    production_key: OneOrMany,
    #[serde(default)]
    production_key_env: OneOrMany,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestFile {
    #[serde(default)]
    test_password: OneOrMany,
    #[serde(default)]
    test_password_env: OneOrMany,
    #[serde(default)]
    production_password: OneOrMany,
    #[serde(default)]
    production_password_env: OneOrMany,
    #[serde(default)]
    test_hmac_key: OneOrMany,
    #[serde(default)]
    test_hmac_key_env: OneOrMany,
    #[serde(default)]
    production_hmac_key: OneOrMany,
    #[serde(default)]
    production_hmac_key_env: OneOrMany,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicationFile {
    application_id: String,
    #[serde(default)]
    secret: OneOrMany,
    #[serde(default)]
    secret_env: OneOrMany,
}

/// A secret setting: one value, or a list (rotation).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum OneOrMany {
    #[default]
    None,
    One(Secret),
    Many(Vec<Secret>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<Secret> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Inline secrets plus those named by the `_env` twin; `table` and `setting` name where they are
/// set (`shops[ID].form`, `test_key`) for the errors. A secret read from the environment with
/// surrounding whitespace is refused here, where the error can name the variable; the keys
/// builder refuses an inline one, naming the same setting.
fn secrets(
    inline: OneOrMany,
    from_env: OneOrMany,
    table: &str,
    setting: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Secret>, ConfigError> {
    let mut out = inline.into_vec();
    for name in from_env.into_vec() {
        let variable = String::from_utf8_lossy(name.expose()).into_owned();
        let value = env(&variable).ok_or_else(|| ConfigError::MissingEnv {
            variable: variable.clone(),
            setting: format!("{table}.{setting}_env"),
        })?;
        let value = Secret::new(value);
        if value.has_surrounding_whitespace() {
            let setting = format!("{table}.{setting}_env (environment variable {variable})");
            return Err(ConfigError::Whitespace { setting });
        }
        out.push(value);
    }
    Ok(out)
}

impl File {
    fn resolve(self, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut builder = Keys::builder();
        for shop in self.shops {
            let mut keys = ShopKeys::new(&shop.shop_id);
            if let Some(accept) = shop.accept_test_mode {
                keys = keys.accept_test_mode(accept);
            }
            if let Some(url) = &shop.confirm_with {
                let api = GatewayApi::new(url)
                    .map_err(|e| ConfigError::Invalid(format!("shops[{}].confirm_with: {e}", shop.shop_id)))?;
                keys = keys.confirm_with(api);
            }
            if let Some(form) = shop.form {
                let algorithm = match form.algorithm.as_deref() {
                    None | Some("hmac-sha256") => FormAlgorithm::HmacSha256,
                    Some("sha1") => FormAlgorithm::Sha1,
                    Some(other) => {
                        return Err(ConfigError::Invalid(format!(
                            "shop {}: unknown form algorithm {other:?} (expected \"hmac-sha256\" or \"sha1\")",
                            shop.shop_id
                        )));
                    }
                };
                keys = keys.form_algorithm(algorithm);
                let table = format!("shops[{}].form", shop.shop_id);
                for s in secrets(form.test_key, form.test_key_env, &table, "test_key", env)? {
                    keys = keys.form_key(Mode::Test, s);
                }
                for s in secrets(form.production_key, form.production_key_env, &table, "production_key", env)? {
                    keys = keys.form_key(Mode::Production, s);
                }
            }
            if let Some(rest) = shop.rest {
                let table = format!("shops[{}].rest", shop.shop_id);
                for s in secrets(rest.test_password, rest.test_password_env, &table, "test_password", env)? {
                    keys = keys.rest_password(Mode::Test, s);
                }
                for s in
                    secrets(rest.production_password, rest.production_password_env, &table, "production_password", env)?
                {
                    keys = keys.rest_password(Mode::Production, s);
                }
                for s in secrets(rest.test_hmac_key, rest.test_hmac_key_env, &table, "test_hmac_key", env)? {
                    keys = keys.rest_hmac_key(Mode::Test, s);
                }
                for s in
                    secrets(rest.production_hmac_key, rest.production_hmac_key_env, &table, "production_hmac_key", env)?
                {
                    keys = keys.rest_hmac_key(Mode::Production, s);
                }
            }
            builder = builder.shop(keys);
        }
        for app in self.applications {
            let table = format!("applications[{}]", app.application_id);
            let list = secrets(app.secret, app.secret_env, &table, "secret", env)?;
            if list.is_empty() {
                return Err(ConfigError::Invalid(format!("application {}: no secret", app.application_id)));
            }
            for s in list {
                builder = builder.application(&app.application_id, s);
            }
        }
        if let Some(name) = self.form.extra_fields.iter().find(|n| !crate::policy::is_field_name(n)) {
            return Err(ConfigError::Invalid(format!(
                "form.extra_fields: {name:?} is not a vads_* field name (vads_ then letters, digits, _)"
            )));
        }
        let extra_form_fields = ExtraFields::new(&self.form.extra_fields);
        Ok(Config { keys: builder.build()?, limits: self.limits, extra_form_fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeySlot;

    #[test]
    fn env_indirection_and_rotation() {
        let text = r#"
            [[shops]]
            shop_id = "1"
            [shops.form]
            test_key = ["old", "new"]
            production_key_env = "PROD_KEY"
            [shops.rest]
            test_password_env = "REST_PW"
        "#;
        let env = |name: &str| match name {
            "PROD_KEY" => Some("prod".to_owned()),
            "REST_PW" => Some("pw".to_owned()),
            _ => None,
        };
        let config = Config::from_toml_with_env(text, env).unwrap();
        let keys = config.keys();
        assert_eq!(keys.lookup(KeySlot::Form { shop_id: "1", mode: Mode::Test }).unwrap().secrets().len(), 2);
        let prod = keys.lookup(KeySlot::Form { shop_id: "1", mode: Mode::Production }).unwrap();
        assert_eq!(prod.secrets()[0].expose(), b"prod");
        assert!(keys.lookup(KeySlot::RestPassword { shop_id: "1", mode: Mode::Test }).is_some());
        assert_eq!(config.limits(), Limits::default());
    }

    #[test]
    fn missing_env_names_the_variable_not_a_value() {
        let text = "[[shops]]\nshop_id = \"1\"\n[shops.form]\ntest_key_env = \"NOPE_NOT_SET\"\n";
        let err = Config::from_toml_with_env(text, |_| None).unwrap_err();
        assert!(err.to_string().contains("NOPE_NOT_SET"), "{err}");
    }

    #[test]
    fn parse_errors_do_not_echo_secrets() {
        let text = "[[shops]]\nshop_id = \"1\"\n[shops.form]\ntest_key = \"s3cr3t-value\"\nbogus = 1\n";
        let err = Config::from_toml(text).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t-value"), "{err}");
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn unknown_algorithm_is_an_error() {
        let text = "[[shops]]\nshop_id = \"1\"\n[shops.form]\nalgorithm = \"md5\"\ntest_key = \"k\"\n";
        assert!(matches!(Config::from_toml(text), Err(ConfigError::Invalid(_))));
    }
}
