//! What each source's events mean: which record they touch and which fields they carry.
//! Pure parsing of already-verified payloads; the API clients come later behind this seam.

pub mod clickup;
pub mod hubspot;
pub mod mapping;

use crate::reconcile::Field;

/// What an event asks the store to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventEffect {
    /// Field values the event carries, each with the time it was set.
    Update {
        /// Source record kind (`contact`, `company`, `task`).
        kind: &'static str,
        /// The changes, raw (normalization is reconcile's job).
        changes: Vec<Change>,
    },
    /// The object exists but the event carries no data: fetch it later (enrichment).
    Thin {
        /// Source record kind.
        kind: &'static str,
    },
    /// The object was deleted at the source.
    Delete {
        /// Source record kind.
        kind: &'static str,
    },
    /// The source merged objects into one (HubSpot `*.merge`): the merged objects' records
    /// retire into the survivor's, and everything linked to their clients follows it.
    Merge {
        /// Source record kind.
        kind: &'static str,
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
