//! One source event, already verified and split: what the receiver queues, the worker applies
//! and the store records. It lives in the domain, not the transport, because the store and the
//! sources read it whatever queue carried it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::source::Source;

/// The stable dedup key of one source event (`hubspot:…`, `clickup:…`): the inbox's primary
/// key, so a redelivered or re-sent event is recognised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    /// Wraps an id built by the receiver (or read back from the store) from the sender's fields.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as stored and logged.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for EventId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One verified webhook event as queued; the worker's only input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Stable dedup key; the inbox primary key.
    pub id: EventId,
    /// The system that sent it.
    pub source: Source,
    /// The sender's event type (`contact.propertyChange`, `taskUpdated`, …), kept as sent.
    pub event_type: String,
    /// The id of the object the event is about (HubSpot objectId, ClickUp task id).
    pub object_id: String,
    /// When the change happened at the source, Unix milliseconds; orders field updates.
    pub occurred_at_ms: i64,
    /// When our receiver accepted it.
    pub received_at: DateTime<Utc>,
    /// The single event's JSON exactly as it sat in the verified request.
    pub payload: serde_json::Value,
}

impl Envelope {
    /// Serializes for the queue.
    pub fn to_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Decodes a queued body; failure means a poison message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_event_decodes_to_the_numbers_its_sender_sent() {
        // Found by the `hubspot_payload` fuzz target: a 72-digit integer parsed to a float one
        // ULP off, so the worker stored a payload that differed from the request.
        let body = br#"[{"portalId":1,"subscriptionType":"contact.creation","objectId":6,"occurredAt":0,
            "note":[666666666666666666666666666666666666666666666666666666666666666666666668, 0.1, 1e-7]}]"#;
        let env = crate::receiver::hubspot::split(body).unwrap().remove(0);
        assert_eq!(env.payload["note"][0].as_f64(), Some(6.666666666666667e71));
        let queued = Envelope::from_bytes(&env.to_bytes().unwrap()).unwrap();
        assert_eq!(queued, env);
    }
}
