//! `dead list|show|replay`: the dead events an operator sees in the API, from a shell, through
//! the same store reads and the same replay (with its audit row).

use anyhow::Context;
use chrono::{DateTime, Utc};
use entity::inbox_events::{InboxStatus, Model as Row};
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    dead_events::{self, DeadEventError},
    domain::Actor,
    queue::EventQueue,
    startup,
    store::{
        self,
        inbox::{self, DeadFilter},
    },
};

/// Arguments of `dead`.
#[derive(Debug, clap::Args)]
pub struct DeadArgs {
    /// What to do with dead events.
    #[command(subcommand)]
    pub command: DeadCommand,
}

/// `dead` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum DeadCommand {
    /// List dead events in id order, a page at a time.
    List {
        /// Only from this source (`hubspot`, `clickup`, `unknown`).
        #[arg(long)]
        source: Option<String>,
        /// Only of this event type.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Received at or after (RFC 3339).
        #[arg(long)]
        since: Option<DateTime<Utc>>,
        /// Received before (RFC 3339).
        #[arg(long)]
        until: Option<DateTime<Utc>>,
        /// Whose last error contains this text.
        #[arg(long)]
        reason: Option<String>,
        /// About this object (HubSpot object id, ClickUp task id).
        #[arg(long)]
        external_id: Option<String>,
        /// Events after this id (the last id of the previous page).
        #[arg(long)]
        after: Option<String>,
        /// Events per page.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Show one dead event with its payload, attempts and last error.
    Show {
        /// The event id, e.g. `hubspot:123`.
        id: String,
    },
    /// Put one dead event back on the work queue.
    Replay {
        /// The event id.
        id: String,
    },
}

/// Runs `dead` against the configured store and queue.
pub async fn dead(config: &Config, args: &DeadArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    let queue = startup::build_queue(config, &db, &crate::clock::Clock::system()).await?;
    let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok();
    let actor = Actor::cli(login.as_deref());
    for line in run(&db, queue.as_ref(), &actor, &args.command).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `dead` prints for `command`, once it is done.
pub async fn run(
    db: &DatabaseConnection,
    queue: &dyn EventQueue,
    actor: &Actor,
    command: &DeadCommand,
) -> Result<Vec<String>, DeadEventError> {
    match command {
        DeadCommand::List {
            source,
            event_type,
            since,
            until,
            reason,
            external_id,
            after,
            limit,
        } => {
            let filter = DeadFilter {
                source: source.clone(),
                event_type: event_type.clone(),
                since: *since,
                until: *until,
                reason: reason.clone(),
                object_id: external_id.clone(),
                after: after.clone(),
                limit: *limit,
            };
            let rows = inbox::dead_page(db, &filter).await?;
            let mut lines: Vec<String> = rows.iter().map(line).collect();
            if let Some(last) = rows.last().filter(|_| rows.len() as u64 == *limit) {
                lines.push(format!("more: --after {}", last.id));
            }
            Ok(lines)
        }
        DeadCommand::Show { id } => {
            let row = inbox::get(db, id)
                .await?
                .filter(|r| r.status == InboxStatus::Dead)
                .ok_or_else(|| DeadEventError::NotFound(id.clone()))?;
            let payload = serde_json::to_string_pretty(&row.payload).unwrap_or_default();
            Ok(vec![
                format!("id:          {}", row.id),
                format!("source:      {}", row.source),
                format!("type:        {}", row.event_type),
                format!("external id: {}", row.object_id),
                format!("received:    {}", row.received_at.to_rfc3339()),
                format!("dead since:  {}", row.updated_at.to_rfc3339()),
                format!("attempts:    {}", row.attempts),
                format!("last error:  {}", row.last_error.as_deref().unwrap_or("-")),
                format!("payload:\n{payload}"),
            ])
        }
        DeadCommand::Replay { id } => {
            dead_events::replay_one(db, queue, id, actor).await?;
            Ok(vec![format!("{id} is queued again")])
        }
    }
}

/// One event as a tab-separated line: id, source, type, object, attempts, when dead, last error.
fn line(row: &Row) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
        row.id,
        row.source,
        row.event_type,
        row.object_id,
        row.attempts,
        row.updated_at.to_rfc3339(),
        row.last_error.as_deref().unwrap_or("-"),
    )
}
