//! The events-per-day report's rollup: counts per closed UTC day, source and event type, so a
//! 400-day report reads a few thousand rows instead of 10 million inbox rows. A day is counted
//! once it has closed (the report fills it on read) and is marked rolled; an inbox row stored
//! for a day already closed (a late event: `received_at` is stamped by the receiver, the row is
//! written when a worker takes it off the queue) leaves a late mark that makes the next report
//! count that day again. `src/reports/rollup.rs` has the protocol.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ReportEventCounts::Table)
                    .if_not_exists()
                    .col(date(ReportEventCounts::Day))
                    .col(string_len(ReportEventCounts::Source, 16))
                    .col(string_len(ReportEventCounts::EventType, 64))
                    .col(big_integer(ReportEventCounts::Count))
                    .primary_key(
                        Index::create()
                            .col(ReportEventCounts::Day)
                            .col(ReportEventCounts::Source)
                            .col(ReportEventCounts::EventType),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportRolledDays::Table)
                    .if_not_exists()
                    .col(date(ReportRolledDays::Day).primary_key())
                    .col(timestamp_with_time_zone(ReportRolledDays::RolledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReportLateEvents::Table)
                    .if_not_exists()
                    .col(date(ReportLateEvents::Day))
                    .col(text(ReportLateEvents::EventId))
                    .col(timestamp_with_time_zone(ReportLateEvents::NotedAt))
                    .primary_key(
                        Index::create()
                            .col(ReportLateEvents::Day)
                            .col(ReportLateEvents::EventId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ReportLateEvents::Table.into_iden(),
            ReportRolledDays::Table.into_iden(),
            ReportEventCounts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ReportEventCounts {
    Table,
    Day,
    Source,
    EventType,
    Count,
}

#[derive(DeriveIden)]
enum ReportRolledDays {
    Table,
    Day,
    RolledAt,
}

#[derive(DeriveIden)]
enum ReportLateEvents {
    Table,
    Day,
    EventId,
    NotedAt,
}
