//! A verified ClickUp body, whatever its bytes, read into an event and its effect: never
//! panics, and the event survives the queue's encoding unchanged.
#![no_main]

use clientsync::{
    domain::{Envelope, Source},
    receiver::clickup::envelope,
    reconcile::normalize::normalize,
    sources::{self, EventEffect, OwnWrites, clickup, mapping::FieldMapping},
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    let mapping = FieldMapping::default();
    let own = OwnWrites {
        hubspot_app_id: None,
        clickup_user_id: Some("7".into()),
    };
    // The receiver reads the webhook id from the unverified body to pick the secret.
    let webhook_id = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("webhook_id").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "w".to_owned());
    if let Ok(env) = envelope(body, &webhook_id) {
        assert!(env.id.as_str().starts_with("clickup:"));
        assert_eq!(env.source, Source::ClickUp);
        let bytes = env.to_bytes().expect("an envelope always encodes");
        assert_eq!(Envelope::from_bytes(&bytes).expect("and decodes"), env);
        let _ = own.made(&env);
        let _ = clickup::latest_item_ms(&env.payload);
        check(&sources::effect(&env, &mapping));
    }
    // The same bytes as a task read back from the API (backfill, thin-event enrichment).
    if let Ok(task) = serde_json::from_slice::<Value>(body) {
        check(&clickup::snapshot(&task, &mapping));
        let _ = clickup::updated_ms(&task);
        if let Some(env) = sources::snapshot_envelope(Source::ClickUp, "task", task) {
            check(&sources::effect(&env, &mapping));
        }
    }
});

/// What the worker does next with an effect: normalize every changed value.
fn check(effect: &EventEffect) {
    if let EventEffect::Update { changes, .. } = effect {
        for change in changes {
            let _ = normalize(change.field, change.raw.as_deref());
        }
    }
}
