//! Client search: the folded words and phonetic codes of every client's names, so a name is
//! found by an index range (prefix) or probe (sound-alike) instead of a scan of every client;
//! plus the indexes the client timeline and search read by (golden phone, inbox events of one
//! object, write-backs of one client).
//!
//! `client_search.term` holds only `[a-z0-9]` (words) or Double Metaphone codes, so a prefix is
//! the range `[prefix, next)` on any collation. Existing clients are indexed at start-up by
//! `store::search::backfill` (the folding lives in the service crate, not here).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ClientSearch::Table)
                    .if_not_exists()
                    .col(string_len(ClientSearch::Kind, 1))
                    .col(string_len(ClientSearch::Term, 64))
                    .col(uuid(ClientSearch::ClientId))
                    .primary_key(
                        Index::create()
                            .col(ClientSearch::Kind)
                            .col(ClientSearch::Term)
                            .col(ClientSearch::ClientId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_client_search_client")
                            .from(ClientSearch::Table, ClientSearch::ClientId)
                            .to(Clients::Table, Clients::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, table, cols) in indexes() {
            let mut index = Index::create();
            index.name(name).table(table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in indexes() {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ClientSearch::Table).to_owned())
            .await
    }
}

/// The indexes this migration adds: name, table, columns.
fn indexes() -> Vec<(&'static str, DynIden, Vec<DynIden>)> {
    vec![
        (
            "ix_client_search_client",
            ClientSearch::Table.into_iden(),
            vec![ClientSearch::ClientId.into_iden()],
        ),
        (
            "ix_clients_phone",
            Clients::Table.into_iden(),
            vec![Clients::Phone.into_iden()],
        ),
        (
            "ix_inbox_events_object",
            InboxEvents::Table.into_iden(),
            vec![InboxEvents::Source.into_iden(), InboxEvents::ObjectId.into_iden()],
        ),
        (
            "ix_outbox_client",
            Outbox::Table.into_iden(),
            vec![Outbox::ClientId.into_iden()],
        ),
    ]
}

#[derive(DeriveIden)]
enum ClientSearch {
    Table,
    Kind,
    Term,
    ClientId,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    Id,
    Phone,
}

#[derive(DeriveIden)]
enum InboxEvents {
    Table,
    Source,
    ObjectId,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    ClientId,
}
