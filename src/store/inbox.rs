//! The inbox: every event by its dedup key, so a redelivered or re-sent event is a no-op.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{
    inbox_events::{self, Column as C, InboxStatus},
    report_late_events,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Expr, OnConflict},
};
use sha2::{Digest, Sha256};

use crate::domain::event::Envelope;

/// Whether this event may be applied now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First time (or a dead event sent again): apply it in this transaction.
    Fresh,
    /// Already applied: do nothing.
    Duplicate,
}

fn row(
    env: &Envelope,
    status: InboxStatus,
    attempts: u32,
    error: Option<String>,
) -> inbox_events::ActiveModel {
    inbox_events::ActiveModel {
        id: Set(env.id.as_str().to_owned()),
        source: Set(env.source.as_str().to_owned()),
        event_type: Set(truncate(&env.event_type, 64)),
        object_id: Set(env.object_id.clone()),
        occurred_at_ms: Set(env.occurred_at_ms),
        received_at: Set(env.received_at),
        payload: Set(env.payload.clone()),
        status: Set(status),
        attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
        last_error: Set(error),
        updated_at: Set(Utc::now()),
        // Whatever was stored before, the row holds this event's payload again.
        payload_pruned_at: Set(None),
    }
}

/// Records the event with its final status; must be the transaction's first statement (a write,
/// so SQLite takes the write lock before any read snapshot can go stale).
pub async fn claim(
    db: &impl ConnectionTrait,
    env: &Envelope,
    status: InboxStatus,
    attempt: u32,
    note: Option<String>,
) -> Result<Claim, DbErr> {
    let inserted = inbox_events::Entity::insert(row(env, status, attempt, note.clone()))
        .on_conflict(
            OnConflict::column(inbox_events::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 1 {
        note_if_late(db, env).await?;
        return Ok(Claim::Fresh);
    }
    let event = ToClaim {
        env,
        status,
        attempt,
        note,
    };
    claim_stored(db, &event).await
}

/// An event whose inbox row was already there: a dead event sent again is claimed afresh (its
/// row rewritten), anything else is a duplicate.
async fn claim_stored(db: &impl ConnectionTrait, event: &ToClaim<'_>) -> Result<Claim, DbErr> {
    match inbox_events::Entity::find_by_id(event.env.id.as_str().to_owned())
        .one(db)
        .await?
    {
        Some(existing) if existing.status == InboxStatus::Dead => {
            inbox_events::Entity::update(row(event.env, event.status, event.attempt, event.note.clone()))
                .exec(db)
                .await?;
            note_if_late(db, event.env).await?;
            Ok(Claim::Fresh)
        }
        _ => Ok(Claim::Duplicate),
    }
}

/// One event of a batch to claim, with the status it ends in.
#[derive(Debug, Clone)]
pub struct ToClaim<'a> {
    /// The event.
    pub env: &'a Envelope,
    /// The status its row is stored with.
    pub status: InboxStatus,
    /// Which delivery of it this is.
    pub attempt: u32,
    /// Why it is ignored, when it is.
    pub note: Option<String>,
}

/// Rows per claiming insert: far under SQLite's and Postgres's limits on bound parameters.
const CLAIM_CHUNK: usize = 256;

/// Claims a batch's events as `claim` claims one, in one multi-row insert per 256 events (the
/// transaction's first statement, like `claim`'s); only events whose row was already there are
/// looked at again. An event twice in the batch is fresh at most once, and rows go in id order,
/// so two batches sharing events wait for each other in one order and cannot deadlock on them.
pub async fn claim_all(db: &impl ConnectionTrait, events: &[ToClaim<'_>]) -> Result<Vec<Claim>, DbErr> {
    let mut ids: HashSet<&str> = HashSet::with_capacity(events.len());
    let mut firsts: Vec<&ToClaim<'_>> = events.iter().filter(|e| ids.insert(e.env.id.as_str())).collect();
    firsts.sort_by(|a, b| a.env.id.as_str().cmp(b.env.id.as_str()));
    let mut inserted: HashSet<String> = HashSet::with_capacity(firsts.len());
    for chunk in firsts.chunks(CLAIM_CHUNK) {
        let rows = chunk
            .iter()
            .map(|e| row(e.env, e.status, e.attempt, e.note.clone()));
        let mut insert = inbox_events::Entity::insert_many(rows)
            .on_conflict(OnConflict::column(C::Id).do_nothing().to_owned())
            .into_query();
        insert.returning_col(C::Id);
        for found in db.query_all(&insert).await? {
            inserted.insert(found.try_get::<String>("", "id")?);
        }
    }
    let mut claimed: HashSet<&str> = HashSet::with_capacity(events.len());
    let mut claims = Vec::with_capacity(events.len());
    for event in events {
        let id = event.env.id.as_str();
        let claim = if !claimed.insert(id) {
            Claim::Duplicate
        } else if inserted.contains(id) {
            note_if_late(db, event.env).await?;
            Claim::Fresh
        } else {
            claim_stored(db, event).await?
        };
        claims.push(claim);
    }
    Ok(claims)
}

/// Stores a dead event with its last error, so operators see it and can replay it.
pub async fn record_dead(
    db: &impl ConnectionTrait,
    env: &Envelope,
    attempts: u32,
    reason: &str,
) -> Result<(), DbErr> {
    upsert_dead(
        db,
        row(env, InboxStatus::Dead, attempts, Some(truncate(reason, 2000))),
    )
    .await?;
    // After the row (not in one transaction): a report rolling the day in between counts the
    // row already, and a mark after it only makes the next report count the day again.
    note_if_late(db, env).await
}

/// Leaves a late mark when `env` counts on a UTC day that closed before this write (it waited
/// in the queue past midnight), so the events report counts that day again
/// (`reports::rollup` has the protocol). Called after the row is written, in its transaction.
async fn note_if_late(db: &impl ConnectionTrait, env: &Envelope) -> Result<(), DbErr> {
    let now = Utc::now();
    let day = env.received_at.date_naive();
    if day >= now.date_naive() {
        return Ok(());
    }
    report_late_events::Entity::insert(report_late_events::ActiveModel {
        day: Set(day),
        event_id: Set(env.id.as_str().to_owned()),
        noted_at: Set(now),
    })
    // An update, not `do nothing`: it waits for a roller deleting the same mark, so the mark
    // is never lost to a roll that counted before this row was committed.
    .on_conflict(
        OnConflict::columns([
            report_late_events::Column::Day,
            report_late_events::Column::EventId,
        ])
        .update_column(report_late_events::Column::NotedAt)
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Stores a queue message that is not even an envelope (a poison body) under a content hash.
pub async fn record_undecodable(
    db: &impl ConnectionTrait,
    body: &[u8],
    attempts: u32,
    reason: &str,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let model = inbox_events::ActiveModel {
        id: Set(undecodable_key(body)),
        // Not an envelope, so its source is not known.
        source: Set("unknown".into()),
        event_type: Set("undecodable".into()),
        object_id: Set(String::new()),
        occurred_at_ms: Set(0),
        received_at: Set(now),
        payload: Set(serde_json::Value::String(
            String::from_utf8_lossy(body).chars().take(10_000).collect(),
        )),
        status: Set(InboxStatus::Dead),
        attempts: Set(i32::try_from(attempts).unwrap_or(i32::MAX)),
        last_error: Set(Some(truncate(reason, 2000))),
        updated_at: Set(now),
        payload_pruned_at: Set(None),
    };
    upsert_dead(db, model).await
}

/// The inbox id a poison body is kept under: a hash of its bytes, as it has no event id.
fn undecodable_key(body: &[u8]) -> String {
    format!("undecodable:{}", hex::encode(Sha256::digest(body)))
}

/// The inbox id of the event a queued message body carries (its envelope's id, or the poison
/// body's hash), so the queue's dead-letter copy of an inbox row can be found.
pub fn key_of(body: &[u8]) -> String {
    match Envelope::from_bytes(body) {
        Ok(env) => env.id.as_str().to_owned(),
        Err(_) => undecodable_key(body),
    }
}

/// Statuses of events the worker is done with: applied, or nothing to apply. Pending
/// enrichment and dead events are not done, so retention never selects them.
const FINISHED: [InboxStatus; 2] = [InboxStatus::Processed, InboxStatus::Ignored];

/// Finished events received before `cutoff` whose payload is still stored.
pub fn payloads_before(cutoff: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(C::PayloadPrunedAt.is_null())
        .add(C::Status.is_in(FINISHED))
        .add(C::ReceivedAt.lt(cutoff))
}

/// What clearing a payload writes: JSON `null` and when, so the row is not selected again.
pub fn cleared_payload(now: DateTime<Utc>) -> Vec<(C, sea_orm::sea_query::SimpleExpr)> {
    vec![
        (C::Payload, Expr::value(serde_json::Value::Null)),
        (C::PayloadPrunedAt, Expr::value(now)),
    ]
}

/// Finished events received before `cutoff`.
pub fn finished_before(cutoff: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(C::Status.is_in(FINISHED))
        .add(C::ReceivedAt.lt(cutoff))
}

/// Dead events dead-lettered (last) before `cutoff`, as `(id, last error)`, a page at a time
/// in id order: pass the last id of a page as `after`.
pub async fn dead_before(
    db: &impl ConnectionTrait,
    cutoff: DateTime<Utc>,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<(String, Option<String>)>, DbErr> {
    let mut query = inbox_events::Entity::find()
        .select_only()
        .column(C::Id)
        .column(C::LastError)
        .filter(C::Status.eq(InboxStatus::Dead))
        .filter(C::UpdatedAt.lt(cutoff));
    if let Some(after) = after {
        query = query.filter(C::Id.gt(after));
    }
    query.order_by_asc(C::Id).limit(limit).into_tuple().all(db).await
}

/// Deletes the given events while they are still dead (a replay may have applied one
/// meanwhile); returns how many went.
pub async fn delete_dead(db: &impl ConnectionTrait, ids: &[String]) -> Result<u64, DbErr> {
    if ids.is_empty() {
        return Ok(0);
    }
    let deleted = inbox_events::Entity::delete_many()
        .filter(C::Id.is_in(ids.iter().map(String::as_str)))
        .filter(C::Status.eq(InboxStatus::Dead))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

async fn upsert_dead(db: &impl ConnectionTrait, model: inbox_events::ActiveModel) -> Result<(), DbErr> {
    inbox_events::Entity::insert(model)
        .on_conflict(
            OnConflict::column(C::Id)
                .update_columns([C::Status, C::Attempts, C::LastError, C::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

fn truncate(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

/// Which dead events to list.
#[derive(Debug, Clone, Default)]
pub struct DeadFilter {
    /// Only from this source (`hubspot`, `clickup`, or `unknown` for undecodable bodies).
    pub source: Option<String>,
    /// Only of this sender's event type.
    pub event_type: Option<String>,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
    /// Whose last error contains this text.
    pub reason: Option<String>,
    /// About this object (HubSpot object id, ClickUp task id).
    pub object_id: Option<String>,
    /// Keyset paging: ids above this one.
    pub after: Option<String>,
    /// Page size.
    pub limit: u64,
}

impl DeadFilter {
    /// The filter as a condition on inbox rows (dead ones only), without paging.
    pub fn condition(&self) -> Condition {
        let mut all = Condition::all().add(C::Status.eq(InboxStatus::Dead));
        if let Some(source) = &self.source {
            all = all.add(C::Source.eq(source.as_str()));
        }
        if let Some(kind) = &self.event_type {
            all = all.add(C::EventType.eq(kind.as_str()));
        }
        if let Some(since) = self.since {
            all = all.add(C::ReceivedAt.gte(since));
        }
        if let Some(until) = self.until {
            all = all.add(C::ReceivedAt.lt(until));
        }
        if let Some(reason) = &self.reason {
            all = all.add(C::LastError.contains(reason.as_str()));
        }
        if let Some(object) = &self.object_id {
            all = all.add(C::ObjectId.eq(object.as_str()));
        }
        all
    }
}

/// One page of dead events in id order.
pub async fn dead_page(
    db: &impl ConnectionTrait,
    filter: &DeadFilter,
) -> Result<Vec<inbox_events::Model>, DbErr> {
    let mut query = inbox_events::Entity::find().filter(filter.condition());
    if let Some(after) = &filter.after {
        query = query.filter(C::Id.gt(after.as_str()));
    }
    query.order_by_asc(C::Id).limit(filter.limit).all(db).await
}

/// How many dead events a filter selects (paging aside).
pub async fn dead_count(db: &impl ConnectionTrait, filter: &DeadFilter) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    inbox_events::Entity::find()
        .filter(filter.condition())
        .count(db)
        .await
}

/// One inbox row by id, whatever its status.
pub async fn get(db: &impl ConnectionTrait, id: &str) -> Result<Option<inbox_events::Model>, DbErr> {
    inbox_events::Entity::find_by_id(id.to_owned()).one(db).await
}

/// The event a stored row holds, as it was queued; `None` for an undecodable body.
pub fn envelope_of(row: &inbox_events::Model) -> Option<Envelope> {
    if row.event_type == "undecodable" && row.source == "unknown" {
        return None;
    }
    Some(Envelope {
        id: crate::domain::event::EventId::new(row.id.clone()),
        source: row.source.parse().ok()?,
        event_type: row.event_type.clone(),
        object_id: row.object_id.clone(),
        occurred_at_ms: row.occurred_at_ms,
        received_at: row.received_at,
        payload: row.payload.clone(),
    })
}

/// Which inbox rows to list newest first, whatever became of them (the console's recent events).
#[derive(Debug, Clone, Default)]
pub struct RecentFilter {
    /// Only from this source.
    pub source: Option<String>,
    /// Only of this sender's event type.
    pub event_type: Option<String>,
    /// Only in this state.
    pub status: Option<InboxStatus>,
    /// Keyset paging: rows received before this row (time, then id), i.e. the previous page's last.
    pub before: Option<(DateTime<Utc>, String)>,
    /// Page size.
    pub limit: u64,
}

/// One page of inbox rows, newest first (by receipt time, then id, so paging never skips ties).
pub async fn recent_page(
    db: &impl ConnectionTrait,
    filter: &RecentFilter,
) -> Result<Vec<inbox_events::Model>, DbErr> {
    let mut all = Condition::all();
    if let Some(source) = &filter.source {
        all = all.add(C::Source.eq(source.as_str()));
    }
    if let Some(kind) = &filter.event_type {
        all = all.add(C::EventType.eq(kind.as_str()));
    }
    if let Some(status) = filter.status {
        all = all.add(C::Status.eq(status));
    }
    if let Some((at, id)) = &filter.before {
        all = all.add(
            Condition::any().add(C::ReceivedAt.lt(*at)).add(
                Condition::all()
                    .add(C::ReceivedAt.eq(*at))
                    .add(C::Id.lt(id.as_str())),
            ),
        );
    }
    inbox_events::Entity::find()
        .filter(all)
        .order_by_desc(C::ReceivedAt)
        .order_by_desc(C::Id)
        .limit(filter.limit)
        .all(db)
        .await
}
