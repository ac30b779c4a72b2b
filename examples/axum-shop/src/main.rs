//! `axum-shop`: the example shop. `--demo` plays the scenario against the in-process gateway
//! simulator; see the README.

use std::process::ExitCode;

use axum_shop::db::DbUrl;
use axum_shop::{Args, Options, StartError, demo, load_settings};
use clap::Parser;

fn options(args: &Args) -> Result<Options, StartError> {
    let settings = load_settings(args)?;
    let db = match (&args.db, args.demo) {
        (Some(url), _) => url.parse().map_err(|e| StartError::Config(format!("--db: {e}")))?,
        // The demo starts from an empty database each time, so that its expectations hold.
        (None, true) => {
            DbUrl::Sqlite(std::env::temp_dir().join(format!("axum-shop-demo-{}.sqlite", std::process::id())))
        }
        (None, false) => DbUrl::Sqlite("axum-shop.sqlite".into()),
    };
    Ok(Options {
        settings,
        db,
        bind: args.bind.clone(),
        gateway: args.gateway.clone(),
        centralbill: args.centralbill.clone().unwrap_or_else(|| args.gateway.clone()),
        public_url: args.public_url.clone(),
        mode: args.mode()?,
        fault_injector: false,
    })
}

/// Removes the demo's temporary database files (not a `--db` the user gave).
fn remove_demo_db(args: &Args, db: &DbUrl) {
    if let (true, None, DbUrl::Sqlite(path)) = (args.demo, &args.db, db) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let options = options(&args).map_err(|e| e.to_string())?;
    let db_url = options.db.clone();
    let result = serve(&args, options).await;
    remove_demo_db(&args, &db_url);
    result
}

async fn serve(args: &Args, options: Options) -> Result<ExitCode, String> {
    let db = options.db.to_string();
    if !args.demo {
        let shop = axum_shop::start(options).await.map_err(|e| e.to_string())?;
        eprintln!("axum-shop on {} ({db}); notifications: POST /ipn, /ipn/return, /ipn/centralbill", shop.url);
        return wait(shop.server).await;
    }
    let demo = demo::start(options).await.map_err(|e| e.to_string())?;
    println!("axum-shop demo: shop {} ({db})", demo.shop.url);
    println!(
        "  payment page simulator {} (notifies /ipn), CentralBill simulator {} (notifies /ipn/centralbill)",
        demo.gateway_url, demo.centralbill_url
    );
    println!();
    let steps = demo.play().await.map_err(|e| format!("the demo scenario broke: {e}"))?;
    print!("{}", demo::table(&steps));
    let all_ok = steps.iter().all(demo::StepResult::ok);
    println!();
    println!(
        "{}",
        if all_ok { "Every step matched its expectation." } else { "SOME STEPS DID NOT MATCH THEIR EXPECTATION." }
    );
    if args.demo_exit {
        return Ok(if all_ok { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    println!();
    println!("Open {}/ to buy something, then watch {}/notifications", demo.shop.url, demo.shop.url);
    println!("(the simulators' back office: {}/ and {}/). Ctrl-C to stop.", demo.gateway_url, demo.centralbill_url);
    wait(demo.shop.server).await
}

async fn wait(server: tokio::task::JoinHandle<std::io::Result<()>>) -> Result<ExitCode, String> {
    tokio::select! {
        result = server => match result {
            Ok(Ok(())) => Ok(ExitCode::SUCCESS),
            Ok(Err(e)) => Err(format!("server: {e}")),
            Err(e) => Err(format!("server task: {e}")),
        },
        _ = tokio::signal::ctrl_c() => Ok(ExitCode::SUCCESS),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    // The demo prints its own table; its log keeps to warnings (the forged notifications, the
    // injected failure, the API outage).
    let level = if args.demo { tracing::Level::WARN } else { tracing::Level::INFO };
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(level).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("axum-shop: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("axum-shop: {message}");
            ExitCode::from(2)
        }
    }
}
