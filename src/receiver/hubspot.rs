//! `POST /webhooks/hubspot`: verify the raw bytes, split the batch, queue every event durably.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde_json::{Value, json};

use super::{
    ReceiverState, body,
    error::ReceiveError,
    signature::{HubSpotHeaders, HubSpotRequest, verify_hubspot},
};
use crate::{
    domain::{
        event::{Envelope, EventId},
        source::Source,
    },
    sources::hubspot::subscription_type,
};

/// Most events HubSpot puts in one request (webhooks API docs).
pub const MAX_BATCH: usize = 100;

/// Receives one HubSpot delivery (a JSON array of up to 100 events).
pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReceiverState>,
) -> Result<HttpResponse, ReceiveError> {
    let result = accept(&req, payload, &state).await;
    super::record(Source::HubSpot, &result);
    result.map(|(response, _)| response)
}

async fn accept(
    req: &HttpRequest,
    payload: web::Payload,
    state: &ReceiverState,
) -> Result<(HttpResponse, usize), ReceiveError> {
    let _permit = super::admit(state)?;
    let secret = state
        .hubspot_secret
        .as_ref()
        .ok_or(ReceiveError::NotConfigured("HubSpot"))?;
    let bytes = body::read_limited(req, payload, state.max_body_bytes, state.body_timeout).await?;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let headers = HubSpotHeaders {
        signature_v3: header("X-HubSpot-Signature-v3"),
        timestamp: header("X-HubSpot-Request-Timestamp"),
        signature: header("X-HubSpot-Signature"),
        version: header("X-HubSpot-Signature-Version"),
    };
    let path_and_query = super::received_path_and_query(req);
    let request = HubSpotRequest {
        method: req.method().as_str(),
        public_base_url: &state.public_base_url,
        path_and_query: &path_and_query,
        body: &bytes,
    };
    verify_hubspot(
        secret,
        &headers,
        &request,
        state.clock.now_ms(),
        state.tolerance_ms,
        state.legacy,
    )?;
    let envelopes = split(&bytes)?;
    super::enqueue(state, &envelopes).await?;
    let accepted = envelopes.len();
    Ok((HttpResponse::Ok().json(json!({ "accepted": accepted })), accepted))
}

/// Splits a verified batch into single events, each with its stable dedup key.
pub fn split(bytes: &[u8]) -> Result<Vec<Envelope>, ReceiveError> {
    let events: Vec<Value> = serde_json::from_slice(bytes)
        .map_err(|e| ReceiveError::Malformed(format!("expected a JSON array of events: {e}")))?;
    if events.len() > MAX_BATCH {
        return Err(ReceiveError::Malformed(format!(
            "{} events in one request; HubSpot sends at most {MAX_BATCH}",
            events.len()
        )));
    }
    let received_at = Utc::now();
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| envelope(i, event, received_at))
        .collect()
}

fn envelope(
    index: usize,
    event: Value,
    received_at: chrono::DateTime<Utc>,
) -> Result<Envelope, ReceiveError> {
    let missing = |field: &str| {
        ReceiveError::Malformed(format!(
            "event {index}: `{field}` is missing or not of the documented type"
        ))
    };
    if !event.is_object() {
        return Err(ReceiveError::Malformed(format!("event {index} is not an object")));
    }
    let subscription = subscription_type(&event)
        .ok_or_else(|| missing("subscriptionType"))?
        .to_owned();
    let object_id = id_text(event.get("objectId")).ok_or_else(|| missing("objectId"))?;
    let portal = id_text(event.get("portalId")).ok_or_else(|| missing("portalId"))?;
    let occurred_at_ms = event
        .get("occurredAt")
        .and_then(Value::as_i64)
        .ok_or_else(|| missing("occurredAt"))?;
    let property = event
        .get("propertyName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    Ok(Envelope {
        // eventId is not unique (HubSpot docs); this tuple is.
        id: EventId::new(format!(
            "hubspot:{portal}:{subscription}:{object_id}:{property}:{occurred_at_ms}"
        )),
        source: Source::HubSpot,
        event_type: subscription,
        object_id,
        occurred_at_ms,
        received_at,
        payload: event,
    })
}

/// HubSpot ids are numbers; accept their string form too.
fn id_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_split_into_events_with_stable_keys() {
        let body = br#"[{"portalId":1,"subscriptionType":"contact.propertyChange","objectId":5,"propertyName":"email","propertyValue":"a@x.com","occurredAt":10},
                        {"portalId":1,"subscriptionType":"contact.creation","objectId":6,"occurredAt":11}]"#;
        let events = split(body).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].id, "hubspot:1:contact.propertyChange:5:email:10");
        assert_eq!(events[1].id, "hubspot:1:contact.creation:6::11");
    }

    #[test]
    fn an_event_without_object_id_is_malformed_and_named() {
        let err =
            split(br#"[{"portalId":1,"subscriptionType":"contact.creation","occurredAt":1}]"#).unwrap_err();
        assert!(err.to_string().contains("objectId"), "{err}");
    }

    #[test]
    fn a_batch_over_one_hundred_events_is_malformed() {
        let event = r#"{"portalId":1,"subscriptionType":"contact.creation","objectId":6,"occurredAt":11}"#;
        let batch = |n: usize| format!("[{}]", vec![event; n].join(","));
        assert_eq!(split(batch(100).as_bytes()).unwrap().len(), 100);
        assert!(matches!(
            split(batch(101).as_bytes()),
            Err(ReceiveError::Malformed(_))
        ));
    }

    #[test]
    fn an_object_instead_of_an_array_is_malformed() {
        assert!(matches!(split(br#"{"a":1}"#), Err(ReceiveError::Malformed(_))));
    }
}
