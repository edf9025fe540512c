//! `backup` and `restore`: the whole golden store to a directory of Avro files and back, into
//! an empty store of either backend (docs/backup.md).

use std::path::PathBuf;

use anyhow::Context;

use crate::{
    backup::{self, Manifest},
    config::Config,
    store,
};

/// Arguments of `backup`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  clientsync backup --out /var/backups/clientsync/2026-12-03\n\n\
    Writes one Avro file per table and manifest.json (schema version, row counts, SHA-256) from \
    one consistent snapshot; the service may keep running. The directory is created; one that \
    already holds a backup is refused."
)]
pub struct BackupArgs {
    /// Directory to write the backup into.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Arguments of `restore`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example (SQLite default to Postgres):\n  \
    clientsync backup --out ./bak\n  \
    CLIENTSYNC_DATABASE__URL=postgres://clientsync@db/clientsync clientsync restore --from ./bak\n\n\
    Checks every file's row count and SHA-256 first, runs the migrations, refuses a database \
    that holds any rows, then writes everything in one transaction.")]
pub struct RestoreArgs {
    /// Directory holding a backup (its manifest.json and .avro files).
    #[arg(long, value_name = "DIR")]
    pub from: PathBuf,
}

/// Runs `backup` against the configured store and prints what was written.
pub async fn backup(config: &Config, args: &BackupArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    let manifest = backup::backup(&db, &args.out)
        .await
        .context("taking the backup")?;
    print!("{}", summary(&manifest, "backed up"));
    Ok(())
}

/// Runs `restore` into the configured store and prints what was written.
pub async fn restore(config: &Config, args: &RestoreArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    let restored = backup::restore(&db, &args.from)
        .await
        .context("restoring the backup")?;
    print!("{}", summary(&restored.manifest, "restored"));
    Ok(())
}

/// One line per table and a total, as `backup` and `restore` print them.
pub fn summary(manifest: &Manifest, verb: &str) -> String {
    let mut text = String::new();
    let width = manifest.files.iter().map(|f| f.table.len()).max().unwrap_or(0);
    for file in &manifest.files {
        text.push_str(&format!(
            "{:<width$}  {:>10} rows  {:>12} bytes\n",
            file.table, file.rows, file.bytes
        ));
    }
    let rows: u64 = manifest.files.iter().map(|f| f.rows).sum();
    text.push_str(&format!(
        "{verb} {rows} rows in {} tables (schema {})\n",
        manifest.files.len(),
        manifest.schema_version
    ));
    text
}
