//! A verified HubSpot body, whatever its bytes, split into events and read into effects: never
//! panics, keeps the batch limit, and every event survives the queue's encoding unchanged.
#![no_main]

use clientsync::{
    domain::{Envelope, ObjectKind, Source},
    receiver::hubspot::{MAX_BATCH, split},
    reconcile::normalize::normalize,
    sources::{self, EventEffect, OwnWrites, hubspot, mapping::FieldMapping},
};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    let mapping = FieldMapping::default();
    let own = OwnWrites {
        hubspot_app_id: Some("42".into()),
        clickup_user_id: None,
    };
    if let Ok(envelopes) = split(body) {
        assert!(envelopes.len() <= MAX_BATCH);
        for env in &envelopes {
            assert!(env.id.as_str().starts_with("hubspot:"));
            assert_eq!(env.source, Source::HubSpot);
            let bytes = env.to_bytes().expect("an envelope always encodes");
            assert_eq!(&Envelope::from_bytes(&bytes).expect("and decodes"), env);
            let _ = own.made(env);
            check(&sources::effect(env, &mapping));
        }
    }
    // The same bytes as an object read back from the API (backfill, thin-event enrichment).
    if let Ok(object) = serde_json::from_slice::<Value>(body) {
        for kind in [ObjectKind::Contact, ObjectKind::Company] {
            check(&hubspot::snapshot(&object, kind, &mapping));
        }
        let _ = hubspot::kind_of(&object);
        let _ = hubspot::updated_ms(&object);
        if let Some(env) = sources::snapshot_envelope(Source::HubSpot, "contact", object) {
            check(&sources::effect(&env, &mapping));
        }
    }
});

/// What the worker does next with an effect: normalize every changed value.
fn check(effect: &EventEffect) {
    match effect {
        EventEffect::Update { changes, .. } => {
            for change in changes {
                let _ = normalize(change.field, change.raw.as_deref());
            }
        }
        EventEffect::Merge { survivor, merged, .. } => {
            assert!(!merged.contains(survivor), "{survivor} merged into itself")
        }
        EventEffect::Thin { .. } | EventEffect::Delete { .. } | EventEffect::Ignore { .. } => {}
    }
}
