//! Every automatic match decision with its evidence, so an operator can always see why a
//! record sits on its client (and an undo knows what was decided). Rows are appended, never
//! updated; no foreign key to clients, since a decision outlives the client a merge removed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Decisions::Table)
                    .if_not_exists()
                    .col(uuid(Decisions::Id).primary_key())
                    .col(string_len(Decisions::Kind, 16))
                    .col(string_len(Decisions::Source, 16))
                    .col(text(Decisions::ExternalId))
                    .col(text(Decisions::EventId))
                    .col(uuid_null(Decisions::ClientId))
                    .col(uuid_null(Decisions::FromClientId))
                    .col(double_null(Decisions::Probability))
                    .col(json(Decisions::Evidence))
                    .col(string_len(Decisions::ModelVersion, 64))
                    .col(timestamp_with_time_zone(Decisions::DecidedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("ix_decisions_record", Decisions::ExternalId),
            ("ix_decisions_client", Decisions::ClientId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Decisions::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Decisions::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Decisions {
    Table,
    Id,
    Kind,
    Source,
    ExternalId,
    EventId,
    ClientId,
    FromClientId,
    Probability,
    Evidence,
    ModelVersion,
    DecidedAt,
}
