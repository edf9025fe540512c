//! Work statuses ClickUp owns (project, payment) on golden clients, and the log of what the
//! service last wrote to each source record: a value already written is not written again
//! while its echo is on its way back.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const NEW_COLUMNS: [Clients; 2] = [Clients::ProjectStatus, Clients::PaymentStatus];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in NEW_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Clients::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(WriteLog::Table)
                    .if_not_exists()
                    .col(string_len(WriteLog::Source, 16))
                    .col(string_len(WriteLog::ExternalId, 200))
                    .col(string_len(WriteLog::Field, 40))
                    .col(text_null(WriteLog::Value))
                    .col(timestamp_with_time_zone(WriteLog::WrittenAt))
                    .primary_key(
                        Index::create()
                            .col(WriteLog::Source)
                            .col(WriteLog::ExternalId)
                            .col(WriteLog::Field),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WriteLog::Table).to_owned())
            .await?;
        for column in NEW_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Clients::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Clients {
    Table,
    ProjectStatus,
    PaymentStatus,
}

#[derive(DeriveIden)]
enum WriteLog {
    Table,
    Source,
    ExternalId,
    Field,
    Value,
    WrittenAt,
}
