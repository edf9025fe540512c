//! The embedded queue's table: the database itself is the durable queue when no broker is configured.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QueueMessages::Table)
                    .if_not_exists()
                    .col(big_pk_auto(QueueMessages::Id))
                    .col(string_len(QueueMessages::Queue, 128))
                    .col(blob(QueueMessages::Body))
                    .col(integer(QueueMessages::Attempt))
                    .col(string_len(QueueMessages::Status, 16))
                    .col(big_integer(QueueMessages::AvailableAtMs))
                    .col(uuid_null(QueueMessages::LeaseId))
                    .col(big_integer_null(QueueMessages::LeaseUntilMs))
                    .col(text_null(QueueMessages::LastError))
                    .col(timestamp_with_time_zone(QueueMessages::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_queue_messages_ready")
                    .table(QueueMessages::Table)
                    .col(QueueMessages::Queue)
                    .col(QueueMessages::Status)
                    .col(QueueMessages::AvailableAtMs)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QueueMessages::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum QueueMessages {
    Table,
    Id,
    Queue,
    Body,
    Attempt,
    Status,
    AvailableAtMs,
    LeaseId,
    LeaseUntilMs,
    LastError,
    CreatedAt,
}
