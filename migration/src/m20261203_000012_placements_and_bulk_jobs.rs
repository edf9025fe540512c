//! Operators acting on the golden list. `source_records.placed_by` names the operator who put a
//! record on its client by hand (a move or split): the engine then keeps it there whatever later
//! events say, since an operator's placement outranks a score or a shared key. `bulk_jobs` is one
//! row per bulk action by filter, with its progress, so an admin can watch and cancel it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SourceRecords::Table)
                    .add_column(string_len_null(SourceRecords::PlacedBy, 80))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BulkJobs::Table)
                    .if_not_exists()
                    .col(uuid(BulkJobs::Id).primary_key())
                    .col(string_len(BulkJobs::Action, 32))
                    .col(json(BulkJobs::Request))
                    .col(string_len(BulkJobs::Status, 16))
                    .col(big_integer(BulkJobs::Total))
                    .col(big_integer(BulkJobs::Done))
                    .col(big_integer(BulkJobs::Failed))
                    .col(boolean(BulkJobs::Cancelled))
                    .col(text_null(BulkJobs::LastError))
                    .col(string_len(BulkJobs::CreatedBy, 80))
                    .col(timestamp_with_time_zone(BulkJobs::CreatedAt))
                    .col(timestamp_with_time_zone(BulkJobs::UpdatedAt))
                    .col(timestamp_with_time_zone_null(BulkJobs::FinishedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(BulkJobs::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SourceRecords::Table)
                    .drop_column(SourceRecords::PlacedBy)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum SourceRecords {
    Table,
    PlacedBy,
}

#[derive(DeriveIden)]
enum BulkJobs {
    Table,
    Id,
    Action,
    Request,
    Status,
    Total,
    Done,
    Failed,
    Cancelled,
    LastError,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}
