//! What needs an operator, counted from stored rows (never from per-process counters, which
//! each replica would count differently): open conflicts by kind, dead events, failed
//! write-backs, each with when it was first and last seen.

use chrono::{DateTime, Utc};
use entity::{
    conflicts::{self, ConflictKind, ConflictStatus},
    inbox_events::{self, InboxStatus},
    outbox::{self, OutboxStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, Func},
};

use super::StoreError;
use crate::domain::source::Source;

/// One group of things to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// How many.
    pub count: u64,
    /// The oldest one's time.
    pub first_seen: Option<DateTime<Utc>>,
    /// The newest one's time.
    pub last_seen: Option<DateTime<Utc>>,
}

/// The inbox of work, by group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    /// Open conflicts by kind, in a fixed order; kinds with none are listed with 0.
    pub conflicts: Vec<(ConflictKind, Group)>,
    /// Events that failed for good.
    pub dead_events: Group,
    /// Write-backs given up on.
    pub failed_write_backs: Group,
}

/// Count, oldest and newest time of a group, as the aggregate query reads them.
type Counted = (i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Counts what needs attention, optionally from one source only.
pub async fn summary(db: &impl ConnectionTrait, source: Option<Source>) -> Result<Attention, StoreError> {
    let mut by_kind = conflicts::Entity::find()
        .select_only()
        .column(conflicts::Column::Kind)
        .column_as(Expr::from(Func::count(Expr::col(conflicts::Column::Id))), "n")
        .column_as(
            Expr::from(Func::min(Expr::col(conflicts::Column::CreatedAt))),
            "first_seen",
        )
        .column_as(
            Expr::from(Func::max(Expr::col(conflicts::Column::UpdatedAt))),
            "last_seen",
        )
        .filter(conflicts::Column::Status.eq(ConflictStatus::Open))
        .group_by(conflicts::Column::Kind);
    if let Some(source) = source {
        by_kind = by_kind.filter(conflicts::Column::Source.eq(source.as_str()));
    }
    let rows: Vec<(ConflictKind, Counted)> = by_kind
        .into_tuple::<(ConflictKind, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(kind, n, first, last)| (kind, (n, first, last)))
        .collect();
    let conflicts = [
        ConflictKind::FieldMismatch,
        ConflictKind::AmbiguousMatch,
        ConflictKind::KeyCollision,
    ]
    .into_iter()
    .map(|kind| {
        let group = rows
            .iter()
            .find(|row| row.0 == kind)
            .map(|(_, (n, first, last))| group(*n, *first, *last))
            .unwrap_or_else(|| group(0, None, None));
        (kind, group)
    })
    .collect();

    let mut dead = inbox_events::Entity::find()
        .select_only()
        .column_as(Expr::from(Func::count(Expr::col(inbox_events::Column::Id))), "n")
        .column_as(
            Expr::from(Func::min(Expr::col(inbox_events::Column::ReceivedAt))),
            "first_seen",
        )
        .column_as(
            Expr::from(Func::max(Expr::col(inbox_events::Column::UpdatedAt))),
            "last_seen",
        )
        .filter(inbox_events::Column::Status.eq(InboxStatus::Dead));
    if let Some(source) = source {
        dead = dead.filter(inbox_events::Column::Source.eq(source.as_str()));
    }
    let dead_events = one_group(dead.into_tuple().one(db).await?);

    let mut failed = outbox::Entity::find()
        .select_only()
        .column_as(Expr::from(Func::count(Expr::col(outbox::Column::Id))), "n")
        .column_as(
            Expr::from(Func::min(Expr::col(outbox::Column::CreatedAt))),
            "first_seen",
        )
        .column_as(
            Expr::from(Func::max(Expr::col(outbox::Column::UpdatedAt))),
            "last_seen",
        )
        .filter(outbox::Column::Status.eq(OutboxStatus::Failed));
    if let Some(source) = source {
        failed = failed.filter(outbox::Column::Source.eq(source.as_str()));
    }
    let failed_write_backs = one_group(failed.into_tuple().one(db).await?);

    Ok(Attention {
        conflicts,
        dead_events,
        failed_write_backs,
    })
}

fn group(n: i64, first_seen: Option<DateTime<Utc>>, last_seen: Option<DateTime<Utc>>) -> Group {
    Group {
        count: u64::try_from(n).unwrap_or(0),
        first_seen,
        last_seen,
    }
}

fn one_group(row: Option<Counted>) -> Group {
    row.map(|(n, first, last)| group(n, first, last))
        .unwrap_or_else(|| group(0, None, None))
}
