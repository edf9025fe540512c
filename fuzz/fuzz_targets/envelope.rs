//! A queued message body, whatever its bytes: decoding never panics, a decoded envelope
//! encodes back to itself, its inbox key is stable, and the worker can read its effect.
#![no_main]

use clientsync::{
    domain::Envelope,
    sources::{self, OwnWrites, mapping::FieldMapping},
    store::inbox::key_of,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let key = key_of(body);
    assert_eq!(key_of(body), key);
    let Ok(env) = Envelope::from_bytes(body) else {
        assert!(key.starts_with("undecodable:"));
        return;
    };
    assert_eq!(key, env.id.as_str());
    let bytes = env.to_bytes().expect("a decoded envelope encodes");
    assert_eq!(Envelope::from_bytes(&bytes).expect("and decodes again"), env);
    assert_eq!(key_of(&bytes), key);
    let own = OwnWrites {
        hubspot_app_id: Some("42".into()),
        clickup_user_id: Some("7".into()),
    };
    let _ = own.made(&env);
    let _ = sources::effect(&env, &FieldMapping::default());
});
