//! clientsync: one true list of clients across HubSpot and ClickUp.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod access;
pub mod api;
pub mod backfill;
pub mod backup;
pub mod batch;
pub mod bulk;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod dead_events;
pub mod domain;
pub mod engine;
pub mod generate;
#[cfg(test)]
mod hostile_text;
pub mod import;
pub mod lookup;
pub mod metrics;
pub mod projects;
pub mod queue;
pub mod receiver;
pub mod reconcile;
pub mod reports;
pub mod retention;
pub mod saas;
pub mod simulator;
pub mod sources;
pub mod startup;
pub mod steward;
pub mod store;
pub mod telemetry;
pub mod worker;
pub mod writeback;
