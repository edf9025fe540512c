//! Schema migrations of the clientsync store; the same modules run on Postgres and SQLite.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_store;
mod m20261124_000002_create_queue_messages;
mod m20261125_000003_match_keys_and_addresses;
mod m20261125_000004_backfill_cursors;
mod m20261125_000005_write_back;
mod m20261202_000006_create_decisions;
mod m20261202_000007_record_keys;
mod m20261202_000008_create_outbox;
mod m20261202_000010_operators_and_audit;
mod m20261203_000009_retention;
mod m20261203_000011_search;
mod m20261203_000012_placements_and_bulk_jobs;
mod m20261203_000013_console_sessions;
mod m20261203_000014_report_indexes;
mod m20261203_000015_create_field_history;
mod m20261203_000016_report_rollup;
mod m20261203_000017_create_import_runs;
mod m20261203_000018_create_projects;
mod m20261203_000019_outbox_subjects;

/// Every migration in order; `clientsync migrate` and start-up run `Migrator::up`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_store::Migration),
            Box::new(m20261124_000002_create_queue_messages::Migration),
            Box::new(m20261125_000003_match_keys_and_addresses::Migration),
            Box::new(m20261125_000004_backfill_cursors::Migration),
            Box::new(m20261125_000005_write_back::Migration),
            Box::new(m20261202_000006_create_decisions::Migration),
            Box::new(m20261202_000007_record_keys::Migration),
            Box::new(m20261202_000008_create_outbox::Migration),
            Box::new(m20261203_000009_retention::Migration),
            Box::new(m20261202_000010_operators_and_audit::Migration),
            Box::new(m20261203_000011_search::Migration),
            Box::new(m20261203_000012_placements_and_bulk_jobs::Migration),
            Box::new(m20261203_000013_console_sessions::Migration),
            Box::new(m20261203_000014_report_indexes::Migration),
            Box::new(m20261203_000015_create_field_history::Migration),
            Box::new(m20261203_000016_report_rollup::Migration),
            Box::new(m20261203_000017_create_import_runs::Migration),
            Box::new(m20261203_000018_create_projects::Migration),
            Box::new(m20261203_000019_outbox_subjects::Migration),
        ]
    }
}
