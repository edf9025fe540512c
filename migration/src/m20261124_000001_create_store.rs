//! The five tables of the golden client store.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .if_not_exists()
                    .col(uuid(Clients::Id).primary_key())
                    .col(text_null(Clients::Name))
                    .col(text_null(Clients::GivenName))
                    .col(text_null(Clients::FamilyName))
                    .col(text_null(Clients::Email))
                    .col(text_null(Clients::DocumentKey))
                    .col(string_len_null(Clients::DocumentKeyCheck, 16))
                    .col(text_null(Clients::Phone))
                    .col(text_null(Clients::Company))
                    .col(big_integer(Clients::Version))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .col(timestamp_with_time_zone(Clients::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Exact keys are unique: two workers racing to create the same client collide here
        // and the loser retries and links instead (see store::reconcile).
        unique_index(manager, "ux_clients_email", Clients::Table, Clients::Email).await?;
        unique_index(
            manager,
            "ux_clients_document_key",
            Clients::Table,
            Clients::DocumentKey,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SourceRecords::Table)
                    .if_not_exists()
                    .col(big_pk_auto(SourceRecords::Id))
                    .col(string_len(SourceRecords::Source, 16))
                    .col(text(SourceRecords::ExternalId))
                    .col(string_len(SourceRecords::Kind, 32))
                    .col(uuid_null(SourceRecords::ClientId))
                    .col(string_len(SourceRecords::Status, 32))
                    .col(json(SourceRecords::Fields))
                    .col(big_integer(SourceRecords::LastEventAtMs))
                    .col(timestamp_with_time_zone(SourceRecords::CreatedAt))
                    .col(timestamp_with_time_zone(SourceRecords::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_source_records_client")
                            .from(SourceRecords::Table, SourceRecords::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_source_records_source_external")
                    .table(SourceRecords::Table)
                    .col(SourceRecords::Source)
                    .col(SourceRecords::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        plain_index(
            manager,
            "ix_source_records_client",
            SourceRecords::Table,
            SourceRecords::ClientId,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(FieldProvenance::Table)
                    .if_not_exists()
                    .col(uuid(FieldProvenance::ClientId))
                    .col(string_len(FieldProvenance::Field, 64))
                    .col(text_null(FieldProvenance::Value))
                    .col(string_len(FieldProvenance::Source, 16))
                    .col(text(FieldProvenance::ExternalId))
                    .col(text(FieldProvenance::EventId))
                    .col(big_integer(FieldProvenance::SetAtMs))
                    .col(boolean(FieldProvenance::Pinned))
                    .col(timestamp_with_time_zone(FieldProvenance::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(FieldProvenance::ClientId)
                            .col(FieldProvenance::Field),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_field_provenance_client")
                            .from(FieldProvenance::Table, FieldProvenance::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Conflicts::Table)
                    .if_not_exists()
                    .col(uuid(Conflicts::Id).primary_key())
                    .col(string_len(Conflicts::Kind, 32))
                    .col(string_len(Conflicts::Status, 16))
                    .col(uuid_null(Conflicts::ClientId))
                    .col(string_len_null(Conflicts::Field, 64))
                    .col(text_null(Conflicts::HubspotValue))
                    .col(text_null(Conflicts::ClickupValue))
                    .col(json(Conflicts::Candidates))
                    .col(string_len(Conflicts::Source, 16))
                    .col(text(Conflicts::ExternalId))
                    .col(text(Conflicts::EventId))
                    .col(text_null(Conflicts::Resolution))
                    .col(text_null(Conflicts::ResolvedBy))
                    .col(timestamp_with_time_zone_null(Conflicts::ResolvedAt))
                    .col(timestamp_with_time_zone(Conflicts::CreatedAt))
                    .col(timestamp_with_time_zone(Conflicts::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_conflicts_client")
                            .from(Conflicts::Table, Conflicts::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_conflicts_status_kind")
                    .table(Conflicts::Table)
                    .col(Conflicts::Status)
                    .col(Conflicts::Kind)
                    .to_owned(),
            )
            .await?;
        plain_index(
            manager,
            "ix_conflicts_client",
            Conflicts::Table,
            Conflicts::ClientId,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(InboxEvents::Table)
                    .if_not_exists()
                    .col(text(InboxEvents::Id).primary_key())
                    .col(string_len(InboxEvents::Source, 16))
                    .col(string_len(InboxEvents::EventType, 64))
                    .col(text(InboxEvents::ObjectId))
                    .col(big_integer(InboxEvents::OccurredAtMs))
                    .col(timestamp_with_time_zone(InboxEvents::ReceivedAt))
                    .col(json(InboxEvents::Payload))
                    .col(string_len(InboxEvents::Status, 32))
                    .col(integer(InboxEvents::Attempts))
                    .col(text_null(InboxEvents::LastError))
                    .col(timestamp_with_time_zone(InboxEvents::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inbox_events_status_received")
                    .table(InboxEvents::Table)
                    .col(InboxEvents::Status)
                    .col(InboxEvents::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InboxEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Conflicts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(FieldProvenance::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SourceRecords::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Clients::Table).to_owned())
            .await
    }
}

async fn unique_index<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    col: C,
) -> Result<(), DbErr> {
    manager
        .create_index(
            Index::create()
                .name(name)
                .table(table)
                .col(col)
                .unique()
                .to_owned(),
        )
        .await
}

async fn plain_index<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    col: C,
) -> Result<(), DbErr> {
    manager
        .create_index(Index::create().name(name).table(table).col(col).to_owned())
        .await
}

#[derive(DeriveIden, Clone, Copy)]
enum Clients {
    Table,
    Id,
    Name,
    GivenName,
    FamilyName,
    Email,
    DocumentKey,
    DocumentKeyCheck,
    Phone,
    Company,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SourceRecords {
    Table,
    Id,
    Source,
    ExternalId,
    Kind,
    ClientId,
    Status,
    Fields,
    LastEventAtMs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum FieldProvenance {
    Table,
    ClientId,
    Field,
    Value,
    Source,
    ExternalId,
    EventId,
    SetAtMs,
    Pinned,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Conflicts {
    Table,
    Id,
    Kind,
    Status,
    ClientId,
    Field,
    HubspotValue,
    ClickupValue,
    Candidates,
    Source,
    ExternalId,
    EventId,
    Resolution,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum InboxEvents {
    Table,
    Id,
    Source,
    EventType,
    ObjectId,
    OccurredAtMs,
    ReceivedAt,
    Payload,
    Status,
    Attempts,
    LastError,
    UpdatedAt,
}
