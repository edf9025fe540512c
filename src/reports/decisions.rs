//! Automatic match decisions per UTC day (`decided_at`): how many records the engine placed on
//! an existing client by itself (`link`, `merge`, `move`) against how many it sent to an
//! operator (`ambiguous`, `collision`), and the auto-linked share of the two. Records that
//! founded a new client and splits are counted beside, outside the share.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use entity::decisions::{self, Column as C, DecisionKind};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, sea_query::Expr};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    Table,
    day::{self, Window},
};

/// Decisions per UTC day over a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionsPerDay {
    /// First day shown.
    pub from: NaiveDate,
    /// Last day shown.
    pub to: NaiveDate,
    /// Every day of the window, oldest first, zeros included.
    pub days: Vec<DecisionsDay>,
}

/// One day's decisions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DecisionsDay {
    /// The UTC day.
    pub day: NaiveDate,
    /// Placed on an existing client without a person: link, merge, move.
    pub auto_linked: u64,
    /// Left to an operator: ambiguous, collision.
    pub sent_to_review: u64,
    /// Founded a new client.
    pub new_client: u64,
    /// Left a client it no longer fits (split).
    pub split: u64,
    /// `auto_linked / (auto_linked + sent_to_review)`; none on a day with neither.
    pub auto_share: Option<f64>,
}

/// Counts the window's decisions.
pub async fn make(db: &impl ConnectionTrait, window: &Window) -> Result<DecisionsPerDay, DbErr> {
    let backend = db.get_database_backend();
    let day_of = day::of(backend, "decided_at");
    let rows: Vec<(String, DecisionKind, i64)> = decisions::Entity::find()
        .select_only()
        .column_as(day_of, "day")
        .column(C::Kind)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(C::DecidedAt.gte(window.start()))
        .filter(C::DecidedAt.lt(window.end()))
        .group_by(day::group_of(backend, "decided_at"))
        .group_by(C::Kind)
        .into_tuple()
        .all(db)
        .await?;
    let mut by_day: BTreeMap<NaiveDate, DecisionsDay> = BTreeMap::new();
    for (text, kind, n) in rows {
        let (Some(d), Ok(n)) = (day::parse(&text), u64::try_from(n)) else {
            continue;
        };
        let entry = by_day.entry(d).or_insert_with(|| empty(d));
        match kind {
            DecisionKind::Link | DecisionKind::Merge | DecisionKind::Move => entry.auto_linked += n,
            DecisionKind::Ambiguous | DecisionKind::Collision => entry.sent_to_review += n,
            DecisionKind::NewClient => entry.new_client += n,
            DecisionKind::Split => entry.split += n,
        }
    }
    let days = window
        .days()
        .map(|d| {
            let mut day = by_day.remove(&d).unwrap_or_else(|| empty(d));
            let decided = day.auto_linked + day.sent_to_review;
            day.auto_share = (decided > 0).then(|| day.auto_linked as f64 / decided as f64);
            day
        })
        .collect();
    Ok(DecisionsPerDay {
        from: window.first(),
        to: window.last(),
        days,
    })
}

fn empty(day: NaiveDate) -> DecisionsDay {
    DecisionsDay {
        day,
        auto_linked: 0,
        sent_to_review: 0,
        new_client: 0,
        split: 0,
        auto_share: None,
    }
}

impl DecisionsPerDay {
    /// A row per day.
    pub fn table(&self) -> Table {
        let mut table = Table::new(&[
            "day",
            "auto_linked",
            "sent_to_review",
            "new_client",
            "split",
            "auto_share",
        ]);
        for d in &self.days {
            table.push(vec![
                d.day.to_string(),
                d.auto_linked.to_string(),
                d.sent_to_review.to_string(),
                d.new_client.to_string(),
                d.split.to_string(),
                d.auto_share.map(|s| format!("{s:.3}")).unwrap_or_default(),
            ]);
        }
        table
    }
}
