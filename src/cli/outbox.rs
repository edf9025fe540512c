//! `outbox`: what write-back still has to send, what it gave up on and why, and putting a
//! failed write back once its cause is fixed, through the same steward call as the operator
//! API, so each retry writes its audit row naming the CLI user.

use anyhow::Context;
use entity::outbox::{Model as Row, OutboxStatus, OutboxSubject};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    config::Config,
    domain::Actor,
    steward::{self, StewardError},
    store::{
        self,
        outbox::{self, OutboxFilter},
    },
};

/// Arguments of `outbox`.
#[derive(Debug, clap::Args)]
pub struct OutboxArgs {
    /// What to do with the outbox.
    #[command(subcommand)]
    pub command: OutboxCommand,
}

/// `outbox` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// List planned write-backs, oldest first, a page at a time.
    List {
        /// Only rows in this state.
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        /// Only writes of a client's values, or only of a project's.
        #[arg(long, value_enum)]
        subject: Option<SubjectArg>,
        /// Rows after this id (the last id of the previous page).
        #[arg(long)]
        after: Option<Uuid>,
        /// Rows per page.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Put a failed write-back (or every one) back to pending with its attempts reset.
    Retry {
        /// The row to retry.
        #[arg(required_unless_present = "all_failed", conflicts_with = "all_failed")]
        id: Option<Uuid>,
        /// Retry every failed row.
        #[arg(long)]
        all_failed: bool,
    },
}

/// A row state on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    /// Still to be sent.
    Pending,
    /// Written.
    Sent,
    /// Given up on.
    Failed,
}

impl From<StatusArg> for OutboxStatus {
    fn from(status: StatusArg) -> Self {
        match status {
            StatusArg::Pending => OutboxStatus::Pending,
            StatusArg::Sent => OutboxStatus::Sent,
            StatusArg::Failed => OutboxStatus::Failed,
        }
    }
}

/// Whose value a write-back carries, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubjectArg {
    /// A golden client's field.
    Client,
    /// A project's field.
    Project,
}

impl From<SubjectArg> for OutboxSubject {
    fn from(subject: SubjectArg) -> Self {
        match subject {
            SubjectArg::Client => OutboxSubject::Client,
            SubjectArg::Project => OutboxSubject::Project,
        }
    }
}

/// Why an `outbox` command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum OutboxCliError {
    /// The store failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The retry was refused (no such row, not failed, superseded) or failed.
    #[error(transparent)]
    Retry(#[from] StewardError),
}

/// Runs `outbox` against the configured store and prints what it found or did.
pub async fn outbox(config: &Config, args: &OutboxArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database).await?;
    store::migrate(&db).await.context("running migrations")?;
    let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok();
    let actor = Actor::cli(login.as_deref());
    for line in run(&db, &args.command, &actor).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `outbox` prints for `command`, once it is done; `actor` is who the audit rows of
/// retries name.
pub async fn run(
    db: &DatabaseConnection,
    command: &OutboxCommand,
    actor: &Actor,
) -> Result<Vec<String>, OutboxCliError> {
    match command {
        OutboxCommand::List {
            status,
            subject,
            after,
            limit,
        } => {
            let filter = OutboxFilter {
                status: status.map(Into::into),
                subject: subject.map(Into::into),
                after: *after,
                limit: *limit,
                ..OutboxFilter::default()
            };
            let rows = outbox::page(db, &filter).await?;
            let mut lines: Vec<String> = rows.iter().map(line).collect();
            if let Some(last) = rows.last().filter(|_| rows.len() as u64 == *limit) {
                lines.push(format!("more: --after {}", last.id));
            }
            Ok(lines)
        }
        OutboxCommand::Retry { all_failed: true, .. } => retry_all_failed(db, actor).await,
        OutboxCommand::Retry { id: Some(id), .. } => {
            // Refused as the API refuses it (409): not failed, or a newer write is pending.
            steward::retry_writeback(db, *id, actor).await?;
            Ok(vec![format!("{id} is pending again")])
        }
        OutboxCommand::Retry { id: None, .. } => Ok(Vec::new()),
    }
}

/// Retries every failed row, one audited retry each; rows a newer write superseded stay failed.
async fn retry_all_failed(db: &DatabaseConnection, actor: &Actor) -> Result<Vec<String>, OutboxCliError> {
    let (mut requeued, mut kept) = (0u64, 0u64);
    let mut after = None;
    loop {
        let page = outbox::list(db, Some(OutboxStatus::Failed), after, 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for row in &page {
            match steward::retry_writeback(db, row.id, actor).await {
                Ok(()) => requeued += 1,
                Err(StewardError::Stale(_)) => kept += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
    let mut said = vec![format!("{requeued} failed write-backs are pending again")];
    if kept > 0 {
        said.push(format!(
            "{kept} stay failed: a newer write of the same field is pending"
        ));
    }
    Ok(said)
}

/// One row as a tab-separated line: id, status, subject (`client`, or `project:` and the
/// project's id), target, field, attempts, when next, last error.
fn line(row: &Row) -> String {
    let subject = match (row.subject, row.project_id) {
        (OutboxSubject::Project, Some(project)) => format!("project:{project}"),
        (subject, _) => steward::subject_name(subject).to_owned(),
    };
    format!(
        "{}\t{}\t{subject}\t{}:{}\t{}\t{}\t{}\t{}",
        row.id,
        steward::status_name(row.status),
        row.source,
        row.external_id,
        row.field,
        row.attempts,
        row.next_attempt_at.to_rfc3339(),
        row.last_error.as_deref().unwrap_or("-"),
    )
}
