//! Where each backfill stream got to, so a killed backfill resumes at its last finished page
//! and a periodic one reads only what changed since the previous run began.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(BackfillCursors::Table)
                    .if_not_exists()
                    .col(string_len(BackfillCursors::Stream, 200).primary_key())
                    .col(big_integer_null(BackfillCursors::SinceMs))
                    .col(text_null(BackfillCursors::Position))
                    .col(big_integer(BackfillCursors::Objects))
                    .col(timestamp_with_time_zone(BackfillCursors::StartedAt))
                    .col(timestamp_with_time_zone(BackfillCursors::UpdatedAt))
                    .col(timestamp_with_time_zone_null(BackfillCursors::CompletedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BackfillCursors::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum BackfillCursors {
    Table,
    Stream,
    SinceMs,
    Position,
    Objects,
    StartedAt,
    UpdatedAt,
    CompletedAt,
}
