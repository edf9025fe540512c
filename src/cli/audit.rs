//! `audit`: the audit log from a shell, newest first, with the API's filters.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::clients::as_json;
use crate::{
    api::audit::AuditOut,
    config::Config,
    store::{
        self, StoreError,
        audit::{self, AuditFilter},
    },
};

/// Arguments of `audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Print JSON (as the operator API answers) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only this actor (operator name, `cli:<login>` or `bootstrap`).
    #[arg(long)]
    pub actor: Option<String>,
    /// Only this action, e.g. `conflict.resolve`.
    #[arg(long)]
    pub action: Option<String>,
    /// Only changes to this kind of thing: conflict, client, record, operator, …
    #[arg(long)]
    pub target_kind: Option<String>,
    /// Only changes to this one thing.
    #[arg(long)]
    pub target_id: Option<String>,
    /// Not before this time (RFC 3339).
    #[arg(long)]
    pub since: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    #[arg(long)]
    pub until: Option<DateTime<Utc>>,
    /// Rows older than this one (the last of the previous page).
    #[arg(long)]
    pub before: Option<Uuid>,
    /// Rows per page.
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
}

/// Runs `audit` against the configured store and prints the rows.
pub async fn audit(config: &Config, args: &AuditArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    for line in run(&db, args).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `audit` prints.
pub async fn run(db: &DatabaseConnection, args: &AuditArgs) -> Result<Vec<String>, StoreError> {
    let limit = args.limit.clamp(1, 500);
    let filter = AuditFilter {
        actor: args.actor.clone(),
        action: args.action.clone(),
        target_kind: args.target_kind.clone(),
        target_id: args.target_id.clone(),
        since: args.since,
        until: args.until,
        before_id: args.before,
        limit,
    };
    let rows = audit::list(db, &filter).await?;
    let more = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    if args.json {
        let out: Vec<AuditOut> = rows.into_iter().map(AuditOut::from).collect();
        return Ok(as_json(&serde_json::json!({"items": out, "next_after": more})));
    }
    let mut lines: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}\t{}\t{}:{}\t{}",
                r.at.to_rfc3339(),
                r.actor,
                r.via,
                r.action,
                r.target_kind,
                r.target_id,
                r.reason.as_deref().unwrap_or("-")
            )
        })
        .collect();
    if let Some(last) = more {
        lines.push(format!("more: --before {last}"));
    }
    Ok(lines)
}
