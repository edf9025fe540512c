//! `outbox`: what write-back still has to send, what it gave up on and why, and putting a
//! failed write back once its cause is fixed (the operator API exposes the same store calls).

use anyhow::Context;
use chrono::Utc;
use entity::outbox::{Model as Row, OutboxStatus};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    config::Config,
    store::{
        self,
        outbox::{self, Retried},
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

/// Why an `outbox` command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum OutboxCliError {
    /// The store failed.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// `retry ID` named no failed row.
    #[error("no failed write-back with id {0}")]
    NotFailed(Uuid),
}

/// Runs `outbox` against the configured store and prints what it found or did.
pub async fn outbox(config: &Config, args: &OutboxArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database).await?;
    store::migrate(&db).await.context("running migrations")?;
    for line in run(&db, &args.command).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `outbox` prints for `command`, once it is done.
pub async fn run(db: &DatabaseConnection, command: &OutboxCommand) -> Result<Vec<String>, OutboxCliError> {
    match command {
        OutboxCommand::List { status, after, limit } => {
            let rows = outbox::list(db, status.map(Into::into), *after, *limit).await?;
            let mut lines: Vec<String> = rows.iter().map(line).collect();
            if let Some(last) = rows.last().filter(|_| rows.len() as u64 == *limit) {
                lines.push(format!("more: --after {}", last.id));
            }
            Ok(lines)
        }
        OutboxCommand::Retry { all_failed: true, .. } => {
            let n = outbox::retry_all_failed(db, Utc::now()).await?;
            Ok(vec![format!("{n} failed write-backs are pending again")])
        }
        OutboxCommand::Retry { id: Some(id), .. } => match outbox::retry(db, *id, Utc::now()).await? {
            Retried::Requeued => Ok(vec![format!("{id} is pending again")]),
            Retried::Superseded => Ok(vec![format!(
                "{id} stays failed: a newer write of the same field is already pending"
            )]),
            Retried::NotFailed => Err(OutboxCliError::NotFailed(*id)),
        },
        OutboxCommand::Retry { id: None, .. } => Ok(Vec::new()),
    }
}

/// One row as a tab-separated line: id, status, target, field, attempts, when next, last error.
fn line(row: &Row) -> String {
    let status = match row.status {
        OutboxStatus::Pending => "pending",
        OutboxStatus::Sent => "sent",
        OutboxStatus::Failed => "failed",
    };
    format!(
        "{}\t{status}\t{}:{}\t{}\t{}\t{}\t{}",
        row.id,
        row.source,
        row.external_id,
        row.field,
        row.attempts,
        row.next_attempt_at.to_rfc3339(),
        row.last_error.as_deref().unwrap_or("-"),
    )
}
