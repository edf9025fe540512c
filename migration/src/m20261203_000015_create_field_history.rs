//! Every change of a golden field's value, appended as it happens: `field_provenance` holds
//! only the value a field has now, so without this the client timeline could not say what a
//! field was before, nor which event, decision or operator changed it. Rows are appended,
//! never updated; no foreign key to clients, since the history outlives a client a merge removed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FieldHistory::Table)
                    .if_not_exists()
                    .col(uuid(FieldHistory::Id).primary_key())
                    .col(uuid(FieldHistory::ClientId))
                    .col(string_len(FieldHistory::Field, 32))
                    .col(text_null(FieldHistory::Before))
                    .col(text_null(FieldHistory::After))
                    .col(string_len(FieldHistory::Source, 16))
                    .col(text(FieldHistory::ExternalId))
                    .col(text(FieldHistory::EventId))
                    .col(big_integer(FieldHistory::SetAtMs))
                    .col(text(FieldHistory::Cause))
                    .col(timestamp_with_time_zone(FieldHistory::ChangedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_field_history_client_changed")
                    .table(FieldHistory::Table)
                    .col(FieldHistory::ClientId)
                    .col(FieldHistory::ChangedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FieldHistory::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum FieldHistory {
    Table,
    Id,
    ClientId,
    Field,
    Before,
    After,
    Source,
    ExternalId,
    EventId,
    SetAtMs,
    Cause,
    ChangedAt,
}
