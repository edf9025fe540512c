//! SeaORM entities of the clientsync store; the schema itself lives in `migration/`.

pub mod audit_log;
pub mod backfill_cursors;
pub mod bulk_jobs;
pub mod client_search;
pub mod clients;
pub mod conflicts;
pub mod console_sessions;
pub mod decisions;
pub mod field_history;
pub mod field_provenance;
pub mod import_runs;
pub mod inbox_events;
pub mod match_exclusions;
pub mod match_keys;
pub mod operator_tokens;
pub mod operators;
pub mod outbox;
pub mod projects;
pub mod queue_messages;
pub mod report_event_counts;
pub mod report_late_events;
pub mod report_rolled_days;
pub mod source_records;
pub mod write_log;
