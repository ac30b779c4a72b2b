//! `ipn`: verify and explain captured payment notifications, sign and send test ones, run a
//! local gateway simulator. See `ipn --help`.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use ipn_cli::explain::{Context, explain};
use ipn_cli::send::{self, Resign, RetryPolicy};
use ipn_cli::sign::{SignSpec, build};
use ipn_cli::{Settings, parse_request, receiver, report};
use ipn_core::testkit::RawRequest;
use ipn_core::{Endpoint, FixedClock, KeySlot, Mode, Scheme};

/// Exit status of usage and configuration errors.
const USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "ipn",
    version,
    about = "Verify, explain, sign and send payment notifications (Lyra form vads_*, REST kr-*, CentralBill links)",
    after_help = "Examples:\n  ipn verify --config ipn.toml captured.http\n  ipn explain --config ipn.toml captured.http\n  ipn sign --config ipn.toml --scheme form --template refund > refund.http\n  ipn send http://localhost:3000/ipn refund.http --config ipn.toml --retry-interval 5s\n  ipn gateway --config ipn.toml --notify http://localhost:3000/ipn"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a captured request; print the verdict as JSON (exit 0 valid, 1 rejected, 2 usage).
    #[command(
        after_help = "Example:\n  ipn verify --config ipn.toml --endpoint ipn captured.http\n  ipn verify --config ipn.toml --now 'Thu, 01 Dec 2022 19:08:22 GMT' link.http\n\nREQUEST-FILE is a raw HTTP/1.1 request (request line, headers, empty line, body; CRLF or LF);\nthe body is Content-Length bytes when the header is present, else the rest of the file."
    )]
    Verify(VerifyArgs),
    /// Explain why a captured request is rejected: what was computed, and the usual mistakes.
    #[command(
        after_help = "Example:\n  ipn explain --config ipn.toml captured.http\n\nShows the signing string (the key's place named, never the key), the received signature, the\nfirst 6 characters of each expected one and whether the received one matches, the key slot\ntried, and tests: TEST/PRODUCTION keys swapped, SHA-1 vs HMAC-SHA-256, REST HMAC key vs\npassword, a re-encoded body, a stripped Digest, clock skew. Never prints a key nor, without\n--reveal-signature, a whole signature: the output is safe to share."
    )]
    Explain(ExplainArgs),
    /// Print a signed raw HTTP request built from a realistic template.
    #[command(
        after_help = "Examples:\n  ipn sign --config ipn.toml --scheme form --template refused --set vads_amount=1000\n  ipn sign --config ipn.toml --scheme rest --set orderDetails.orderId=A-1 --set /orderDetails/orderTotalAmount:=990\n  ipn sign --config ipn.toml --scheme rest --endpoint return\n  ipn sign --config ipn.toml --scheme link --template completed --set invoice.id=INV-9\n\nTemplates: form: accepted (default), refused, abandoned, refund, cancellation, validation,\ntoken-creation; rest: payment (default), refused; link: completed (default), refused, canceled,\nneeds-validation. A FILE instead (a captured request, a form body, a JSON answer or body) is\nsigned again with its fields. --set name=value sets a form field, or a string at a JSON pointer\nor dotted path (REST answer, link body); path:=JSON sets a raw JSON value."
    )]
    Sign(SignArgs),
    /// POST a request like the gateway: status decides, 256 bytes stored, failures retried.
    #[command(
        after_help = "Example:\n  ipn send http://localhost:3000/ipn accepted.http --config ipn.toml --retries 2 --retry-interval 2s\n\nDelivered: 200-206, 301, 302, 303, 307, 308 (PROTOCOLS 1.6). A retry of a form notification\ncarries vads_url_check_src=RETRY and a fresh signature, so --config is required to retry one."
    )]
    Send(SendArgs),
    /// Run a local gateway simulator: payment pages, IPNs with retries, back-office actions.
    #[command(
        after_help = "Example:\n  ipn gateway --config ipn.toml --notify http://localhost:3000/ipn --bind 127.0.0.1:8080\n\nPost a signed payment form (vads_* fields and signature) to http://ADDR/vads-payment/, or open a\nCentralBill link http://ADDR/link?applicationId=..&invoiceId=..&customerId=..&amount=..&currency=..&signature=..\nthen choose accept, refuse or abandon; back-office actions are on http://ADDR/.\n\nThe REST API answers V4/Transaction/Get for the transactions of form payments (HTTP Basic with\nthe shop id and the REST API password of the transaction's mode):\n  curl -u 12345678:PASSWORD -H 'Content-Type: application/json' -d '{\"uuid\":\"UUID\"}' http://ADDR/api-payment/V4/Transaction/Get\nPOST http://ADDR/api-payment/outage/N makes the next N calls answer 503, as --api-outage N does at start."
    )]
    Gateway(GatewayArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum EndpointArg {
    Ipn,
    Return,
}

impl From<EndpointArg> for Endpoint {
    fn from(value: EndpointArg) -> Self {
        match value {
            EndpointArg::Ipn => Endpoint::Ipn,
            EndpointArg::Return => Endpoint::Return,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum SchemeArg {
    Form,
    Rest,
    Link,
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Test,
    Production,
}

#[derive(Args)]
struct VerifyArgs {
    /// The configuration file (TOML: shops, applications, limits).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The endpoint the request was posted to: the IPN URL or the browser return.
    #[arg(long, value_enum, default_value = "ipn")]
    endpoint: EndpointArg,
    /// Verify as of this instant (an HTTP date), for a capture's signed Date.
    #[arg(long, value_name = "HTTP-DATE")]
    now: Option<String>,
    /// The captured request, or - for standard input.
    #[arg(value_name = "REQUEST-FILE")]
    request: PathBuf,
}

#[derive(Args)]
struct ExplainArgs {
    #[command(flatten)]
    verify: VerifyArgs,
    /// Print the expected signatures whole. For local use with test keys only: a whole
    /// signature computed over the request shown signs that request, whoever wrote it; do not
    /// share this output.
    #[arg(long)]
    reveal_signature: bool,
}

#[derive(Args)]
struct SignArgs {
    /// The configuration file holding the keys.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The wire format.
    #[arg(long, value_enum)]
    scheme: SchemeArg,
    /// TEST or PRODUCTION (form, REST): selects the key and the mode field.
    #[arg(long, value_enum)]
    mode: Option<ModeArg>,
    /// An override: name=value, or path:=JSON (repeatable).
    #[arg(long = "set", value_name = "NAME=VALUE")]
    sets: Vec<String>,
    /// A template name or a file to sign again.
    #[arg(long, value_name = "NAME|FILE")]
    template: Option<String>,
    /// ipn (REST password, form with vads_hash) or return (REST HMAC key, form browser return).
    #[arg(long, value_enum, default_value = "ipn")]
    endpoint: EndpointArg,
    /// The shop, when the configuration has several.
    #[arg(long)]
    shop: Option<String>,
    /// The CentralBill application, when the configuration has several.
    #[arg(long)]
    application: Option<String>,
    /// The request target (default /ipn, /ipn/link for link).
    #[arg(long, value_name = "PATH")]
    target: Option<String>,
    /// The Date of a link notification (an HTTP date; default now).
    #[arg(long, value_name = "HTTP-DATE")]
    date: Option<String>,
}

#[derive(Args)]
struct SendArgs {
    /// Where to POST (http only).
    url: String,
    /// The request to send (as printed by `ipn sign`), or - for standard input.
    #[arg(value_name = "REQUEST-FILE")]
    request: PathBuf,
    /// Automatic retries after a failed delivery.
    #[arg(long, default_value_t = send::DEFAULT_RETRIES)]
    retries: u32,
    /// The wait between attempts (the gateway waits for the next quarter hour).
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    retry_interval: String,
    /// The configuration, to sign form retries again.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct GatewayArgs {
    /// The configuration file holding the shops' keys.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The shop's notification URL.
    #[arg(long, value_name = "URL")]
    notify: String,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Automatic retries after a failed notification.
    #[arg(long, default_value_t = send::DEFAULT_RETRIES)]
    retries: u32,
    /// The wait between notification attempts.
    #[arg(long, value_name = "DURATION", default_value = "15m")]
    retry_interval: String,
    /// Answer the first N calls of the REST API (Transaction/Get) 503, as an unreachable API.
    #[arg(long, value_name = "N", default_value_t = 0)]
    api_outage: u32,
}

/// A failure that ends the command with a status and a message on stderr.
struct Fail(u8, String);

fn usage(message: impl Into<String>) -> Fail {
    Fail(USAGE, message.into())
}

fn read_request(path: &PathBuf) -> Result<RawRequest, Fail> {
    let bytes = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| usage(format!("cannot read standard input: {e}")))?;
        bytes
    } else {
        std::fs::read(path).map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?
    };
    parse_request(&bytes).map_err(|e| usage(format!("{}: {e}", path.display())))
}

fn runtime() -> Result<tokio::runtime::Runtime, Fail> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| usage(format!("cannot start the runtime: {e}")))
}

fn parse_now(now: Option<&str>) -> Result<Option<FixedClock>, Fail> {
    now.map(|n| FixedClock::from_http_date(n).ok_or_else(|| usage(format!("--now {n:?} is not an HTTP date"))))
        .transpose()
}

fn print_json(value: &serde_json::Value) -> Result<(), Fail> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Fail(1, e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// `reveal_signatures` is `None` for `verify`, `Some` for `explain`.
fn run_verify(args: &VerifyArgs, reveal_signatures: Option<bool>) -> Result<u8, Fail> {
    let settings = Settings::load(&args.config).map_err(usage)?;
    let now = parse_now(args.now.as_deref())?;
    let request = read_request(&args.request)?;
    let endpoint = Endpoint::from(args.endpoint);
    let receiver = receiver(&settings, endpoint, now);
    let rt = runtime()?;
    if let Some(reveal_signatures) = reveal_signatures {
        let ctx = Context { settings: &settings, receiver: &receiver, endpoint, reveal_signatures };
        let explanation = rt.block_on(explain(&ctx, &request));
        print!("{}", explanation.text);
        return Ok(if explanation.valid { 0 } else { 1 });
    }
    let (valid, document) = rt.block_on(report::verify(&receiver, &request));
    print_json(&document)?;
    Ok(if valid { 0 } else { 1 })
}

fn run_sign(args: &SignArgs) -> Result<u8, Fail> {
    let settings = Settings::load(&args.config).map_err(usage)?;
    let date = args
        .date
        .as_deref()
        .map(|d| ipn_core::link::parse_http_date(d).ok_or_else(|| usage(format!("--date {d:?} is not an HTTP date"))))
        .transpose()?;
    let spec = SignSpec {
        scheme: match args.scheme {
            SchemeArg::Form => Scheme::Form,
            SchemeArg::Rest => Scheme::Rest,
            SchemeArg::Link => Scheme::Link,
        },
        mode: args.mode.map(|m| match m {
            ModeArg::Test => Mode::Test,
            ModeArg::Production => Mode::Production,
        }),
        template: args.template.clone(),
        sets: args.sets.clone(),
        endpoint: args.endpoint.into(),
        shop: args.shop.clone(),
        application: args.application.clone(),
        target: args.target.clone(),
        date,
    };
    let request = build(&settings, &spec).map_err(usage)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&request.to_http(Some("localhost"))).map_err(|e| Fail(1, e.to_string()))?;
    out.flush().map_err(|e| Fail(1, e.to_string()))?;
    Ok(0)
}

fn run_send(args: &SendArgs) -> Result<u8, Fail> {
    let interval = send::parse_duration(&args.retry_interval).map_err(|e| usage(format!("--retry-interval: {e}")))?;
    let target =
        send::url_target(&args.url).ok_or_else(|| usage(format!("{:?}: only http:// URLs are supported", args.url)))?;
    let request = read_request(&args.request)?;
    let mut resign = None;
    if send::is_form(&request) && args.retries > 0 {
        let Some(config) = &args.config else {
            return Err(usage(
                "a form notification is retried with vads_url_check_src=RETRY and a fresh signature: give --config (or --retries 0)",
            ));
        };
        let settings = Settings::load(config).map_err(usage)?;
        let field =
            |name: &str| form_urlencoded::parse(request.body()).find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
        let shop_id = field("vads_site_id").unwrap_or_default();
        let mode = field("vads_ctx_mode")
            .as_deref()
            .and_then(Mode::parse)
            .ok_or_else(|| usage("vads_ctx_mode is neither TEST nor PRODUCTION"))?;
        let slot = KeySlot::Form { shop_id: &shop_id, mode };
        let (key, algorithm) =
            settings.signing_key(slot).ok_or_else(|| usage(format!("no {slot} in {}", config.display())))?;
        resign = Some(Resign { key, algorithm });
    }
    if request.header("signature").is_some() && request.target() != target {
        eprintln!(
            "warning: the link signature covers (request-target) {:?} but the URL's target is {target:?}",
            request.target()
        );
    }
    let policy = RetryPolicy { retries: args.retries, interval, resign };
    let total = args.retries.saturating_add(1);
    let delivery = send::deliver(&args.url, &request, &policy, |attempt| {
        println!("{}", attempt.progress_line(total, &args.url));
    })
    .map_err(usage)?;
    let n = delivery.attempts.len();
    if delivery.delivered() {
        println!("delivered after {n} attempt(s)");
        Ok(0)
    } else {
        println!("not delivered after {n} attempt(s)");
        Ok(1)
    }
}

fn run_gateway(args: &GatewayArgs) -> Result<u8, Fail> {
    let settings = Settings::load(&args.config).map_err(usage)?;
    let interval = send::parse_duration(&args.retry_interval).map_err(|e| usage(format!("--retry-interval: {e}")))?;
    if send::url_target(&args.notify).is_none() {
        return Err(usage(format!("--notify {:?}: only http:// URLs are supported", args.notify)));
    }
    let addr: std::net::SocketAddr = args.bind.parse().map_err(|e| usage(format!("--bind {:?}: {e}", args.bind)))?;
    let gateway =
        ipn_cli::gateway::Gateway::new(settings, args.notify.clone()).retries(args.retries).retry_interval(interval);
    gateway.api_outage(args.api_outage);
    let rt = runtime()?;
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|e| usage(format!("cannot listen on {addr}: {e}")))?;
        eprintln!("gateway simulator on http://{addr}/ notifying {}", args.notify);
        axum::serve(listener, gateway.router()).await.map_err(|e| Fail(1, e.to_string()))
    })?;
    Ok(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Verify(args) => run_verify(args, None),
        Command::Explain(args) => run_verify(&args.verify, Some(args.reveal_signature)),
        Command::Sign(args) => run_sign(args),
        Command::Send(args) => run_send(args),
        Command::Gateway(args) => run_gateway(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(Fail(code, message)) => {
            eprintln!("ipn: {message}");
            ExitCode::from(code)
        }
    }
}
