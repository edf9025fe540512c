//! The message format on the queue: one source event, already verified and split.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::source::Source;

/// One verified webhook event as queued; the worker's only input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// Stable dedup key (`hubspot:…`, `clickup:…`); the inbox primary key.
    pub id: String,
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
