//! Backfill: every object of HubSpot (contacts, companies) and ClickUp (the configured lists)
//! read page by page through the paced API clients and applied through the same reconcile
//! path as webhook events. Each stream's cursor is saved after every finished page, so a
//! killed run resumes there; `--incremental` reads only what changed since the last run began.
//! With projects configured, deals and project tasks are streams too (`project`).

mod project;

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::{
    config::ProjectsConfig,
    domain::source::Source,
    engine::{Outcome, ProcessError, process, process_batch},
    queue::Envelope,
    reconcile::Matching,
    saas::{Apis, SaasError},
    sources::{self, mapping::FieldMapping},
    store::{
        cursors::{self, Cursor},
        inbox,
    },
};

/// Objects applied per transaction.
const CHUNK: usize = 50;

/// Incremental runs start this long before the previous run began, so an object changed while
/// that run was reading is not missed.
const OVERLAP_MS: i64 = 5 * 60 * 1000;

/// Which systems to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scope {
    /// HubSpot contacts and companies (and deals, with projects configured).
    Hubspot,
    /// The configured ClickUp lists (and the project lists).
    Clickup,
    /// Both.
    All,
}

/// Which objects to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// Every object.
    Everything,
    /// Objects changed at or after this time (Unix ms).
    Time(i64),
    /// Objects changed since the previous completed run of each stream began (everything when
    /// there was none): what a schedule runs.
    LastRun,
}

/// Why a backfill stopped early; its cursors say where to resume.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// A source API failed after its retries.
    #[error(transparent)]
    Api(#[from] SaasError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] sea_orm::DbErr),
    /// Applying objects failed in a way worth retrying later.
    #[error("applying objects failed: {0}")]
    Process(#[from] ProcessError),
    /// The run was asked for a system it has no credentials or lists for.
    #[error("cannot backfill {0}")]
    NotConfigured(&'static str),
    /// Shutdown was requested; finished pages are saved.
    #[error("interrupted; the next run resumes at the last finished page")]
    Interrupted,
}

/// What one run did, per stream.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Stream name → objects applied this run and their outcomes.
    pub streams: BTreeMap<String, StreamReport>,
}

/// One stream's run.
#[derive(Debug, Clone, Default)]
pub struct StreamReport {
    /// Objects read and applied in this invocation.
    pub objects: u64,
    /// Outcome name → count (`linked`, `collision`, `ambiguous`, `duplicate`, `dead`…).
    pub outcomes: BTreeMap<&'static str, u64>,
    /// Whether the run resumed an interrupted one.
    pub resumed: bool,
    /// Seconds it took.
    pub seconds: f64,
}

impl Report {
    /// Objects applied across streams.
    pub fn objects(&self) -> u64 {
        self.streams.values().map(|s| s.objects).sum()
    }
}

/// One paged source of objects.
#[derive(Debug, Clone)]
enum Stream {
    HubSpot {
        kind: &'static str,
    },
    ClickUpList {
        list_id: String,
    },
    /// A list whose tasks are projects: paged as a client list, applied on the project path.
    ProjectList {
        list_id: String,
    },
}

impl Stream {
    fn name(&self) -> String {
        match self {
            Stream::HubSpot { kind } => format!("hubspot:{kind}"),
            Stream::ClickUpList { list_id } => format!("clickup:list:{list_id}"),
            Stream::ProjectList { list_id } => format!("clickup:projects:{list_id}"),
        }
    }
}

/// Where a stream's next page starts, saved as JSON in its cursor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Position {
    /// HubSpot paging cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// HubSpot search re-anchors past its 10,000-result window at the last change time seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    anchor_ms: Option<i64>,
    /// ClickUp page number.
    #[serde(default)]
    page: u32,
}

/// Everything a backfill run needs.
pub struct Backfill {
    db: DatabaseConnection,
    matching: Matching,
    mapping: FieldMapping,
    apis: Apis,
    list_ids: Vec<String>,
    projects: Option<Arc<ProjectsConfig>>,
    progress: MultiProgress,
}

impl Backfill {
    /// A backfill over the store, reading through `apis`; ClickUp reads `list_ids`.
    pub fn new(
        db: DatabaseConnection,
        matching: Matching,
        mapping: FieldMapping,
        apis: Apis,
        list_ids: Vec<String>,
    ) -> Self {
        Self {
            db,
            matching,
            mapping,
            apis,
            list_ids,
            projects: None,
            progress: MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::hidden()),
        }
    }

    /// The same backfill reading deals and the project lists' tasks as `projects` says (`None`:
    /// projects are off).
    pub fn with_projects(mut self, projects: Option<Arc<ProjectsConfig>>) -> Self {
        self.projects = projects;
        self
    }

    /// The same backfill drawing a progress bar per stream on the terminal (stderr).
    pub fn with_progress_bars(mut self) -> Self {
        self.progress = MultiProgress::new();
        self
    }

    /// Reads and applies every stream of `scope`: HubSpot first, since it is the source of
    /// truth, so ClickUp tasks join the clients its contacts founded (and a task carrying two
    /// contacts' keys becomes a key_collision rather than a client that both then join).
    pub async fn run(
        &self,
        scope: Scope,
        since: Since,
        shutdown: &CancellationToken,
    ) -> Result<Report, BackfillError> {
        let hubspot = matches!(scope, Scope::Hubspot | Scope::All);
        let clickup = matches!(scope, Scope::Clickup | Scope::All);
        if hubspot && self.apis.hubspot.is_none() {
            return Err(BackfillError::NotConfigured(
                "HubSpot: set CLIENTSYNC_HUBSPOT__ACCESS_TOKEN",
            ));
        }
        if clickup && self.apis.clickup.is_none() {
            return Err(BackfillError::NotConfigured(
                "ClickUp: set CLIENTSYNC_CLICKUP__API_TOKEN",
            ));
        }
        if clickup && self.list_ids.is_empty() {
            return Err(BackfillError::NotConfigured("ClickUp: set clickup.list_ids"));
        }
        let mut streams = Vec::new();
        let project_lists = self
            .projects
            .as_ref()
            .map_or(&[][..], |p| &p.clickup_list_ids[..]);
        if hubspot {
            streams.extend([
                Stream::HubSpot { kind: "contact" },
                Stream::HubSpot { kind: "company" },
            ]);
            if self.projects.is_some() {
                streams.push(Stream::HubSpot { kind: project::DEAL });
            }
        }
        if clickup {
            streams.extend(
                self.list_ids
                    .iter()
                    .map(|id| Stream::ClickUpList { list_id: id.clone() }),
            );
            // After the client lists, so each project finds its client's task linked.
            streams.extend(
                project_lists
                    .iter()
                    .map(|id| Stream::ProjectList { list_id: id.clone() }),
            );
        }
        let mut report = Report::default();
        report
            .streams
            .extend(self.run_streams(streams, since, shutdown).await?);
        Ok(report)
    }

    async fn run_streams(
        &self,
        streams: Vec<Stream>,
        since: Since,
        shutdown: &CancellationToken,
    ) -> Result<Vec<(String, StreamReport)>, BackfillError> {
        let mut reports = Vec::with_capacity(streams.len());
        for stream in streams {
            let report = self.run_stream(&stream, since, shutdown).await?;
            reports.push((stream.name(), report));
        }
        Ok(reports)
    }

    async fn run_stream(
        &self,
        stream: &Stream,
        since: Since,
        shutdown: &CancellationToken,
    ) -> Result<StreamReport, BackfillError> {
        let name = stream.name();
        let started = Instant::now();
        let previous = cursors::load(&self.db, &name).await?;
        let mut cursor = start(&name, previous, since, Utc::now());
        let mut report = StreamReport {
            resumed: cursor.position.is_some(),
            ..StreamReport::default()
        };
        let bar = self.progress.add(ProgressBar::no_length());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:24} {pos:>7} objects {per_sec:>12} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(name.clone());
        bar.set_position(cursor.objects.max(0) as u64);
        loop {
            if shutdown.is_cancelled() {
                bar.abandon();
                return Err(BackfillError::Interrupted);
            }
            let position: Position = cursor
                .position
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok())
                .unwrap_or_default();
            let (objects, next) = self.page(stream, cursor.since_ms, position).await?;
            let count = objects.len() as u64;
            self.apply(stream, objects, &mut report).await?;
            report.objects += count;
            cursor.objects += count as i64;
            bar.inc(count);
            match next {
                Some(next) => {
                    cursor.position = serde_json::to_string(&next).ok();
                    cursors::save(&self.db, &cursor).await?;
                }
                None => {
                    cursor.position = None;
                    cursor.completed_at = Some(Utc::now());
                    cursors::save(&self.db, &cursor).await?;
                    break;
                }
            }
        }
        bar.finish();
        report.seconds = started.elapsed().as_secs_f64();
        tracing::info!(stream = %name, objects = report.objects, seconds = report.seconds, "backfill stream done");
        Ok(report)
    }

    /// One page of the stream and where the next starts (`None` after the last).
    async fn page(
        &self,
        stream: &Stream,
        since_ms: Option<i64>,
        position: Position,
    ) -> Result<(Vec<Value>, Option<Position>), BackfillError> {
        match stream {
            Stream::HubSpot { kind } => {
                let api = self
                    .apis
                    .hubspot
                    .as_ref()
                    .ok_or(BackfillError::NotConfigured("HubSpot"))?;
                let properties = match &self.projects {
                    Some(projects) if *kind == project::DEAL => {
                        crate::sources::project::deal_properties(projects)
                    }
                    _ => self.mapping.hubspot_properties(kind),
                };
                let Some(since_ms) = since_ms else {
                    let page = api.list(kind, &properties, position.after.as_deref()).await?;
                    let next = page.next.map(|after| Position {
                        after: Some(after),
                        ..Position::default()
                    });
                    return Ok((page.objects, next));
                };
                let anchor = position.anchor_ms.unwrap_or(since_ms);
                let page = api
                    .modified_since(kind, &properties, anchor, position.after.as_deref())
                    .await?;
                let past_window = page
                    .next
                    .as_deref()
                    .and_then(|a| a.parse::<usize>().ok())
                    .is_some_and(|a| a >= crate::saas::hubspot::SEARCH_WINDOW);
                let next = match page.next {
                    // Search stops at 10,000 results: start a new query at the last change seen.
                    Some(_) if past_window => Some(Position {
                        after: None,
                        anchor_ms: page.objects.iter().filter_map(sources::hubspot::updated_ms).max(),
                        page: 0,
                    }),
                    Some(after) => Some(Position {
                        after: Some(after),
                        anchor_ms: Some(anchor),
                        page: 0,
                    }),
                    None => None,
                };
                Ok((page.objects, next))
            }
            Stream::ClickUpList { list_id } | Stream::ProjectList { list_id } => {
                let api = self
                    .apis
                    .clickup
                    .as_ref()
                    .ok_or(BackfillError::NotConfigured("ClickUp"))?;
                let page = api.list_tasks(list_id, position.page, since_ms).await?;
                let next = (!page.last && !page.tasks.is_empty()).then(|| Position {
                    page: position.page + 1,
                    ..Position::default()
                });
                Ok((page.tasks, next))
            }
        }
    }

    /// Applies a page's objects through the reconcile path, `CHUNK` per transaction; a chunk
    /// that fails is applied one by one, and an object that cannot be applied at all is
    /// recorded as dead in the inbox with its reason.
    async fn apply(
        &self,
        stream: &Stream,
        objects: Vec<Value>,
        report: &mut StreamReport,
    ) -> Result<(), BackfillError> {
        let (source, kind) = match stream {
            Stream::HubSpot { kind: project::DEAL } => {
                return self.apply_projects(Source::HubSpot, objects, report).await;
            }
            Stream::ProjectList { .. } => return self.apply_projects(Source::ClickUp, objects, report).await,
            Stream::HubSpot { kind } => (Source::HubSpot, *kind),
            Stream::ClickUpList { .. } => (Source::ClickUp, "task"),
        };
        let mut envelopes: Vec<Envelope> = Vec::with_capacity(objects.len());
        for object in objects {
            match sources::snapshot_envelope(source, kind, object) {
                Some(env) => envelopes.push(env),
                None => *report.outcomes.entry("unreadable").or_default() += 1,
            }
        }
        for chunk in envelopes.chunks(CHUNK) {
            let effects: Vec<_> = chunk
                .iter()
                .map(|env| sources::effect(env, &self.mapping))
                .collect();
            let events: Vec<_> = chunk
                .iter()
                .zip(&effects)
                .map(|(env, effect)| (env, effect, 0))
                .collect();
            match process_batch(&self.db, &self.matching, &events).await {
                Ok(outcomes) => {
                    for outcome in outcomes {
                        count(report, &outcome);
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "backfill chunk failed; applying one by one");
                    for (env, effect) in chunk.iter().zip(&effects) {
                        match process(&self.db, &self.matching, env, effect, 0).await {
                            Ok(outcome) => count(report, &outcome),
                            Err(e) if e.is_transient() => return Err(e.into()),
                            Err(e) => {
                                let reason = e.to_string();
                                tracing::error!(id = %env.id, %reason, "backfilled object could not be applied");
                                inbox::record_dead(&self.db, env, 0, &reason).await?;
                                *report.outcomes.entry("dead").or_default() += 1;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn count(report: &mut StreamReport, outcome: &Outcome) {
    *report.outcomes.entry(outcome.as_str()).or_default() += 1;
}

/// The cursor this run starts from: an unfinished run resumes when this one asks for the same
/// objects (a scheduled `LastRun` always resumes); otherwise a fresh run reads from the
/// requested time (for `LastRun`, the previous run's start less an overlap).
fn start(stream: &str, previous: Option<Cursor>, since: Since, now: DateTime<Utc>) -> Cursor {
    let wanted = match since {
        Since::Everything => None,
        Since::Time(ms) => Some(ms),
        Since::LastRun => previous
            .as_ref()
            .filter(|p| p.completed_at.is_some())
            .map(|p| p.started_at.timestamp_millis() - OVERLAP_MS),
    };
    match previous {
        Some(p) if p.completed_at.is_none() && (since == Since::LastRun || p.since_ms == wanted) => p,
        _ => Cursor {
            stream: stream.to_owned(),
            since_ms: wanted,
            position: None,
            objects: 0,
            started_at: now,
            completed_at: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(since_ms: Option<i64>, position: Option<&str>, completed: bool) -> Cursor {
        let at = DateTime::from_timestamp_millis(1_000_000_000).unwrap();
        Cursor {
            stream: "hubspot:contact".into(),
            since_ms,
            position: position.map(str::to_owned),
            objects: 200,
            started_at: at,
            completed_at: completed.then_some(at),
        }
    }

    #[test]
    fn an_unfinished_run_of_the_same_request_resumes_at_its_page() {
        let c = start(
            "s",
            Some(cursor(None, Some("{\"after\":\"200\"}"), false)),
            Since::Everything,
            Utc::now(),
        );
        assert_eq!(c.position.as_deref(), Some("{\"after\":\"200\"}"));
        assert_eq!(c.objects, 200);
    }

    #[test]
    fn a_different_request_starts_afresh() {
        let c = start(
            "s",
            Some(cursor(None, Some("x"), false)),
            Since::Time(5),
            Utc::now(),
        );
        assert_eq!((c.position, c.since_ms, c.objects), (None, Some(5), 0));
    }

    #[test]
    fn an_incremental_run_reads_from_the_previous_start_less_the_overlap() {
        let c = start("s", Some(cursor(None, None, true)), Since::LastRun, Utc::now());
        assert_eq!(c.since_ms, Some(1_000_000_000 - OVERLAP_MS));
        let first = start("s", None, Since::LastRun, Utc::now());
        assert_eq!(first.since_ms, None);
    }
}
