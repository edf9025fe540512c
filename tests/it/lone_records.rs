//! A lone record (the only one feeding its client) is matched again when it gains a value, in
//! case it is now recognisably someone another client holds; but not when no client could
//! score it at the link threshold with what it holds (`reconcile::reach`), since no score
//! could move it then. Observed through the statements the engine runs for each event, on a
//! connection of the test's own, so other tests' statements are not counted.

use std::sync::{Arc, Mutex};

use clientsync::{
    engine, receiver,
    reconcile::Matching,
    sources::{self, mapping::FieldMapping},
    store,
};
use sea_orm::{Database, DatabaseConnection};
use serde_json::Value;

use crate::helpers::{fresh_postgres_database, hubspot_property};

/// A store whose every statement's SQL is kept, to read what one event ran.
async fn observed(url: String) -> (DatabaseConnection, Arc<Mutex<Vec<String>>>) {
    let mut db = Database::connect(url).await.expect("connect");
    store::migrate(&db).await.expect("migrations");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    db.set_metric_callback(move |info| {
        if let Ok(mut log) = log.lock() {
            log.push(info.statement.sql.clone());
        }
    });
    (db, seen)
}

/// Applies one contact property event and returns the SQL of the statements it ran.
async fn apply(
    db: &DatabaseConnection,
    seen: &Mutex<Vec<String>>,
    property: &str,
    value: &str,
    at: i64,
) -> Vec<String> {
    let body =
        serde_json::to_vec(&Value::Array(vec![hubspot_property(77, property, value, at)])).expect("json");
    let events = receiver::hubspot::split(&body).expect("a valid batch");
    seen.lock().expect("log").clear();
    for env in &events {
        let effect = sources::effect(env, &FieldMapping::default());
        engine::process(db, &Matching::default(), env, &effect, 1)
            .await
            .expect("processed");
    }
    seen.lock().expect("log").drain(..).collect()
}

/// Whether a statement looked for candidates in the blocking-key index (rather than writing
/// the client's own keys).
fn looked_for_candidates(statements: &[String]) -> bool {
    statements
        .iter()
        .any(|sql| sql.contains("match_keys") && !sql.starts_with("DELETE") && !sql.starts_with("INSERT"))
}

async fn a_lone_contact_is_matched_again_only_for_a_value_that_could_get_it_linked(url: String) {
    let (db, seen) = observed(url).await;
    let t = 1_780_000_000_000;
    let first = apply(&db, &seen, "email", "lucia@example.com", t).await;
    assert!(
        looked_for_candidates(&first),
        "a new record is matched: {first:#?}"
    );

    // An email and two names: no client could score that at the link threshold (a client
    // holding the same email would have been found by the key, and none does).
    for (property, value, at) in [("firstname", "Lucía", t + 1), ("lastname", "Fernández", t + 2)] {
        let ran = apply(&db, &seen, property, value, at).await;
        assert!(!ran.is_empty(), "the {property} event was applied");
        assert!(
            !looked_for_candidates(&ran),
            "the {property} event looked for candidates: {ran:#?}"
        );
    }
    // A phone agreeing exactly could: the record is matched again.
    let phone = apply(&db, &seen, "phone", "+34 655 444 333", t + 3).await;
    assert!(
        looked_for_candidates(&phone),
        "the phone event did not look for candidates: {phone:#?}"
    );
    db.close().await.ok();
}

#[tokio::test]
async fn a_lone_contact_is_matched_again_only_for_a_value_that_could_get_it_linked_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("lone.db").display());
    a_lone_contact_is_matched_again_only_for_a_value_that_could_get_it_linked(url).await;
}

#[tokio::test]
async fn a_lone_contact_is_matched_again_only_for_a_value_that_could_get_it_linked_on_postgres() {
    a_lone_contact_is_matched_again_only_for_a_value_that_could_get_it_linked(
        fresh_postgres_database().await,
    )
    .await;
}
