//! One integration test binary: real SQLite, Postgres and RabbitMQ; only HubSpot and ClickUp are faked.

mod broker_outage;
mod config;
mod dead_letters;
mod e2e;
mod health;
mod helpers;
mod receiver_rejects;
mod sign_cli;
