//! `clients`: search the golden list, show one client, read its timeline, from a shell or a
//! script (`--json` prints what the operator API answers). Read only.

use anyhow::Context;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{
    config::Config,
    domain::ids::ClientId,
    lookup::{
        self, LookupError,
        client::ClientView,
        search::{SearchBy, SearchPage, SearchQuery},
        timeline::{TimelineCursor, TimelinePage},
    },
    reconcile::Matching,
    store,
};

/// Arguments of `clients`.
#[derive(Debug, clap::Args)]
pub struct ClientsArgs {
    /// Print JSON (as the operator API answers) instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: ClientsCommand,
}

/// `clients` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ClientsCommand {
    /// Find clients by email, document key, phone, name (folded, prefix, fuzzy) or external id.
    Search {
        /// What to look for.
        q: String,
        /// What it is: email, document, phone, name or external_id (guessed when absent).
        #[arg(long)]
        by: Option<String>,
        /// The cursor a previous page printed.
        #[arg(long)]
        after: Option<String>,
        /// Hits per page.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// One client: golden values with provenance and pins, linked records, open conflicts.
    Show {
        /// The client id.
        id: Uuid,
    },
    /// A client's history, oldest first.
    Timeline {
        /// The client id.
        id: Uuid,
        /// The cursor a previous page printed.
        #[arg(long)]
        after: Option<String>,
        /// Entries per page.
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
}

/// Runs `clients` against the configured store and prints the answer.
pub async fn clients(config: &Config, args: &ClientsArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    let matching = config.matching.matching()?;
    for line in run(&db, &matching, &args.command, args.json).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `clients` prints for `command`.
pub async fn run(
    db: &DatabaseConnection,
    matching: &Matching,
    command: &ClientsCommand,
    json: bool,
) -> Result<Vec<String>, LookupError> {
    match command {
        ClientsCommand::Search { q, by, after, limit } => {
            let query = SearchQuery {
                q: q.clone(),
                by: by.as_deref().map(SearchBy::parse).transpose()?,
                after: after.clone(),
                limit: (*limit).clamp(1, 500),
            };
            let page = lookup::search::search(db, matching, &query).await?;
            Ok(if json { as_json(&page) } else { search_lines(&page) })
        }
        ClientsCommand::Show { id } => {
            let view = lookup::client::view(db, ClientId::from_uuid(*id)).await?;
            Ok(if json { as_json(&view) } else { view_lines(&view) })
        }
        ClientsCommand::Timeline { id, after, limit } => {
            let after = after.as_deref().map(TimelineCursor::parse).transpose()?;
            let page = lookup::timeline::timeline(
                db,
                ClientId::from_uuid(*id),
                after.as_ref(),
                (*limit).clamp(1, 500),
            )
            .await?;
            Ok(if json {
                as_json(&page)
            } else {
                timeline_lines(&page)
            })
        }
    }
}

/// Pretty JSON, one string (never fails for these plain structs; an empty object if it did).
pub fn as_json<T: serde::Serialize>(value: &T) -> Vec<String> {
    vec![serde_json::to_string_pretty(value).unwrap_or_else(|_| "{}".into())]
}

fn or_dash(value: Option<&str>) -> &str {
    value.filter(|v| !v.is_empty()).unwrap_or("-")
}

fn search_lines(page: &SearchPage) -> Vec<String> {
    let by = page.by.as_str();
    let mut lines = vec![format!("by {by}: {} found", page.items.len())];
    for hit in &page.items {
        let c = &hit.client;
        lines.push(format!(
            "{}\t{}\t{:.3}\t{}\t{}\t{}\t{}",
            c.id,
            hit.matched.as_str(),
            hit.score,
            c.display_name(),
            or_dash(c.email.as_deref()),
            or_dash(c.document_key.as_deref()),
            or_dash(c.phone.as_deref()),
        ));
    }
    if page.incomplete {
        lines.push("(too many clients share these words to score them all; add a word)".into());
    }
    if let Some(next) = &page.next_after {
        lines.push(format!("more: --by {by} --after {next}"));
    }
    lines
}

fn view_lines(view: &ClientView) -> Vec<String> {
    let mut lines = vec![format!(
        "client {} (version {}, updated {})",
        view.id,
        view.version,
        view.updated_at.to_rfc3339()
    )];
    lines.push("golden values:".into());
    for (field, golden) in &view.fields {
        lines.push(format!(
            "  {field}\t{}\t{} {}{}",
            golden.value,
            or_dash(golden.source.as_deref()),
            or_dash(golden.external_id.as_deref()),
            if golden.pinned { "\tPINNED" } else { "" }
        ));
    }
    lines.push(format!("records ({}):", view.records.len()));
    for record in &view.records {
        lines.push(format!(
            "  {} {} ({})",
            record.source, record.external_id, record.status
        ));
        for (field, held) in &record.values {
            lines.push(format!("    {field}\t{}", or_dash(held.value.as_deref())));
        }
    }
    lines.push(format!("open conflicts ({}):", view.open_conflicts.len()));
    for c in &view.open_conflicts {
        lines.push(format!(
            "  {}\t{}\t{}\thubspot {}\tclickup {}",
            c.id,
            c.kind,
            or_dash(c.field.as_deref()),
            or_dash(c.hubspot_value.as_deref()),
            or_dash(c.clickup_value.as_deref()),
        ));
    }
    lines
}

fn timeline_lines(page: &TimelinePage) -> Vec<String> {
    let mut lines: Vec<String> = page
        .items
        .iter()
        .map(|e| format!("{}\t{}\t{}\t{}", e.at.to_rfc3339(), e.kind, e.what, e.summary))
        .collect();
    if let Some(next) = &page.next_after {
        lines.push(format!("more: --after {next}"));
    }
    lines
}
