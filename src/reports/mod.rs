//! Reports over stored rows (events, conflicts, decisions, write-backs, backlog), one shape
//! served alike by the API, the CLI and the console, so the three never disagree.
//!
//! Counting is done in SQL (`GROUP BY` a UTC day, on indexed time columns; events per day from
//! a rollup of closed days, `rollup`, as they are 100 times as many rows); filling days that
//! have no rows with zeros, the rolling average and the median are done here, over at most a
//! few hundred numbers, because neither is portable SQL across Postgres and SQLite.

mod backlog;
mod conflicts;
mod day;
mod decisions;
mod events;
mod projects;
pub mod rollup;
pub mod table;
mod writes;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use serde::Serialize;
use utoipa::ToSchema;

pub use backlog::Backlog;
pub use conflicts::{ConflictsDay, ConflictsPerDay};
pub use day::Window;
pub use decisions::{DecisionsDay, DecisionsPerDay};
pub use events::{EventCount, EventsDay, EventsPerDay};
pub use projects::{ClientUnpaid, ProductTime, ProjectTime, ProjectsByStatus, StatusCount, UnpaidByClient};
pub use table::Table;
pub use writes::{WriteBacksPerDay, WritesDay};

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// No report has this name.
    #[error("no report named `{0}`; one of {names}", names = ReportName::list())]
    UnknownReport(String),
    /// The window is empty or longer than the store keeps anything for.
    #[error("days must be between 1 and {max}, not {0}", max = day::MAX_DAYS)]
    DaysOutOfRange(u32),
    /// The store failed.
    #[error("reading the store: {0}")]
    Store(#[from] DbErr),
}

/// The reports there are, by the name the API path, the CLI and the console use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportName {
    /// Events received per UTC day, by source and type, with a rolling 14-day average.
    EventsPerDay,
    /// Conflicts opened and resolved per day, and the median time to resolve.
    ConflictsPerDay,
    /// Automatic decisions per day: auto-linked against sent to review.
    DecisionsPerDay,
    /// Write-backs per day that were sent or that failed.
    WriteBacksPerDay,
    /// Events still waiting to be processed, now.
    Backlog,
    /// Estimated against tracked project time by product type, now.
    ProjectTime,
    /// Projects by status, now.
    ProjectsByStatus,
    /// Unpaid project amounts by client, now.
    UnpaidByClient,
}

impl ReportName {
    /// Every report, in the order pages and help list them.
    pub const ALL: [ReportName; 8] = [
        ReportName::EventsPerDay,
        ReportName::ConflictsPerDay,
        ReportName::DecisionsPerDay,
        ReportName::WriteBacksPerDay,
        ReportName::Backlog,
        ReportName::ProjectTime,
        ReportName::ProjectsByStatus,
        ReportName::UnpaidByClient,
    ];

    /// The name in paths and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportName::EventsPerDay => "events-per-day",
            ReportName::ConflictsPerDay => "conflicts-per-day",
            ReportName::DecisionsPerDay => "decisions-per-day",
            ReportName::WriteBacksPerDay => "write-backs-per-day",
            ReportName::Backlog => "backlog",
            ReportName::ProjectTime => "project-time",
            ReportName::ProjectsByStatus => "projects-by-status",
            ReportName::UnpaidByClient => "unpaid-by-client",
        }
    }

    /// What the report shows, as a page heading.
    pub fn title(self) -> &'static str {
        match self {
            ReportName::EventsPerDay => "Events per day",
            ReportName::ConflictsPerDay => "Conflicts opened and resolved",
            ReportName::DecisionsPerDay => "Auto-linked vs sent to review",
            ReportName::WriteBacksPerDay => "Write-backs sent and failed",
            ReportName::Backlog => "Backlog now",
            ReportName::ProjectTime => "Project time by product type",
            ReportName::ProjectsByStatus => "Projects by status",
            ReportName::UnpaidByClient => "Unpaid by client",
        }
    }

    /// Reads a name from a path or form.
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        Self::ALL
            .into_iter()
            .find(|name| name.as_str() == text)
            .ok_or_else(|| ReportError::UnknownReport(text.to_owned()))
    }

    fn list() -> String {
        Self::ALL.map(ReportName::as_str).join(", ")
    }
}

/// One report, tagged with its name.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "report", rename_all = "kebab-case")]
pub enum Report {
    /// Events received per UTC day, by source and type.
    EventsPerDay(EventsPerDay),
    /// Conflicts opened and resolved per UTC day.
    ConflictsPerDay(ConflictsPerDay),
    /// Automatic decisions per UTC day.
    DecisionsPerDay(DecisionsPerDay),
    /// Write-backs sent and failed per UTC day.
    WriteBacksPerDay(WriteBacksPerDay),
    /// Unprocessed events now.
    Backlog(Backlog),
    /// Estimated against tracked project time by product type.
    ProjectTime(ProjectTime),
    /// Projects by status.
    ProjectsByStatus(ProjectsByStatus),
    /// Unpaid project amounts by client.
    UnpaidByClient(UnpaidByClient),
}

impl Report {
    /// The report as rows and columns, for a table, a CSV file or a chart.
    pub fn table(&self) -> Table {
        match self {
            Report::EventsPerDay(r) => r.table(),
            Report::ConflictsPerDay(r) => r.table(),
            Report::DecisionsPerDay(r) => r.table(),
            Report::WriteBacksPerDay(r) => r.table(),
            Report::Backlog(r) => r.table(),
            Report::ProjectTime(r) => r.table(),
            Report::ProjectsByStatus(r) => r.table(),
            Report::UnpaidByClient(r) => r.table(),
        }
    }
}

/// Makes report `name` over the `days` UTC days ending with the day of `now` (the backlog
/// ignores `days`: it is as of `now`).
pub async fn make(
    db: &DatabaseConnection,
    name: ReportName,
    days: u32,
    now: DateTime<Utc>,
) -> Result<Report, ReportError> {
    let window = Window::ending(now.date_naive(), days)?;
    Ok(match name {
        ReportName::EventsPerDay => Report::EventsPerDay(events::make(db, &window, now).await?),
        ReportName::ConflictsPerDay => Report::ConflictsPerDay(conflicts::make(db, &window).await?),
        ReportName::DecisionsPerDay => Report::DecisionsPerDay(decisions::make(db, &window).await?),
        ReportName::WriteBacksPerDay => Report::WriteBacksPerDay(writes::make(db, &window).await?),
        ReportName::Backlog => Report::Backlog(backlog::make(db, now).await?),
        ReportName::ProjectTime => Report::ProjectTime(projects::time(db).await?),
        ReportName::ProjectsByStatus => Report::ProjectsByStatus(projects::by_status(db).await?),
        ReportName::UnpaidByClient => Report::UnpaidByClient(projects::unpaid(db).await?),
    })
}

/// Midnight UTC at the start of `day`.
fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The day after `day`, saturating at the calendar's end.
fn next(day: NaiveDate) -> NaiveDate {
    day.checked_add_signed(Duration::days(1)).unwrap_or(day)
}

impl Report {
    /// Named series of one value per day, oldest first, for a chart (empty for the backlog,
    /// which is one moment, not days).
    pub fn series(&self) -> Vec<(&'static str, Vec<f64>)> {
        match self {
            Report::EventsPerDay(r) => vec![
                ("events", r.days.iter().map(|d| d.total as f64).collect()),
                ("14-day mean", r.days.iter().map(|d| d.total_avg_14d).collect()),
            ],
            Report::ConflictsPerDay(r) => vec![
                ("opened", r.days.iter().map(|d| d.opened as f64).collect()),
                ("resolved", r.days.iter().map(|d| d.resolved as f64).collect()),
            ],
            Report::DecisionsPerDay(r) => vec![
                (
                    "auto-linked",
                    r.days.iter().map(|d| d.auto_linked as f64).collect(),
                ),
                (
                    "sent to review",
                    r.days.iter().map(|d| d.sent_to_review as f64).collect(),
                ),
            ],
            Report::WriteBacksPerDay(r) => vec![
                ("sent", r.days.iter().map(|d| d.sent as f64).collect()),
                ("failed", r.days.iter().map(|d| d.failed as f64).collect()),
            ],
            Report::Backlog(_)
            | Report::ProjectTime(_)
            | Report::ProjectsByStatus(_)
            | Report::UnpaidByClient(_) => Vec::new(),
        }
    }
}
