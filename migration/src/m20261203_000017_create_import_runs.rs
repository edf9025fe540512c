//! `clientsync import` runs: one row per run of a file, with its counters and numeric-column
//! statistics, written in the same transaction as each micro-batch of rows, so a killed run
//! resumes after its last committed batch (found again by the file's SHA-256) and the figures
//! stay readable afterwards (`clientsync imports`, the API).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ImportRuns::Table)
                    .if_not_exists()
                    .col(uuid(ImportRuns::Id).primary_key())
                    .col(text(ImportRuns::File))
                    .col(string_len(ImportRuns::FileSha256, 64))
                    .col(string_len(ImportRuns::Source, 32))
                    .col(string_len(ImportRuns::Status, 16))
                    .col(json(ImportRuns::Options))
                    .col(big_integer(ImportRuns::RowsRead))
                    .col(big_integer(ImportRuns::RowsLoaded))
                    .col(big_integer(ImportRuns::RowsRejected))
                    .col(big_integer(ImportRuns::Unchanged))
                    .col(big_integer(ImportRuns::NewClients))
                    .col(big_integer(ImportRuns::Linked))
                    .col(big_integer(ImportRuns::Conflicts))
                    .col(big_integer(ImportRuns::LastLine))
                    .col(json(ImportRuns::Stats))
                    .col(text_null(ImportRuns::LastError))
                    .col(timestamp_with_time_zone(ImportRuns::StartedAt))
                    .col(timestamp_with_time_zone(ImportRuns::UpdatedAt))
                    .col(timestamp_with_time_zone_null(ImportRuns::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_import_runs_file_sha256")
                    .table(ImportRuns::Table)
                    .col(ImportRuns::FileSha256)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImportRuns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum ImportRuns {
    Table,
    Id,
    File,
    FileSha256,
    Source,
    Status,
    Options,
    RowsRead,
    RowsLoaded,
    RowsRejected,
    Unchanged,
    NewClients,
    Linked,
    Conflicts,
    LastLine,
    Stats,
    LastError,
    StartedAt,
    UpdatedAt,
    FinishedAt,
}
