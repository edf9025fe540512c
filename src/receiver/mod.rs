//! The webhook receiver: verifies, splits and durably queues; answers 2xx only after the queue
//! has accepted every event of the request.

pub mod body;
pub mod clickup;
pub mod error;
pub mod hubspot;
pub mod signature;

use std::{collections::HashMap, sync::Arc};

use actix_web::web;

use self::{error::ReceiveError, signature::WebhookSecret};
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
    /// Largest accepted body.
    pub max_body_bytes: usize,
    /// "Now", injectable for tests.
    pub clock: Clock,
}

/// Mounts the webhook routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks/hubspot", web::post().to(hubspot::receive))
        .route("/webhooks/clickup", web::post().to(clickup::receive))
        .route("/webhooks/clickup/{webhook_id}", web::post().to(clickup::receive));
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
    let published = state.queue.publish(&bodies).await;
    metrics::publish_latency(started.elapsed(), published.is_ok());
    Ok(published?)
}

fn encode(envelopes: &[Envelope]) -> Result<Vec<Vec<u8>>, ReceiveError> {
    envelopes
        .iter()
        .map(|e| e.to_bytes().map_err(ReceiveError::from))
        .collect()
}
