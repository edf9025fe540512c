//! Person and address fields on golden clients, and the blocking-key table fuzzy matching
//! searches so that one record never scans every client.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// New nullable text columns; one ALTER each because SQLite takes one change per statement.
const NEW_COLUMNS: [Clients; 7] = [
    Clients::DateOfBirth,
    Clients::StreetNumber,
    Clients::Street,
    Clients::Address2,
    Clients::City,
    Clients::Postcode,
    Clients::Region,
];

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
                    .table(MatchKeys::Table)
                    .if_not_exists()
                    .col(string_len(MatchKeys::Key, 160))
                    .col(uuid(MatchKeys::ClientId))
                    .primary_key(Index::create().col(MatchKeys::Key).col(MatchKeys::ClientId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_match_keys_client")
                            .from(MatchKeys::Table, MatchKeys::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_match_keys_client")
                    .table(MatchKeys::Table)
                    .col(MatchKeys::ClientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MatchKeys::Table).to_owned())
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
    Id,
    DateOfBirth,
    StreetNumber,
    Street,
    #[sea_orm(iden = "address_2")]
    Address2,
    City,
    Postcode,
    Region,
}

#[derive(DeriveIden)]
enum MatchKeys {
    Table,
    Key,
    ClientId,
}
