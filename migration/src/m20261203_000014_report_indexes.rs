//! Indexes the reports read by: each report counts rows of a time range grouped by UTC day,
//! so each table gets an index that leads with the time it is counted by. The inbox's covers
//! source and type too, so Postgres counts events per day from the index alone (an
//! index-only scan) without visiting 10 million heap rows. Conflicts are counted by when they
//! were opened (resolutions already have `ix_conflicts_status_resolved`), decisions by when
//! they were made; write-backs use `ix_outbox_status_updated` and the backlog
//! `ix_inbox_events_status_received`, both already there.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_inbox_events_received_source_type")
                    .table(InboxEvents::Table)
                    .col(InboxEvents::ReceivedAt)
                    .col(InboxEvents::Source)
                    .col(InboxEvents::EventType)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_conflicts_created")
                    .table(Conflicts::Table)
                    .col(Conflicts::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_decisions_decided_kind")
                    .table(Decisions::Table)
                    .col(Decisions::DecidedAt)
                    .col(Decisions::Kind)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table) in [
            ("ix_decisions_decided_kind", Decisions::Table.into_iden()),
            ("ix_conflicts_created", Conflicts::Table.into_iden()),
            (
                "ix_inbox_events_received_source_type",
                InboxEvents::Table.into_iden(),
            ),
        ] {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum InboxEvents {
    Table,
    ReceivedAt,
    Source,
    EventType,
}

#[derive(DeriveIden)]
enum Conflicts {
    Table,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Decisions {
    Table,
    DecidedAt,
    Kind,
}
