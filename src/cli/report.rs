//! `report`: the operator reports on the command line, as an aligned table, CSV or the JSON the
//! API serves (so a script can check one against the other).

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::ValueEnum;
use sea_orm::DatabaseConnection;

use crate::{
    config::Config,
    reports::{self, ReportError, ReportName},
    store,
};

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Which report.
    #[arg(value_enum)]
    pub name: ReportName,
    /// UTC days ending today (the backlog ignores it).
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// How to print it.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
}

/// How `report` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned columns for a terminal.
    Table,
    /// CSV with a header row.
    Csv,
    /// The API's JSON.
    Json,
}

/// Runs `report` against the configured store and prints it.
pub async fn report(config: &Config, args: &ReportArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    print!("{}", run_report(&db, args, Utc::now()).await?);
    Ok(())
}

/// What `report` prints, as of `now`.
pub async fn run_report(
    db: &DatabaseConnection,
    args: &ReportArgs,
    now: DateTime<Utc>,
) -> Result<String, ReportError> {
    let report = reports::make(db, args.name, args.days, now).await?;
    Ok(match args.format {
        ReportFormat::Table => report.table().to_text(),
        ReportFormat::Csv => report.table().to_csv(),
        ReportFormat::Json => {
            let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
            text.push('\n');
            text
        }
    })
}
