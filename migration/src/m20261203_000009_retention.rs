//! Retention: what lets a prune find old finished rows without scanning whole tables.
//!
//! `inbox_events.payload_pruned_at` marks an event whose raw payload was cleared (the row stays:
//! reports count events by source, type and time), so a prune does not clear it again; the
//! index puts uncleared rows first. Resolved conflicts are found by when they were resolved and
//! sent outbox rows by when they were sent (`updated_at`). Inbox rows are already found by
//! `ix_inbox_events_status_received`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(InboxEvents::Table)
                    .add_column(timestamp_with_time_zone_null(InboxEvents::PayloadPrunedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_inbox_events_unpruned")
                    .table(InboxEvents::Table)
                    .col(InboxEvents::PayloadPrunedAt)
                    .col(InboxEvents::Status)
                    .col(InboxEvents::ReceivedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_conflicts_status_resolved")
                    .table(Conflicts::Table)
                    .col(Conflicts::Status)
                    .col(Conflicts::ResolvedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_status_updated")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::UpdatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_outbox_status_updated", Outbox::Table.into_iden()),
            ("ix_conflicts_status_resolved", Conflicts::Table.into_iden()),
            ("ix_inbox_events_unpruned", InboxEvents::Table.into_iden()),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(InboxEvents::Table)
                    .drop_column(InboxEvents::PayloadPrunedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum InboxEvents {
    Table,
    PayloadPrunedAt,
    Status,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Conflicts {
    Table,
    Status,
    ResolvedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Status,
    UpdatedAt,
}
