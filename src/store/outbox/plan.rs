//! Planning a write: a row per field pending at most, a newer value replacing the pending one.

use chrono::{DateTime, Utc};
use entity::outbox::{self, Column as C, Entity as Outbox, OutboxStatus, OutboxSubject};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use crate::{
    domain::{
        ids::{ClientId, ProjectId},
        source::Source,
    },
    reconcile::{Field, project::ProjectField},
};

/// One value to write to one field of one source record, for one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWrite<'a> {
    /// The golden client the value is from.
    pub client: Uuid,
    /// The system written to.
    pub source: Source,
    /// The record (`contact:…`, `task:…`).
    pub external_id: &'a str,
    /// `contact`, `company` or `task`.
    pub kind: &'a str,
    /// Which field.
    pub field: Field,
    /// The golden value.
    pub value: &'a str,
}

/// One value to write to one field of a project's deal or task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedProjectWrite<'a> {
    /// The project the value is from.
    pub project: ProjectId,
    /// The project's client, when known.
    pub client: Option<ClientId>,
    /// The system written to.
    pub source: Source,
    /// The record (`deal:…`, `task:…`).
    pub external_id: &'a str,
    /// `deal` or `task`.
    pub kind: &'a str,
    /// Which field.
    pub field: ProjectField,
    /// The golden value, as stored.
    pub value: &'a str,
}

/// A planned write whatever its subject: the row's own columns.
struct Planned<'a> {
    subject: OutboxSubject,
    client: Option<Uuid>,
    project: Option<Uuid>,
    source: Source,
    external_id: &'a str,
    kind: &'a str,
    field: &'a str,
    value: &'a str,
}

/// The unique key a pending row holds, so a field has at most one pending write (a project's
/// fields apart from a client's, whatever the record).
pub(super) fn pending_key(subject: OutboxSubject, source: &str, external_id: &str, field: &str) -> String {
    match subject {
        OutboxSubject::Client => format!("{source}|{external_id}|{field}"),
        OutboxSubject::Project => format!("project|{source}|{external_id}|{field}"),
    }
}

/// Puts a write in the outbox, due now, and returns its row's id. A pending row for the same
/// field takes the new value and starts its attempts over (keeping its schedule, so a row being
/// sent is not sent twice at once); the same value again changes nothing.
pub async fn plan(
    db: &impl ConnectionTrait,
    write: &PlannedWrite<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let planned = Planned {
        subject: OutboxSubject::Client,
        client: Some(write.client),
        project: None,
        source: write.source,
        external_id: write.external_id,
        kind: write.kind,
        field: write.field.as_str(),
        value: write.value,
    };
    plan_row(db, &planned, now).await
}

/// Puts a project's write in the outbox, as `plan` does a client's.
pub async fn plan_project(
    db: &impl ConnectionTrait,
    write: &PlannedProjectWrite<'_>,
    now: DateTime<Utc>,
) -> Result<Uuid, DbErr> {
    let planned = Planned {
        subject: OutboxSubject::Project,
        client: write.client.map(|c| c.as_uuid()),
        project: Some(write.project.as_uuid()),
        source: write.source,
        external_id: write.external_id,
        kind: write.kind,
        field: write.field.as_str(),
        value: write.value,
    };
    plan_row(db, &planned, now).await
}

async fn plan_row(db: &impl ConnectionTrait, write: &Planned<'_>, now: DateTime<Utc>) -> Result<Uuid, DbErr> {
    let key = pending_key(
        write.subject,
        write.source.as_str(),
        write.external_id,
        write.field,
    );
    // Two rounds at most: a concurrent planner may insert between our read and our insert.
    for _ in 0..2 {
        if let Some(row) = Outbox::find()
            .filter(C::PendingKey.eq(key.as_str()))
            .one(db)
            .await?
        {
            if row.value != write.value {
                Outbox::update_many()
                    .col_expr(C::Value, Expr::value(write.value))
                    .col_expr(C::ClientId, Expr::value(write.client))
                    .col_expr(C::ProjectId, Expr::value(write.project))
                    .col_expr(C::Attempts, Expr::value(0))
                    .col_expr(C::LastError, Expr::value(Option::<String>::None))
                    .col_expr(C::UpdatedAt, Expr::value(now))
                    .filter(C::Id.eq(row.id))
                    .exec(db)
                    .await?;
            }
            return Ok(row.id);
        }
        let id = Uuid::now_v7();
        let row = outbox::ActiveModel {
            id: Set(id),
            subject: Set(write.subject),
            client_id: Set(write.client),
            project_id: Set(write.project),
            source: Set(write.source.as_str().to_owned()),
            external_id: Set(write.external_id.to_owned()),
            kind: Set(write.kind.to_owned()),
            field: Set(write.field.to_owned()),
            value: Set(write.value.to_owned()),
            status: Set(OutboxStatus::Pending),
            pending_key: Set(Some(key.clone())),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let inserted = Outbox::insert(row)
            .on_conflict(OnConflict::column(C::PendingKey).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        if inserted == 1 {
            return Ok(id);
        }
    }
    Err(DbErr::Custom(format!(
        "outbox row for {key} kept changing under us"
    )))
}
