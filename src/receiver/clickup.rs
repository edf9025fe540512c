//! `POST /webhooks/clickup[/{webhook_id}]`: each ClickUp webhook signs with its own secret.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ReceiverState, body, error::ReceiveError, signature::verify_clickup};
use crate::{
    domain::{
        event::{Envelope, EventId},
        source::Source,
    },
    sources::clickup::latest_item_ms,
};

/// Only what is needed to choose the secret; read from the still-unverified body.
#[derive(Deserialize)]
struct WebhookId {
    webhook_id: Option<String>,
}

/// Receives one ClickUp event; the webhook id comes from the path when registered that way,
/// else from the body (used only to pick the secret before verification).
pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    path: Option<web::Path<String>>,
    state: web::Data<ReceiverState>,
) -> Result<HttpResponse, ReceiveError> {
    let result = accept(&req, payload, path.map(web::Path::into_inner), &state).await;
    super::record(Source::ClickUp, &result);
    result.map(|(response, _)| response)
}

async fn accept(
    req: &HttpRequest,
    payload: web::Payload,
    path: Option<String>,
    state: &ReceiverState,
) -> Result<(HttpResponse, usize), ReceiveError> {
    let _permit = super::admit(state)?;
    let bytes = body::read_limited(req, payload, state.max_body_bytes, state.body_timeout).await?;
    let webhook_id = match path {
        Some(id) => id,
        None => serde_json::from_slice::<WebhookId>(&bytes)
            .ok()
            .and_then(|w| w.webhook_id)
            .ok_or(ReceiveError::UnknownWebhook)?,
    };
    let secret = state
        .clickup_secrets
        .get(&webhook_id)
        .ok_or(ReceiveError::UnknownWebhook)?;
    let signature = req.headers().get("X-Signature").and_then(|v| v.to_str().ok());
    verify_clickup(secret, signature, &bytes)?;
    let envelope = envelope(&bytes, &webhook_id)?;
    super::enqueue(state, std::slice::from_ref(&envelope)).await?;
    Ok((HttpResponse::Ok().json(json!({ "accepted": 1 })), 1))
}

/// Turns a verified ClickUp body into one event with its dedup key.
pub fn envelope(bytes: &[u8], webhook_id: &str) -> Result<Envelope, ReceiveError> {
    let event: Value = serde_json::from_slice(bytes)
        .map_err(|e| ReceiveError::Malformed(format!("expected a JSON object: {e}")))?;
    if !event.is_object() {
        return Err(ReceiveError::Malformed("expected a JSON object".into()));
    }
    let name = event
        .get("event")
        .and_then(Value::as_str)
        .ok_or_else(|| ReceiveError::Malformed("`event` is missing or not a string".into()))?
        .to_owned();
    if let Some(items) = event.get("history_items")
        && !items.is_array()
    {
        return Err(ReceiveError::Malformed("`history_items` is not an array".into()));
    }
    let object_id = ["task_id", "list_id", "folder_id", "space_id", "goal_id"]
        .iter()
        .find_map(|k| event.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned();
    let received_at = Utc::now();
    let latest = latest_item_ms(&event);
    let first_item = event.pointer("/history_items/0/id").and_then(Value::as_str);
    let id = match (first_item, latest) {
        (Some(item), _) => format!("clickup:{webhook_id}:{item}"),
        (None, Some(date)) => format!("clickup:{webhook_id}:{name}:{object_id}:{date}"),
        (None, None) => format!("clickup:{webhook_id}:{name}:{object_id}"),
    };
    Ok(Envelope {
        id: EventId::new(id),
        source: Source::ClickUp,
        event_type: name,
        object_id,
        occurred_at_ms: latest.unwrap_or_else(|| received_at.timestamp_millis()),
        received_at,
        payload: event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_history_item_id_is_the_dedup_key() {
        let body = br#"{"event":"taskUpdated","task_id":"t1","webhook_id":"w","history_items":[{"id":"h9","date":"1700000000000"}]}"#;
        let env = envelope(body, "w").unwrap();
        assert_eq!(env.id, "clickup:w:h9");
        assert_eq!(env.occurred_at_ms, 1_700_000_000_000);
    }

    #[test]
    fn a_deletion_without_items_is_keyed_by_event_and_task() {
        let env = envelope(br#"{"event":"taskDeleted","task_id":"t1","webhook_id":"w"}"#, "w").unwrap();
        assert_eq!(env.id, "clickup:w:taskDeleted:t1");
    }

    #[test]
    fn a_body_without_event_is_malformed() {
        assert!(matches!(
            envelope(br#"{"task_id":"t"}"#, "w"),
            Err(ReceiveError::Malformed(_))
        ));
    }
}
