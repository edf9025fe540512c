//! A source record's exact keys (email, document key) as indexed columns beside its JSON
//! fields, so a record that sits on no client (a collision or an ambiguous match waiting for
//! evidence) is found when a client later takes its key, and placed again.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const KEYS: [(SourceRecords, &str, &str); 2] = [
    (SourceRecords::Email, "email", "ix_source_records_email"),
    (
        SourceRecords::DocumentKey,
        "document_key",
        "ix_source_records_document_key",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, _, index) in KEYS {
            manager
                .alter_table(
                    Table::alter()
                        .table(SourceRecords::Table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(index)
                        .table(SourceRecords::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        backfill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (column, _, index) in KEYS {
            manager
                .drop_index(Index::drop().name(index).table(SourceRecords::Table).to_owned())
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(SourceRecords::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Copies the keys of stored records out of their JSON fields, read and parsed here so the
/// same code serves both backends (their JSON functions differ).
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let select = Query::select()
        .columns([SourceRecords::Id, SourceRecords::Fields])
        .from(SourceRecords::Table)
        .to_owned();
    for row in db.query_all_raw(backend.build(&select)).await? {
        let id: i64 = row.try_get("", "id")?;
        let fields: serde_json::Value = row.try_get("", "fields")?;
        let value = |name: &str| {
            fields
                .get(name)
                .and_then(|f| f.get("value"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let mut update = Query::update();
        update.table(SourceRecords::Table);
        for (column, name, _) in KEYS {
            update.value(column, value(name));
        }
        update.and_where(Expr::col(SourceRecords::Id).eq(id));
        let statement: Statement = backend.build(&update);
        db.execute_raw(statement).await?;
    }
    Ok(())
}

#[derive(DeriveIden, Clone, Copy)]
enum SourceRecords {
    Table,
    Id,
    Fields,
    Email,
    DocumentKey,
}
