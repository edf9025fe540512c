//! The webhook receiver: verifies, splits and durably queues; answers 2xx only after the queue
//! has accepted every event of the request.

pub mod body;
pub mod clickup;
pub mod error;
pub mod hubspot;
pub mod signature;

use std::{collections::HashMap, sync::Arc, time::Duration};

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse,
    dev::ServiceRequest,
    http::{Uri, header},
    web,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use self::{
    error::{ErrorBody, ReceiveError},
    signature::{Legacy, WebhookSecret},
};
use crate::{
    clock::Clock,
    domain::source::Source,
    metrics,
    queue::{Envelope, EventQueue},
};

/// What the webhook handlers share.
pub struct ReceiverState {
    /// Where accepted events go.
    pub queue: Arc<dyn EventQueue>,
    /// HubSpot's app client secret, when HubSpot is enabled.
    pub hubspot_secret: Option<WebhookSecret>,
    /// Each ClickUp webhook's secret by webhook id.
    pub clickup_secrets: HashMap<String, WebhookSecret>,
    /// The URL HubSpot calls, which it signs.
    pub public_base_url: String,
    /// Accepted v3 timestamp skew, both ways.
    pub tolerance_ms: i64,
    /// Whether v1/v2 signatures (no replay window) are accepted.
    pub legacy: Legacy,
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// How long reading a body may take (408 after).
    pub body_timeout: Duration,
    /// How long a publish may take, connecting and confirms included (503 after).
    pub publish_timeout: Duration,
    /// Webhook requests in flight; when none is left the request gets 503.
    pub in_flight: Arc<Semaphore>,
    /// "Now", injectable for tests.
    pub clock: Clock,
}

/// Mounts the webhook routes; any other method gets 405 with `Allow: POST`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/webhooks/hubspot")
            .route(web::post().to(hubspot::receive))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/webhooks/clickup")
            .route(web::post().to(clickup::receive))
            .default_service(web::to(method_not_allowed)),
    )
    .service(
        web::resource("/webhooks/clickup/{webhook_id}")
            .route(web::post().to(clickup::receive))
            .default_service(web::to(method_not_allowed)),
    );
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((header::ALLOW, "POST"))
        .json(ErrorBody {
            code: "method_not_allowed",
            detail: format!("{} is not accepted here; webhooks are POSTed", req.method()),
        })
}

/// The request URI before `NormalizePath` rewrote it: HubSpot signed the URI it called.
#[derive(Debug, Clone)]
pub struct ReceivedUri(Uri);

/// Keeps the URI as received; runs before any middleware that rewrites it.
pub fn remember_received_uri(req: &ServiceRequest) {
    let uri = req.uri().clone();
    req.extensions_mut().insert(ReceivedUri(uri));
}

/// The path and query exactly as the sender sent them.
fn received_path_and_query(req: &HttpRequest) -> String {
    let extensions = req.extensions();
    let uri = extensions.get::<ReceivedUri>().map_or(req.uri(), |r| &r.0);
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
}

/// A place among the requests in flight, or 503 when there is none (the sender retries).
fn admit(state: &ReceiverState) -> Result<OwnedSemaphorePermit, ReceiveError> {
    state
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ReceiveError::Busy)
}

/// Counts a request's outcome: accepted events, or the refusal and its signature reason.
fn record<T>(source: Source, result: &Result<(T, usize), ReceiveError>) {
    match result {
        Ok((_, accepted)) => metrics::events_accepted(source, *accepted),
        Err(e) => {
            if let ReceiveError::Signature(reason) = e {
                metrics::signature_failed(source, reason.reason());
            }
            metrics::request_refused(source, e.code());
        }
    }
}

/// Encodes and durably queues one request's events, timing the publish (confirms included).
async fn enqueue(state: &ReceiverState, envelopes: &[Envelope]) -> Result<(), ReceiveError> {
    let bodies = encode(envelopes)?;
    let started = std::time::Instant::now();
    // The whole publish, connecting included, is bounded: a broker that accepts connections but
    // never answers must not hold the sender past its own timeout.
    let published = tokio::time::timeout(state.publish_timeout, state.queue.publish(&bodies))
        .await
        .unwrap_or(Err(crate::queue::QueueError::ConfirmTimeout));
    metrics::publish_latency(started.elapsed(), published.is_ok());
    Ok(published?)
}

fn encode(envelopes: &[Envelope]) -> Result<Vec<Vec<u8>>, ReceiveError> {
    envelopes
        .iter()
        .map(|e| e.to_bytes().map_err(ReceiveError::from))
        .collect()
}
