#![doc = include_str!("../README.md")]

pub mod checkout;
pub mod db;
pub mod demo;
pub mod notify;
pub mod orders;
pub mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use clap::Parser;
use ipn_cli::Settings;
use ipn_core::{KeySlot, Mode};

use crate::checkout::Merchant;
use crate::db::{Db, DbUrl};

/// The demo configuration: obviously-test keys (the public test vectors' keys), TEST mode.
pub const DEMO_CONFIG: &str = include_str!("../demo.toml");

/// The command line.
#[derive(Debug, Clone, Parser)]
#[command(name = "actix-shop", version, about = "Example shop receiving verified payment notifications (IPN)")]
pub struct Args {
    /// The configuration file (shops, keys, limits: the TOML of DESIGN.md). Optional with
    /// `--demo`, which has its own test keys.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:3000")]
    pub bind: String,
    /// The database: a SQLite file path (or `sqlite:PATH`), or `postgres://...`. Default:
    /// `actix-shop.sqlite`, or a fresh file in the temp directory with `--demo`.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,
    /// Start the gateway simulator in-process, play the demo scenario, print what happened,
    /// then keep serving.
    #[arg(long)]
    pub demo: bool,
    /// With `--demo`: exit after the scenario (0 when every step matched its expectation).
    #[arg(long, requires = "demo")]
    pub demo_exit: bool,
    /// Where the hosted payment form is posted (base URL; `/vads-payment/` is appended).
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub gateway: String,
    /// Where CentralBill payment links point (base URL; `/link` is appended). Default: `--gateway`.
    #[arg(long, value_name = "URL")]
    pub centralbill: Option<String>,
    /// The shop's public base URL, for the gateway's return link. Default: `http://ADDR`.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// The mode of the payments the shop requests, and of the notifications it accepts: in
    /// PRODUCTION, TEST-mode notifications are refused (403) whatever the configuration's
    /// `accept_test_mode` says. Default: TEST with `--demo`, PRODUCTION otherwise.
    #[arg(long, value_name = "MODE", value_parser = ["TEST", "PRODUCTION"])]
    pub mode: Option<String>,
}

impl Args {
    /// The mode asked for (`--mode`), else TEST for the demo and PRODUCTION for a real run: a
    /// shop started without `--mode` is a production shop, and refuses TEST notifications.
    ///
    /// # Errors
    ///
    /// A `--mode` other than `TEST` or `PRODUCTION`.
    pub fn mode(&self) -> Result<Mode, StartError> {
        match self.mode.as_deref() {
            Some(mode) => {
                Mode::parse(mode).ok_or_else(|| StartError::Config(format!("--mode {mode:?}: TEST or PRODUCTION")))
            }
            None if self.demo => Ok(Mode::Test),
            None => Ok(Mode::Production),
        }
    }
}

/// Why the shop cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A bad option or configuration (the message never holds a secret).
    #[error("{0}")]
    Config(String),
    /// The database cannot be opened or migrated.
    #[error(transparent)]
    Db(#[from] db::DbError),
    /// The notification store cannot be set up.
    #[error("notification store: {0}")]
    Store(#[from] ipn_core::StoreError),
    /// The address cannot be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Everything the shop needs to start.
#[derive(Debug, Clone)]
pub struct Options {
    /// Shops, keys, limits.
    pub settings: Settings,
    /// The database.
    pub db: DbUrl,
    /// The address to listen on (`127.0.0.1:0` for any free port).
    pub bind: String,
    /// Base URL of the hosted payment page.
    pub gateway: String,
    /// Base URL of CentralBill payment links.
    pub centralbill: String,
    /// The shop's public base URL; `None`: `http://` and the bound address.
    pub public_url: Option<String>,
    /// The mode of the payments requested; in PRODUCTION the notification routes refuse TEST-mode
    /// notifications, in TEST they accept them.
    pub mode: Mode,
    /// Enables `POST /demo/fail-next`, the demo's fault injector.
    pub fault_injector: bool,
}

/// A shop serving on a bound address.
#[derive(Debug)]
pub struct RunningShop {
    /// The bound address.
    pub addr: SocketAddr,
    /// `http://` and the bound address.
    pub url: String,
    /// The shop's state (database, merchant identity).
    pub state: web::AppState,
    /// The server task.
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Reads the configuration named on the command line, or the demo's.
///
/// # Errors
///
/// No `--config` outside the demo, or a file that cannot be read or is invalid.
pub fn load_settings(args: &Args) -> Result<Settings, StartError> {
    match (&args.config, args.demo) {
        (Some(path), _) => Settings::load(path).map_err(StartError::Config),
        (None, true) => Settings::from_toml(DEMO_CONFIG).map_err(StartError::Config),
        (None, false) => Err(StartError::Config("--config FILE is required (or try --demo)".to_owned())),
    }
}

/// The shop's identity from the configuration: the first shop (its form key for `mode`) and the
/// first CentralBill application, if any.
///
/// # Errors
///
/// No shop, or no form key for the mode.
pub fn merchant(options: &Options, public_url: String) -> Result<Merchant, StartError> {
    let settings = &options.settings;
    let shop_id = settings
        .shop_ids()
        .first()
        .cloned()
        .ok_or_else(|| StartError::Config("the configuration has no shop".into()))?;
    let (form_key, algorithm) =
        settings.signing_key(KeySlot::Form { shop_id: &shop_id, mode: options.mode }).ok_or_else(|| {
            StartError::Config(format!("shop {shop_id} has no {} form key in the configuration", options.mode.as_str()))
        })?;
    let application = settings.application_ids().first().and_then(|id| {
        let (secret, _) = settings.signing_key(KeySlot::Application { application_id: id })?;
        Some((id.clone(), secret))
    });
    Ok(Merchant {
        shop_id,
        mode: options.mode,
        form_key,
        algorithm,
        application,
        payment_page_url: format!("{}/vads-payment/", options.gateway.trim_end_matches('/')),
        payment_link_url: format!("{}/link", options.centralbill.trim_end_matches('/')),
        public_url,
    })
}

/// Connects the database (running the migrations), binds, and serves in a task: an
/// `actix_web::HttpServer` on the current tokio runtime (its workers run on their own threads).
///
/// # Errors
///
/// See [`StartError`].
pub async fn start(options: Options) -> Result<RunningShop, StartError> {
    let db = Db::connect(&options.db).await?;
    let bind_error = |source| StartError::Bind { addr: options.bind.clone(), source };
    let listener = std::net::TcpListener::bind(&options.bind).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let url = format!("http://{addr}");
    let public_url = options.public_url.clone().unwrap_or_else(|| url.clone());
    let merchant = merchant(&options, public_url.trim_end_matches('/').to_owned())?;
    let fault = options.fault_injector.then(|| Arc::new(AtomicBool::new(false)));
    let state = web::AppState::new(db, merchant, fault)?;
    let routes = web::routes(state.clone(), options.settings.config().clone()).await?;
    let server = actix_web::HttpServer::new(move || actix_web::App::new().configure(routes.clone()))
        // The binary handles Ctrl-C itself (`src/main.rs`).
        .disable_signals()
        .listen(listener)
        .map_err(bind_error)?
        .run();
    let server = tokio::spawn(server);
    Ok(RunningShop { addr, url, state, server })
}
