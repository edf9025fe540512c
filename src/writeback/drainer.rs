//! Sends due outbox rows through the API clients (which pace under each account's rate limit and
//! retry transient errors within the call). A write that still fails is tried again later with
//! capped exponential backoff; one the source refuses, or one out of attempts, is left `failed`
//! with its reason. Rows are claimed for a lease before sending, so two drainers never send the
//! same row at once, and a row whose sender died is due again when its lease runs out. Client
//! and project rows travel together; `place` says where each lands.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use entity::outbox::{Model as Row, OutboxSubject};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{
    WriteBackError,
    place::{self, Places},
};
use crate::{
    config::{OutboxConfig, ProjectsConfig},
    domain::{
        ids::ProjectId,
        source::{ObjectKind, Source},
    },
    reconcile::{Field, FieldValue, merge::WRITE_BACK_EVENT, project::ProjectField},
    saas::{Apis, SaasError},
    sources::mapping::FieldMapping,
    store::{outbox, records, write_log},
};

/// What one round of sending did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Written to their source.
    pub sent: usize,
    /// Failed for now; due again after their backoff.
    pub retrying: usize,
    /// Given up on; `failed` with their reason.
    pub failed: usize,
    /// Had no place at the source (no such custom field on the task); dropped.
    pub discarded: usize,
}

/// What became of one row's write.
enum Sent {
    Written,
    NoPlace(&'static str),
    Failed(SaasError),
}

/// Sends outbox rows and settles each by its result.
pub struct Drainer {
    db: DatabaseConnection,
    apis: Apis,
    mapping: Arc<FieldMapping>,
    projects: Option<Arc<ProjectsConfig>>,
    max_attempts: u32,
    backoff: ExponentialBuilder,
    max_backoff: Duration,
    lease: Duration,
    batch: u64,
}

impl Drainer {
    /// A drainer of the store's outbox through `apis`, naming fields as `mapping` does.
    pub fn new(
        db: DatabaseConnection,
        apis: Apis,
        mapping: Arc<FieldMapping>,
        config: &OutboxConfig,
    ) -> Self {
        let max_backoff = Duration::from_millis(config.max_backoff_ms);
        Self {
            db,
            apis,
            mapping,
            projects: None,
            max_attempts: config.max_attempts.max(1),
            backoff: ExponentialBuilder::default()
                .with_min_delay(Duration::from_millis(config.min_backoff_ms))
                .with_max_delay(max_backoff)
                .with_jitter()
                .without_max_times(),
            max_backoff,
            lease: Duration::from_secs(config.lease_secs),
            batch: config.batch_size.max(1),
        }
    }

    /// The same drainer placing project rows as `projects` says (`None`: projects are off, and
    /// a project row has no place).
    pub fn with_projects(mut self, projects: Option<Arc<ProjectsConfig>>) -> Self {
        self.projects = projects;
        self
    }

    fn places(&self) -> Places<'_> {
        Places {
            mapping: &self.mapping,
            projects: self.projects.as_deref(),
        }
    }

    /// Sends up to one batch of the rows due at `now`.
    pub async fn send_due(&self, now: DateTime<Utc>) -> Result<Drained, WriteBackError> {
        let rows = outbox::due(&self.db, now, self.batch).await?;
        self.send(rows, now).await
    }

    /// Sends those of the given rows that are due at `now` (the worker's rows just planned).
    pub async fn send_planned(&self, ids: &[Uuid], now: DateTime<Utc>) -> Result<Drained, WriteBackError> {
        let rows = outbox::due_among(&self.db, ids, now).await?;
        self.send(rows, now).await
    }

    /// Sends due rows every `interval` until `shutdown`; what a round cannot do is logged and
    /// left for the next round.
    pub async fn run(self, interval: Duration, shutdown: CancellationToken) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticks.tick() => match crate::worker::guarded(self.send_due(Utc::now())).await {
                    Ok(Ok(drained)) if drained != Drained::default() => {
                        tracing::info!(?drained, "outbox round");
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::warn!(error = %e, "outbox round failed; the next round tries again"),
                    Err(panicked) => tracing::error!(panic = panicked.message(), "outbox round panicked; the next round tries again"),
                },
            }
        }
    }

    async fn send(&self, rows: Vec<Row>, now: DateTime<Utc>) -> Result<Drained, WriteBackError> {
        let until = now + self.lease;
        let mut claimed = Vec::with_capacity(rows.len());
        for row in rows {
            if outbox::claim(&self.db, &row, until).await? {
                claimed.push(row);
            }
        }
        let mut drained = Drained::default();
        let mut to_hubspot = Vec::new();
        let mut to_clickup = Vec::new();
        for row in claimed {
            match (row.source.parse::<Source>(), place::knows_field(&row)) {
                (Ok(Source::HubSpot), true) => to_hubspot.push(row),
                (Ok(Source::ClickUp), true) => to_clickup.push(row),
                _ => {
                    let reason = format!(
                        "stored row is corrupt: source `{}`, field `{}`",
                        row.source, row.field
                    );
                    outbox::mark_failed(&self.db, &row, &reason, now).await?;
                    drained.failed += 1;
                }
            }
        }
        let mut results = self.write_hubspot(to_hubspot).await;
        results.extend(self.write_clickup(to_clickup).await);
        for (row, sent) in results {
            self.settle(&row, sent, now, &mut drained).await?;
        }
        Ok(drained)
    }

    async fn settle(
        &self,
        row: &Row,
        sent: Sent,
        now: DateTime<Utc>,
        drained: &mut Drained,
    ) -> Result<(), WriteBackError> {
        match sent {
            Sent::Written => {
                self.remember(row, now).await?;
                drained.sent += 1;
            }
            Sent::NoPlace(why) => {
                tracing::debug!(record = %row.external_id, field = %row.field, why, "nothing to write there");
                outbox::discard(&self.db, row).await?;
                drained.discarded += 1;
            }
            Sent::Failed(error) => {
                crate::metrics::write_back_failed();
                let attempts = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
                let reason = error.to_string();
                if !error.is_transient() || attempts >= self.max_attempts {
                    tracing::warn!(id = %row.id, record = %row.external_id, field = %row.field, attempts,
                        error = %reason, "write-back failed for good; `clientsync outbox retry` sends it again");
                    outbox::mark_failed(&self.db, row, &reason, now).await?;
                    drained.failed += 1;
                } else {
                    let wait = delay(&self.backoff, self.max_backoff, attempts, &error);
                    tracing::debug!(id = %row.id, attempts, ?wait, error = %reason, "write-back failed; retrying later");
                    outbox::schedule_retry(&self.db, row, now + wait, &reason, now).await?;
                    drained.retrying += 1;
                }
            }
        }
        Ok(())
    }

    /// Marks the row sent, logs the write and stores the value on the record (or the project),
    /// in one transaction, so the write's echo changes nothing.
    async fn remember(&self, row: &Row, now: DateTime<Utc>) -> Result<(), WriteBackError> {
        if row.subject == OutboxSubject::Project {
            return self.remember_project(row, now).await;
        }
        let (Ok(source), Some(field), Ok(kind)) = (
            row.source.parse::<Source>(),
            Field::parse(&row.field),
            row.kind.parse::<ObjectKind>(),
        ) else {
            // `send` fails such rows before they are written; nothing to remember.
            return Ok(());
        };
        let txn = self.db.begin().await?;
        outbox::mark_sent(&txn, row, now).await?;
        write_log::record(&txn, source, &row.external_id, field, &row.value).await?;
        let mut record = records::load_or_new(&txn, source, &row.external_id, kind).await?;
        if record.is_stored() {
            record.fields.apply(
                field,
                FieldValue {
                    value: Some(row.value.clone()),
                    at_ms: Utc::now().timestamp_millis(),
                    event: WRITE_BACK_EVENT.to_owned(),
                },
            );
            records::save(&txn, &mut record).await?;
        }
        txn.commit().await?;
        crate::metrics::written_back(source, field.as_str());
        Ok(())
    }

    async fn remember_project(&self, row: &Row, now: DateTime<Utc>) -> Result<(), WriteBackError> {
        let (Ok(source), Some(field), Some(project)) = (
            row.source.parse::<Source>(),
            ProjectField::parse(&row.field),
            row.project_id,
        ) else {
            // `send` fails rows naming no project field; one without a project has nowhere to go.
            return Ok(());
        };
        let txn = self.db.begin().await?;
        outbox::mark_sent(&txn, row, now).await?;
        write_log::record_project(&txn, source, &row.external_id, field, &row.value).await?;
        let id = ProjectId::from_uuid(project);
        crate::projects::record_written(&txn, id, source, &row.external_id, field, &row.value).await?;
        txn.commit().await?;
        crate::metrics::written_back(source, field.as_str());
        Ok(())
    }

    /// HubSpot takes a batch of objects per kind; when a batch is refused, each object is tried
    /// alone so one bad record does not hold the others back.
    async fn write_hubspot(&self, rows: Vec<Row>) -> Vec<(Row, Sent)> {
        let Some(api) = &self.apis.hubspot else {
            let missing = missing(Source::HubSpot);
            return rows
                .into_iter()
                .map(|r| (r, Sent::Failed(missing.clone())))
                .collect();
        };
        let mut results = Vec::new();
        let mut by_kind: BTreeMap<String, BTreeMap<String, Vec<(String, Row)>>> = BTreeMap::new();
        let places = self.places();
        for row in rows {
            let Some(property) = places.hubspot_property(&row) else {
                results.push((row, Sent::NoPlace("no HubSpot property for the field")));
                continue;
            };
            by_kind
                .entry(row.kind.clone())
                .or_default()
                .entry(object_id(&row.external_id).to_owned())
                .or_default()
                .push((property, row));
        }
        for (kind, objects) in by_kind {
            let result = api.batch_update(&kind, &updates(&objects)).await;
            match result {
                Err(e) if !e.is_transient() && objects.len() > 1 => {
                    for (id, props) in objects {
                        let one = BTreeMap::from([(id, props)]);
                        let result = api.batch_update(&kind, &updates(&one)).await;
                        results.extend(settled(one, &result));
                    }
                }
                result => results.extend(settled(objects, &result)),
            }
        }
        results
    }

    /// ClickUp takes one custom field per call, by the field's id on the task.
    async fn write_clickup(&self, rows: Vec<Row>) -> Vec<(Row, Sent)> {
        let Some(api) = &self.apis.clickup else {
            let missing = missing(Source::ClickUp);
            return rows
                .into_iter()
                .map(|r| (r, Sent::Failed(missing.clone())))
                .collect();
        };
        let mut by_task: BTreeMap<String, Vec<Row>> = BTreeMap::new();
        for row in rows {
            by_task
                .entry(object_id(&row.external_id).to_owned())
                .or_default()
                .push(row);
        }
        let mut results = Vec::new();
        for (task_id, rows) in by_task {
            let fields = match api.task(&task_id).await {
                Ok(task) => task
                    .get("custom_fields")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                Err(e) => {
                    results.extend(rows.into_iter().map(|r| (r, Sent::Failed(e.clone()))));
                    continue;
                }
            };
            for row in rows {
                let Some((field_id, value)) = self.places().clickup_value(&fields, &row) else {
                    results.push((row, Sent::NoPlace("no custom field or option for it on the task")));
                    continue;
                };
                let sent = match api.set_field(&task_id, &field_id, value).await {
                    Ok(()) => Sent::Written,
                    Err(e) => Sent::Failed(e),
                };
                results.push((row, sent));
            }
        }
        results
    }
}

/// The wait after the `attempts`-th failed attempt: exponential with jitter, capped at `max`,
/// and no shorter than the source asked for.
fn delay(backoff: &ExponentialBuilder, max: Duration, attempts: u32, error: &SaasError) -> Duration {
    // The iterator is walked to the n-th wait; past 64 doublings every wait is at the cap.
    let n = usize::try_from(attempts.saturating_sub(1).min(64)).unwrap_or(64);
    let wait = backoff.build().nth(n).unwrap_or(max).min(max);
    match error {
        SaasError::RateLimited {
            retry_after: Some(asked),
            ..
        } => wait.max(*asked),
        _ => wait,
    }
}

/// The error a row gets when its source has no API client configured any more.
fn missing(system: Source) -> SaasError {
    SaasError::Setup {
        system,
        reason: "no API token configured; write-back cannot reach it".into(),
    }
}

type Objects = BTreeMap<String, Vec<(String, Row)>>;

/// The batch body: each object's id and the properties to set.
fn updates(objects: &Objects) -> Vec<(String, BTreeMap<String, Option<String>>)> {
    objects
        .iter()
        .map(|(id, props)| {
            let properties = props
                .iter()
                .map(|(p, r)| (p.clone(), Some(r.value.clone())))
                .collect();
            (id.clone(), properties)
        })
        .collect()
}

/// Every row of a batch, settled by the batch's result.
fn settled(objects: Objects, result: &Result<(), SaasError>) -> Vec<(Row, Sent)> {
    objects
        .into_values()
        .flatten()
        .map(|(_, row)| {
            let sent = match result {
                Ok(()) => Sent::Written,
                Err(e) => Sent::Failed(e.clone()),
            };
            (row, sent)
        })
        .collect()
}

/// `contact:123` → `123`.
fn object_id(external_id: &str) -> &str {
    external_id.split_once(':').map_or(external_id, |(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outage() -> SaasError {
        SaasError::Server {
            system: Source::HubSpot,
            call: "batch_update",
            status: 503,
            message: String::new(),
        }
    }

    #[test]
    fn waits_grow_between_attempts_and_stop_at_the_cap() {
        let min = Duration::from_secs(5);
        let max = Duration::from_secs(60);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(min)
            .with_max_delay(max)
            .with_jitter()
            .without_max_times();
        let first = delay(&backoff, max, 1, &outage());
        assert!(min <= first && first <= 2 * min, "{first:?}");
        let fourth = delay(&backoff, max, 4, &outage());
        assert!(fourth >= 8 * min, "{fourth:?}");
        for attempts in [10, 100, u32::MAX] {
            assert_eq!(delay(&backoff, max, attempts, &outage()), max);
        }
    }

    #[test]
    fn a_rate_limited_write_waits_at_least_as_long_as_the_source_asked() {
        let max = Duration::from_secs(60);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_secs(1))
            .with_max_delay(max)
            .without_max_times();
        let limited = SaasError::RateLimited {
            system: Source::HubSpot,
            call: "batch_update",
            policy: "DAILY".into(),
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(delay(&backoff, max, 1, &limited), Duration::from_secs(3600));
    }
}
