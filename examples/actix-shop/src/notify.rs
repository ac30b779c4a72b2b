//! The notification routes: actix-web handlers wrapped by `ipn_actix::IpnMiddleware`, so they
//! only ever run for a verified notification, once (the notification store on the shop's
//! database answers duplicates). Each updates the order by the notification's nature and
//! records it, with the reply, in the order's history.
//!
//! Every delivery to these routes, including the ones the middleware rejects, also goes to a small
//! in-memory log: unauthenticated requests never reach the database.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, LOCATION};
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};
use ipn_actix::{Ipn, IpnError, IpnReply};
use ipn_core::{Notification, Reply};
use serde::Serialize;

use crate::orders::{Facts, decide};
use crate::web::AppState;

/// How many deliveries the in-memory log keeps.
pub const DELIVERY_LOG_SIZE: usize = 200;

/// One POST to a notification route, as answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryEntry {
    /// RFC 3339, UTC.
    pub at: String,
    /// The route.
    pub route: String,
    /// The request's content type.
    pub content_type: String,
    /// The status answered.
    pub status: u16,
    /// The first 256 bytes answered (what the gateway stores).
    pub reply: String,
    /// The order, when the notification was verified and processed.
    pub order_id: Option<String>,
}

/// The order a handler processed a notification for, passed to the delivery log in the
/// request's extensions (they survive the middleware rewriting the response).
#[derive(Debug, Clone)]
struct ProcessedOrder(String);

/// The demo's fault injector fired.
#[derive(Debug, thiserror::Error)]
#[error("demo fault injector: this update fails once on purpose")]
struct DemoFault;

/// `POST /ipn`: form and REST IPNs (CentralBill too, for a gateway with one notification URL).
pub async fn ipn(app: Data<AppState>, req: HttpRequest, Ipn(n): Ipn<Notification>) -> Result<IpnReply, IpnError> {
    let (reply, order_id) = process(&app, "/ipn", &n).await?;
    mark_order(&req, order_id);
    Ok(ipn_reply(reply))
}

/// `POST /ipn/centralbill`: CentralBill link notifications.
pub async fn centralbill(
    app: Data<AppState>,
    req: HttpRequest,
    Ipn(n): Ipn<Notification>,
) -> Result<IpnReply, IpnError> {
    let (reply, order_id) = process(&app, "/ipn/centralbill", &n).await?;
    mark_order(&req, order_id);
    Ok(ipn_reply(reply))
}

/// `POST /ipn/return`: the buyer's browser coming back with a signed REST answer (REST HMAC
/// key): the order is updated as by the IPN (whichever comes first), then the buyer is sent to
/// the order page.
pub async fn browser_return(
    app: Data<AppState>,
    req: HttpRequest,
    Ipn(n): Ipn<Notification>,
) -> Result<HttpResponse, IpnError> {
    let target = n.order_id().map_or_else(|| "/".to_owned(), |id| format!("/orders/{id}"));
    let reply = Reply::new(303, format!("See Other: {target}"));
    let (_, order_id) = process_with(&app, "/ipn/return", &n, Some(reply)).await?;
    mark_order(&req, order_id);
    Ok(HttpResponse::SeeOther().insert_header((LOCATION, target)).finish())
}

fn ipn_reply(reply: Reply) -> IpnReply {
    // The standard outcome keeps the middleware's wording overrides.
    if reply == Reply::order_updated() { IpnReply::order_updated() } else { IpnReply::from(reply) }
}

fn mark_order(req: &HttpRequest, order_id: Option<String>) {
    if let Some(id) = order_id {
        req.extensions_mut().insert(ProcessedOrder(id));
    }
}

async fn process(app: &AppState, route: &str, n: &Notification) -> Result<(Reply, Option<String>), IpnError> {
    process_with(app, route, n, None).await
}

/// Applies a notification to its order and records it; `sent` replaces the reply recorded (for
/// the browser return, which answers a redirect).
async fn process_with(
    app: &AppState,
    route: &str,
    n: &Notification,
    sent: Option<Reply>,
) -> Result<(Reply, Option<String>), IpnError> {
    let facts = Facts::from_notification(n);
    let failed = |effect: String| facts.record(route, effect, &Reply::update_failed());
    if app.fault().is_some_and(|f| f.swap(false, Ordering::SeqCst)) {
        // Recorded so that the history shows the failed delivery before its retry.
        if let Err(e) = app.db().record(failed(DemoFault.to_string())).await {
            tracing::error!(error = %e, "cannot record the failed notification");
        }
        return Err(DemoFault.into());
    }
    let result = app
        .db()
        .apply(facts.order_id.as_deref(), |order| {
            let decision = decide(order, &facts);
            let recorded = sent.as_ref().unwrap_or(&decision.reply);
            (decision.update, facts.record(route, decision.effect, recorded))
        })
        .await;
    match result {
        Ok(row) => {
            let reply = sent.unwrap_or_else(|| Reply::new(row.reply_status.try_into().unwrap_or(500), row.reply));
            Ok((reply, facts.order_id.clone()))
        }
        Err(error) => {
            let _ = app.db().record(failed(format!("update failed: {error}"))).await;
            Err(error.into())
        }
    }
}

/// Middleware on the notification routes (`actix_web::middleware::from_fn`): logs each delivery
/// and its answer in memory.
///
/// # Errors
///
/// The inner service failed (logged with its status, then passed on).
pub async fn log_delivery(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let app = req.app_data::<Data<AppState>>().cloned();
    let route = req.path().to_owned();
    let content_type: String =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("-").chars().take(80).collect();
    let entry = |status: u16, reply: String, order_id: Option<String>| DeliveryEntry {
        at: crate::web::now(),
        route: route.clone(),
        content_type: content_type.clone(),
        status,
        reply,
        order_id,
    };
    let response = match next.call(req).await {
        Ok(response) => response,
        Err(error) => {
            if let Some(app) = &app {
                let status = error.as_response_error().status_code().as_u16();
                app.push_delivery(entry(status, String::new(), None));
            }
            return Err(error);
        }
    };
    let (request, response) = response.into_parts();
    let status = response.status().as_u16();
    let (response, body) = response.into_parts();
    // Replies are at most 256 bytes; a redirect has none.
    let bytes = actix_web::body::to_bytes_limited(body, 64 * 1024).await.ok().and_then(Result::ok).unwrap_or_default();
    let stored = &bytes[..bytes.len().min(ipn_core::MAX_REPLY_BYTES)];
    let order_id = request.extensions().get::<ProcessedOrder>().map(|o| o.0.clone());
    if let Some(app) = &app {
        app.push_delivery(entry(status, String::from_utf8_lossy(stored).into_owned(), order_id));
    }
    Ok(ServiceResponse::new(request, response.set_body(BoxBody::new(bytes))))
}

/// Keeps the newest `DELIVERY_LOG_SIZE` entries.
pub(crate) fn push_bounded(log: &mut VecDeque<DeliveryEntry>, entry: DeliveryEntry) {
    if log.len() == DELIVERY_LOG_SIZE {
        log.pop_front();
    }
    log.push_back(entry);
}
