//! The measured server: one route, `POST /ipn`, on axum or actix-web, on one worker thread
//! (a tokio current-thread runtime; actix-web with one worker).
//!
//! Besides `/ipn`: `GET /__stats` and `POST /__hold/{n}` ([`Probe`]).

use std::fmt;
use std::hint::black_box;
use std::io;
use std::net::TcpListener;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use ipn_core::store::MemoryStore;
use ipn_core::{Notification, Receiver};
use sha2::Sha256;

use crate::notifications::{TEST_KEY, verifier};
use crate::probe::{Probe, StatsFn};

/// The web framework.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    /// axum 0.8 with `ipn_tower::IpnLayer`.
    Axum,
    /// actix-web 4 with `ipn_actix::IpnMiddleware`.
    Actix,
}

impl Framework {
    /// Both, in table order.
    pub const ALL: [Framework; 2] = [Framework::Axum, Framework::Actix];

    /// `axum` or `actix`.
    pub const fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::Actix => "actix",
        }
    }
}

/// What `POST /ipn` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Reads the body, answers 200.
    Bare,
    /// Reads the body, computes one HMAC-SHA-256 over it with the shop key, answers 200: the
    /// least any verification costs.
    Floor,
    /// A plain handler that calls the core's verification itself, without the middleware, and
    /// answers as `ipn` does: what the verification costs in a server, so that `ipn` less this
    /// route is what the middleware adds.
    Direct,
    /// Behind the IPN middleware; the handler takes the verified notification.
    Ipn,
    /// The same with the in-memory notification store (exactly-once).
    IpnStore,
    /// A plain handler running the naive form check (`ipn_core::testkit::naive_form_check`:
    /// `form_urlencoded` into a list, sort, join, HMAC, base64, compare), answering as `ipn`
    /// does: the third reference figure (about 70k req/s against the floor's 117k on its
    /// machine), which places this host's balance of scalar code and SHA-NI.
    Naive,
}

impl Route {
    /// Every route, in table order.
    pub const ALL: [Route; 6] = [Route::Bare, Route::Floor, Route::Direct, Route::Ipn, Route::IpnStore, Route::Naive];

    /// `bare`, `floor`, `direct`, `ipn`, `ipn-store`, `naive`.
    pub const fn name(self) -> &'static str {
        match self {
            Route::Bare => "bare",
            Route::Floor => "floor",
            Route::Direct => "direct",
            Route::Ipn => "ipn",
            Route::IpnStore => "ipn-store",
            Route::Naive => "naive",
        }
    }
}

/// A name that is not one of the known values.
#[derive(Debug, Clone)]
pub struct UnknownName(String);

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown name {:?}", self.0)
    }
}

impl std::error::Error for UnknownName {}

impl FromStr for Framework {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|f| f.name() == s).ok_or_else(|| UnknownName(s.to_owned()))
    }
}

impl FromStr for Route {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|r| r.name() == s).ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct Options {
    /// The framework.
    pub framework: Framework,
    /// The route.
    pub route: Route,
    /// The memory store's capacity (`ipn-store`).
    pub store_capacity: usize,
}

/// The command line of the server binaries.
#[derive(Debug, clap::Parser)]
#[command(about = "Serves one route of the IPN load benchmark on one worker thread")]
pub struct Args {
    /// axum or actix.
    #[arg(long)]
    pub framework: Framework,
    /// bare, floor, direct, ipn, ipn-store or naive.
    #[arg(long)]
    pub route: Route,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8480")]
    pub bind: std::net::SocketAddr,
    /// The memory store's capacity (ipn-store).
    #[arg(long, default_value_t = ipn_core::store::DEFAULT_MEMORY_CAPACITY)]
    pub store_capacity: usize,
}

/// The `main` of the server binaries: parses [`Args`], binds, serves; `stats` reads the
/// allocation counters when the binary counts allocations.
///
/// # Errors
///
/// Binding or serving fails.
pub fn main(stats: Option<StatsFn>) -> io::Result<()> {
    let args = <Args as clap::Parser>::parse();
    let listener = TcpListener::bind(args.bind)?;
    let options = Options { framework: args.framework, route: args.route, store_capacity: args.store_capacity };
    run(&options, listener, Arc::new(Probe::new(stats)))
}

/// The receiver of the `direct`, `ipn` and `ipn-store` routes.
pub fn receiver(route: Route, store_capacity: usize) -> Receiver {
    let receiver = Receiver::new(verifier());
    match route {
        Route::IpnStore => receiver.store(MemoryStore::new().capacity(store_capacity)),
        _ => receiver,
    }
}

/// The floor route's work: one HMAC-SHA-256 over the body.
fn hmac_body(body: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(TEST_KEY.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

const BARE_REPLY: &str = "Data received.";

/// The `naive` route's work: the naive form check, then the reply `ipn` answers; a body it
/// refuses gets a 400, so the generator fails the run.
fn check_naively(body: &[u8]) -> Result<&'static str, &'static str> {
    if ipn_core::testkit::naive_form_check(body, TEST_KEY.as_bytes()) {
        Ok(ipn_core::Outcome::Processed.default_message())
    } else {
        Err("Invalid signature.")
    }
}

/// The `direct` route's work: the verification as the middleware runs it, then the reply `ipn` answers, `200 Order successfully updated.`; a
/// refused notification gets its reply (answered through the adapter's `IpnReply`, as the
/// middleware answers it).
async fn verify_directly(
    receiver: &Receiver,
    headers: &(dyn ipn_core::Headers + Sync),
    body: &Bytes,
    probe: &Probe,
) -> Result<&'static str, ipn_core::Reply> {
    let view = ipn_core::RequestView::shared("POST", "/ipn", headers, body);
    let received = receiver.receive(view).await;
    black_box(&received.map_err(|rejected| rejected.reply)?);
    probe.pass().await;
    Ok(ipn_core::Outcome::Processed.default_message())
}

/// Serves `listener` until the process ends (blocks the calling thread).
///
/// # Errors
///
/// The runtime or the listener fails.
pub fn run(options: &Options, listener: TcpListener, probe: Arc<Probe>) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    match options.framework {
        Framework::Axum => axum_server::run(options, listener, probe),
        Framework::Actix => actix_server::run(options, listener, probe),
    }
}

/// The axum server.
pub mod axum_server {
    use axum::Router;
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::{get, post};
    use axum::serve::ListenerExt;
    use ipn_tower::{HttpHeaders, Ipn, IpnLayer, IpnReply};

    use super::*;

    async fn bare(State(probe): State<Arc<Probe>>, body: Bytes) -> &'static str {
        black_box(&body);
        probe.pass().await;
        BARE_REPLY
    }

    async fn floor(State(probe): State<Arc<Probe>>, body: Bytes) -> &'static str {
        black_box(hmac_body(&body));
        probe.pass().await;
        BARE_REPLY
    }

    async fn ipn(State(probe): State<Arc<Probe>>, Ipn(notification): Ipn<Notification>) -> IpnReply {
        black_box(&notification);
        probe.pass().await;
        IpnReply::order_updated()
    }

    async fn naive(State(probe): State<Arc<Probe>>, body: Bytes) -> Result<&'static str, (StatusCode, &'static str)> {
        let reply = check_naively(&body).map_err(|refusal| (StatusCode::BAD_REQUEST, refusal))?;
        probe.pass().await;
        Ok(reply)
    }

    async fn stats(State(probe): State<Arc<Probe>>) -> String {
        probe.report()
    }

    async fn hold(State(probe): State<Arc<Probe>>, Path(n): Path<usize>) -> &'static str {
        probe.arm(n);
        "armed"
    }

    /// The served app: `POST /ipn` as `options.route` says, and the probe's routes.
    pub fn app(options: &Options, probe: Arc<Probe>) -> Router {
        let route = match options.route {
            Route::Bare => post(bare),
            Route::Floor => post(floor),
            Route::Direct => {
                let receiver = Arc::new(receiver(options.route, options.store_capacity));
                post(move |State(probe): State<Arc<Probe>>, headers: HeaderMap, body: Bytes| async move {
                    verify_directly(&receiver, &HttpHeaders(&headers), &body, &probe).await.map_err(IpnReply::from)
                })
            }
            Route::Ipn | Route::IpnStore => {
                post(ipn).layer(IpnLayer::new(receiver(options.route, options.store_capacity)))
            }
            Route::Naive => post(naive),
        };
        Router::new()
            .route("/ipn", route)
            .route("/__stats", get(stats))
            .route("/__hold/{n}", post(hold))
            .with_state(probe)
    }

    pub(super) fn run(options: &Options, listener: std::net::TcpListener, probe: Arc<Probe>) -> io::Result<()> {
        let app = app(options, probe);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?.tap_io(|tcp| {
                // Each response is one write; no delay either way.
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app).await
        })
    }
}

/// The actix-web server.
pub mod actix_server {
    use actix_web::{App, Either, HttpRequest, HttpResponse, HttpServer, web};
    use ipn_actix::{HttpHeaders, Ipn, IpnMiddleware, IpnReply};

    use super::*;

    async fn bare(probe: web::Data<Probe>, body: web::Bytes) -> &'static str {
        black_box(&body);
        probe.pass().await;
        BARE_REPLY
    }

    async fn floor(probe: web::Data<Probe>, body: web::Bytes) -> &'static str {
        black_box(hmac_body(&body));
        probe.pass().await;
        BARE_REPLY
    }

    async fn ipn(probe: web::Data<Probe>, Ipn(notification): Ipn<Notification>) -> IpnReply {
        black_box(&notification);
        probe.pass().await;
        IpnReply::order_updated()
    }

    async fn direct(
        receiver: web::Data<Receiver>,
        probe: web::Data<Probe>,
        request: HttpRequest,
        body: web::Bytes,
    ) -> Either<&'static str, IpnReply> {
        match verify_directly(&receiver, &HttpHeaders(request.headers()), &body, &probe).await {
            Ok(body) => Either::Left(body),
            Err(reply) => Either::Right(IpnReply::from(reply)),
        }
    }

    async fn naive(probe: web::Data<Probe>, body: web::Bytes) -> actix_web::Result<&'static str> {
        let reply = check_naively(&body).map_err(actix_web::error::ErrorBadRequest)?;
        probe.pass().await;
        Ok(reply)
    }

    async fn stats(probe: web::Data<Probe>) -> HttpResponse {
        HttpResponse::Ok().body(probe.report())
    }

    async fn hold(probe: web::Data<Probe>, n: web::Path<usize>) -> &'static str {
        probe.arm(n.into_inner());
        "armed"
    }

    /// The served app's routes, for `App::configure` (one app per worker): `POST /ipn` as
    /// `route` says (`middleware` wraps it for the `ipn` routes; the `direct` route calls its
    /// receiver itself), and the probe's routes.
    pub fn configure(
        route: Route,
        middleware: IpnMiddleware,
        probe: web::Data<Probe>,
    ) -> impl FnOnce(&mut web::ServiceConfig) {
        move |config| {
            // `/ipn` first: actix tries routes in order, and matching `/__hold/{n}` first cost
            // every measured request a regex search (about 1.2k instructions).
            match route {
                Route::Bare => config.route("/ipn", web::post().to(bare)),
                Route::Floor => config.route("/ipn", web::post().to(floor)),
                Route::Direct => {
                    let receiver = web::Data::new(middleware.receiver().clone());
                    config.app_data(receiver).route("/ipn", web::post().to(direct))
                }
                Route::Ipn | Route::IpnStore => {
                    config.service(web::resource("/ipn").wrap(middleware).route(web::post().to(ipn)))
                }
                Route::Naive => config.route("/ipn", web::post().to(naive)),
            };
            config.app_data(probe).route("/__stats", web::get().to(stats)).route("/__hold/{n}", web::post().to(hold));
        }
    }

    /// The middleware of the `ipn` routes (built once: the workers share its store).
    pub fn middleware(options: &Options) -> IpnMiddleware {
        IpnMiddleware::new(receiver(options.route, options.store_capacity))
    }

    pub(super) fn run(options: &Options, listener: std::net::TcpListener, probe: Arc<Probe>) -> io::Result<()> {
        let route = options.route;
        let middleware = middleware(options);
        let probe = web::Data::from(probe);
        actix_web::rt::System::new().block_on(async move {
            HttpServer::new(move || App::new().configure(configure(route, middleware.clone(), probe.clone())))
                .workers(1)
                // An idle keep-alive connection stays open for a minute: in the paired
                // measurement a route waits while the four others are driven, up to about 5 s,
                // actix-web's default (which would close its connections under the generator).
                .keep_alive(std::time::Duration::from_secs(60))
                .disable_signals()
                .shutdown_timeout(0)
                .listen(listener)?
                .run()
                .await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Framework::ALL {
            assert_eq!(f.name().parse::<Framework>().ok(), Some(f));
        }
        for r in Route::ALL {
            assert_eq!(r.name().parse::<Route>().ok(), Some(r));
        }
        assert!("nope".parse::<Route>().is_err());
    }
}
