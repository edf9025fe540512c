//! On a SQLite store the embedded queue keeps its messages in a SQLite file of its own, so the
//! receiver's enqueue never waits for a worker's transaction on the store's file (SQLite has
//! one writer per file); messages an older version left in the store's own table move there.

use std::time::Duration;

use clientsync::{
    clock::Clock,
    queue::{
        EventQueue, RetryPolicy,
        embedded::{EmbeddedConfig, EmbeddedQueue, own_file},
    },
    receiver, store,
};
use entity::queue_messages;
use sea_orm::{Database, DatabaseConnection, EntityTrait, PaginatorTrait};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::helpers::{Backend, hubspot_property, now_ms, spawn_app, spawn_app_with, test_config};

async fn queued_in(db: &DatabaseConnection) -> u64 {
    queue_messages::Entity::find()
        .count(db)
        .await
        .expect("count queued")
}

async fn queue_file_of(database_url: &str) -> DatabaseConnection {
    let url = own_file(database_url).expect("a SQLite store has a queue file");
    Database::connect(url).await.expect("the queue file opens")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_receiver_accepts_waits_in_the_queue_file_not_in_the_store() {
    let app = spawn_app(Backend::Embedded).await;
    let body = json!([hubspot_property(31, "email", "ines@example.com", now_ms())]);
    assert_eq!(app.post_hubspot(&body).await.status(), 200);

    let queue_file = queue_file_of(&app.database_url).await;
    assert_eq!(queued_in(&queue_file).await, 1);
    assert_eq!(queued_in(&app.db).await, 0, "the store's own table stays empty");
    app.drain_worker().await;
    assert_eq!(app.clients().await.len(), 1);
    assert_eq!(queued_in(&queue_file).await, 0, "acked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_an_older_version_queued_in_the_store_move_to_the_queue_file_and_are_applied() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = test_config(&dir);
    let store_url = config.database.url.expose_secret().to_owned();
    let prefix = config.queue.prefix.clone();
    {
        // The old layout: the queue's table inside the store's own file.
        let db = Database::connect(store_url.as_str()).await.expect("connect");
        store::migrate(&db).await.expect("migrations");
        let old = EmbeddedQueue::new(
            db.clone(),
            EmbeddedConfig {
                queue: prefix.clone(),
                lease: Duration::from_secs(30),
                retry: RetryPolicy {
                    max_attempts: 3,
                    base_delay: Duration::from_millis(10),
                    max_delay: Duration::from_millis(50),
                },
                endpoint: "clientsync.db".into(),
            },
            Clock::system(),
        );
        let t = now_ms();
        let batch = Value::Array(vec![
            hubspot_property(32, "email", "jon@example.com", t),
            hubspot_property(33, "email", "eva@example.com", t + 1),
        ]);
        let bodies: Vec<Vec<u8>> = receiver::hubspot::split(&serde_json::to_vec(&batch).expect("json"))
            .expect("a valid batch")
            .iter()
            .map(|env| env.to_bytes().expect("envelope bytes"))
            .collect();
        old.publish(&bodies).await.expect("queued the old way");
        assert_eq!(queued_in(&db).await, 2);
        db.close().await.ok();
    }

    let app = spawn_app_with(Backend::Embedded, |c| {
        c.database.url = SecretString::from(store_url.clone());
        c.queue.prefix = prefix.clone();
    })
    .await;
    assert_eq!(
        queued_in(&app.db).await,
        0,
        "nothing is left in the store's table"
    );
    app.drain_worker().await;
    let mut emails: Vec<String> = app.clients().await.into_iter().filter_map(|c| c.email).collect();
    emails.sort();
    assert_eq!(emails, ["eva@example.com", "jon@example.com"]);
}
