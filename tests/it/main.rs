//! One integration test binary: real SQLite, Postgres and RabbitMQ; only HubSpot and ClickUp are faked.

/// Runs each named `async fn(Backend)` as two tests: SQLite + embedded queue, and Postgres + RabbitMQ.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite_embedded {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::helpers::Backend::Embedded).await } )*
        }
        mod postgres_rabbitmq {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(crate::helpers::Backend::Production).await } )*
        }
    };
}

mod acting;
mod api_access;
mod api_shape;
mod backup;
mod broker_outage;
mod bulk;
mod cli_errors;
mod concurrency;
mod config;
mod console;
mod console_bulk;
mod console_clients;
mod console_events;
mod console_review;
mod convergence;
mod dead_events_api;
mod dead_letters;
mod decisions;
mod demo;
mod drain;
mod e2e;
mod fit_cli;
mod fuzzy;
mod grouped_updates;
mod health;
mod helpers;
mod hubspot_merge;
mod import;
mod import_bulk;
mod lone_records;
mod mapping;
mod match_cli;
mod match_keys;
mod metrics;
mod operator;
mod operator_read;
mod outbox;
mod pin_race;
mod postgres_outage;
mod project_backfill;
mod project_write_back;
mod projects;
mod proxy;
mod queue_file;
mod receiver_limits;
mod receiver_rejects;
mod report_rollup;
mod reports;
mod retention;
mod saas;
mod sign_cli;
mod undo;
mod unicode_names;
mod write_back;
