//! The outbox: one row per planned write-back, so a write the source refused or could not take
//! is retried with backoff, ends `failed` with its reason for an operator, and survives a
//! restart. `pending_key` is set only while a row is pending and is unique, so each (source,
//! record, field) has at most one pending write and a newer plan replaces its value; sent and
//! failed rows keep it null (both backends allow any number of nulls in a unique index).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(uuid(Outbox::Id).primary_key())
                    .col(uuid(Outbox::ClientId))
                    .col(string_len(Outbox::Source, 16))
                    .col(string_len(Outbox::ExternalId, 200))
                    .col(string_len(Outbox::Kind, 16))
                    .col(string_len(Outbox::Field, 40))
                    .col(text(Outbox::Value))
                    .col(string_len(Outbox::Status, 16))
                    // A column constraint, not a separate index: a SQLite connection that read the
                    // schema between two migration statements would know the table but not a
                    // later index, and refuse `ON CONFLICT (pending_key)` until it re-reads it.
                    .col(string_len_null(Outbox::PendingKey, 260).unique_key())
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone(Outbox::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_status_next_attempt")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    ClientId,
    Source,
    ExternalId,
    Kind,
    Field,
    Value,
    Status,
    PendingKey,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}
