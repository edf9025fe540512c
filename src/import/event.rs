//! The event a checked row becomes: an update of its source record, named by the row's
//! content so the same row imported again is the same event.

use chrono::Utc;
use uuid::Uuid;

use crate::{
    domain::event::{Envelope, EventId},
    sources::{Change, EventEffect},
};

use super::{IMPORT, ImportSource, validate::ValidRow};

/// The event a valid row becomes: an update of its source record carrying every value, dated
/// at the run's start; its id is the row's content, so the same row imported again is a duplicate.
pub(super) fn event(source: ImportSource, run: Uuid, at_ms: i64, row: &ValidRow) -> (Envelope, EventEffect) {
    let (origin, kind) = (source.source(), source.kind());
    let values: serde_json::Map<String, serde_json::Value> = row
        .values
        .iter()
        .map(|(f, v)| (f.as_str().to_owned(), serde_json::Value::String(v.clone())))
        .collect();
    let env = Envelope {
        id: EventId::new(format!(
            "{origin}:{IMPORT}:{kind}:{}:{}",
            row.object_id,
            &row.digest[..16]
        )),
        source: origin,
        event_type: IMPORT.to_owned(),
        object_id: row.object_id.clone(),
        occurred_at_ms: at_ms,
        received_at: Utc::now(),
        payload: serde_json::json!({ "import_run": run, "line": row.line, "values": values }),
    };
    let effect = EventEffect::Update {
        kind,
        changes: row
            .values
            .iter()
            .map(|(field, value)| Change {
                field: *field,
                raw: Some(value.clone()),
                at_ms,
            })
            .collect(),
    };
    (env, effect)
}
