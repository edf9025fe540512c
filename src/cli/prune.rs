//! `prune` and `purge-dead`: retention from the command line. `prune` removes what is past its
//! cut-off (what the worker role also does on its interval, and a CronJob can run instead);
//! `purge-dead` removes dead events, which age never removes, by an operator's decision.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use super::backfill::parse_since;
use crate::{
    clock::Clock,
    config::{Config, RetentionConfig},
    queue::EventQueue,
    retention::{
        Category, Pruner, RetentionError,
        dead::{self, DeadPurge},
    },
    startup, store,
};

/// Arguments of `prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Count what would go, per category, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `purge-dead`.
#[derive(Debug, clap::Args)]
pub struct PurgeDeadArgs {
    /// Only events dead-lettered before this date (`2026-11-01`, midnight UTC, or RFC 3339).
    #[arg(long, value_parser = parse_before)]
    pub before: DateTime<Utc>,
    /// Only events whose last error contains this text (case-sensitive).
    #[arg(long)]
    pub reason: Option<String>,
    /// Count what would go and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_before(text: &str) -> Result<DateTime<Utc>, String> {
    let ms = parse_since(text)?;
    DateTime::from_timestamp_millis(ms).ok_or_else(|| format!("`{text}` is out of range"))
}

/// Runs `prune` against the configured store and prints a line per category.
pub async fn prune(config: &Config, args: &PruneArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    for line in run_prune(&db, &config.retention, Clock::system(), args.dry_run).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `prune` prints: per category, how many rows went (or would), or that it is kept.
pub async fn run_prune(
    db: &DatabaseConnection,
    config: &RetentionConfig,
    clock: Clock,
    dry_run: bool,
) -> Result<Vec<String>, RetentionError> {
    let pruner = Pruner::new(db.clone(), config, clock);
    let pruned = if dry_run {
        pruner.preview().await?
    } else {
        pruner.prune().await?
    };
    Ok(Category::ALL
        .iter()
        .map(|&category| match category.days(config) {
            0 => format!("{}\tkept forever ({} = 0)", category.name(), category.key()),
            days => format!(
                "{}\t{} {}\t(older than {days} days)",
                category.name(),
                pruned.of(category),
                verb(category, dry_run),
            ),
        })
        .collect())
}

fn verb(category: Category, dry_run: bool) -> &'static str {
    match (category, dry_run) {
        (Category::Payloads, false) => "cleared",
        (Category::Payloads, true) => "would be cleared",
        (_, false) => "deleted",
        (_, true) => "would be deleted",
    }
}

/// Runs `purge-dead` against the configured store and queue and prints what it did.
pub async fn purge_dead(config: &Config, args: &PurgeDeadArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    let queue = startup::build_queue(config, &db, &Clock::system()).await?;
    for line in run_purge_dead(&db, queue.as_ref(), args, config.retention.batch_size).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `purge-dead` prints once it is done.
pub async fn run_purge_dead(
    db: &DatabaseConnection,
    queue: &dyn EventQueue,
    args: &PurgeDeadArgs,
    batch: u64,
) -> Result<Vec<String>, RetentionError> {
    let purge = DeadPurge {
        before: args.before,
        reason: args.reason.clone(),
    };
    if args.dry_run {
        let n = dead::select(db, &purge).await?.len();
        return Ok(vec![format!(
            "dead_events\t{n} would be deleted, with their dead letters"
        )]);
    }
    let purged = dead::purge(db, queue, &purge, batch).await?;
    Ok(vec![format!(
        "dead_events\t{} deleted\t({} dead-lettered messages removed from the queue)",
        purged.events, purged.dead_letters
    )])
}
