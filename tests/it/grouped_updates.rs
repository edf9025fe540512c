//! A batch that holds several updates of one object (a new HubSpot contact is one
//! `propertyChange` per property, sent together) applies them as one once the record sits on
//! a client: the same golden client as one by one, every event claimed in the inbox, and fewer
//! statements. Counted on a connection of the test's own, so other tests' statements are not.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use clientsync::{
    engine,
    queue::Envelope,
    receiver,
    reconcile::Matching,
    sources::{self, EventEffect, mapping::FieldMapping},
    store,
};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::Value;

use crate::helpers::{fresh_postgres_database, hubspot_property};

/// A migrated store counting the statements run on it.
async fn counted(url: String) -> (DatabaseConnection, Arc<AtomicUsize>) {
    let mut db = Database::connect(url).await.expect("connect");
    store::migrate(&db).await.expect("migrations");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    db.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::Relaxed);
    });
    (db, count)
}

/// A new contact's four property events, in the order HubSpot sends them.
fn new_contact() -> Vec<Envelope> {
    let t = 1_780_000_000_000;
    let properties = [
        ("email", "søren.saether@example.no"),
        ("firstname", "Søren"),
        ("lastname", "Sæther"),
        ("phone", "+47 912 34 567"),
    ];
    let batch: Vec<Value> = properties
        .iter()
        .enumerate()
        .map(|(k, (property, value))| hubspot_property(91, property, value, t + k as i64))
        .collect();
    let body = serde_json::to_vec(&Value::Array(batch)).expect("json");
    receiver::hubspot::split(&body).expect("a valid batch")
}

/// The golden values of every client, and the number of processed inbox rows.
async fn golden(db: &DatabaseConnection) -> (Vec<Vec<Option<String>>>, i64) {
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT email, given_name, family_name, phone FROM clients ORDER BY email",
        ))
        .await
        .expect("clients");
    let clients = rows
        .iter()
        .map(|row| {
            ["email", "given_name", "family_name", "phone"]
                .iter()
                .map(|column| row.try_get::<Option<String>>("", column).expect("a text column"))
                .collect()
        })
        .collect();
    let processed = db
        .query_one_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM inbox_events WHERE status = 'processed'",
        ))
        .await
        .expect("inbox")
        .and_then(|row| row.try_get::<i64>("", "n").ok())
        .unwrap_or(-1);
    (clients, processed)
}

async fn a_new_contacts_properties_in_one_batch_end_as_one_by_one_for_fewer_statements(
    one_by_one: String,
    batched: String,
) {
    let events = new_contact();
    let mapping = FieldMapping::default();
    let effects: Vec<EventEffect> = events.iter().map(|env| sources::effect(env, &mapping)).collect();
    let matching = Matching::default();

    let (single, single_count) = counted(one_by_one).await;
    single_count.store(0, Ordering::Relaxed);
    for (env, effect) in events.iter().zip(&effects) {
        engine::process(&single, &matching, env, effect, 1)
            .await
            .expect("processed");
    }
    let single_statements = single_count.load(Ordering::Relaxed);

    let (batch, batch_count) = counted(batched).await;
    batch_count.store(0, Ordering::Relaxed);
    let together: Vec<(&Envelope, &EventEffect, u32)> = events
        .iter()
        .zip(&effects)
        .map(|(env, effect)| (env, effect, 1))
        .collect();
    let outcomes = engine::process_batch(&batch, &matching, &together)
        .await
        .expect("processed");
    let batch_statements = batch_count.load(Ordering::Relaxed);

    assert!(
        outcomes.iter().all(|o| matches!(o, engine::Outcome::Linked(_))),
        "every event is reported linked: {outcomes:?}"
    );
    let expected = golden(&single).await;
    assert_eq!(expected.1, 4, "one by one, four events were processed");
    assert_eq!(
        golden(&batch).await,
        expected,
        "the batch ends in the same golden client"
    );
    // The first event places the new record as it would alone; the other three cost one.
    assert!(
        batch_statements * 10 <= single_statements * 6,
        "taken together the events ran {batch_statements} statements, one by one {single_statements}"
    );
}

#[tokio::test]
async fn a_new_contacts_properties_in_one_batch_end_as_one_by_one_for_fewer_statements_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    a_new_contacts_properties_in_one_batch_end_as_one_by_one_for_fewer_statements(url("a.db"), url("b.db"))
        .await;
}

#[tokio::test]
async fn a_new_contacts_properties_in_one_batch_end_as_one_by_one_for_fewer_statements_on_postgres() {
    a_new_contacts_properties_in_one_batch_end_as_one_by_one_for_fewer_statements(
        fresh_postgres_database().await,
        fresh_postgres_database().await,
    )
    .await;
}
