//! `conflicts`: list, inspect and resolve what the engine left to people, from a shell. A
//! resolution goes through the same service call as the API's and is audited as `cli:<login>`.

use anyhow::Context;
use entity::conflicts::ConflictStatus;
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::clients::as_json;
use crate::{
    api::conflicts::{ConflictDetailOut, ConflictOut},
    config::Config,
    domain::{Actor, ids::ClientId},
    lookup::{self, LookupError, conflict::ConflictDetail},
    reconcile::Matching,
    steward::{self, Resolution, StewardError},
    store::{
        self,
        conflicts::{self, ConflictFilter, kind_name},
    },
};

/// Arguments of `conflicts`.
#[derive(Debug, clap::Args)]
pub struct ConflictsArgs {
    /// Print JSON (as the operator API answers) instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: ConflictsCommand,
}

/// `conflicts` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ConflictsCommand {
    /// List conflicts, oldest first.
    List {
        /// open (default), resolved or all.
        #[arg(long, default_value = "open")]
        status: String,
        /// field_mismatch, ambiguous_match or key_collision.
        #[arg(long)]
        kind: Option<String>,
        /// Only this client's.
        #[arg(long)]
        client: Option<Uuid>,
        /// Conflicts after this id (the last of the previous page).
        #[arg(long)]
        after: Option<Uuid>,
        /// Conflicts per page.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// One conflict: colliding values and both sides, or candidates side by side.
    Show {
        /// The conflict id.
        id: Uuid,
    },
    /// Resolve an open conflict: keep_hubspot, accept_clickup, pin (with --value) or link
    /// (with --client), or any other action the API's resolve takes.
    Resolve {
        /// The conflict id.
        id: Uuid,
        /// The action.
        action: String,
        /// The value to pin.
        #[arg(long)]
        value: Option<String>,
        /// The client to link the record to.
        #[arg(long)]
        client: Option<Uuid>,
    },
}

/// Why a `conflicts` command did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ConflictsCliError {
    /// A filter or action that cannot be read.
    #[error("{0}")]
    Usage(String),
    /// The lookup failed.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// The resolution was refused.
    #[error(transparent)]
    Steward(#[from] StewardError),
}

impl From<store::StoreError> for ConflictsCliError {
    fn from(e: store::StoreError) -> Self {
        ConflictsCliError::Lookup(e.into())
    }
}

/// Runs `conflicts` against the configured store and prints the answer.
pub async fn conflicts(config: &Config, args: &ConflictsArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    let matching = config.matching.matching()?;
    let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok();
    let actor = Actor::cli(login.as_deref());
    for line in run(&db, &matching, &actor, &args.command, args.json).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `conflicts` prints for `command`, once it is done.
pub async fn run(
    db: &DatabaseConnection,
    matching: &Matching,
    actor: &Actor,
    command: &ConflictsCommand,
    json: bool,
) -> Result<Vec<String>, ConflictsCliError> {
    match command {
        ConflictsCommand::List {
            status,
            kind,
            client,
            after,
            limit,
        } => {
            let status = match status.as_str() {
                "open" => Some(ConflictStatus::Open),
                "resolved" => Some(ConflictStatus::Resolved),
                "all" => None,
                other => return Err(ConflictsCliError::Usage(format!("unknown status `{other}`"))),
            };
            let kind = kind
                .as_deref()
                .map(crate::api::conflicts::parse_kind)
                .transpose()
                .map_err(|e| ConflictsCliError::Usage(e.to_string()))?;
            let limit = (*limit).clamp(1, 500);
            let filter = ConflictFilter {
                status,
                kind,
                client: client.map(ClientId::from_uuid),
                field: None,
                after: *after,
                limit,
            };
            let rows = conflicts::list(db, &filter).await?;
            let more = (rows.len() as u64 == limit)
                .then(|| rows.last().map(|r| r.id))
                .flatten();
            if json {
                let out: Vec<ConflictOut> = rows.into_iter().map(ConflictOut::from).collect();
                return Ok(as_json(&serde_json::json!({"items": out, "next_after": more})));
            }
            let mut lines: Vec<String> = rows.iter().map(line).collect();
            if let Some(last) = more {
                lines.push(format!("more: --after {last}"));
            }
            Ok(lines)
        }
        ConflictsCommand::Show { id } => {
            let row = conflicts::get(db, *id)
                .await?
                .ok_or_else(|| LookupError::NotFound(format!("conflict {id}")))?;
            let detail = lookup::conflict::detail(db, matching, &row).await?;
            if json {
                return Ok(as_json(&ConflictDetailOut::new(row, detail)));
            }
            let mut lines = vec![line(&row)];
            lines.extend(detail_lines(&detail));
            Ok(lines)
        }
        ConflictsCommand::Resolve {
            id,
            action,
            value,
            client,
        } => {
            let resolution = resolution(action, value.as_deref(), *client)?;
            let row = steward::resolve(db, matching, *id, resolution, actor).await?;
            if json {
                return Ok(as_json(&ConflictOut::from(row)));
            }
            Ok(vec![format!(
                "conflict {id} resolved ({}) by {}",
                row.resolution.as_deref().unwrap_or(action),
                actor.name()
            )])
        }
    }
}

/// An action and its arguments as the API's resolve body, read by the same rules.
fn resolution(
    action: &str,
    value: Option<&str>,
    client: Option<Uuid>,
) -> Result<Resolution, ConflictsCliError> {
    let mut body = Map::new();
    body.insert("action".into(), Value::String(action.to_owned()));
    if let Some(value) = value {
        body.insert("value".into(), Value::String(value.to_owned()));
    }
    if let Some(client) = client {
        body.insert("client_id".into(), Value::String(client.to_string()));
    }
    serde_json::from_value(Value::Object(body))
        .map_err(|e| ConflictsCliError::Usage(format!("`{action}`: {e}")))
}

fn line(row: &entity::conflicts::Model) -> String {
    let status = match row.status {
        ConflictStatus::Open => "open",
        ConflictStatus::Resolved => "resolved",
    };
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    format!(
        "{}\t{}\t{status}\t{}\t{}\thubspot {}\tclickup {}\t{}:{}",
        row.id,
        kind_name(row.kind),
        row.client_id.map_or("-".into(), |c| c.to_string()),
        dash(&row.field),
        dash(&row.hubspot_value),
        dash(&row.clickup_value),
        row.source,
        row.external_id,
    )
}

fn detail_lines(detail: &ConflictDetail) -> Vec<String> {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut lines = Vec::new();
    if let Some(r) = &detail.record {
        lines.push(format!(
            "record {}:{}\temail {}\tdocument_key {}\tname {}",
            r.source,
            r.external_id,
            dash(&r.email),
            dash(&r.document_key),
            dash(&r.name)
        ));
    }
    for side in &detail.colliding {
        lines.push(format!(
            "client {}{}\t{}",
            side.client_id,
            if side.exists { "" } else { " (gone)" },
            dash(&side.name)
        ));
        for key in &side.keys {
            lines.push(format!(
                "  {}\trecord {}\tclient {}\t{}",
                key.field,
                dash(&key.record_value),
                dash(&key.client_value),
                if key.same { "same" } else { "differs" }
            ));
        }
        for held in &side.records {
            lines.push(format!(
                "  holds {}:{}\temail {}\tdocument_key {}",
                held.source,
                held.external_id,
                dash(&held.email),
                dash(&held.document_key)
            ));
        }
    }
    for c in &detail.candidates_side_by_side {
        lines.push(format!(
            "candidate {}{}\t{}\tp then {}\tp now {}\tbits {}",
            c.client_id,
            if c.exists { "" } else { " (gone)" },
            dash(&c.name),
            c.probability_then.map_or("-".into(), |p| format!("{p:.3}")),
            c.probability_now.map_or("-".into(), |p| format!("{p:.3}")),
            c.bits_now.map_or("-".into(), |b| format!("{b:.1}")),
        ));
        for f in &c.fields {
            lines.push(format!(
                "  {}\t{}\t{}\t{}\t{:+.1}",
                f.field,
                dash(&f.record_value),
                dash(&f.client_value),
                f.level,
                f.bits
            ));
        }
    }
    lines
}
