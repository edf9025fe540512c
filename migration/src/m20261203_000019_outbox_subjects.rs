//! The outbox carries project writes beside client writes: `subject` says which (`client` for
//! every row before this), `project_id` names the project of a project write, and `client_id`
//! becomes nullable, since a project whose client task is not linked yet is still written back.
//!
//! SQLite cannot make a column nullable in place, so the table is rebuilt the same way on both
//! backends: rows copied into a new table, the old one dropped, and the new schema created again
//! under the table's own name (copied a second time), so constraints and indexes keep the names
//! they had. The outbox is small (sent rows are pruned), so two copies cost little. `down` keeps
//! only the client rows, the only ones the older schema can hold.
//!
//! It runs in one transaction on SQLite too: the rebuild is all or nothing, and every statement
//! uses one connection (statements spread over a pool's connections met one that still knew the
//! dropped table's index and refused to create it again).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns every version of the table has, in order.
const SHARED: [Outbox; 14] = [
    Outbox::Id,
    Outbox::ClientId,
    Outbox::Source,
    Outbox::ExternalId,
    Outbox::Kind,
    Outbox::Field,
    Outbox::Value,
    Outbox::Status,
    Outbox::PendingKey,
    Outbox::Attempts,
    Outbox::NextAttemptAt,
    Outbox::LastError,
    Outbox::CreatedAt,
    Outbox::UpdatedAt,
];

/// Which shape of the table.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// As 000008 created it: client writes only.
    ClientsOnly,
    /// With `subject` and `project_id`, `client_id` nullable.
    WithProjects,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, Shape::WithProjects).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A project write has no place in the older table (its client may be unknown).
        manager
            .exec_stmt(
                Query::delete()
                    .from_table(Outbox::Table)
                    .and_where(Expr::col(Outbox::Subject).ne("client"))
                    .to_owned(),
            )
            .await?;
        rebuild(manager, Shape::ClientsOnly).await
    }
}

/// Re-creates `outbox` in `shape` with its rows and its indexes.
async fn rebuild(manager: &SchemaManager<'_>, shape: Shape) -> Result<(), DbErr> {
    manager.create_table(table(Outbox::Staging, shape)).await?;
    copy(manager, Outbox::Table, Outbox::Staging, shape).await?;
    manager
        .drop_table(Table::drop().table(Outbox::Table).to_owned())
        .await?;
    manager.create_table(table(Outbox::Table, shape)).await?;
    copy(manager, Outbox::Staging, Outbox::Table, shape).await?;
    manager
        .drop_table(Table::drop().table(Outbox::Staging).to_owned())
        .await?;
    // 000008's due-row index, 000009's retention index and 000011's by-client index, as they were.
    for (name, columns) in [
        (
            "ix_outbox_status_next_attempt",
            &[Outbox::Status, Outbox::NextAttemptAt][..],
        ),
        (
            "ix_outbox_status_updated",
            &[Outbox::Status, Outbox::UpdatedAt][..],
        ),
        ("ix_outbox_client", &[Outbox::ClientId][..]),
    ] {
        let mut index = Index::create();
        index.name(name).table(Outbox::Table);
        for column in columns {
            index.col(*column);
        }
        manager.create_index(index).await?;
    }
    if shape == Shape::WithProjects {
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_project")
                    .table(Outbox::Table)
                    .col(Outbox::ProjectId)
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// The table `name` in `shape` (000008's columns and constraints, plus the project columns).
fn table(name: Outbox, shape: Shape) -> TableCreateStatement {
    let mut create = Table::create();
    create.table(name).col(uuid(Outbox::Id).primary_key());
    match shape {
        Shape::ClientsOnly => create.col(uuid(Outbox::ClientId)),
        Shape::WithProjects => create
            .col(string_len(Outbox::Subject, 16).default("client"))
            .col(uuid_null(Outbox::ClientId))
            .col(uuid_null(Outbox::ProjectId)),
    };
    create
        .col(string_len(Outbox::Source, 16))
        .col(string_len(Outbox::ExternalId, 200))
        .col(string_len(Outbox::Kind, 16))
        .col(string_len(Outbox::Field, 40))
        .col(text(Outbox::Value))
        .col(string_len(Outbox::Status, 16))
        // A column constraint, as 000008 explains: SQLite connections know it with the table.
        .col(string_len_null(Outbox::PendingKey, 260).unique_key())
        .col(integer(Outbox::Attempts))
        .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
        .col(text_null(Outbox::LastError))
        .col(timestamp_with_time_zone(Outbox::CreatedAt))
        .col(timestamp_with_time_zone(Outbox::UpdatedAt))
        .to_owned()
}

/// Copies every row of `from` into `to`: the shared columns, and the project columns when both
/// tables have them (going up, the old rows take `subject`'s default, `client`).
async fn copy(manager: &SchemaManager<'_>, from: Outbox, to: Outbox, shape: Shape) -> Result<(), DbErr> {
    let both_have_projects = shape == Shape::WithProjects && from == Outbox::Staging;
    let mut columns: Vec<Outbox> = SHARED.to_vec();
    if both_have_projects {
        columns.extend([Outbox::Subject, Outbox::ProjectId]);
    }
    let select = Query::select().columns(columns.clone()).from(from).to_owned();
    let insert = Query::insert()
        .into_table(to)
        .columns(columns)
        .select_from(select)
        .map_err(|e| DbErr::Migration(format!("copying the outbox: {e}")))?
        .to_owned();
    manager.exec_stmt(insert).await
}

#[derive(DeriveIden, Clone, Copy, PartialEq, Eq)]
enum Outbox {
    Table,
    /// Where the rows wait while the table is created again.
    #[sea_orm(iden = "outbox_000019")]
    Staging,
    Id,
    Subject,
    ClientId,
    ProjectId,
    Source,
    ExternalId,
    Kind,
    Field,
    Value,
    Status,
    PendingKey,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}
