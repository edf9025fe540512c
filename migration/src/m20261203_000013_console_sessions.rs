//! Console sessions, kept on the server: the browser holds only a random 256-bit secret in an
//! HttpOnly cookie and the store keeps its SHA-256, so a copy of the database cannot be turned
//! into a live session. Revoking an operator deletes their sessions (cascade on the operator
//! would only fire on delete, so `access::revoke` removes them too); expired rows are removed
//! when they are next presented and by every new login.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsoleSessions::Table)
                    .if_not_exists()
                    // SHA-256 of the cookie's secret, hex: the lookup key.
                    .col(string_len(ConsoleSessions::IdHash, 64).primary_key())
                    .col(uuid(ConsoleSessions::OperatorId))
                    .col(timestamp_with_time_zone(ConsoleSessions::CreatedAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::LastSeenAt))
                    .col(timestamp_with_time_zone(ConsoleSessions::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsoleSessions::Table, ConsoleSessions::OperatorId)
                            .to(Operators::Table, Operators::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_console_sessions_operator", ConsoleSessions::OperatorId),
            ("ix_console_sessions_expires", ConsoleSessions::ExpiresAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ConsoleSessions::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsoleSessions::Table).if_exists().to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ConsoleSessions {
    Table,
    IdHash,
    OperatorId,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Operators {
    Table,
    Id,
}
