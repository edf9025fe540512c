//! Projects as records of their own: a client with three ClickUp projects has three rows here,
//! not one `project_status` on the client. A row is keyed by its ClickUp task (a HubSpot deal
//! naming a task not seen yet still gets its row); its client is unknown until the client's own
//! task is linked. Each side's last values live in `clickup_values` / `hubspot_values` (field →
//! value, time, event), so reconciliation can compare the owner's value with the other side's.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .if_not_exists()
                    .col(uuid(Projects::Id).primary_key())
                    .col(uuid_null(Projects::ClientId))
                    .col(string_len(Projects::ClickupTaskId, 64).unique_key())
                    .col(string_len_null(Projects::HubspotDealId, 64).unique_key())
                    .col(string_len_null(Projects::ClientTaskId, 64))
                    .col(text_null(Projects::Name))
                    .col(string_len_null(Projects::ProductType, 128))
                    .col(string_len_null(Projects::Status, 128))
                    .col(big_integer_null(Projects::TimeEstimateMs))
                    .col(big_integer_null(Projects::TimeSpentMs))
                    .col(big_integer_null(Projects::DueAtMs))
                    .col(string_len_null(Projects::PaymentStatus, 128))
                    .col(big_integer_null(Projects::AmountCents))
                    .col(json(Projects::ClickupValues))
                    .col(json(Projects::HubspotValues))
                    .col(boolean(Projects::Deleted).default(false))
                    .col(big_integer(Projects::LastEventAtMs))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_projects_client")
                            .from(Projects::Table, Projects::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_projects_client", Projects::ClientId),
            ("ix_projects_client_task", Projects::ClientTaskId),
            ("ix_projects_status", Projects::Status),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Projects::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Projects::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Projects {
    Table,
    Id,
    ClientId,
    ClickupTaskId,
    HubspotDealId,
    ClientTaskId,
    Name,
    ProductType,
    Status,
    TimeEstimateMs,
    TimeSpentMs,
    DueAtMs,
    PaymentStatus,
    AmountCents,
    ClickupValues,
    HubspotValues,
    Deleted,
    LastEventAtMs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
}
