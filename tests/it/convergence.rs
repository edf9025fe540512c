//! Convergence: the golden state (clients, links, golden values, open conflicts) is a function
//! of the set of events received, never of their order or of duplicate deliveries.
//!
//! A property test over small generated worlds: people with non-ASCII names, HubSpot contacts
//! and ClickUp tasks sharing some keys, task names with typos, values that disagree between the
//! sources and stale values that a newer one replaces. Each world's events are applied in
//! several random orders with some delivered twice, through the real parsers and the real
//! engine, on SQLite and on Postgres; every order must end in the same state.
//!
//! Names come from a small pool, so some worlds hold namesakes: two people with the same whole
//! name, told apart only by what else their records carry.

use std::collections::{BTreeMap, BTreeSet};

use clientsync::{
    engine,
    queue::Envelope,
    receiver,
    reconcile::{Field, Matching},
    sources::{self, mapping::FieldMapping},
    store,
};
use entity::conflicts::{ConflictKind, ConflictStatus};
use proptest::{prelude::*, test_runner::TestRunner};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, EntityTrait};
use serde_json::Value;

use crate::helpers::{clickup_task_update, fresh_postgres_database, hubspot_property};

/// Worlds per backend and orders per world in one CI run; `CONVERGENCE_WORLDS` asks for more.
const WORLDS: u32 = 24;
const ORDERS: usize = 6;

const GIVEN: [&str; 8] = [
    "Søren", "Łukasz", "José", "Zoë", "Ana", "Björn", "Ærling", "Marta",
];
const FAMILY: [&str; 8] = [
    "Sæther",
    "Skłodowska",
    "Weiß",
    "Núñez",
    "García",
    "Øvergaard",
    "Dvořák",
    "Cæsar",
];

/// One person's records, as the generator chose them.
#[derive(Debug, Clone)]
struct Person {
    given: usize,
    family: usize,
    contact: Option<ContactSpec>,
    task: Option<TaskSpec>,
}

#[derive(Debug, Clone)]
struct ContactSpec {
    email: bool,
    stale_email: bool,
    phone: bool,
    document_key: bool,
}

#[derive(Debug, Clone)]
struct TaskSpec {
    name_typo: bool,
    email: Option<bool>,
    phone: Option<bool>,
    document_key: bool,
}

/// `Some(true)`: the person's own value; `Some(false)`: one that disagrees; `None`: absent.
fn value_choice() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![2 => Just(None), 3 => Just(Some(true)), 1 => Just(Some(false))]
}

fn contact() -> impl Strategy<Value = ContactSpec> {
    (
        any::<bool>(),
        prop::bool::weighted(0.3),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(email, stale_email, phone, document_key)| ContactSpec {
            email,
            stale_email,
            phone,
            document_key,
        })
}

fn task() -> impl Strategy<Value = TaskSpec> {
    (
        prop::bool::weighted(0.3),
        value_choice(),
        value_choice(),
        any::<bool>(),
    )
        .prop_map(|(name_typo, email, phone, document_key)| TaskSpec {
            name_typo,
            email,
            phone,
            document_key,
        })
}

fn person() -> impl Strategy<Value = Person> {
    (
        0..GIVEN.len(),
        0..FAMILY.len(),
        prop::option::weighted(0.85, contact()),
        prop::option::weighted(0.7, task()),
    )
        .prop_map(|(given, family, contact, task)| Person {
            given,
            family,
            contact,
            task,
        })
}

/// A world and the orders its events are applied in (shuffle seeds and duplicate choices).
fn world() -> impl Strategy<Value = (Vec<Person>, Vec<u64>)> {
    (
        prop::collection::vec(person(), 1..=4),
        prop::collection::vec(any::<u64>(), ORDERS),
    )
}

/// A valid Spanish NIF for person `i`.
fn nif(i: usize) -> String {
    let number = 10_000_000 + i * 7_919_123 % 89_000_000;
    let letter = b"TRWAGMYFPDXBNJZSQVHLCKE"[number % 23] as char;
    format!("{number:08}{letter}")
}

/// Every event of a world, as the receiver turns webhooks into envelopes.
fn envelopes(people: &[Person]) -> Vec<Envelope> {
    let t0 = 1_780_000_000_000;
    let mut out = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let (given, family) = (GIVEN[p.given], FAMILY[p.family]);
        let email = format!("person{i}@example.com");
        let phone = format!("+34 6{:08}", 10_000_000 + i * 1_234_567);
        let t = t0 + i as i64 * 100;
        if let Some(c) = &p.contact {
            let id = 700 + i as i64;
            let mut props = vec![
                ("firstname", given.to_owned(), t),
                ("lastname", family.to_owned(), t + 1),
            ];
            if c.email {
                props.push(("email", email.clone(), t + 3));
                if c.stale_email {
                    props.push(("email", format!("old{i}@example.com"), t + 2));
                }
            }
            if c.phone {
                props.push(("phone", phone.clone(), t + 4));
            }
            if c.document_key {
                props.push(("tax_id", nif(i), t + 5));
            }
            for (property, value, at) in props {
                let body =
                    serde_json::to_vec(&Value::Array(vec![hubspot_property(id, property, &value, at)]));
                out.extend(receiver::hubspot::split(&body.expect("json")).expect("a valid batch"));
            }
        }
        if let Some(task) = &p.task {
            let id = format!("task{i}");
            let name = if task.name_typo {
                // A letter lost, as people type names in a hurry.
                let mut chars: Vec<char> = format!("{given} {family}").chars().collect();
                chars.remove(chars.len() - 2);
                chars.into_iter().collect()
            } else {
                format!("{given} {family}")
            };
            let mut items = vec![("name", name)];
            match task.email {
                Some(true) => items.push(("Email", email.clone())),
                Some(false) => items.push(("Email", format!("work{i}@example.org"))),
                None => {}
            }
            match task.phone {
                Some(true) => items.push(("Phone", phone.clone())),
                Some(false) => items.push(("Phone", format!("+34 9{:08}", 10_000_000 + i * 7_654_321))),
                None => {}
            }
            if task.document_key {
                items.push(("Tax ID", nif(i)));
            }
            for (k, (field, value)) in items.iter().enumerate() {
                let item = format!("h{i}-{k}");
                let event = clickup_task_update(&id, &[(&item, field, value)], t + 10 + k as i64);
                let body = serde_json::to_vec(&event).expect("json");
                out.push(receiver::clickup::envelope(&body, "wh").expect("a valid event"));
            }
        }
    }
    out
}

/// An open conflict: kind, what it is about, field and the HubSpot and ClickUp values.
type OpenConflict = (String, String, Option<String>, Option<String>, Option<String>);

/// The golden state with client ids replaced by the records they hold, so two runs compare.
#[derive(Debug, PartialEq, Eq)]
struct State {
    /// Each client's records with its golden identity values.
    clients: BTreeMap<BTreeSet<String>, Vec<(&'static str, Option<String>)>>,
    /// Open conflicts: kind, record, field and the two values.
    conflicts: BTreeSet<OpenConflict>,
}

async fn state(db: &DatabaseConnection) -> State {
    let records = entity::source_records::Entity::find()
        .all(db)
        .await
        .expect("records");
    let mut held: BTreeMap<uuid::Uuid, BTreeSet<String>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.status == entity::source_records::RecordStatus::Active)
    {
        if let Some(client) = r.client_id {
            held.entry(client)
                .or_default()
                .insert(format!("{}/{}", r.source, r.external_id));
        }
    }
    let mut clients = BTreeMap::new();
    let mut clients_records = BTreeMap::new();
    for c in entity::clients::Entity::find().all(db).await.expect("clients") {
        let values = [
            Field::Name,
            Field::GivenName,
            Field::FamilyName,
            Field::Email,
            Field::DocumentKey,
            Field::Phone,
        ]
        .into_iter()
        .map(|f| (f.as_str(), store::clients::value_of(&c, f).map(str::to_owned)))
        .collect();
        let records = held.remove(&c.id).unwrap_or_default();
        clients_records.insert(c.id, records.clone());
        assert!(
            clients.insert(records.clone(), values).is_none(),
            "two clients hold the same records {records:?}"
        );
    }
    assert!(
        held.is_empty(),
        "records point at clients that do not exist: {held:?}"
    );
    let conflicts = entity::conflicts::Entity::find()
        .all(db)
        .await
        .expect("conflicts")
        .into_iter()
        .filter(|c| c.status == ConflictStatus::Open)
        .map(|c| {
            // A field mismatch is about a client (whichever record's event raised it); the
            // others are about a record.
            let about = match (c.kind, c.client_id) {
                (ConflictKind::FieldMismatch, Some(client)) => format!("{:?}", clients_records.get(&client)),
                _ => format!("{}/{}", c.source, c.external_id),
            };
            (
                store::conflicts::kind_name(c.kind).to_owned(),
                about,
                c.field,
                c.hubspot_value,
                c.clickup_value,
            )
        })
        .collect();
    State { clients, conflicts }
}

async fn reset(db: &DatabaseConnection) {
    for table in [
        "decisions",
        "conflicts",
        "field_provenance",
        "match_keys",
        "source_records",
        "clients",
        "inbox_events",
    ] {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await
            .expect("reset");
    }
}

/// `events` in the order a seed shuffles them, a fifth of them delivered twice.
fn shuffled<'a>(events: &'a [Envelope], rng: &mut fastrand::Rng) -> Vec<&'a Envelope> {
    let mut order: Vec<&Envelope> = events.iter().collect();
    let twice: Vec<&Envelope> = events.iter().filter(|_| rng.u8(..5) == 0).collect();
    order.extend(twice);
    rng.shuffle(&mut order);
    order
}

/// Applies `events` one at a time in the order a seed shuffles them.
async fn apply_in_order(db: &DatabaseConnection, events: &[Envelope], seed: u64) -> State {
    let mut rng = fastrand::Rng::with_seed(seed);
    let order = shuffled(events, &mut rng);
    let (matching, mapping) = (Matching::default(), FieldMapping::default());
    reset(db).await;
    for env in order {
        let effect = sources::effect(env, &mapping);
        engine::process(db, &matching, env, &effect, 1)
            .await
            .unwrap_or_else(|e| panic!("event {} failed: {e}", env.id));
    }
    state(db).await
}

/// Applies `events` in the order a seed shuffles them, in batches of 1 to 10 events, each in
/// one transaction as the worker applies a batch.
async fn apply_in_batches(db: &DatabaseConnection, events: &[Envelope], seed: u64) -> State {
    let mut rng = fastrand::Rng::with_seed(seed);
    let order = shuffled(events, &mut rng);
    let (matching, mapping) = (Matching::default(), FieldMapping::default());
    let effects: Vec<_> = order.iter().map(|env| sources::effect(env, &mapping)).collect();
    reset(db).await;
    let mut rest: Vec<(&Envelope, &sources::EventEffect, u32)> = order
        .iter()
        .zip(&effects)
        .map(|(env, effect)| (*env, effect, 1))
        .collect();
    while !rest.is_empty() {
        let size = rng.usize(1..=10).min(rest.len());
        let batch: Vec<_> = rest.drain(..size).collect();
        engine::process_batch(db, &matching, &batch)
            .await
            .unwrap_or_else(|e| panic!("a batch of {size} failed: {e}"));
    }
    state(db).await
}

/// Runs the property on a store at `url` (migrated here), on one runtime for the whole run.
fn every_order_converges(url: impl std::future::Future<Output = String>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let db = runtime.block_on(async {
        let db = Database::connect(url.await).await.expect("connect");
        store::migrate(&db).await.expect("migrations");
        db
    });
    let config = proptest::test_runner::Config {
        cases: std::env::var("CONVERGENCE_WORLDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(WORLDS),
        failure_persistence: None,
        ..Default::default()
    };
    let mut runner = TestRunner::new(config);
    let outcome = runner.run(&world(), |(people, seeds)| {
        let events = envelopes(&people);
        runtime.block_on(async {
            let mut first: Option<State> = None;
            for (n, seed) in seeds.into_iter().enumerate() {
                let state = if n % 2 == 0 {
                    apply_in_order(&db, &events, seed).await
                } else {
                    apply_in_batches(&db, &events, seed).await
                };
                match &first {
                    None => first = Some(state),
                    Some(expected) => prop_assert_eq!(expected, &state, "order seed {}", seed),
                }
            }
            Ok(())
        })
    });
    runtime.block_on(db.close()).ok();
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[test]
fn every_order_of_a_worlds_events_ends_in_the_same_golden_state_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display());
    every_order_converges(async { url });
}

#[test]
fn every_order_of_a_worlds_events_ends_in_the_same_golden_state_on_postgres() {
    every_order_converges(fresh_postgres_database());
}
