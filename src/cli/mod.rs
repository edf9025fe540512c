//! The command line: one binary whose subcommand chooses what it does.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod audit;
mod backfill;
mod backup;
mod clients;
mod conflicts;
mod dead;
mod demo;
mod fit;
mod import;
mod matching;
mod operators;
mod outbox;
mod probe;
mod prune;
mod report;
mod simulate;

pub use audit::{AuditArgs, audit, run as run_audit};
pub use backfill::{BackfillArgs, backfill};
pub use backup::{BackupArgs, RestoreArgs, backup, restore, summary as backup_summary};
pub use clients::{ClientsArgs, ClientsCommand, clients, run as run_clients};
pub use conflicts::{ConflictsArgs, ConflictsCliError, ConflictsCommand, conflicts, run as run_conflicts};
pub use dead::{DeadArgs, DeadCommand, dead, run as run_dead};
pub use demo::{DemoArgs, DemoSummary, demo};
pub use fit::{FitArgs, fit};
pub use import::{ImportArgs, ImportsArgs, ImportsCommand, OwnerArg, SourceArg, import, imports};
pub use matching::{EvaluateArgs, GenerateArgs, MatchArgs, evaluate, generate, run_match};
pub use operators::{OperatorsArgs, OperatorsCommand, RoleArg, operators, run as run_operators};
pub use outbox::{
    OutboxArgs, OutboxCliError, OutboxCommand, StatusArg, SubjectArg, outbox, run as run_outbox,
};
pub use probe::{ProbeArgs, probe};
pub use prune::{PruneArgs, PurgeDeadArgs, prune, purge_dead, run_prune, run_purge_dead};
pub use report::{ReportArgs, ReportFormat, report, run_report};
pub use simulate::{SimulateArgs, simulate};

use crate::{
    receiver::signature::{self, WebhookSecret},
    startup::Role,
};

/// clientsync keeps one true list of clients across HubSpot and ClickUp.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// TOML configuration file; environment variables `CLIENTSYNC_SECTION__KEY` override it.
    #[arg(long, global = true, env = "CLIENTSYNC_CONFIG")]
    pub config: Option<PathBuf>,
    /// On failure, print the backtrace after the error (also `CLIENTSYNC_BACKTRACE=1`); without
    /// it a failure is one `error: …` line, whatever `RUST_BACKTRACE` says.
    #[arg(long, global = true, env = "CLIENTSYNC_BACKTRACE", value_parser = clap::builder::BoolishValueParser::new())]
    pub backtrace: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (migrations are applied at start).
    Serve {
        /// Which parts to run in this process.
        #[arg(long, value_enum, default_value = "all")]
        role: Role,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the signature headers a sender would add to FILE, for testing a deployment with curl.
    Sign(SignArgs),
    /// Match two CSV exports (or find duplicates within one) and write the pairs found.
    Match(MatchArgs),
    /// Write a synthetic dataset with known duplicates: left.csv, right.csv and truth.csv.
    Generate(GenerateArgs),
    /// Print precision, recall and F1 of a pairs file against a truth file.
    Evaluate(EvaluateArgs),
    /// Estimate match weights from the stored HubSpot and ClickUp records (no labels needed)
    /// and write them for `matching.model_file`.
    Fit(FitArgs),
    /// See it work with no account: simulated HubSpot and ClickUp, a backfill, live webhooks,
    /// and what came of them, on the embedded default.
    Demo(DemoArgs),
    /// Read every client from HubSpot and ClickUp and reconcile it; resumable, and incremental
    /// on a schedule.
    Backfill(BackfillArgs),
    /// Move dead-lettered events back to the work queue once their cause is fixed.
    ReplayDead {
        /// Most messages to move.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// See dead events (list with filters, show one with its payload) and replay one.
    Dead(DeadArgs),
    /// Delete dead-lettered events (inbox rows and queued copies) for good: age never does.
    PurgeDead(PurgeDeadArgs),
    /// See planned write-backs (pending, sent, failed with their reason) and retry failed ones.
    Outbox(OutboxArgs),
    /// Manage operators of the API and console: add (prints a token once), list, revoke,
    /// set-role, token, passwd.
    Operators(OperatorsArgs),
    /// Search clients and read one client or its timeline (as the operator API shows them).
    Clients(ClientsArgs),
    /// List, inspect and resolve conflicts (resolutions are audited as `cli:<login>`).
    Conflicts(ConflictsArgs),
    /// Read the audit log, newest first, with filters.
    Audit(AuditArgs),
    /// Write the whole golden store to a directory: one Avro file per table and a manifest,
    /// from one consistent snapshot while the service runs.
    Backup(BackupArgs),
    /// Restore a backup into an empty database of either backend (SQLite to Postgres and back).
    Restore(RestoreArgs),
    /// Print the operator API's OpenAPI 3.1 document (as committed in docs/openapi.json).
    Openapi,
    /// Remove finished data past its `[retention]` cut-off (event payloads and rows, resolved
    /// conflicts, sent write-backs) and print what went per category.
    Prune(PruneArgs),
    /// Print a report from stored rows (events-per-day, conflicts-per-day, decisions-per-day,
    /// write-backs-per-day, backlog, project-time, projects-by-status, unpaid-by-client) as a
    /// table, CSV or JSON.
    Report(ReportArgs),
    /// Load a HubSpot or ClickUp export, or any CSV, through the reconcile path: validated row
    /// by row, in resumable batches, with running statistics.
    Import(ImportArgs),
    /// Read stored import runs: list, or show one with its statistics.
    Imports(ImportsArgs),
    /// Exit 0 when the service's HTTP port answers 200 (a health check for shell-less images).
    Probe(ProbeArgs),
    /// Run fake HubSpot and ClickUp APIs with seeded clients, for demos and end-to-end tests.
    Simulate(SimulateArgs),
}

impl Command {
    /// Offline commands need no configuration, database or broker.
    pub fn is_offline(&self) -> bool {
        matches!(
            self,
            Command::Sign(_)
                | Command::Match(_)
                | Command::Generate(_)
                | Command::Evaluate(_)
                | Command::Probe(_)
                | Command::Simulate(_)
                | Command::Openapi
        )
    }
}

/// Arguments of `sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// Which sender to imitate.
    #[arg(long, value_enum)]
    pub source: SignSource,
    /// Name of the environment variable holding the secret (never pass secrets as arguments).
    #[arg(long)]
    pub secret_env: String,
    /// The full URL the request is sent to, as the sender sees it (HubSpot signs it).
    #[arg(long)]
    pub url: String,
    /// HTTP method (HubSpot signs it).
    #[arg(long, default_value = "POST")]
    pub method: String,
    /// Timestamp in Unix ms for the HubSpot v3 signature; defaults to now.
    #[arg(long)]
    pub timestamp: Option<i64>,
    /// The exact body to sign.
    pub file: PathBuf,
}

/// Which sender `sign` imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignSource {
    /// HubSpot webhooks API (v3 headers plus the legacy v1 pair, as HubSpot sends them).
    Hubspot,
    /// ClickUp (`X-Signature`).
    Clickup,
}

/// Why `sign` failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The named variable is not set.
    #[error("environment variable `{0}` is not set")]
    MissingSecret(String),
    /// The body file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// The header lines (`Name: value`) a sender would add; usable as `curl -H @file`.
pub fn sign(args: &SignArgs, now_ms: i64) -> Result<Vec<String>, SignError> {
    let secret = std::env::var(&args.secret_env)
        .map(WebhookSecret::new)
        .map_err(|_| SignError::MissingSecret(args.secret_env.clone()))?;
    let body = std::fs::read(&args.file).map_err(|source| SignError::Read {
        path: args.file.display().to_string(),
        source,
    })?;
    Ok(match args.source {
        SignSource::Clickup => vec![format!(
            "X-Signature: {}",
            signature::sign_clickup(&secret, &body)
        )],
        SignSource::Hubspot => {
            let timestamp = args.timestamp.unwrap_or(now_ms).to_string();
            vec![
                format!(
                    "X-HubSpot-Signature-v3: {}",
                    signature::sign_hubspot_v3(&secret, &args.method, &args.url, &body, &timestamp)
                ),
                format!("X-HubSpot-Request-Timestamp: {timestamp}"),
                "X-HubSpot-Signature-Version: v1".to_owned(),
                format!(
                    "X-HubSpot-Signature: {}",
                    signature::sign_hubspot_v1(&secret, &body)
                ),
            ]
        }
    })
}
