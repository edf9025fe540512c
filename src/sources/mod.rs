//! What each source's events mean: which record they touch and which fields they carry.
//! Pure parsing of already-verified payloads and of objects read from the APIs (snapshots,
//! which enrichment and backfill produce); the API clients live in `saas`.

pub mod clickup;
pub mod hubspot;
pub mod mapping;
pub mod project;

use crate::{
    domain::{
        event::{Envelope, EventId},
        source::{ObjectKind, Source},
    },
    reconcile::Field,
};

/// Event type of an envelope that carries a whole object read from the source's API
/// (backfill) rather than a webhook event.
pub const SNAPSHOT: &str = "snapshot";

/// What an envelope asks the store to do: a webhook event, or a snapshot of an object.
pub fn effect(env: &Envelope, mapping: &mapping::FieldMapping) -> EventEffect {
    match (env.source, env.event_type == SNAPSHOT) {
        (Source::HubSpot, false) => hubspot::effect(&env.payload, env.occurred_at_ms, mapping),
        (Source::ClickUp, false) => clickup::effect(&env.payload, mapping),
        (Source::HubSpot, true) => match env.payload.get("kind").and_then(serde_json::Value::as_str) {
            Some("contact") => hubspot::snapshot(&env.payload["object"], ObjectKind::Contact, mapping),
            Some("company") => hubspot::snapshot(&env.payload["object"], ObjectKind::Company, mapping),
            _ => EventEffect::Ignore {
                reason: "snapshot of an object kind that is not synced".into(),
            },
        },
        (Source::ClickUp, true) => clickup::snapshot(&env.payload["object"], mapping),
    }
}

/// Who we are at each source, so our own writes coming back as webhooks are recognised and
/// not applied again (write-back would otherwise answer its own echo).
#[derive(Debug, Clone, Default)]
pub struct OwnWrites {
    /// Our HubSpot app's id: our writes arrive with `changeSource: INTEGRATION` and this `sourceId`.
    pub hubspot_app_id: Option<String>,
    /// Our ClickUp token's user id: our writes arrive as history items by this user.
    pub clickup_user_id: Option<String>,
}

impl OwnWrites {
    /// Whether the event reports a change we made ourselves.
    pub fn made(&self, env: &Envelope) -> bool {
        let text = |v: Option<&serde_json::Value>| v.and_then(scalar_text);
        match env.source {
            Source::HubSpot => {
                let Some(app) = &self.hubspot_app_id else {
                    return false;
                };
                let integration = text(env.payload.get("changeSource")).as_deref() == Some("INTEGRATION");
                let source_id = text(env.payload.get("sourceId")).unwrap_or_default();
                // Observed as the bare app id; tolerate an `app:`-style prefix.
                integration && source_id.rsplit(':').next() == Some(app.as_str())
            }
            Source::ClickUp => {
                let Some(user) = &self.clickup_user_id else {
                    return false;
                };
                let items = env
                    .payload
                    .get("history_items")
                    .and_then(serde_json::Value::as_array);
                items.is_some_and(|items| {
                    !items.is_empty()
                        && items
                            .iter()
                            .all(|i| text(i.pointer("/user/id")).as_deref() == Some(user.as_str()))
                })
            }
        }
    }
}

/// An envelope carrying `object` as read from the source's API, deduplicated on the object's
/// id and last-change time, so an unchanged object read twice is applied once.
pub fn snapshot_envelope(source: Source, kind: &str, object: serde_json::Value) -> Option<Envelope> {
    let id = scalar_text(object.get("id")?)?;
    let at_ms = match source {
        Source::HubSpot => hubspot::updated_ms(&object),
        Source::ClickUp => clickup::updated_ms(&object),
    }?;
    Some(Envelope {
        id: EventId::new(format!("{source}:{SNAPSHOT}:{kind}:{id}:{at_ms}")),
        source,
        event_type: SNAPSHOT.into(),
        object_id: id,
        occurred_at_ms: at_ms,
        received_at: chrono::Utc::now(),
        payload: serde_json::json!({ "kind": kind, "object": object }),
    })
}

/// What an event asks the store to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventEffect {
    /// Field values the event carries, each with the time it was set.
    Update {
        /// Source record kind (`contact`, `company`, `task`).
        kind: ObjectKind,
        /// The changes, raw (normalization is reconcile's job).
        changes: Vec<Change>,
    },
    /// The object exists but the event carries no data: fetch it later (enrichment).
    Thin {
        /// Source record kind.
        kind: ObjectKind,
    },
    /// The object was deleted at the source.
    Delete {
        /// Source record kind.
        kind: ObjectKind,
    },
    /// The source merged objects into one (HubSpot `*.merge`): the merged objects' records
    /// retire into the survivor's, and everything linked to their clients follows it.
    Merge {
        /// Source record kind.
        kind: ObjectKind,
        /// The object that remains (`newObjectId`, else `primaryObjectId`).
        survivor: String,
        /// The objects that no longer exist on their own.
        merged: Vec<String>,
    },
    /// Stored in the inbox, nothing to apply.
    Ignore {
        /// Why, for the inbox row and logs.
        reason: String,
    },
}

/// One raw field change carried by an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The golden field it feeds.
    pub field: Field,
    /// The raw value; `None` clears.
    pub raw: Option<String>,
    /// When the source made the change (Unix ms).
    pub at_ms: i64,
}

/// Reads a JSON scalar as text (sources send numbers for some string-like fields).
pub(crate) fn scalar_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
