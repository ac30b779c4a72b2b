//! The two apps a case is sent to, shared by the cross-adapter tests: an axum app (`ipn-tower`)
//! and an actix-web app (`ipn-actix`) built from one [`Case`], each answering with the status,
//! `content-type` and body the gateway would see (see `parity.rs` for how the routes are set up).
//!
//! Setup of the two apps, chosen so that every request reaches the middleware:
//! - axum: `Router::new().route(path, post(handler).layer(IpnLayer))`. `MethodRouter::layer`
//!   wraps the method router's fallback too, so a GET is answered by the layer (405 with the IPN
//!   reply), as in actix. (`route_layer` would leave GET to axum's own empty 405.)
//! - actix: `web::resource(path).wrap(IpnMiddleware).route(web::post().to(handler))`.
//!
//! Bodies are sent either whole with `Content-Length`, or streamed without it (axum
//! `Body::from_stream`, actix `Payload::Stream`), optionally breaking mid-stream. Each test binary
//! uses a part of it.

#![allow(dead_code, unreachable_pub)]

use futures_util::stream;
use ipn_core::{Receiver, Reply, RequestView};

pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// What the route's handler does once it has the notification.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Handler {
    /// `Ipn<Notification>` -> `IpnReply::order_updated()`.
    Success,
    /// `Ipn<Notification>` -> `Err(IpnError)`.
    Failure,
    /// `Ipn<RestNotification>` -> `IpnReply::order_updated()`.
    RestOnly,
    /// `Ipn<Notification>` and the raw body -> `200 <length> bytes for <order id>`.
    RawBody,
    /// `Ipn<Notification>` twice -> rejected: the first took the notification.
    Twice,
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// The whole body, with `Content-Length`.
    Sized(Vec<u8>),
    /// Chunks without `Content-Length`; `broken` ends the stream with an error.
    Streamed { chunks: Vec<Vec<u8>>, broken: bool },
}

#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) receiver: Receiver,
    /// Whether the route is wrapped by the middleware.
    pub(crate) wrapped: bool,
    pub(crate) handler: Handler,
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    /// The reply both adapters must answer.
    pub(crate) expected: Reply,
}

impl Case {
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap()
    }
}

/// A reply as the gateway sees it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn expected(reply: &Reply) -> Self {
        Self { status: reply.status(), content_type: Some(TEXT_PLAIN.to_owned()), body: reply.body().to_owned() }
    }
}

/// What the core alone concludes for a case's request: `handled` when it verifies, the
/// rejection's reply otherwise.
pub(crate) fn core_reply(case: &Case, handled: Reply) -> Reply {
    let Body::Sized(body) = &case.body else { panic!("{}: the core reads whole bodies", case.name) };
    let view = RequestView::new(&case.method, &case.target, &case.headers, body);
    match pollster::block_on(case.receiver.receive(view)) {
        Ok(_) => handled,
        Err(rejected) => rejected.reply,
    }
}

// ---------------------------------------------------------------------------------------------
// ipn-tower (axum)

mod tower_app {
    use axum::body::Bytes;
    use ipn_core::{Notification, Reply, RestNotification};
    use ipn_tower::{Ipn, IpnError, IpnReply};

    pub(crate) async fn success(Ipn(_n): Ipn<Notification>) -> IpnReply {
        IpnReply::order_updated()
    }

    pub(crate) async fn failure(Ipn(_n): Ipn<Notification>) -> Result<IpnReply, IpnError> {
        Err(IpnError::from("database unavailable"))
    }

    pub(crate) async fn rest_only(Ipn(_n): Ipn<RestNotification>) -> IpnReply {
        IpnReply::order_updated()
    }

    pub(crate) async fn raw_body(Ipn(n): Ipn<Notification>, raw: Bytes) -> IpnReply {
        IpnReply::from(Reply::new(200, format!("{} bytes for {}", raw.len(), n.order_id().unwrap_or("-"))))
    }

    pub(crate) async fn twice(Ipn(_a): Ipn<Notification>, Ipn(_b): Ipn<Notification>) -> IpnReply {
        IpnReply::order_updated()
    }
}

pub(crate) async fn tower_answer(case: &Case) -> Answer {
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt;

    let method_router = match case.handler {
        Handler::Success => post(tower_app::success),
        Handler::Failure => post(tower_app::failure),
        Handler::RestOnly => post(tower_app::rest_only),
        Handler::RawBody => post(tower_app::raw_body),
        Handler::Twice => post(tower_app::twice),
    };
    let method_router =
        if case.wrapped { method_router.layer(ipn_tower::IpnLayer::new(case.receiver.clone())) } else { method_router };
    let router = Router::new().route(case.path(), method_router);

    let mut builder = http::Request::builder().method(case.method.as_str()).uri(case.target.as_str());
    for (name, value) in &case.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let body = match &case.body {
        Body::Sized(body) => {
            builder = builder.header(http::header::CONTENT_LENGTH, body.len());
            axum::body::Body::from(body.clone())
        }
        Body::Streamed { chunks, broken } => {
            let mut items: Vec<Result<Vec<u8>, std::io::Error>> = chunks.iter().cloned().map(Ok).collect();
            if *broken {
                items.push(Err(std::io::Error::other("connection reset by peer")));
            }
            axum::body::Body::from_stream(stream::iter(items))
        }
    };
    let response = router.oneshot(builder.body(body).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let content_type =
        response.headers().get(http::header::CONTENT_TYPE).map(|value| value.to_str().unwrap().to_owned());
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    Answer { status, content_type, body: String::from_utf8(body.to_vec()).unwrap() }
}

// ---------------------------------------------------------------------------------------------
// ipn-actix

mod actix_app {
    use actix_web::web::Bytes;
    use ipn_actix::{Ipn, IpnError, IpnReply};
    use ipn_core::{Notification, Reply, RestNotification};

    pub(crate) async fn success(Ipn(_n): Ipn<Notification>) -> IpnReply {
        IpnReply::order_updated()
    }

    pub(crate) async fn failure(Ipn(_n): Ipn<Notification>) -> Result<IpnReply, IpnError> {
        Err(IpnError::from("database unavailable"))
    }

    pub(crate) async fn rest_only(Ipn(_n): Ipn<RestNotification>) -> IpnReply {
        IpnReply::order_updated()
    }

    pub(crate) async fn raw_body(Ipn(n): Ipn<Notification>, raw: Bytes) -> IpnReply {
        IpnReply::from(Reply::new(200, format!("{} bytes for {}", raw.len(), n.order_id().unwrap_or("-"))))
    }

    pub(crate) async fn twice(Ipn(_a): Ipn<Notification>, Ipn(_b): Ipn<Notification>) -> IpnReply {
        IpnReply::order_updated()
    }
}

pub(crate) async fn actix_answer(case: &Case) -> Answer {
    use actix_web::dev::Payload;
    use actix_web::error::PayloadError;
    use actix_web::test::{self, TestRequest};
    use actix_web::web::{self, Bytes};
    use actix_web::{App, HttpMessage as _};

    let route = || match case.handler {
        Handler::Success => web::post().to(actix_app::success),
        Handler::Failure => web::post().to(actix_app::failure),
        Handler::RestOnly => web::post().to(actix_app::rest_only),
        Handler::RawBody => web::post().to(actix_app::raw_body),
        Handler::Twice => web::post().to(actix_app::twice),
    };

    let mut request = TestRequest::default().method(case.method.parse().unwrap()).uri(&case.target);
    for (name, value) in &case.headers {
        request = request.append_header((name.as_str(), value.as_str()));
    }
    let request = match &case.body {
        // `set_payload` also sets `Content-Length`.
        Body::Sized(body) => request.set_payload(body.clone()).to_request(),
        Body::Streamed { chunks, broken } => {
            let mut items: Vec<Result<Bytes, PayloadError>> =
                chunks.iter().map(|chunk| Ok(Bytes::from(chunk.clone()))).collect();
            if *broken {
                items.push(Err(PayloadError::Incomplete(None)));
            }
            let payload: Payload = Payload::Stream { payload: Box::pin(stream::iter(items)) };
            let (request, _) = request.to_request().replace_payload(payload);
            assert!(request.headers().get("content-length").is_none());
            request
        }
    };

    let response = if case.wrapped {
        let middleware = ipn_actix::IpnMiddleware::new(case.receiver.clone());
        let app =
            test::init_service(App::new().service(web::resource(case.path()).wrap(middleware).route(route()))).await;
        test::call_service(&app, request).await.map_into_boxed_body()
    } else {
        let app = test::init_service(App::new().service(web::resource(case.path()).route(route()))).await;
        test::call_service(&app, request).await.map_into_boxed_body()
    };
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned());
    let body = test::read_body(response).await;
    Answer { status, content_type, body: String::from_utf8(body.to_vec()).unwrap() }
}
